#include "lambent/services/apigateway/gateway.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/apigateway/cors.h"
#include "lambent/services/apigateway/responses.h"
#include "lambent/services/apigateway/stage_variables.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

constexpr std::string_view kIntegrationPrefix = "integrations/";

// An HTTP API's error: `{"message":...}` with its request id header.
http::Response http_api_error(unsigned status, std::string_view message,
                              std::string_view request_id) {
  http::Response response;
  response.status = status;
  response.header("Content-Type", "application/json");
  response.header("apigw-requestid", std::string(request_id));
  response.body = json::serialize(json::object{{"message", message}});
  return response;
}

// A REST API's gateway response: `{"message":...}` with its error type header.
http::Response rest_api_error(unsigned status, std::string_view message, std::string_view type,
                              std::string_view request_id) {
  http::Response response;
  response.status = status;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", std::string(type));
  response.body = json::serialize(json::object{{"message", message}});
  return response;
}

http::Response not_found(std::string_view request_id) {
  return http_api_error(404, "Not Found", request_id);
}

http::Response missing_token(std::string_view request_id) {
  return rest_api_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException",
                        request_id);
}

// The extendedRequestId of an event: 11 random bytes in base64, like API Gateway's
// "BQGojGq_vHcFjkA=".
std::string make_extended_request_id() {
  std::string hex = random_hex(11);
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return base64_encode(bytes);
}

CallStatus status_for(const Error& error) {
  switch (error.code) {
    case Errc::not_found:
      return CallStatus::not_found;
    case Errc::throttled:
      return CallStatus::throttled;
    default:
      return CallStatus::failure;
  }
}

}  // namespace

struct Gateway::Call {
  explicit Call(asio::any_io_executor executor) : done(std::move(executor)) {}
  Event done;
  std::optional<Result<runtime::InvokeResult>> result;
};

struct Gateway::Outcome {
  CallStatus status = CallStatus::failure;
  std::string payload;
};

namespace {

// Runs one invocation in the gateway's task group and reports it through `call`, which the
// waiting request shares, so the invocation may outlive the request that started it.
template <typename CallState>
Task<void> run_call(invoke::Invoker* invoker, std::shared_ptr<const runtime::FunctionSpec> spec,
                    runtime::InvokeRequest invocation, std::shared_ptr<CallState> call) {
  auto result = co_await invoker->invoke(std::move(spec), std::move(invocation));
  call->result.emplace(std::move(result));
  call->done.set();
}

}  // namespace

Gateway::Gateway(Registry& registry, invoke::Invoker& invoker, asio::any_io_executor executor,
                 GatewayOptions options, Throttle::Clock clock)
    : registry_(registry),
      invoker_(invoker),
      executor_(executor),
      options_(std::move(options)),
      throttle_(std::move(clock)),
      last_prune_(std::chrono::steady_clock::now()),
      calls_(executor, "apigateway_calls") {}

Gateway::~Gateway() { calls_.stop(); }

void Gateway::stop() { calls_.stop(); }

http::Response Gateway::body_too_large(const http::Request& head, const ApiAddress& address) const {
  if (registry_.rest_api(address.api_id)) {
    // Observed from API Gateway for a REST API: a plain-text body, not a gateway response.
    http::Response response;
    response.status = 413;
    response.header("Content-Type", "text; charset=utf-8");
    response.header("x-amzn-RequestId", head.id);
    response.body = "HTTP content length exceeded 10485760 bytes.";
    response.close = true;
    return response;
  }
  auto response = http_api_error(413, "Request Entity Too Large", head.id);
  response.close = true;
  return response;
}

Task<http::Response> Gateway::handle(http::Request& request, ApiAddress address) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_prune_ > std::chrono::minutes(1)) {
    throttle_.prune(std::chrono::minutes(10));
    last_prune_ = now;
  }
  if (auto api = registry_.http_api(address.api_id)) {
    co_return co_await handle_http_api(request, std::move(address), std::move(api));
  }
  if (auto api = registry_.rest_api(address.api_id)) {
    co_return co_await handle_rest_api(request, std::move(address), std::move(api));
  }
  LOG_DEBUG("apigateway", "unknown_api", "request_id={} api_id={}", request.id, address.api_id);
  co_return not_found(request.id);
}

