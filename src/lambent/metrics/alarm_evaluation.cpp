#include "lambent/metrics/alarm_evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace lambent::metrics {

namespace {

// Limits of MetricAlarm.StateReason and StateReasonData in the CloudWatch API.
constexpr std::size_t kMaxReason = 1023;
constexpr std::size_t kMaxReasonData = 4000;
// The classic reason lists at most this many datapoints, newest first.
constexpr std::size_t kClassicListed = 5;

enum class Fill { none, breaching, not_breaching };

// One datapoint of the N evaluated: a real period or a missing one filled in.
struct Evaluated {
  const AlarmWindow* window;
  bool real;
  bool breaching;
};

std::string count_noun(std::size_t count, std::string_view noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

std::string_view was_were(std::size_t count) { return count == 1 ? "was" : "were"; }

std::string_view operator_words(std::string_view op) {
  if (op == "GreaterThanOrEqualToThreshold") return "greater than or equal to";
  if (op == "GreaterThanThreshold") return "greater than";
  if (op == "LessThanThreshold") return "less than";
  if (op == "LessThanOrEqualToThreshold") return "less than or equal to";
  return op;
}

std::string_view treat_of(const MetricAlarm& alarm) {
  // Alarms on AWS/DynamoDB metrics always ignore missing data, whatever TreatMissingData says.
  if (alarm.metric.ns == "AWS/DynamoDB") return "ignore";
  return alarm.treat_missing_data.empty() ? std::string_view("missing")
                                          : std::string_view(alarm.treat_missing_data);
}

std::string list_datapoints(const std::vector<const Evaluated*>& points, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < points.size() && i < limit; ++i) {
    if (i > 0) out += ", ";
    out += fmt::format("{} ({})", format_number(*points[i]->window->value),
                       format_reason_time(points[i]->window->start_s));
  }
  return out;
}

// The reason of an OK or ALARM decision. `listed` are the real datapoints that decided it
// (breaching for ALARM, not breaching for OK), newest first.
struct ReasonParts {
  const MetricAlarm& alarm;
  int n;
  int minimum;  // datapoints needed for this transition
  bool to_alarm;
  std::vector<const Evaluated*> listed;
  std::size_t received;  // real datapoints among the N
  std::size_t filled;    // missing datapoints filled in by TreatMissingData
  Fill fill;
};

std::string threshold_reason(const ReasonParts& p, std::size_t list_limit) {
  bool m_of_n = p.alarm.datapoints_to_alarm > 0;
  std::string_view negation = p.to_alarm ? "" : "not ";
  std::string filled;
  if (p.filled > 0 && p.fill != Fill::none) {
    filled =
        fmt::format(" and {} {} treated as [{}]", count_noun(p.filled, "missing datapoint"),
                    was_were(p.filled), p.fill == Fill::breaching ? "Breaching" : "NonBreaching");
  }
  std::string minimum;
  if (m_of_n) {
    minimum = fmt::format(" (minimum {} for {} transition)", count_noun(p.minimum, "datapoint"),
                          p.to_alarm ? "OK -> ALARM" : "ALARM -> OK");
  }
  std::string threshold = format_number(p.alarm.threshold);
  std::string_view words = operator_words(p.alarm.comparison_operator);

  if (p.listed.empty()) {
    // Only filled-in datapoints decided: "no datapoints were received for 3 periods and 3
    // missing datapoints were treated as [Breaching]".
    std::string received =
        p.received == 0
            ? std::string("no datapoints were")
            : fmt::format("{} {}", count_noun(p.received, "datapoint"), was_were(p.received));
    return fmt::format("Threshold Crossed: {} received for {} and {} {} treated as [{}]{}.",
                       received, count_noun(p.n, "period"),
                       count_noun(p.filled, "missing datapoint"), was_were(p.filled),
                       p.fill == Fill::breaching ? "Breaching" : "NonBreaching", minimum);
  }

  std::size_t count = p.listed.size();
  if (m_of_n) {
    return fmt::format(
        "Threshold Crossed: {} out of the last {} datapoints [{}] {} {}{} the threshold ({}){}{}.",
        count, p.n, list_datapoints(p.listed, list_limit), was_were(count), negation, words,
        threshold, filled, minimum);
  }
  if (count > kClassicListed) {
    return fmt::format(
        "Threshold Crossed: {} datapoints were {}{} the threshold ({}){}. The most recent "
        "datapoints which crossed the threshold: [{}].",
        count, negation, words, threshold, filled,
        list_datapoints(p.listed, std::min(list_limit, kClassicListed)));
  }
  return fmt::format("Threshold Crossed: {} [{}] {} {}{} the threshold ({}){}.",
                     count_noun(count, "datapoint"), list_datapoints(p.listed, list_limit),
                     was_were(count), negation, words, threshold, filled);
}

std::string reason_data(const MetricAlarm& alarm, const std::vector<AlarmWindow>& windows,
                        const std::vector<Evaluated>& evaluated, std::int64_t query_ms,
                        std::size_t recent_limit, std::size_t evaluated_limit) {
  // recentDatapoints: the real values of the evaluation range, oldest first.
  std::vector<const AlarmWindow*> recent;
  for (const auto& window : windows) {
    if (window.value) recent.push_back(&window);
  }
  if (recent.size() > recent_limit) recent.resize(recent_limit);
  std::reverse(recent.begin(), recent.end());

  std::string out =
      fmt::format(R"({{"version":"1.0","queryDate":"{}")", format_timestamp(query_ms));
  if (!recent.empty()) {
    out += fmt::format(R"(,"startDate":"{}")", format_timestamp(recent.front()->start_s * 1000));
  }
  if (!alarm.unit.empty()) out += fmt::format(R"(,"unit":{})", json_quote(alarm.unit));
  std::string_view statistic =
      alarm.extended_statistic.empty() ? alarm.statistic : alarm.extended_statistic;
  out += fmt::format(R"(,"statistic":{},"period":{},"recentDatapoints":[)", json_quote(statistic),
                     alarm.period_s);
  for (std::size_t i = 0; i < recent.size(); ++i) {
    if (i > 0) out += ',';
    out += format_number(*recent[i]->value);
  }
  out += fmt::format(R"(],"threshold":{},"evaluatedDatapoints":[)", format_number(alarm.threshold));
  for (std::size_t i = 0; i < evaluated.size() && i < evaluated_limit; ++i) {
    if (i > 0) out += ',';
    const AlarmWindow& window = *evaluated[i].window;
    out += fmt::format(R"({{"timestamp":"{}")", format_timestamp(window.start_s * 1000));
    if (evaluated[i].real) {
      out += fmt::format(R"(,"sampleCount":{},"value":{})", format_number(window.sample_count),
                         format_number(*window.value));
    }
    out += '}';
  }
  out += "]}";
  return out;
}

// Picks the N datapoints to evaluate: the newest N real ones when the range has that many,
// otherwise every real one plus the newest missing periods, so that filled-in datapoints are
// used as few times as possible. Newest first.
std::vector<Evaluated> pick_evaluated(const MetricAlarm& alarm,
                                      const std::vector<AlarmWindow>& windows, int n, Fill fill) {
  std::size_t real_count = 0;
  for (const auto& window : windows) {
    if (window.value) ++real_count;
  }
  std::size_t missing_needed = real_count >= static_cast<std::size_t>(n) ? 0 : n - real_count;
  std::vector<Evaluated> out;
  for (const auto& window : windows) {
    if (out.size() == static_cast<std::size_t>(n)) break;
    if (window.value) {
      out.push_back({&window, true, breaches(alarm, *window.value)});
    } else if (missing_needed > 0) {
      --missing_needed;
      out.push_back({&window, false, fill == Fill::breaching});
    }
  }
  return out;
}

bool low_sample_count(const MetricAlarm& alarm, const std::vector<Evaluated>& evaluated) {
  if (alarm.evaluate_low_sample_count_percentile != "ignore") return false;
  auto statistic = parse_statistic(alarm.extended_statistic);
  if (!statistic.ok() || statistic->kind != Statistic::Kind::percentile) return false;
  double minimum = low_sample_threshold(statistic->percentile);
  for (const auto& point : evaluated) {
    if (point.real && point.window->sample_count < minimum) return true;
  }
  return false;
}

}  // namespace

