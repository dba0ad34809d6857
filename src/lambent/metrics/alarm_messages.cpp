#include "lambent/metrics/alarm_messages.h"

#include "lambent/base/crypto.h"
#include "lambent/base/utf8.h"
#include "lambent/metrics/alarm_evaluation.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <cctype>

namespace lambent::metrics {

namespace json = boost::json;

namespace {

// Limit of AlarmHistoryItem.HistoryData in the CloudWatch API.
constexpr std::size_t kMaxHistoryData = 4095;

// The texts below are written by hand, not through Boost.JSON, so numbers read as CloudWatch
// prints them ("1.0", not "1E0").
std::string quoted_list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += json_quote(values[i]);
  }
  return out + "]";
}

// stateReasonData goes in as an object when it is JSON, as a string otherwise.
std::string embedded_json(const std::string& text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  return !ec && parsed.is_object() ? text : json_quote(text);
}

std::string state_object(const AlarmStateSnapshot& state) {
  std::string out = fmt::format(R"({{"stateValue":{},"stateReason":{})",
                                json_quote(to_string(state.state)), json_quote(state.reason));
  if (!state.reason_data.empty()) {
    out += fmt::format(R"(,"stateReasonData":{})", embedded_json(state.reason_data));
  }
  return out + "}";
}

std::string alarm_object(const MetricAlarm& alarm) {
  std::string dimensions = "[";
  for (std::size_t i = 0; i < alarm.metric.dimensions.size(); ++i) {
    const Dimension& dimension = alarm.metric.dimensions[i];
    if (i > 0) dimensions += ',';
    dimensions += fmt::format(R"({{"name":{},"value":{}}})", json_quote(dimension.name),
                              json_quote(dimension.value));
  }
  dimensions += "]";

  std::string out =
      fmt::format(R"({{"dimensions":{},"namespace":{},"metricName":{},"period":{},"threshold":{},)"
                  R"("comparisonOperator":{},"evaluationPeriods":{},)",
                  dimensions, json_quote(alarm.metric.ns), json_quote(alarm.metric.name),
                  alarm.period_s, format_number(alarm.threshold),
                  json_quote(alarm.comparison_operator), alarm.evaluation_periods);
  if (alarm.datapoints_to_alarm > 0) {
    out += fmt::format(R"("datapointsToAlarm":{},)", alarm.datapoints_to_alarm);
  }
  if (!alarm.statistic.empty())
    out += fmt::format(R"("statistic":{},)", json_quote(alarm.statistic));
  if (!alarm.extended_statistic.empty()) {
    out += fmt::format(R"("extendedStatistic":{},)", json_quote(alarm.extended_statistic));
  }
  if (!alarm.unit.empty()) out += fmt::format(R"("unit":{},)", json_quote(alarm.unit));
  out += fmt::format(
      R"("alarmName":{},"alarmArn":{},"alarmConfigurationUpdatedTimestamp":{},)"
      R"("actionsEnabled":{},"alarmActions":{},"okactions":{},"insufficientDataActions":{},)",
      json_quote(alarm.name), json_quote(alarm.arn),
      json_quote(format_timestamp(alarm.configuration_updated_ms)),
      alarm.actions_enabled ? "true" : "false", quoted_list(alarm.alarm_actions),
      quoted_list(alarm.ok_actions), quoted_list(alarm.insufficient_data_actions));
  if (!alarm.description.empty()) {
    out += fmt::format(R"("alarmDescription":{},)", json_quote(alarm.description));
  }
  out += fmt::format(R"("stateValue":{},"stateReason":{},"stateUpdatedTimestamp":{},)",
                     json_quote(to_string(alarm.state)), json_quote(alarm.state_reason),
                     json_quote(format_timestamp(alarm.state_updated_ms)));
  if (!alarm.treat_missing_data.empty()) {
    out += fmt::format(R"("treatMissingData":{},)", json_quote(alarm.treat_missing_data));
  }
  if (!alarm.evaluate_low_sample_count_percentile.empty()) {
    out += fmt::format(R"("evaluateLowSampleCountPercentile":{},)",
                       json_quote(alarm.evaluate_low_sample_count_percentile));
  }
  out.back() = '}';
  return out;
}

}  // namespace

