#include "lambent/metrics/cost.h"

#include "lambent/base/log.h"
#include "lambent/store/sqlite.h"

#include <sqlite3.h>
#include <boost/json.hpp>

#include <cmath>
#include <unordered_map>

namespace lambent::metrics {

namespace {

constexpr std::int64_t kMinuteMs = 60'000;
// Retention deletes run at most this often.
constexpr std::int64_t kRetentionEveryMs = 60'000;
// A function version with nothing to write for this many flushes in a row loses its in-memory
// entry, so deleted functions do not stay in the map.
constexpr int kMaxIdleFlushes = 60;

std::int64_t minute_of(std::int64_t timestamp_ms) {
  std::int64_t rest = timestamp_ms % kMinuteMs;
  if (rest < 0) rest += kMinuteMs;
  return timestamp_ms - rest;
}

struct Counters {
  std::int64_t requests = 0;
  std::int64_t billed_ms = 0;
  std::int64_t mb_ms = 0;
  std::int64_t cpu_us = 0;

  void add(const Counters& other) {
    requests += other.requests;
    billed_ms += other.billed_ms;
    mb_ms += other.mb_ms;
    cpu_us += other.cpu_us;
  }
};

struct MinuteCounts {
  std::int64_t minute_ms = 0;
  Counters counters;
};

// One row to add to cost_minutes.
struct PendingRow {
  std::string function;
  std::string version;
  std::int64_t minute_ms = 0;
  Counters counters;
};

struct VersionKey {
  std::string function;
  std::string version;
};

struct VersionView {
  std::string_view function;
  std::string_view version;
};

// Hash and equality that accept a VersionView, so the hot path looks a version up without
// building strings.
struct VersionHash {
  using is_transparent = void;
  std::size_t operator()(VersionView key) const {
    std::size_t h = std::hash<std::string_view>{}(key.function);
    return h ^ (std::hash<std::string_view>{}(key.version) + 0x9e3779b97f4a7c15ULL + (h << 6) +
                (h >> 2));
  }
  std::size_t operator()(const VersionKey& key) const {
    return (*this)(VersionView{key.function, key.version});
  }
};

struct VersionEqual {
  using is_transparent = void;
  static VersionView view(const VersionKey& key) { return {key.function, key.version}; }
  static VersionView view(VersionView key) { return key; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    auto x = view(a);
    auto y = view(b);
    return x.function == y.function && x.version == y.version;
  }
};

struct Pending {
  std::vector<MinuteCounts> minutes;  // usually one: the current minute
  int idle_flushes = 0;
};

Status upsert_rows(sqlite3* h, const std::vector<PendingRow>& rows) {
  if (rows.empty()) return ok_status();
  store::Statement st(h,
                      "INSERT INTO cost_minutes (function_name, version, minute_ms, requests, "
                      "billed_ms, mb_ms, cpu_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                      "ON CONFLICT(function_name, version, minute_ms) DO UPDATE SET "
                      "requests = requests + excluded.requests, "
                      "billed_ms = billed_ms + excluded.billed_ms, "
                      "mb_ms = mb_ms + excluded.mb_ms, cpu_us = cpu_us + excluded.cpu_us");
  for (const auto& row : rows) {
    st.reset();
    st.bind(1, row.function)
        .bind(2, row.version)
        .bind(3, row.minute_ms)
        .bind(4, row.counters.requests)
        .bind(5, row.counters.billed_ms)
        .bind(6, row.counters.mb_ms)
        .bind(7, row.counters.cpu_us);
    st.step();
    if (st.failed()) return st.error();
  }
  return ok_status();
}

Status delete_before(sqlite3* h, std::int64_t cutoff_ms) {
  store::Statement st(h, "DELETE FROM cost_minutes WHERE minute_ms < ?1");
  st.bind(1, cutoff_ms);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

Result<std::vector<CostRow>> select_totals(sqlite3* h, std::int64_t since_minute_ms) {
  store::Statement st(h,
                      "SELECT function_name, version, SUM(requests), SUM(billed_ms), SUM(mb_ms), "
                      "SUM(cpu_us) FROM cost_minutes WHERE minute_ms >= ?1 "
                      "GROUP BY function_name, version ORDER BY function_name, version");
  st.bind(1, since_minute_ms);
  std::vector<CostRow> rows;
  while (st.step()) {
    CostRow row;
    row.function = std::string(st.column_text(0));
    row.version = std::string(st.column_text(1));
    row.requests = st.column_int(2);
    row.billed_ms = st.column_int(3);
    row.mb_ms = st.column_int(4);
    row.cpu_us = st.column_int(5);
    rows.push_back(std::move(row));
  }
  if (st.failed()) return st.error();
  return rows;
}

}  // namespace

std::int64_t billed_milliseconds(double duration_ms) {
  if (!(duration_ms > 1)) return 1;  // also NaN
  return static_cast<std::int64_t>(std::ceil(duration_ms));
}

struct CostLedger::Impl {
  Impl(store::Sqlite& database, asio::any_io_executor ex)
      : db(database), executor(ex), tasks(ex, "cost") {}