int evaluation_range(const MetricAlarm& alarm) { return std::max(alarm.evaluation_periods, 1) + 2; }

bool breaches(const MetricAlarm& alarm, double value) {
  const std::string& op = alarm.comparison_operator;
  if (op == "GreaterThanOrEqualToThreshold") return value >= alarm.threshold;
  if (op == "GreaterThanThreshold") return value > alarm.threshold;
  if (op == "LessThanThreshold") return value < alarm.threshold;
  if (op == "LessThanOrEqualToThreshold") return value <= alarm.threshold;
  return false;
}

double low_sample_threshold(double percentile) {
  double p = percentile / 100;
  if (p <= 0 || p >= 1) return 0;
  return p >= 0.5 ? 10 / (1 - p) : 10 / p;
}

AlarmDecision decide(const MetricAlarm& alarm, const std::vector<AlarmWindow>& windows,
                     std::int64_t query_ms) {
  const int n = std::max(alarm.evaluation_periods, 1);
  const int m = alarm.datapoints_to_alarm > 0 ? alarm.datapoints_to_alarm : n;
  std::string_view treat = treat_of(alarm);
  Fill fill = treat == "breaching"      ? Fill::breaching
              : treat == "notBreaching" ? Fill::not_breaching
                                        : Fill::none;

  std::vector<Evaluated> evaluated = pick_evaluated(alarm, windows, n, fill);
  std::vector<const Evaluated*> real_breaching;
  std::vector<const Evaluated*> real_not_breaching;
  std::size_t filled = 0;
  std::size_t filled_breaching = 0;
  for (const auto& point : evaluated) {
    if (!point.real) {
      ++filled;
      if (point.breaching) ++filled_breaching;
    } else {
      (point.breaching ? real_breaching : real_not_breaching).push_back(&point);
    }
  }
  std::size_t received = real_breaching.size() + real_not_breaching.size();

  AlarmDecision decision;
  auto make_data = [&] {
    std::size_t recent_limit = windows.size();
    std::size_t evaluated_limit = evaluated.size();
    std::string data =
        reason_data(alarm, windows, evaluated, query_ms, recent_limit, evaluated_limit);
    while (data.size() > kMaxReasonData && (recent_limit > 1 || evaluated_limit > 1)) {
      recent_limit = std::max<std::size_t>(recent_limit / 2, 1);
      evaluated_limit = std::max<std::size_t>(evaluated_limit / 2, 1);
      data = reason_data(alarm, windows, evaluated, query_ms, recent_limit, evaluated_limit);
    }
    return data;
  };

  if (low_sample_count(alarm, evaluated)) return decision;

  std::optional<AlarmState> state;
  if (fill != Fill::none) {
    state = real_breaching.size() + filled_breaching >= static_cast<std::size_t>(m)
                ? AlarmState::alarm
                : AlarmState::ok;
  } else if (received == 0) {
    state = AlarmState::insufficient_data;
  } else if (real_breaching.size() >= static_cast<std::size_t>(m)) {
    state = AlarmState::alarm;
  } else if (!real_not_breaching.empty()) {
    state = AlarmState::ok;
  } else {
    // Only breaching datapoints, too few for ALARM, and the rest unknown.
    state = AlarmState::insufficient_data;
  }

  if (*state == AlarmState::insufficient_data) {
    if (treat == "ignore") return decision;
    decision.state = state;
    decision.reason = fmt::format("Insufficient Data: {} {} unknown.",
                                  count_noun(filled, "datapoint"), was_were(filled));
    decision.reason_data = make_data();
    return decision;
  }

  bool to_alarm = *state == AlarmState::alarm;
  ReasonParts parts{.alarm = alarm,
                    .n = n,
                    .minimum = to_alarm ? m : n - m + 1,
                    .to_alarm = to_alarm,
                    .listed = to_alarm ? real_breaching : real_not_breaching,
                    .received = received,
                    .filled = filled,
                    .fill = fill};
  std::size_t list_limit = parts.listed.size();
  std::string reason = threshold_reason(parts, list_limit);
  while (reason.size() > kMaxReason && list_limit > 1) {
    list_limit /= 2;
    reason = threshold_reason(parts, list_limit);
  }
  decision.state = state;
  decision.reason = std::move(reason);
  decision.reason_data = make_data();
  return decision;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";

  // The shortest digits that read back as the same double, then laid out as Java does:
  // plain decimals from 10^-3 up to 10^7, computerized scientific notation outside.
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(value),
                              std::chars_format::scientific);
  std::string_view text(buffer, result.ptr - buffer);  // "1.2345e+07"
  std::size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exponent_text = text.substr(e + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  std::string out = value < 0 ? "-" : "";
  double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent >= 0) {
      std::size_t integer_digits = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= integer_digits) {
        out += digits + std::string(integer_digits - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
      }
    } else {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
  out += fmt::format("E{}", exponent);
  return out;
}

std::string format_timestamp(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}+0000", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     static_cast<int>(epoch_ms % 1000));
}

std::string format_reason_time(std::int64_t epoch_s) {
  std::time_t seconds = static_cast<std::time_t>(epoch_s);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:02d}/{:02d}/{:02d} {:02d}:{:02d}:{:02d}", utc.tm_mday, utc.tm_mon + 1,
                     utc.tm_year % 100, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace lambent::metrics
