#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/metrics/sketch.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace lambent::store {
class Sqlite;
}

// Time series named by namespace, metric name and dimensions, as CloudWatch keeps them. Values
// are aggregated per second and per minute (sum, count, minimum, maximum and a quantile
// sketch) and kept in SQLite. One-second points are kept for the high-resolution retention and
// one-minute points for the standard retention, and older points are deleted. Writers on the
// event loop add values to in-memory buckets, which a timer flushes each second in one group
// commit. Queries flush first, so they see every value added before them. Confined to the
// control-plane executor.
namespace lambent::metrics {

struct Dimension {
  std::string name;
  std::string value;
  bool operator==(const Dimension&) const = default;
};
using Dimensions = std::vector<Dimension>;  // sorted by name, names unique

struct MetricKey {
  std::string ns;    // namespace, e.g. "AWS/Lambda"
  std::string name;  // metric name, e.g. "Invocations"
  Dimensions dimensions;
  bool operator==(const MetricKey&) const = default;
};

// Sorts dimensions by name. Names must already be unique.
void normalize(Dimensions& dimensions);

// The values of one series in one period.
struct Aggregate {
  double sum = 0;
  double sample_count = 0;
  double minimum = std::numeric_limits<double>::infinity();
  double maximum = -std::numeric_limits<double>::infinity();
  Sketch sketch;
  // False once values arrived as a statistic set (sum, count, min, max without the values),
  // which has no percentiles.
  bool has_percentiles = true;

  bool empty() const { return sample_count == 0; }
  void add(double value, double count = 1);
  void add_statistics(double sum, double count, double minimum, double maximum);
  void merge(const Aggregate& other);
};

// A statistic as GetMetricStatistics, GetMetricData and alarms name it: Sum, Average, Minimum,
// Maximum, SampleCount, or a percentile "pNN" / "pNN.NN" (0 to 100).
struct Statistic {
  enum class Kind { sum, average, minimum, maximum, sample_count, percentile };
  Kind kind = Kind::sum;
  double percentile = 0;  // 0 to 100, for Kind::percentile
  std::string label;      // as given: "Sum", "p99"
};
// Errc::invalid_parameter naming the value and the accepted forms.
Result<Statistic> parse_statistic(std::string_view text);
// The statistic of an aggregate; nullopt when it has no value (a percentile without values).
std::optional<double> evaluate(const Aggregate& aggregate, const Statistic& statistic);

struct Datapoint {
  std::int64_t timestamp_s = 0;  // start of the period
  Aggregate aggregate;
  std::string unit;
};

struct SeriesInfo {
  MetricKey key;
  std::string unit;
  std::int64_t last_update_s = 0;
};

// A ListMetrics dimension filter. Without a value it matches any value of that dimension name.
struct DimensionFilter {
  std::string name;
  std::optional<std::string> value;
};

// One PutMetricData datum after validation.
struct Sample {
  MetricKey key;
  std::string unit;  // "None" when not given
  std::int64_t timestamp_ms = 0;
  Aggregate values;
  bool high_resolution = false;  // StorageResolution 1
};

struct MetricStoreOptions {
  std::int64_t high_resolution_retention_s = 3 * 3600;  // one-second points
  std::int64_t retention_s = 15 * 86400;                // one-minute points
  std::chrono::milliseconds flush_interval{1000};
};

class MetricStore {
 public:
  // A series updated on the hot path: add() touches only memory. Stable for the store's
  // lifetime.
  class Series;

  MetricStore(store::Sqlite& db, asio::any_io_executor executor, MetricStoreOptions options);
  ~MetricStore();
  MetricStore(const MetricStore&) = delete;
  MetricStore& operator=(const MetricStore&) = delete;

  // Creates the tables. Blocks, so the server runs it at start-up.
  Status open();

  // Starts the flush and retention timers; stop() stops them.
  void start();
  void stop();
  // Writes what is still in memory on the calling thread. Only after the database's writer
  // has stopped (Sqlite::close), at shutdown.
  Status write_pending_blocking();

  // Finds or creates the handle of a series. `unit` is CloudWatch's unit name ("Count",
  // "Milliseconds", "None", ...).
  Series* series(const MetricKey& key, std::string_view unit);
  // Adds one value (count times) at a time in epoch milliseconds.
  void add(Series* series, double value, std::int64_t timestamp_ms, double count = 1);

  // Stores PutMetricData samples; resumes once they are durable.
  Task<Status> put(std::vector<Sample> samples);

  // The datapoints of one series over [start_s, end_s), one per period with data, oldest
  // first. Periods start at start_s and every period_s after it. A period below 60 reads
  // the one-second points, others the one-minute points. When `unit` is set, only a series
  // with that unit returns datapoints.
  Task<Result<std::vector<Datapoint>>> query(MetricKey key, std::int64_t start_s,
                                             std::int64_t end_s, std::int64_t period_s,
                                             std::optional<std::string> unit);

  // Series that match every filter and had a value since `active_since_s`, ordered by
  // namespace, name and dimensions.
  Task<Result<std::vector<SeriesInfo>>> list(std::optional<std::string> ns,
                                             std::optional<std::string> name,
                                             std::vector<DimensionFilter> filters,
                                             std::int64_t active_since_s);

  // Writes the in-memory buckets now.
  Task<Status> flush();

  // Totals since the server started of every series created through series(), for the
  // Prometheus exposition: fn(key, unit, sum, sample_count, cumulative sketch).
  void for_each_total(const std::function<void(const MetricKey&, const std::string&, double,
                                               double, const Sketch&)>& fn) const;

  // Store health: group commits of metric points and their mean latency.
  std::uint64_t flush_count() const { return flush_count_; }
  double flush_seconds_total() const { return flush_seconds_total_; }

  const MetricStoreOptions& options() const { return options_; }

  // Deletes points older than the retention, as the timer does once a minute.
  Task<Status> prune(std::int64_t now_s);

 private:
  static Task<void> run_timers(MetricStore* self);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  MetricStoreOptions options_;
  std::uint64_t flush_count_ = 0;
  double flush_seconds_total_ = 0;
};

}  // namespace lambent::metrics
