#include "lambent/services/apigateway/codec.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

// Version of the document layout, stored in every document so a later layout can tell old
// documents apart.
constexpr std::int64_t kFormat = 1;

// ---- encoding ----

json::object encode_string_map(const std::map<std::string, std::string>& values) {
  json::object out;
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

json::object encode_bool_map(const std::map<std::string, bool>& values) {
  json::object out;
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

json::array encode_strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

json::object encode_throttle(const ThrottleSettings& throttle) {
  json::object out;
  if (throttle.rate_limit) out["rate_limit"] = *throttle.rate_limit;
  if (throttle.burst_limit) out["burst_limit"] = *throttle.burst_limit;
  return out;
}

json::object encode_target(const LambdaTarget& target) {
  json::object out{{"function_name", target.function_name}};
  if (target.qualifier) out["qualifier"] = *target.qualifier;
  // Written only when set, so documents from before stage variables stay as they were.
  if (target.uses_stage_variables) out["uses_stage_variables"] = true;
  return out;
}

json::object encode_cors(const CorsConfig& cors) {
  json::object out{{"allow_origins", encode_strings(cors.allow_origins)},
                   {"allow_methods", encode_strings(cors.allow_methods)},
                   {"allow_headers", encode_strings(cors.allow_headers)},
                   {"expose_headers", encode_strings(cors.expose_headers)},
                   {"allow_credentials", cors.allow_credentials}};
  if (cors.max_age) out["max_age"] = *cors.max_age;
  return out;
}

json::object encode_route_set(const HttpRouteSet& set) {
  json::array routes;
  for (const auto& [id, route] : set.routes) {
    routes.push_back(json::object{{"id", route.id},
                                  {"route_key", route.route_key},
                                  {"target", route.target},
                                  {"authorization_type", route.authorization_type},
                                  {"api_key_required", route.api_key_required},
                                  {"operation_name", route.operation_name},
                                  {"api_gateway_managed", route.api_gateway_managed}});
  }
  json::array integrations;
  for (const auto& [id, integration] : set.integrations) {
    integrations.push_back(
        json::object{{"id", integration.id},
                     {"integration_type", integration.integration_type},
                     {"integration_uri", integration.integration_uri},
                     {"integration_method", integration.integration_method},
                     {"payload_format_version", integration.payload_format_version},
                     {"timeout_ms", integration.timeout_ms},
                     {"connection_type", integration.connection_type},
                     {"description", integration.description},
                     {"api_gateway_managed", integration.api_gateway_managed},
                     {"target", encode_target(integration.target)}});
  }
  return json::object{{"routes", std::move(routes)}, {"integrations", std::move(integrations)}};
}

json::object encode_http_stage(const HttpStage& stage) {
  json::object route_throttles;
  for (const auto& [key, throttle] : stage.route_throttles) {
    route_throttles[key] = encode_throttle(throttle);
  }
  return json::object{{"name", stage.name},
                      {"description", stage.description},
                      {"auto_deploy", stage.auto_deploy},
                      {"deployment_id", stage.deployment_id},
                      {"stage_variables", encode_string_map(stage.stage_variables)},
                      {"default_route_throttle", encode_throttle(stage.default_route_throttle)},
                      {"route_throttles", std::move(route_throttles)},
                      {"created_date", stage.created_date},
                      {"last_updated_date", stage.last_updated_date},
                      {"api_gateway_managed", stage.api_gateway_managed}};
}

json::object encode_http_deployment(const HttpDeployment& deployment) {
  json::object out{{"id", deployment.id},
                   {"description", deployment.description},
                   {"created_date", deployment.created_date},
                   {"auto_deployed", deployment.auto_deployed}};
  if (deployment.snapshot) out["snapshot"] = encode_route_set(*deployment.snapshot);
  return out;
}

json::object encode_rest_integration(const RestIntegration& integration) {
  json::object responses;
  for (const auto& [status, response] : integration.integration_responses) {
    responses[status] =
        json::object{{"status_code", response.status_code},
                     {"selection_pattern", response.selection_pattern},
                     {"response_parameters", encode_string_map(response.response_parameters)},
                     {"response_templates", encode_string_map(response.response_templates)},
                     {"content_handling", response.content_handling}};
  }
  return json::object{{"type", integration.type},
                      {"http_method", integration.http_method},
                      {"uri", integration.uri},
                      {"timeout_ms", integration.timeout_ms},
                      {"passthrough_behavior", integration.passthrough_behavior},
                      {"connection_type", integration.connection_type},
                      {"cache_namespace", integration.cache_namespace},
                      {"cache_key_parameters", encode_strings(integration.cache_key_parameters)},
                      {"request_parameters", encode_string_map(integration.request_parameters)},
                      {"request_templates", encode_string_map(integration.request_templates)},
                      {"content_handling", integration.content_handling},
                      {"integration_responses", std::move(responses)},
                      {"target", encode_target(integration.target)}};
}

json::object encode_rest_method(const RestMethod& method) {
  json::object responses;
  for (const auto& [status, response] : method.method_responses) {
    responses[status] =
        json::object{{"status_code", response.status_code},
                     {"response_parameters", encode_bool_map(response.response_parameters)},
                     {"response_models", encode_string_map(response.response_models)}};
  }
  json::object out{{"http_method", method.http_method},
                   {"authorization_type", method.authorization_type},
                   {"api_key_required", method.api_key_required},
                   {"operation_name", method.operation_name},
                   {"request_parameters", encode_bool_map(method.request_parameters)},
                   {"request_models", encode_string_map(method.request_models)},
                   {"method_responses", std::move(responses)}};
  if (method.integration) out["integration"] = encode_rest_integration(*method.integration);
  return out;
}

json::array encode_resource_tree(const RestResourceTree& tree) {
  json::array out;
  for (const auto& [id, resource] : tree) {
    json::array methods;
    for (const auto& [name, method] : resource.methods)
      methods.push_back(encode_rest_method(method));
    out.push_back(json::object{{"id", resource.id},
                               {"parent_id", resource.parent_id},
                               {"path_part", resource.path_part},
                               {"path", resource.path},
                               {"methods", std::move(methods)}});
  }
  return out;
}

// ---- decoding ----

// Reads fields of one JSON object and remembers the first problem, named by its path in the
// document ("stages[1].name"). A missing optional field keeps the value it had, so documents
// written before a field existed still load. A field of the wrong type is always an error.
class Fields {
 public:
  Fields(const json::value* value, std::string where, std::string& error)
      : where_(std::move(where)), error_(error) {
    if (value == nullptr || !value->is_object()) {
      fail("", "an object");
      return;
    }
    object_ = &value->as_object();
  }

  bool ok() const { return error_.empty(); }
  const std::string& where() const { return where_; }

  void text(std::string_view key, std::string& out, bool required = false) {
    const json::value* value = find(key, required);
    if (value == nullptr) return;
    if (!value->is_string()) return fail(key, "a string");
    out = std::string(value->as_string());
  }

  void optional_text(std::string_view key, std::optional<std::string>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_string()) return fail(key, "a string");
    out = std::string(value->as_string());
  }

  void boolean(std::string_view key, bool& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_bool()) return fail(key, "a boolean");
    out = value->as_bool();
  }

  void integer(std::string_view key, std::int64_t& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_int64()) return fail(key, "an integer");
    out = value->as_int64();
  }

  void optional_integer(std::string_view key, std::optional<std::int64_t>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_int64()) return fail(key, "an integer");
    out = value->as_int64();
  }

  void optional_number(std::string_view key, std::optional<double>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (value->is_double()) {
      out = value->as_double();
    } else if (value->is_int64()) {
      out = static_cast<double>(value->as_int64());
    } else {
      fail(key, "a number");
    }
  }

  void strings(std::string_view key, std::vector<std::string>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_array()) return fail(key, "an array of strings");
    std::vector<std::string> items;
    for (const auto& item : value->as_array()) {
      if (!item.is_string()) return fail(key, "an array of strings");
      items.emplace_back(item.as_string());
    }
    out = std::move(items);
  }

  void string_map(std::string_view key, std::map<std::string, std::string>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_object()) return fail(key, "an object of strings");
    std::map<std::string, std::string> items;
    for (const auto& [name, item] : value->as_object()) {
      if (!item.is_string()) return fail(key, "an object of strings");
      items.emplace(std::string(name), std::string(item.as_string()));
    }
    out = std::move(items);
  }

  void bool_map(std::string_view key, std::map<std::string, bool>& out) {
    const json::value* value = find(key, false);
    if (value == nullptr) return;
    if (!value->is_object()) return fail(key, "an object of booleans");
    std::map<std::string, bool> items;
    for (const auto& [name, item] : value->as_object()) {
      if (!item.is_bool()) return fail(key, "an object of booleans");
      items.emplace(std::string(name), item.as_bool());
    }
    out = std::move(items);
  }

  // Returns the array at `key`, or null (an error when required or not an array).
  const json::array* array(std::string_view key, bool required = false) {
    const json::value* value = find(key, required);
    if (value == nullptr) return nullptr;
    if (!value->is_array()) {
      fail(key, "an array");
      return nullptr;
    }
    return &value->as_array();
  }

  // Returns the object at `key`, or null (an error when required or not an object).
  const json::object* object(std::string_view key, bool required = false) {
    const json::value* value = find(key, required);
    if (value == nullptr) return nullptr;
    if (!value->is_object()) {
      fail(key, "an object");
      return nullptr;
    }
    return &value->as_object();
  }

  const json::value* raw(std::string_view key) const {
    return object_ == nullptr ? nullptr : object_->if_contains(key);
  }

  std::string path(std::string_view key) const {
    return where_.empty() ? std::string(key) : fmt::format("{}.{}", where_, key);
  }

 private:
  const json::value* find(std::string_view key, bool required) {
    if (object_ == nullptr || !ok()) return nullptr;
    const json::value* value = object_->if_contains(key);
    if (value == nullptr && required) fail(key, "present");
    return value;
  }

  void fail(std::string_view key, std::string_view expected) {
    if (!error_.empty()) return;
    std::string name = path(key);
    if (key.empty()) name = where_.empty() ? "document" : where_;
    error_ = fmt::format("{} must be {}", name, expected);
  }

  const json::object* object_ = nullptr;
  std::string where_;
  std::string& error_;
};

