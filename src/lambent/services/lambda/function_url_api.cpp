#include "lambent/services/lambda/function_url_api.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

// The FunctionUrlQualifier shape: an alias name, never $LATEST or a version number.
constexpr std::string_view kQualifierPattern = R"(((?!^\d+$)^[0-9a-zA-Z-_]+$))";

enum class Operation { create, get, update, remove, list };

// The InvokeMode rule of a response: Create and Update show it only when the client set it, Get
// and List always show it, with BUFFERED for an unset mode.
enum class View { written, read };

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, field, rule);
}

Error serialization_error(std::string_view field, const json::value& value) {
  return Error{Errc::validation,
               fmt::format("Value '{}' for {} has the wrong type", json::serialize(value), field),
               "SerializationException"};
}

bool is_valid_qualifier(std::string_view qualifier) {
  if (qualifier.empty()) return false;
  bool all_digits = std::all_of(qualifier.begin(), qualifier.end(),
                                [](char c) { return c >= '0' && c <= '9'; });
  if (all_digits) return false;
  return std::all_of(qualifier.begin(), qualifier.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_';
  });
}

void check_qualifier(std::string_view qualifier, std::vector<std::string>& violations) {
  if (qualifier.size() > 128) {
    violations.push_back(
        constraint(qualifier, "qualifier", "Member must have length less than or equal to 128"));
  } else if (!is_valid_qualifier(qualifier)) {
    violations.push_back(
        constraint(qualifier, "qualifier",
                   fmt::format("Member must satisfy regular expression pattern: {}",
                               kQualifierPattern)));
  }
}

// Reads an enum member; records a violation when the value is not in `allowed`.
Result<std::optional<std::string>> enum_field(const json::object& body, std::string_view key,
                                              std::string_view field,
                                              std::initializer_list<std::string_view> allowed,
                                              std::string_view allowed_text,
                                              std::vector<std::string>& violations) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return serialization_error(key, it->value());
  std::string value(it->value().as_string());
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    violations.push_back(constraint(
        value, field, fmt::format("Member must satisfy enum value set: [{}]", allowed_text)));
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(value));
}

// Java's List.toString, which AWS's validation messages use for list values.
std::string list_text(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += values[i];
  }
  return out + "]";
}

// Reads one list member of Cors and checks its item count and each item's length.
Result<std::optional<std::vector<std::string>>> cors_list(const json::object& cors,
                                                          std::string_view key,
                                                          std::string_view field,
                                                          std::size_t max_items,
                                                          std::size_t min_length,
                                                          std::size_t max_length,
                                                          std::vector<std::string>& violations) {
  auto it = cors.find(key);
  if (it == cors.end() || it->value().is_null()) {
    return std::optional<std::vector<std::string>>();
  }
  if (!it->value().is_array()) return serialization_error(key, it->value());
  std::vector<std::string> values;
  for (const auto& item : it->value().as_array()) {
    if (!item.is_string()) return serialization_error(key, item);
    values.emplace_back(item.as_string());
  }
  if (values.size() > max_items) {
    violations.push_back(
        constraint(list_text(values), field,
                   fmt::format("Member must have length less than or equal to {}", max_items)));
    return std::optional<std::vector<std::string>>();
  }
  bool item_invalid = std::any_of(values.begin(), values.end(), [&](const std::string& v) {
    return v.size() < min_length || v.size() > max_length;
  });
  if (item_invalid) {
    // NOTE: the wording of a member constraint follows AWS's messages for other list
    // parameters; no recorded response for Cors shows it.
    violations.push_back(constraint(
        list_text(values), field,
        fmt::format("Member must satisfy constraint: [Member must have length less than or "
                    "equal to {}, Member must have length greater than or equal to {}, Member "
                    "must satisfy regular expression pattern: .*]",
                    max_length, min_length)));
    return std::optional<std::vector<std::string>>();
  }
  return std::optional<std::vector<std::string>>(std::move(values));
}

