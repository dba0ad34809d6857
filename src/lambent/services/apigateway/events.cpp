#include "lambent/services/apigateway/events.h"

#include "lambent/base/crypto.h"
#include "lambent/services/apigateway/http_text.h"

#include <boost/json.hpp>

#include <algorithm>

namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

// One header name with all its values in arrival order.
struct HeaderValues {
  std::string name;  // lower case
  std::vector<std::string> values;
};

// Groups the request headers by name, keeping first-arrival order, and adds the forwarding
// headers the API Gateway and function URL front ends add: X-Forwarded-For gets the client
// address appended, X-Forwarded-Proto and X-Forwarded-Port are replaced with what the client
// connected with. Connection is dropped because it is hop-by-hop and AWS never forwards it.
// How an event treats the Content-Length header. REST APIs leave it out (the sample events AWS
// publishes have a body but no Content-Length). HTTP APIs send it even for a request without one:
// AWS's sample 2.0 event of a curl GET carries "content-length": "0".
enum class ContentLength { keep, drop, ensure };

std::vector<HeaderValues> group_headers(const http::Request& request, const EventContext& context,
                                        ContentLength content_length) {
  std::vector<HeaderValues> groups;
  auto find = [&](std::string_view name) -> HeaderValues* {
    for (auto& group : groups) {
      if (group.name == name) return &group;
    }
    return nullptr;
  };
  auto add = [&](std::string_view name, std::string value) {
    if (auto* group = find(name)) {
      group->values.push_back(std::move(value));
    } else {
      groups.push_back({std::string(name), {std::move(value)}});
    }
  };

  for (const auto& [name, value] : request.headers) {
    if (name == "connection" || name == "x-forwarded-proto" || name == "x-forwarded-port") continue;
    if (content_length == ContentLength::drop && name == "content-length") continue;
    add(name, text::to_valid_utf8(value));
  }
  if (content_length == ContentLength::ensure && find("content-length") == nullptr &&
      find("transfer-encoding") == nullptr) {
    add("content-length", std::to_string(request.body.size()));
  }

  if (!context.source_ip.empty()) {
    if (auto* forwarded = find("x-forwarded-for")) {
      forwarded->values.back() += ", " + std::string(context.source_ip);
    } else {
      add("x-forwarded-for", std::string(context.source_ip));
    }
    std::string_view host = request.header("host");
    std::string port = "80";
    auto colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos &&
        colon + 1 < host.size()) {
      port = std::string(host.substr(colon + 1));
    }
    add("x-forwarded-port", port);
    add("x-forwarded-proto", "http");
  }
  return groups;
}

std::string join(const std::vector<std::string>& values, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += separator;
    out += values[i];
  }
  return out;
}

// Query parameters grouped by name in first-appearance order.
std::vector<HeaderValues> group_query(std::string_view raw_query) {
  std::vector<HeaderValues> groups;
  for (auto& param : text::parse_query(raw_query)) {
    std::string name = text::to_valid_utf8(param.name);
    std::string value = text::to_valid_utf8(param.value);
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const HeaderValues& group) { return group.name == name; });
    if (it == groups.end()) {
      groups.push_back({std::move(name), {std::move(value)}});
    } else {
      it->values.push_back(std::move(value));
    }
  }
  return groups;
}

std::string_view domain_prefix(const EventContext& context) {
  if (!context.domain_prefix.empty()) return context.domain_prefix;
  return context.domain_name.substr(0, context.domain_name.find('.'));
}

std::string_view stage_path(const EventContext& context) {
  return context.stage_path.empty() ? context.path : context.stage_path;
}

json::value path_parameters_json(const EventContext& context) {
  if (context.path_parameters == nullptr || context.path_parameters->empty()) return nullptr;
  json::object out;
  for (const auto& [name, value] : *context.path_parameters) {
    out[text::to_valid_utf8(name)] = text::to_valid_utf8(value);
  }
  return out;
}

json::value stage_variables_json(const EventContext& context) {
  if (context.stage_variables == nullptr || context.stage_variables->empty()) return nullptr;
  json::object out;
  for (const auto& [name, value] : *context.stage_variables) out[name] = value;
  return out;
}

// The body as the event carries it and whether it is base64 encoded. HTTP APIs and function
// URLs pass text content types as text and base64 encode everything else; REST APIs base64
// encode only bodies whose Content-Type matches one of the API's binaryMediaTypes.
struct EventBody {
  std::string text;
  bool base64 = false;
};

bool matches_binary_media_type(std::string_view content_type,
                               const std::vector<std::string>* binary_media_types) {
  if (binary_media_types == nullptr) return false;
  std::string type = text::media_type(content_type);
  for (std::string pattern : *binary_media_types) {
    // PatchOperations paths escape '/' as "~1"; accept a value stored in that form too.
    for (auto pos = pattern.find("~1"); pos != std::string::npos; pos = pattern.find("~1")) {
      pattern.replace(pos, 2, "/");
    }
    if (text::wildcard_match(text::media_type(pattern), type)) return true;
  }
  return false;
}

