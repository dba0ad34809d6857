#include "lambent/store/sqlite.h"

#include "lambent/base/log.h"

#include <sqlite3.h>

#include <chrono>

namespace lambent::store {

Status exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return make_error(Errc::io, "sqlite: " + text);
  }
  return ok_status();
}

Result<std::unique_ptr<Sqlite>> Sqlite::open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(Errc::io, "cannot open database " + path.string() + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA foreign_keys=ON"}) {
    if (auto s = exec(db, pragma); !s) {
      sqlite3_close(db);
      return make_error(Errc::io, "cannot set up database " + path.string() + ": " +
                                      s.error().message);
    }
  }
  return std::unique_ptr<Sqlite>(new Sqlite(db));
}

Sqlite::Sqlite(sqlite3* db) : db_(db), writer_([this] { writer_loop(); }) {}

Sqlite::~Sqlite() {
  close();
  sqlite3_close(db_);
}

void Sqlite::close() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void Sqlite::submit(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Sqlite::writer_loop() {
  std::deque<std::unique_ptr<Job>> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty() && closing_) return;
      batch.swap(queue_);
    }
    auto started = std::chrono::steady_clock::now();
    bool began = exec(db_, "BEGIN IMMEDIATE").ok();
    for (auto& job : batch) {
      exec(db_, "SAVEPOINT job");
      if (job->run(db_)) {
        exec(db_, "RELEASE job");
      } else {
        exec(db_, "ROLLBACK TO job");
        exec(db_, "RELEASE job");
      }
    }
    bool committed = began;
    if (began) {
      auto status = exec(db_, "COMMIT");
      if (!status) {
        LOG_ERROR("store", "commit_failed", "jobs={} error=\"{}\"", batch.size(),
                  status.error().message);
        exec(db_, "ROLLBACK");
        committed = false;
      }
    }
    auto took = std::chrono::steady_clock::now() - started;
    commits_.fetch_add(1, std::memory_order_relaxed);
    commit_micros_.fetch_add(static_cast<std::uint64_t>(
                                 std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
                             std::memory_order_relaxed);
    for (auto& job : batch) job->complete(committed);
    batch.clear();
  }
}

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
    failed_ = true;
    stmt_ = nullptr;
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::string_view text) {
  if (stmt_) sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
  if (stmt_) {
    sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  }
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (stmt_) sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  if (stmt_) sqlite3_bind_double(stmt_, index, value);
  return *this;
}

bool Statement::step() {
  if (!stmt_) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) failed_ = true;
  return false;
}

std::string_view Statement::column_text(int index) {
  auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  int size = sqlite3_column_bytes(stmt_, index);
  return data ? std::string_view(data, static_cast<std::size_t>(size)) : std::string_view();
}

std::int64_t Statement::column_int(int index) { return sqlite3_column_int64(stmt_, index); }

double Statement::column_double(int index) { return sqlite3_column_double(stmt_, index); }

bool Statement::column_is_null(int index) {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Error Statement::error() const { return Error{Errc::io, std::string("sqlite: ") + sqlite3_errmsg(db_)}; }

void Statement::reset() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

}  // namespace lambent::store
