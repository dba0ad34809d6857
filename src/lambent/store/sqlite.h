#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

struct sqlite3;
struct sqlite3_stmt;

// The SQLite database of a data directory, owned by one writer thread.
//
// Every statement runs on that thread. Jobs queued while a transaction is running are batched
// into the next one (group commit). Each job runs inside its own savepoint, so a failing job
// rolls back only its own changes. A job's completion is delivered only after the batch has
// committed. Completions run on the executor the caller awaited from.
namespace lambent::store {

class Sqlite {
 public:
  // Opens (creating if needed) `path` in WAL mode with synchronous=NORMAL and starts the writer
  // thread. Fails with Errc::io naming the file.
  static Result<std::unique_ptr<Sqlite>> open(const std::filesystem::path& path);
  ~Sqlite();
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  // Runs fn(sqlite3*) -> Result<T> on the writer thread inside the next group commit and
  // resumes the caller with its result once the batch is durable (or with Errc::io when the
  // commit failed).
  template <typename T, typename Fn>
  Task<Result<T>> call(Fn fn);

  // Group commits so far and the time they took (BEGIN to COMMIT), read from any thread.
  std::uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  double commit_seconds() const {
    return static_cast<double>(commit_micros_.load(std::memory_order_relaxed)) / 1e6;
  }

  // Runs fn synchronously on the calling thread. Only for start-up, before any call().
  template <typename Fn>
  auto call_blocking(Fn fn) {
    std::lock_guard lock(mutex_);
    return fn(db_);
  }

  // Stops the writer thread after the queued jobs finish.
  void close();

 private:
  struct Job {
    virtual ~Job() = default;
    virtual bool run(sqlite3* db) = 0;  // false: the job failed, roll back its savepoint
    virtual void complete(bool committed) = 0;
  };

  template <typename T, typename Fn, typename Handler>
  struct TypedJob final : Job {
    TypedJob(Fn f, Handler h) : fn(std::move(f)), handler(std::move(h)) {}
    Fn fn;
    Handler handler;
    std::optional<Result<T>> result;
    bool run(sqlite3* db) override {
      result.emplace(fn(db));
      return result->ok();
    }
    void complete(bool committed) override {
      if (!committed && result && result->ok()) {
        result.emplace(Error{Errc::io, "database commit failed"});
      }
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [h = std::move(handler), r = std::move(*result)]() mutable {
        std::move(h)(std::move(r));
      });
    }
  };

  explicit Sqlite(sqlite3* db);
  void submit(std::unique_ptr<Job> job);
  void writer_loop();

  sqlite3* db_;
  std::atomic<std::uint64_t> commits_{0};
  std::atomic<std::uint64_t> commit_micros_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool closing_ = false;
  std::thread writer_;
};

template <typename T, typename Fn>
Task<Result<T>> Sqlite::call(Fn fn) {
  // A named initiation: g++ 12 destroys lambda temporaries in a co_await expression twice.
  auto initiation = [this, &fn](auto handler) {
    submit(std::make_unique<TypedJob<T, Fn, decltype(handler)>>(std::move(fn), std::move(handler)));
  };
  Result<T> result = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(Result<T>)>(
      initiation, asio::use_awaitable);
  co_return result;
}

// Small helpers for writing statements; all return Errc::io with SQLite's message on failure.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind(int index, std::int64_t value);
  Statement& bind_double(int index, double value);
  // Returns true while a row is available; check error() after false.
  bool step();
  std::string_view column_text(int index);
  std::int64_t column_int(int index);
  double column_double(int index);
  bool column_is_null(int index);
  bool failed() const { return failed_; }
  Error error() const;
  void reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool failed_ = false;
};

Status exec(sqlite3* db, const char* sql);

}  // namespace lambent::store