  void add(std::string_view function, std::string_view version, std::int64_t timestamp_ms,
           const Counters& delta) {
    auto it = pending.find(VersionView{function, version});
    if (it == pending.end()) {
      it =
          pending.emplace(VersionKey{std::string(function), std::string(version)}, Pending{}).first;
    }
    std::int64_t minute = minute_of(timestamp_ms);
    auto& minutes = it->second.minutes;
    // Reports arrive in time order, except CPU reports stamped a little before the invocations
    // already counted, so the match is searched from the newest minute back.
    for (auto m = minutes.rbegin(); m != minutes.rend(); ++m) {
      if (m->minute_ms == minute) {
        m->counters.add(delta);
        return;
      }
    }
    minutes.push_back(MinuteCounts{minute, delta});
  }

  // Moves every pending count into rows for the store.
  std::vector<PendingRow> take() {
    std::vector<PendingRow> rows;
    for (auto it = pending.begin(); it != pending.end();) {
      auto& entry = it->second;
      if (entry.minutes.empty()) {
        if (++entry.idle_flushes > kMaxIdleFlushes) {
          it = pending.erase(it);
          continue;
        }
      } else {
        entry.idle_flushes = 0;
        for (const auto& m : entry.minutes) {
          rows.push_back(
              PendingRow{it->first.function, it->first.version, m.minute_ms, m.counters});
        }
        entry.minutes.clear();
      }
      ++it;
    }
    return rows;
  }

  // Puts rows that could not be written back, to be written with the next flush.
  void restore(const std::vector<PendingRow>& rows) {
    for (const auto& row : rows) add(row.function, row.version, row.minute_ms, row.counters);
  }

