#include "lambent/metrics/alarms.h"
#include "lambent/services/cloudwatch/alarm_input.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/input.h"
#include "lambent/services/cloudwatch/metric_input.h"
#include "lambent/services/cloudwatch/operations.h"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <algorithm>

namespace lambent::services::cloudwatch {

namespace {

constexpr std::size_t kMaxAlarmNames = 100;
constexpr std::int64_t kMaxRecords = 100;
constexpr std::int64_t kDefaultAlarmRecords = 50;     // DescribeAlarms
constexpr std::int64_t kDefaultHistoryRecords = 100;  // DescribeAlarmHistory

constexpr std::string_view kHistoryTypes[] = {"ConfigurationUpdate", "StateUpdate", "Action",
                                              "AlarmContributorStateUpdate",
                                              "AlarmContributorAction"};

std::optional<std::vector<std::string>> read_names(Reader& reader, const Field& field) {
  std::vector<std::string> names;
  for (const Field& element : reader.list(field, kMaxAlarmNames)) {
    auto name = reader.string(element);
    if (!name) return std::nullopt;
    if (auto checked = check_length(*name, element.path, 1, 255); !checked) {
      reader.fail(checked.error());
      return std::nullopt;
    }
    names.push_back(std::move(*name));
  }
  if (!reader.ok()) return std::nullopt;
  return names;
}

// MaxRecords: 1 to 100, or `fallback` when absent.
std::optional<std::int64_t> read_max_records(Reader& reader, const Field& field,
                                             std::int64_t fallback) {
  auto records = reader.integer(field);
  if (!reader.ok()) return std::nullopt;
  if (!records) return fallback;
  if (*records < 1 || *records > kMaxRecords) {
    reader.fail(constraint_error(std::to_string(*records), field.path,
                                 *records < 1
                                     ? "Member must have value greater than or equal to 1"
                                     : "Member must have value less than or equal to 100"));
    return std::nullopt;
  }
  return records;
}

// The alarm types a Describe call requests: metric alarms unless AlarmTypes names others.
struct AlarmTypes {
  bool metric = true;
  bool composite = false;
};

std::optional<AlarmTypes> read_alarm_types(Reader& reader, const Field& field) {
  std::vector<Field> elements = reader.list(field, 2);
  if (!reader.ok()) return std::nullopt;
  if (elements.empty()) return AlarmTypes{};
  AlarmTypes types{false, false};
  for (const Field& element : elements) {
    auto type = reader.string(element);
    if (!type) return std::nullopt;
    if (*type == "MetricAlarm") {
      types.metric = true;
    } else if (*type == "CompositeAlarm") {
      types.composite = true;
    } else {
      reader.fail(constraint_error(type->substr(0, 256), element.path,
                                   "Member must satisfy enum value set: [CompositeAlarm, "
                                   "MetricAlarm]"));
      return std::nullopt;
    }
  }
  return types;
}

bool has_action_prefix(const metrics::MetricAlarm& alarm, std::string_view prefix) {
  for (const auto* actions :
       {&alarm.ok_actions, &alarm.alarm_actions, &alarm.insufficient_data_actions}) {
    for (const auto& action : *actions) {
      if (action.starts_with(prefix)) return true;
    }
  }
  return false;
}

// Sets ActionsEnabled on each named alarm that exists; names of no alarm are skipped, as
// CloudWatch skips them.
Task<Output> set_actions_enabled(OperationContext context, const Value* input, bool enabled) {
  Reader reader;
  Field names_field = Reader::member(Reader::root(*input), "AlarmNames");
  if (!names_field.present()) co_return missing_parameter(names_field.path);
  auto names = read_names(reader, names_field);
  if (!names) co_return reader.error();
  for (const auto& name : *names) {
    const metrics::MetricAlarm* alarm = context.alarms->find(name);
    if (alarm == nullptr || alarm->actions_enabled == enabled) continue;
    metrics::MetricAlarm updated = *alarm;
    updated.actions_enabled = enabled;
    auto stored = co_await context.alarms->put(std::move(updated));
    if (!stored) co_return std::move(stored).error();
  }
  co_return std::optional<Value>();
}

}  // namespace

Task<Output> put_metric_alarm(OperationContext context, const Value* input) {
  auto alarm = read_metric_alarm(*input, *context.options);
  if (!alarm) co_return std::move(alarm).error();
  auto stored = co_await context.alarms->put(std::move(*alarm));
  if (!stored) co_return std::move(stored).error();
  co_return std::optional<Value>();
}

Task<Output> describe_alarms(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field names_field = Reader::member(root, "AlarmNames");
  Field prefix_field = Reader::member(root, "AlarmNamePrefix");
  Field state_field = Reader::member(root, "StateValue");
  Field action_field = Reader::member(root, "ActionPrefix");
  Field children_field = Reader::member(root, "ChildrenOfAlarmName");
  Field parents_field = Reader::member(root, "ParentsOfAlarmName");
  auto names = read_names(reader, names_field);
  auto prefix = reader.string(prefix_field);
  auto state_text = reader.string(state_field);
  auto action_prefix = reader.string(action_field);
  auto children_of = reader.string(children_field);
  auto parents_of = reader.string(parents_field);
  auto types = read_alarm_types(reader, Reader::member(root, "AlarmTypes"));
  auto max_records =
      read_max_records(reader, Reader::member(root, "MaxRecords"), kDefaultAlarmRecords);
  Field token_field = Reader::member(root, "NextToken");
  auto token = reader.string(token_field);
  if (!reader.ok()) co_return reader.error();

  if (!names->empty() && prefix) {
    co_return invalid_combination(
        fmt::format("The parameters {} and {} are mutually exclusive and you have specified both.",
                    names_field.path, prefix_field.path));
  }
  if (prefix) {
    if (auto checked = check_length(*prefix, prefix_field.path, 1, 255); !checked) {
      co_return checked.error();
    }
  }
  std::optional<metrics::AlarmState> state;
  if (state_text) {
    state = metrics::parse_alarm_state(*state_text);
    if (!state) {
      co_return constraint_error(
          state_text->substr(0, 256), state_field.path,
          "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]");
    }
  }
  std::size_t offset = 0;
  if (token) {
    auto decoded = decode_page_token("DescribeAlarms", *token);
    if (!decoded) co_return invalid_next_token();
    offset = *decoded;
  }

  // Lambent has no composite alarms, so ChildrenOfAlarmName and ParentsOfAlarmName, which
  // relate composite alarms, match nothing.
  std::vector<const metrics::MetricAlarm*> matched;
  if (types->metric && !children_of && !parents_of) {
    for (const metrics::MetricAlarm* alarm : context.alarms->alarms()) {
      if (!names->empty() && std::find(names->begin(), names->end(), alarm->name) == names->end()) {
        continue;
      }
      if (prefix && !alarm->name.starts_with(*prefix)) continue;
      if (state && alarm->state != *state) continue;
      if (action_prefix && !has_action_prefix(*alarm, *action_prefix)) continue;
      matched.push_back(alarm);
    }
  }
  if (offset > matched.size()) co_return invalid_next_token();
  std::size_t end = std::min(matched.size(), offset + static_cast<std::size_t>(*max_records));

  Value metric_alarms = Value::list();
  for (std::size_t i = offset; i < end; ++i)
    metric_alarms.push_back(metric_alarm_value(*matched[i]));
  Value output = Value::structure();
  output.set("CompositeAlarms", Value::list());
  output.set("MetricAlarms", std::move(metric_alarms));
  if (end < matched.size()) {
    output.set("NextToken", Value::string(encode_page_token("DescribeAlarms", end)));
  }
  co_return std::optional<Value>(std::move(output));
}

Task<Output> describe_alarms_for_metric(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field name_field = Reader::member(root, "MetricName");
  Field ns_field = Reader::member(root, "Namespace");
  auto name = reader.required_string(name_field);
  auto ns = reader.required_string(ns_field);
  Field statistic_field = Reader::member(root, "Statistic");
  auto statistic = reader.string(statistic_field);
  auto extended = reader.string(Reader::member(root, "ExtendedStatistic"));
  auto period = reader.integer(Reader::member(root, "Period"));
  Field unit_field = Reader::member(root, "Unit");
  auto unit = reader.string(unit_field);
  Field dimensions_field = Reader::member(root, "Dimensions");
  auto dimensions = read_dimensions(reader, dimensions_field);
  if (!reader.ok()) co_return reader.error();
  if (auto checked = check_namespace(*ns, ns_field.path, false); !checked)
    co_return checked.error();
  if (auto checked = check_metric_name(*name, name_field.path); !checked) {
    co_return checked.error();
  }
  if (statistic && !is_simple_statistic(*statistic)) {
    co_return constraint_error(statistic->substr(0, 256), statistic_field.path,
                               "Member must satisfy enum value set: [Maximum, SampleCount, Sum, "
                               "Minimum, Average]");
  }
  if (unit) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) co_return checked.error();
  }

  Value metric_alarms = Value::list();
  for (const metrics::MetricAlarm* alarm : context.alarms->alarms()) {
    if (alarm->metric.ns != *ns || alarm->metric.name != *name) continue;
    if (dimensions_field.present() && alarm->metric.dimensions != *dimensions) continue;
    if (statistic && alarm->statistic != *statistic) continue;
    if (extended && alarm->extended_statistic != *extended) continue;
    if (period && alarm->period_s != *period) continue;
    if (unit && alarm->unit != *unit) continue;
    metric_alarms.push_back(metric_alarm_value(*alarm));
  }
  Value output = Value::structure();
  output.set("MetricAlarms", std::move(metric_alarms));
  co_return std::optional<Value>(std::move(output));
}

