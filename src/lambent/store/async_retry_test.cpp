// Retry scheduling in the async queue and the event invoke config store, on real SQLite files.
#include "lambent/store/repository.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class AsyncRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-retry-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    repo_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto repo = Repository::open(dir_);
    ASSERT_TRUE(repo.ok()) << repo.error().message;
    repo_ = std::move(repo).value();
  }

  void reopen() {
    repo_.reset();
    open();
  }

  template <typename T>
  T run(Task<T> task) {
    return testing::run_task(std::move(task));
  }

  static AsyncEvent make_event(const std::string& function, const std::string& request_id) {
    AsyncEvent event;
    event.function_name = function;
    event.qualifier = "$LATEST";
    event.request_id = request_id;
    event.payload = "{}";
    event.enqueued_ms = 1'700'000'000'000;
    return event;
  }

  std::int64_t enqueue(const std::string& request_id) {
    auto seq = run(repo_->enqueue(make_event("fn", request_id)));
    EXPECT_TRUE(seq.ok()) << seq.error().message;
    return seq.ok() ? *seq : -1;
  }

  std::vector<AsyncEvent> lease(int limit) {
    auto leased = run(repo_->lease(limit, 60'000));
    EXPECT_TRUE(leased.ok()) << leased.error().message;
    return leased.ok() ? std::move(leased).value() : std::vector<AsyncEvent>{};
  }

  std::vector<std::string> request_ids() {
    return repo_->db().call_blocking([](sqlite3* h) {
      std::vector<std::string> out;
      Statement st(h, "SELECT request_id FROM async_events ORDER BY seq");
      while (st.step()) out.emplace_back(st.column_text(0));
      return out;
    });
  }

  fs::path dir_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(AsyncRetryTest, RescheduledEventIsNotLeasedEarly) {
  enqueue("req-later");
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 1u);

  AsyncEvent event = leased[0];
  event.attempts = 1;
  event.failed_attempts = 1;
  ASSERT_TRUE(run(repo_->reschedule(event, epoch_ms() + 60'000)).ok());

  EXPECT_TRUE(lease(10).empty()) << "event scheduled a minute ahead was leased now";
  auto next = run(repo_->next_visible_ms());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_GT(**next, epoch_ms() + 50'000);
}

TEST_F(AsyncRetryTest, RescheduledEventCarriesRetryState) {
  enqueue("req-state");
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 1u);

  AsyncEvent event = leased[0];
  event.attempts = 2;
  event.failed_attempts = 1;
  event.delayed_retries = 3;
  ASSERT_TRUE(run(repo_->reschedule(event, epoch_ms() + 100)).ok());

  std::this_thread::sleep_for(150ms);
  auto again = lease(10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].request_id, "req-state");
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_EQ(again[0].failed_attempts, 1);
  EXPECT_EQ(again[0].delayed_retries, 3);
  EXPECT_EQ(again[0].enqueued_ms, 1'700'000'000'000);
}

TEST_F(AsyncRetryTest, LeaseTakesEarliestDueFirst) {
  std::int64_t first = enqueue("req-first");
  std::int64_t second = enqueue("req-second");
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 2u);
  // The older event is due later than the newer one.
  ASSERT_TRUE(run(repo_->reschedule(leased[0], epoch_ms() + 60)).ok());
  ASSERT_TRUE(run(repo_->reschedule(leased[1], epoch_ms() + 30)).ok());

  std::this_thread::sleep_for(100ms);
  auto again = lease(10);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].seq, second);
  EXPECT_EQ(again[1].seq, first);
}

TEST_F(AsyncRetryTest, NextVisibleIgnoresLeasedAndEmpty) {
  auto empty = run(repo_->next_visible_ms());
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());

  enqueue("req-leased");
  ASSERT_EQ(lease(10).size(), 1u);
  auto leased_only = run(repo_->next_visible_ms());
  ASSERT_TRUE(leased_only.ok());
  EXPECT_FALSE(leased_only->has_value());
}

TEST_F(AsyncRetryTest, RestartKeepsScheduleReleasesLeases) {
  enqueue("req-scheduled");
  std::int64_t running = enqueue("req-running");
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 2u);
  ASSERT_TRUE(run(repo_->reschedule(leased[0], epoch_ms() + 60'000)).ok());

  reopen();
  ASSERT_TRUE(repo_->release_all_leases().ok());
  auto visible = lease(10);
  ASSERT_EQ(visible.size(), 1u);
  EXPECT_EQ(visible[0].seq, running);
  EXPECT_EQ(visible[0].attempts, 1);
}

TEST_F(AsyncRetryTest, AckAndEnqueueSwapsRows) {
  std::int64_t source = enqueue("req-source");
  ASSERT_EQ(lease(10).size(), 1u);

  ASSERT_TRUE(run(repo_->ack_and_enqueue(source, make_event("destination", "req-record"))).ok());
  EXPECT_EQ(request_ids(), std::vector<std::string>{"req-record"});
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].function_name, "destination");
  EXPECT_EQ(leased[0].attempts, 0);
}

