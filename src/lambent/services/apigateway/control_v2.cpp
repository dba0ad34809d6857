#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/control_v2_shapes.h"

#include "lambent/base/log.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <set>

// The apigatewayv2 operations on APIs, routes and integrations. Stages and deployments are in
// control_v2_stages.cpp, tags in control_tags.cpp.
namespace lambent::services::apigateway {

namespace json = boost::json;

namespace v2 {

namespace {

json::array string_array(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

json::object string_object(const std::map<std::string, std::string>& values) {
  json::object out;
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

}  // namespace

json::object cors_json(const CorsConfig& cors) {
  json::object out;
  if (cors.allow_credentials) out["allowCredentials"] = true;
  if (!cors.allow_headers.empty()) out["allowHeaders"] = string_array(cors.allow_headers);
  if (!cors.allow_methods.empty()) out["allowMethods"] = string_array(cors.allow_methods);
  if (!cors.allow_origins.empty()) out["allowOrigins"] = string_array(cors.allow_origins);
  if (!cors.expose_headers.empty()) out["exposeHeaders"] = string_array(cors.expose_headers);
  if (cors.max_age) out["maxAge"] = *cors.max_age;
  return out;
}

json::object api_json(const HttpApi& api, const std::string& endpoint) {
  json::object out{{"apiEndpoint", endpoint},
                   {"apiId", api.id},
                   {"apiKeySelectionExpression", api.api_key_selection_expression},
                   {"createdDate", api.created_date},
                   {"disableExecuteApiEndpoint", api.disable_execute_api_endpoint},
                   {"name", api.name},
                   {"protocolType", api.protocol_type},
                   {"routeSelectionExpression", api.route_selection_expression},
                   {"tags", string_object(api.tags)}};
  if (api.cors) out["corsConfiguration"] = cors_json(*api.cors);
  if (!api.description.empty()) out["description"] = api.description;
  if (!api.version.empty()) out["version"] = api.version;
  return out;
}

json::object route_json(const HttpRoute& route) {
  json::object out{{"apiKeyRequired", route.api_key_required},
                   {"authorizationType", route.authorization_type},
                   {"routeId", route.id},
                   {"routeKey", route.route_key}};
  if (route.api_gateway_managed) out["apiGatewayManaged"] = true;
  if (!route.operation_name.empty()) out["operationName"] = route.operation_name;
  if (!route.target.empty()) out["target"] = route.target;
  return out;
}

json::object integration_json(const HttpIntegration& integration) {
  json::object out{{"connectionType", integration.connection_type},
                   {"integrationId", integration.id},
                   {"integrationMethod", integration.integration_method},
                   {"integrationType", integration.integration_type},
                   {"integrationUri", integration.integration_uri},
                   {"payloadFormatVersion", integration.payload_format_version},
                   {"timeoutInMillis", integration.timeout_ms}};
  if (integration.api_gateway_managed) out["apiGatewayManaged"] = true;
  if (!integration.description.empty()) out["description"] = integration.description;
  return out;
}

namespace {

json::object route_settings_json(const ThrottleSettings& throttle) {
  json::object out{{"detailedMetricsEnabled", false}};
  if (throttle.burst_limit) out["throttlingBurstLimit"] = *throttle.burst_limit;
  if (throttle.rate_limit) out["throttlingRateLimit"] = *throttle.rate_limit;
  return out;
}

}  // namespace

json::object stage_json(const HttpStage& stage) {
  json::object route_settings;
  for (const auto& [key, throttle] : stage.route_throttles) {
    route_settings[key] = route_settings_json(throttle);
  }
  json::object out{{"createdDate", stage.created_date},
                   {"defaultRouteSettings", route_settings_json(stage.default_route_throttle)},
                   {"lastUpdatedDate", stage.last_updated_date},
                   {"routeSettings", std::move(route_settings)},
                   {"stageName", stage.name},
                   {"stageVariables", string_object(stage.stage_variables)},
                   {"tags", json::object()}};
  // AWS leaves autoDeploy out while it is false.
  if (stage.auto_deploy) out["autoDeploy"] = true;
  if (stage.api_gateway_managed) out["apiGatewayManaged"] = true;
  if (!stage.deployment_id.empty()) out["deploymentId"] = stage.deployment_id;
  if (!stage.description.empty()) out["description"] = stage.description;
  if (stage.auto_deploy && !stage.deployment_id.empty()) {
    out["lastDeploymentStatusMessage"] =
        fmt::format("Successfully deployed stage with deployment ID '{}'", stage.deployment_id);
  }
  return out;
}

json::object deployment_json(const HttpDeployment& deployment) {
  json::object out{{"autoDeployed", deployment.auto_deployed},
                   {"createdDate", deployment.created_date},
                   {"deploymentId", deployment.id},
                   {"deploymentStatus", "DEPLOYED"}};
  if (!deployment.description.empty()) out["description"] = deployment.description;
  return out;
}

Error api_not_found(std::string_view account_id, std::string_view api_id) {
  return not_found(fmt::format("Invalid API identifier specified {}:{}", account_id, api_id));
}

Error stage_not_found(std::string_view stage_name) {
  return not_found(fmt::format("Invalid stage identifier specified {}", stage_name));
}

void auto_deploy(HttpApi& api, const std::string& now) {
  bool any_auto = false;
  for (const auto& [name, stage] : api.stages) any_auto = any_auto || stage.auto_deploy;
  if (!any_auto || api.live.routes.empty()) return;

  HttpDeployment deployment;
  deployment.id = unused_id(api.deployments, 6);
  deployment.description = "Automatic deployment triggered by changes to the Api configuration";
  deployment.created_date = now;
  deployment.auto_deployed = true;
  deployment.snapshot = std::make_shared<const HttpRouteSet>(api.live);
  std::set<std::string> in_use;
  for (auto& [name, stage] : api.stages) {
    if (stage.auto_deploy) {
      stage.deployment_id = deployment.id;
      stage.last_updated_date = now;
    }
    in_use.insert(stage.deployment_id);
  }
  api.deployments[deployment.id] = std::move(deployment);
  std::erase_if(api.deployments, [&](const auto& entry) {
    return entry.second.auto_deployed && !in_use.contains(entry.first);
  });
}

namespace {

constexpr std::string_view kUnsupportedAuthorization =
    "Lambent supports authorizationType NONE only; {} authorization is not implemented";

Result<CorsConfig> parse_cors(const json::object& object) {
  BodyFields fields(object);
  CorsConfig cors;
  std::optional<std::vector<std::string>> origins, methods, headers, expose;
  std::optional<bool> credentials;
  std::optional<std::int64_t> max_age;
  for (auto status :
       {fields.strings("allowOrigins", origins), fields.strings("allowMethods", methods),
        fields.strings("allowHeaders", headers), fields.strings("exposeHeaders", expose),
        fields.boolean("allowCredentials", credentials), fields.integer("maxAge", max_age)}) {
    if (!status) return std::move(status).error();
  }

  static const std::set<std::string, std::less<>> kMethods = {"GET",    "POST", "PUT",     "PATCH",
                                                              "DELETE", "HEAD", "OPTIONS", "*"};
  for (const auto& method : methods.value_or(std::vector<std::string>{})) {
    if (!kMethods.contains(method)) {
      return bad_request(fmt::format(
          "Invalid CORS allowMethods value specified: {}. Allowed values are GET, POST, PUT, "
          "PATCH, DELETE, HEAD, OPTIONS and *",
          method));
    }
  }
  if (max_age && (*max_age < -1 || *max_age > 86400)) {
    return bad_request(fmt::format(
        "Invalid CORS maxAge specified: {}. It must be between -1 and 86400 seconds", *max_age));
  }
  cors.allow_origins = origins.value_or(std::vector<std::string>{});
  cors.allow_methods = methods.value_or(std::vector<std::string>{});
  cors.allow_headers = headers.value_or(std::vector<std::string>{});
  cors.expose_headers = expose.value_or(std::vector<std::string>{});
  cors.allow_credentials = credentials.value_or(false);
  cors.max_age = max_age;
  return cors;
}

// HTTP APIs have one route selection expression. The model documents it with braces and AWS
// returns it without them, so both spellings are accepted.
bool is_http_route_selection(const std::string& expression) {
  return expression == "$request.method $request.path" ||
         expression == "${request.method} ${request.path}";
}

Status check_authorization(const BodyFields& fields, HttpRoute& route) {
  std::optional<std::string> authorization;
  if (auto read = fields.text("authorizationType", authorization); !read) return read;
  if (authorization) {
    static const std::set<std::string, std::less<>> kKnown = {"NONE", "AWS_IAM", "CUSTOM", "JWT"};
    if (!kKnown.contains(*authorization)) {
      return bad_request(fmt::format(
          "Invalid authorization type specified: {}. Allowed values are NONE, AWS_IAM, CUSTOM "
          "and JWT",
          *authorization));
    }
    if (*authorization != "NONE") {
      return bad_request(fmt::format(fmt::runtime(kUnsupportedAuthorization), *authorization));
    }
    route.authorization_type = *authorization;
  }
  if (fields.has("authorizerId")) {
    return bad_request("Lambent does not implement authorizers; remove authorizerId");
  }
  std::optional<bool> api_key_required;
  if (auto read = fields.boolean("apiKeyRequired", api_key_required); !read) return read;
  if (api_key_required.value_or(false)) {
    return bad_request("API keys are not supported for HTTP APIs; apiKeyRequired must be false");
  }
  return ok_status();
}

// Checks a route key against the API's other routes. `route_id` is the route being changed,
// empty for a new one.
Status check_route_key(const HttpApi& api, const std::string& route_key,
                       const std::string& route_id) {
  if (auto valid = validate_route_key(route_key); !valid) return valid;
  std::vector<std::string> others;
  for (const auto& [id, route] : api.live.routes) {
    if (id == route_id) continue;
    if (route.route_key == route_key) {
      return conflict(fmt::format("Route with key {} already exists for this API", route_key));
    }
    others.push_back(route.route_key);
  }
  return check_route_variables(route_key, others);
}

Status check_route_target(const HttpApi& api, const std::string& target) {
  constexpr std::string_view kPrefix = "integrations/";
  if (target.starts_with(kPrefix) &&
      api.live.integrations.contains(target.substr(kPrefix.size()))) {
    return ok_status();
  }
  return bad_request(fmt::format(
      "Invalid target specified: {}. A route target is integrations/INTEGRATION_ID, naming an "
      "integration of this API",
      target));
}

// Applies the integration fields of a CreateIntegration or UpdateIntegration body.
Status apply_integration_fields(const BodyFields& fields, HttpIntegration& integration,
                                bool creating) {
  std::optional<std::string> type, uri, method, payload, connection, description;
  std::optional<std::int64_t> timeout;
  for (auto status :
       {fields.text("integrationType", type), fields.text("integrationUri", uri),
        fields.text("integrationMethod", method), fields.text("payloadFormatVersion", payload),
        fields.text("connectionType", connection), fields.text("description", description),
        fields.integer("timeoutInMillis", timeout)}) {
    if (!status) return std::move(status).error();
  }
  if (creating && !type) return bad_request("IntegrationType is required");
  if (type) {
    static const std::set<std::string, std::less<>> kTypes = {"AWS", "HTTP", "MOCK", "HTTP_PROXY",
                                                              "AWS_PROXY"};
    if (!kTypes.contains(*type)) {
      return bad_request(
          fmt::format("Invalid integration type specified: {}. Allowed values are AWS, HTTP, MOCK, "
                      "HTTP_PROXY and AWS_PROXY",
                      *type));
    }
    if (*type != "AWS_PROXY") {
      return bad_request(fmt::format(
          "Lambent supports integrationType AWS_PROXY (Lambda proxy) only; {} integrations are "
          "not implemented",
          *type));
    }
    integration.integration_type = *type;
  }
  if (creating && !uri) return bad_request("IntegrationUri is required for AWS_PROXY integrations");
  if (uri) {
    auto target = parse_lambda_uri(*uri, UriForm::function_arn_or_invocation);
    if (!target) return std::move(target).error();
    integration.integration_uri = *uri;
    integration.target = std::move(target).value();
  }
  // HTTP APIs require the payload format on every integration they create.
  if (creating && !payload) {
    return bad_request(
        "PayloadFormatVersion is required for HTTP APIs. Lambda proxy integrations support "
        "1.0 and 2.0");
  }
  if (payload) {
    if (*payload != "1.0" && *payload != "2.0") {
      return bad_request(fmt::format(
          "Invalid payload format version specified: {}. Lambda proxy integrations support 1.0 "
          "and 2.0",
          *payload));
    }
    integration.payload_format_version = *payload;
  }
  if (timeout) {
    if (*timeout < 50 || *timeout > 30000) {
      return bad_request(fmt::format(
          "Invalid timeoutInMillis specified: {}. It must be between 50 and 30000 milliseconds",
          *timeout));
    }
    integration.timeout_ms = *timeout;
  }
  if (connection) {
    if (*connection != "INTERNET") {
      return bad_request(fmt::format(
          "Lambent supports connectionType INTERNET only; {} is not implemented", *connection));
    }
    integration.connection_type = *connection;
  }
  if (method) integration.integration_method = *method;
  if (description) integration.description = *description;
  for (std::string_view unsupported :
       {"requestParameters", "responseParameters", "requestTemplates", "tlsConfig", "connectionId",
        "integrationSubtype"}) {
    if (fields.has(unsupported)) {
      return bad_request(
          fmt::format("Lambent does not implement {} on integrations; remove it", unsupported));
    }
  }
  return ok_status();
}

HttpIntegration quick_create_integration(const HttpApi& api, const std::string& uri,
                                         LambdaTarget target) {
  HttpIntegration integration;
  integration.id = unused_id(api.live.integrations, 7);
  integration.integration_uri = uri;
  integration.target = std::move(target);
  integration.payload_format_version = "2.0";
  integration.api_gateway_managed = true;
  return integration;
}

}  // namespace

}  // namespace v2

using namespace v2;

Task<http::Response> ControlService::handle_v2(const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (segments.size() == 2 && segments[1] == "apis") {
    if (method == "POST") co_return co_await create_api(request, request_id);
    if (method == "GET") co_return get_apis(request, request_id);
  } else if (segments.size() >= 3 && segments[1] == "apis") {
    const std::string& api_id = segments[2];
    if (segments.size() == 3) {
      if (method == "GET") {
        auto api = registry_.http_api(api_id);
        if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
        co_return gateway_json(200, api_json(*api, api_endpoint(api_id)), request_id);
      }
      if (method == "PATCH") co_return co_await update_api(api_id, request, request_id);
      if (method == "DELETE") co_return co_await delete_api(api_id, request_id);
    } else {
      const std::string& collection = segments[3];
      if (collection == "routes") {
        co_return co_await v2_routes(api_id, request, request_id, segments);
      }
      if (collection == "integrations") {
        co_return co_await v2_integrations(api_id, request, request_id, segments);
      }
      if (collection == "stages") {
        co_return co_await v2_stages(api_id, request, request_id, segments);
      }
      if (collection == "deployments") {
        co_return co_await v2_deployments(api_id, request, request_id, segments);
      }
      if (collection == "cors" && segments.size() == 4 && method == "DELETE") {
        co_return co_await delete_cors(api_id, request_id);
      }
    }
  }
  co_return unsupported_operation(method, request.path(), request_id);
}

Task<http::Response> ControlService::create_api(const http::Request& request,
                                                const std::string& request_id) {
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);