std::string item_path(const Fields& parent, std::string_view key, std::size_t index) {
  return fmt::format("{}[{}]", parent.path(key), index);
}

ThrottleSettings decode_throttle(const json::value* value, std::string where, std::string& error) {
  ThrottleSettings out;
  if (value == nullptr) return out;
  Fields fields(value, std::move(where), error);
  fields.optional_number("rate_limit", out.rate_limit);
  fields.optional_integer("burst_limit", out.burst_limit);
  return out;
}

LambdaTarget decode_target(const json::value* value, std::string where, std::string& error) {
  LambdaTarget out;
  if (value == nullptr) return out;
  Fields fields(value, std::move(where), error);
  fields.text("function_name", out.function_name);
  fields.optional_text("qualifier", out.qualifier);
  fields.boolean("uses_stage_variables", out.uses_stage_variables);
  return out;
}

CorsConfig decode_cors(const json::value* value, std::string where, std::string& error) {
  CorsConfig out;
  Fields fields(value, std::move(where), error);
  fields.strings("allow_origins", out.allow_origins);
  fields.strings("allow_methods", out.allow_methods);
  fields.strings("allow_headers", out.allow_headers);
  fields.strings("expose_headers", out.expose_headers);
  fields.boolean("allow_credentials", out.allow_credentials);
  fields.optional_integer("max_age", out.max_age);
  return out;
}

