#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"

#include <optional>
#include <string>
#include <string_view>

// The provisioned concurrency operations of the Lambda API (Put, Get, Delete and
// ListProvisionedConcurrencyConfigs under /2019-09-30/functions/NAME/provisioned-concurrency),
// with AWS's validation and error messages.
namespace lambent::services::lambda {

// True when the path names the provisioned concurrency resource of a function.
bool is_provisioned_route(std::string_view path);

// Serves one request on a provisioned concurrency path. `mutations` is the service's lock for
// function changes. Returns nullopt when the method names no such operation.
Task<std::optional<http::Response>> handle_provisioned(invoke::Invoker& invoker,
                                                       AsyncMutex& mutations,
                                                       http::Request& request,
                                                       std::string request_id);

}  // namespace lambent::services::lambda
