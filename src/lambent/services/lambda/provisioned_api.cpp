#include "lambent/services/lambda/provisioned_api.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/2019-09-30/functions/";
constexpr std::string_view kSuffix = "/provisioned-concurrency";

bool is_version_number(std::string_view text) {
  return !text.empty() && text.size() <= 10 &&
         text.find_first_not_of("0123456789") == std::string_view::npos;
}

// AWS words a missing target by what the qualifier looks like: a version number or an alias.
Error target_not_found(const invoke::Invoker& invoker, std::string_view name,
                       std::string_view qualifier) {
  std::string arn = invoker.function_arn(name) + ":" + std::string(qualifier);
  if (is_version_number(qualifier)) return function_not_found(arn);
  return Error{Errc::not_found, "Cannot find alias arn: " + arn};
}

Error config_not_found() {
  return Error{Errc::not_found, "No Provisioned Concurrency Config found for this function",
               "ProvisionedConcurrencyConfigNotFoundException"};
}

// Checks that the qualifier names a published version or an alias of an existing function.
Status check_target(const invoke::Invoker& invoker, std::string_view name,
                    const std::optional<std::string>& qualifier) {
  if (!qualifier) {
    return validation_error(
        {"Value null at 'qualifier' failed to satisfy constraint: Member must not be null"});
  }
  if (*qualifier == "$LATEST") {
    if (!invoker.find(name)) return function_not_found(invoker.function_arn(name) + ":$LATEST");
    return invalid_parameter(
        "The function resource provided must be an alias or a published version.");
  }
  if (!invoker.find(name) || !invoker.qualifier_exists(name, *qualifier)) {
    return target_not_found(invoker, name, *qualifier);
  }
  if (auto alias = invoker.find_alias(name, *qualifier);
      alias && alias->function_version == "$LATEST") {
    return invalid_parameter(
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.");
  }
  return ok_status();
}

json::object render(const invoke::Invoker& invoker, const store::ProvisionedRecord& record,
                    bool with_arn) {
  auto status = invoker.provisioned_status(record.function_name, record.qualifier);
  json::object out;
  if (with_arn) {
    out["FunctionArn"] = invoker.function_arn(record.function_name) + ":" + record.qualifier;
  }
  out["RequestedProvisionedConcurrentExecutions"] = record.requested;
  out["AvailableProvisionedConcurrentExecutions"] = status.available;
  out["AllocatedProvisionedConcurrentExecutions"] = status.allocated;
  out["Status"] = status.status.empty() ? "IN_PROGRESS" : status.status;
  if (!status.status_reason.empty()) out["StatusReason"] = status.status_reason;
  out["LastModified"] = record.last_modified;
  return out;
}

// Reads ProvisionedConcurrentExecutions with the model's constraints (required, integer >= 1).
Result<std::int64_t> requested_field(const json::object& body) {
  auto it = body.find("ProvisionedConcurrentExecutions");
  if (it == body.end() || it->value().is_null()) {
    return validation_error(
        {"Value null at 'provisionedConcurrentExecutions' failed to satisfy "
         "constraint: Member must not be null"});
  }
  const json::value& value = it->value();
  if (!value.is_int64() && !(value.is_uint64() && value.as_uint64() <= INT64_MAX)) {
    std::string text = value.is_string() ? std::string(value.as_string()) : json::serialize(value);
    return Error{
        Errc::validation,
        fmt::format("Value '{}' for ProvisionedConcurrentExecutions must be an integer", text),
        "SerializationException"};
  }
  std::int64_t requested =
      value.is_int64() ? value.as_int64() : static_cast<std::int64_t>(value.as_uint64());
  if (requested < 1) {
    return validation_error({fmt::format(
        "Value '{}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member "
        "must have value greater than or equal to 1",
        requested)});
  }
  return requested;
}

// An alias and the version it points at cannot both carry a setting.
Status check_overlap(const invoke::Invoker& invoker, std::string_view name,
                     std::string_view qualifier) {
  if (auto alias = invoker.find_alias(name, qualifier)) {
    if (invoker.provisioned(name, alias->function_version)) {
      return Error{Errc::conflict,
                   "Alias can't be used for Provisioned Concurrency configuration on an already "
                   "Provisioned version"};
    }
    return ok_status();
  }
  for (const auto& record : invoker.list_provisioned(name)) {
    auto alias = invoker.find_alias(name, record.qualifier);
    if (alias && alias->function_version == qualifier) {
      return Error{Errc::conflict, "Version is pointed by a Provisioned Concurrency alias"};
    }
  }
  return ok_status();
}

// Checks a new setting against the function's reserved concurrency, or against the account's
// unreserved concurrency when the function has none.
Status check_limits(const invoke::Invoker& invoker, std::string_view name,
                    std::string_view qualifier, std::int64_t requested) {
  std::int64_t others = invoker.total_provisioned(name, qualifier);
  const auto& limiter = invoker.concurrency();
  if (auto reserved = limiter.reserved(name)) {
    if (others + requested > *reserved) {
      return invalid_parameter(
          "Requested Provisioned Concurrency should not be greater than the "
          "reservedConcurrentExecution for function");
    }
    return ok_status();
  }
  std::int64_t available =
      limiter.unreserved_limit() - invoker.unreserved_provisioned(name) - others;
  if (requested > available) {
    return invalid_parameter(fmt::format(
        "Specified ConcurrentExecutions for function is greater than account's unreserved "
        "concurrency [{}].",
        available));
  }
  if (available - requested < limiter.min_unreserved()) {
    return invalid_parameter(
        fmt::format("Specified ConcurrentExecutions for function decreases account's "
                    "UnreservedConcurrentExecution below its minimum value of [{}].",
                    limiter.min_unreserved()));
  }
  return ok_status();
}

Task<http::Response> list_configs(invoke::Invoker& invoker, const http::Request& request,
                                  const std::string& name, const std::string& request_id) {
  auto max_items = parse_max_items(request, 50, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  if (!invoker.find(name)) {
    co_return error_response(function_not_found(invoker.function_arn(name)), request_id);
  }
  // The marker is the base64 of the last qualifier returned.
  auto after = parse_marker(request);
  if (!after) co_return error_response(after.error(), request_id);
  json::array configs;
  std::string last;
  bool more = false;
  for (const auto& record : invoker.list_provisioned(name)) {
    if (!after->empty() && record.qualifier <= *after) continue;
    if (static_cast<std::int64_t>(configs.size()) == *max_items) {
      more = true;
      break;
    }
    configs.push_back(render(invoker, record, true));
    last = record.qualifier;
  }
  json::object out{{"ProvisionedConcurrencyConfigs", std::move(configs)}};
  if (more) out["NextMarker"] = base64_encode(last);
  co_return json_response(200, out, request_id);
}

}  // namespace

bool is_provisioned_route(std::string_view path) {
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return false;
  std::string_view name =
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return !name.empty() && name.find('/') == std::string_view::npos;
}

Task<std::optional<http::Response>> handle_provisioned(invoke::Invoker& invoker,
                                                       AsyncMutex& mutations,
                                                       http::Request& request,
                                                       std::string request_id) {
  std::string_view path = request.path();
  std::string raw_name = decode_path_segment(
      path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size()));
  const std::string& method = request.method;
  if (method != "GET" && method != "PUT" && method != "DELETE") co_return std::nullopt;

  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (method == "GET" && http::query_param(request.query(), "List").found) {
    co_return co_await list_configs(invoker, request, ref->name, request_id);
  }
  auto resolved = resolve_qualifier(*ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::optional<std::string> qualifier = *resolved;

  if (method == "GET") {
    if (auto valid = check_target(invoker, ref->name, qualifier); !valid) {
      co_return error_response(valid.error(), request_id);
    }
    const auto* record = invoker.provisioned(ref->name, *qualifier);
    if (!record) co_return error_response(config_not_found(), request_id);
    co_return json_response(200, render(invoker, *record, false), request_id);
  }

  if (method == "DELETE") {
    auto guard = co_await mutations.lock();
    if (auto valid = check_target(invoker, ref->name, qualifier); !valid) {
      co_return error_response(valid.error(), request_id);
    }
    auto removed = co_await invoker.delete_provisioned(ref->name, *qualifier);
    if (!removed) co_return error_response(removed.error(), request_id);
    http::Response response;
    response.status = 204;
    response.header("x-amzn-RequestId", request_id);
    co_return response;
  }

  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto requested = requested_field(*body);
  if (!requested) co_return error_response(requested.error(), request_id);
  auto guard = co_await mutations.lock();
  if (auto valid = check_target(invoker, ref->name, qualifier); !valid) {
    co_return error_response(valid.error(), request_id);
  }
  if (auto overlap = check_overlap(invoker, ref->name, *qualifier); !overlap) {
    co_return error_response(overlap.error(), request_id);
  }
  if (auto limits = check_limits(invoker, ref->name, *qualifier, *requested); !limits) {
    co_return error_response(limits.error(), request_id);
  }
  // Provisioned environments stay allocated, so together they must fit the host's memory cap.
  auto target = invoker.describe(ref->name, std::string_view(*qualifier));
  if (target) {
    std::uint64_t needed = static_cast<std::uint64_t>(*requested) *
                           static_cast<std::uint64_t>(target->spec->config.memory_mb);
    std::uint64_t others = invoker.provisioned_memory_mb(ref->name, *qualifier);
    if (others + needed > invoker.host_memory_mb()) {
      co_return error_response(
          invalid_parameter(fmt::format(
              "Requested provisioned concurrency needs {} MB. With the {} MB that other "
              "settings keep, it exceeds this host's environment memory of {} MB "
              "(lambent serve --host-memory-mb).",
              needed, others, invoker.host_memory_mb())),
          request_id);
    }
  }
  store::ProvisionedRecord record{ref->name, *qualifier, *requested, lambda_timestamp_now()};
  auto saved = co_await invoker.put_provisioned(record);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "provisioned_concurrency_saved", "function={} qualifier={} requested={}",
           ref->name, *qualifier, *requested);
  // AWS responds before any environment is ready, so the status starts at IN_PROGRESS.
  auto out = render(invoker, record, false);
  co_return json_response(202, out, request_id);
}

}  // namespace lambent::services::lambda
