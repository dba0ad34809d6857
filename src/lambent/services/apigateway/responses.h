#pragma once

#include "lambent/http/message.h"
#include "lambent/services/apigateway/events.h"

#include <string>
#include <string_view>
#include <vector>

// The HTTP response a client gets for one integration call: the function's return value
// converted as API Gateway or a function URL converts it, or the error response the front door
// sends when the call failed. Pure functions; safe on any thread.
namespace lambent::services::apigateway {

enum class PayloadFormat { v1, v2 };

// The outcome of an integration call.
enum class CallStatus {
  returned,        // the function returned `payload`
  function_error,  // the function raised, exited or timed out (Lambda reported a function error)
  timeout,         // the integration timeout passed before the function returned
  throttled,       // Lambda returned 429
  not_found,       // the integration's function or qualifier does not exist
  failure,         // any other platform failure
};

// `payload` is consumed. request_id goes into the response headers as the front door sends it
// (apigw-requestid, x-amzn-RequestId). A body with isBase64Encoded true is always decoded; REST
// APIs decode it only under the conditions of build_rest_response.
http::Response build_response(Front front, PayloadFormat format, CallStatus status,
                              std::string payload, std::string_view request_id);

// The inputs a REST API checks before it decodes a response body marked isBase64Encoded.
struct RestBinarySupport {
  const std::vector<std::string>* binary_media_types = nullptr;  // the API's binaryMediaTypes
  std::string_view accept;                                       // the request's Accept header
};

// The REST API (payload 1.0) form of build_response. A body marked isBase64Encoded is decoded
// only when the first media type of the Accept header or the response's Content-Type matches
// one of binaryMediaTypes. Otherwise the client receives the base64 text, as it does from AWS.
http::Response build_rest_response(CallStatus status, std::string payload,
                                   std::string_view request_id, const RestBinarySupport& binary);

}  // namespace lambent::services::apigateway
