#include "lambent/services/lambda/event_source_mapping_api.h"

#include "lambent/base/crypto.h"
#include "lambent/patterns/event_pattern.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/service_common.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/2015-03-31/event-source-mappings";

// Parameters that apply to stream and Kafka sources only.
constexpr std::string_view kStreamOnly[] = {
    "ParallelizationFactor", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",  "TumblingWindowInSeconds",    "Topics",
    "Queues",                "SourceAccessConfigurations", "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
    "DocumentDBEventSourceConfig"};

Error mapping_not_found() {
  return Error{Errc::not_found, "The resource you requested does not exist."};
}

double now_seconds() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()) /
         1000.0;
}

bool is_sqs_arn(std::string_view arn) { return arn.starts_with("arn:aws:sqs:"); }

std::string mapping_arn(const invoke::Invoker& invoker, std::string_view uuid) {
  return fmt::format("arn:aws:lambda:{}:{}:event-source-mapping:{}", invoker.options().region,
                     invoker.options().account_id, uuid);
}

json::object render(const invoke::Invoker& invoker, const sources::EventSourceMapping& mapping,
                    std::string_view state) {
  json::object out;
  out["BatchSize"] = mapping.batch_size;
  out["EventSourceArn"] = mapping.event_source_arn;
  out["EventSourceMappingArn"] = mapping_arn(invoker, mapping.uuid);
  if (!mapping.filter_patterns.empty()) {
    json::array filters;
    for (const auto& pattern : mapping.filter_patterns) {
      filters.push_back(json::object{{"Pattern", pattern}});
    }
    out["FilterCriteria"] = json::object{{"Filters", std::move(filters)}};
  }
  out["FunctionArn"] = mapping.function_arn;
  json::array response_types;
  if (mapping.report_batch_item_failures) response_types.emplace_back("ReportBatchItemFailures");
  out["FunctionResponseTypes"] = std::move(response_types);
  out["LastModified"] = mapping.last_modified;
  out["MaximumBatchingWindowInSeconds"] = mapping.maximum_batching_window_seconds;
  if (mapping.maximum_concurrency) {
    out["ScalingConfig"] = json::object{{"MaximumConcurrency", *mapping.maximum_concurrency}};
  }
  out["State"] = state;
  out["StateTransitionReason"] = "USER_INITIATED";
  out["UUID"] = mapping.uuid;
  return out;
}

std::string_view settled_state(const sources::EventSourceMapping& mapping) {
  return mapping.enabled ? "Enabled" : "Disabled";
}

// The fields of a Create or Update request body, checked for type and range.
struct MappingChange {
  std::optional<std::string> function_name;
  std::optional<std::string> event_source_arn;
  std::optional<bool> enabled;
  std::optional<int> batch_size;
  std::optional<int> batching_window;
  std::optional<std::vector<std::string>> filter_patterns;
  std::optional<bool> report_batch_item_failures;
  bool has_scaling_config = false;
  std::optional<int> maximum_concurrency;
  std::optional<std::string> starting_position;
  bool has_destination_config = false;
  std::vector<std::string> stream_only;  // stream-only parameters present in the body
};

