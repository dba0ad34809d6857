#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/control_v1_shapes.h"

#include "lambent/base/log.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>
#include <regex>
#include <set>

// The apigateway operations on REST APIs, resources, methods and integrations. Deployments
// and stages are in control_v1_stages.cpp.
namespace lambent::services::apigateway {

namespace json = boost::json;

namespace v1 {

namespace {

json::array string_array(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

template <typename Map>
json::object map_json(const Map& values) {
  json::object out;
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

}  // namespace

json::object rest_api_json(const RestApi& api) {
  json::object out{
      {"id", api.id},
      {"name", api.name},
      {"createdDate", epoch_seconds(api.created_date)},
      {"apiKeySource", api.api_key_source},
      {"endpointConfiguration", json::object{{"types", string_array(api.endpoint_types)}}},
      {"disableExecuteApiEndpoint", api.disable_execute_api_endpoint},
      {"rootResourceId", api.root_resource_id}};
  if (!api.description.empty()) out["description"] = api.description;
  if (!api.version.empty()) out["version"] = api.version;
  if (!api.binary_media_types.empty())
    out["binaryMediaTypes"] = string_array(api.binary_media_types);
  if (!api.tags.empty()) out["tags"] = map_json(api.tags);
  return out;
}

Error api_not_found(std::string_view account_id, std::string_view api_id) {
  return not_found(fmt::format("Invalid API identifier specified {}:{}", account_id, api_id));
}

Result<std::vector<PatchOperation>> parse_patch_operations(const json::object& body) {
  std::vector<PatchOperation> operations;
  const json::value* list = body.if_contains("patchOperations");
  if (list == nullptr || list->is_null()) return operations;
  if (!list->is_array()) return bad_request("Invalid value for patchOperations: expected a list");
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) {
      return bad_request("Invalid value for patchOperations: expected a list of objects");
    }
    BodyFields fields(item.as_object());
    PatchOperation operation;
    for (auto read : {fields.text("op", operation.op), fields.text("path", operation.path),
                      fields.text("value", operation.value)}) {
      if (!read) return std::move(read).error();
    }
    static const std::set<std::string, std::less<>> kOps = {"add",  "remove", "replace",
                                                            "move", "copy",   "test"};
    if (!kOps.contains(operation.op)) {
      return bad_request(fmt::format(
          "Invalid patch operation specified: {}. Allowed values are add, remove, replace, "
          "move, copy and test",
          operation.op));
    }
    operations.push_back(std::move(operation));
  }
  return operations;
}

namespace {

constexpr std::string_view kMethods = "GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY";

json::object integration_json(const RestIntegration& integration) {
  json::object out{{"type", integration.type},
                   {"httpMethod", integration.http_method},
                   {"uri", integration.uri},
                   {"connectionType", integration.connection_type},
                   {"passthroughBehavior", integration.passthrough_behavior},
                   {"timeoutInMillis", integration.timeout_ms},
                   {"cacheNamespace", integration.cache_namespace},
                   {"cacheKeyParameters", string_array(integration.cache_key_parameters)}};
  if (!integration.request_parameters.empty()) {
    out["requestParameters"] = map_json(integration.request_parameters);
  }
  if (!integration.request_templates.empty()) {
    out["requestTemplates"] = map_json(integration.request_templates);
  }
  if (!integration.content_handling.empty()) out["contentHandling"] = integration.content_handling;
  if (!integration.integration_responses.empty()) {
    json::object responses;
    for (const auto& [status, response] : integration.integration_responses) {
      json::object entry{{"statusCode", response.status_code}};
      if (!response.selection_pattern.empty())
        entry["selectionPattern"] = response.selection_pattern;
      if (!response.response_parameters.empty()) {
        entry["responseParameters"] = map_json(response.response_parameters);
      }
      if (!response.response_templates.empty()) {
        entry["responseTemplates"] = map_json(response.response_templates);
      }
      if (!response.content_handling.empty()) entry["contentHandling"] = response.content_handling;
      responses[status] = std::move(entry);
    }
    out["integrationResponses"] = std::move(responses);
  }
  return out;
}

json::object method_response_json(const RestMethodResponse& response) {
  json::object out{{"statusCode", response.status_code}};
  if (!response.response_parameters.empty()) {
    out["responseParameters"] = map_json(response.response_parameters);
  }
  if (!response.response_models.empty()) out["responseModels"] = map_json(response.response_models);
  return out;
}

json::object integration_response_json(const RestIntegrationResponse& response) {
  json::object out{{"statusCode", response.status_code}};
  if (!response.selection_pattern.empty()) out["selectionPattern"] = response.selection_pattern;
  if (!response.response_parameters.empty()) {
    out["responseParameters"] = map_json(response.response_parameters);
  }
  if (!response.response_templates.empty()) {
    out["responseTemplates"] = map_json(response.response_templates);
  }
  if (!response.content_handling.empty()) out["contentHandling"] = response.content_handling;
  return out;
}

json::object method_json(const RestMethod& method) {
  json::object out{{"httpMethod", method.http_method},
                   {"authorizationType", method.authorization_type},
                   {"apiKeyRequired", method.api_key_required}};
  if (!method.operation_name.empty()) out["operationName"] = method.operation_name;
  if (!method.request_parameters.empty()) {
    out["requestParameters"] = map_json(method.request_parameters);
  }
  if (!method.request_models.empty()) out["requestModels"] = map_json(method.request_models);
  if (!method.method_responses.empty()) {
    json::object responses;
    for (const auto& [status, response] : method.method_responses) {
      responses[status] = method_response_json(response);
    }
    out["methodResponses"] = std::move(responses);
  }
  if (method.integration) out["methodIntegration"] = integration_json(*method.integration);
  return out;
}

// A resource as GetResource(s) return it: with embed=methods each method in full, otherwise
// each method name with an empty object.
json::object resource_json(const RestResource& resource, bool embed_methods) {
  json::object out{{"id", resource.id}, {"path", resource.path}};
  if (!resource.parent_id.empty()) {
    out["parentId"] = resource.parent_id;
    out["pathPart"] = resource.path_part;
  }
  if (!resource.methods.empty()) {
    json::object methods;
    for (const auto& [name, method] : resource.methods) {
      methods[name] = embed_methods ? method_json(method) : json::object();
    }
    out["resourceMethods"] = std::move(methods);
  }
  return out;
}

bool wants_embedded_methods(const http::Request& request) {
  std::string_view query = request.query();
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair == "embed=methods") return true;
  }
  return false;
}

Error resource_not_found() { return not_found("Invalid Resource identifier specified"); }
Error method_not_found() { return not_found("Invalid Method identifier specified"); }
Error integration_not_found() { return not_found("No integration defined for method"); }
Error response_not_found() { return not_found("Invalid Response status code specified"); }

Status check_path_part(const std::string& path_part) {
  // Letters, digits, '.', '_', '-' and ':', or a whole {name} or {name+} variable.
  static const std::regex kPathPart(R"([a-zA-Z0-9._\-:]+|\{[a-zA-Z0-9._\-]+\+?\})");
  if (!std::regex_match(path_part, kPathPart)) {
    return bad_request(fmt::format(
        "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and "
        "the end and an optional plus sign before the closing brace. Invalid path part: {}",
        path_part));
  }
  return ok_status();
}

bool is_variable(const std::string& path_part) { return path_part.starts_with("{"); }
bool is_greedy(const std::string& path_part) { return path_part.ends_with("+}"); }

Result<std::string> check_http_method(const std::string& method) {
  static const std::set<std::string, std::less<>> kAllowed = {"GET",   "PUT",     "POST", "DELETE",
                                                              "PATCH", "OPTIONS", "HEAD", "ANY"};
  if (!kAllowed.contains(method)) {
    return bad_request(fmt::format("Invalid HttpMethod specified. Valid options are {}", kMethods));
  }
  return method;
}

Status check_status_code(const std::string& status) {
  static const std::regex kStatus("[1-5]\\d\\d");
  if (!std::regex_match(status, kStatus)) {
    return bad_request(fmt::format(
        "Invalid status code specified: {}. A status code is three digits from 100 to 599",
        status));
  }
  return ok_status();
}

// Applies a PutIntegration body to `integration`.
Status apply_integration(const BodyFields& fields, const RestResource& resource,
                         RestIntegration& integration) {
  std::optional<std::string> type, http_method, uri, connection;
  std::optional<std::int64_t> timeout;
  std::optional<std::vector<std::string>> cache_keys;
  std::optional<std::map<std::string, std::string>> parameters, templates;
  for (auto read :
       {fields.text("type", type), fields.text("httpMethod", http_method), fields.text("uri", uri),
        fields.text("connectionType", connection), fields.integer("timeoutInMillis", timeout),
        fields.strings("cacheKeyParameters", cache_keys),
        fields.string_map("requestParameters", parameters),
        fields.string_map("requestTemplates", templates),
        fields.text("passthroughBehavior", integration.passthrough_behavior),
        fields.text("contentHandling", integration.content_handling),
        fields.text("cacheNamespace", integration.cache_namespace)}) {
    if (!read) return read;
  }
  if (!type) return bad_request("Enumeration value for IntegrationType must be non-empty");
  static const std::set<std::string, std::less<>> kTypes = {"HTTP", "AWS", "MOCK", "HTTP_PROXY",
                                                            "AWS_PROXY"};
  if (!kTypes.contains(*type)) {
    return bad_request(fmt::format(
        "Invalid integration type specified: {}. Allowed values are HTTP, AWS, MOCK, HTTP_PROXY "
        "and AWS_PROXY",
        *type));
  }
  if (*type != "AWS_PROXY") {
    return bad_request(fmt::format(
        "Lambent supports integration type AWS_PROXY (Lambda proxy) only; {} integrations are "
        "not implemented",
        *type));
  }
  if (!http_method || http_method->empty()) {
    return bad_request("Enumeration value for HttpMethod must be non-empty");
  }
  // Lambda's Invoke API takes POST, so a Lambda proxy integration calls it with POST.
  if (*http_method != "POST") {
    return bad_request(fmt::format(
        "Invalid integration HTTP method specified: {}. Lambda proxy integrations use POST",
        *http_method));
  }
  if (!uri || uri->empty()) return bad_request("Invalid ARN specified in the request");
  auto target = parse_lambda_uri(*uri, UriForm::invocation_only);
  if (!target) return std::move(target).error();
  if (timeout && (*timeout < 50 || *timeout > 29000)) {
    return bad_request("Timeout should be between 50 ms and 29000 ms");
  }
  if (connection && *connection != "INTERNET") {
    return bad_request(fmt::format(
        "Lambent supports connectionType INTERNET only; {} is not implemented", *connection));
  }
  integration.type = *type;
  integration.http_method = *http_method;
  integration.uri = *uri;
  integration.target = std::move(target).value();
  if (timeout) integration.timeout_ms = *timeout;
  if (cache_keys) integration.cache_key_parameters = *cache_keys;
  if (parameters) integration.request_parameters = *parameters;
  if (templates) integration.request_templates = *templates;
  if (integration.cache_namespace.empty()) integration.cache_namespace = resource.id;
  return ok_status();
}

// Applies UpdateMethod patch operations.
Status patch_method(const std::vector<PatchOperation>& operations, RestMethod& method) {
  constexpr std::string_view kParameters = "/requestParameters/";
  for (const auto& operation : operations) {
    const std::string& path = operation.path;
    if (path == "/operationName" && operation.op == "replace") {
      method.operation_name = operation.value;
    } else if (path == "/authorizationType" && operation.op == "replace") {
      if (operation.value != "NONE") {
        return bad_request(fmt::format(
            "Lambent supports authorizationType NONE only; {} authorization is not implemented",
            operation.value));
      }
    } else if (path == "/apiKeyRequired" && operation.op == "replace") {
      if (operation.value != "false") {
        return bad_request("Lambent does not implement API keys; apiKeyRequired must be false");
      }
    } else if (path.starts_with(kParameters)) {
      std::string name = path.substr(kParameters.size());
      if (operation.op == "remove") {
        method.request_parameters.erase(name);
      } else {
        method.request_parameters[name] = operation.value == "true";
      }
    } else {
      return bad_request(fmt::format(
          "Invalid patch path {} specified for op '{}'. Lambent supports /operationName, "
          "/authorizationType, /apiKeyRequired and /requestParameters/NAME",
          path, operation.op));
    }
  }
  return ok_status();
}

// Applies UpdateIntegration patch operations.
Status patch_integration(const std::vector<PatchOperation>& operations,
                         RestIntegration& integration) {
  for (const auto& operation : operations) {
    const std::string& path = operation.path;
    if (operation.op != "replace") {
      return bad_request(fmt::format(
          "Invalid patch operation {} for path {}. Lambent supports replace on integrations",
          operation.op, path));
    }
    if (path == "/uri") {
      auto target = parse_lambda_uri(operation.value, UriForm::invocation_only);
      if (!target) return std::move(target).error();
      integration.uri = operation.value;
      integration.target = std::move(target).value();
    } else if (path == "/httpMethod") {
      if (operation.value != "POST") {
        return bad_request(fmt::format(
            "Invalid integration HTTP method specified: {}. Lambda proxy integrations use POST",
            operation.value));
      }
    } else if (path == "/timeoutInMillis") {
      std::int64_t timeout = 0;
      const std::string& text = operation.value;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), timeout);
      if (ec != std::errc() || end != text.data() + text.size() || timeout < 50 ||
          timeout > 29000) {
        return bad_request("Timeout should be between 50 ms and 29000 ms");
      }
      integration.timeout_ms = timeout;
    } else if (path == "/passthroughBehavior") {
      integration.passthrough_behavior = operation.value;
    } else if (path == "/contentHandling") {
      integration.content_handling = operation.value;
    } else if (path == "/cacheNamespace") {
      integration.cache_namespace = operation.value;
    } else {
      return bad_request(fmt::format(
          "Invalid patch path {} specified for op 'replace'. Lambent supports /uri, /httpMethod, "
          "/timeoutInMillis, /passthroughBehavior, /contentHandling and /cacheNamespace",
          path));
    }
  }
  return ok_status();
}

