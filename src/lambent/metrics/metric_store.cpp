#include "lambent/metrics/metric_store.h"

#include "lambent/base/log.h"
#include "lambent/store/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

namespace lambent::metrics {

namespace {

constexpr std::int64_t kMinute = 60;
constexpr int kStandard = 60;        // resolution of one-minute points
constexpr int kHighResolution = 1;   // resolution of one-second points
constexpr std::int64_t kPruneEveryS = 60;

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  std::int64_t quotient = value / divisor;
  if ((value % divisor != 0) && ((value < 0) != (divisor < 0))) --quotient;
  return quotient;
}

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out.push_back(':');
  out.append(field);
}

// Dimensions as stored: "<length>:<name><length>:<value>..." in name order, unambiguous
// whatever the names and values hold.
std::string encode_dimensions(const Dimensions& dimensions) {
  std::string out;
  for (const auto& dimension : dimensions) {
    append_field(out, dimension.name);
    append_field(out, dimension.value);
  }
  return out;
}

bool take_field(std::string_view& in, std::string& field) {
  auto colon = in.find(':');
  if (colon == std::string_view::npos) return false;
  std::size_t size = 0;
  auto [end, ec] = std::from_chars(in.data(), in.data() + colon, size);
  if (ec != std::errc() || end != in.data() + colon || in.size() - colon - 1 < size) return false;
  field.assign(in.substr(colon + 1, size));
  in.remove_prefix(colon + 1 + size);
  return true;
}

Dimensions decode_dimensions(std::string_view in) {
  Dimensions out;
  while (!in.empty()) {
    Dimension dimension;
    if (!take_field(in, dimension.name) || !take_field(in, dimension.value)) break;
    out.push_back(std::move(dimension));
  }
  return out;
}

std::string series_text(const MetricKey& key, const std::string& dimensions) {
  std::string out;
  append_field(out, key.ns);
  append_field(out, key.name);
  out += dimensions;
  return out;
}

struct Bucket {
  std::int64_t second = 0;
  Aggregate aggregate;
};

// One series' buckets to merge into the stored points.
struct PointWrite {
  std::string ns;
  std::string name;
  std::string dimensions;
  std::string unit;
  bool high_resolution = true;
  std::vector<Bucket> buckets;
};

std::int64_t now_s() { return epoch_ms() / 1000; }

// Reads a stored point from the columns sum, count, minimum, maximum, percentiles and sketch,
// which start at `first`.
Aggregate read_point(store::Statement& row, int first) {
  Aggregate point;
  point.sum = row.column_double(first);
  point.sample_count = row.column_double(first + 1);
  point.minimum = row.column_double(first + 2);
  point.maximum = row.column_double(first + 3);
  point.has_percentiles = row.column_int(first + 4) != 0;
  if (!point.sketch.decode(row.column_text(first + 5))) point.has_percentiles = false;
  return point;
}

// Reads, merges and writes one stored point.
class PointWriter {
 public:
  explicit PointWriter(sqlite3* db)
      : series_(db,
                "INSERT INTO metric_series (namespace, name, dimensions, unit, last_update) "
                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (namespace, name, dimensions) DO UPDATE "
                "SET unit = excluded.unit, last_update = max(last_update, excluded.last_update) "
                "RETURNING id"),
        select_(db,
                "SELECT sum, count, minimum, maximum, percentiles, sketch FROM metric_points "
                "WHERE series = ?1 AND resolution = ?2 AND ts = ?3"),
        upsert_(db,
                "INSERT OR REPLACE INTO metric_points (series, resolution, ts, sum, count, "
                "minimum, maximum, percentiles, sketch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                "?9)") {}

  Status write(const PointWrite& write) {
    std::int64_t last = 0;
    for (const auto& bucket : write.buckets) last = std::max(last, bucket.second);
    series_.reset();
    series_.bind(1, write.ns).bind(2, write.name).bind(3, write.dimensions).bind(4, write.unit);
    series_.bind(5, last);
    if (!series_.step()) return series_.error();
    std::int64_t id = series_.column_int(0);
    while (series_.step()) {
    }
    std::map<std::int64_t, Aggregate> minutes;
    for (const auto& bucket : write.buckets) {
      if (write.high_resolution) {
        if (auto merged = merge(id, kHighResolution, bucket.second, bucket.aggregate); !merged) {
          return merged;
        }
      }
      minutes[floor_div(bucket.second, kMinute) * kMinute].merge(bucket.aggregate);
    }
    for (const auto& [minute, aggregate] : minutes) {
      if (auto merged = merge(id, kStandard, minute, aggregate); !merged) return merged;
    }
    return ok_status();
  }