std::string state_update_data(const AlarmStateSnapshot& old_state,
                              const AlarmStateSnapshot& new_state) {
  std::string full = fmt::format(R"({{"version":"1.0","oldState":{},"newState":{}}})",
                                 state_object(old_state), state_object(new_state));
  if (full.size() <= kMaxHistoryData) return full;
  // Reason data is the long part; without it the states and reasons still fit.
  AlarmStateSnapshot old_short = old_state;
  AlarmStateSnapshot new_short = new_state;
  old_short.reason_data.clear();
  new_short.reason_data.clear();
  return fmt::format(R"({{"version":"1.0","oldState":{},"newState":{}}})", state_object(old_short),
                     state_object(new_short));
}

std::string configuration_data(std::string_view type, const MetricAlarm& alarm,
                               const MetricAlarm* original) {
  std::string key = type == "Create"   ? "createdAlarm"
                    : type == "Delete" ? "deletedAlarm"
                                       : "updatedAlarm";
  std::string out = fmt::format(R"({{"type":{},"version":"1.0",)", json_quote(type));
  if (original) out += fmt::format(R"("originalUpdatedAlarm":{},)", alarm_object(*original));
  out += fmt::format(R"("{}":{}}})", key, alarm_object(alarm));
  if (out.size() <= kMaxHistoryData) return out;
  // NOTE: a configuration too long for HistoryData (thousands of characters of actions or
  // dimensions) is recorded without the replaced configuration, then without the alarm body.
  out = fmt::format(R"({{"type":{},"version":"1.0","{}":{}}})", json_quote(type), key,
                    alarm_object(alarm));
  if (out.size() <= kMaxHistoryData) return out;
  return fmt::format(R"({{"type":{},"version":"1.0"}})", json_quote(type));
}

std::string action_data(bool succeeded, std::int64_t state_updated_ms, const std::string& arn,
                        const std::string& message, const std::string& error) {
  std::string head =
      fmt::format(R"({{"actionState":"{}","stateUpdateTimestamp":{},"notificationResource":{})",
                  succeeded ? "Succeeded" : "Failed", state_updated_ms, json_quote(arn));
  if (!succeeded) return fmt::format(R"({},"error":{}}})", head, json_quote(error));
  std::string with_message =
      fmt::format(R"({},"publishedMessage":{}}})", head, json_quote(message));
  return with_message.size() <= kMaxHistoryData ? with_message : head + "}";
}

std::string lambda_alarm_event(const MetricAlarm& alarm, const AlarmStateSnapshot& previous,
                               const AlarmOptions& options) {
  auto state_json = [](const AlarmStateSnapshot& state) {
    json::object out{{"value", to_string(state.state)}, {"reason", state.reason}};
    if (!state.reason_data.empty()) out["reasonData"] = state.reason_data;
    out["timestamp"] = format_timestamp(state.updated_ms);
    return out;
  };

  json::object dimensions;
  for (const auto& dimension : alarm.metric.dimensions)
    dimensions[dimension.name] = dimension.value;
  json::object metric_stat{
      {"metric", json::object{{"namespace", alarm.metric.ns},
                              {"name", alarm.metric.name},
                              {"dimensions", std::move(dimensions)}}},
      {"period", alarm.period_s},
      {"stat", alarm.extended_statistic.empty() ? alarm.statistic : alarm.extended_statistic}};
  if (!alarm.unit.empty()) metric_stat["unit"] = alarm.unit;

  json::object configuration;
  if (!alarm.description.empty()) configuration["description"] = alarm.description;
  configuration["metrics"] = json::array{json::object{
      {"id", metric_id(alarm.arn)}, {"metricStat", std::move(metric_stat)}, {"returnData", true}}};

  json::object alarm_data{{"alarmName", alarm.name},
                          {"state", state_json(AlarmStateSnapshot::of(alarm))},
                          {"previousState", state_json(previous)},
                          {"configuration", std::move(configuration)}};
  json::object event{
      {"source", "aws.cloudwatch"},      {"alarmArn", alarm.arn},
      {"accountId", options.account_id}, {"time", format_timestamp(alarm.state_updated_ms)},
      {"region", options.region},        {"alarmData", std::move(alarm_data)}};
  return json::serialize(event);
}

