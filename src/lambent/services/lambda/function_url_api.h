#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/lambda/function_urls.h"

#include <optional>
#include <string>
#include <string_view>

// The function URL operations of the Lambda API: Create, Get, Update and Delete
// FunctionUrlConfig at /2021-10-31/functions/NAME/url, and ListFunctionUrlConfigs at
// /2021-10-31/functions/NAME/urls, with AWS's validation, messages and status codes.
namespace lambent::services::lambda {

inline constexpr std::string_view kFunctionUrlPrefix = "/2021-10-31/functions/";

// True when the path and method name one of these operations.
bool is_function_url_route(std::string_view path, std::string_view method);

// Serves one request for which is_function_url_route() is true. `mutations` is the service's
// lock for function changes, so a config is never stored for a function being deleted.
Task<http::Response> handle_function_url_config(invoke::Invoker& invoker,
                                                FunctionUrlCatalog& urls, AsyncMutex& mutations,
                                                http::Request& request, std::string request_id);

}  // namespace lambent::services::lambda
