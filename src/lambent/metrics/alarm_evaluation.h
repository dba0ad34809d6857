#pragma once

#include "lambent/metrics/alarms.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The decision of one alarm evaluation, as CloudWatch makes it, separate from the engine so it
// can be tested without a store. The engine reads the evaluation range (EvaluationPeriods + 2
// periods ending at the evaluation time), computes the alarm's statistic per period, and passes
// the periods here, newest first.
namespace lambent::metrics {

// One period of the evaluation range: [start_s, start_s + Period).
struct AlarmWindow {
  std::int64_t start_s = 0;
  std::optional<double> value;  // the alarm's statistic, or nullopt when the period has no data
  double sample_count = 0;
};

struct AlarmDecision {
  // nullopt keeps the current state: TreatMissingData ignore without enough data, or a
  // percentile alarm with EvaluateLowSampleCountPercentile ignore and too few samples.
  std::optional<AlarmState> state;
  std::string reason;       // StateReason, at most 1023 characters
  std::string reason_data;  // StateReasonData JSON, at most 4000 characters
};

// The number of periods read per evaluation: EvaluationPeriods plus two older ones, which
// stand in for missing recent periods.
int evaluation_range(const MetricAlarm& alarm);

// Decides the state from the evaluation range (`windows`, newest first, evaluation_range()
// entries). `query_ms` is the evaluation time for the reason data.
AlarmDecision decide(const MetricAlarm& alarm, const std::vector<AlarmWindow>& windows,
                     std::int64_t query_ms);

// Whether one value breaches the threshold under the alarm's ComparisonOperator.
bool breaches(const MetricAlarm& alarm, double value);

// The minimum sample count below which EvaluateLowSampleCountPercentile applies to a
// percentile (0 to 100): 10 / (1 - p) for p >= 0.5, 10 / p below 0.5, and 0 for p0 and p100.
double low_sample_threshold(double percentile);

// A number as CloudWatch prints it in reasons and reason data (Java's Double.toString):
// "5.0", "0.2872183414376726", "1.0E7".
std::string format_number(double value);
// "2026-12-05T06:10:00.000+0000"
std::string format_timestamp(std::int64_t epoch_ms);
// "05/12/26 06:10:00" (day/month/year), the form of datapoint times in reasons.
std::string format_reason_time(std::int64_t epoch_s);

// A JSON string literal with quotes, escaped.
std::string json_quote(std::string_view text);

}  // namespace lambent::metrics
