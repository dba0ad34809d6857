#include "lambent/invoke/async_policy.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace lambent::invoke {

namespace json = boost::json;

namespace {

std::int64_t scaled(std::int64_t ms, double scale) {
  return static_cast<std::int64_t>(std::llround(static_cast<double>(ms) * scale));
}

json::value embed_payload(std::string_view payload) {
  boost::system::error_code ec;
  auto value = json::parse(payload, ec);
  if (ec) return json::string(payload);
  return value;
}

// "2019-11-24T21:52:47.333Z"
std::string iso_timestamp(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buffer, epoch_ms % 1000);
}

}  // namespace

std::int64_t function_error_delay_ms(int failed_attempts, double scale) {
  std::int64_t delay = failed_attempts <= 1 ? 60'000 : 120'000;
  return scaled(delay, scale);
}

std::int64_t backoff_delay_ms(int delayed_retries, double scale) {
  constexpr std::int64_t kFirstMs = 1'000;
  constexpr std::int64_t kMaxMs = 300'000;
  int doublings = std::clamp(delayed_retries, 0, 20);
  std::int64_t delay = std::min(kFirstMs << doublings, kMaxMs);
  return scaled(delay, scale);
}

TargetService target_service(std::string_view arn) {
  // arn:PARTITION:SERVICE:...
  if (!arn.starts_with("arn:")) return TargetService::other;
  auto partition_end = arn.find(':', 4);
  if (partition_end == std::string_view::npos) return TargetService::other;
  auto service_end = arn.find(':', partition_end + 1);
  if (service_end == std::string_view::npos) return TargetService::other;
  auto service = arn.substr(partition_end + 1, service_end - partition_end - 1);
  if (service == "lambda") return TargetService::lambda;
  if (service == "sqs") return TargetService::sqs;
  if (service == "sns") return TargetService::sns;
  if (service == "events") return TargetService::eventbridge;
  return TargetService::other;
}

std::optional<LambdaTarget> parse_lambda_arn(std::string_view arn) {
  if (target_service(arn) != TargetService::lambda) return std::nullopt;
  // Fields: arn, partition, service, region, account, "function", name, optional qualifier.
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    auto colon = arn.find(':', start);
    fields.push_back(arn.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (fields.size() < 7 || fields.size() > 8 || fields[5] != "function" || fields[6].empty()) {
    return std::nullopt;
  }
  LambdaTarget target{std::string(fields[6]), "$LATEST"};
  if (fields.size() == 8 && !fields[7].empty()) target.qualifier = fields[7];
  return target;
}

std::string render_destination_record(const DestinationRecord& record) {
  json::object out{
      {"version", "1.0"},
      {"timestamp", iso_timestamp(record.timestamp_ms)},
      {"requestContext",
       json::object{{"requestId", record.request_id},
                    {"functionArn", record.function_arn},
                    {"condition", record.condition},
                    {"approximateInvokeCount", record.approximate_invoke_count}}},
      {"requestPayload", embed_payload(record.request_payload)},
  };
  // NOTE: an event that expired before any attempt produced a response (throttles, system
  // errors) gets no responseContext. No recorded AWS record covers that case.
  if (record.response_payload) {
    json::object context{{"statusCode", 200}, {"executedVersion", record.executed_version}};
    if (record.function_error) context["functionError"] = "Unhandled";
    out["responseContext"] = std::move(context);
    out["responsePayload"] = embed_payload(*record.response_payload);
  }
  return json::serialize(out);
}

}  // namespace lambent::invoke
