#include "lambent/services/apigateway/api_address.h"

#include <algorithm>
#include <cctype>

namespace lambent::services::apigateway {

namespace {

constexpr std::string_view kPathForm = "/_aws/execute-api/";
constexpr std::string_view kUserRequestPrefix = "/restapis/";
constexpr std::string_view kUserRequestMarker = "_user_request_";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string_view host_without_port(std::string_view host) {
  auto colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  auto bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return host;
  return host.substr(0, colon);
}

std::pair<std::string_view, std::string_view> split_first_segment(std::string_view path) {
  std::string_view body = path.substr(path.starts_with('/') ? 1 : 0);
  auto slash = body.find('/');
  if (slash == std::string_view::npos) return {body, "/"};
  return {body.substr(0, slash), body.substr(slash)};
}

std::optional<ApiAddress> parse_api_address(const http::Request& head) {
  std::string_view path = head.path();
  if (path.empty()) path = "/";

  std::string_view host = host_without_port(head.header("host"));
  auto first_dot = host.find('.');
  if (first_dot != std::string_view::npos && first_dot > 0) {
    std::string_view rest = host.substr(first_dot + 1);
    if (rest.starts_with("execute-api.") || rest == "execute-api") {
      return ApiAddress{lower(host.substr(0, first_dot)), std::string(path)};
    }
  }

  if (path.starts_with(kPathForm)) {
    std::string_view rest = path.substr(kPathForm.size());
    auto slash = rest.find('/');
    std::string_view id = rest.substr(0, slash);
    if (id.empty()) return std::nullopt;
    std::string api_path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    return ApiAddress{lower(id), std::move(api_path)};
  }

  // LocalStack's form: /restapis/{id}/{stage}/_user_request_/{path}
  if (path.starts_with(kUserRequestPrefix)) {
    std::string_view rest = path.substr(kUserRequestPrefix.size());
    auto id_end = rest.find('/');
    if (id_end == std::string_view::npos || id_end == 0) return std::nullopt;
    std::string_view id = rest.substr(0, id_end);
    std::string_view tail = rest.substr(id_end + 1);
    auto stage_end = tail.find('/');
    if (stage_end == std::string_view::npos || stage_end == 0) return std::nullopt;
    std::string_view stage = tail.substr(0, stage_end);
    std::string_view marker_and_path = tail.substr(stage_end + 1);
    if (!marker_and_path.starts_with(kUserRequestMarker)) return std::nullopt;
    std::string_view user_path = marker_and_path.substr(kUserRequestMarker.size());
    if (!user_path.empty() && !user_path.starts_with('/')) return std::nullopt;
    return ApiAddress{lower(id), "/" + std::string(stage) + std::string(user_path)};
  }
  return std::nullopt;
}

}  // namespace lambent::services::apigateway