 private:
  Status merge(std::int64_t id, int resolution, std::int64_t ts, const Aggregate& add) {
    select_.reset();
    select_.bind(1, id).bind(2, static_cast<std::int64_t>(resolution)).bind(3, ts);
    Aggregate point;
    if (select_.step()) {
      point = read_point(select_, 0);
    } else if (select_.failed()) {
      return select_.error();
    }
    point.merge(add);
    std::string sketch = point.sketch.encode();
    upsert_.reset();
    upsert_.bind(1, id).bind(2, static_cast<std::int64_t>(resolution)).bind(3, ts);
    upsert_.bind_double(4, point.sum).bind_double(5, point.sample_count);
    upsert_.bind_double(6, point.minimum).bind_double(7, point.maximum);
    upsert_.bind(8, static_cast<std::int64_t>(point.has_percentiles ? 1 : 0));
    upsert_.bind_blob(9, sketch);
    upsert_.step();
    if (upsert_.failed()) return upsert_.error();
    return ok_status();
  }

  store::Statement series_;
  store::Statement select_;
  store::Statement upsert_;
};

Status write_points(sqlite3* db, const std::vector<PointWrite>& writes) {
  PointWriter writer(db);
  for (const auto& write : writes) {
    if (auto written = writer.write(write); !written) return written;
  }
  return ok_status();
}

}  // namespace

void normalize(Dimensions& dimensions) {
  std::sort(dimensions.begin(), dimensions.end(),
            [](const Dimension& a, const Dimension& b) { return a.name < b.name; });
}

void Aggregate::add(double value, double count) {
  if (!(count > 0) || !std::isfinite(value)) return;
  sum += value * count;
  sample_count += count;
  minimum = std::min(minimum, value);
  maximum = std::max(maximum, value);
  sketch.add(value, count);
}

void Aggregate::add_statistics(double values_sum, double count, double values_minimum,
                               double values_maximum) {
  if (!(count > 0)) return;
  sum += values_sum;
  sample_count += count;
  minimum = std::min(minimum, values_minimum);
  maximum = std::max(maximum, values_maximum);
  has_percentiles = false;
}

void Aggregate::merge(const Aggregate& other) {
  if (other.empty()) return;
  sum += other.sum;
  sample_count += other.sample_count;
  minimum = std::min(minimum, other.minimum);
  maximum = std::max(maximum, other.maximum);
  sketch.merge(other.sketch);
  has_percentiles = has_percentiles && other.has_percentiles;
}

Result<Statistic> parse_statistic(std::string_view text) {
  static constexpr std::pair<std::string_view, Statistic::Kind> kNames[] = {
      {"Sum", Statistic::Kind::sum},
      {"Average", Statistic::Kind::average},
      {"Minimum", Statistic::Kind::minimum},
      {"Maximum", Statistic::Kind::maximum},
      {"SampleCount", Statistic::Kind::sample_count},
  };
  for (const auto& [name, kind] : kNames) {
    if (text == name) return Statistic{kind, 0, std::string(text)};
  }
  if (text.size() >= 2 && text.front() == 'p') {
    // pNN or pNN.NN: digits only, no exponent, no leading zero before another digit.
    std::string_view number = text.substr(1);
    auto dot = number.find('.');
    std::string_view whole = number.substr(0, dot);
    std::string_view fraction =
        dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
    auto digits = [](std::string_view part) {
      return part.find_first_not_of("0123456789") == std::string_view::npos;
    };
    bool shaped = !whole.empty() && whole.size() <= 3 && digits(whole) &&
                  !(whole.size() > 1 && whole[0] == '0') && digits(fraction) &&
                  (dot == std::string_view::npos || (!fraction.empty() && fraction.size() <= 2));
    double value = -1;
    if (shaped) std::from_chars(number.data(), number.data() + number.size(), value);
    if (shaped && value >= 0 && value <= 100) {
      return Statistic{Statistic::Kind::percentile, value, std::string(text)};
    }
  }
  return make_error(Errc::invalid_parameter,
                    "The statistic '" + std::string(text) +
                        "' is not supported. Use Sum, Average, Minimum, Maximum, SampleCount or "
                        "a percentile from p0 to p100 with at most two decimals, such as p99 or "
                        "p99.9.");
}

