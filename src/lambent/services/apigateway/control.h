#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/services/apigateway/registry.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

// The API Gateway control plane, REST-JSON as the botocore models describe it. The apigatewayv2
// operations for HTTP APIs under /v2/apis are in control_v2.cpp, the apigateway operations for
// REST APIs under /restapis in control_v1.cpp, and the tag operations of both under /v2/tags and
// /tags in control_tags.cpp. Each change builds a new API value and commits it through the
// Registry; changes run one at a time. Runs on the control-plane executor. Errors are API Gateway's
// {"message": ...} bodies with x-amzn-ErrorType; a failed store write is a 500 and leaves the API
// unchanged.
namespace lambent::services::apigateway {

struct ControlOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::uint16_t port = 0;  // the edge port, for apiEndpoint; set once the server listens
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

class ControlService {
 public:
  ControlService(Registry& registry, ControlOptions options);

  // The edge port is known only after the server binds it.
  void set_port(std::uint16_t port) { options_.port = port; }

  // True for the control paths /v2/apis..., /v2/tags/..., /tags/... and /restapis..., except
  // REST API user traffic in the /restapis/{id}/{stage}/_user_request_/ form, which the data
  // plane serves. Also true for the API Gateway collections Lambent does not implement
  // (/apikeys, /usageplans, /domainnames, ...), which return 501.
  static bool owns(std::string_view path);

  Task<http::Response> handle(http::Request& request, std::string request_id);

  // http://{id}.execute-api.localhost:{port}, where curl reaches the API without DNS set-up.
  std::string api_endpoint(std::string_view api_id) const;

 private:
  // apigatewayv2 (control_v2.cpp).
  Task<http::Response> handle_v2(const http::Request& request, const std::string& request_id,
                                 const std::vector<std::string>& segments);
  // TagResource, GetTags and UntagResource of both APIs (control_tags.cpp).
  Task<http::Response> handle_tags(const http::Request& request, const std::string& request_id);
  Task<http::Response> create_api(const http::Request& request, const std::string& request_id);
  http::Response get_apis(const http::Request& request, const std::string& request_id);
  Task<http::Response> update_api(const std::string& api_id, const http::Request& request,
                                  const std::string& request_id);
  Task<http::Response> delete_api(const std::string& api_id, const std::string& request_id);
  Task<http::Response> delete_cors(const std::string& api_id, const std::string& request_id);
  Task<http::Response> v2_routes(const std::string& api_id, const http::Request& request,
                                 const std::string& request_id,
                                 const std::vector<std::string>& segments);
  Task<http::Response> v2_integrations(const std::string& api_id, const http::Request& request,
                                       const std::string& request_id,
                                       const std::vector<std::string>& segments);
  Task<http::Response> v2_stages(const std::string& api_id, const http::Request& request,
                                 const std::string& request_id,
                                 const std::vector<std::string>& segments);
  Task<http::Response> v2_deployments(const std::string& api_id, const http::Request& request,
                                      const std::string& request_id,
                                      const std::vector<std::string>& segments);

  // apigateway REST APIs (control_v1.cpp).
  Task<http::Response> handle_v1(const http::Request& request, const std::string& request_id,
                                 const std::vector<std::string>& segments);
  Task<http::Response> create_rest_api(const http::Request& request, const std::string& request_id);
  Task<http::Response> update_rest_api(const std::string& api_id, const http::Request& request,
                                       const std::string& request_id);
  Task<http::Response> v1_resources(const std::string& api_id, const http::Request& request,
                                    const std::string& request_id,
                                    const std::vector<std::string>& segments);
  Task<http::Response> v1_methods(const std::string& api_id, const std::string& resource_id,
                                  const http::Request& request, const std::string& request_id,
                                  const std::vector<std::string>& segments);
  Task<http::Response> v1_deployments(const std::string& api_id, const http::Request& request,
                                      const std::string& request_id,
                                      const std::vector<std::string>& segments);
  Task<http::Response> v1_stages(const std::string& api_id, const http::Request& request,
                                 const std::string& request_id,
                                 const std::vector<std::string>& segments);

  // The current time as API Gateway dates are stored (ISO 8601 UTC).
  std::string now_iso() const;

  Registry& registry_;
  ControlOptions options_;
  AsyncMutex mutations_;
};

}  // namespace lambent::services::apigateway
