#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/metrics/metric_store.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lambent::store {
class DocumentStore;
}

// CloudWatch metric alarms: each watches one statistic of one series over Period seconds,
// compares the last EvaluationPeriods datapoints with Threshold, and moves between OK, ALARM and
// INSUFFICIENT_DATA as AWS does ("M out of N" with DatapointsToAlarm, TreatMissingData,
// EvaluateLowSampleCountPercentile). A state change runs the actions of the new state (a
// Lambda function ARN is invoked asynchronously with AWS's alarm event) and is written to the
// alarm's history. Alarms are stored as documents and evaluated on the control-plane executor,
// each at the end of every period.
namespace lambent::metrics {

enum class AlarmState { ok, alarm, insufficient_data };
std::string_view to_string(AlarmState state);  // "OK", "ALARM", "INSUFFICIENT_DATA"
std::optional<AlarmState> parse_alarm_state(std::string_view text);

struct MetricAlarm {
  // Configuration, as PutMetricAlarm gives it.
  std::string name;
  std::string description;
  bool actions_enabled = true;
  std::vector<std::string> ok_actions;
  std::vector<std::string> alarm_actions;
  std::vector<std::string> insufficient_data_actions;
  MetricKey metric;
  std::string statistic;           // Sum, Average, Minimum, Maximum, SampleCount; or empty
  std::string extended_statistic;  // "p99" and the like; or empty
  std::int64_t period_s = 60;      // 10, 20, 30, or a multiple of 60
  std::string unit;                // empty: any
  int evaluation_periods = 1;
  int datapoints_to_alarm = 0;  // 0: same as evaluation_periods
  double threshold = 0;
  std::string comparison_operator;  // GreaterThanOrEqualToThreshold, GreaterThanThreshold,
                                    // LessThanThreshold, LessThanOrEqualToThreshold
  std::string treat_missing_data = "missing";        // breaching, notBreaching, ignore, missing
  std::string evaluate_low_sample_count_percentile;  // evaluate, ignore; or empty
  std::vector<std::pair<std::string, std::string>> tags;

  // Set by the engine.
  std::string arn;
  AlarmState state = AlarmState::insufficient_data;
  std::string state_reason = "Unchecked: Initial alarm creation";
  std::string state_reason_data;  // JSON text, empty when none
  std::int64_t state_updated_ms = 0;
  std::int64_t state_transitioned_ms = 0;
  std::int64_t configuration_updated_ms = 0;
};

struct AlarmHistoryItem {
  std::string alarm_name;
  std::string alarm_type = "MetricAlarm";
  std::int64_t timestamp_ms = 0;
  std::string type;     // ConfigurationUpdate, StateUpdate, Action
  std::string summary;  // "Alarm updated from OK to ALARM", ...
  std::string data;     // JSON text
};

struct AlarmOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::size_t history_per_alarm = 100;            // newest items kept per alarm
  std::int64_t history_retention_s = 14 * 86400;  // CloudWatch keeps alarm history two weeks
  // How long after a period ends its alarms are evaluated, so values recorded just after the
  // boundary count: periods of 10, 20 and 30 s, and periods of a minute or more.
  std::chrono::milliseconds high_resolution_delay{2000};
  std::chrono::milliseconds standard_delay{5000};
  // Epoch milliseconds; empty reads the system clock. Tests move time through it.
  std::function<std::int64_t()> clock;
};

// Invokes a function asynchronously: the ARN as the alarm names it (function, version or
// alias) and the event JSON. Resumes once the event is queued.
using AlarmActionSink = std::function<Task<Status>(std::string function_arn, std::string event)>;
// Publishes an alarm notification to an SNS topic. Resumes once the message is accepted.
using AlarmTopicSink =
    std::function<Task<Status>(std::string topic_arn, std::string subject, std::string message)>;

class AlarmEngine {
 public:
  AlarmEngine(MetricStore& metrics, store::DocumentStore& documents, asio::any_io_executor executor,
              AlarmOptions options);
  ~AlarmEngine();
  AlarmEngine(const AlarmEngine&) = delete;
  AlarmEngine& operator=(const AlarmEngine&) = delete;

  // Loads stored alarms and their history. Blocks, so it runs at start-up only.
  Status load();
  void set_action_sink(AlarmActionSink sink);
  void set_topic_sink(AlarmTopicSink sink);
  void start();
  void stop();

  // Creates or replaces an alarm (a replaced alarm keeps its state) and records a
  // ConfigurationUpdate history item. The caller has validated the fields.
  Task<Status> put(MetricAlarm alarm);
  // Deletes the named alarms. Errc::not_found naming the first that does not exist, in which
  // case none is deleted.
  Task<Status> remove(std::vector<std::string> names);
  // Sets the state until the next evaluation and runs the new state's actions, as
  // SetAlarmState does. Errc::not_found when the alarm does not exist.
  Task<Status> set_state(std::string name, AlarmState state, std::string reason,
                         std::string reason_data);

  // Alarms ordered by name.
  std::vector<const MetricAlarm*> alarms() const;
  const MetricAlarm* find(std::string_view name) const;
  // History items, newest first, of one alarm or (name empty) of all alarms.
  std::vector<AlarmHistoryItem> history(std::string_view name) const;

  // Evaluates every alarm now, as the period timer does, over the periods that end at the
  // latest evaluation boundary at or before the clock's time: a minute boundary for periods of
  // a minute or more, a multiple of the period for shorter ones. For tests and tools.
  Task<void> evaluate_all();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lambent::metrics