std::optional<double> evaluate(const Aggregate& aggregate, const Statistic& statistic) {
  if (aggregate.empty()) return std::nullopt;
  switch (statistic.kind) {
    case Statistic::Kind::sum:
      return aggregate.sum;
    case Statistic::Kind::average:
      return aggregate.sum / aggregate.sample_count;
    case Statistic::Kind::minimum:
      return aggregate.minimum;
    case Statistic::Kind::maximum:
      return aggregate.maximum;
    case Statistic::Kind::sample_count:
      return aggregate.sample_count;
    case Statistic::Kind::percentile: {
      if (!aggregate.has_percentiles || aggregate.sketch.empty()) return std::nullopt;
      if (statistic.percentile <= 0) return aggregate.minimum;
      if (statistic.percentile >= 100) return aggregate.maximum;
      double value = aggregate.sketch.quantile(statistic.percentile / 100);
      // The exact extremes tighten the sketch's estimate at both ends.
      return std::clamp(value, aggregate.minimum, aggregate.maximum);
    }
  }
  return std::nullopt;
}

class MetricStore::Series {
 public:
  MetricKey key;
  std::string unit;
  std::string dimensions;  // encoded
  std::vector<Bucket> pending;
  bool dirty = false;
  double total_sum = 0;
  double total_count = 0;
  Sketch total_sketch;
};

struct MetricStore::Impl {
  Impl(store::Sqlite& sqlite, asio::any_io_executor ex)
      : db(sqlite), executor(ex), tasks(ex, "metrics"), wake(ex) {}

  // Moves the pending buckets of every dirty series into writes.
  std::vector<PointWrite> take_pending() {
    std::vector<PointWrite> writes;
    writes.reserve(dirty.size());
    for (Series* series : dirty) {
      series->dirty = false;
      if (series->pending.empty()) continue;
      PointWrite write;
      write.ns = series->key.ns;
      write.name = series->key.name;
      write.dimensions = series->dimensions;
      write.unit = series->unit;
      write.buckets.swap(series->pending);
      writes.push_back(std::move(write));
    }
    dirty.clear();
    return writes;
  }

  store::Sqlite& db;
  asio::any_io_executor executor;
  std::unordered_map<std::string, std::unique_ptr<Series>> series;
  std::vector<Series*> dirty;
  TaskGroup tasks;
  Event wake;
  bool stopped = false;
};

MetricStore::MetricStore(store::Sqlite& db, asio::any_io_executor executor,
                         MetricStoreOptions options)
    : impl_(std::make_unique<Impl>(db, executor)), options_(options) {}

MetricStore::~MetricStore() = default;

Status MetricStore::open() {
  return impl_->db.call_blocking([](sqlite3* db) {
    return store::exec(db, R"sql(
CREATE TABLE IF NOT EXISTS metric_series (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  dimensions TEXT NOT NULL,
  unit TEXT NOT NULL,
  last_update INTEGER NOT NULL,
  UNIQUE (namespace, name, dimensions)
);
CREATE TABLE IF NOT EXISTS metric_points (
  series INTEGER NOT NULL,
  resolution INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  sum REAL NOT NULL,
  count REAL NOT NULL,
  minimum REAL NOT NULL,
  maximum REAL NOT NULL,
  percentiles INTEGER NOT NULL,
  sketch BLOB NOT NULL,
  PRIMARY KEY (series, resolution, ts)
) WITHOUT ROWID;
)sql");
  });
}

// Flushes every flush_interval and applies the retention once a minute. A free coroutine,
// so its frame holds copies of its parameters: a lambda coroutine would keep a reference to a
// lambda object that is gone once start() returns.
Task<void> MetricStore::run_timers(MetricStore* self) {
  std::int64_t last_prune = 0;
  while (!self->impl_->stopped) {
    co_await self->impl_->wake.wait(self->options_.flush_interval);
    if (self->impl_->stopped) break;
    auto flushed = co_await self->flush();
    if (!flushed) {
      LOG_WARN("metrics", "flush_failed", "error=\"{}\"", flushed.error().message);
    }
    std::int64_t now = now_s();
    if (now - last_prune < kPruneEveryS) continue;
    last_prune = now;
    auto pruned = co_await self->prune(now);
    if (!pruned) {
      LOG_WARN("metrics", "retention_failed", "error=\"{}\"", pruned.error().message);
    }
  }
}

