#pragma once

#include "lambent/base/result.h"
#include "lambent/services/apigateway/model.h"

#include <string>
#include <string_view>

// The stored form of an API: one JSON document holding its whole configuration, deployments
// included. Decoding fails with Errc::internal naming what is wrong, never with an exception.
namespace lambent::services::apigateway {

std::string encode_http_api(const HttpApi& api);
Result<HttpApi> decode_http_api(std::string_view document);
std::string encode_rest_api(const RestApi& api);
Result<RestApi> decode_rest_api(std::string_view document);

}  // namespace lambent::services::apigateway