// Collects `id` and every resource below it.
std::set<std::string> subtree(const RestResourceTree& tree, const std::string& id) {
  std::set<std::string> out{id};
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [child, resource] : tree) {
      if (!out.contains(child) && out.contains(resource.parent_id)) {
        out.insert(child);
        grew = true;
      }
    }
  }
  return out;
}

}  // namespace

}  // namespace v1

using namespace v1;

Task<http::Response> ControlService::handle_v1(const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (segments.size() == 1) {
    // POST /restapis?mode=import is ImportRestApi, which takes an OpenAPI document. Lambent does
    // not read those, and an empty API in its place would silently lose every path.
    if (method == "POST" && http::query_param(request.query(), "mode").found) {
      co_return gateway_error(
          Error{Errc::not_implemented,
                "ImportRestApi is not implemented by Lambent: create the resources, methods and "
                "integrations with CreateResource, PutMethod and PutIntegration"},
          request_id);
    }
    if (method == "POST") co_return co_await create_rest_api(request, request_id);
    if (method == "GET") {
      auto page = parse_v1_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& api : registry_.rest_apis())
        entries.emplace_back(api->id, rest_api_json(*api));
      co_return gateway_json(200, page_of(std::move(entries), *page, kV1Page), request_id);
    }
  } else if (segments.size() == 2) {
    const std::string& api_id = segments[1];
    if (method == "GET") {
      auto api = registry_.rest_api(api_id);
      if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
      co_return gateway_json(200, rest_api_json(*api), request_id);
    }
    if (method == "PATCH") co_return co_await update_rest_api(api_id, request, request_id);
    if (method == "DELETE") {
      auto guard = co_await mutations_.lock();
      if (!registry_.rest_api(api_id)) {
        co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
      }
      auto removed = co_await registry_.remove_rest_api(api_id);
      if (!removed) co_return store_failed(removed.error(), api_id, request_id);
      LOG_INFO("apigateway", "rest_api_deleted", "api_id={} request_id={}", api_id, request_id);
      co_return gateway_empty(202, request_id);
    }
  } else {
    const std::string& api_id = segments[1];
    const std::string& collection = segments[2];
    if (collection == "resources") {
      if (segments.size() >= 5 && segments[4] == "methods") {
        co_return co_await v1_methods(api_id, segments[3], request, request_id, segments);
      }
      co_return co_await v1_resources(api_id, request, request_id, segments);
    }
    if (collection == "deployments") {
      co_return co_await v1_deployments(api_id, request, request_id, segments);
    }
    if (collection == "stages") co_return co_await v1_stages(api_id, request, request_id, segments);
  }
  co_return unsupported_operation(method, request.path(), request_id);
}