HttpRouteSet decode_route_set(const json::value* value, std::string where, std::string& error) {
  HttpRouteSet out;
  Fields set(value, std::move(where), error);
  if (const json::array* routes = set.array("routes")) {
    for (std::size_t i = 0; i < routes->size() && error.empty(); ++i) {
      HttpRoute route;
      Fields fields(&(*routes)[i], item_path(set, "routes", i), error);
      fields.text("id", route.id, true);
      fields.text("route_key", route.route_key, true);
      fields.text("target", route.target);
      fields.text("authorization_type", route.authorization_type);
      fields.boolean("api_key_required", route.api_key_required);
      fields.text("operation_name", route.operation_name);
      fields.boolean("api_gateway_managed", route.api_gateway_managed);
      out.routes[route.id] = std::move(route);
    }
  }
  if (const json::array* integrations = set.array("integrations")) {
    for (std::size_t i = 0; i < integrations->size() && error.empty(); ++i) {
      HttpIntegration integration;
      Fields fields(&(*integrations)[i], item_path(set, "integrations", i), error);
      fields.text("id", integration.id, true);
      fields.text("integration_type", integration.integration_type);
      fields.text("integration_uri", integration.integration_uri);
      fields.text("integration_method", integration.integration_method);
      fields.text("payload_format_version", integration.payload_format_version);
      fields.integer("timeout_ms", integration.timeout_ms);
      fields.text("connection_type", integration.connection_type);
      fields.text("description", integration.description);
      fields.boolean("api_gateway_managed", integration.api_gateway_managed);
      integration.target = decode_target(fields.raw("target"), fields.path("target"), error);
      out.integrations[integration.id] = std::move(integration);
    }
  }
  return out;
}

