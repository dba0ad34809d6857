#include "lambent/metrics/cost.h"

#include "lambent/store/sqlite.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace lambent::metrics {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMinute = 60'000;
// 2024-01-01T00:00:00Z, a minute boundary.
constexpr std::int64_t kT0 = 1'704'067'200'000;

class CostLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lambent-cost-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = store::Sqlite::open(dir_ / "lambent.db");
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    ASSERT_TRUE(db_->call_blocking(CostLedger::create_schema).ok());
  }

  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }

  CostLedger make_ledger(CostOptions options = {}) {
    if (!options.now_ms) options.now_ms = [this] { return now_; };
    return CostLedger(*db_, io_.get_executor(), std::move(options));
  }

  // Runs `task` on the test's io_context until it finishes.
  template <typename T>
  T run(Task<T> task) {
    std::optional<T> out;
    auto wrapper = [](Task<T> inner, std::optional<T>& slot) -> Task<void> {
      slot.emplace(co_await std::move(inner));
    };
    asio::co_spawn(io_, wrapper(std::move(task), out), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
    io_.restart();
    while (!out && io_.run_one_for(std::chrono::seconds(20)) > 0) {
    }
    if (!out) throw std::runtime_error("coroutine did not finish");
    return std::move(*out);
  }

  std::vector<CostRow> query(CostLedger& ledger, std::int64_t since_ms) {
    auto rows = run(ledger.query(since_ms));
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? *rows : std::vector<CostRow>{};
  }

  fs::path dir_;
  std::unique_ptr<store::Sqlite> db_;
  asio::io_context io_;
  std::int64_t now_ = kT0 + 10 * kMinute;
};

TEST(BilledMilliseconds, RoundsUpToWholeMillisecondsAtLeastOne) {
  EXPECT_EQ(billed_milliseconds(0), 1);
  EXPECT_EQ(billed_milliseconds(0.2), 1);
  EXPECT_EQ(billed_milliseconds(1.0), 1);
  EXPECT_EQ(billed_milliseconds(1.01), 2);
  EXPECT_EQ(billed_milliseconds(100.0), 100);
  EXPECT_EQ(billed_milliseconds(250.37), 251);
  EXPECT_EQ(billed_milliseconds(-3), 1);
}

TEST_F(CostLedgerTest, SumsInvocationsAndCpuPerVersion) {
  auto ledger = make_ledger();
  ledger.record_invoke("orders", "$LATEST", 100.2, 128, kT0 + 1000);
  ledger.record_invoke("orders", "$LATEST", 0.4, 128, kT0 + 2000);
  ledger.record_invoke("orders", "1", 250.0, 1024, kT0 + 3000);
  ledger.record_cpu("orders", "1", 40'000, kT0 + 4000);
  ledger.record_cpu("orders", "1", 0, kT0 + 4000);
  ledger.record_invoke("billing", "$LATEST", 9.9, 512, kT0 + 5000);

  auto rows = query(ledger, 0);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].function, "billing");
  EXPECT_EQ(rows[0].requests, 1);
  EXPECT_EQ(rows[0].billed_ms, 10);
  EXPECT_EQ(rows[0].mb_ms, 5120);

  EXPECT_EQ(rows[1].function, "orders");
  EXPECT_EQ(rows[1].version, "$LATEST");
  EXPECT_EQ(rows[1].requests, 2);
  EXPECT_EQ(rows[1].billed_ms, 101 + 1);
  EXPECT_EQ(rows[1].mb_ms, 102 * 128);
  EXPECT_EQ(rows[1].cpu_us, 0);

  EXPECT_EQ(rows[2].version, "1");
  EXPECT_EQ(rows[2].requests, 1);
  EXPECT_EQ(rows[2].mb_ms, 250 * 1024);
  EXPECT_DOUBLE_EQ(rows[2].gb_seconds(), 0.25);
  EXPECT_EQ(rows[2].cpu_us, 40'000);
  EXPECT_DOUBLE_EQ(rows[2].cpu_seconds(), 0.04);
}

TEST_F(CostLedgerTest, QueriesAddUpAcrossFlushes) {
  auto ledger = make_ledger();
  ledger.record_invoke("f", "$LATEST", 10, 128, kT0);
  ASSERT_TRUE(run(ledger.flush()).ok());
  ledger.record_invoke("f", "$LATEST", 10, 128, kT0 + 1);
  auto first = query(ledger, 0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].requests, 2);
  // A query writes what is pending once: asking again counts nothing twice.
  auto second = query(ledger, 0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].requests, 2);
  EXPECT_EQ(second[0].billed_ms, 20);
}

