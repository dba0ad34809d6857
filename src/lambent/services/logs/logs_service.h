#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/services/logs/log_groups.h"
#include "lambent/store/document_store.h"
#include "lambent/store/log_store.h"

#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

// The CloudWatch Logs API (JSON 1.1, X-Amz-Target "Logs_20140328.<Operation>") over the
// function logs of store::LogStore: DescribeLogGroups, DescribeLogStreams, GetLogEvents,
// FilterLogEvents, PutRetentionPolicy, DeleteRetentionPolicy, CreateLogGroup and
// DeleteLogGroup. Any other operation gets AWS's UnknownOperationException.
//
// Runs on the control-plane executor. Every file read runs on the blocking pool, and one page
// reads at most PageLimits::max_scan_bytes of log lines. Retention is enforced twice: reads
// skip events older than the group's retention, and a sweep on the blocking pool deletes the
// stream files whose newest event is older, at start, after each PutRetentionPolicy and every
// LogsOptions::sweep_interval.
namespace lambent::services::logs {

struct LogsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::chrono::steady_clock::duration sweep_interval = std::chrono::minutes(10);
  store::PageLimits limits;
  // Milliseconds since the Unix epoch; empty: the system clock.
  std::function<std::int64_t()> now;
};

class LogsService {
 public:
  LogsService(store::LogStore& logs, store::DocumentStore& documents, asio::thread_pool& blocking,
              asio::any_io_executor executor, LogsOptions options = {});
  ~LogsService();
  LogsService(const LogsService&) = delete;
  LogsService& operator=(const LogsService&) = delete;

  // Loads the stored log group settings. Blocks, so it runs at start-up only.
  Status load();
  // Starts the retention sweeps.
  void start();
  void stop();

  // True for a request whose X-Amz-Target names a CloudWatch Logs operation.
  static bool owns(const http::Request& request);

  Task<http::Response> handle(http::Request& request, std::string request_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lambent::services::logs
