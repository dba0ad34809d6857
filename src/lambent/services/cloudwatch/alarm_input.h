#pragma once

#include "lambent/base/result.h"
#include "lambent/metrics/alarms.h"
#include "lambent/services/cloudwatch/operations.h"
#include "lambent/services/cloudwatch/value.h"

// Reading PutMetricAlarm's input into a MetricAlarm and rendering alarms and their history
// for the Describe operations.
namespace lambent::services::cloudwatch {

// Validates a PutMetricAlarm input with CloudWatch's rules. It needs Statistic or
// ExtendedStatistic, and a Period of 10, 20, 30 or a multiple of 60. EvaluationPeriods * Period
// may span one day at most, and DatapointsToAlarm may not exceed EvaluationPeriods. The
// comparison operators and TreatMissingData take CloudWatch's values, and actions must be
// Lambda function ARNs of this server's region and account. A Metrics list of one MetricStat
// query is mapped to the metric fields. Metric math, anomaly detection thresholds and PromQL
// criteria are rejected as unsupported.
Result<metrics::MetricAlarm> read_metric_alarm(const Value& input,
                                               const CloudWatchOptions& options);

// The MetricAlarm structure of DescribeAlarms, members in the model's order.
Value metric_alarm_value(const metrics::MetricAlarm& alarm);

// An AlarmHistoryItem structure.
Value history_item_value(const metrics::AlarmHistoryItem& item);

}  // namespace lambent::services::cloudwatch
