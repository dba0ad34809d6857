#include "lambent/services/cloudwatch/errors.h"

#include <fmt/format.h>

#include <array>

namespace lambent::services::cloudwatch {

namespace {

// Codes, statuses and shapes from the CloudWatch model (botocore 1.43, monitoring 2010-08-01).
// The codes without a modelled shape (ValidationError, MalformedInput, InvalidAction and the
// signature errors) are the query protocol's common errors.
constexpr std::array<ErrorShape, 19> kShapes = {{
    {400, "InvalidParameterValue", "InvalidParameterValueException", true},
    {400, "MissingParameter", "MissingRequiredParameterException", true},
    {400, "InvalidParameterCombination", "InvalidParameterCombinationException", true},
    {500, "InternalServiceError", "InternalServiceFault", false},
    {404, "ResourceNotFound", "ResourceNotFound", true},
    {400, "InvalidFormat", "InvalidFormatFault", true},
    {400, "InvalidNextToken", "InvalidNextToken", true},
    {400, "LimitExceeded", "LimitExceededFault", true},
    {400, "ValidationError", "ValidationError", true},
    {400, "MalformedInput", "MalformedInput", true},
    {400, "InvalidAction", "InvalidAction", true},
    {501, "NotImplemented", "NotImplemented", false},
    {413, "RequestEntityTooLarge", "RequestEntityTooLarge", true},
    {400, "SerializationException", "SerializationException", true},
    {403, "MissingAuthenticationToken", "MissingAuthenticationToken", true},
    {400, "IncompleteSignature", "IncompleteSignature", true},
    {403, "SignatureDoesNotMatch", "SignatureDoesNotMatch", true},
    {403, "InvalidClientTokenId", "InvalidClientTokenId", true},
    {400, "InvalidQueryParameter", "InvalidQueryParameter", true},
}};

const ErrorShape& shape_named(std::string_view code) {
  for (const auto& shape : kShapes) {
    if (shape.code == code) return shape;
  }
  return kShapes[3];  // InternalServiceError
}

std::string_view code_for(Errc code) {
  switch (code) {
    case Errc::invalid_parameter:
      return "InvalidParameterValue";
    case Errc::validation:
      return "ValidationError";
    case Errc::not_found:
      return "ResourceNotFound";
    case Errc::conflict:
      return "InvalidParameterCombination";
    case Errc::precondition_failed:
      return "InvalidParameterValue";
    case Errc::too_large:
      return "RequestEntityTooLarge";
    case Errc::invalid_content:
      return "MalformedInput";
    case Errc::throttled:
      return "LimitExceeded";
    case Errc::unauthorized:
      return "SignatureDoesNotMatch";
    case Errc::not_implemented:
      return "NotImplemented";
    case Errc::io:
    case Errc::internal:
      return "InternalServiceError";
  }
  return "InternalServiceError";
}

Error make(Errc code, std::string_view type, std::string message) {
  return Error{code, std::move(message), std::string(type)};
}

}  // namespace

ErrorShape error_shape(const Error& error) {
  if (!error.type.empty()) {
    const ErrorShape& shape = shape_named(error.type);
    if (shape.code == error.type) return shape;
  }
  return shape_named(code_for(error.code));
}

Error invalid_value(std::string message) {
  return make(Errc::invalid_parameter, "InvalidParameterValue", std::move(message));
}

Error invalid_value_for(std::string_view value, std::string_view path) {
  return invalid_value(fmt::format("The value {} for parameter {} is invalid.", value, path));
}

Error missing_parameter(std::string_view path) {
  return make(Errc::invalid_parameter, "MissingParameter",
              fmt::format("The parameter {} is required.", path));
}

Error invalid_combination(std::string message) {
  return make(Errc::invalid_parameter, "InvalidParameterCombination", std::move(message));
}

Error validation_error(std::string message) {
  return make(Errc::validation, "ValidationError", std::move(message));
}

Error constraint_error(std::string_view value, std::string_view path, std::string_view constraint) {
  return validation_error(fmt::format(
      "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: {}", value,
      path, constraint));
}

Error malformed_input(std::string message) {
  return make(Errc::invalid_content, "MalformedInput", std::move(message));
}

Error resource_not_found(std::string message) {
  return make(Errc::not_found, "ResourceNotFound", std::move(message));
}

Error invalid_next_token() {
  return make(Errc::invalid_parameter, "InvalidNextToken", "The specified next token is invalid.");
}

Error invalid_format(std::string message) {
  return make(Errc::invalid_parameter, "InvalidFormat", std::move(message));
}

Error invalid_action(std::string_view operation) {
  return make(Errc::invalid_parameter, "InvalidAction",
              fmt::format("The action {} is not valid for this web service.", operation));
}

Error not_implemented(std::string_view operation) {
  return make(Errc::not_implemented, "NotImplemented",
              fmt::format("The CloudWatch operation {} is not implemented by Lambent. See "
                          "docs/compat/cloudwatch.md for the operations it serves.",
                          operation));
}

Error request_too_large(std::string message) {
  return make(Errc::too_large, "RequestEntityTooLarge", std::move(message));
}

}  // namespace lambent::services::cloudwatch
