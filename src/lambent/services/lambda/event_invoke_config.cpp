#include "lambent/services/lambda/event_invoke_config.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/invoke/async_policy.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <regex>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kDestinationPattern =
    R"($|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*))";

// The fields of a Put or Update body, validated. Absent fields stay unset.
struct ConfigChange {
  std::optional<int> maximum_retry_attempts;
  std::optional<int> maximum_event_age_seconds;
  bool has_destination_config = false;
  std::optional<std::string> on_success;  // set when OnSuccess is present
  std::optional<std::string> on_failure;
};

// Reads DestinationConfig.<key>.Destination. Returns nullopt when <key> is absent and "" when
// it names no destination.
Result<std::optional<std::string>> destination_field(const json::object& destinations,
                                                     std::string_view key, std::string_view field,
                                                     std::vector<std::string>& violations) {
  auto it = destinations.find(key);
  if (it == destinations.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_object()) return serialization_error(key, it->value());
  const auto& target = it->value().as_object();
  auto arn = target.find("Destination");
  if (arn == target.end() || arn->value().is_null()) return std::optional<std::string>("");
  if (!arn->value().is_string()) return serialization_error("Destination", arn->value());
  std::string value(arn->value().as_string());
  static const std::regex pattern{std::string(kDestinationPattern)};
  if (value.size() > 350) {
    violations.push_back(
        constraint(value, field, "Member must have length less than or equal to 350"));
  } else if (!std::regex_match(value, pattern)) {
    violations.push_back(constraint(
        value, field,
        fmt::format("Member must satisfy regular expression pattern: {}", kDestinationPattern)));
  }
  return std::optional<std::string>(std::move(value));
}

Result<ConfigChange> parse_change(const json::object& body) {
  ConfigChange change;
  std::vector<std::string> violations;
  auto retries =
      bounded_int(body, "MaximumRetryAttempts", "maximumRetryAttempts", 0, 2, violations);
  if (!retries) return std::move(retries).error();
  change.maximum_retry_attempts = *retries;
  auto age = bounded_int(body, "MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", 60, 21600,
                         violations);
  if (!age) return std::move(age).error();
  change.maximum_event_age_seconds = *age;

  if (auto it = body.find("DestinationConfig"); it != body.end() && !it->value().is_null()) {
    if (!it->value().is_object()) return serialization_error("DestinationConfig", it->value());
    change.has_destination_config = true;
    const auto& destinations = it->value().as_object();
    auto on_success = destination_field(destinations, "OnSuccess",
                                        "destinationConfig.onSuccess.destination", violations);
    if (!on_success) return std::move(on_success).error();
    change.on_success = *on_success;
    auto on_failure = destination_field(destinations, "OnFailure",
                                        "destinationConfig.onFailure.destination", violations);
    if (!on_failure) return std::move(on_failure).error();
    change.on_failure = *on_failure;
  }
  if (!violations.empty()) return validation_error(std::move(violations));
  return change;
}

std::string describe_destination(std::string_view key, const std::optional<std::string>& arn) {
  if (!arn) return "null";
  return fmt::format("{}(destination={})", key, arn->empty() ? "null" : *arn);
}

// Checks the destinations against the services AWS delivers to and the functions that exist.
Status check_destinations(const invoke::Invoker& invoker, std::string_view function_name,
                          const ConfigChange& change) {
  for (const auto* arn : {&change.on_success, &change.on_failure}) {
    if (!*arn || (*arn)->empty()) continue;
    auto service = invoke::target_service(**arn);
    if (service == invoke::TargetService::other) {
      return invalid_parameter(fmt::format(
          "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) is "
          "invalid.",
          describe_destination("OnSuccess", change.on_success),
          describe_destination("OnFailure", change.on_failure)));
    }
    if (service != invoke::TargetService::lambda) continue;
    auto target = invoke::parse_lambda_arn(**arn);
    if (target && target->name == function_name) {
      return invalid_parameter("You can't specify the function as a destination for itself.");
    }
    if (!target || !invoker.qualifier_exists(target->name, target->qualifier)) {
      return invalid_parameter(fmt::format("The destination ARN {} is invalid.", **arn));
    }
  }
  return ok_status();
}

json::object render(const invoke::Invoker& invoker, const store::EventInvokeConfig& config) {
  json::object on_success;
  if (!config.on_success.empty()) on_success["Destination"] = config.on_success;
  json::object on_failure;
  if (!config.on_failure.empty()) on_failure["Destination"] = config.on_failure;
  json::object out{
      // A timestamp member of a REST-JSON response: epoch seconds.
      {"LastModified", static_cast<double>(config.last_modified_ms) / 1000.0},
      {"FunctionArn", invoker.function_arn(config.function_name) + ":" + config.qualifier},
      {"DestinationConfig",
       json::object{{"OnSuccess", std::move(on_success)}, {"OnFailure", std::move(on_failure)}}},
  };
  if (config.maximum_retry_attempts) out["MaximumRetryAttempts"] = *config.maximum_retry_attempts;
  if (config.maximum_event_age_seconds) {
    out["MaximumEventAgeInSeconds"] = *config.maximum_event_age_seconds;
  }
  return out;
}

Error function_does_not_exist() { return Error{Errc::not_found, "The function doesn't exist."}; }