HttpStage decode_http_stage(const json::value* value, std::string where, std::string& error) {
  HttpStage stage;
  Fields fields(value, std::move(where), error);
  fields.text("name", stage.name, true);
  fields.text("description", stage.description);
  fields.boolean("auto_deploy", stage.auto_deploy);
  fields.text("deployment_id", stage.deployment_id);
  fields.string_map("stage_variables", stage.stage_variables);
  stage.default_route_throttle = decode_throttle(fields.raw("default_route_throttle"),
                                                 fields.path("default_route_throttle"), error);
  if (const json::object* throttles = fields.object("route_throttles")) {
    for (const auto& [key, throttle] : *throttles) {
      stage.route_throttles[std::string(key)] =
          decode_throttle(&throttle, fields.path("route_throttles." + std::string(key)), error);
    }
  }
  fields.text("created_date", stage.created_date);
  fields.text("last_updated_date", stage.last_updated_date);
  fields.boolean("api_gateway_managed", stage.api_gateway_managed);
  return stage;
}

HttpDeployment decode_http_deployment(const json::value* value, std::string where,
                                      std::string& error) {
  HttpDeployment deployment;
  Fields fields(value, std::move(where), error);
  fields.text("id", deployment.id, true);
  fields.text("description", deployment.description);
  fields.text("created_date", deployment.created_date);
  fields.boolean("auto_deployed", deployment.auto_deployed);
  if (const json::value* snapshot = fields.raw("snapshot")) {
    deployment.snapshot = std::make_shared<const HttpRouteSet>(
        decode_route_set(snapshot, fields.path("snapshot"), error));
  }
  return deployment;
}

RestIntegration decode_rest_integration(const json::value* value, std::string where,
                                        std::string& error) {
  RestIntegration integration;
  Fields fields(value, std::move(where), error);
  fields.text("type", integration.type);
  fields.text("http_method", integration.http_method);
  fields.text("uri", integration.uri);
  fields.integer("timeout_ms", integration.timeout_ms);
  fields.text("passthrough_behavior", integration.passthrough_behavior);
  fields.text("connection_type", integration.connection_type);
  fields.text("cache_namespace", integration.cache_namespace);
  fields.strings("cache_key_parameters", integration.cache_key_parameters);
  fields.string_map("request_parameters", integration.request_parameters);
  fields.string_map("request_templates", integration.request_templates);
  fields.text("content_handling", integration.content_handling);
  if (const json::object* responses = fields.object("integration_responses")) {
    for (const auto& [status, item] : *responses) {
      RestIntegrationResponse response;
      Fields entry(&item, fields.path("integration_responses." + std::string(status)), error);
      entry.text("status_code", response.status_code, true);
      entry.text("selection_pattern", response.selection_pattern);
      entry.string_map("response_parameters", response.response_parameters);
      entry.string_map("response_templates", response.response_templates);
      entry.text("content_handling", response.content_handling);
      integration.integration_responses[std::string(status)] = std::move(response);
    }
  }
  integration.target = decode_target(fields.raw("target"), fields.path("target"), error);
  return integration;
}

RestMethod decode_rest_method(const json::value* value, std::string where, std::string& error) {
  RestMethod method;
  Fields fields(value, std::move(where), error);
  fields.text("http_method", method.http_method, true);
  fields.text("authorization_type", method.authorization_type);
  fields.boolean("api_key_required", method.api_key_required);
  fields.text("operation_name", method.operation_name);
  fields.bool_map("request_parameters", method.request_parameters);
  fields.string_map("request_models", method.request_models);
  if (const json::object* responses = fields.object("method_responses")) {
    for (const auto& [status, item] : *responses) {
      RestMethodResponse response;
      Fields entry(&item, fields.path("method_responses." + std::string(status)), error);
      entry.text("status_code", response.status_code, true);
      entry.bool_map("response_parameters", response.response_parameters);
      entry.string_map("response_models", response.response_models);
      method.method_responses[std::string(status)] = std::move(response);
    }
  }
  if (const json::value* integration = fields.raw("integration")) {
    method.integration = decode_rest_integration(integration, fields.path("integration"), error);
  }
  return method;
}

