#include "lambent/services/apigateway/cors.h"

#include "lambent/services/apigateway/http_text.h"

#include <algorithm>

namespace lambent::services::apigateway {

namespace {

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += values[i];
  }
  return out;
}

// The Access-Control-Allow-Origin value for an allowed origin: "*" when the configuration
// allows every origin, otherwise the request's origin. With AllowCredentials the origin is
// echoed even for "*", because browsers reject a credentialed response that allows "*".
std::string allow_origin_value(const CorsConfig& cors, std::string_view origin) {
  bool any = std::find(cors.allow_origins.begin(), cors.allow_origins.end(), "*") !=
             cors.allow_origins.end();
  if (any && !cors.allow_credentials) return "*";
  return std::string(origin);
}

bool is_cors_header(std::string_view name) {
  static constexpr std::string_view kPrefix = "access-control-";
  return name.size() >= kPrefix.size() && text::iequals(name.substr(0, kPrefix.size()), kPrefix);
}

}  // namespace

bool cors_origin_allowed(const CorsConfig& cors, std::string_view origin) {
  if (origin.empty()) return false;
  for (const auto& pattern : cors.allow_origins) {
    if (pattern == "*" || text::wildcard_match(pattern, origin)) return true;
  }
  return false;
}

std::optional<http::Response> cors_preflight(const CorsConfig& cors, const http::Request& request) {
  if (request.method != "OPTIONS") return std::nullopt;
  std::string_view origin = request.header("origin");
  if (origin.empty() || !request.has_header("access-control-request-method")) {
    return std::nullopt;
  }

  // HTTP APIs respond to every preflight themselves once CORS is configured, even without an
  // OPTIONS route. The browser then checks the method and headers against the listed ones.
  http::Response response;
  response.status = 204;
  if (!cors_origin_allowed(cors, origin)) return response;

  response.header("access-control-allow-origin", allow_origin_value(cors, origin));
  if (cors.allow_credentials) response.header("access-control-allow-credentials", "true");
  if (!cors.allow_methods.empty()) {
    response.header("access-control-allow-methods", join(cors.allow_methods));
  }
  if (!cors.allow_headers.empty()) {
    response.header("access-control-allow-headers", join(cors.allow_headers));
  }
  if (!cors.expose_headers.empty()) {
    response.header("access-control-expose-headers", join(cors.expose_headers));
  }
  if (cors.max_age) response.header("access-control-max-age", std::to_string(*cors.max_age));
  return response;
}

void apply_cors(const CorsConfig& cors, const http::Request& request, http::Response& response) {
  std::erase_if(response.headers, [](const auto& header) { return is_cors_header(header.first); });

  std::string_view origin = request.header("origin");
  if (!cors_origin_allowed(cors, origin)) return;
  response.header("access-control-allow-origin", allow_origin_value(cors, origin));
  if (cors.allow_credentials) response.header("access-control-allow-credentials", "true");
  if (!cors.expose_headers.empty()) {
    response.header("access-control-expose-headers", join(cors.expose_headers));
  }
}

}  // namespace lambent::services::apigateway
