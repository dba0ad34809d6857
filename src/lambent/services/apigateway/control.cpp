#include "lambent/services/apigateway/control.h"

#include "lambent/services/apigateway/control_common.h"

#include <fmt/format.h>

namespace lambent::services::apigateway {

namespace {

// Top-level collections of the two APIs that Lambent does not implement. They are owned here so
// that they return 501 NotImplemented, like the unsupported operations under /v2/apis and
// /restapis, rather than the edge's 404 for paths of no service.
constexpr std::string_view kUnsupportedCollections[] = {
    "/apikeys", "/usageplans", "/domainnames",    "/clientcertificates", "/vpclinks",
    "/account", "/sdktypes",   "/v2/domainnames", "/v2/vpclinks",        "/v2/apimappings"};

bool is_unsupported_collection(std::string_view path) {
  for (std::string_view collection : kUnsupportedCollections) {
    if (path == collection || (path.starts_with(collection) && path[collection.size()] == '/')) {
      return true;
    }
  }
  return false;
}

}  // namespace

ControlService::ControlService(Registry& registry, ControlOptions options)
    : registry_(registry), options_(std::move(options)) {}

bool ControlService::owns(std::string_view path) {
  if (path == "/v2/apis" || path.starts_with("/v2/apis/") || path.starts_with("/v2/tags/") ||
      path.starts_with("/tags/") || is_unsupported_collection(path)) {
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
  std::string_view path = request.path();
  if (is_unsupported_collection(path)) {
    co_return unsupported_operation(request.method, path, request_id);
  }
  if (path.starts_with("/v2/tags/") || path.starts_with("/tags/")) {
    co_return co_await handle_tags(request, request_id);
  }
  std::vector<std::string> segments = split_path(path);
  if (!segments.empty() && segments[0] == "v2") {
    co_return co_await handle_v2(request, request_id, segments);
  }
  co_return co_await handle_v1(request, request_id, segments);
}

}  // namespace lambent::services::apigateway
