#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace lambent::store {
class Sqlite;
}

// The cost ledger: what functions cost to run, counted per function version as AWS bills
// Lambda. It counts requests and billed duration, which is each invocation's duration rounded
// up to a whole millisecond (at least 1 ms), as the REPORT line's Billed Duration shows it.
// It also counts that duration times the configured memory, and the CPU time the
// environments' processes actually used. Counts are kept per minute in memory on the hot path
// and written to SQLite in one group commit every few seconds and at shutdown. Queries write
// what is pending first. Minutes older than the retention are deleted. Confined to the
// control-plane executor.
namespace lambent::metrics {

// Prices in US dollars. The defaults are AWS's published on-demand prices for x86 functions
// (the first pricing tier in us-east-1): $0.20 per million requests and $0.0000166667 per
// GB-second.
struct Prices {
  double per_request = 0.20 / 1'000'000;
  double per_gb_second = 0.0000166667;
};

// The totals of one function version over a time range.
struct CostRow {
  std::string function;
  std::string version;  // "$LATEST" or a published version number
  std::int64_t requests = 0;
  std::int64_t billed_ms = 0;
  std::int64_t mb_ms = 0;  // billed milliseconds times MemorySize in MB, summed exactly
  std::int64_t cpu_us = 0;

  // AWS counts a GB as 1024 MB.
  double gb_seconds() const { return static_cast<double>(mb_ms) / (1024.0 * 1000.0); }
  double cpu_seconds() const { return static_cast<double>(cpu_us) / 1e6; }
  double request_cost(const Prices& prices) const {
    return static_cast<double>(requests) * prices.per_request;
  }
  double compute_cost(const Prices& prices) const { return gb_seconds() * prices.per_gb_second; }
};

struct CostOptions {
  Prices prices;
  std::chrono::milliseconds flush_interval{5000};
  std::int64_t retention_ms = 15LL * 86400 * 1000;  // the one-minute metric retention
  // Epoch milliseconds now; retention is measured from it. Tests replace it.
  std::function<std::int64_t()> now_ms;  // empty: lambent::epoch_ms
};

// The billed duration of one invocation in milliseconds: `duration_ms` rounded up, at least 1.
std::int64_t billed_milliseconds(double duration_ms);

class CostLedger {
 public:
  CostLedger(store::Sqlite& db, asio::any_io_executor executor, CostOptions options);
  ~CostLedger();
  CostLedger(const CostLedger&) = delete;
  CostLedger& operator=(const CostLedger&) = delete;

  // Creates the cost_minutes table.
  static Status create_schema(sqlite3* db);
  // Runs create_schema. Blocks, so the server runs it at start-up.
  Status open();

  // Starts the flush timer, which also deletes minutes past the retention; stop() ends it.
  // Destroy the ledger only after stop(), and not while a flush() or query() is running.
  void start();
  void stop();
  // Writes what is still in memory on the calling thread. Only after the database's writer
  // has stopped (Sqlite::close), at shutdown.
  Status write_pending_blocking();

  // Counts one invocation that ran in an environment. Touches only memory; no allocation once
  // the function version has been seen in the current flush interval.
  void record_invoke(std::string_view function, std::string_view version, double duration_ms,
                     std::int64_t memory_mb, std::int64_t timestamp_ms);
  // Adds CPU time used by an environment of the function version since its previous report.
  void record_cpu(std::string_view function, std::string_view version, std::int64_t cpu_us,
                  std::int64_t timestamp_ms);

  // Totals per function version of the minutes that start at or after since_ms rounded down
  // to its minute, ordered by function and version. Writes pending counts first, so every
  // record_* call made before it is included. Fails with Errc::io when SQLite fails.
  Task<Result<std::vector<CostRow>>> query(std::int64_t since_ms);

  // Writes the pending counts now. On failure they stay pending for the next attempt.
  Task<Status> flush();

  const Prices& prices() const { return options_.prices; }
  const CostOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  CostOptions options_;
};

// The JSON document of GET /_lambent/cost: the prices, one object per row with its costs, and
// the totals.
std::string cost_report_json(const std::vector<CostRow>& rows, const Prices& prices,
                             std::int64_t since_ms);

}  // namespace lambent::metrics