TEST_F(AsyncRetryTest, AckAndEnqueueIsAtomic) {
  std::int64_t source = enqueue("req-source");
  ASSERT_EQ(lease(10).size(), 1u);
  // A trigger makes the insert fail after the delete has run in the same job.
  auto created = repo_->db().call_blocking([](sqlite3* h) {
    return exec(h,
                "CREATE TRIGGER reject_record BEFORE INSERT ON async_events "
                "WHEN NEW.request_id = 'req-record' BEGIN SELECT RAISE(ABORT, 'rejected'); END");
  });
  ASSERT_TRUE(created.ok()) << created.error().message;

  auto swapped = run(repo_->ack_and_enqueue(source, make_event("destination", "req-record")));
  EXPECT_FALSE(swapped.ok());
  EXPECT_EQ(request_ids(), std::vector<std::string>{"req-source"});
}

TEST_F(AsyncRetryTest, OldSchemaGainsRetryColumns) {
  repo_.reset();
  fs::remove(dir_ / "lambent.db");
  fs::remove(dir_ / "lambent.db-wal");
  fs::remove(dir_ / "lambent.db-shm");
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "lambent.db").c_str(), &h), SQLITE_OK);
    ASSERT_TRUE(exec(h,
                     "CREATE TABLE async_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                     "function_name TEXT NOT NULL, qualifier TEXT NOT NULL, request_id TEXT NOT "
                     "NULL, payload BLOB NOT NULL, enqueued_ms INTEGER NOT NULL, attempts "
                     "INTEGER NOT NULL DEFAULT 0, visible_ms INTEGER NOT NULL DEFAULT 0);"
                     "INSERT INTO async_events (function_name, qualifier, request_id, payload, "
                     "enqueued_ms, attempts, visible_ms) VALUES "
                     "('fn', '$LATEST', 'req-old-lease', '{}', 1, 1, 99999999999999)")
                    .ok());
    sqlite3_close(h);
  }
  open();
  // The row leased by the older schema counts as leased, so start-up makes it visible.
  EXPECT_TRUE(lease(10).empty());
  ASSERT_TRUE(repo_->release_all_leases().ok());
  auto leased = lease(10);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].request_id, "req-old-lease");
  EXPECT_EQ(leased[0].failed_attempts, 0);
}

TEST_F(AsyncRetryTest, EventInvokeConfigRoundTrip) {
  EventInvokeConfig config;
  config.function_name = "orders";
  config.qualifier = "$LATEST";
  config.maximum_retry_attempts = 0;
  config.on_failure = "arn:aws:lambda:us-east-1:000000000000:function:failures";
  config.last_modified_ms = 1'700'000'000'123;
  ASSERT_TRUE(run(repo_->event_invoke_configs().put(config)).ok());
  EventInvokeConfig other = config;
  other.qualifier = "live";
  other.maximum_retry_attempts.reset();
  other.maximum_event_age_seconds = 60;
  ASSERT_TRUE(run(repo_->event_invoke_configs().put(other)).ok());

  reopen();
  auto loaded = repo_->event_invoke_configs().load_all();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  const auto& latest = (*loaded)[0];
  EXPECT_EQ(latest.qualifier, "$LATEST");
  EXPECT_EQ(latest.maximum_retry_attempts, std::optional<int>(0));
  EXPECT_FALSE(latest.maximum_event_age_seconds.has_value());
  EXPECT_EQ(latest.on_success, "");
  EXPECT_EQ(latest.on_failure, config.on_failure);
  EXPECT_EQ(latest.last_modified_ms, 1'700'000'000'123);
  EXPECT_EQ((*loaded)[1].qualifier, "live");
  EXPECT_EQ((*loaded)[1].maximum_event_age_seconds, std::optional<int>(60));
  EXPECT_FALSE((*loaded)[1].maximum_retry_attempts.has_value());

  ASSERT_TRUE(run(repo_->event_invoke_configs().remove("orders", "live")).ok());
  loaded = repo_->event_invoke_configs().load_all();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 1u);
}

TEST_F(AsyncRetryTest, DeleteFunctionDeletesConfigs) {
  EventInvokeConfig config;
  config.function_name = "orders";
  config.qualifier = "$LATEST";
  config.maximum_retry_attempts = 1;
  ASSERT_TRUE(run(repo_->event_invoke_configs().put(config)).ok());
  config.function_name = "other";
  ASSERT_TRUE(run(repo_->event_invoke_configs().put(config)).ok());

  ASSERT_TRUE(run(repo_->delete_function("orders")).ok());
  auto loaded = repo_->event_invoke_configs().load_all();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].function_name, "other");
}

}  // namespace
}  // namespace lambent::store