namespace {

// Request facts every event carries: host, time, trace header and the extended request id.
struct RequestFacts {
  std::string domain_name;
  std::string domain_prefix;
  std::string extended_request_id;
  std::string trace_header;
  std::int64_t time_epoch_ms = 0;
};

// Also gives the request the X-Amzn-Trace-Id header that API Gateway adds when the client sent
// none ("Root=1-{epoch seconds in hex}-{24 hex digits}"), so the event carries it.
RequestFacts request_facts(http::Request& request) {
  RequestFacts facts;
  facts.trace_header = std::string(request.header("x-amzn-trace-id"));
  if (facts.trace_header.empty()) {
    facts.trace_header = fmt::format("Root=1-{:08x}-{}", epoch_ms() / 1000, random_hex(12));
    request.headers.emplace_back("x-amzn-trace-id", facts.trace_header);
  }
  facts.domain_name = std::string(host_without_port(request.header("host")));
  facts.domain_prefix = facts.domain_name.substr(0, facts.domain_name.find('.'));
  facts.extended_request_id = make_extended_request_id();
  facts.time_epoch_ms = epoch_ms();
  return facts;
}

}  // namespace

Task<http::Response> Gateway::handle_http_api(http::Request& request, ApiAddress address,
                                              std::shared_ptr<const HttpApi> api) {
  const std::string request_id = request.id;
  // A deactivated default endpoint gives 404 on HTTP APIs (403 on REST APIs), as AWS documents.
  if (api->disable_execute_api_endpoint) co_return not_found(request_id);

  // A first segment naming a stage selects it; any other path goes to the $default stage.
  auto [first, after_first] = split_first_segment(address.path);
  const HttpStage* stage = nullptr;
  std::string route_path = address.path;
  if (auto it = api->stages.find(std::string(first));
      !first.empty() && first != "$default" && it != api->stages.end()) {
    stage = &it->second;
    route_path = std::string(after_first);
  } else if (auto fallback = api->stages.find("$default"); fallback != api->stages.end()) {
    stage = &fallback->second;
  }
  if (!stage) co_return not_found(request_id);

  // HTTP APIs respond to CORS preflights themselves, whatever routes exist.
  if (api->cors) {
    auto preflight = cors_preflight(*api->cors, request);
    if (preflight) {
      preflight->header("apigw-requestid", request_id);
      co_return std::move(*preflight);
    }
  }
  auto finish = [&](http::Response response) {
    if (api->cors) apply_cors(*api->cors, request, response);
    return response;
  };

  auto router = routers_.http(registry_.generation(), api, *stage);
  if (!router) co_return finish(not_found(request_id));
  auto match = router->match(request.method, route_path);
  if (!match) co_return finish(not_found(request_id));
  const HttpRoute& route = *match->route;

  const HttpIntegration* integration = nullptr;
  if (route.target.starts_with(kIntegrationPrefix)) {
    auto it = router->routes().integrations.find(route.target.substr(kIntegrationPrefix.size()));
    if (it != router->routes().integrations.end()) integration = &it->second;
  }
  if (!integration) {
    // NOTE: a route without an integration gets 404, as a request that no route matches does.
    co_return finish(not_found(request_id));
  }
  if (integration->integration_type != "AWS_PROXY" || integration->target.function_name.empty()) {
    LOG_WARN("apigateway", "integration_unsupported",
             "request_id={} api_id={} integration={} type={}", request_id, api->id, integration->id,
             integration->integration_type);
    co_return finish(http_api_error(500, "Internal Server Error", request_id));
  }

  const ThrottleSettings* route_override = nullptr;
  if (auto it = stage->route_throttles.find(route.route_key); it != stage->route_throttles.end()) {
    route_override = &it->second;
  }
  if (!throttle_.try_acquire(api->id, stage->name, route.route_key,
                             effective_throttle(stage->default_route_throttle, route_override))) {
    co_return finish(http_api_error(429, "Too Many Requests", request_id));
  }

  RequestFacts facts = request_facts(request);
  std::string route_key_path;
  if (route.route_key == "$default") {
    route_key_path = "$default";
  } else {
    route_key_path = route.route_key.substr(route.route_key.find(' ') + 1);
  }
  EventContext context;
  context.front = Front::http_api;
  context.account_id = options_.account_id;
  context.api_id = api->id;
  context.domain_name = facts.domain_name;
  context.domain_prefix = facts.domain_prefix;
  context.stage = stage->name;
  context.route_key = route.route_key;
  context.resource_path = route_key_path;
  context.path = route_path;
  context.stage_path = address.path;
  context.request_id = request_id;
  context.extended_request_id = facts.extended_request_id;
  context.source_ip = request.remote_address;
  context.time_epoch_ms = facts.time_epoch_ms;
  context.path_parameters = &match->path_parameters;
  context.stage_variables = &stage->stage_variables;

  PayloadFormat format =
      integration->payload_format_version == "1.0" ? PayloadFormat::v1 : PayloadFormat::v2;
  std::string event = format == PayloadFormat::v1 ? build_event_v1(request, context)
                                                  : build_event_v2(request, context);
  if (event.size() > kMaxEventBytes) {
    co_return finish(http_api_error(413, "Request Entity Too Large", request_id));
  }

  auto target = resolve_stage_variables(integration->target, stage->stage_variables);
  if (!target) {
    LOG_DEBUG("apigateway", "stage_variables_unresolved", "request_id={} stage={} error=\"{}\"",
              request_id, stage->name, target.error().message);
    co_return finish(
        build_response(Front::http_api, format, CallStatus::failure, {}, request_id));
  }
  auto outcome = co_await call_function(std::move(*target), std::move(event), request_id,
                                        facts.trace_header, integration->timeout_ms);
  co_return finish(build_response(Front::http_api, format, outcome.status,
                                  std::move(outcome.payload), request_id));
}

