#include "lambent/services/cloudwatch/alarm_input.h"

#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/input.h"
#include "lambent/services/cloudwatch/metric_input.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace lambent::services::cloudwatch {

namespace {

constexpr std::size_t kMaxActions = 5;  // per action list (ResourceList)
constexpr std::int64_t kMaxEvaluationSeconds = 86400;
constexpr std::size_t kMaxTags = 50;

constexpr std::string_view kOperators[] = {"GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                                           "LessThanThreshold", "LessThanOrEqualToThreshold"};
// The anomaly detection operators compare with a band, which needs an anomaly detector.
constexpr std::string_view kBandOperators[] = {"LessThanLowerOrGreaterThanUpperThreshold",
                                               "LessThanLowerThreshold",
                                               "GreaterThanUpperThreshold"};
constexpr std::string_view kTreatMissingData[] = {"missing", "ignore", "breaching", "notBreaching"};

template <std::size_t N>
bool one_of(std::string_view value, const std::string_view (&allowed)[N]) {
  return std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed);
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// A Lambda function ARN of this server (arn:aws:lambda:REGION:ACCOUNT:function:NAME with an
// optional version or alias) or an SNS topic ARN of this server.
Status check_action(std::string_view arn, std::string_view path, const CloudWatchOptions& options) {
  std::string topic_prefix = fmt::format("arn:aws:sns:{}:{}:", options.region, options.account_id);
  if (arn.starts_with(topic_prefix)) {
    std::string_view topic = arn.substr(topic_prefix.size());
    bool valid_topic = !topic.empty() && topic.size() <= 256 &&
                       std::all_of(topic.begin(), topic.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                                c == '_' || c == '.';
                       });
    if (valid_topic) return ok_status();
  }
  std::string prefix =
      fmt::format("arn:aws:lambda:{}:{}:function:", options.region, options.account_id);
  std::string_view rest = arn.starts_with(prefix) ? arn.substr(prefix.size()) : std::string_view();
  auto colon = rest.find(':');
  std::string_view name = rest.substr(0, colon);
  std::string_view qualifier =
      colon == std::string_view::npos ? std::string_view("$LATEST") : rest.substr(colon + 1);
  auto valid = [](std::string_view part, bool qualifier_part) {
    return !part.empty() && part.size() <= 128 &&
           std::all_of(part.begin(), part.end(), [qualifier_part](char c) {
             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || (qualifier_part && c == '$');
           });
  };
  if (!name.empty() && valid(name, false) && valid(qualifier, true)) return ok_status();
  return invalid_value(fmt::format(
      "The value {} for parameter {} is not a supported alarm action. Lambent alarms invoke "
      "Lambda functions ({}NAME, with an optional :VERSION or :ALIAS) and publish to SNS topics "
      "({}NAME).",
      arn.substr(0, 256), path, prefix, topic_prefix));
}

std::optional<std::vector<std::string>> read_actions(Reader& reader, const Field& field,
                                                     const CloudWatchOptions& options) {
  std::vector<std::string> actions;
  for (const Field& element : reader.list(field, kMaxActions)) {
    auto arn = reader.string(element);
    if (!arn) return std::nullopt;
    if (auto length = check_length(*arn, element.path, 1, 1024); !length) {
      reader.fail(length.error());
      return std::nullopt;
    }
    if (auto checked = check_action(*arn, element.path, options); !checked) {
      reader.fail(checked.error());
      return std::nullopt;
    }
    actions.push_back(std::move(*arn));
  }
  if (!reader.ok()) return std::nullopt;
  return actions;
}

// Sets statistic or extended_statistic from a MetricStat's Stat or the Statistic members.
Status set_statistic(metrics::MetricAlarm& alarm, std::string_view text, std::string_view path) {
  if (is_simple_statistic(text)) {
    alarm.statistic = std::string(text);
    return ok_status();
  }
  auto statistic = read_statistic(text, path);
  if (!statistic) return std::move(statistic).error();
  alarm.extended_statistic = std::string(text);
  return ok_status();
}

Error mutually_exclusive(std::string_view a, std::string_view b) {
  return invalid_combination(fmt::format(
      "The parameters {} and {} are mutually exclusive and you have specified both.", a, b));
}

// The metric of an alarm given as Metrics: one MetricStat query, mapped to the metric fields.
Status read_metrics_list(Reader& reader, const Field& root, metrics::MetricAlarm& alarm,
                         std::optional<std::int64_t>& period) {
  for (std::string_view name :
       {"MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period"}) {
    Field member = Reader::member(root, name);
    if (member.present()) return mutually_exclusive("Metrics", member.path);
  }
  Field metrics_field = Reader::member(root, "Metrics");
  std::vector<Field> queries = reader.list(metrics_field, 20);
  if (!reader.ok()) return reader.error();
  bool single_stat = queries.size() == 1 && Reader::member(queries[0], "MetricStat").present() &&
                     !Reader::member(queries[0], "Expression").present();
  if (!single_stat) {
    return invalid_value(fmt::format(
        "The parameter {} is supported with one MetricStat query only; Lambent does not "
        "evaluate metric math or Metrics Insights expressions in alarms.",
        metrics_field.path));
  }
  const Field& query = queries[0];
  auto return_data = reader.boolean(Reader::member(query, "ReturnData"));
  Field stat_field = Reader::member(query, "MetricStat");
  Field metric_field = Reader::member(stat_field, "Metric");
  Field ns_field = Reader::member(metric_field, "Namespace");
  Field name_field = Reader::member(metric_field, "MetricName");
  Field period_field = Reader::member(stat_field, "Period");
  Field statistic_field = Reader::member(stat_field, "Stat");
  for (const Field* required : {&ns_field, &name_field, &period_field, &statistic_field}) {
    if (!required->present()) return missing_parameter(required->path);
  }
  auto ns = reader.string(ns_field);
  auto name = reader.string(name_field);
  period = reader.integer(period_field);
  auto statistic = reader.string(statistic_field);
  auto dimensions = read_dimensions(reader, Reader::member(metric_field, "Dimensions"));
  Field unit_field = Reader::member(stat_field, "Unit");
  auto unit = reader.string(unit_field);
  if (!reader.ok()) return reader.error();
  if (return_data && !*return_data) {
    return invalid_value(fmt::format(
        "The parameter {}.ReturnData must be true for the query an alarm watches.", query.path));
  }
  if (auto checked = check_namespace(*ns, ns_field.path, false); !checked) return checked;
  if (auto checked = check_metric_name(*name, name_field.path); !checked) return checked;
  if (auto set = set_statistic(alarm, *statistic, statistic_field.path); !set) return set;
  if (unit) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) return checked;
    alarm.unit = std::move(*unit);
  }
  alarm.metric = metrics::MetricKey{std::move(*ns), std::move(*name), std::move(*dimensions)};
  return ok_status();
}

