#include "lambent/services/edge/edge.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/cloudwatch/cloudwatch_service.h"
#include "lambent/metrics/cost.h"
#include "lambent/services/lambda/errors.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <charconv>

namespace lambent::services {

namespace json = boost::json;

namespace {

constexpr std::string_view kInternalPrefix = "/_lambent/";

http::Response not_found(std::string_view request_id, std::string_view path) {
  http::Response response;
  response.status = 404;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", "UnknownOperationException");
  response.body = json::serialize(json::object{
      {"message", fmt::format("No AWS-compatible API that Lambent serves matches the path {}",
                              path)}});
  return response;
}

}  // namespace

std::optional<apigateway::FunctionUrlTarget> Edge::match_function_url(
    const http::Request& head) const {
  return apigateway::match_function_url(head, function_urls_->options().region);
}

Edge::Edge(lambda::LambdaService& lambda, store::LogStore& logs, asio::thread_pool& blocking,
           EdgeOptions options)
    : lambda_(lambda),
      logs_(logs),
      blocking_(blocking),
      options_(std::move(options)),
      verifier_([this](std::string_view id) -> std::optional<std::string> {
        auto it = options_.keys.find(std::string(id));
        if (it == options_.keys.end()) return std::nullopt;
        return it->second;
      }) {}

EdgeService* Edge::owner_of(const http::Request& head) const {
  for (auto* service : services_) {
    if (service->owns(head)) return service;
  }
  return nullptr;
}

http::Handler::HeadDecision Edge::check_head(const http::Request& head,
                                             std::optional<std::uint64_t> content_length) {
  if (function_urls_ && match_function_url(head)) {
    return function_urls_->check_head(head, content_length);
  }
  if (auto* service = owner_of(head)) return service->check_head(head, content_length);
  if (api_gateway_) {
    if (auto address = apigateway::parse_api_address(head)) {
      HeadDecision decision;
      decision.body_limit = apigateway::kMaxApiBodyBytes;
      if (content_length && *content_length > decision.body_limit) {
        decision.reject = api_gateway_->body_too_large(head, *address);
      }
      return decision;
    }
  }
  if (lambda::LambdaService::owns(head.path())) {
    return lambda_.check_head(head, content_length, head.id);
  }
  HeadDecision decision;
  decision.body_limit = 6291456;
  return decision;
}

http::Response Edge::body_too_large(const http::Request& head, std::uint64_t limit) {
  if (function_urls_ && match_function_url(head)) return function_urls_->payload_too_large(head.id);
  if (auto* service = owner_of(head)) return service->body_too_large(head, limit);
  if (api_gateway_) {
    if (auto address = apigateway::parse_api_address(head)) {
      return api_gateway_->body_too_large(head, *address);
    }
  }
  return lambda_.body_too_large(head, limit, head.id);
}

Result<http::Identity> Edge::verify_signature(const http::Request& request) {
  std::vector<http::Header> headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) headers.push_back({name, value});
  std::string payload_hash;
  if (!request.has_header("x-amz-content-sha256")) payload_hash = to_hex(sha256(request.body));
  http::SignedRequestView view{request.method, request.target, headers, payload_hash};
  return verifier_.verify(view, std::chrono::system_clock::now());
}

std::optional<http::Response> Edge::authenticate(const http::Request& request,
                                                 const std::string& request_id) {
  if (!options_.auth) return std::nullopt;
  auto identity = verify_signature(request);
  if (identity) return std::nullopt;
  LOG_DEBUG("edge", "auth_rejected", "request_id={} type={}", request_id, identity.error().type);
  http::Response response;
  response.status = 403;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", request_id);
  response.header("x-amzn-ErrorType", identity.error().type);
  response.body = json::serialize(json::object{{"message", identity.error().message}});
  return response;
}

Task<http::Response> Edge::handle(http::Request& request) {
  std::string request_id = request.id;
  std::string_view path = request.path();

  // Function URLs check their own AuthType: NONE needs no signature.
  if (function_urls_) {
    auto target = match_function_url(request);
    if (target) co_return co_await function_urls_->handle(request, std::move(*target));
  }
  if (auto* service = owner_of(request)) {
    if (!options_.auth || service->allows_anonymous(request)) {
      co_return co_await service->handle(request, nullptr);
    }
    auto identity = verify_signature(request);
    if (!identity) co_return service->unauthorized(request, identity.error());
    co_return co_await service->handle(request, &*identity);
  }
  // API traffic is public: execute-api requests are recognised by Host or path before SigV4.
  if (api_gateway_) {
    auto address = apigateway::parse_api_address(request);
    if (address) co_return co_await api_gateway_->handle(request, std::move(*address));
  }
  // Code download links are authorized by their own token, as S3 presigned URLs are.
  if (path.starts_with("/_lambent/code/") && request.method == "GET") {
    co_return co_await lambda_.download_code(request);
  }
  if (path == "/_lambent/metrics" && prometheus_) co_return co_await scrape(request, request_id);
  // CloudWatch renders signature failures in the caller's protocol (XML for the query protocol).
  if (cloudwatch_ != nullptr && cloudwatch::CloudWatchService::owns(request)) {
    if (options_.auth) {
      auto identity = verify_signature(request);
      if (!identity) co_return cloudwatch_->unauthorized(request, identity.error());
    }
    co_return co_await cloudwatch_->handle(request);
  }
  if (auto rejected = authenticate(request, request_id)) co_return std::move(*rejected);

  if (lambda::LambdaService::owns(path)) co_return co_await lambda_.handle(request, request_id);
  if (logs_service_ != nullptr && logs::LogsService::owns(request)) {
    co_return co_await logs_service_->handle(request, request_id);
  }
  if (apigateway_control_ != nullptr && apigateway::ControlService::owns(path)) {
    co_return co_await apigateway_control_->handle(request, request_id);
  }
  if (path.starts_with(kInternalPrefix)) {
    if (path.starts_with("/_lambent/logs/") && request.method == "GET") co_return co_await read_logs(request);
    if (path == "/_lambent/cost" && request.method == "GET" && cost_ledger_) {
      co_return co_await read_cost(request);
    }
  }
  co_return not_found(request_id, path);
}

