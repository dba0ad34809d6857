#pragma once

#include "lambent/http/message.h"
#include "lambent/services/apigateway/model.h"

#include <optional>

// CORS as HTTP APIs and function URLs apply a CorsConfiguration. Pure functions.
namespace lambent::services::apigateway {

// The response to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method)
// that the configuration answers itself, without calling a route; nullopt for any other
// request.
std::optional<http::Response> cors_preflight(const CorsConfig& cors, const http::Request& request);

// Adds the CORS response headers for an allowed origin, replacing any the function set, as
// HTTP APIs do. Leaves the response alone when the request has no Origin or it is not allowed.
void apply_cors(const CorsConfig& cors, const http::Request& request, http::Response& response);

}  // namespace lambent::services::apigateway
