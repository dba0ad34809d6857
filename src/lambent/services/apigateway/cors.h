#pragma once

#include "lambent/http/message.h"
#include "lambent/services/apigateway/model.h"

#include <optional>
#include <string_view>

// CORS as HTTP APIs and function URLs apply a CorsConfiguration. Pure functions.
namespace lambent::services::apigateway {

// Builds the response to a CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method), which the gateway sends itself without calling a route: 204
// with the configured Access-Control-* headers when the origin is allowed, and 204 without them
// when it is not. Returns nullopt for any other request. The caller adds its request id header.
std::optional<http::Response> cors_preflight(const CorsConfig& cors, const http::Request& request);

// Removes the function's own Access-Control-* headers (AWS ignores them once CORS is
// configured) and, when the request's Origin is allowed, adds Access-Control-Allow-Origin,
// -Allow-Credentials and -Expose-Headers from the configuration.
void apply_cors(const CorsConfig& cors, const http::Request& request, http::Response& response);

// True when `origin` matches one of AllowOrigins: "*", an exact origin, or a pattern with '*'
// such as "https://*" or "https://*.example.com". Comparison ignores ASCII case.
bool cors_origin_allowed(const CorsConfig& cors, std::string_view origin);

}  // namespace lambent::services::apigateway