// The metric of an alarm given by MetricName, Namespace, Statistic or ExtendedStatistic,
// Dimensions, Period and Unit.
Status read_metric_fields(Reader& reader, const Field& root, metrics::MetricAlarm& alarm,
                          std::optional<std::int64_t>& period) {
  Field ns_field = Reader::member(root, "Namespace");
  Field name_field = Reader::member(root, "MetricName");
  Field statistic_field = Reader::member(root, "Statistic");
  Field extended_field = Reader::member(root, "ExtendedStatistic");
  Field period_field = Reader::member(root, "Period");
  for (const Field* required : {&name_field, &ns_field}) {
    if (!required->present()) return missing_parameter(required->path);
  }
  auto ns = reader.string(ns_field);
  auto name = reader.string(name_field);
  auto statistic = reader.string(statistic_field);
  auto extended = reader.string(extended_field);
  period = reader.integer(period_field);
  auto dimensions = read_dimensions(reader, Reader::member(root, "Dimensions"));
  Field unit_field = Reader::member(root, "Unit");
  auto unit = reader.string(unit_field);
  if (!reader.ok()) return reader.error();

  if (auto checked = check_namespace(*ns, ns_field.path, false); !checked) return checked;
  if (auto checked = check_metric_name(*name, name_field.path); !checked) return checked;
  if (statistic && extended) return mutually_exclusive(statistic_field.path, extended_field.path);
  if (!statistic && !extended) {
    return invalid_combination(fmt::format("One of the parameters {} and {} must be specified.",
                                           statistic_field.path, extended_field.path));
  }
  if (statistic) {
    if (!is_simple_statistic(*statistic)) {
      return constraint_error(*statistic, statistic_field.path,
                              "Member must satisfy enum value set: [Maximum, SampleCount, Sum, "
                              "Minimum, Average]");
    }
    alarm.statistic = std::move(*statistic);
  } else {
    auto parsed = read_statistic(*extended, extended_field.path);
    if (!parsed || parsed->kind != metrics::Statistic::Kind::percentile) {
      return invalid_value(fmt::format("The value {} for parameter {} is not supported.",
                                       extended->substr(0, 256), extended_field.path));
    }
    alarm.extended_statistic = std::move(*extended);
  }
  if (!period) return missing_parameter(period_field.path);
  if (unit) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) return checked;
    alarm.unit = std::move(*unit);
  }
  alarm.metric = metrics::MetricKey{std::move(*ns), std::move(*name), std::move(*dimensions)};
  return ok_status();
}