Task<http::Response> Gateway::handle_rest_api(http::Request& request, ApiAddress address,
                                              std::shared_ptr<const RestApi> api) {
  const std::string request_id = request.id;
  auto forbidden = [&] {
    return rest_api_error(403, "Forbidden", "ForbiddenException", request_id);
  };
  if (api->disable_execute_api_endpoint) co_return forbidden();

  // REST APIs always have the stage as the first segment.
  auto [stage_name, route_path] = split_first_segment(address.path);
  auto stage_it = api->stages.find(std::string(stage_name));
  if (stage_name.empty() || stage_it == api->stages.end()) co_return forbidden();
  const RestStage& stage = stage_it->second;

  auto router = routers_.rest(registry_.generation(), *api, stage);
  if (!router) co_return missing_token(request_id);
  auto match = router->match(request.method, route_path);
  if (!match) co_return missing_token(request_id);
  const RestResource& resource = *match->resource;
  const RestMethod& method = *match->method;

  if (!method.integration || method.integration->type != "AWS_PROXY" ||
      method.integration->target.function_name.empty()) {
    LOG_WARN("apigateway", "integration_unsupported",
             "request_id={} api_id={} resource={} method={}", request_id, api->id, resource.id,
             method.http_method);
    http::Response failed = rest_api_error(500, "", "InternalServerErrorException", request_id);
    failed.body = R"({"message": "Internal server error"})";
    co_return failed;
  }
  const RestIntegration& integration = *method.integration;

  std::string throttle_key = method.http_method + " " + resource.path;
  if (!throttle_.try_acquire(api->id, stage.name, throttle_key, stage.throttle)) {
    co_return rest_api_error(429, "Too Many Requests", "TooManyRequestsException", request_id);
  }

  RequestFacts facts = request_facts(request);
  EventContext context;
  context.front = Front::rest_api;
  context.account_id = options_.account_id;
  context.api_id = api->id;
  context.domain_name = facts.domain_name;
  context.domain_prefix = facts.domain_prefix;
  context.stage = stage.name;
  context.resource_id = resource.id;
  context.resource_path = resource.path;
  context.path = route_path;
  context.stage_path = address.path;
  context.request_id = request_id;
  context.extended_request_id = facts.extended_request_id;
  context.source_ip = request.remote_address;
  context.time_epoch_ms = facts.time_epoch_ms;
  context.path_parameters = &match->path_parameters;
  context.stage_variables = &stage.variables;
  context.binary_media_types = &api->binary_media_types;

  std::string event = build_event_v1(request, context);
  if (event.size() > kMaxEventBytes) {
    // Observed from API Gateway when the event passes Lambda's payload limit.
    http::Response too_long;
    too_long.status = 413;
    too_long.header("Content-Type", "application/json");
    too_long.header("x-amzn-RequestId", request_id);
    too_long.header("x-amzn-ErrorType", "BadRequestException");
    too_long.body = R"({"message": "Request Too Long"})";
    co_return too_long;
  }

  auto target = resolve_stage_variables(integration.target, stage.variables);
  if (!target) {
    LOG_DEBUG("apigateway", "stage_variables_unresolved", "request_id={} stage={} error=\"{}\"",
              request_id, stage.name, target.error().message);
  }
  Outcome outcome{CallStatus::failure, {}};
  if (target) {
    outcome = co_await call_function(std::move(*target), std::move(event), request_id,
                                     facts.trace_header, integration.timeout_ms);
  }
  // REST APIs decode an isBase64Encoded body only for the API's binaryMediaTypes.
  RestBinarySupport binary{&api->binary_media_types, request.header("accept")};
  auto response =
      build_rest_response(outcome.status, std::move(outcome.payload), request_id, binary);
  // REST APIs repeat the event's extendedRequestId in this header.
  response.header("x-amz-apigw-id", facts.extended_request_id);
  co_return response;
}