  HttpApi api;
  std::optional<std::string> name, protocol, target, route_key, selection, api_key_selection;
  std::optional<std::map<std::string, std::string>> tags;
  for (auto status :
       {fields.text("name", name), fields.text("protocolType", protocol),
        fields.text("description", api.description), fields.text("version", api.version),
        fields.text("target", target), fields.text("routeKey", route_key),
        fields.text("routeSelectionExpression", selection),
        fields.text("apiKeySelectionExpression", api_key_selection),
        fields.boolean("disableExecuteApiEndpoint", api.disable_execute_api_endpoint),
        fields.string_map("tags", tags)}) {
    if (!status) co_return gateway_error(status.error(), request_id);
  }
  if (!name || name->empty() || name->size() > 128) {
    co_return gateway_error(bad_request("Name is required and must be 1 to 128 characters"),
                            request_id);
  }
  if (!protocol) co_return gateway_error(bad_request("ProtocolType is required"), request_id);
  if (*protocol == "WEBSOCKET") {
    co_return gateway_error(
        bad_request("Lambent supports protocolType HTTP only; WEBSOCKET APIs are not implemented"),
        request_id);
  }
  if (*protocol != "HTTP") {
    co_return gateway_error(
        bad_request("Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]"), request_id);
  }
  if (selection && !is_http_route_selection(*selection)) {
    co_return gateway_error(
        bad_request(fmt::format("Invalid routeSelectionExpression specified: {}. HTTP APIs use "
                                "$request.method $request.path",
                                *selection)),
        request_id);
  }
  if (api_key_selection) api.api_key_selection_expression = *api_key_selection;
  auto cors = fields.object("corsConfiguration");
  if (!cors) co_return gateway_error(cors.error(), request_id);
  if (*cors) {
    auto parsed = parse_cors(**cors);
    if (!parsed) co_return gateway_error(parsed.error(), request_id);
    api.cors = std::move(parsed).value();
  }
  if (route_key && !target) {
    co_return gateway_error(bad_request("RouteKey is supported only with Target (quick create)"),
                            request_id);
  }
  api.name = *name;
  api.tags = tags.value_or(std::map<std::string, std::string>{});
  api.created_date = now_iso();