Result<std::optional<std::string>> string_field(const json::object& body, std::string_view key) {
  const auto* value = body.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return serialization_error(key, *value);
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::optional<bool>> bool_field(const json::object& body, std::string_view key) {
  const auto* value = body.if_contains(key);
  if (value == nullptr || value->is_null()) return std::optional<bool>();
  if (!value->is_bool()) return serialization_error(key, *value);
  return std::optional<bool>(value->as_bool());
}

// FilterCriteria: {"Filters": [{"Pattern": "<JSON object>"}, ...]}, validated by the pattern
// parser. Returns the pattern texts as the caller sent them.
Result<std::vector<std::string>> parse_filter_criteria(const json::value& criteria) {
  auto parsed = patterns::FilterCriteria::parse(criteria, patterns::FilterSource::sqs);
  if (!parsed) return parsed.error();
  std::vector<std::string> texts;
  const auto* filters = criteria.as_object().if_contains("Filters");
  if (filters == nullptr || !filters->is_array()) return texts;
  for (const auto& filter : filters->as_array()) {
    texts.emplace_back(filter.as_object().at("Pattern").as_string());
  }
  return texts;
}

Result<MappingChange> parse_change(const json::object& body) {
  MappingChange change;
  std::vector<std::string> violations;
  auto function_name = string_field(body, "FunctionName");
  if (!function_name) return function_name.error();
  change.function_name = std::move(*function_name);
  auto source = string_field(body, "EventSourceArn");
  if (!source) return source.error();
  change.event_source_arn = std::move(*source);
  auto enabled = bool_field(body, "Enabled");
  if (!enabled) return enabled.error();
  change.enabled = *enabled;
  auto batch_size = bounded_int(body, "BatchSize", "batchSize", 1, 10000, violations);
  if (!batch_size) return batch_size.error();
  change.batch_size = *batch_size;
  auto window = bounded_int(body, "MaximumBatchingWindowInSeconds",
                            "maximumBatchingWindowInSeconds", 0, 300, violations);
  if (!window) return window.error();
  change.batching_window = *window;

  if (const auto* types = body.if_contains("FunctionResponseTypes");
      types != nullptr && !types->is_null()) {
    if (!types->is_array()) return serialization_error("FunctionResponseTypes", *types);
    bool report = false;
    for (const auto& type : types->as_array()) {
      if (!type.is_string()) return serialization_error("FunctionResponseTypes", type);
      if (type.as_string() != "ReportBatchItemFailures") {
        violations.push_back(constraint(
            fmt::format("[{}]", std::string_view(type.as_string())), "functionResponseTypes",
            "Member must satisfy constraint: [Member must satisfy enum value set: "
            "[ReportBatchItemFailures]]"));
      } else {
        report = true;
      }
    }
    if (types->as_array().size() > 1) {
      violations.push_back(constraint(json::serialize(*types), "functionResponseTypes",
                                      "Member must have length less than or equal to 1"));
    }
    change.report_batch_item_failures = report;
  }

  if (const auto* scaling = body.if_contains("ScalingConfig");
      scaling != nullptr && !scaling->is_null()) {
    if (!scaling->is_object()) return serialization_error("ScalingConfig", *scaling);
    change.has_scaling_config = true;
    auto maximum = bounded_int(scaling->as_object(), "MaximumConcurrency",
                               "scalingConfig.maximumConcurrency", 2, 1000, violations);
    if (!maximum) return maximum.error();
    change.maximum_concurrency = *maximum;
  }

  auto position = string_field(body, "StartingPosition");
  if (!position) return position.error();
  if (*position && **position != "TRIM_HORIZON" && **position != "LATEST" &&
      **position != "AT_TIMESTAMP") {
    violations.push_back(constraint(**position, "startingPosition",
                                    "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, "
                                    "TRIM_HORIZON]"));
  }
  change.starting_position = std::move(*position);
  if (!violations.empty()) return validation_error(std::move(violations));

  if (const auto* criteria = body.if_contains("FilterCriteria");
      criteria != nullptr && !criteria->is_null()) {
    auto patterns = parse_filter_criteria(*criteria);
    if (!patterns) return patterns.error();
    change.filter_patterns = std::move(*patterns);
  }
  if (const auto* destination = body.if_contains("DestinationConfig");
      destination != nullptr && !destination->is_null()) {
    change.has_destination_config = true;
  }
  for (auto key : kStreamOnly) {
    const auto* value = body.if_contains(key);
    if (value != nullptr && !value->is_null()) change.stream_only.emplace_back(key);
  }
  return change;
}

// Resolves FunctionName into the mapping's function fields. AWS rejects an unknown function
// with InvalidParameterValueException here, not ResourceNotFoundException.
Status apply_function(const invoke::Invoker& invoker, std::string_view raw,
                      sources::EventSourceMapping& mapping) {
  auto ref = parse_function_name(raw, NameContext::other);
  if (!ref) return ref.error();
  if (!invoker.find(ref->name)) return invalid_parameter("Function does not exist");
  if (ref->qualifier && !invoker.qualifier_exists(ref->name, *ref->qualifier)) {
    return invalid_parameter("Function does not exist");
  }
  mapping.function_name = ref->name;
  mapping.qualifier = ref->qualifier.value_or("");
  mapping.function_arn = invoker.function_arn(ref->name);
  if (ref->qualifier) mapping.function_arn += ":" + *ref->qualifier;
  return ok_status();
}

// Checks a mapping against its queue and function, as AWS does on create and update.
Status check_against_queue(const MappingContext& context, const MappingChange& change,
                           const sources::EventSourceMapping& mapping) {
  if (change.starting_position) {
    return invalid_parameter(
        fmt::format("Unsupported starting position for arn type: {}", mapping.event_source_arn));
  }
  if (change.has_destination_config) {
    return invalid_parameter(
        "Unsupported DestinationConfig parameter for given event source mapping type.");
  }
  if (!change.stream_only.empty()) {
    return invalid_parameter(fmt::format(
        "Unsupported {} parameter for given event source mapping type.", change.stream_only[0]));
  }
  std::optional<sources::QueueFacts> queue;
  if (context.queues != nullptr) queue = context.queues->describe(mapping.event_source_arn);
  if (!queue) {
    return invalid_parameter(
        "Error occurred while ReceiveMessage. SQS Error Code: "
        "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does "
        "not exist for this wsdl version.");
  }
  if (queue->fifo) {
    if (mapping.batch_size > 10) {
      return invalid_parameter(fmt::format(
          "BatchSize {} is over the limit of 10 for FIFO queues.", mapping.batch_size));
    }
    if (mapping.maximum_batching_window_seconds > 0) {
      return invalid_parameter(
          "MaximumBatchingWindowInSeconds is not supported for FIFO queue event sources.");
    }
  } else if (mapping.batch_size > 10 && mapping.maximum_batching_window_seconds < 1) {
    return invalid_parameter(
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10");
  }
  auto resolved = context.invoker.describe(
      mapping.function_name,
      mapping.qualifier.empty() ? std::nullopt : std::optional<std::string_view>(mapping.qualifier));
  if (!resolved) return invalid_parameter("Function does not exist");
  int function_timeout = resolved->spec->config.timeout_seconds;
  if (queue->visibility_timeout_seconds < function_timeout) {
    return invalid_parameter(fmt::format(
        "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
        queue->visibility_timeout_seconds, function_timeout));
  }
  return ok_status();
}

Status check_duplicate(const MappingContext& context, const sources::EventSourceMapping& mapping) {
  for (const auto& other : context.catalog.list()) {
    if (other->uuid == mapping.uuid) continue;
    if (other->event_source_arn == mapping.event_source_arn &&
        other->function_arn == mapping.function_arn) {
      return Error{Errc::conflict,
                   fmt::format("An event source mapping with SQS arn (\" {} \") and function "
                               "(\" {} \") already exists. Please update or delete the existing "
                               "mapping with UUID {}",
                               mapping.event_source_arn, mapping.function_name, other->uuid)};
    }
  }
  return ok_status();
}

void apply_settings(const MappingChange& change, sources::EventSourceMapping& mapping) {
  if (change.enabled) mapping.enabled = *change.enabled;
  if (change.batch_size) mapping.batch_size = *change.batch_size;
  if (change.batching_window) mapping.maximum_batching_window_seconds = *change.batching_window;
  if (change.filter_patterns) mapping.filter_patterns = *change.filter_patterns;
  if (change.report_batch_item_failures) {
    mapping.report_batch_item_failures = *change.report_batch_item_failures;
  }
  if (change.has_scaling_config) mapping.maximum_concurrency = change.maximum_concurrency;
}

Task<http::Response> create_mapping(MappingContext context, const http::Request& request,
                                    const std::string& request_id) {
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto change = parse_change(*body);
  if (!change) co_return error_response(change.error(), request_id);
  if (!change->function_name) {
    co_return error_response(validation_error({"Value null at 'functionName' failed to satisfy "
                                               "constraint: Member must not be null"}),
                             request_id);
  }
  if (!change->event_source_arn) {
    co_return error_response(invalid_parameter("Unrecognized event source."), request_id);
  }
  auto guard = co_await context.mutations.lock();
  sources::EventSourceMapping mapping;
  mapping.uuid = random_uuid();
  mapping.event_source_arn = *change->event_source_arn;
  auto function = apply_function(context.invoker, *change->function_name, mapping);
  if (!function) co_return error_response(function.error(), request_id);
  if (!is_sqs_arn(mapping.event_source_arn)) {
    co_return error_response(
        invalid_parameter(fmt::format(
            "Unrecognized event source: '{}'. Lambent serves event source mappings for SQS "
            "queues (arn:aws:sqs:REGION:ACCOUNT:NAME).",
            mapping.event_source_arn)),
        request_id);
  }
  apply_settings(*change, mapping);
  auto checked = check_against_queue(context, *change, mapping);
  if (!checked) co_return error_response(checked.error(), request_id);
  auto unique = check_duplicate(context, mapping);
  if (!unique) co_return error_response(unique.error(), request_id);
  mapping.last_modified = now_seconds();
  auto stored = co_await context.catalog.put(mapping);
  if (!stored) co_return error_response(stored.error(), request_id);
  co_return json_response(202, render(context.invoker, mapping, "Creating"), request_id);
}

Task<http::Response> update_mapping(MappingContext context, const std::string& uuid,
                                    const http::Request& request, const std::string& request_id) {
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto change = parse_change(*body);
  if (!change) co_return error_response(change.error(), request_id);
  auto guard = co_await context.mutations.lock();
  auto existing = context.catalog.find(uuid);
  if (!existing) co_return error_response(mapping_not_found(), request_id);
  if (change->event_source_arn) {
    co_return error_response(
        invalid_parameter("EventSourceArn cannot be changed; create a new event source "
                          "mapping for another source."),
        request_id);
  }
  sources::EventSourceMapping mapping = *existing;
  if (change->function_name) {
    auto function = apply_function(context.invoker, *change->function_name, mapping);
    if (!function) co_return error_response(function.error(), request_id);
  }
  bool was_enabled = mapping.enabled;
  apply_settings(*change, mapping);
  auto checked = check_against_queue(context, *change, mapping);
  if (!checked) co_return error_response(checked.error(), request_id);
  auto unique = check_duplicate(context, mapping);
  if (!unique) co_return error_response(unique.error(), request_id);
  mapping.last_modified = now_seconds();
  auto stored = co_await context.catalog.put(mapping);
  if (!stored) co_return error_response(stored.error(), request_id);
  std::string_view state = "Updating";
  if (mapping.enabled != was_enabled) state = mapping.enabled ? "Enabling" : "Disabling";
  co_return json_response(202, render(context.invoker, mapping, state), request_id);
}

Task<http::Response> delete_mapping(MappingContext context, const std::string& uuid,
                                    const std::string& request_id) {
  auto guard = co_await context.mutations.lock();
  auto existing = context.catalog.find(uuid);
  if (!existing) co_return error_response(mapping_not_found(), request_id);
  auto removed = co_await context.catalog.remove(uuid);
  if (!removed) co_return error_response(removed.error(), request_id);
  co_return json_response(202, render(context.invoker, *existing, "Deleting"), request_id);
}

http::Response get_mapping(const MappingContext& context, const std::string& uuid,
                           const std::string& request_id) {
  auto mapping = context.catalog.find(uuid);
  if (!mapping) return error_response(mapping_not_found(), request_id);
  return json_response(200, render(context.invoker, *mapping, settled_state(*mapping)),
                       request_id);
}

http::Response list_mappings(const MappingContext& context, const http::Request& request,
                             const std::string& request_id) {
  auto max_items = parse_max_items(request, 10000, 100);
  if (!max_items) return error_response(max_items.error(), request_id);
  auto marker = parse_marker(request);
  if (!marker) return error_response(marker.error(), request_id);
  auto source = http::query_param(request.query(), "EventSourceArn");
  auto function = http::query_param(request.query(), "FunctionName");
  std::optional<FunctionRef> ref;
  if (function.found) {
    auto parsed = parse_function_name(function.value, NameContext::other);
    if (!parsed) return error_response(parsed.error(), request_id);
    ref = std::move(*parsed);
  }
  json::array items;
  std::string last_uuid;
  bool more = false;
  for (const auto& mapping : context.catalog.list()) {
    if (!marker->empty() && mapping->uuid <= *marker) continue;
    if (source.found && mapping->event_source_arn != source.value) continue;
    if (ref && (mapping->function_name != ref->name ||
                (ref->qualifier && mapping->qualifier != *ref->qualifier))) {
      continue;
    }
    if (static_cast<std::int64_t>(items.size()) == *max_items) {
      more = true;
      break;
    }
    items.push_back(render(context.invoker, *mapping, settled_state(*mapping)));
    last_uuid = mapping->uuid;
  }
  json::object out{{"EventSourceMappings", std::move(items)}};
  if (more) out["NextMarker"] = base64_encode(last_uuid);
  return json_response(200, out, request_id);
}

}  // namespace

bool is_event_source_mapping_route(std::string_view path) {
  if (!path.starts_with(kPrefix)) return false;
  std::string_view rest = path.substr(kPrefix.size());
  if (rest.empty() || rest == "/") return true;
  rest.remove_prefix(1);
  return rest.find('/') == std::string_view::npos;
}

Task<http::Response> handle_event_source_mapping(MappingContext context, http::Request& request,
                                                 std::string request_id) {
  std::string_view rest = request.path().substr(kPrefix.size());
  if (!rest.empty()) rest.remove_prefix(1);
  const std::string& method = request.method;
  if (rest.empty()) {
    if (method == "POST") co_return co_await create_mapping(context, request, request_id);
    if (method == "GET") co_return list_mappings(context, request, request_id);
  } else {
    std::string uuid = decode_path_segment(rest);
    if (method == "GET") co_return get_mapping(context, uuid, request_id);
    if (method == "PUT") co_return co_await update_mapping(context, uuid, request, request_id);
    if (method == "DELETE") co_return co_await delete_mapping(context, uuid, request_id);
  }
  co_return error_response(
      Error{Errc::not_found,
            fmt::format("No Lambda operation serves {} {}", method, request.path()),
            "UnknownOperationException"},
      request_id);
}

}  // namespace lambent::services::lambda