namespace {

// The names the AWS console and SNS alarm notifications give regions; other regions show
// their code.
std::string_view region_name(std::string_view code) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"us-east-1", "US East (N. Virginia)"},      {"us-east-2", "US East (Ohio)"},
      {"us-west-1", "US West (N. California)"},    {"us-west-2", "US West (Oregon)"},
      {"eu-west-1", "EU (Ireland)"},               {"eu-west-2", "EU (London)"},
      {"eu-west-3", "EU (Paris)"},                 {"eu-central-1", "EU (Frankfurt)"},
      {"eu-north-1", "EU (Stockholm)"},            {"ap-northeast-1", "Asia Pacific (Tokyo)"},
      {"ap-southeast-1", "Asia Pacific (Singapore)"},
      {"ap-southeast-2", "Asia Pacific (Sydney)"}, {"ap-south-1", "Asia Pacific (Mumbai)"},
      {"sa-east-1", "South America (Sao Paulo)"},  {"ca-central-1", "Canada (Central)"},
  };
  for (const auto& [region, name] : kNames) {
    if (region == code) return name;
  }
  return code;
}

json::array actions_json(const std::vector<std::string>& actions) {
  json::array out;
  for (const auto& action : actions) out.emplace_back(action);
  return out;
}

}  // namespace

TopicNotification sns_alarm_notification(const MetricAlarm& alarm,
                                         const AlarmStateSnapshot& previous,
                                         const AlarmOptions& options) {
  json::array dimensions;
  for (const auto& dimension : alarm.metric.dimensions) {
    dimensions.push_back(json::object{{"value", dimension.value}, {"name", dimension.name}});
  }
  json::object trigger{{"MetricName", alarm.metric.name}, {"Namespace", alarm.metric.ns}};
  if (alarm.extended_statistic.empty()) {
    std::string statistic = alarm.statistic;
    for (auto& c : statistic) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (statistic == "SAMPLECOUNT") statistic = "SAMPLE_COUNT";
    trigger["StatisticType"] = "Statistic";
    trigger["Statistic"] = statistic;
  } else {
    trigger["StatisticType"] = "ExtendedStatistic";
    trigger["ExtendedStatistic"] = alarm.extended_statistic;
  }
  trigger["Unit"] = alarm.unit.empty() ? json::value(nullptr) : json::value(alarm.unit);
  trigger["Dimensions"] = std::move(dimensions);
  trigger["Period"] = alarm.period_s;
  trigger["EvaluationPeriods"] = alarm.evaluation_periods;
  trigger["DatapointsToAlarm"] =
      alarm.datapoints_to_alarm > 0 ? alarm.datapoints_to_alarm : alarm.evaluation_periods;
  trigger["ComparisonOperator"] = alarm.comparison_operator;
  trigger["Threshold"] = alarm.threshold;
  trigger["TreatMissingData"] = alarm.treat_missing_data;
  trigger["EvaluateLowSampleCountPercentile"] = alarm.evaluate_low_sample_count_percentile;

  std::string_view region = region_name(options.region);
  json::object message{
      {"AlarmName", alarm.name},
      {"AlarmDescription",
       alarm.description.empty() ? json::value(nullptr) : json::value(alarm.description)},
      {"AWSAccountId", options.account_id},
      {"AlarmConfigurationUpdatedTimestamp", format_timestamp(alarm.configuration_updated_ms)},
      {"NewStateValue", to_string(alarm.state)},
      {"NewStateReason", alarm.state_reason},
      {"StateChangeTime", format_timestamp(alarm.state_updated_ms)},
      {"Region", region},
      {"AlarmArn", alarm.arn},
      {"OldStateValue", to_string(previous.state)},
      {"OKActions", actions_json(alarm.ok_actions)},
      {"AlarmActions", actions_json(alarm.alarm_actions)},
      {"InsufficientDataActions", actions_json(alarm.insufficient_data_actions)},
      {"Trigger", std::move(trigger)},
  };
  TopicNotification notification;
  notification.subject =
      fmt::format("{}: \"{}\" in {}", to_string(alarm.state), alarm.name, region);
  if (notification.subject.size() > 100) {
    notification.subject = std::string(utf8_prefix(notification.subject, 100));
  }
  notification.message = json::serialize(message);
  return notification;
}

std::string metric_id(const std::string& alarm_arn) {
  std::string hex = to_hex(sha256(alarm_arn));
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20, 12));
}

}  // namespace lambent::metrics