  if (target) {
    // Quick create: a Lambda proxy integration, one route to it and an automatically deployed
    // $default stage.
    auto parsed = parse_lambda_uri(*target, UriForm::function_arn_or_invocation);
    if (!parsed) co_return gateway_error(parsed.error(), request_id);
    std::string key = route_key.value_or("$default");
    if (auto valid = validate_route_key(key); !valid)
      co_return gateway_error(valid.error(), request_id);
    HttpIntegration integration = quick_create_integration(api, *target, std::move(parsed).value());
    HttpRoute route;
    route.id = unused_id(api.live.routes, 7);
    route.route_key = key;
    route.target = "integrations/" + integration.id;
    route.api_gateway_managed = true;
    api.live.integrations[integration.id] = std::move(integration);
    api.live.routes[route.id] = std::move(route);
    HttpStage stage;
    stage.name = "$default";
    stage.auto_deploy = true;
    stage.api_gateway_managed = true;
    stage.created_date = api.created_date;
    stage.last_updated_date = api.created_date;
    api.stages[stage.name] = std::move(stage);
    auto_deploy(api, api.created_date);
  }

  auto guard = co_await mutations_.lock();
  api.id = registry_.new_id(10);
  json::object response = api_json(api, api_endpoint(api.id));
  std::string id = api.id;
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), id, request_id);
  LOG_INFO("apigateway", "http_api_created", "api_id={} request_id={}", id, request_id);
  co_return gateway_json(201, response, request_id);
}