Error config_not_found(const invoke::Invoker& invoker, std::string_view name,
                       std::string_view qualifier) {
  return Error{Errc::not_found, fmt::format("The function {}:{} doesn't have an EventInvokeConfig",
                                            invoker.function_arn(name), qualifier)};
}

enum class Write { put, update };

Task<http::Response> write_config(invoke::Invoker& invoker, AsyncMutex& mutations,
                                  http::Request& request, FunctionRef ref, std::string qualifier,
                                  Write mode, std::string request_id) {
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto change = parse_change(*body);
  if (!change) co_return error_response(change.error(), request_id);

  auto guard = co_await mutations.lock();
  if (!invoker.qualifier_exists(ref.name, qualifier)) {
    co_return error_response(function_does_not_exist(), request_id);
  }
  const auto* existing = invoker.event_invoke_config(ref.name, qualifier);
  if (mode == Write::update && !existing) {
    co_return error_response(config_not_found(invoker, ref.name, qualifier), request_id);
  }
  if (!change->maximum_retry_attempts && !change->maximum_event_age_seconds &&
      !change->has_destination_config) {
    co_return error_response(
        invalid_parameter(
            "You must specify at least one of error handling or destination setting."),
        request_id);
  }
  if (auto checked = check_destinations(invoker, ref.name, *change); !checked) {
    co_return error_response(checked.error(), request_id);
  }

  // Put replaces the whole config; Update changes only the fields the request names.
  store::EventInvokeConfig config;
  if (mode == Write::update) config = *existing;
  config.function_name = ref.name;
  config.qualifier = qualifier;
  if (mode == Write::put || change->maximum_retry_attempts) {
    config.maximum_retry_attempts = change->maximum_retry_attempts;
  }
  if (mode == Write::put || change->maximum_event_age_seconds) {
    config.maximum_event_age_seconds = change->maximum_event_age_seconds;
  }
  if (mode == Write::put || change->on_success) config.on_success = change->on_success.value_or("");
  if (mode == Write::put || change->on_failure) config.on_failure = change->on_failure.value_or("");
  config.last_modified_ms = epoch_ms();
  auto saved = co_await invoker.put_event_invoke_config(config);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "event_invoke_config_saved", "function={} qualifier={}", ref.name, qualifier);
  co_return json_response(200, render(invoker, config), request_id);
}

Task<http::Response> list_configs(invoke::Invoker& invoker, const http::Request& request,
                                  const FunctionRef& ref, std::string request_id) {
  auto max_items = parse_max_items(request, 50, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  if (!invoker.find(ref.name)) co_return error_response(function_does_not_exist(), request_id);

  // The marker is the base64 of the last qualifier returned.
  auto after = parse_marker(request);
  if (!after) co_return error_response(after.error(), request_id);
  json::array configs;
  std::string last;
  bool more = false;
  for (const auto& config : invoker.event_invoke_configs(ref.name)) {
    if (!after->empty() && config.qualifier <= *after) continue;
    if (static_cast<std::int64_t>(configs.size()) == *max_items) {
      more = true;
      break;
    }
    configs.push_back(render(invoker, config));
    last = config.qualifier;
  }
  json::object out{{"FunctionEventInvokeConfigs", std::move(configs)}};
  if (more) out["NextMarker"] = base64_encode(last);
  co_return json_response(200, out, request_id);
}

}  // namespace

Task<std::optional<http::Response>> handle_event_invoke_config(invoke::Invoker& invoker,
                                                               AsyncMutex& mutations,
                                                               http::Request& request,
                                                               std::string request_id) {
  std::string_view rest = request.path().substr(kEventInvokeConfigPrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) co_return std::nullopt;
  std::string raw_name = decode_path_segment(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash);
  bool list = tail == "/event-invoke-config/list" || tail == "/event-invoke-config/list/";
  bool single = tail == "/event-invoke-config" || tail == "/event-invoke-config/";
  const std::string& method = request.method;
  if (!(list && method == "GET") &&
      !(single && (method == "PUT" || method == "POST" || method == "GET" || method == "DELETE"))) {
    co_return std::nullopt;
  }

  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (list) co_return co_await list_configs(invoker, request, *ref, request_id);

  auto resolved = resolve_qualifier(*ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::string qualifier = resolved->value_or("$LATEST");

  if (method == "PUT" || method == "POST") {
    Write mode = method == "PUT" ? Write::put : Write::update;
    co_return co_await write_config(invoker, mutations, request, *ref, qualifier, mode, request_id);
  }
  const auto* config = invoker.event_invoke_config(ref->name, qualifier);
  if (!config) {
    co_return error_response(config_not_found(invoker, ref->name, qualifier), request_id);
  }
  if (method == "GET") co_return json_response(200, render(invoker, *config), request_id);

  auto guard = co_await mutations.lock();
  auto removed = co_await invoker.delete_event_invoke_config(ref->name, qualifier);
  if (!removed) co_return error_response(removed.error(), request_id);
  LOG_INFO("lambda", "event_invoke_config_deleted", "function={} qualifier={}", ref->name,
           qualifier);
  http::Response response;
  response.status = 204;
  response.header("x-amzn-RequestId", request_id);
  co_return response;
}

}  // namespace lambent::services::lambda
