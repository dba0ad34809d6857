#include "lambent/metrics/alarm_codec.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace lambent::metrics {

namespace json = boost::json;

namespace {

constexpr std::int64_t kFormat = 1;

json::array encode_strings(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

json::array encode_pairs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json::array out;
  for (const auto& [key, value] : pairs)
    out.push_back(json::array{json::string(key), json::string(value)});
  return out;
}

// Reads fields of a parsed document; the first missing or mistyped field makes it invalid.
class Reader {
 public:
  explicit Reader(const json::object& object) : object_(object) {}

  std::string string(std::string_view key) {
    const json::value* value = object_.if_contains(key);
    if (!value) return {};
    if (!value->is_string()) return fail(key), std::string();
    return std::string(value->get_string());
  }
  std::int64_t integer(std::string_view key) {
    const json::value* value = object_.if_contains(key);
    if (!value) return 0;
    if (!value->is_int64()) return fail(key), 0;
    return value->get_int64();
  }
  double number(std::string_view key) {
    const json::value* value = object_.if_contains(key);
    if (!value) return 0;
    if (value->is_double()) return value->get_double();
    if (value->is_int64()) return static_cast<double>(value->get_int64());
    return fail(key), 0;
  }
  bool boolean(std::string_view key, bool fallback) {
    const json::value* value = object_.if_contains(key);
    if (!value) return fallback;
    if (!value->is_bool()) return fail(key), fallback;
    return value->get_bool();
  }
  std::vector<std::string> strings(std::string_view key) {
    std::vector<std::string> out;
    const json::value* value = object_.if_contains(key);
    if (!value) return out;
    if (!value->is_array()) return fail(key), out;
    for (const auto& item : value->get_array()) {
      if (!item.is_string()) return fail(key), out;
      out.emplace_back(item.get_string());
    }
    return out;
  }
  std::vector<std::pair<std::string, std::string>> pairs(std::string_view key) {
    std::vector<std::pair<std::string, std::string>> out;
    const json::value* value = object_.if_contains(key);
    if (!value) return out;
    if (!value->is_array()) return fail(key), out;
    for (const auto& item : value->get_array()) {
      const json::array* pair = item.if_array();
      if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
        return fail(key), out;
      }
      out.emplace_back(std::string((*pair)[0].get_string()), std::string((*pair)[1].get_string()));
    }
    return out;
  }

  const std::string& bad_field() const { return bad_field_; }

 private:
  void fail(std::string_view key) {
    if (bad_field_.empty()) bad_field_ = std::string(key);
  }
  const json::object& object_;
  std::string bad_field_;
};

Result<json::object> parse_object(std::string_view body, std::string_view document_kind) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return make_error(Errc::invalid_content,
                      fmt::format("stored {} is not a JSON object", document_kind));
  }
  return std::move(value.get_object());
}

}  // namespace

std::string encode_alarm(const MetricAlarm& alarm) {
  json::array dimensions;
  for (const auto& dimension : alarm.metric.dimensions) {
    dimensions.push_back(json::array{json::string(dimension.name), json::string(dimension.value)});
  }
  json::object out{
      {"format", kFormat},
      {"name", alarm.name},
      {"description", alarm.description},
      {"actions_enabled", alarm.actions_enabled},
      {"ok_actions", encode_strings(alarm.ok_actions)},
      {"alarm_actions", encode_strings(alarm.alarm_actions)},
      {"insufficient_data_actions", encode_strings(alarm.insufficient_data_actions)},
      {"namespace", alarm.metric.ns},
      {"metric_name", alarm.metric.name},
      {"dimensions", std::move(dimensions)},
      {"statistic", alarm.statistic},
      {"extended_statistic", alarm.extended_statistic},
      {"period_s", alarm.period_s},
      {"unit", alarm.unit},
      {"evaluation_periods", alarm.evaluation_periods},
      {"datapoints_to_alarm", alarm.datapoints_to_alarm},
      {"threshold", alarm.threshold},
      {"comparison_operator", alarm.comparison_operator},
      {"treat_missing_data", alarm.treat_missing_data},
      {"evaluate_low_sample_count_percentile", alarm.evaluate_low_sample_count_percentile},
      {"tags", encode_pairs(alarm.tags)},
      {"arn", alarm.arn},
      {"state", to_string(alarm.state)},
      {"state_reason", alarm.state_reason},
      {"state_reason_data", alarm.state_reason_data},
      {"state_updated_ms", alarm.state_updated_ms},
      {"state_transitioned_ms", alarm.state_transitioned_ms},
      {"configuration_updated_ms", alarm.configuration_updated_ms},
  };
  return json::serialize(out);
}