EventBody event_body(const http::Request& request, const EventContext& context) {
  std::string_view content_type = request.header("content-type");
  bool binary = context.front == Front::rest_api
                    ? matches_binary_media_type(content_type, context.binary_media_types)
                    : !is_text_content_type(content_type);
  if (binary) return {base64_encode(request.body), true};
  // NOTE: a body declared as text that is not valid UTF-8 has its invalid sequences replaced
  // with U+FFFD so that the event stays valid JSON; AWS's handling of such bodies is unverified.
  return {text::to_valid_utf8(request.body), false};
}

json::object request_context_v2(const http::Request& request, const EventContext& context) {
  json::object rc;
  bool function_url = context.front == Front::function_url;
  bool iam_caller = function_url && !context.caller_access_key.empty();
  // Function URLs with AuthType NONE report the caller's account as "anonymous".
  rc["accountId"] =
      function_url && !iam_caller ? std::string_view("anonymous") : context.account_id;
  rc["apiId"] = context.api_id;
  if (iam_caller) {
    // NOTE: Lambent has one account and no IAM users, so the caller is described as that
    // account's root user: its user id is the account id.
    json::object iam;
    iam["accessKey"] = context.caller_access_key;
    iam["accountId"] = context.account_id;
    iam["callerId"] = context.account_id;
    iam["cognitoIdentity"] = nullptr;
    iam["principalOrgId"] = nullptr;
    iam["userArn"] = "arn:aws:iam::" + std::string(context.account_id) + ":root";
    iam["userId"] = context.account_id;
    rc["authorizer"] = json::object{{"iam", std::move(iam)}};
  }
  rc["domainName"] = context.domain_name;
  rc["domainPrefix"] = domain_prefix(context);

  json::object http_info;
  http_info["method"] = request.method;
  http_info["path"] = text::to_valid_utf8(stage_path(context));
  http_info["protocol"] = "HTTP/1.1";
  http_info["sourceIp"] = context.source_ip;
  http_info["userAgent"] = text::to_valid_utf8(request.header("user-agent"));
  rc["http"] = std::move(http_info);

  rc["requestId"] = context.request_id;
  // Function URLs set routeKey and stage to "$default" as placeholders.
  rc["routeKey"] = function_url ? std::string_view("$default") : context.route_key;
  rc["stage"] = function_url ? std::string_view("$default") : context.stage;
  rc["time"] = text::format_clf_time(context.time_epoch_ms);
  rc["timeEpoch"] = context.time_epoch_ms;
  return rc;
}

json::object identity_v1(const http::Request& request, const EventContext& context) {
  json::object identity;
  identity["cognitoIdentityPoolId"] = nullptr;
  identity["accountId"] = nullptr;
  identity["cognitoIdentityId"] = nullptr;
  identity["caller"] = nullptr;
  identity["sourceIp"] = context.source_ip;
  identity["principalOrgId"] = nullptr;
  identity["accessKey"] = nullptr;
  identity["cognitoAuthenticationType"] = nullptr;
  identity["cognitoAuthenticationProvider"] = nullptr;
  identity["userArn"] = nullptr;
  identity["userAgent"] = text::to_valid_utf8(request.header("user-agent"));
  identity["user"] = nullptr;
  return identity;
}

json::object request_context_v1(const http::Request& request, const EventContext& context) {
  json::object rc;
  std::string_view extended_id =
      context.extended_request_id.empty() ? context.request_id : context.extended_request_id;
  std::string path_with_stage = text::to_valid_utf8(stage_path(context));
  rc["accountId"] = context.account_id;
  if (context.front == Front::rest_api) {
    rc["resourceId"] = context.resource_id;
  } else {
    // NOTE: unverified: the 1.0 resourceId of HTTP APIs is taken to be the matched route key,
    // which AWS documents nowhere (its sample shows null).
    rc["resourceId"] = context.route_key;
  }
  rc["path"] = path_with_stage;
  rc["stage"] = context.stage;
  rc["domainName"] = context.domain_name;
  rc["domainPrefix"] = domain_prefix(context);
  rc["requestId"] = context.request_id;
  rc["extendedRequestId"] = extended_id;
  rc["protocol"] = "HTTP/1.1";
  rc["identity"] = identity_v1(request, context);
  rc["resourcePath"] = context.resource_path;
  rc["httpMethod"] = request.method;
  rc["requestTime"] = text::format_clf_time(context.time_epoch_ms);
  rc["requestTimeEpoch"] = context.time_epoch_ms;
  rc["apiId"] = context.api_id;
  return rc;
}

}  // namespace

