#pragma once

#include "lambent/metrics/lambda_metrics.h"
#include "lambent/metrics/metric_store.h"

#include <cstdint>
#include <string>

// Prometheus text exposition (format 0.0.4) of the AWS/Lambda figures since the server
// started and of the server's own health.
namespace lambent::metrics {

struct ServerHealth {
  std::size_t environments_starting = 0;
  std::size_t environments_idle = 0;
  std::size_t environments_busy = 0;
  std::size_t environments_stopping = 0;
  std::int64_t async_events_stored = -1;  // -1 when the count failed
  std::size_t async_events_in_flight = 0;
  std::uint64_t store_commits = 0;
  double store_commit_seconds = 0;
  std::uint64_t metric_flushes = 0;
  double metric_flush_seconds = 0;
  double uptime_seconds = 0;
};

std::string render_prometheus(const MetricStore& store, const LambdaMetrics& lambda,
                              const ServerHealth& health);

}  // namespace lambent::metrics
