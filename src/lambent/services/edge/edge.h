#pragma once

#include "lambent/http/server.h"
#include "lambent/http/sigv4.h"
#include "lambent/services/apigateway/control.h"
#include "lambent/services/lambda/lambda_service.h"
#include "lambent/store/log_store.h"

#include <memory>
#include <string>
#include <unordered_map>

// The edge: one HTTP listener for every AWS-compatible API. Assigns request ids, verifies
// SigV4 signatures, and routes each request to its service by path. Runs on the control-plane
// executor.
namespace lambent::services {

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

  // Routes the API Gateway control paths (/v2/apis..., /restapis...) to `control`.
  void set_apigateway_control(apigateway::ControlService& control) {
    apigateway_control_ = &control;
  }

 private:
  std::optional<http::Response> authenticate(const http::Request& request,
                                             const std::string& request_id);
  Task<http::Response> read_logs(const http::Request& request);

  lambda::LambdaService& lambda_;
  store::LogStore& logs_;
  asio::thread_pool& blocking_;
  EdgeOptions options_;
  http::SigV4Verifier verifier_;
  apigateway::ControlService* apigateway_control_ = nullptr;
};

}  // namespace lambent::services
