#pragma once

#include "lambent/http/server.h"
#include "lambent/http/sigv4.h"
#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/function_url.h"
#include "lambent/services/apigateway/gateway.h"
#include "lambent/services/lambda/lambda_service.h"
#include "lambent/services/logs/logs_service.h"
#include "lambent/store/log_store.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace lambent::services::cloudwatch {
class CloudWatchService;
}
namespace lambent::metrics {
class CostLedger;
}

// The edge: one HTTP listener for every AWS-compatible API. Assigns request ids, verifies
// SigV4 signatures, and routes each request to its service by path. Runs on the control-plane
// executor.
namespace lambent::services {

// A service the edge routes to when owns() claims the request: S3, SQS, SNS. Such services
// are asked in the order they were added, after function URLs and before API Gateway traffic
// and the Lambda, Logs and API Gateway control routes.
class EdgeService {
 public:
  virtual ~EdgeService() = default;
  // Decides from the head alone (method, target, headers) whether the request is this service's.
  virtual bool owns(const http::Request& head) const = 0;
  // The body limit or a rejection, as http::Handler::check_head; may ask for a streamed body.
  virtual http::Handler::HeadDecision check_head(const http::Request& head,
                                                 std::optional<std::uint64_t> content_length) = 0;
  virtual http::Response body_too_large(const http::Request& head, std::uint64_t limit) = 0;
  // The response to a request whose signature failed, in the service's protocol.
  virtual http::Response unauthorized(const http::Request& request, const Error& error) = 0;
  // True for an unsigned request that carries its own authorization, such as an SNS
  // SubscribeURL with its token. The edge passes it to handle() with no identity and checks no
  // signature.
  virtual bool allows_anonymous(const http::Request& request) const { return false; }
  // Serves a request. `identity` is the verified signer, or null when auth is off. The edge
  // verifies against the x-amz-content-sha256 header when the request has one, so the service
  // must check a hex digest there against the body it reads.
  virtual Task<http::Response> handle(http::Request& request, const http::Identity* identity) = 0;
};

struct EdgeOptions {
  bool auth = true;
  std::unordered_map<std::string, std::string> keys;  // access key id -> secret
};

class Edge final : public http::Handler {
 public:
  Edge(lambda::LambdaService& lambda, store::LogStore& logs, asio::thread_pool& blocking,
       EdgeOptions options);

  HeadDecision check_head(const http::Request& head,
                          std::optional<std::uint64_t> content_length) override;
  http::Response body_too_large(const http::Request& head, std::uint64_t limit) override;
  Task<http::Response> handle(http::Request& request) override;

  // Serves function URL traffic (host or path form) ahead of the SigV4 check of the APIs.
  void set_function_urls(apigateway::FunctionUrlGateway* urls) { function_urls_ = urls; }
  // Verifies the request's SigV4 signature with this edge's keys, even when `auth` is off.
  Result<http::Identity> verify_signature(const http::Request& request);
  // Routes the API Gateway control paths (/v2/apis..., /restapis...) to `control`.
  void set_apigateway_control(apigateway::ControlService& control) {
    apigateway_control_ = &control;
  }

  // Serves GET /_lambent/metrics, the Prometheus text `render` returns. Scrapers sign with
  // SigV4 or send HTTP Basic credentials (access key id and secret); none when auth is off.
  void set_prometheus(std::function<Task<std::string>()> render) { prometheus_ = std::move(render); }

  // Serves execute-api traffic (HTTP and REST APIs) through `gateway`, which must outlive the
  // edge. Without one, such requests get the edge's 404.
  void set_api_gateway(apigateway::Gateway* gateway) { api_gateway_ = gateway; }

  // Serves the CloudWatch API (query protocol to / with a `monitoring` credential scope, JSON
  // 1.0 and RPC v2 CBOR) through `service`, which must outlive the edge.
  void set_cloudwatch(cloudwatch::CloudWatchService* service) { cloudwatch_ = service; }

  // Routes CloudWatch Logs requests (X-Amz-Target Logs_20140328.*) to `service`, which must
  // outlive the edge.
  void set_logs(logs::LogsService* service) { logs_service_ = service; }
  // Serves GET /_lambent/cost from `ledger`, which must outlive the edge.
  void set_cost_ledger(metrics::CostLedger* ledger) { cost_ledger_ = ledger; }
  // Routes the requests `service` owns to it; `service` must outlive the edge.
  void add_service(EdgeService* service) { services_.push_back(service); }

 private:
  std::optional<http::Response> authenticate(const http::Request& request,
                                             const std::string& request_id);
  Task<http::Response> read_logs(const http::Request& request);
  Task<http::Response> read_cost(const http::Request& request);
  Task<http::Response> scrape(const http::Request& request, const std::string& request_id);
  bool basic_credentials_match(const http::Request& request) const;
  std::optional<apigateway::FunctionUrlTarget> match_function_url(const http::Request& head) const;

  lambda::LambdaService& lambda_;
  store::LogStore& logs_;
  asio::thread_pool& blocking_;
  EdgeOptions options_;
  http::SigV4Verifier verifier_;
  apigateway::FunctionUrlGateway* function_urls_ = nullptr;
  apigateway::ControlService* apigateway_control_ = nullptr;
  apigateway::Gateway* api_gateway_ = nullptr;
  logs::LogsService* logs_service_ = nullptr;
  std::function<Task<std::string>()> prometheus_;
  cloudwatch::CloudWatchService* cloudwatch_ = nullptr;
  metrics::CostLedger* cost_ledger_ = nullptr;
  std::vector<EdgeService*> services_;
  EdgeService* owner_of(const http::Request& head) const;
};

}  // namespace lambent::services
