#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// Plain records the store persists. Field names follow the Lambda API where one exists.
namespace lambent::store {

struct FunctionRecord {
  std::string name;
  std::string runtime;  // "python3.12", "nodejs20.x", "provided.al2023", ...
  std::string handler;
  std::string role;
  std::string description;
  int timeout_seconds = 3;
  int memory_mb = 128;
  int ephemeral_storage_mb = 512;
  std::vector<std::pair<std::string, std::string>> environment;
  // True once a request set Environment, even to no variables: AWS then reports
  // "Environment": {"Variables": {}} instead of leaving the field out.
  bool environment_set = false;
  std::string architecture = "x86_64";
  std::string code_sha256_hex;
  std::string code_sha256_base64;
  std::uint64_t code_size = 0;
  std::string last_modified;  // "2024-01-02T03:04:05.678+0000", as AWS formats it
  std::string revision_id;
  std::int64_t created_ms = 0;
  // DeadLetterConfig.TargetArn; empty when the function has no dead-letter target.
  std::string dead_letter_target_arn;
};

struct AccessKey {
  std::string id;
  std::string secret;
};

// An accepted asynchronous invocation, durable from before the 202 response.
struct AsyncEvent {
  std::int64_t seq = 0;  // store-assigned, increasing
  std::string function_name;
  std::string qualifier;
  std::string request_id;
  std::string payload;
  std::int64_t enqueued_ms = 0;  // first enqueue; the event's age counts from here
  int attempts = 0;         // invocations started; lease() returns the count before its own
  int failed_attempts = 0;  // attempts that ended in a function error
  int delayed_retries = 0;  // throttle and system-error retries so far; sets the backoff
};

}  // namespace lambent::store