bool Edge::basic_credentials_match(const http::Request& request) const {
  std::string_view authorization = request.header("authorization");
  if (!authorization.starts_with("Basic ")) return false;
  auto decoded = base64_decode(authorization.substr(6));
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  auto key = options_.keys.find(decoded->substr(0, colon));
  if (key == options_.keys.end()) return false;
  std::string_view given = std::string_view(*decoded).substr(colon + 1);
  const std::string& secret = key->second;
  // Compared in constant time for equal lengths.
  if (given.size() != secret.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ secret[i]);
  }
  return difference == 0;
}

// GET /_lambent/metrics: Prometheus text exposition format 0.0.4.
Task<http::Response> Edge::scrape(const http::Request& request, const std::string& request_id) {
  if (request.method != "GET") {
    http::Response wrong;
    wrong.status = 405;
    wrong.header("Allow", "GET");
    wrong.header("Content-Type", "text/plain; charset=utf-8");
    wrong.body = "Only GET is served at /_lambent/metrics.\n";
    co_return wrong;
  }
  if (options_.auth && !basic_credentials_match(request)) {
    if (!request.header("authorization").starts_with("AWS4-")) {
      http::Response denied;
      denied.status = 401;
      denied.header("WWW-Authenticate", "Basic realm=\"lambent\"");
      denied.header("Content-Type", "text/plain; charset=utf-8");
      denied.body =
          "Send HTTP Basic credentials (access key id and secret, as `lambent env` prints them) "
          "or a SigV4 signature.\n";
      co_return denied;
    }
    if (auto rejected = authenticate(request, request_id)) co_return std::move(*rejected);
  }
  http::Response response;
  response.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.body = co_await prometheus_();
  co_return response;
}

// GET /_lambent/logs/<function>?since_ms=N&limit=N: the function's log events as JSON, for
// `lambent logs`.
Task<http::Response> Edge::read_logs(const http::Request& request) {
  std::string name;
  http::percent_decode(request.path().substr(std::string_view("/_lambent/logs/").size()), name);
  std::int64_t since = 0;
  std::size_t limit = 10000;
  try {
    if (auto v = http::query_param(request.query(), "since_ms"); v.found) since = std::stoll(v.value);
    if (auto v = http::query_param(request.query(), "limit"); v.found) limit = std::stoull(v.value);
  } catch (const std::exception&) {
    http::Response bad;
    bad.status = 400;
    bad.header("Content-Type", "application/json");
    bad.body = R"({"message":"since_ms and limit must be integers"})";
    co_return bad;
  }
  if (name.empty() || name.find('/') != std::string::npos || name.starts_with(".") ||
      !logs_.has_function(name)) {
    // CloudWatch Logs' error for a log group that was never created.
    http::Response missing;
    missing.status = 404;
    missing.header("Content-Type", "application/json");
    missing.header("x-amzn-ErrorType", "ResourceNotFoundException");
    missing.body = json::serialize(json::object{
        {"message", "The specified log group does not exist."}});
    co_return missing;
  }
  // Reading log files is blocking work, so it runs on the worker pool.
  auto* logs = &logs_;
  auto read_events = [logs, name, since, limit]() { return logs->read(name, since, limit); };
  auto found = co_await run_blocking(blocking_, std::move(read_events));
  json::array events;
  for (auto& event : found) {
    events.push_back(json::object{{"timestamp", event.timestamp_ms},
                                  {"logStreamName", event.stream},
                                  {"message", event.message}});
  }
  http::Response response;
  response.header("Content-Type", "application/json");
  response.body = json::serialize(json::object{{"events", std::move(events)}});
  co_return response;
}

// GET /_lambent/cost?since_ms=N: requests, GB-seconds, CPU-seconds and costs per function
// version since N (epoch milliseconds, rounded down to the minute; default 0, everything
// retained), for `lambent cost`.
Task<http::Response> Edge::read_cost(const http::Request& request) {
  std::int64_t since = 0;
  if (auto v = http::query_param(request.query(), "since_ms"); v.found) {
    auto [end, ec] = std::from_chars(v.value.data(), v.value.data() + v.value.size(), since);
    if (ec != std::errc() || end != v.value.data() + v.value.size() || since < 0) {
      http::Response bad;
      bad.status = 400;
      bad.header("Content-Type", "application/json");
      bad.header("x-amzn-RequestId", request.id);
      bad.header("x-amzn-ErrorType", "InvalidParameterValueException");
      bad.body = json::serialize(json::object{
          {"message", fmt::format("Invalid since_ms '{}': expected epoch milliseconds, an "
                                  "integer of 0 or more",
                                  v.value)}});
      co_return bad;
    }
  }
  auto rows = co_await cost_ledger_->query(since);
  http::Response response;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", request.id);
  if (!rows) {
    LOG_ERROR("edge", "cost_query_failed", "request_id={} error=\"{}\"", request.id,
              rows.error().message);
    response.status = 500;
    response.header("x-amzn-ErrorType", "ServiceException");
    response.body = json::serialize(json::object{{"message", rows.error().message}});
    co_return response;
  }
  response.body = metrics::cost_report_json(*rows, cost_ledger_->prices(), since);
  co_return response;
}

}  // namespace lambent::services