bool is_text_content_type(std::string_view content_type) {
  std::string type = text::media_type(content_type);
  if (type.empty()) return false;
  auto slash = type.find('/');
  if (slash == std::string::npos) return false;
  std::string_view top = std::string_view(type).substr(0, slash);
  std::string_view sub = std::string_view(type).substr(slash + 1);
  if (top == "text") return true;
  if (top != "application") return false;
  auto ends_with = [&](std::string_view suffix) {
    return sub.size() >= suffix.size() && sub.substr(sub.size() - suffix.size()) == suffix;
  };
  return sub == "json" || ends_with("+json") || sub == "xml" || ends_with("+xml") ||
         sub == "javascript" || sub == "x-javascript" || sub == "ecmascript";
}

std::string build_event_v2(const http::Request& request, const EventContext& context) {
  bool function_url = context.front == Front::function_url;
  json::object event;
  event["version"] = "2.0";
  event["routeKey"] = function_url ? std::string_view("$default") : context.route_key;
  event["rawPath"] = text::to_valid_utf8(stage_path(context));
  event["rawQueryString"] = text::to_valid_utf8(request.query());

  // Cookie headers move to `cookies`, split on "; ", and leave `headers`.
  json::array cookies;
  json::object headers;
  ContentLength content_length = function_url ? ContentLength::keep : ContentLength::ensure;
  for (auto& group : group_headers(request, context, content_length)) {
    if (group.name == "cookie") {
      for (const auto& value : group.values) {
        std::string_view rest = value;
        while (!rest.empty()) {
          auto separator = rest.find("; ");
          std::string_view cookie = rest.substr(0, separator);
          if (!cookie.empty()) cookies.emplace_back(cookie);
          rest =
              separator == std::string_view::npos ? std::string_view() : rest.substr(separator + 2);
        }
      }
      continue;
    }
    // Repeated headers are joined with commas and no space, as the 2.0 format does.
    headers[group.name] = join(group.values, ",");
  }
  if (!cookies.empty()) event["cookies"] = std::move(cookies);
  event["headers"] = std::move(headers);

  auto query = group_query(request.query());
  if (!query.empty()) {
    json::object parameters;
    for (const auto& group : query) parameters[group.name] = join(group.values, ",");
    event["queryStringParameters"] = std::move(parameters);
  }

  event["requestContext"] = request_context_v2(request, context);

  EventBody body;
  if (!request.body.empty()) {
    body = event_body(request, context);
    event["body"] = body.text;
  }
  if (!function_url) {
    json::value path_parameters = path_parameters_json(context);
    if (!path_parameters.is_null()) event["pathParameters"] = std::move(path_parameters);
  }
  event["isBase64Encoded"] = body.base64;
  if (!function_url) {
    json::value stage_variables = stage_variables_json(context);
    if (!stage_variables.is_null()) event["stageVariables"] = std::move(stage_variables);
  }
  return json::serialize(event);
}

std::string build_event_v1(const http::Request& request, const EventContext& context) {
  bool rest = context.front == Front::rest_api;
  json::object event;
  if (!rest) event["version"] = "1.0";
  event["resource"] = context.resource_path;
  // REST APIs give the path without the stage; HTTP APIs give the path as requested.
  event["path"] = text::to_valid_utf8(rest ? context.path : stage_path(context));
  event["httpMethod"] = request.method;

  // NOTE: the HTTP server lower-cases header names, so the client's spelling is lost. REST API
  // events show each name in the capitalized form HTTP/1.1 clients commonly send
  // ("Content-Type"); HTTP APIs lower-case names in both payload formats.
  auto header_name = [&](const std::string& lowercase) {
    return rest ? text::title_case_header(lowercase) : lowercase;
  };
  json::object headers;
  json::object multi_headers;
  ContentLength content_length = rest ? ContentLength::drop : ContentLength::keep;
  for (auto& group : group_headers(request, context, content_length)) {
    std::string name = header_name(group.name);
    // The single-value map carries the last value of a repeated header.
    headers[name] = group.values.back();
    json::array values;
    for (auto& value : group.values) values.emplace_back(value);
    multi_headers[name] = std::move(values);
  }
  event["headers"] = std::move(headers);
  event["multiValueHeaders"] = std::move(multi_headers);

  // Without a query string both query maps are null, as AWS sends them.
  auto query = group_query(request.query());
  if (query.empty()) {
    event["queryStringParameters"] = nullptr;
    event["multiValueQueryStringParameters"] = nullptr;
  } else {
    json::object single;
    json::object multi;
    for (const auto& group : query) {
      single[group.name] = group.values.back();
      json::array values;
      for (const auto& value : group.values) values.emplace_back(value);
      multi[group.name] = std::move(values);
    }
    event["queryStringParameters"] = std::move(single);
    event["multiValueQueryStringParameters"] = std::move(multi);
  }

  event["pathParameters"] = path_parameters_json(context);
  event["stageVariables"] = stage_variables_json(context);
  event["requestContext"] = request_context_v1(request, context);

  if (request.body.empty()) {
    event["body"] = nullptr;
    event["isBase64Encoded"] = false;
  } else {
    EventBody body = event_body(request, context);
    event["body"] = body.text;
    event["isBase64Encoded"] = body.base64;
  }
  return json::serialize(event);
}

}  // namespace lambent::services::apigateway
