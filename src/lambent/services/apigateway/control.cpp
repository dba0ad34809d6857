#include "lambent/services/apigateway/control.h"

#include "lambent/services/apigateway/control_common.h"

#include <fmt/format.h>

namespace lambent::services::apigateway {

ControlService::ControlService(Registry& registry, ControlOptions options)
    : registry_(registry), options_(std::move(options)) {}

bool ControlService::owns(std::string_view path) {
  if (path == "/v2/apis" || path.starts_with("/v2/apis/") || path.starts_with("/v2/tags/")) {
    return true;
  }
  if (path == "/restapis" || path.starts_with("/restapis/")) {
    return path.find("/_user_request_/") == std::string_view::npos &&
           !path.ends_with("/_user_request_");
  }
  return false;
}

std::string ControlService::api_endpoint(std::string_view api_id) const {
  return fmt::format("http://{}.execute-api.localhost:{}", api_id, options_.port);
}

std::string ControlService::now_iso() const { return iso8601(options_.now()); }

Task<http::Response> ControlService::handle(http::Request& request, std::string request_id) {
  std::vector<std::string> segments = split_path(request.path());
  if (!segments.empty() && segments[0] == "v2") {
    if (segments.size() >= 2 && segments[1] == "tags") {
      co_return co_await handle_v2_tags(request, request_id, segments);
    }
    co_return co_await handle_v2(request, request_id, segments);
  }
  co_return co_await handle_v1(request, request_id, segments);
}

}  // namespace lambent::services::apigateway
