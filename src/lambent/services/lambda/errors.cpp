#include "lambent/services/lambda/errors.h"

#include <boost/json.hpp>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

struct Shape {
  unsigned status;
  std::string_view type;
  std::string_view kind;          // "Type" field value, empty when AWS sends none
  std::string_view message_key;   // "message" or "Message"
};

Shape shape_for(Errc code) {
  switch (code) {
    case Errc::invalid_parameter: return {400, "InvalidParameterValueException", "User", "message"};
    case Errc::validation: return {400, "ValidationException", "", "message"};
    case Errc::not_found: return {404, "ResourceNotFoundException", "User", "Message"};
    case Errc::conflict: return {409, "ResourceConflictException", "User", "message"};
    case Errc::precondition_failed:
      return {412, "PreconditionFailedException", "User", "message"};
    case Errc::too_large: return {413, "RequestEntityTooLargeException", "User", "message"};
    case Errc::invalid_content: return {400, "InvalidRequestContentException", "User", "message"};
    case Errc::throttled: return {429, "TooManyRequestsException", "User", "message"};
    case Errc::unauthorized: return {403, "UnrecognizedClientException", "", "message"};
    case Errc::not_implemented: return {501, "NotImplemented", "", "message"};
    case Errc::io: return {500, "ServiceException", "Service", "message"};
    case Errc::internal: return {500, "ServiceException", "Service", "message"};
  }
  return {500, "ServiceException", "Service", "message"};
}

}  // namespace

http::Response error_response(const Error& error, std::string_view request_id) {
  Shape shape = shape_for(error.code);
  std::string type(shape.type);
  json::object body;
  if (error.code == Errc::throttled) {
    // For throttling, Error::type carries the Reason ("ConcurrentInvocationLimitExceeded").
    // AWS sends no Retry-After header with a concurrency throttle, so the model's
    // retryAfterSeconds stays unset.
    body["Reason"] = error.type.empty() ? "ConcurrentInvocationLimitExceeded" : error.type;
  } else if (!error.type.empty()) {
    type = error.type;
  }
  // AWS spells this not-found error's message field in lower case, unlike the others.
  if (type == "ProvisionedConcurrencyConfigNotFoundException") shape.message_key = "message";
  if (!shape.kind.empty()) body["Type"] = shape.kind;
  body[shape.message_key] = error.message;

  http::Response response;
  response.status = shape.status;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", type);
  response.body = json::serialize(body);
  return response;
}

std::string join_validation_errors(const std::vector<std::string>& errors) {
  std::string out = std::to_string(errors.size()) +
                    (errors.size() == 1 ? " validation error detected: "
                                        : " validation errors detected: ");
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i) out += "; ";
    out += errors[i];
  }
  return out;
}

Error function_not_found(std::string_view arn) {
  return Error{Errc::not_found, "Function not found: " + std::string(arn)};
}

Error validation_error(std::vector<std::string> errors) {
  return Error{Errc::validation, join_validation_errors(errors)};
}

Error invalid_parameter(std::string message) {
  return Error{Errc::invalid_parameter, std::move(message)};
}

}  // namespace lambent::services::lambda