TEST_F(CostLedgerTest, SinceSelectsWholeMinutes) {
  auto ledger = make_ledger();
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0 + 59'999);           // minute 0
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0 + kMinute);          // minute 1
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0 + 2 * kMinute + 5);  // minute 2
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0 + 2 * kMinute + 7);

  auto all = query(ledger, 0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].requests, 4);
  // since_ms inside minute 1 includes that whole minute.
  auto later = query(ledger, kT0 + kMinute + 30'000);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].requests, 3);
  auto none = query(ledger, kT0 + 3 * kMinute);
  EXPECT_TRUE(none.empty());
}

TEST_F(CostLedgerTest, ShutdownWritesPendingCounts) {
  {
    auto ledger = make_ledger();
    ledger.start();
    ledger.record_invoke("f", "2", 3000, 2048, kT0);
    ledger.record_cpu("f", "2", 1'500'000, kT0);
    ledger.stop();
    db_->close();
    ASSERT_TRUE(ledger.write_pending_blocking().ok());
  }
  db_.reset();
  auto db = store::Sqlite::open(dir_ / "lambent.db");
  ASSERT_TRUE(db.ok());
  db_ = std::move(*db);
  auto reopened = make_ledger();
  auto rows = query(reopened, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].version, "2");
  EXPECT_EQ(rows[0].requests, 1);
  EXPECT_EQ(rows[0].mb_ms, 3000 * 2048);
  EXPECT_EQ(rows[0].cpu_us, 1'500'000);
}

TEST_F(CostLedgerTest, TimerFlushesPendingCounts) {
  CostOptions options;
  options.flush_interval = std::chrono::milliseconds(20);
  auto ledger = make_ledger(options);
  ledger.start();
  ledger.record_invoke("f", "$LATEST", 5, 128, kT0);
  io_.restart();
  io_.run_for(std::chrono::milliseconds(300));
  // A second ledger has nothing pending, so its query returns only what the first one wrote.
  auto reader = make_ledger();
  auto rows = query(reader, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].requests, 1);
  ledger.stop();
}

TEST_F(CostLedgerTest, RetentionDeletesOldMinutes) {
  CostOptions options;
  options.retention_ms = 5 * kMinute;
  auto ledger = make_ledger(options);
  now_ = kT0 + 10 * kMinute;
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0);                // past the retention
  ledger.record_invoke("f", "$LATEST", 1, 128, kT0 + 6 * kMinute);  // kept
  ASSERT_TRUE(run(ledger.flush()).ok());
  auto rows = query(ledger, 0);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].requests, 1);
}

TEST(CostReport, ComputesCostsFromThePrices) {
  CostRow row;
  row.function = "f";
  row.version = "$LATEST";
  row.requests = 4'000'000;
  row.billed_ms = 1000;
  row.mb_ms = 1024 * 1000 * 3;  // 3 GB-seconds
  row.cpu_us = 2'500'000;
  Prices prices;
  auto document = boost::json::parse(cost_report_json({row}, prices, kT0 + 5)).as_object();
  EXPECT_EQ(document.at("since_ms").as_int64(), kT0);
  EXPECT_EQ(document.at("currency").as_string(), "USD");
  EXPECT_DOUBLE_EQ(document.at("prices").at("per_request").as_double(), 0.2e-6);
  EXPECT_DOUBLE_EQ(document.at("prices").at("per_gb_second").as_double(), 0.0000166667);
  const auto& item = document.at("rows").as_array().at(0).as_object();
  EXPECT_EQ(item.at("requests").as_int64(), 4'000'000);
  EXPECT_DOUBLE_EQ(item.at("gb_seconds").as_double(), 3.0);
  EXPECT_DOUBLE_EQ(item.at("cpu_seconds").as_double(), 2.5);
  EXPECT_DOUBLE_EQ(item.at("request_cost").as_double(), 0.8);
  EXPECT_DOUBLE_EQ(item.at("compute_cost").as_double(), 3 * 0.0000166667);
  EXPECT_DOUBLE_EQ(item.at("total").as_double(), 0.8 + 3 * 0.0000166667);
  EXPECT_DOUBLE_EQ(document.at("totals").at("total").as_double(), 0.8 + 3 * 0.0000166667);
}

}  // namespace
}  // namespace lambent::metrics
