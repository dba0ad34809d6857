#pragma once

#include "lambent/http/message.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The Lambda event for one HTTP request, in payload format 1.0 or 2.0, field for field as API
// Gateway and function URLs send it (including which fields are absent and which are null).
// Pure functions; safe on any thread.
namespace lambent::services::apigateway {

// The front door that received the request. The event formats differ slightly between them.
enum class Front { rest_api, http_api, function_url };

// The facts an event needs about a request besides the request itself. Views point into data
// the caller keeps alive for the call.
struct EventContext {
  Front front = Front::http_api;
  std::string_view account_id;
  std::string_view api_id;       // API id, or the function URL id
  std::string_view domain_name;  // host the client addressed, without the port
  std::string_view domain_prefix;
  std::string_view stage;          // "$default" or a stage name; empty for function URLs
  std::string_view route_key;      // HTTP API route key ("$default" for function URLs)
  std::string_view resource_id;    // REST APIs: id of the matched resource
  std::string_view resource_path;  // REST APIs: "/items/{id}"; HTTP API 1.0: the route's path
  // Path as the client sent it, still percent-encoded. stage_path includes the stage segment
  // when the URL had one; path is what routes matched against, without it.
  std::string_view path;
  std::string_view stage_path;
  std::string_view request_id;  // requestContext.requestId
  std::string_view extended_request_id;
  std::string_view source_ip;
  std::int64_t time_epoch_ms = 0;
  // Decoded path parameters in route order; empty when the route has none.
  const std::vector<std::pair<std::string, std::string>>* path_parameters = nullptr;
  const std::map<std::string, std::string>* stage_variables = nullptr;
  // REST APIs: the API's binaryMediaTypes, which decide whether the body is base64 encoded.
  const std::vector<std::string>* binary_media_types = nullptr;
  // Function URLs with AuthType AWS_IAM: the verified caller's access key id.
  std::string_view caller_access_key;
};

// Payload format 2.0: HTTP APIs and function URLs.
std::string build_event_v2(const http::Request& request, const EventContext& context);
// Payload format 1.0: REST APIs, and HTTP API integrations set to 1.0.
std::string build_event_v1(const http::Request& request, const EventContext& context);

// True when a body of this Content-Type is passed as text by HTTP APIs and function URLs:
// text/*, application/json, application/xml, application/*+json, application/*+xml and
// application/javascript. Any other body, form data and a missing Content-Type included, is
// base64 encoded (AWS records a multipart/form-data body reaching a function URL as base64).
bool is_text_content_type(std::string_view content_type);

}  // namespace lambent::services::apigateway