  store::Sqlite& db;
  asio::any_io_executor executor;
  std::unordered_map<VersionKey, Pending, VersionHash, VersionEqual> pending;
  TaskGroup tasks;
  // False once stop() ran. The flush loop checks it before it touches the ledger, because a
  // loop spawned but not yet started misses the group's cancellation.
  std::shared_ptr<bool> running = std::make_shared<bool>(true);
  std::int64_t last_retention_ms = 0;
};

CostLedger::CostLedger(store::Sqlite& db, asio::any_io_executor executor, CostOptions options)
    : impl_(std::make_unique<Impl>(db, std::move(executor))), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = [] { return epoch_ms(); };
}

CostLedger::~CostLedger() = default;

Status CostLedger::create_schema(sqlite3* db) {
  return store::exec(db, R"sql(
CREATE TABLE IF NOT EXISTS cost_minutes (
  function_name TEXT NOT NULL,
  version TEXT NOT NULL,
  minute_ms INTEGER NOT NULL,
  requests INTEGER NOT NULL,
  billed_ms INTEGER NOT NULL,
  mb_ms INTEGER NOT NULL,
  cpu_us INTEGER NOT NULL,
  PRIMARY KEY (function_name, version, minute_ms)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cost_minutes_time ON cost_minutes (minute_ms);
)sql");
}

Status CostLedger::open() { return impl_->db.call_blocking(create_schema); }

void CostLedger::start() {
  auto loop = [](CostLedger* self, std::shared_ptr<bool> running, asio::any_io_executor executor,
                 std::chrono::milliseconds interval) -> Task<void> {
    asio::steady_timer timer(executor);
    for (;;) {
      timer.expires_after(interval);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !*running) co_return;
      auto flushed = co_await self->flush();
      if (!flushed) {
        LOG_WARN("metrics", "cost_flush_failed", "error=\"{}\"", flushed.error().message);
      }
    }
  };
  impl_->tasks.spawn(loop(this, impl_->running, impl_->executor, options_.flush_interval),
                     "cost_flush");
}

void CostLedger::stop() {
  *impl_->running = false;
  impl_->tasks.stop();
}

Status CostLedger::write_pending_blocking() {
  auto rows = impl_->take();
  if (rows.empty()) return ok_status();
  return impl_->db.call_blocking([&rows](sqlite3* h) -> Status {
    auto begun = store::exec(h, "BEGIN IMMEDIATE");
    if (!begun) return begun;
    auto written = upsert_rows(h, rows);
    if (!written) {
      (void)store::exec(h, "ROLLBACK");
      return written;
    }
    return store::exec(h, "COMMIT");
  });
}

void CostLedger::record_invoke(std::string_view function, std::string_view version,
                               double duration_ms, std::int64_t memory_mb,
                               std::int64_t timestamp_ms) {
  Counters delta;
  delta.requests = 1;
  delta.billed_ms = billed_milliseconds(duration_ms);
  delta.mb_ms = delta.billed_ms * memory_mb;
  impl_->add(function, version, timestamp_ms, delta);
}

void CostLedger::record_cpu(std::string_view function, std::string_view version,
                            std::int64_t cpu_us, std::int64_t timestamp_ms) {
  if (cpu_us <= 0) return;
  Counters delta;
  delta.cpu_us = cpu_us;
  impl_->add(function, version, timestamp_ms, delta);
}

Task<Status> CostLedger::flush() {
  std::int64_t now = options_.now_ms();
  bool retention_due = now - impl_->last_retention_ms >= kRetentionEveryMs;
  auto rows = std::make_shared<std::vector<PendingRow>>(impl_->take());
  if (rows->empty() && !retention_due) co_return ok_status();
  std::int64_t cutoff = retention_due ? now - options_.retention_ms : 0;
  auto job = [rows, retention_due, cutoff](sqlite3* h) -> Status {
    if (auto written = upsert_rows(h, *rows); !written) return written;
    if (retention_due) return delete_before(h, cutoff);
    return ok_status();
  };
  auto written = co_await impl_->db.call<Unit>(std::move(job));
  if (!written) {
    impl_->restore(*rows);
    co_return written;
  }
  if (retention_due) impl_->last_retention_ms = now;
  co_return ok_status();
}

Task<Result<std::vector<CostRow>>> CostLedger::query(std::int64_t since_ms) {
  auto rows = std::make_shared<std::vector<PendingRow>>(impl_->take());
  std::int64_t since_minute = minute_of(since_ms);
  auto job = [rows, since_minute](sqlite3* h) -> Result<std::vector<CostRow>> {
    if (auto written = upsert_rows(h, *rows); !written) return std::move(written).error();
    return select_totals(h, since_minute);
  };
  auto totals = co_await impl_->db.call<std::vector<CostRow>>(std::move(job));
  if (!totals) impl_->restore(*rows);
  co_return totals;
}

std::string cost_report_json(const std::vector<CostRow>& rows, const Prices& prices,
                             std::int64_t since_ms) {
  namespace json = boost::json;
  json::array items;
  CostRow total;
  double request_cost = 0;
  double compute_cost = 0;
  for (const auto& row : rows) {
    double row_request_cost = row.request_cost(prices);
    double row_compute_cost = row.compute_cost(prices);
    items.push_back(json::object{{"function", row.function},
                                 {"version", row.version},
                                 {"requests", row.requests},
                                 {"billed_ms", row.billed_ms},
                                 {"mb_ms", row.mb_ms},
                                 {"gb_seconds", row.gb_seconds()},
                                 {"cpu_seconds", row.cpu_seconds()},
                                 {"request_cost", row_request_cost},
                                 {"compute_cost", row_compute_cost},
                                 {"total", row_request_cost + row_compute_cost}});
    total.requests += row.requests;
    total.billed_ms += row.billed_ms;
    total.mb_ms += row.mb_ms;
    total.cpu_us += row.cpu_us;
    request_cost += row_request_cost;
    compute_cost += row_compute_cost;
  }
  json::object totals{{"requests", total.requests},
                      {"billed_ms", total.billed_ms},
                      {"mb_ms", total.mb_ms},
                      {"gb_seconds", total.gb_seconds()},
                      {"cpu_seconds", total.cpu_seconds()},
                      {"request_cost", request_cost},
                      {"compute_cost", compute_cost},
                      {"total", request_cost + compute_cost}};
  json::object document{{"since_ms", minute_of(since_ms)},
                        {"currency", "USD"},
                        {"prices", json::object{{"per_request", prices.per_request},
                                                {"per_gb_second", prices.per_gb_second}}},
                        {"rows", std::move(items)},
                        {"totals", std::move(totals)}};
  return json::serialize(document);
}

}  // namespace lambent::metrics