http::Response ControlService::get_apis(const http::Request& request,
                                        const std::string& request_id) {
  auto page = parse_v2_page(request);
  if (!page) return gateway_error(page.error(), request_id);
  std::vector<std::pair<std::string, json::value>> entries;
  for (const auto& api : registry_.http_apis()) {
    entries.emplace_back(api->id, api_json(*api, api_endpoint(api->id)));
  }
  return gateway_json(200, page_of(std::move(entries), *page, kV2Page), request_id);
}

Task<http::Response> ControlService::update_api(const std::string& api_id,
                                                const http::Request& request,
                                                const std::string& request_id) {
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);

  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;

  std::optional<std::string> name, target, route_key, selection;
  for (auto status :
       {fields.text("name", name), fields.text("description", api.description),
        fields.text("version", api.version), fields.text("target", target),
        fields.text("routeKey", route_key), fields.text("routeSelectionExpression", selection),
        fields.text("apiKeySelectionExpression", api.api_key_selection_expression),
        fields.boolean("disableExecuteApiEndpoint", api.disable_execute_api_endpoint)}) {
    if (!status) co_return gateway_error(status.error(), request_id);
  }
  if (name) {
    if (name->empty() || name->size() > 128) {
      co_return gateway_error(bad_request("Name must be 1 to 128 characters"), request_id);
    }
    api.name = *name;
  }
  if (selection && !is_http_route_selection(*selection)) {
    co_return gateway_error(
        bad_request(fmt::format("Invalid routeSelectionExpression specified: {}. HTTP APIs use "
                                "$request.method $request.path",
                                *selection)),
        request_id);
  }
  auto cors = fields.object("corsConfiguration");
  if (!cors) co_return gateway_error(cors.error(), request_id);
  if (*cors) {
    auto parsed = parse_cors(**cors);
    if (!parsed) co_return gateway_error(parsed.error(), request_id);
    api.cors = std::move(parsed).value();
  }

  bool routes_changed = false;
  if (target || route_key) {
    // Target and RouteKey change what quick create made.
    HttpRoute* managed_route = nullptr;
    for (auto& [id, route] : api.live.routes) {
      if (route.api_gateway_managed) managed_route = &route;
    }
    HttpIntegration* managed_integration = nullptr;
    for (auto& [id, integration] : api.live.integrations) {
      if (integration.api_gateway_managed) managed_integration = &integration;
    }
    if (managed_route == nullptr || managed_integration == nullptr) {
      co_return gateway_error(
          bad_request("Target and RouteKey can be updated only on an API made by quick create "
                      "(CreateApi with Target)"),
          request_id);
    }
    if (target) {
      auto parsed = parse_lambda_uri(*target, UriForm::function_arn_or_invocation);
      if (!parsed) co_return gateway_error(parsed.error(), request_id);
      managed_integration->integration_uri = *target;
      managed_integration->target = std::move(parsed).value();
    }
    if (route_key) {
      auto checked = check_route_key(api, *route_key, managed_route->id);
      if (!checked) co_return gateway_error(checked.error(), request_id);
      managed_route->route_key = *route_key;
    }
    routes_changed = true;
  }
  if (routes_changed) auto_deploy(api, now_iso());

  json::object response = api_json(api, api_endpoint(api_id));
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(200, response, request_id);
}