Task<http::Response> ControlService::create_rest_api(const http::Request& request,
                                                     const std::string& request_id) {
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  RestApi api;
  std::optional<std::string> name, key_source;
  std::optional<std::vector<std::string>> binary_types;
  std::optional<std::map<std::string, std::string>> tags;
  for (auto read :
       {fields.text("name", name), fields.text("description", api.description),
        fields.text("version", api.version), fields.text("apiKeySource", key_source),
        fields.strings("binaryMediaTypes", binary_types), fields.string_map("tags", tags),
        fields.boolean("disableExecuteApiEndpoint", api.disable_execute_api_endpoint)}) {
    if (!read) co_return gateway_error(read.error(), request_id);
  }
  if (!name || name->empty()) {
    co_return gateway_error(bad_request("Invalid REST API name specified: a name is required"),
                            request_id);
  }
  if (fields.has("cloneFrom")) {
    co_return gateway_error(bad_request("Lambent does not implement cloneFrom; create the API "
                                        "and its resources instead"),
                            request_id);
  }
  if (key_source) {
    if (*key_source != "HEADER" && *key_source != "AUTHORIZER") {
      co_return gateway_error(
          bad_request(fmt::format("Invalid apiKeySource specified: {}. Allowed values are HEADER "
                                  "and AUTHORIZER",
                                  *key_source)),
          request_id);
    }
    api.api_key_source = *key_source;
  }
  auto endpoint = fields.object("endpointConfiguration");
  if (!endpoint) co_return gateway_error(endpoint.error(), request_id);
  if (*endpoint) {
    std::optional<std::vector<std::string>> types;
    if (auto read = BodyFields(**endpoint).strings("types", types); !read) {
      co_return gateway_error(read.error(), request_id);
    }
    if (types) {
      for (const auto& type : *types) {
        if (type != "EDGE" && type != "REGIONAL" && type != "PRIVATE") {
          co_return gateway_error(
              bad_request(fmt::format("Invalid endpoint type specified: {}. Allowed values are "
                                      "EDGE, REGIONAL and PRIVATE",
                                      type)),
              request_id);
        }
      }
      api.endpoint_types = *types;
    }
  }
  api.name = *name;
  api.binary_media_types = binary_types.value_or(std::vector<std::string>{});
  api.tags = tags.value_or(std::map<std::string, std::string>{});
  api.created_date = now_iso();

  auto guard = co_await mutations_.lock();
  api.id = registry_.new_id(10);
  RestResource root;
  root.id = random_id(10);
  root.path = "/";
  api.root_resource_id = root.id;
  api.resources[root.id] = std::move(root);
  json::object response = rest_api_json(api);
  std::string id = api.id;
  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), id, request_id);
  LOG_INFO("apigateway", "rest_api_created", "api_id={} request_id={}", id, request_id);
  co_return gateway_json(201, response, request_id);
}