Task<Output> delete_alarms(OperationContext context, const Value* input) {
  Reader reader;
  Field names_field = Reader::member(Reader::root(*input), "AlarmNames");
  if (!names_field.present()) co_return missing_parameter(names_field.path);
  auto names = read_names(reader, names_field);
  if (!names) co_return reader.error();
  // Nothing is deleted when any name is of no alarm.
  std::vector<std::string> missing;
  for (const auto& name : *names) {
    if (context.alarms->find(name) == nullptr) missing.push_back(name);
  }
  if (!missing.empty()) {
    co_return resource_not_found(fmt::format(
        "The alarm{} {} do{} not exist; no alarm was deleted.", missing.size() == 1 ? "" : "s",
        fmt::join(missing, ", "), missing.size() == 1 ? "es" : ""));
  }
  if (names->empty()) co_return std::optional<Value>();
  auto removed = co_await context.alarms->remove(std::move(*names));
  if (!removed) {
    Error error = std::move(removed).error();
    if (error.code == Errc::not_found) co_return resource_not_found(std::move(error.message));
    co_return error;
  }
  co_return std::optional<Value>();
}

Task<Output> set_alarm_state(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field name_field = Reader::member(root, "AlarmName");
  Field state_field = Reader::member(root, "StateValue");
  Field reason_field = Reader::member(root, "StateReason");
  Field data_field = Reader::member(root, "StateReasonData");
  auto name = reader.required_string(name_field);
  auto state_text = reader.required_string(state_field);
  auto reason = reader.required_string(reason_field);
  auto data = reader.string(data_field);
  if (!reader.ok()) co_return reader.error();

  auto state = metrics::parse_alarm_state(*state_text);
  if (!state) {
    co_return constraint_error(
        state_text->substr(0, 256), state_field.path,
        "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]");
  }
  if (auto checked = check_length(*reason, reason_field.path, 0, 1023); !checked) {
    co_return checked.error();
  }
  if (data) {
    if (auto checked = check_length(*data, data_field.path, 0, 4000); !checked) {
      co_return checked.error();
    }
    boost::system::error_code ec;
    boost::json::parse(*data, ec);
    if (ec) {
      co_return invalid_format(
          fmt::format("The parameter {} is not valid JSON: {}.", data_field.path, ec.message()));
    }
  }
  if (context.alarms->find(*name) == nullptr) {
    co_return resource_not_found(fmt::format("The alarm {} does not exist.", *name));
  }
  auto set = co_await context.alarms->set_state(std::move(*name), *state, std::move(*reason),
                                                data.value_or(""));
  if (!set) {
    Error error = std::move(set).error();
    if (error.code == Errc::not_found) co_return resource_not_found(std::move(error.message));
    co_return error;
  }
  co_return std::optional<Value>();
}

