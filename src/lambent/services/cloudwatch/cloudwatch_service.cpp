#include "lambent/services/cloudwatch/cloudwatch_service.h"

#include "lambent/base/log.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/protocol.h"

#include <fmt/format.h>

#include <array>
#include <utility>

namespace lambent::services::cloudwatch {

namespace {

// PutMetricData requests are limited to 1 MB as sent (gzip allowed). Decompressed bodies are
// capped higher, because 1,000 data of 150 values each take about 8 MB as a query form.
constexpr std::size_t kMaxPutMetricDataBytes = 1024 * 1024;
constexpr std::size_t kMaxDecodedBytes = 16 * 1024 * 1024;

using Operation = Task<Output> (*)(OperationContext, const Value*);

struct Route {
  std::string_view name;
  Operation run;
  bool needs_alarms;
};

constexpr std::array<Route, 12> kRoutes = {{
    {"PutMetricData", &put_metric_data, false},
    {"GetMetricStatistics", &get_metric_statistics, false},
    {"GetMetricData", &get_metric_data, false},
    {"ListMetrics", &list_metrics, false},
    {"PutMetricAlarm", &put_metric_alarm, true},
    {"DescribeAlarms", &describe_alarms, true},
    {"DescribeAlarmsForMetric", &describe_alarms_for_metric, true},
    {"DeleteAlarms", &delete_alarms, true},
    {"SetAlarmState", &set_alarm_state, true},
    {"DescribeAlarmHistory", &describe_alarm_history, true},
    {"EnableAlarmActions", &enable_alarm_actions, true},
    {"DisableAlarmActions", &disable_alarm_actions, true},
}};

const Route* find_route(std::string_view operation) {
  for (const auto& route : kRoutes) {
    if (route.name == operation) return &route;
  }
  return nullptr;
}

// The query-protocol code of each signature failure the edge reports.
std::string_view auth_code(std::string_view type) {
  if (type == "MissingAuthenticationTokenException") return "MissingAuthenticationToken";
  if (type == "IncompleteSignatureException") return "IncompleteSignature";
  if (type == "UnrecognizedClientException") return "InvalidClientTokenId";
  return "SignatureDoesNotMatch";
}

}  // namespace

CloudWatchService::CloudWatchService(metrics::MetricStore& store, metrics::AlarmEngine* alarms,
                                     CloudWatchOptions options)
    : store_(store), alarms_(alarms), options_(std::move(options)) {}

bool CloudWatchService::owns(const http::Request& request) {
  return is_cloudwatch_request(request);
}

http::Response CloudWatchService::unauthorized(const http::Request& request,
                                               const Error& error) const {
  Error rendered{Errc::unauthorized, error.message, std::string(auth_code(error.type))};
  return encode_error(detect_protocol(request), rendered, request.id);
}

Task<http::Response> CloudWatchService::handle(const http::Request& request) {
  Protocol protocol = detect_protocol(request);
  auto call = decode_call(request, kMaxDecodedBytes);
  if (!call) co_return encode_error(protocol, call.error(), request.id);

  const Route* route = find_route(call->operation);
  if (route == nullptr) {
    Error error = is_cloudwatch_operation(call->operation) ? not_implemented(call->operation)
                                                           : invalid_action(call->operation);
    co_return encode_error(protocol, error, request.id);
  }
  if (route->needs_alarms && alarms_ == nullptr) {
    co_return encode_error(protocol, not_implemented(call->operation), request.id);
  }
  if (route->name == "PutMetricData" && request.body.size() > kMaxPutMetricDataBytes) {
    co_return encode_error(
        protocol,
        request_too_large(fmt::format("The PutMetricData request of {} bytes exceeds the limit of "
                                      "{} bytes; send fewer data or gzip the body.",
                                      request.body.size(), kMaxPutMetricDataBytes)),
        request.id);
  }

  OperationContext context;
  context.store = &store_;
  context.alarms = alarms_;
  context.options = &options_;
  context.now_ms = options_.clock ? options_.clock() : epoch_ms();
  auto output = co_await route->run(context, &call->input);
  if (!output) {
    const Error& error = output.error();
    ErrorShape shape = error_shape(error);
    if (error.code == Errc::io || error.code == Errc::internal) {
      LOG_WARN("cloudwatch", "operation_failed", "request_id={} operation={} error=\"{}\"",
               request.id, call->operation, error.message);
    } else {
      LOG_DEBUG("cloudwatch", "request_rejected", "request_id={} operation={} code={}", request.id,
                call->operation, shape.code);
    }
    co_return encode_error(protocol, error, request.id);
  }
  const Value* result = output->has_value() ? &**output : nullptr;
  co_return encode_output(*call, result, request.id);
}

}  // namespace lambent::services::cloudwatch