void set_if(Value& out, std::string name, const std::string& text) {
  if (!text.empty()) out.set(std::move(name), Value::string(text));
}

void set_time_if(Value& out, std::string name, std::int64_t epoch_ms) {
  if (epoch_ms > 0) out.set(std::move(name), Value::timestamp(epoch_ms));
}

Value string_list(const std::vector<std::string>& items) {
  Value list = Value::list();
  for (const auto& item : items) list.push_back(Value::string(item));
  return list;
}

}  // namespace

Result<metrics::MetricAlarm> read_metric_alarm(const Value& input,
                                               const CloudWatchOptions& options) {
  Reader reader;
  metrics::MetricAlarm alarm;
  Field root = Reader::root(input);

  Field name_field = Reader::member(root, "AlarmName");
  auto name = reader.required_string(name_field);
  if (!name) return reader.error();
  if (auto checked = check_length(*name, name_field.path, 1, 255); !checked) return checked.error();
  if (has_control_character(*name)) return invalid_value_for(*name, name_field.path);
  alarm.name = std::move(*name);

  for (std::string_view unsupported :
       {"ThresholdMetricId", "EvaluationCriteria", "EvaluationInterval"}) {
    Field member = Reader::member(root, unsupported);
    if (member.present()) {
      return invalid_value(fmt::format(
          "The parameter {} is not supported: Lambent alarms compare a metric statistic with a "
          "static Threshold.",
          member.path));
    }
  }

  Field description_field = Reader::member(root, "AlarmDescription");
  if (auto description = reader.string(description_field)) {
    if (auto checked = check_length(*description, description_field.path, 0, 1024); !checked) {
      return checked.error();
    }
    alarm.description = std::move(*description);
  }
  alarm.actions_enabled = reader.boolean(Reader::member(root, "ActionsEnabled")).value_or(true);
  auto ok_actions = read_actions(reader, Reader::member(root, "OKActions"), options);
  auto alarm_actions = read_actions(reader, Reader::member(root, "AlarmActions"), options);
  auto insufficient_actions =
      read_actions(reader, Reader::member(root, "InsufficientDataActions"), options);
  if (!reader.ok()) return reader.error();
  alarm.ok_actions = std::move(*ok_actions);
  alarm.alarm_actions = std::move(*alarm_actions);
  alarm.insufficient_data_actions = std::move(*insufficient_actions);

  std::optional<std::int64_t> period;
  Field period_field = Reader::member(root, "Period");
  Status metric = Reader::member(root, "Metrics").present()
                      ? read_metrics_list(reader, root, alarm, period)
                      : read_metric_fields(reader, root, alarm, period);
  if (!metric) return std::move(metric).error();
  if (*period != 10 && *period != 20 && *period != 30 && (*period < 60 || *period % 60 != 0)) {
    return invalid_value(
        fmt::format("The parameter {} must be 10, 20, 30, or a multiple of 60; {} is not.",
                    period_field.path, *period));
  }
  alarm.period_s = *period;

  Field evaluation_field = Reader::member(root, "EvaluationPeriods");
  if (!evaluation_field.present()) return missing_parameter(evaluation_field.path);
  auto evaluation_periods = reader.integer(evaluation_field);
  Field datapoints_field = Reader::member(root, "DatapointsToAlarm");
  auto datapoints = reader.integer(datapoints_field);
  if (!reader.ok()) return reader.error();
  if (*evaluation_periods < 1) {
    return constraint_error(std::to_string(*evaluation_periods), evaluation_field.path,
                            "Member must have value greater than or equal to 1");
  }
  if (*evaluation_periods * alarm.period_s > kMaxEvaluationSeconds) {
    return validation_error(
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be "
        "<= 86400)");
  }
  alarm.evaluation_periods = static_cast<int>(*evaluation_periods);
  if (datapoints) {
    if (*datapoints < 1) {
      return constraint_error(std::to_string(*datapoints), datapoints_field.path,
                              "Member must have value greater than or equal to 1");
    }
    if (*datapoints > *evaluation_periods) {
      return validation_error(fmt::format(
          "DatapointsToAlarm ({}) must be less than or equal to EvaluationPeriods ({}).",
          *datapoints, *evaluation_periods));
    }
    alarm.datapoints_to_alarm = static_cast<int>(*datapoints);
  }

  Field threshold_field = Reader::member(root, "Threshold");
  if (!threshold_field.present()) return missing_parameter(threshold_field.path);
  auto threshold = reader.number(threshold_field);
  if (!threshold) return reader.error();
  if (!std::isfinite(*threshold))
    return invalid_value_for(fmt::format("{}", *threshold), threshold_field.path);
  alarm.threshold = *threshold;

  Field operator_field = Reader::member(root, "ComparisonOperator");
  auto comparison = reader.required_string(operator_field);
  if (!comparison) return reader.error();
  if (one_of(*comparison, kBandOperators)) {
    return invalid_value(fmt::format(
        "The value {} for parameter {} is not supported: it compares with an anomaly detection "
        "band, which Lambent does not provide.",
        *comparison, operator_field.path));
  }
  if (!one_of(*comparison, kOperators)) {
    return constraint_error(comparison->substr(0, 256), operator_field.path,
                            "Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, "
                            "GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, "
                            "LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, "
                            "GreaterThanUpperThreshold]");
  }
  alarm.comparison_operator = std::move(*comparison);

  Field missing_field = Reader::member(root, "TreatMissingData");
  if (auto treat = reader.string(missing_field)) {
    if (!one_of(*treat, kTreatMissingData)) {
      return validation_error(fmt::format(
          "Option {} is not supported. Supported options for parameter TreatMissingData are "
          "missing, ignore, breaching and notBreaching.",
          treat->substr(0, 256)));
    }
    alarm.treat_missing_data = std::move(*treat);
  }
  Field low_sample_field = Reader::member(root, "EvaluateLowSampleCountPercentile");
  if (auto low_sample = reader.string(low_sample_field)) {
    if (*low_sample != "evaluate" && *low_sample != "ignore") {
      return validation_error(
          fmt::format("Option {} is not supported. Supported options for parameter "
                      "EvaluateLowSampleCountPercentile are evaluate and ignore.",
                      low_sample->substr(0, 256)));
    }
    alarm.evaluate_low_sample_count_percentile = std::move(*low_sample);
  }

  for (const Field& tag : reader.list(Reader::member(root, "Tags"), kMaxTags)) {
    Field key_field = Reader::member(tag, "Key");
    Field value_field = Reader::member(tag, "Value");
    auto key = reader.required_string(key_field);
    auto value = reader.required_string(value_field);
    if (!reader.ok()) return reader.error();
    if (auto checked = check_length(*key, key_field.path, 1, 128); !checked) return checked.error();
    if (auto checked = check_length(*value, value_field.path, 0, 256); !checked) {
      return checked.error();
    }
    alarm.tags.emplace_back(std::move(*key), std::move(*value));
  }
  if (!reader.ok()) return reader.error();
  return alarm;
}