RestResourceTree decode_resource_tree(const json::array& resources, const std::string& where,
                                      std::string& error) {
  RestResourceTree tree;
  for (std::size_t i = 0; i < resources.size() && error.empty(); ++i) {
    RestResource resource;
    Fields fields(&resources[i], fmt::format("{}[{}]", where, i), error);
    fields.text("id", resource.id, true);
    fields.text("parent_id", resource.parent_id);
    fields.text("path_part", resource.path_part);
    fields.text("path", resource.path, true);
    if (const json::array* methods = fields.array("methods")) {
      for (std::size_t m = 0; m < methods->size() && error.empty(); ++m) {
        RestMethod method =
            decode_rest_method(&(*methods)[m], item_path(fields, "methods", m), error);
        resource.methods[method.http_method] = std::move(method);
      }
    }
    tree[resource.id] = std::move(resource);
  }
  return tree;
}

// Parses the document and checks its format number; fills `error` on failure.
json::value parse_document(std::string_view document, std::string_view kind, std::string& error) {
  boost::system::error_code ec;
  json::value value = json::parse(document, ec);
  if (ec) {
    error = fmt::format("{} document is not valid JSON: {}", kind, ec.message());
    return nullptr;
  }
  if (!value.is_object()) {
    error = fmt::format("{} document must be a JSON object", kind);
    return nullptr;
  }
  const json::value* format = value.as_object().if_contains("format");
  if (format == nullptr || !format->is_int64() || format->as_int64() != kFormat) {
    error = fmt::format("{} document has an unknown format (expected format {})", kind, kFormat);
    return nullptr;
  }
  return value;
}

}  // namespace

std::string encode_http_api(const HttpApi& api) {
  json::object document{{"format", kFormat},
                        {"id", api.id},
                        {"name", api.name},
                        {"description", api.description},
                        {"version", api.version},
                        {"protocol_type", api.protocol_type},
                        {"route_selection_expression", api.route_selection_expression},
                        {"api_key_selection_expression", api.api_key_selection_expression},
                        {"disable_execute_api_endpoint", api.disable_execute_api_endpoint},
                        {"created_date", api.created_date},
                        {"tags", encode_string_map(api.tags)},
                        {"live", encode_route_set(api.live)}};
  if (api.cors) document["cors"] = encode_cors(*api.cors);
  json::array stages;
  for (const auto& [name, stage] : api.stages) stages.push_back(encode_http_stage(stage));
  document["stages"] = std::move(stages);
  json::array deployments;
  for (const auto& [id, deployment] : api.deployments) {
    deployments.push_back(encode_http_deployment(deployment));
  }
  document["deployments"] = std::move(deployments);
  return json::serialize(document);
}

Result<HttpApi> decode_http_api(std::string_view document) {
  std::string error;
  json::value value = parse_document(document, "HTTP API", error);
  if (!error.empty()) return make_error(Errc::internal, std::move(error));

  HttpApi api;
  Fields fields(&value, "", error);
  fields.text("id", api.id, true);
  fields.text("name", api.name);
  fields.text("description", api.description);
  fields.text("version", api.version);
  fields.text("protocol_type", api.protocol_type);
  fields.text("route_selection_expression", api.route_selection_expression);
  fields.text("api_key_selection_expression", api.api_key_selection_expression);
  fields.boolean("disable_execute_api_endpoint", api.disable_execute_api_endpoint);
  fields.text("created_date", api.created_date);
  fields.string_map("tags", api.tags);
  if (const json::value* cors = fields.raw("cors")) api.cors = decode_cors(cors, "cors", error);
  if (const json::value* live = fields.raw("live"))
    api.live = decode_route_set(live, "live", error);
  if (const json::array* stages = fields.array("stages")) {
    for (std::size_t i = 0; i < stages->size() && error.empty(); ++i) {
      HttpStage stage = decode_http_stage(&(*stages)[i], item_path(fields, "stages", i), error);
      api.stages[stage.name] = std::move(stage);
    }
  }
  if (const json::array* deployments = fields.array("deployments")) {
    for (std::size_t i = 0; i < deployments->size() && error.empty(); ++i) {
      HttpDeployment deployment =
          decode_http_deployment(&(*deployments)[i], item_path(fields, "deployments", i), error);
      api.deployments[deployment.id] = std::move(deployment);
    }
  }
  if (!error.empty()) return make_error(Errc::internal, "HTTP API document: " + error);
  return api;
}

