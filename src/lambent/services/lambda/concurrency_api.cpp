// PutFunctionConcurrency, GetFunctionConcurrency and DeleteFunctionConcurrency.
#include "lambent/base/log.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/lambda_service.h"
#include "lambent/services/lambda/service_common.h"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kPutDeletePrefix = "/2017-10-31/functions/";
constexpr std::string_view kGetPrefix = "/2019-09-30/functions/";
constexpr std::string_view kSuffix = "/concurrency";

// Returns the raw FunctionName of a concurrency path for `method`, or nothing when the path is
// not one of the three operations.
std::optional<std::string_view> match_route(std::string_view path, std::string_view method) {
  std::string_view prefix;
  if (method == "PUT" || method == "DELETE") {
    prefix = kPutDeletePrefix;
  } else if (method == "GET") {
    prefix = kGetPrefix;
  } else {
    return std::nullopt;
  }
  if (!path.starts_with(prefix) || !path.ends_with(kSuffix)) return std::nullopt;
  std::string_view name = path.substr(prefix.size(), path.size() - prefix.size() - kSuffix.size());
  if (name.empty() || name.find('/') != std::string_view::npos) return std::nullopt;
  return name;
}

Error qualified_name_rejected() {
  return invalid_parameter(
      "This operation is permitted on Lambda functions only. Aliases and versions do not "
      "support this operation. Please specify either a function name or an unqualified "
      "function ARN.");
}

// Reads ReservedConcurrentExecutions with the model's constraints (required, integer >= 0).
Result<std::int64_t> reserved_field(const json::object& body) {
  auto it = body.find("ReservedConcurrentExecutions");
  if (it == body.end() || it->value().is_null()) {
    return validation_error({"Value null at 'reservedConcurrentExecutions' failed to satisfy "
                             "constraint: Member must not be null"});
  }
  const json::value& value = it->value();
  std::int64_t reserved = 0;
  if (value.is_int64()) {
    reserved = value.as_int64();
  } else if (value.is_uint64() && value.as_uint64() <= INT64_MAX) {
    reserved = static_cast<std::int64_t>(value.as_uint64());
  } else {
    std::string text = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    return Error{Errc::validation,
                 fmt::format("Value '{}' for ReservedConcurrentExecutions must be an integer",
                             text),
                 "SerializationException"};
  }
  if (reserved < 0) {
    return validation_error({fmt::format(
        "Value '{}' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must "
        "have value greater than or equal to 0",
        reserved)});
  }
  return reserved;
}

}  // namespace

bool LambdaService::is_concurrency_route(std::string_view path, std::string_view method) {
  return match_route(path, method).has_value();
}

Task<http::Response> LambdaService::function_concurrency(http::Request& request,
                                                         const std::string& request_id) {
  std::string_view raw_name = *match_route(request.path(), request.method);
  auto ref = parse_function_name(decode_path_segment(raw_name), NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (ref->qualifier) co_return error_response(qualified_name_rejected(), request_id);

  if (request.method == "GET") {
    if (!invoker_.find(ref->name)) {
      co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
    }
    json::object out;
    if (auto reserved = invoker_.concurrency().reserved(ref->name)) {
      out["ReservedConcurrentExecutions"] = *reserved;
    }
    co_return json_response(200, out, request_id);
  }

  if (request.method == "DELETE") {
    auto guard = co_await mutations_.lock();
    if (!invoker_.find(ref->name)) {
      co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
    }
    auto removed = co_await invoker_.delete_reserved_concurrency(ref->name);
    if (!removed) co_return error_response(removed.error(), request_id);
    LOG_INFO("lambda", "reserved_concurrency_deleted", "function={}", ref->name);
    http::Response response;
    response.status = 204;
    response.header("x-amzn-RequestId", request_id);
    co_return response;
  }

  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto reserved = reserved_field(*body);
  if (!reserved) co_return error_response(reserved.error(), request_id);
  auto guard = co_await mutations_.lock();
  if (!invoker_.find(ref->name)) {
    // AWS names the $LATEST version in this operation's message.
    co_return error_response(function_not_found(invoker_.function_arn(ref->name) + ":$LATEST"),
                             request_id);
  }
  if (auto provisioned = invoker_.total_provisioned(ref->name); *reserved < provisioned) {
    // AWS's message, spacing included.
    co_return error_response(
        invalid_parameter(fmt::format(" ReservedConcurrentExecutions  {} should not be lower "
                                      "than function's total provisioned concurrency [{}].",
                                      *reserved, provisioned)),
        request_id);
  }
  // Provisioned concurrency of functions without a reservation comes out of the unreserved
  // pool too, as in PutProvisionedConcurrencyConfig's check.
  const auto& limiter = invoker_.concurrency();
  std::int64_t unreserved_after = limiter.unreserved_limit() +
                                  limiter.reserved(ref->name).value_or(0) - *reserved -
                                  invoker_.unreserved_provisioned(ref->name);
  if (unreserved_after < limiter.min_unreserved()) {
    co_return error_response(
        invalid_parameter(fmt::format("Specified ReservedConcurrentExecutions for function "
                                      "decreases account's UnreservedConcurrentExecution below "
                                      "its minimum value of [{}].",
                                      limiter.min_unreserved())),
        request_id);
  }
  auto saved = co_await invoker_.put_reserved_concurrency(ref->name, *reserved);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "reserved_concurrency_set", "function={} reserved={}", ref->name, *reserved);
  co_return json_response(200, json::object{{"ReservedConcurrentExecutions", *reserved}},
                          request_id);
}

}  // namespace lambent::services::lambda
