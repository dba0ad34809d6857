#include "lambent/metrics/metric_store.h"
#include "lambent/store/sqlite.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>

namespace lambent::metrics {
namespace {

namespace fs = std::filesystem;
using store::testing::run_task;

// 2026-12-05T06:00:00Z, a minute boundary.
constexpr std::int64_t kBase = 1796450400;

class MetricStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-metrics-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto db = store::Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<MetricStore>(*db_, io_.get_executor(), MetricStoreOptions{});
    auto opened = store_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
  }

  std::vector<Datapoint> query(const MetricKey& key, std::int64_t start, std::int64_t end,
                               std::int64_t period, std::optional<std::string> unit = {}) {
    auto result = run_task(store_->query(key, start, end, period, std::move(unit)));
    EXPECT_TRUE(result.ok()) << result.error().message;
    return result.ok() ? *result : std::vector<Datapoint>{};
  }

  static MetricKey key(std::string name, Dimensions dimensions = {}) {
    return MetricKey{"AWS/Lambda", std::move(name), std::move(dimensions)};
  }

  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<store::Sqlite> db_;
  std::unique_ptr<MetricStore> store_;
};

TEST_F(MetricStoreTest, AggregatesBySecondAndByMinute) {
  auto* series = store_->series(key("Duration", {{"FunctionName", "f"}}), "Milliseconds");
  // 90 values over three seconds of the first minute and one second of the next.
  for (int i = 1; i <= 30; ++i) store_->add(series, i, kBase * 1000 + 100);
  for (int i = 1; i <= 30; ++i) store_->add(series, 100 + i, kBase * 1000 + 1500);
  for (int i = 1; i <= 30; ++i) store_->add(series, 1000, (kBase + 61) * 1000);

  auto minutes = query(key("Duration", {{"FunctionName", "f"}}), kBase, kBase + 3600, 60);
  ASSERT_EQ(minutes.size(), 2u);
  EXPECT_EQ(minutes[0].timestamp_s, kBase);
  EXPECT_EQ(minutes[0].aggregate.sample_count, 60);
  EXPECT_EQ(minutes[0].aggregate.sum, 465 + 3000 + 465);
  EXPECT_EQ(minutes[0].aggregate.minimum, 1);
  EXPECT_EQ(minutes[0].aggregate.maximum, 130);
  EXPECT_EQ(minutes[0].unit, "Milliseconds");
  EXPECT_EQ(minutes[1].timestamp_s, kBase + 60);
  EXPECT_EQ(minutes[1].aggregate.sum, 30000);

  auto seconds = query(key("Duration", {{"FunctionName", "f"}}), kBase, kBase + 120, 1);
  ASSERT_EQ(seconds.size(), 3u);
  EXPECT_EQ(seconds[0].timestamp_s, kBase);
  EXPECT_EQ(seconds[1].timestamp_s, kBase + 1);
  EXPECT_EQ(seconds[1].aggregate.sum, 3000 + 465);
  EXPECT_EQ(seconds[2].timestamp_s, kBase + 61);

  auto hour = query(key("Duration", {{"FunctionName", "f"}}), kBase, kBase + 3600, 3600);
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0].aggregate.sample_count, 90);
  auto p50 = evaluate(hour[0].aggregate, *parse_statistic("p50"));
  ASSERT_TRUE(p50);
  // Rank floor(0.5 * 89) = 44 of the sorted values is 115.
  EXPECT_NEAR(*p50, 115, 115 * Sketch::kRelativeAccuracy);
  EXPECT_EQ(*evaluate(hour[0].aggregate, *parse_statistic("p100")), 1000);
  EXPECT_EQ(*evaluate(hour[0].aggregate, *parse_statistic("Average")), (930.0 + 3000 + 30000) / 90);

  EXPECT_TRUE(query(key("Duration", {{"FunctionName", "f"}}), kBase, kBase + 3600, 60, "Count")
                  .empty());
  EXPECT_TRUE(query(key("Duration", {{"FunctionName", "g"}}), kBase, kBase + 3600, 60).empty());
}

TEST_F(MetricStoreTest, LaterFlushesMergeIntoStoredPoints) {
  auto* series = store_->series(key("Invocations"), "Count");
  store_->add(series, 1, kBase * 1000 + 10);
  ASSERT_TRUE(run_task(store_->flush()).ok());
  store_->add(series, 1, kBase * 1000 + 20, 4);
  auto points = query(key("Invocations"), kBase, kBase + 60, 60);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].aggregate.sum, 5);
  EXPECT_EQ(points[0].aggregate.sample_count, 5);
}