Result<std::optional<FunctionUrlCors>> parse_cors(const json::object& body,
                                                  std::vector<std::string>& violations) {
  auto it = body.find("Cors");
  if (it == body.end() || it->value().is_null()) return std::optional<FunctionUrlCors>();
  if (!it->value().is_object()) return serialization_error("Cors", it->value());
  const auto& cors = it->value().as_object();
  FunctionUrlCors out;

  if (auto c = cors.find("AllowCredentials"); c != cors.end() && !c->value().is_null()) {
    if (!c->value().is_bool()) return serialization_error("AllowCredentials", c->value());
    out.allow_credentials = c->value().as_bool();
  }
  auto headers = cors_list(cors, "AllowHeaders", "cors.allowHeaders", 100, 0, 1024, violations);
  if (!headers) return std::move(headers).error();
  out.allow_headers = std::move(*headers);
  auto methods = cors_list(cors, "AllowMethods", "cors.allowMethods", 6, 0, 6, violations);
  if (!methods) return std::move(methods).error();
  out.allow_methods = std::move(*methods);
  auto origins = cors_list(cors, "AllowOrigins", "cors.allowOrigins", 100, 1, 253, violations);
  if (!origins) return std::move(origins).error();
  out.allow_origins = std::move(*origins);
  auto expose = cors_list(cors, "ExposeHeaders", "cors.exposeHeaders", 100, 0, 1024, violations);
  if (!expose) return std::move(expose).error();
  out.expose_headers = std::move(*expose);

  if (auto m = cors.find("MaxAge"); m != cors.end() && !m->value().is_null()) {
    const auto& v = m->value();
    if (!v.is_int64() && !v.is_uint64()) return serialization_error("MaxAge", v);
    std::string text = v.is_int64() ? std::to_string(v.as_int64()) : std::to_string(v.as_uint64());
    if (v.is_int64() && v.as_int64() < 0) {
      violations.push_back(constraint(text, "cors.maxAge",
                                      "Member must have value greater than or equal to 0"));
    } else if (v.is_uint64() || v.as_int64() > 86400) {
      violations.push_back(constraint(text, "cors.maxAge",
                                      "Member must have value less than or equal to 86400"));
    } else {
      out.max_age = v.as_int64();
    }
  }
  return std::optional<FunctionUrlCors>(std::move(out));
}

// The members of a Create or Update body, validated. Absent members stay unset.
struct ConfigChange {
  std::optional<std::string> auth_type;
  std::optional<FunctionUrlCors> cors;
  std::optional<std::string> invoke_mode;
};

Result<ConfigChange> parse_change(const json::object& body, Operation operation,
                                  std::vector<std::string>& violations) {
  ConfigChange change;
  auto auth = enum_field(body, "AuthType", "authType", {"NONE", "AWS_IAM"}, "AWS_IAM, NONE",
                         violations);
  if (!auth) return std::move(auth).error();
  change.auth_type = std::move(*auth);
  bool auth_given = body.contains("AuthType") && !body.at("AuthType").is_null();
  if (operation == Operation::create && !auth_given) {
    violations.push_back("Value null at 'authType' failed to satisfy constraint: Member must not "
                         "be null");
  }
  auto cors = parse_cors(body, violations);
  if (!cors) return std::move(cors).error();
  change.cors = std::move(*cors);
  auto mode = enum_field(body, "InvokeMode", "invokeMode", {"BUFFERED", "RESPONSE_STREAM"},
                         "RESPONSE_STREAM, BUFFERED", violations);
  if (!mode) return std::move(mode).error();
  change.invoke_mode = std::move(*mode);
  return change;
}