Task<http::Response> ControlService::delete_api(const std::string& api_id,
                                                const std::string& request_id) {
  auto guard = co_await mutations_.lock();
  if (!registry_.http_api(api_id)) {
    co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  }
  auto removed = co_await registry_.remove_http_api(api_id);
  if (!removed) co_return store_failed(removed.error(), api_id, request_id);
  LOG_INFO("apigateway", "http_api_deleted", "api_id={} request_id={}", api_id, request_id);
  co_return gateway_empty(204, request_id);
}

Task<http::Response> ControlService::delete_cors(const std::string& api_id,
                                                 const std::string& request_id) {
  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;
  api.cors.reset();
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_empty(204, request_id);
}

Task<http::Response> ControlService::v2_routes(const std::string& api_id,
                                               const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (segments.size() > 5) {
    co_return unsupported_operation(method, request.path(), request_id,
                                    "route responses and request parameters are not implemented");
  }
  if (method == "GET") {
    auto api = registry_.http_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 4) {
      auto page = parse_v2_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [id, route] : api->live.routes) entries.emplace_back(id, route_json(route));
      co_return gateway_json(200, page_of(std::move(entries), *page, kV2Page), request_id);
    }
    auto it = api->live.routes.find(segments[4]);
    if (it == api->live.routes.end()) {
      co_return gateway_error(not_found("Invalid Route identifier specified " + segments[4]),
                              request_id);
    }
    co_return gateway_json(200, route_json(it->second), request_id);
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;

  HttpRoute route;
  unsigned status = 200;
  if (segments.size() == 4 && method == "POST") {
    route.id = unused_id(api.live.routes, 7);
    status = 201;
  } else if (segments.size() == 5 && (method == "PATCH" || method == "DELETE")) {
    auto it = api.live.routes.find(segments[4]);
    if (it == api.live.routes.end()) {
      co_return gateway_error(not_found("Invalid Route identifier specified " + segments[4]),
                              request_id);
    }
    route = it->second;
    if (method == "DELETE") {
      api.live.routes.erase(it);
      for (auto& [name, stage] : api.stages) stage.route_throttles.erase(route.route_key);
      auto_deploy(api, now_iso());
      auto stored = co_await registry_.put_http_api(std::move(api));
      if (!stored) co_return store_failed(stored.error(), api_id, request_id);
      co_return gateway_empty(204, request_id);
    }
  } else {
    co_return gateway_error(
        Error{Errc::not_implemented,
              fmt::format("{} {} is not an API Gateway operation", method, request.path())},
        request_id);
  }

  std::optional<std::string> route_key, target;
  for (auto read : {fields.text("routeKey", route_key), fields.text("target", target),
                    fields.text("operationName", route.operation_name)}) {
    if (!read) co_return gateway_error(read.error(), request_id);
  }
  if (auto checked = check_authorization(fields, route); !checked) {
    co_return gateway_error(checked.error(), request_id);
  }
  if (status == 201 && !route_key) {
    co_return gateway_error(bad_request("RouteKey is required"), request_id);
  }
  for (std::string_view unsupported :
       {"requestParameters", "requestModels", "authorizationScopes"}) {
    if (fields.has(unsupported)) {
      co_return gateway_error(
          bad_request(
              fmt::format("Lambent does not implement {} on routes; remove it", unsupported)),
          request_id);
    }
  }
  if (route_key && *route_key != route.route_key) {
    auto checked = check_route_key(api, *route_key, route.id);
    if (!checked) co_return gateway_error(checked.error(), request_id);
    for (auto& [name, stage] : api.stages) {
      // Route settings follow their route's key.
      auto node = stage.route_throttles.extract(route.route_key);
      if (!node.empty()) {
        node.key() = *route_key;
        stage.route_throttles.insert(std::move(node));
      }
    }
    route.route_key = *route_key;
  }
  if (target) {
    if (!target->empty()) {
      auto checked = check_route_target(api, *target);
      if (!checked) co_return gateway_error(checked.error(), request_id);
    }
    route.target = *target;
  }

  json::object response = route_json(route);
  api.live.routes[route.id] = std::move(route);
  auto_deploy(api, now_iso());
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(status, response, request_id);
}

