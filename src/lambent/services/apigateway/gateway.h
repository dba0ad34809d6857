#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/apigateway/api_address.h"
#include "lambent/services/apigateway/events.h"
#include "lambent/services/apigateway/registry.h"
#include "lambent/services/apigateway/router.h"
#include "lambent/services/apigateway/throttle.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The execute-api data plane: serves user traffic for HTTP APIs and REST APIs on the edge port.
// It picks the API and stage from the URL and responds to CORS preflights. It matches the route,
// applies throttling and payload limits, and builds the Lambda event. Then it invokes the
// integration's function under the integration timeout and converts the result into the HTTP
// response. Requests carry
// no SigV4 signature, because API traffic is public. Confined to the control-plane executor;
// the Registry and Invoker must outlive it.
namespace lambent::services::apigateway {

// API Gateway's maximum request payload for HTTP and REST APIs.
constexpr std::uint64_t kMaxApiBodyBytes = 10485760;
// Lambda's maximum synchronous invocation payload, which the built event must fit in.
constexpr std::size_t kMaxEventBytes = 6291456;

struct GatewayOptions {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";
};

class Gateway {
 public:
  Gateway(Registry& registry, invoke::Invoker& invoker, asio::any_io_executor executor,
          GatewayOptions options, Throttle::Clock clock = {});
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // The 413 response for a body over kMaxApiBodyBytes, as the addressed kind of API sends it.
  http::Response body_too_large(const http::Request& head, const ApiAddress& address) const;

  Task<http::Response> handle(http::Request& request, ApiAddress address);

  // Cancels integration calls still running after their client got its response.
  void stop();

 private:
  struct Call;
  struct Outcome;
  Task<http::Response> handle_http_api(http::Request& request, ApiAddress address,
                                       std::shared_ptr<const HttpApi> api);
  Task<http::Response> handle_rest_api(http::Request& request, ApiAddress address,
                                       std::shared_ptr<const RestApi> api);
  // Invokes the target function with `event` and returns no later than `timeout_ms`.
  Task<Outcome> call_function(LambdaTarget target, std::string event, std::string request_id,
                              std::string trace_header, std::int64_t timeout_ms);

  Registry& registry_;
  invoke::Invoker& invoker_;
  asio::any_io_executor executor_;
  GatewayOptions options_;
  RouterCache routers_;
  Throttle throttle_;
  std::chrono::steady_clock::time_point last_prune_;
  TaskGroup calls_;
};

}  // namespace lambent::services::apigateway