Task<Output> describe_alarm_history(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  auto name = reader.string(Reader::member(root, "AlarmName"));
  Field type_field = Reader::member(root, "HistoryItemType");
  auto type = reader.string(type_field);
  auto start = reader.timestamp_ms(Reader::member(root, "StartDate"));
  auto end = reader.timestamp_ms(Reader::member(root, "EndDate"));
  auto types = read_alarm_types(reader, Reader::member(root, "AlarmTypes"));
  auto max_records =
      read_max_records(reader, Reader::member(root, "MaxRecords"), kDefaultHistoryRecords);
  Field scan_field = Reader::member(root, "ScanBy");
  auto scan_by = reader.string(scan_field);
  auto token = reader.string(Reader::member(root, "NextToken"));
  if (!reader.ok()) co_return reader.error();

  if (type && std::find(std::begin(kHistoryTypes), std::end(kHistoryTypes), *type) ==
                  std::end(kHistoryTypes)) {
    co_return constraint_error(type->substr(0, 256), type_field.path,
                               "Member must satisfy enum value set: [ConfigurationUpdate, "
                               "StateUpdate, Action, AlarmContributorStateUpdate, "
                               "AlarmContributorAction]");
  }
  bool ascending = false;
  if (scan_by) {
    if (*scan_by != "TimestampDescending" && *scan_by != "TimestampAscending") {
      co_return constraint_error(scan_by->substr(0, 256), scan_field.path,
                                 "Member must satisfy enum value set: [TimestampDescending, "
                                 "TimestampAscending]");
    }
    ascending = *scan_by == "TimestampAscending";
  }
  std::size_t offset = 0;
  if (token) {
    auto decoded = decode_page_token("DescribeAlarmHistory", *token);
    if (!decoded) co_return invalid_next_token();
    offset = *decoded;
  }

  std::vector<metrics::AlarmHistoryItem> items;
  for (auto& item : context.alarms->history(name.value_or(""))) {
    if (type && item.type != *type) continue;
    if (start && item.timestamp_ms < *start) continue;
    if (end && item.timestamp_ms > *end) continue;
    bool metric = item.alarm_type == "MetricAlarm";
    if ((metric && !types->metric) || (!metric && !types->composite)) continue;
    items.push_back(std::move(item));
  }
  if (ascending) std::reverse(items.begin(), items.end());
  if (offset > items.size()) co_return invalid_next_token();
  std::size_t last = std::min(items.size(), offset + static_cast<std::size_t>(*max_records));

  Value list = Value::list();
  for (std::size_t i = offset; i < last; ++i) list.push_back(history_item_value(items[i]));
  Value output = Value::structure();
  output.set("AlarmHistoryItems", std::move(list));
  if (last < items.size()) {
    output.set("NextToken", Value::string(encode_page_token("DescribeAlarmHistory", last)));
  }
  co_return std::optional<Value>(std::move(output));
}

Task<Output> enable_alarm_actions(OperationContext context, const Value* input) {
  co_return co_await set_actions_enabled(context, input, true);
}

Task<Output> disable_alarm_actions(OperationContext context, const Value* input) {
  co_return co_await set_actions_enabled(context, input, false);
}

}  // namespace lambent::services::cloudwatch