Task<Status> MetricStore::prune(std::int64_t now) {
  auto high_resolution_cutoff = now - options_.high_resolution_retention_s;
  auto standard_cutoff = now - options_.retention_s;
  auto job = [high_resolution_cutoff, standard_cutoff](sqlite3* db) -> Result<Unit> {
    // Per series, so each delete walks the primary key instead of the whole table.
    store::Statement ids(db, "SELECT id FROM metric_series");
    std::vector<std::int64_t> series;
    while (ids.step()) series.push_back(ids.column_int(0));
    if (ids.failed()) return ids.error();
    store::Statement remove(db,
                            "DELETE FROM metric_points WHERE series = ?1 AND resolution = ?2 "
                            "AND ts < ?3");
    for (std::int64_t id : series) {
      for (auto [resolution, cutoff] : {std::pair{kHighResolution, high_resolution_cutoff},
                                        std::pair{kStandard, standard_cutoff}}) {
        remove.reset();
        remove.bind(1, id).bind(2, static_cast<std::int64_t>(resolution)).bind(3, cutoff);
        remove.step();
        if (remove.failed()) return remove.error();
      }
    }
    store::Statement forget(db,
                            "DELETE FROM metric_series WHERE last_update < ?1 AND NOT EXISTS "
                            "(SELECT 1 FROM metric_points WHERE series = id)");
    forget.bind(1, standard_cutoff);
    forget.step();
    if (forget.failed()) return forget.error();
    return Unit{};
  };
  auto pruned = co_await impl_->db.call<Unit>(std::move(job));
  if (!pruned) co_return pruned.error();
  co_return ok_status();
}

void MetricStore::start() { impl_->tasks.spawn(run_timers(this), "timers"); }

void MetricStore::stop() {
  impl_->stopped = true;
  impl_->wake.set();
  impl_->tasks.stop();
}

Status MetricStore::write_pending_blocking() {
  auto writes = impl_->take_pending();
  if (writes.empty()) return ok_status();
  return impl_->db.call_blocking([&writes](sqlite3* db) -> Status {
    auto begun = store::exec(db, "BEGIN IMMEDIATE");
    if (!begun) return begun;
    auto written = write_points(db, writes);
    if (!written) {
      store::exec(db, "ROLLBACK");
      return written;
    }
    return store::exec(db, "COMMIT");
  });
}

MetricStore::Series* MetricStore::series(const MetricKey& key, std::string_view unit) {
  std::string dimensions = encode_dimensions(key.dimensions);
  std::string text = series_text(key, dimensions);
  auto& slot = impl_->series[text];
  if (!slot) {
    slot = std::make_unique<Series>();
    slot->key = key;
    slot->unit = std::string(unit);
    slot->dimensions = std::move(dimensions);
  }
  return slot.get();
}

void MetricStore::add(Series* series, double value, std::int64_t timestamp_ms, double count) {
  std::int64_t second = floor_div(timestamp_ms, 1000);
  auto& pending = series->pending;
  // Values mostly arrive in time order: the newest bucket is the last one.
  auto it = pending.end();
  while (it != pending.begin() && std::prev(it)->second > second) --it;
  if (it != pending.begin() && std::prev(it)->second == second) {
    std::prev(it)->aggregate.add(value, count);
  } else {
    Bucket bucket;
    bucket.second = second;
    bucket.aggregate.add(value, count);
    pending.insert(it, std::move(bucket));
  }
  series->total_sum += value * count;
  series->total_count += count;
  series->total_sketch.add(value, count);
  if (!series->dirty) {
    series->dirty = true;
    impl_->dirty.push_back(series);
  }
}

Task<Status> MetricStore::put(std::vector<Sample> samples) {
  std::vector<PointWrite> writes;
  writes.reserve(samples.size());
  for (auto& sample : samples) {
    PointWrite write;
    write.dimensions = encode_dimensions(sample.key.dimensions);
    write.ns = std::move(sample.key.ns);
    write.name = std::move(sample.key.name);
    write.unit = std::move(sample.unit);
    write.high_resolution = sample.high_resolution;
    Bucket bucket;
    bucket.second = floor_div(sample.timestamp_ms, 1000);
    bucket.aggregate = std::move(sample.values);
    write.buckets.push_back(std::move(bucket));
    writes.push_back(std::move(write));
  }
  auto job = [writes = std::move(writes)](sqlite3* db) -> Result<Unit> {
    auto written = write_points(db, writes);
    if (!written) return written.error();
    return Unit{};
  };
  auto stored = co_await impl_->db.call<Unit>(std::move(job));
  if (!stored) co_return stored.error();
  co_return ok_status();
}

Task<Status> MetricStore::flush() {
  auto writes = impl_->take_pending();
  if (writes.empty()) co_return ok_status();
  auto started = std::chrono::steady_clock::now();
  auto job = [writes = std::move(writes)](sqlite3* db) -> Result<Unit> {
    auto written = write_points(db, writes);
    if (!written) return written.error();
    return Unit{};
  };
  auto stored = co_await impl_->db.call<Unit>(std::move(job));
  ++flush_count_;
  flush_seconds_total_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!stored) co_return stored.error();
  co_return ok_status();
}