Task<http::Response> ControlService::update_rest_api(const std::string& api_id,
                                                     const http::Request& request,
                                                     const std::string& request_id) {
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  auto operations = parse_patch_operations(*body);
  if (!operations) co_return gateway_error(operations.error(), request_id);

  auto guard = co_await mutations_.lock();
  auto current = registry_.rest_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  RestApi api = *current;
  for (const auto& operation : *operations) {
    const std::string& path = operation.path;
    if (operation.op == "replace" && path == "/name") {
      api.name = operation.value;
    } else if (operation.op == "replace" && path == "/description") {
      api.description = operation.value;
    } else if (operation.op == "replace" && path == "/version") {
      api.version = operation.value;
    } else if (operation.op == "replace" && path == "/disableExecuteApiEndpoint") {
      api.disable_execute_api_endpoint = operation.value == "true";
    } else if ((operation.op == "add" || operation.op == "remove") &&
               path.starts_with("/binaryMediaTypes/")) {
      // JSON Pointer escapes '/' in the media type as "~1".
      std::string type = path.substr(std::string_view("/binaryMediaTypes/").size());
      for (std::size_t at = type.find("~1"); at != std::string::npos; at = type.find("~1", at)) {
        type.replace(at, 2, "/");
      }
      std::erase(api.binary_media_types, type);
      if (operation.op == "add") api.binary_media_types.push_back(type);
    } else {
      co_return gateway_error(
          bad_request(fmt::format(
              "Invalid patch path {} specified for op '{}'. Lambent supports replace on /name, "
              "/description, /version and /disableExecuteApiEndpoint, and add or remove on "
              "/binaryMediaTypes/TYPE",
              path, operation.op)),
          request_id);
    }
  }
  json::object response = rest_api_json(api);
  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(200, response, request_id);
}

