#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"

#include <fmt/format.h>

namespace lambent::services::apigateway {

Task<http::Response> ControlService::handle_v1(const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  co_return gateway_error(
      Error{Errc::not_implemented,
            fmt::format("{} {} is not an API Gateway operation Lambent supports yet",
                        request.method, request.path())},
      request_id);
}

}  // namespace lambent::services::apigateway