Task<Gateway::Outcome> Gateway::call_function(LambdaTarget target, std::string event,
                                              std::string request_id, std::string trace_header,
                                              std::int64_t timeout_ms) {
  std::optional<std::string_view> qualifier;
  if (target.qualifier) qualifier = *target.qualifier;
  auto resolved = invoker_.resolve(target.function_name, qualifier);
  if (!resolved) {
    LOG_DEBUG("apigateway", "function_unresolved", "request_id={} function={} error=\"{}\"",
              request_id, target.function_name, resolved.error().message);
    co_return Outcome{status_for(resolved.error()), {}};
  }
  if (calls_.stopped()) co_return Outcome{CallStatus::failure, {}};

  runtime::InvokeRequest invocation;
  invocation.request_id = random_uuid();
  invocation.payload = std::move(event);
  invocation.invoked_function_arn = resolved->invoked_arn;
  // The function gets the request's trace in _X_AMZN_TRACE_ID, marked unsampled because
  // Lambent records no traces.
  invocation.trace_id = trace_header;
  if (trace_header.find("Sampled=") == std::string::npos) invocation.trace_id += ";Sampled=0";

  // The invocation runs in calls_, so the client gets its response when the integration timeout
  // passes while the function runs on to its own timeout.
  auto call = std::make_shared<Call>(executor_);
  calls_.spawn(run_call(&invoker_, resolved->spec, std::move(invocation), call),
               "integration_call");
  bool finished = co_await call->done.wait(std::chrono::milliseconds(timeout_ms));
  if (!finished || !call->result) {
    LOG_DEBUG("apigateway", "integration_timeout", "request_id={} function={} timeout_ms={}",
              request_id, target.function_name, timeout_ms);
    co_return Outcome{CallStatus::timeout, {}};
  }
  auto& result = *call->result;
  if (!result) {
    if (result.error().code != Errc::throttled) {
      LOG_WARN("apigateway", "invoke_failed", "request_id={} function={} error=\"{}\"", request_id,
               target.function_name, result.error().message);
    }
    co_return Outcome{status_for(result.error()), {}};
  }
  if (result->outcome != runtime::Outcome::success) {
    co_return Outcome{CallStatus::function_error, std::move(result->payload)};
  }
  co_return Outcome{CallStatus::returned, std::move(result->payload)};
}

}  // namespace lambent::services::apigateway