Task<http::Response> ControlService::v1_resources(const std::string& api_id,
                                                  const http::Request& request,
                                                  const std::string& request_id,
                                                  const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (segments.size() > 4) {
    co_return unsupported_operation(method, request.path(), request_id);
  }
  if (method == "GET") {
    auto api = registry_.rest_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    bool embed = wants_embedded_methods(request);
    if (segments.size() == 3) {
      auto page = parse_v1_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [id, resource] : api->resources) {
        entries.emplace_back(id, resource_json(resource, embed));
      }
      co_return gateway_json(200, page_of(std::move(entries), *page, kV1Page), request_id);
    }
    auto it = api->resources.find(segments[3]);
    if (it == api->resources.end()) co_return gateway_error(resource_not_found(), request_id);
    co_return gateway_json(200, resource_json(it->second, embed), request_id);
  }
  if (segments.size() != 4 || (method != "POST" && method != "DELETE")) {
    co_return unsupported_operation(method, request.path(), request_id,
                                    "UpdateResource is not implemented");
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  auto guard = co_await mutations_.lock();
  auto current = registry_.rest_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  RestApi api = *current;
  auto target = api.resources.find(segments[3]);
  if (target == api.resources.end()) co_return gateway_error(resource_not_found(), request_id);

  if (method == "DELETE") {
    if (target->first == api.root_resource_id) {
      co_return gateway_error(bad_request("Root resource cannot be deleted"), request_id);
    }
    for (const auto& id : subtree(api.resources, target->first)) api.resources.erase(id);
    auto stored = co_await registry_.put_rest_api(std::move(api));
    if (!stored) co_return store_failed(stored.error(), api_id, request_id);
    co_return gateway_empty(202, request_id);
  }

  // CreateResource: POST /restapis/{id}/resources/{parent_id}.
  const RestResource& parent = target->second;
  std::optional<std::string> path_part;
  if (auto read = BodyFields(*body).text("pathPart", path_part); !read) {
    co_return gateway_error(read.error(), request_id);
  }
  if (!path_part || path_part->empty()) {
    co_return gateway_error(bad_request("Invalid path part specified: pathPart is required"),
                            request_id);
  }
  if (auto checked = check_path_part(*path_part); !checked) {
    co_return gateway_error(checked.error(), request_id);
  }
  if (is_greedy(parent.path_part)) {
    co_return gateway_error(
        bad_request(fmt::format("Cannot create a child of a resource with a greedy path "
                                "variable: {}",
                                parent.path_part)),
        request_id);
  }
  for (const auto& [id, sibling] : api.resources) {
    if (sibling.parent_id != parent.id) continue;
    if (sibling.path_part == *path_part) {
      co_return gateway_error(
          conflict("Another resource with the same parent already has this name: " + *path_part),
          request_id);
    }
    if (is_variable(sibling.path_part) && is_variable(*path_part)) {
      co_return gateway_error(
          bad_request(fmt::format("A sibling ({}) of this resource already has a variable path "
                                  "part -- only one is allowed",
                                  id)),
          request_id);
    }
  }
  RestResource resource;
  resource.id = unused_id(api.resources, 6);
  resource.parent_id = parent.id;
  resource.path_part = *path_part;
  resource.path = parent.path == "/" ? "/" + *path_part : parent.path + "/" + *path_part;
  json::object response = resource_json(resource, false);
  api.resources[resource.id] = std::move(resource);
  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(201, response, request_id);
}

