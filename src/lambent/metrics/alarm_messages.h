#pragma once

#include "lambent/metrics/alarms.h"

#include <cstdint>
#include <string>

// The JSON texts CloudWatch shows for alarm activity: HistoryData of the three history item
// types, and the event a Lambda alarm action receives.
namespace lambent::metrics {

// An alarm's state at one moment, for history data and the Lambda event.
struct AlarmStateSnapshot {
  AlarmState state = AlarmState::insufficient_data;
  std::string reason;
  std::string reason_data;  // JSON text, empty when none
  std::int64_t updated_ms = 0;

  static AlarmStateSnapshot of(const MetricAlarm& alarm) {
    return {alarm.state, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_ms};
  }
};

// StateUpdate: {"version":"1.0","oldState":{...},"newState":{...}}, each state with
// stateValue, stateReason and, when present, stateReasonData as an object.
std::string state_update_data(const AlarmStateSnapshot& old_state,
                              const AlarmStateSnapshot& new_state);

// ConfigurationUpdate of `type` Create, Update or Delete: {"type":"Create","version":"1.0",
// "createdAlarm":{...}}; an update also carries the configuration it replaced.
std::string configuration_data(std::string_view type, const MetricAlarm& alarm,
                               const MetricAlarm* original);

// Action: {"actionState":"Succeeded"|"Failed","stateUpdateTimestamp":ms,
// "notificationResource":arn, ...}; a success carries the published message when it fits
// the 4095-character limit of HistoryData, a failure its error.
std::string action_data(bool succeeded, std::int64_t state_updated_ms, const std::string& arn,
                        const std::string& message, const std::string& error);

// The event of a Lambda alarm action: source aws.cloudwatch, alarmArn, accountId, time,
// region and alarmData (alarmName, state, previousState, configuration.metrics[0].metricStat).
std::string lambda_alarm_event(const MetricAlarm& alarm, const AlarmStateSnapshot& previous,
                               const AlarmOptions& options);

// The notification an SNS alarm action publishes: Subject 'ALARM: "name" in <region name>'
// (at most 100 characters) and the JSON Message with AlarmName, NewStateValue, OldStateValue,
// the actions and the Trigger that describes the metric and threshold.
struct TopicNotification {
  std::string subject;
  std::string message;
};
TopicNotification sns_alarm_notification(const MetricAlarm& alarm,
                                         const AlarmStateSnapshot& previous,
                                         const AlarmOptions& options);

// A stable UUID-shaped id for the alarm's metric in the Lambda event, derived from its ARN.
std::string metric_id(const std::string& alarm_arn);

}  // namespace lambent::metrics
