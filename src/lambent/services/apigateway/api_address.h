#pragma once

#include "lambent/http/message.h"

#include <optional>
#include <string>
#include <string_view>

// How execute-api traffic is addressed on the edge port. Pure functions.
namespace lambent::services::apigateway {

// A request recognised as execute-api traffic.
struct ApiAddress {
  std::string api_id;  // lower-cased
  // The path after the API part of the URL, still percent-encoded and without the query:
  // "/{stage}/..." for REST APIs, "/{stage}/..." or "/..." for HTTP APIs. Starts with '/'.
  std::string path;
};

// Returns the API a request addresses: by Host (`{id}.execute-api.*`), by the path form
// `/_aws/execute-api/{id}/...`, or by LocalStack's `/restapis/{id}/{stage}/_user_request_/...`.
// nullopt for any other request.
std::optional<ApiAddress> parse_api_address(const http::Request& head);

// The Host header's name without its port ("[::1]:4566" gives "[::1]").
std::string_view host_without_port(std::string_view host);

// Splits "/first/rest..." into "first" and "/rest..."; the rest is "/" when nothing follows.
std::pair<std::string_view, std::string_view> split_first_segment(std::string_view path);

}  // namespace lambent::services::apigateway