Result<MetricAlarm> decode_alarm(std::string_view body) {
  auto object = parse_object(body, "alarm");
  if (!object.ok()) return std::move(object).error();
  Reader read(*object);
  MetricAlarm alarm;
  alarm.name = read.string("name");
  alarm.description = read.string("description");
  alarm.actions_enabled = read.boolean("actions_enabled", true);
  alarm.ok_actions = read.strings("ok_actions");
  alarm.alarm_actions = read.strings("alarm_actions");
  alarm.insufficient_data_actions = read.strings("insufficient_data_actions");
  alarm.metric.ns = read.string("namespace");
  alarm.metric.name = read.string("metric_name");
  for (auto& [name, value] : read.pairs("dimensions")) {
    alarm.metric.dimensions.push_back({std::move(name), std::move(value)});
  }
  alarm.statistic = read.string("statistic");
  alarm.extended_statistic = read.string("extended_statistic");
  alarm.period_s = read.integer("period_s");
  alarm.unit = read.string("unit");
  alarm.evaluation_periods = static_cast<int>(read.integer("evaluation_periods"));
  alarm.datapoints_to_alarm = static_cast<int>(read.integer("datapoints_to_alarm"));
  alarm.threshold = read.number("threshold");
  alarm.comparison_operator = read.string("comparison_operator");
  alarm.treat_missing_data = read.string("treat_missing_data");
  alarm.evaluate_low_sample_count_percentile = read.string("evaluate_low_sample_count_percentile");
  alarm.tags = read.pairs("tags");
  alarm.arn = read.string("arn");
  std::string state = read.string("state");
  alarm.state_reason = read.string("state_reason");
  alarm.state_reason_data = read.string("state_reason_data");
  alarm.state_updated_ms = read.integer("state_updated_ms");
  alarm.state_transitioned_ms = read.integer("state_transitioned_ms");
  alarm.configuration_updated_ms = read.integer("configuration_updated_ms");

  if (!read.bad_field().empty()) {
    return make_error(Errc::invalid_content,
                      fmt::format("stored alarm has an invalid field {}", read.bad_field()));
  }
  auto parsed_state = parse_alarm_state(state);
  if (alarm.name.empty() || !parsed_state || alarm.period_s <= 0) {
    return make_error(Errc::invalid_content, "stored alarm lacks its name, state or period");
  }
  alarm.state = *parsed_state;
  return alarm;
}

std::string encode_history_item(const AlarmHistoryItem& item) {
  json::object out{{"format", kFormat},
                   {"alarm_name", item.alarm_name},
                   {"alarm_type", item.alarm_type},
                   {"timestamp_ms", item.timestamp_ms},
                   {"type", item.type},
                   {"summary", item.summary},
                   {"data", item.data}};
  return json::serialize(out);
}

Result<AlarmHistoryItem> decode_history_item(std::string_view body) {
  auto object = parse_object(body, "alarm history item");
  if (!object.ok()) return std::move(object).error();
  Reader read(*object);
  AlarmHistoryItem item;
  item.alarm_name = read.string("alarm_name");
  item.alarm_type = read.string("alarm_type");
  item.timestamp_ms = read.integer("timestamp_ms");
  item.type = read.string("type");
  item.summary = read.string("summary");
  item.data = read.string("data");
  if (!read.bad_field().empty() || item.alarm_name.empty() || item.type.empty()) {
    return make_error(Errc::invalid_content, "stored alarm history item is incomplete");
  }
  return item;
}

}  // namespace lambent::metrics
