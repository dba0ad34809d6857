#pragma once

#include "lambent/base/result.h"

#include <string>
#include <string_view>

// CloudWatch's errors. Error::type carries the query-protocol error code ("InvalidParameterValue");
// error_shape() gives the HTTP status, the fault side and the Smithy shape name that the JSON
// and CBOR protocols put in __type. Messages follow AWS's wording where it is known.
namespace lambent::services::cloudwatch {

struct ErrorShape {
  unsigned status = 400;
  std::string_view code;   // query protocol <Code>, and the first half of x-amzn-query-error
  std::string_view shape;  // Smithy shape name for __type
  bool sender = true;      // <Type>Sender</Type>, else Receiver
};

// The shape of an error by its code in Error::type, or by Error::code when the type is empty
// (errors from the metric store: Errc::io becomes InternalServiceError, and so on).
ErrorShape error_shape(const Error& error);

// InvalidParameterValue (400).
Error invalid_value(std::string message);
// "The value V for parameter P is invalid." as InvalidParameterValue.
Error invalid_value_for(std::string_view value, std::string_view path);
// MissingParameter (400): "The parameter P is required."
Error missing_parameter(std::string_view path);
// InvalidParameterCombination (400).
Error invalid_combination(std::string message);
// ValidationError (400), the code AWS gives for model constraint violations.
Error validation_error(std::string message);
// "1 validation error detected: Value 'V' at 'P' failed to satisfy constraint: C".
Error constraint_error(std::string_view value, std::string_view path, std::string_view constraint);
// MalformedInput (400): a value that does not parse as its type.
Error malformed_input(std::string message);
// ResourceNotFound (404).
Error resource_not_found(std::string message);
// InvalidNextToken (400).
Error invalid_next_token();
// InvalidFormat (400).
Error invalid_format(std::string message);
// InvalidAction (400): an operation CloudWatch does not have.
Error invalid_action(std::string_view operation);
// NotImplemented (501): a CloudWatch operation that Lambent does not serve.
Error not_implemented(std::string_view operation);
// RequestEntityTooLarge (413).
Error request_too_large(std::string message);

}  // namespace lambent::services::cloudwatch
