#include "lambent/services/apigateway/function_url.h"

#include "lambent/base/log.h"
#include "lambent/services/apigateway/cors.h"
#include "lambent/services/apigateway/events.h"
#include "lambent/services/apigateway/responses.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>

namespace lambent::services::apigateway {

namespace {

constexpr std::string_view kPathPrefix = "/_aws/lambda-url/";

// The body AWS sends for a request that its authorization layer rejects: an AWS_IAM URL without a
// valid signature, or a URL whose alias no longer exists.
constexpr std::string_view kForbiddenBody =
    R"({"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: )"
    R"(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"})";

http::Response access_denied(std::string_view body, std::string_view request_id) {
  http::Response response;
  response.status = 403;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", "AccessDeniedException");
  response.body = std::string(body);
  return response;
}

std::string_view host_without_port(std::string_view host) {
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host;
}

CorsConfig to_cors_config(const lambda::FunctionUrlCors& cors) {
  CorsConfig out;
  out.allow_origins = cors.allow_origins.value_or(std::vector<std::string>{});
  out.allow_methods = cors.allow_methods.value_or(std::vector<std::string>{});
  out.allow_headers = cors.allow_headers.value_or(std::vector<std::string>{});
  out.expose_headers = cors.expose_headers.value_or(std::vector<std::string>{});
  out.allow_credentials = cors.allow_credentials.value_or(false);
  out.max_age = cors.max_age;
  return out;
}

CallStatus call_status(const Result<runtime::InvokeResult>& result) {
  if (!result) {
    if (result.error().code == Errc::throttled) return CallStatus::throttled;
    if (result.error().code == Errc::not_found) return CallStatus::not_found;
    return CallStatus::failure;
  }
  // A timeout, crash or out-of-memory kill is a function error to the caller, as on AWS.
  if (result->outcome != runtime::Outcome::success) return CallStatus::function_error;
  return CallStatus::returned;
}

}  // namespace

std::optional<FunctionUrlTarget> match_function_url(const http::Request& head,
                                                    std::string_view region) {
  std::string_view path = head.path();
  if (path.starts_with(kPathPrefix)) {
    std::string_view rest = path.substr(kPathPrefix.size());
    auto slash = rest.find('/');
    FunctionUrlTarget target;
    target.url_id = std::string(rest.substr(0, slash));
    target.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    target.domain_name = fmt::format("{}.lambda-url.{}.localhost", target.url_id, region);
    if (target.url_id.empty()) return std::nullopt;
    return target;
  }

  std::string_view host = host_without_port(head.header("host"));
  auto first_dot = host.find('.');
  if (first_dot == std::string_view::npos || first_dot == 0) return std::nullopt;
  std::string_view second = host.substr(first_dot + 1);
  if (!second.starts_with("lambda-url.")) return std::nullopt;
  FunctionUrlTarget target;
  target.url_id = std::string(host.substr(0, first_dot));
  target.path = std::string(path.empty() ? "/" : path);
  target.domain_name = std::string(host);
  return target;
}

FunctionUrlGateway::FunctionUrlGateway(lambda::FunctionUrlCatalog& urls, invoke::Invoker& invoker,
                                       SignatureCheck check_signature,
                                       FunctionUrlOptions options)
    : urls_(urls),
      invoker_(invoker),
      check_signature_(std::move(check_signature)),
      options_(std::move(options)) {}

http::Handler::HeadDecision FunctionUrlGateway::check_head(
    const http::Request& head, std::optional<std::uint64_t> content_length) const {
  http::Handler::HeadDecision decision;
  decision.body_limit = kMaxPayloadBytes;
  if (content_length && *content_length > kMaxPayloadBytes) {
    decision.reject = payload_too_large(head.id);
  }
  return decision;
}

http::Response FunctionUrlGateway::payload_too_large(std::string_view request_id) const {
  // NOTE: the status and error type are Lambda's for an oversized invoke payload; no recorded
  // function URL response shows the body AWS sends.
  http::Response response;
  response.status = 413;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", "RequestEntityTooLargeException");
  response.body = fmt::format(
      R"({{"Message":"Request must be smaller than {} bytes for the InvokeFunction operation"}})",
      kMaxPayloadBytes);
  response.close = true;
  return response;
}

Task<http::Response> FunctionUrlGateway::handle(http::Request& request, FunctionUrlTarget target) {
  std::string request_id = request.id;
  auto config = urls_.find_by_url_id(target.url_id);
  if (!config) co_return access_denied(R"({"Message":null})", request_id);

  // Browsers send preflights unsigned, so the URL's CORS configuration responds to them before
  // the signature check.
  std::optional<CorsConfig> cors;
  if (config->cors) cors = to_cors_config(*config->cors);
  if (cors) {
    auto preflight = cors_preflight(*cors, request);
    if (preflight) co_return std::move(*preflight);
  }

  std::string caller_access_key;
  if (config->auth_type == "AWS_IAM" && options_.auth) {
    auto identity = check_signature_(request);
    if (!identity || identity->service != "lambda") {
      LOG_DEBUG("function_url", "auth_rejected", "request_id={} url_id={}", request_id,
                target.url_id);
      co_return access_denied(kForbiddenBody, request_id);
    }
    caller_access_key = identity->access_key_id;
  }

  std::optional<std::string_view> qualifier;
  if (!config->qualifier.empty()) qualifier = config->qualifier;
  auto resolved = invoker_.resolve(config->function_name, qualifier);
  // The config outlives a deleted alias; AWS then denies the request.
  if (!resolved) co_return access_denied(kForbiddenBody, request_id);

  EventContext context;
  context.front = Front::function_url;
  context.account_id = options_.account_id;
  context.api_id = target.url_id;
  context.domain_name = target.domain_name;
  context.domain_prefix = target.url_id;
  context.route_key = "$default";
  context.path = target.path;
  context.stage_path = target.path;
  context.request_id = request_id;
  context.source_ip = request.remote_address;
  context.time_epoch_ms = epoch_ms();
  context.caller_access_key = caller_access_key;
  std::string event = build_event_v2(request, context);
  if (event.size() > kMaxPayloadBytes) co_return payload_too_large(request_id);

  // NOTE: a URL with InvokeMode RESPONSE_STREAM is served buffered as well: the response is
  // sent once the function returns.
  runtime::InvokeRequest invocation;
  invocation.request_id = request_id;
  invocation.payload = std::move(event);
  invocation.invoked_function_arn = resolved->invoked_arn;
  invocation.trace_id = lambda::make_trace_id();
  auto result = co_await invoker_.invoke(resolved->spec, std::move(invocation));
  CallStatus status = call_status(result);
  std::string payload = result ? std::move(result->payload) : std::string();
  http::Response response = build_response(Front::function_url, PayloadFormat::v2, status,
                                           std::move(payload), request_id);
  if (cors) apply_cors(*cors, request, response);
  co_return response;
}

}  // namespace lambent::services::apigateway