json::array to_array(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

json::object render_cors(const FunctionUrlCors& cors) {
  json::object out;
  if (cors.allow_credentials) out["AllowCredentials"] = *cors.allow_credentials;
  if (cors.allow_headers) out["AllowHeaders"] = to_array(*cors.allow_headers);
  if (cors.allow_methods) out["AllowMethods"] = to_array(*cors.allow_methods);
  if (cors.allow_origins) out["AllowOrigins"] = to_array(*cors.allow_origins);
  if (cors.expose_headers) out["ExposeHeaders"] = to_array(*cors.expose_headers);
  if (cors.max_age) out["MaxAge"] = *cors.max_age;
  return out;
}

std::string config_arn(const invoke::Invoker& invoker, const FunctionUrlConfig& config) {
  std::string arn = invoker.function_arn(config.function_name);
  if (!config.qualifier.empty()) arn += ":" + config.qualifier;
  return arn;
}

json::object render(const invoke::Invoker& invoker, const FunctionUrlCatalog& urls,
                    const FunctionUrlConfig& config, Operation operation) {
  json::object out{
      {"FunctionUrl", urls.function_url(config)},
      {"FunctionArn", config_arn(invoker, config)},
      {"AuthType", config.auth_type},
      {"CreationTime", config.creation_time},
  };
  if (operation != Operation::create) out["LastModifiedTime"] = config.last_modified_time;
  if (config.cors) out["Cors"] = render_cors(*config.cors);
  View view = operation == Operation::create || operation == Operation::update ? View::written
                                                                                : View::read;
  if (config.invoke_mode) {
    out["InvokeMode"] = *config.invoke_mode;
  } else if (view == View::read) {
    out["InvokeMode"] = "BUFFERED";
  }
  return out;
}

Error resource_not_found() {
  return Error{Errc::not_found, "The resource you requested does not exist."};
}

Error function_does_not_exist() { return Error{Errc::not_found, "Function does not exist"}; }

http::Response no_content(const std::string& request_id) {
  http::Response response;
  response.status = 204;
  response.header("x-amzn-RequestId", request_id);
  return response;
}

Task<http::Response> list_configs(const invoke::Invoker& invoker, const FunctionUrlCatalog& urls,
                                  const http::Request& request, const FunctionRef& ref,
                                  std::string request_id) {
  auto max_items = parse_max_items(request, 50, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  if (!invoker.find(ref.name)) co_return error_response(function_does_not_exist(), request_id);
  // The marker is the base64 of the last qualifier returned, "$" standing for the
  // unqualified function, which lists first.
  auto after = parse_marker(request);
  if (!after) co_return error_response(after.error(), request_id);
  json::array configs;
  std::string last;
  bool more = false;
  for (const auto& config : urls.list(ref.name)) {
    std::string key = "$" + config->qualifier;
    if (!after->empty() && key <= *after) continue;
    if (static_cast<std::int64_t>(configs.size()) == *max_items) {
      more = true;
      break;
    }
    configs.push_back(render(invoker, urls, *config, Operation::list));
    last = std::move(key);
  }
  json::object out{{"FunctionUrlConfigs", std::move(configs)}};
  if (more) out["NextMarker"] = base64_encode(last);
  co_return json_response(200, out, request_id);
}

}  // namespace

bool is_function_url_route(std::string_view path, std::string_view method) {
  if (!path.starts_with(kFunctionUrlPrefix)) return false;
  std::string_view rest = path.substr(kFunctionUrlPrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view tail = rest.substr(slash);
  if (tail == "/urls" || tail == "/urls/") return method == "GET";
  if (tail == "/url" || tail == "/url/") {
    return method == "POST" || method == "GET" || method == "PUT" || method == "DELETE";
  }
  return false;
}

Task<http::Response> handle_function_url_config(invoke::Invoker& invoker,
                                                FunctionUrlCatalog& urls, AsyncMutex& mutations,
                                                http::Request& request, std::string request_id) {
  std::string_view rest = request.path().substr(kFunctionUrlPrefix.size());
  auto slash = rest.find('/');
  std::string raw_name = decode_path_segment(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash);
  const std::string& method = request.method;

  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (tail.starts_with("/urls")) co_return co_await list_configs(invoker, urls, request, *ref, request_id);

  Operation operation = method == "POST"  ? Operation::create
                        : method == "PUT" ? Operation::update
                        : method == "GET" ? Operation::get
                                          : Operation::remove;

  std::vector<std::string> violations;
  auto qualifier_param = http::query_param(request.query(), "Qualifier");
  if (qualifier_param.found) {
    check_qualifier(qualifier_param.value, violations);
  } else if (ref->qualifier) {
    check_qualifier(*ref->qualifier, violations);
  }
  ConfigChange change;
  if (operation == Operation::create || operation == Operation::update) {
    auto body = parse_body(request.body);
    if (!body) co_return error_response(body.error(), request_id);
    auto parsed = parse_change(*body, operation, violations);
    if (!parsed) co_return error_response(parsed.error(), request_id);
    change = std::move(*parsed);
  }
  if (!violations.empty()) {
    co_return error_response(validation_error(std::move(violations)), request_id);
  }
  if (qualifier_param.found && ref->qualifier && *ref->qualifier != qualifier_param.value) {
    co_return error_response(
        invalid_parameter("The derived qualifier from the function name does not match the "
                          "specified qualifier."),
        request_id);
  }
  std::string qualifier = qualifier_param.found ? qualifier_param.value
                                                : ref->qualifier.value_or(std::string());

  // Get and Delete report a missing function, alias or config alike. They look the config up
  // without checking the alias, so a config whose alias was deleted can still be read and
  // deleted, because AWS keeps such a config too.
  bool writing = operation == Operation::create || operation == Operation::update;
  Error missing = writing ? function_does_not_exist() : resource_not_found();
  auto guard = co_await mutations.lock();
  if (!invoker.find(ref->name)) co_return error_response(missing, request_id);
  if (writing && !qualifier.empty() && !invoker.find_alias(ref->name, qualifier)) {
    co_return error_response(missing, request_id);
  }
  auto existing = urls.find(ref->name, qualifier);

  if (operation == Operation::get) {
    if (!existing) co_return error_response(resource_not_found(), request_id);
    co_return json_response(200, render(invoker, urls, *existing, operation), request_id);
  }
  if (operation == Operation::remove) {
    if (!existing) co_return error_response(resource_not_found(), request_id);
    auto removed = co_await urls.remove(ref->name, qualifier);
    if (!removed) co_return error_response(removed.error(), request_id);
    LOG_INFO("lambda", "function_url_deleted", "function={} qualifier={}", ref->name, qualifier);
    co_return no_content(request_id);
  }

  FunctionUrlConfig config;
  if (operation == Operation::create) {
    if (existing) {
      std::string arn = invoker.function_arn(ref->name);
      if (!qualifier.empty()) arn += ":" + qualifier;
      co_return error_response(
          Error{Errc::conflict,
                fmt::format("Failed to create function url config for [functionArn = {}]. Error "
                            "message:  FunctionUrlConfig exists for this Lambda function",
                            arn)},
          request_id);
    }
    config.url_id = urls.new_url_id();
    config.function_name = ref->name;
    config.qualifier = qualifier;
    config.creation_time = function_url_timestamp_now();
  } else {
    if (!existing) co_return error_response(resource_not_found(), request_id);
    config = *existing;
  }
  // Update changes only the members the request names; a Cors member replaces the whole Cors.
  if (change.auth_type) config.auth_type = *change.auth_type;
  if (change.cors) config.cors = std::move(change.cors);
  if (change.invoke_mode) config.invoke_mode = *change.invoke_mode;
  config.last_modified_time = operation == Operation::create ? config.creation_time
                                                             : function_url_timestamp_now();
  auto saved = co_await urls.put(config);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "function_url_saved", "function={} qualifier={} url_id={} auth_type={}",
           config.function_name, config.qualifier, config.url_id, config.auth_type);
  unsigned status = operation == Operation::create ? 201 : 200;
  co_return json_response(status, render(invoker, urls, config, operation), request_id);
}

}  // namespace lambent::services::lambda
