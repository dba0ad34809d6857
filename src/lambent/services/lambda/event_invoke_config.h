#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"

#include <string>
#include <string_view>

// The event invoke config operations of the Lambda API (Put, Update, Get, Delete and
// ListFunctionEventInvokeConfigs under /2019-09-25/functions/NAME/event-invoke-config), with
// AWS's validation and error messages.
namespace lambent::services::lambda {

inline constexpr std::string_view kEventInvokeConfigPrefix = "/2019-09-25/functions/";

// Serves one request whose path starts with kEventInvokeConfigPrefix. `mutations` is the
// service's lock for function changes, so a config is never stored for a function being
// deleted. Returns nullopt when the path or method names no such operation.
Task<std::optional<http::Response>> handle_event_invoke_config(invoke::Invoker& invoker,
                                                               AsyncMutex& mutations,
                                                               http::Request& request,
                                                               std::string request_id);

}  // namespace lambent::services::lambda