Task<Result<std::vector<Datapoint>>> MetricStore::query(MetricKey key, std::int64_t start_s,
                                                        std::int64_t end_s,
                                                        std::int64_t period_s,
                                                        std::optional<std::string> unit) {
  if (period_s <= 0) co_return make_error(Errc::invalid_parameter, "period must be positive");
  auto flushed = co_await flush();
  if (!flushed) co_return flushed.error();
  std::string dimensions = encode_dimensions(key.dimensions);
  int resolution = period_s < kMinute ? kHighResolution : kStandard;
  auto job = [key = std::move(key), dimensions = std::move(dimensions), unit = std::move(unit),
              start_s, end_s, period_s,
              resolution](sqlite3* db) -> Result<std::vector<Datapoint>> {
    std::vector<Datapoint> out;
    store::Statement find(db,
                          "SELECT id, unit FROM metric_series WHERE namespace = ?1 AND name = "
                          "?2 AND dimensions = ?3");
    find.bind(1, key.ns).bind(2, key.name).bind(3, dimensions);
    if (!find.step()) {
      if (find.failed()) return find.error();
      return out;
    }
    std::int64_t id = find.column_int(0);
    std::string series_unit(find.column_text(1));
    if (unit && *unit != series_unit) return out;
    store::Statement points(db,
                            "SELECT ts, sum, count, minimum, maximum, percentiles, sketch FROM "
                            "metric_points WHERE series = ?1 AND resolution = ?2 AND ts >= ?3 "
                            "AND ts < ?4 ORDER BY ts");
    points.bind(1, id).bind(2, static_cast<std::int64_t>(resolution)).bind(3, start_s);
    points.bind(4, end_s);
    while (points.step()) {
      std::int64_t ts = points.column_int(0);
      std::int64_t period_start = start_s + floor_div(ts - start_s, period_s) * period_s;
      if (out.empty() || out.back().timestamp_s != period_start) {
        Datapoint datapoint;
        datapoint.timestamp_s = period_start;
        datapoint.unit = series_unit;
        out.push_back(std::move(datapoint));
      }
      out.back().aggregate.merge(read_point(points, 1));
    }
    if (points.failed()) return points.error();
    return out;
  };
  co_return co_await impl_->db.call<std::vector<Datapoint>>(std::move(job));
}

Task<Result<std::vector<SeriesInfo>>> MetricStore::list(std::optional<std::string> ns,
                                                        std::optional<std::string> name,
                                                        std::vector<DimensionFilter> filters,
                                                        std::int64_t active_since_s) {
  auto flushed = co_await flush();
  if (!flushed) co_return flushed.error();
  auto job = [ns = std::move(ns), name = std::move(name), filters = std::move(filters),
              active_since_s](sqlite3* db) -> Result<std::vector<SeriesInfo>> {
    store::Statement rows(db,
                          "SELECT namespace, name, dimensions, unit, last_update FROM "
                          "metric_series WHERE last_update >= ?1 AND (?2 IS NULL OR namespace "
                          "= ?2) AND (?3 IS NULL OR name = ?3) ORDER BY namespace, name, "
                          "dimensions");
    rows.bind(1, active_since_s);
    if (ns) rows.bind(2, *ns);
    if (name) rows.bind(3, *name);
    std::vector<SeriesInfo> out;
    while (rows.step()) {
      SeriesInfo info;
      info.key.ns = rows.column_text(0);
      info.key.name = rows.column_text(1);
      info.key.dimensions = decode_dimensions(rows.column_text(2));
      bool matches = std::all_of(filters.begin(), filters.end(), [&](const DimensionFilter& f) {
        return std::any_of(info.key.dimensions.begin(), info.key.dimensions.end(),
                           [&](const Dimension& d) {
                             return d.name == f.name && (!f.value || d.value == *f.value);
                           });
      });
      if (!matches) continue;
      info.unit = rows.column_text(3);
      info.last_update_s = rows.column_int(4);
      out.push_back(std::move(info));
    }
    if (rows.failed()) return rows.error();
    return out;
  };
  co_return co_await impl_->db.call<std::vector<SeriesInfo>>(std::move(job));
}

void MetricStore::for_each_total(
    const std::function<void(const MetricKey&, const std::string&, double, double,
                             const Sketch&)>& fn) const {
  for (const auto& [text, series] : impl_->series) {
    fn(series->key, series->unit, series->total_sum, series->total_count,
       series->total_sketch);
  }
}

}  // namespace lambent::metrics
