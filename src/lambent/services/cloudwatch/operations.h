#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/services/cloudwatch/value.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lambent::metrics {
class MetricStore;
class AlarmEngine;
}  // namespace lambent::metrics

// The CloudWatch operations Lambent serves. Each validates its input as AWS does, calls the
// metric store or the alarm engine, and returns its output structure (nullopt for an operation
// without output) or an Error whose type is the CloudWatch error code. All run on the
// control-plane executor.
namespace lambent::services::cloudwatch {

struct CloudWatchOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Epoch milliseconds; empty means the system clock. Tests set a fixed clock.
  std::function<std::int64_t()> clock;
};

// The dependencies and arrival time of one call. The pointers outlive the call, and `alarms`
// is null when the server runs without an alarm engine.
struct OperationContext {
  metrics::MetricStore* store = nullptr;
  metrics::AlarmEngine* alarms = nullptr;
  const CloudWatchOptions* options = nullptr;
  std::int64_t now_ms = 0;  // the time the call arrived
};

using Output = Result<std::optional<Value>>;

// Metric operations (put_metric_data.cpp, metric_queries.cpp, list_metrics.cpp). `input`
// outlives the call.
Task<Output> put_metric_data(OperationContext context, const Value* input);
Task<Output> get_metric_statistics(OperationContext context, const Value* input);
Task<Output> get_metric_data(OperationContext context, const Value* input);
Task<Output> list_metrics(OperationContext context, const Value* input);

// Alarm operations (alarm_operations.cpp).
Task<Output> put_metric_alarm(OperationContext context, const Value* input);
Task<Output> describe_alarms(OperationContext context, const Value* input);
Task<Output> describe_alarms_for_metric(OperationContext context, const Value* input);
Task<Output> delete_alarms(OperationContext context, const Value* input);
Task<Output> set_alarm_state(OperationContext context, const Value* input);
Task<Output> describe_alarm_history(OperationContext context, const Value* input);
Task<Output> enable_alarm_actions(OperationContext context, const Value* input);
Task<Output> disable_alarm_actions(OperationContext context, const Value* input);

// Paging tokens: the base64 of "<operation>:<offset>", so a token from one operation is
// rejected by another. decode returns nullopt for anything else.
std::string encode_page_token(std::string_view operation, std::size_t offset);
std::optional<std::size_t> decode_page_token(std::string_view operation, std::string_view token);

}  // namespace lambent::services::cloudwatch