Task<http::Response> ControlService::v2_integrations(const std::string& api_id,
                                                     const http::Request& request,
                                                     const std::string& request_id,
                                                     const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (segments.size() > 5) {
    co_return unsupported_operation(method, request.path(), request_id,
                                    "integration responses are not implemented");
  }
  auto integration_not_found = [](const std::string& id) {
    return not_found("Invalid Integration identifier specified " + id);
  };
  if (method == "GET") {
    auto api = registry_.http_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 4) {
      auto page = parse_v2_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [id, integration] : api->live.integrations) {
        entries.emplace_back(id, integration_json(integration));
      }
      co_return gateway_json(200, page_of(std::move(entries), *page, kV2Page), request_id);
    }
    auto it = api->live.integrations.find(segments[4]);
    if (it == api->live.integrations.end()) {
      co_return gateway_error(integration_not_found(segments[4]), request_id);
    }
    co_return gateway_json(200, integration_json(it->second), request_id);
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;

  HttpIntegration integration;
  bool creating = false;
  if (segments.size() == 4 && method == "POST") {
    integration.id = unused_id(api.live.integrations, 7);
    creating = true;
  } else if (segments.size() == 5 && (method == "PATCH" || method == "DELETE")) {
    auto it = api.live.integrations.find(segments[4]);
    if (it == api.live.integrations.end()) {
      co_return gateway_error(integration_not_found(segments[4]), request_id);
    }
    if (method == "DELETE") {
      std::string target = "integrations/" + it->first;
      for (const auto& [id, route] : api.live.routes) {
        if (route.target == target) {
          co_return gateway_error(
              conflict(fmt::format("Integration {} cannot be deleted because route {} ({}) "
                                   "targets it; change or delete the route first",
                                   it->first, id, route.route_key)),
              request_id);
        }
      }
      api.live.integrations.erase(it);
      auto_deploy(api, now_iso());
      auto stored = co_await registry_.put_http_api(std::move(api));
      if (!stored) co_return store_failed(stored.error(), api_id, request_id);
      co_return gateway_empty(204, request_id);
    }
    integration = it->second;
  } else {
    co_return gateway_error(
        Error{Errc::not_implemented,
              fmt::format("{} {} is not an API Gateway operation", method, request.path())},
        request_id);
  }

  if (auto applied = apply_integration_fields(fields, integration, creating); !applied) {
    co_return gateway_error(applied.error(), request_id);
  }
  json::object response = integration_json(integration);
  api.live.integrations[integration.id] = std::move(integration);
  auto_deploy(api, now_iso());
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(creating ? 201 : 200, response, request_id);
}

}  // namespace lambent::services::apigateway