std::string encode_rest_api(const RestApi& api) {
  json::object document{{"format", kFormat},
                        {"id", api.id},
                        {"name", api.name},
                        {"description", api.description},
                        {"version", api.version},
                        {"created_date", api.created_date},
                        {"api_key_source", api.api_key_source},
                        {"endpoint_types", encode_strings(api.endpoint_types)},
                        {"binary_media_types", encode_strings(api.binary_media_types)},
                        {"disable_execute_api_endpoint", api.disable_execute_api_endpoint},
                        {"tags", encode_string_map(api.tags)},
                        {"root_resource_id", api.root_resource_id},
                        {"resources", encode_resource_tree(api.resources)}};
  json::array deployments;
  for (const auto& [id, deployment] : api.deployments) {
    json::object entry{{"id", deployment.id},
                       {"description", deployment.description},
                       {"created_date", deployment.created_date}};
    if (deployment.snapshot) entry["snapshot"] = encode_resource_tree(*deployment.snapshot);
    deployments.push_back(std::move(entry));
  }
  document["deployments"] = std::move(deployments);
  json::array stages;
  for (const auto& [name, stage] : api.stages) {
    stages.push_back(json::object{{"name", stage.name},
                                  {"deployment_id", stage.deployment_id},
                                  {"description", stage.description},
                                  {"variables", encode_string_map(stage.variables)},
                                  {"throttle", encode_throttle(stage.throttle)},
                                  {"created_date", stage.created_date},
                                  {"last_updated_date", stage.last_updated_date}});
  }
  document["stages"] = std::move(stages);
  return json::serialize(document);
}

Result<RestApi> decode_rest_api(std::string_view document) {
  std::string error;
  json::value value = parse_document(document, "REST API", error);
  if (!error.empty()) return make_error(Errc::internal, std::move(error));

  RestApi api;
  Fields fields(&value, "", error);
  fields.text("id", api.id, true);
  fields.text("name", api.name);
  fields.text("description", api.description);
  fields.text("version", api.version);
  fields.text("created_date", api.created_date);
  fields.text("api_key_source", api.api_key_source);
  fields.strings("endpoint_types", api.endpoint_types);
  fields.strings("binary_media_types", api.binary_media_types);
  fields.boolean("disable_execute_api_endpoint", api.disable_execute_api_endpoint);
  fields.string_map("tags", api.tags);
  fields.text("root_resource_id", api.root_resource_id, true);
  if (const json::array* resources = fields.array("resources", true)) {
    api.resources = decode_resource_tree(*resources, "resources", error);
  }
  if (const json::array* deployments = fields.array("deployments")) {
    for (std::size_t i = 0; i < deployments->size() && error.empty(); ++i) {
      RestDeployment deployment;
      Fields entry(&(*deployments)[i], item_path(fields, "deployments", i), error);
      entry.text("id", deployment.id, true);
      entry.text("description", deployment.description);
      entry.text("created_date", deployment.created_date);
      if (const json::array* snapshot = entry.array("snapshot")) {
        deployment.snapshot = std::make_shared<const RestResourceTree>(
            decode_resource_tree(*snapshot, entry.path("snapshot"), error));
      }
      api.deployments[deployment.id] = std::move(deployment);
    }
  }
  if (const json::array* stages = fields.array("stages")) {
    for (std::size_t i = 0; i < stages->size() && error.empty(); ++i) {
      RestStage stage;
      Fields entry(&(*stages)[i], item_path(fields, "stages", i), error);
      entry.text("name", stage.name, true);
      entry.text("deployment_id", stage.deployment_id);
      entry.text("description", stage.description);
      entry.string_map("variables", stage.variables);
      stage.throttle = decode_throttle(entry.raw("throttle"), entry.path("throttle"), error);
      entry.text("created_date", stage.created_date);
      entry.text("last_updated_date", stage.last_updated_date);
      api.stages[stage.name] = std::move(stage);
    }
  }
  if (!error.empty()) return make_error(Errc::internal, "REST API document: " + error);
  return api;
}

}  // namespace lambent::services::apigateway
