#pragma once

#include "lambent/base/result.h"

#include <string>
#include <string_view>

// SQS errors. Error::type carries the query-protocol error code
// ("AWS.SimpleQueueService.NonExistentQueue"); error_shape() gives the HTTP status, the fault
// side and the shape name the JSON protocol puts in __type. Messages follow AWS's wording where
// it is known.
namespace lambent::services::sqs {

struct ErrorShape {
  unsigned status = 400;
  std::string_view code;   // query <Code>, and the first half of x-amzn-query-error
  std::string_view shape;  // JSON __type, after "com.amazonaws.sqs#"
  bool sender = true;
};

// The shape of an error by its code in Error::type, or by Error::code when the type is empty
// (Errc::io from the store becomes InternalError, 500).
ErrorShape error_shape(const Error& error);

Error sqs_error(std::string_view code, std::string message);
Error queue_not_found();
Error invalid_parameter(std::string message);
// "Value V for parameter P is invalid. Reason: R."
Error invalid_parameter_value(std::string_view value, std::string_view parameter,
                              std::string_view reason);
Error missing_parameter(std::string_view parameter);
Error invalid_attribute_name(std::string_view name);
Error invalid_attribute_value(std::string_view name, std::string_view reason = {});
Error receipt_handle_invalid(std::string_view handle, std::string_view reason = {});

}  // namespace lambent::services::sqs