Value metric_alarm_value(const metrics::MetricAlarm& alarm) {
  Value out = Value::structure();
  out.set("AlarmName", Value::string(alarm.name));
  out.set("AlarmArn", Value::string(alarm.arn));
  set_if(out, "AlarmDescription", alarm.description);
  set_time_if(out, "AlarmConfigurationUpdatedTimestamp", alarm.configuration_updated_ms);
  out.set("ActionsEnabled", Value::boolean(alarm.actions_enabled));
  out.set("OKActions", string_list(alarm.ok_actions));
  out.set("AlarmActions", string_list(alarm.alarm_actions));
  out.set("InsufficientDataActions", string_list(alarm.insufficient_data_actions));

  out.set("StateValue", Value::string(std::string(metrics::to_string(alarm.state))));
  out.set("StateReason", Value::string(alarm.state_reason));
  set_if(out, "StateReasonData", alarm.state_reason_data);
  set_time_if(out, "StateUpdatedTimestamp", alarm.state_updated_ms);

  out.set("MetricName", Value::string(alarm.metric.name));
  out.set("Namespace", Value::string(alarm.metric.ns));
  set_if(out, "Statistic", alarm.statistic);
  Value dimensions = Value::list();
  for (const auto& dimension : alarm.metric.dimensions) {
    Value item = Value::structure();
    item.set("Name", Value::string(dimension.name));
    item.set("Value", Value::string(dimension.value));
    dimensions.push_back(std::move(item));
  }
  out.set("Dimensions", std::move(dimensions));
  out.set("Period", Value::integer(alarm.period_s));
  set_if(out, "Unit", alarm.unit);
  out.set("EvaluationPeriods", Value::integer(alarm.evaluation_periods));
  out.set("Threshold", Value::number(alarm.threshold));
  out.set("ComparisonOperator", Value::string(alarm.comparison_operator));

  set_if(out, "ExtendedStatistic", alarm.extended_statistic);
  set_if(out, "TreatMissingData", alarm.treat_missing_data);
  set_if(out, "EvaluateLowSampleCountPercentile", alarm.evaluate_low_sample_count_percentile);
  if (alarm.datapoints_to_alarm > 0) {
    out.set("DatapointsToAlarm", Value::integer(alarm.datapoints_to_alarm));
  }
  set_time_if(out, "StateTransitionedTimestamp", alarm.state_transitioned_ms);
  return out;
}

Value history_item_value(const metrics::AlarmHistoryItem& item) {
  Value out = Value::structure();
  out.set("AlarmName", Value::string(item.alarm_name));
  out.set("AlarmType", Value::string(item.alarm_type));
  out.set("Timestamp", Value::timestamp(item.timestamp_ms));
  out.set("HistoryItemType", Value::string(item.type));
  out.set("HistorySummary", Value::string(item.summary));
  set_if(out, "HistoryData", item.data);
  return out;
}

}  // namespace lambent::services::cloudwatch