// Methods, method responses, integrations and integration responses:
//   .../resources/{rid}/methods/{m}                       PutMethod, GetMethod, DeleteMethod
//   .../resources/{rid}/methods/{m}/responses/{code}      Put/Get/DeleteMethodResponse
//   .../resources/{rid}/methods/{m}/integration           Put/Get/DeleteIntegration
//   .../resources/{rid}/methods/{m}/integration/responses/{code}
Task<http::Response> ControlService::v1_methods(const std::string& api_id,
                                                const std::string& resource_id,
                                                const http::Request& request,
                                                const std::string& request_id,
                                                const std::vector<std::string>& segments) {
  const std::string& verb = request.method;
  enum class Target { method, method_response, integration, integration_response };
  Target target;
  std::string status_code;
  if (segments.size() == 6) {
    target = Target::method;
  } else if (segments.size() == 8 && segments[6] == "responses") {
    target = Target::method_response;
    status_code = segments[7];
  } else if (segments.size() == 7 && segments[6] == "integration") {
    target = Target::integration;
  } else if (segments.size() == 9 && segments[6] == "integration" && segments[7] == "responses") {
    target = Target::integration_response;
    status_code = segments[8];
  } else {
    co_return unsupported_operation(verb, request.path(), request_id);
  }
  bool reading = verb == "GET";
  bool patching = verb == "PATCH" && (target == Target::method || target == Target::integration);
  if (!reading && !patching && verb != "PUT" && verb != "DELETE") {
    co_return unsupported_operation(
        verb, request.path(), request_id,
        "UpdateMethodResponse and UpdateIntegrationResponse are not implemented");
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  std::optional<AsyncMutex::Guard> guard;
  if (!reading) guard.emplace(co_await mutations_.lock());
  auto current = registry_.rest_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  RestApi api = *current;
  auto resource_it = api.resources.find(resource_id);
  if (resource_it == api.resources.end()) co_return gateway_error(resource_not_found(), request_id);
  RestResource& resource = resource_it->second;
  auto http_method = check_http_method(segments[5]);
  if (!http_method) co_return gateway_error(http_method.error(), request_id);
  if (!status_code.empty()) {
    if (auto checked = check_status_code(status_code); !checked) {
      co_return gateway_error(checked.error(), request_id);
    }
  }

  auto method_it = resource.methods.find(*http_method);
  unsigned status = 200;
  json::object response;
  if (target == Target::method && verb == "PUT") {
    if (method_it != resource.methods.end()) {
      co_return gateway_error(conflict("Method already exists for this resource"), request_id);
    }
    RestMethod method;
    method.http_method = *http_method;
    std::optional<std::string> authorization;
    std::optional<std::map<std::string, bool>> parameters;
    std::optional<std::map<std::string, std::string>> models;
    for (auto read : {fields.text("authorizationType", authorization),
                      fields.boolean("apiKeyRequired", method.api_key_required),
                      fields.text("operationName", method.operation_name),
                      fields.bool_map("requestParameters", parameters),
                      fields.string_map("requestModels", models)}) {
      if (!read) co_return gateway_error(read.error(), request_id);
    }
    if (!authorization) {
      co_return gateway_error(
          bad_request("Enumeration value for AuthorizationType must be non-empty"), request_id);
    }
    if (*authorization != "NONE") {
      co_return gateway_error(
          bad_request(fmt::format("Lambent supports authorizationType NONE only; {} "
                                  "authorization is not implemented",
                                  *authorization)),
          request_id);
    }
    if (method.api_key_required) {
      co_return gateway_error(bad_request("Lambent does not implement API keys; apiKeyRequired "
                                          "must be false"),
                              request_id);
    }
    if (fields.has("authorizerId") || fields.has("requestValidatorId")) {
      co_return gateway_error(bad_request("Lambent does not implement authorizers or request "
                                          "validators; remove authorizerId and "
                                          "requestValidatorId"),
                              request_id);
    }
    method.authorization_type = *authorization;
    method.request_parameters = parameters.value_or(std::map<std::string, bool>{});
    method.request_models = models.value_or(std::map<std::string, std::string>{});
    response = method_json(method);
    resource.methods[method.http_method] = std::move(method);
    status = 201;
  } else {
    if (method_it == resource.methods.end())
      co_return gateway_error(method_not_found(), request_id);
    RestMethod& method = method_it->second;
    switch (target) {
      case Target::method:
        if (reading) co_return gateway_json(200, method_json(method), request_id);
        if (patching) {
          auto operations = parse_patch_operations(*body);
          if (!operations) co_return gateway_error(operations.error(), request_id);
          if (auto patched = patch_method(*operations, method); !patched) {
            co_return gateway_error(patched.error(), request_id);
          }
          response = method_json(method);
          break;
        }
        resource.methods.erase(method_it);
        status = 204;
        break;
      case Target::method_response: {
        auto it = method.method_responses.find(status_code);
        if (reading || verb == "DELETE") {
          if (it == method.method_responses.end()) {
            co_return gateway_error(response_not_found(), request_id);
          }
          if (reading) co_return gateway_json(200, method_response_json(it->second), request_id);
          method.method_responses.erase(it);
          status = 204;
          break;
        }
        RestMethodResponse entry;
        entry.status_code = status_code;
        std::optional<std::map<std::string, bool>> parameters;
        std::optional<std::map<std::string, std::string>> models;
        for (auto read : {fields.bool_map("responseParameters", parameters),
                          fields.string_map("responseModels", models)}) {
          if (!read) co_return gateway_error(read.error(), request_id);
        }
        entry.response_parameters = parameters.value_or(std::map<std::string, bool>{});
        entry.response_models = models.value_or(std::map<std::string, std::string>{});
        response = method_response_json(entry);
        method.method_responses[status_code] = std::move(entry);
        status = 201;
        break;
      }
      case Target::integration:
        if (patching) {
          if (!method.integration) co_return gateway_error(integration_not_found(), request_id);
          auto operations = parse_patch_operations(*body);
          if (!operations) co_return gateway_error(operations.error(), request_id);
          if (auto patched = patch_integration(*operations, *method.integration); !patched) {
            co_return gateway_error(patched.error(), request_id);
          }
          response = integration_json(*method.integration);
          break;
        }
        if (reading || verb == "DELETE") {
          if (!method.integration) co_return gateway_error(integration_not_found(), request_id);
          if (reading)
            co_return gateway_json(200, integration_json(*method.integration), request_id);
          method.integration.reset();
          status = 204;
          break;
        } else {
          RestIntegration integration;
          if (auto applied = apply_integration(fields, resource, integration); !applied) {
            co_return gateway_error(applied.error(), request_id);
          }
          response = integration_json(integration);
          method.integration = std::move(integration);
          status = 201;
        }
        break;
      case Target::integration_response: {
        if (!method.integration) co_return gateway_error(integration_not_found(), request_id);
        auto& responses = method.integration->integration_responses;
        auto it = responses.find(status_code);
        if (reading || verb == "DELETE") {
          if (it == responses.end()) co_return gateway_error(response_not_found(), request_id);
          if (reading) {
            co_return gateway_json(200, integration_response_json(it->second), request_id);
          }
          responses.erase(it);
          status = 204;
          break;
        }
        RestIntegrationResponse entry;
        entry.status_code = status_code;
        std::optional<std::map<std::string, std::string>> parameters, templates;
        for (auto read : {fields.text("selectionPattern", entry.selection_pattern),
                          fields.string_map("responseParameters", parameters),
                          fields.string_map("responseTemplates", templates),
                          fields.text("contentHandling", entry.content_handling)}) {
          if (!read) co_return gateway_error(read.error(), request_id);
        }
        entry.response_parameters = parameters.value_or(std::map<std::string, std::string>{});
        entry.response_templates = templates.value_or(std::map<std::string, std::string>{});
        response = integration_response_json(entry);
        responses[status_code] = std::move(entry);
        status = 201;
        break;
      }
    }
  }

  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  if (status == 204) co_return gateway_empty(204, request_id);
  co_return gateway_json(status, response, request_id);
}

}  // namespace lambent::services::apigateway
