#include "lambent/services/sqs/errors.h"

#include <fmt/format.h>

#include <array>

namespace lambent::services::sqs {

namespace {

// Query codes from the SQS model of botocore 1.29 (protocol query) and the shape names of
// botocore 1.43 (protocol json, awsQueryCompatible).
constexpr std::array<ErrorShape, 25> kShapes{{
    {400, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"},
    {400, "QueueAlreadyExists", "QueueNameExists"},
    {400, "AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"},
    {400, "InvalidParameterValue", "InvalidParameterValue"},
    {400, "MissingParameter", "MissingParameter"},
    {400, "InvalidAttributeName", "InvalidAttributeName"},
    {400, "InvalidAttributeValue", "InvalidAttributeValue"},
    {400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"},
    {400, "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight"},
    {400, "InvalidMessageContents", "InvalidMessageContents"},
    {400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest"},
    {400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct"},
    {400, "AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest"},
    {400, "AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId"},
    {400, "AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong"},
    {403, "AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"},
    {400, "AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation"},
    {400, "InvalidAction", "InvalidAction"},
    {400, "MissingAction", "MissingAction"},
    {400, "InvalidQueryParameter", "InvalidQueryParameter"},
    {400, "MalformedQueryString", "MalformedQueryString"},
    {400, "InvalidAddress", "InvalidAddress"},
    {403, "OverLimit", "OverLimit"},
    {403, "SignatureDoesNotMatch", "SignatureDoesNotMatch"},
    {403, "InvalidClientTokenId", "InvalidClientTokenId"},
}};

}  // namespace

ErrorShape error_shape(const Error& error) {
  for (const auto& shape : kShapes) {
    if (shape.code == error.type) return shape;
  }
  switch (error.code) {
    case Errc::invalid_parameter:
    case Errc::validation:
    case Errc::invalid_content:
    case Errc::too_large:
      return {400, "InvalidParameterValue", "InvalidParameterValue"};
    case Errc::not_found:
      return kShapes[0];
    case Errc::unauthorized:
      return {403, "InvalidClientTokenId", "InvalidClientTokenId"};
    case Errc::throttled:
      return {400, "RequestThrottled", "RequestThrottled"};
    case Errc::not_implemented:
      return {400, "AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation"};
    default:
      return {500, "InternalError", "InternalError", false};
  }
}

Error sqs_error(std::string_view code, std::string message) {
  Errc errc =
      code == "AWS.SimpleQueueService.NonExistentQueue" ? Errc::not_found : Errc::invalid_parameter;
  return Error{errc, std::move(message), std::string(code)};
}

Error queue_not_found() {
  return sqs_error("AWS.SimpleQueueService.NonExistentQueue",
                   "The specified queue does not exist.");
}

Error invalid_parameter(std::string message) {
  return sqs_error("InvalidParameterValue", std::move(message));
}

Error invalid_parameter_value(std::string_view value, std::string_view parameter,
                              std::string_view reason) {
  return invalid_parameter(
      fmt::format("Value {} for parameter {} is invalid. Reason: {}", value, parameter, reason));
}

Error missing_parameter(std::string_view parameter) {
  return sqs_error("MissingParameter",
                   fmt::format("The request must contain the parameter {}.", parameter));
}

Error invalid_attribute_name(std::string_view name) {
  return sqs_error("InvalidAttributeName", fmt::format("Unknown Attribute {}.", name));
}

Error invalid_attribute_value(std::string_view name, std::string_view reason) {
  std::string message = fmt::format("Invalid value for the parameter {}.", name);
  if (!reason.empty()) message += fmt::format(" Reason: {}", reason);
  return sqs_error("InvalidAttributeValue", std::move(message));
}

Error receipt_handle_invalid(std::string_view handle, std::string_view reason) {
  if (!reason.empty()) return sqs_error("ReceiptHandleIsInvalid", std::string(reason));
  return sqs_error(
      "ReceiptHandleIsInvalid",
      fmt::format("The input receipt handle \"{}\" is not a valid receipt handle.", handle));
}

}  // namespace lambent::services::sqs