TEST_F(MetricStoreTest, SamplesWithStatisticSetsHaveNoPercentiles) {
  std::vector<Sample> samples(2);
  samples[0].key = MetricKey{"Shop", "Latency", {{"Page", "cart"}}};
  samples[0].unit = "Milliseconds";
  samples[0].timestamp_ms = kBase * 1000;
  samples[0].values.add(5);
  samples[0].values.add(7, 3);
  samples[1] = samples[0];
  samples[1].values = Aggregate{};
  samples[1].values.add_statistics(100, 10, 1, 30);
  ASSERT_TRUE(run_task(store_->put(samples)).ok());

  auto points = query(MetricKey{"Shop", "Latency", {{"Page", "cart"}}}, kBase, kBase + 60, 60);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].aggregate.sum, 126);
  EXPECT_EQ(points[0].aggregate.sample_count, 14);
  EXPECT_EQ(points[0].aggregate.minimum, 1);
  EXPECT_EQ(points[0].aggregate.maximum, 30);
  EXPECT_FALSE(evaluate(points[0].aggregate, *parse_statistic("p90")));
  // Standard-resolution samples have no one-second points.
  EXPECT_TRUE(query(MetricKey{"Shop", "Latency", {{"Page", "cart"}}}, kBase, kBase + 60, 1)
                  .empty());
}

TEST_F(MetricStoreTest, ListsByNamespaceNameAndDimensions) {
  auto now_ms = epoch_ms();
  store_->add(store_->series(key("Invocations"), "Count"), 1, now_ms);
  store_->add(store_->series(key("Invocations", {{"FunctionName", "a"}}), "Count"), 1, now_ms);
  store_->add(store_->series(key("Errors", {{"FunctionName", "b"}}), "Count"), 1, now_ms);
  store_->add(store_->series(MetricKey{"Custom", "Depth", {}}, "None"), 1, now_ms);

  auto all = run_task(store_->list({}, {}, {}, 0));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].key.name, "Errors");

  auto lambda = run_task(store_->list(std::string("AWS/Lambda"), std::string("Invocations"),
                                      {}, 0));
  ASSERT_EQ(lambda->size(), 2u);
  auto by_function = run_task(store_->list({}, {}, {{"FunctionName", std::nullopt}}, 0));
  ASSERT_EQ(by_function->size(), 2u);
  auto function_b = run_task(store_->list({}, {}, {{"FunctionName", std::string("b")}}, 0));
  ASSERT_EQ(function_b->size(), 1u);
  EXPECT_EQ((*function_b)[0].key.dimensions[0].value, "b");
  auto recent = run_task(store_->list({}, {}, {}, now_ms / 1000 + 3600));
  EXPECT_TRUE(recent->empty());
}

TEST_F(MetricStoreTest, PendingValuesSurviveAShutdownWrite) {
  auto* series = store_->series(key("Throttles", {{"FunctionName", "odd:name|1:2"}}), "Count");
  store_->add(series, 1, kBase * 1000, 7);
  db_->close();
  ASSERT_TRUE(store_->write_pending_blocking().ok());
  store_.reset();
  db_.reset();
  open();
  auto points = query(key("Throttles", {{"FunctionName", "odd:name|1:2"}}), kBase, kBase + 60, 60);
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].aggregate.sum, 7);
  auto listed = run_task(store_->list({}, {}, {}, 0));
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().key.dimensions[0].value, "odd:name|1:2");
}

TEST_F(MetricStoreTest, PruneDeletesPointsPastTheirRetention) {
  auto* series = store_->series(key("Invocations"), "Count");
  store_->add(series, 1, kBase * 1000);
  store_->add(series, 1, (kBase + 4 * 3600) * 1000);
  ASSERT_TRUE(run_task(store_->flush()).ok());
  // Four hours later the first one-second point is past the three-hour retention, while its
  // one-minute point stays for 15 days.
  ASSERT_TRUE(run_task(store_->prune(kBase + 4 * 3600)).ok());
  EXPECT_EQ(query(key("Invocations"), kBase, kBase + 5 * 3600, 1).size(), 1u);
  EXPECT_EQ(query(key("Invocations"), kBase, kBase + 5 * 3600, 60).size(), 2u);

  ASSERT_TRUE(run_task(store_->prune(kBase + 16 * 86400)).ok());
  EXPECT_TRUE(query(key("Invocations"), kBase, kBase + 5 * 3600, 60).empty());
  auto listed = run_task(store_->list({}, {}, {}, 0));
  EXPECT_TRUE(listed->empty());
}

TEST(Statistic, ParsesNamesAndPercentiles) {
  EXPECT_EQ(parse_statistic("SampleCount")->kind, Statistic::Kind::sample_count);
  EXPECT_EQ(parse_statistic("p99.9")->percentile, 99.9);
  EXPECT_EQ(parse_statistic("p0")->percentile, 0);
  EXPECT_EQ(parse_statistic("p0.5")->percentile, 0.5);
  EXPECT_EQ(parse_statistic("p100")->percentile, 100);
  for (const char* bad : {"sum", "p", "p101", "p-1", "p99.999", "TM99", "p 9", "pabc", "",
                          "p1e2", "p00.5", "p99.", "p.5", "p+5", "p100.01"}) {
    auto parsed = parse_statistic(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find(bad), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace lambent::metrics
