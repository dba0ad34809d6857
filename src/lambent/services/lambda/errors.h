#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <string>
#include <string_view>
#include <vector>

// Lambda's REST-JSON error responses: status, x-amzn-ErrorType and the body fields AWS sends
// for each error type (some carry "Type", some "Message" and others "message").
namespace lambent::services::lambda {

http::Response error_response(const Error& error, std::string_view request_id);

// "1 validation error detected: A" or "2 validation errors detected: A; B", as AWS joins them.
std::string join_validation_errors(const std::vector<std::string>& errors);

// Common errors with AWS's exact wording.
Error function_not_found(std::string_view arn);
Error validation_error(std::vector<std::string> errors);
Error invalid_parameter(std::string message);

}  // namespace lambent::services::lambda
