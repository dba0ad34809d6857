#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// AWS's asynchronous invocation rules as plain functions: retry delays, destination ARNs and
// the destination record. No I/O.
namespace lambent::invoke {

// Defaults AWS applies when an event invoke config leaves a field unset.
inline constexpr int kDefaultMaximumRetryAttempts = 2;
inline constexpr int kDefaultMaximumEventAgeSeconds = 21600;

// Delay before the retry that follows function error number `failed_attempts` (1 or 2):
// 1 minute, then 2 minutes, as AWS documents. Multiplied by `scale`.
std::int64_t function_error_delay_ms(int failed_attempts, double scale);

// Delay before retry number `delayed_retries` + 1 after a throttle or system error: 1 second
// doubling up to 5 minutes. Multiplied by `scale`.
std::int64_t backoff_delay_ms(int delayed_retries, double scale);

// The service of a destination or dead-letter ARN.
enum class TargetService { lambda, sqs, sns, eventbridge, other };
TargetService target_service(std::string_view arn);

struct LambdaTarget {
  std::string name;
  std::string qualifier;  // "$LATEST" when the ARN names none
};
// Parses "arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]".
std::optional<LambdaTarget> parse_lambda_arn(std::string_view arn);

// Inputs of the JSON document a destination receives.
struct DestinationRecord {
  std::int64_t timestamp_ms = 0;
  std::string request_id;
  std::string function_arn;  // qualified with the version that ran
  std::string condition;     // "Success", "RetriesExhausted" or "EventAgeExceeded"
  int approximate_invoke_count = 0;
  std::string request_payload;
  // Set when an attempt produced a response.
  std::optional<std::string> response_payload;
  std::string executed_version;
  bool function_error = false;
};

// Renders AWS's destination record (version "1.0"). Payloads that are JSON are embedded as
// values, others as strings.
std::string render_destination_record(const DestinationRecord& record);

}  // namespace lambent::invoke
