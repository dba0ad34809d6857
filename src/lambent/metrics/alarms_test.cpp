#include "lambent/metrics/alarms.h"
#include "lambent/store/document_store.h"
#include "lambent/store/sqlite.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>

namespace lambent::metrics {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using store::testing::run_task;

// 2026-12-05T06:00:00Z, a minute boundary.
constexpr std::int64_t kBase = 1796450400;
constexpr const char* kOnAlarm = "arn:aws:lambda:us-east-1:000000000000:function:pager";
constexpr const char* kOnOk = "arn:aws:lambda:us-east-1:000000000000:function:pager:live";

struct ActionCall {
  std::string arn;
  std::string event;
};

Task<Status> record_call(std::vector<ActionCall>* calls, std::string arn, std::string event) {
  calls->push_back({std::move(arn), std::move(event)});
  co_return ok_status();
}

Task<int> evaluate_all_of(AlarmEngine* engine) {
  co_await engine->evaluate_all();
  co_return 0;
}

MetricKey errors_key() { return MetricKey{"AWS/Lambda", "Errors", {{"FunctionName", "orders"}}}; }

MetricAlarm errors_alarm(std::string name = "orders-errors") {
  MetricAlarm alarm;
  alarm.name = std::move(name);
  alarm.description = "Errors of the orders function";
  alarm.metric = errors_key();
  alarm.statistic = "Sum";
  alarm.period_s = 60;
  alarm.evaluation_periods = 1;
  alarm.datapoints_to_alarm = 1;
  alarm.threshold = 1;
  alarm.comparison_operator = "GreaterThanOrEqualToThreshold";
  alarm.alarm_actions = {kOnAlarm};
  alarm.ok_actions = {kOnOk};
  return alarm;
}

std::string text(const json::value& value) { return std::string(value.as_string()); }

class AlarmEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-alarms-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    now_ms_ = kBase * 1000;
    open();
  }

  void TearDown() override {
    close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open(std::size_t history_per_alarm = 100) {
    auto db = store::Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto schema = db_->call_blocking(store::DocumentStore::create_schema);
    ASSERT_TRUE(schema.ok()) << schema.error().message;
    metrics_ = std::make_unique<MetricStore>(*db_, io_.get_executor(), MetricStoreOptions{});
    auto opened = metrics_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    documents_ = std::make_unique<store::DocumentStore>(*db_);

    AlarmOptions options;
    options.history_per_alarm = history_per_alarm;
    options.clock = [this] { return now_ms_; };
    engine_ = std::make_unique<AlarmEngine>(*metrics_, *documents_, io_.get_executor(), options);
    auto loaded = engine_->load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    engine_->set_action_sink([calls = &calls_](std::string arn, std::string event) {
      return record_call(calls, std::move(arn), std::move(event));
    });
  }

  void close() {
    engine_.reset();
    documents_.reset();
    metrics_.reset();
    db_.reset();
  }

  // Closes everything and loads it again, as a server restart does.
  void reopen(std::size_t history_per_alarm = 100) {
    close();
    open(history_per_alarm);
  }

  void put(MetricAlarm alarm) {
    auto status = run_task(engine_->put(std::move(alarm)));
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  void add(double value, std::int64_t at_s, double count = 1, MetricKey key = errors_key()) {
    metrics_->add(metrics_->series(key, "Count"), value, at_s * 1000, count);
  }

  // Sets the clock to `at_s` and evaluates every alarm, as the timer does.
  void evaluate_at(std::int64_t at_s) {
    now_ms_ = at_s * 1000;
    run_task(evaluate_all_of(engine_.get()));
  }

  std::string state(const std::string& name) {
    const MetricAlarm* alarm = engine_->find(name);
    return alarm ? std::string(to_string(alarm->state)) : std::string("(none)");
  }

  std::vector<std::string> summaries(const std::string& name) {
    std::vector<std::string> out;
    for (const auto& item : engine_->history(name)) out.push_back(item.summary);
    return out;
  }

  fs::path dir_;
  asio::io_context io_;
  std::int64_t now_ms_ = 0;
  std::vector<ActionCall> calls_;
  std::unique_ptr<store::Sqlite> db_;
  std::unique_ptr<MetricStore> metrics_;
  std::unique_ptr<store::DocumentStore> documents_;
  std::unique_ptr<AlarmEngine> engine_;
};

TEST_F(AlarmEngineTest, BreachGoesToAlarmWithOneAction) {
  put(errors_alarm());
  EXPECT_EQ(state("orders-errors"), "INSUFFICIENT_DATA");

  add(0, kBase + 10);
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("orders-errors"), "OK");
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].arn, kOnOk);

  add(1, kBase + 70, 5);
  evaluate_at(kBase + 125);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[1].arn, kOnAlarm);

  const MetricAlarm* alarm = engine_->find("orders-errors");
  ASSERT_NE(alarm, nullptr);
  const std::string reason =
      "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (05/12/26 06:01:00)] was greater "
      "than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).";
  EXPECT_EQ(alarm->state_reason, reason);
  EXPECT_EQ(alarm->state_updated_ms, (kBase + 125) * 1000);
  EXPECT_EQ(alarm->state_transitioned_ms, (kBase + 125) * 1000);

  RecordProperty("alarm_event", calls_[1].event);
  json::value event = json::parse(calls_[1].event);
  EXPECT_EQ(text(event.at("source")), "aws.cloudwatch");
  EXPECT_EQ(text(event.at("alarmArn")),
            "arn:aws:cloudwatch:us-east-1:000000000000:alarm:orders-errors");
  EXPECT_EQ(text(event.at("accountId")), "000000000000");
  EXPECT_EQ(text(event.at("region")), "us-east-1");
  EXPECT_EQ(text(event.at("time")), "2026-12-05T06:02:05.000+0000");
  const json::value& data = event.at("alarmData");
  EXPECT_EQ(text(data.at("alarmName")), "orders-errors");
  EXPECT_EQ(text(data.at("state").at("value")), "ALARM");
  EXPECT_EQ(text(data.at("state").at("reason")), reason);
  EXPECT_EQ(text(data.at("state").at("reasonData")), alarm->state_reason_data);
  EXPECT_EQ(text(data.at("state").at("timestamp")), "2026-12-05T06:02:05.000+0000");
  EXPECT_EQ(text(data.at("previousState").at("value")), "OK");
  EXPECT_EQ(text(data.at("previousState").at("reason")),
            "Threshold Crossed: 1 out of the last 1 datapoints [0.0 (05/12/26 06:00:00)] was not "
            "greater than or equal to the threshold (1.0) (minimum 1 datapoint for ALARM -> OK "
            "transition).");
  EXPECT_EQ(text(data.at("previousState").at("timestamp")), "2026-12-05T06:01:05.000+0000");
  const json::value& configuration = data.at("configuration");
  EXPECT_EQ(text(configuration.at("description")), "Errors of the orders function");
  const json::value& metric = configuration.at("metrics").at(0);
  EXPECT_TRUE(
      std::regex_match(text(metric.at("id")),
                       std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")));
  EXPECT_EQ(metric.at("returnData"), json::value(true));
  const json::value& stat = metric.at("metricStat");
  EXPECT_EQ(text(stat.at("metric").at("namespace")), "AWS/Lambda");
  EXPECT_EQ(text(stat.at("metric").at("name")), "Errors");
  EXPECT_EQ(text(stat.at("metric").at("dimensions").at("FunctionName")), "orders");
  EXPECT_EQ(stat.at("period"), json::value(60));
  EXPECT_EQ(text(stat.at("stat")), "Sum");
  EXPECT_EQ(stat.as_object().if_contains("unit"), nullptr);

  // Staying in ALARM repeats no action.
  add(3, kBase + 130);
  evaluate_at(kBase + 185);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_EQ(calls_.size(), 2u);
  evaluate_at(kBase + 186);
  EXPECT_EQ(calls_.size(), 2u);

  // Errors stop: back to OK, and the OK action runs once.
  add(0, kBase + 190);
  evaluate_at(kBase + 245);
  EXPECT_EQ(state("orders-errors"), "OK");
  ASSERT_EQ(calls_.size(), 3u);
  EXPECT_EQ(calls_[2].arn, kOnOk);
  json::value back = json::parse(calls_[2].event);
  EXPECT_EQ(text(back.at("alarmData").at("state").at("value")), "OK");
  EXPECT_EQ(text(back.at("alarmData").at("previousState").at("value")), "ALARM");

  EXPECT_EQ(summaries("orders-errors"), (std::vector<std::string>{
                                            std::string("Successfully executed action ") + kOnOk,
                                            "Alarm updated from ALARM to OK",
                                            std::string("Successfully executed action ") + kOnAlarm,
                                            "Alarm updated from OK to ALARM",
                                            std::string("Successfully executed action ") + kOnOk,
                                            "Alarm updated from INSUFFICIENT_DATA to OK",
                                            "Alarm \"orders-errors\" created",
                                        }));
  auto items = engine_->history("orders-errors");
  json::value update = json::parse(items[3].data);
  EXPECT_EQ(text(update.at("oldState").at("stateValue")), "OK");
  EXPECT_EQ(text(update.at("newState").at("stateValue")), "ALARM");
  EXPECT_EQ(text(update.at("newState").at("stateReason")), reason);
  EXPECT_TRUE(update.at("newState").at("stateReasonData").is_object());
  json::value action = json::parse(items[2].data);
  EXPECT_EQ(text(action.at("actionState")), "Succeeded");
  EXPECT_EQ(text(action.at("notificationResource")), kOnAlarm);
  EXPECT_EQ(text(action.at("publishedMessage")), calls_[1].event);
}

TEST_F(AlarmEngineTest, MOutOfN) {
  MetricAlarm alarm = errors_alarm();
  alarm.evaluation_periods = 3;
  alarm.datapoints_to_alarm = 2;
  put(alarm);

  add(4, kBase + 5);
  add(0, kBase + 65);
  evaluate_at(kBase + 125);
  EXPECT_EQ(state("orders-errors"), "OK");

  add(2, kBase + 125);
  evaluate_at(kBase + 185);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_EQ(engine_->find("orders-errors")->state_reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (05/12/26 06:02:00), 4.0 "
            "(05/12/26 06:00:00)] were greater than or equal to the threshold (1.0) (minimum 2 "
            "datapoints for OK -> ALARM transition).");

  // One breaching datapoint out of the last three is not enough to stay in ALARM.
  add(0, kBase + 190);
  add(0, kBase + 250);
  evaluate_at(kBase + 305);
  EXPECT_EQ(state("orders-errors"), "OK");
  EXPECT_EQ(engine_->find("orders-errors")->state_reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (05/12/26 06:04:00), 0.0 "
            "(05/12/26 06:03:00)] were not greater than or equal to the threshold (1.0) (minimum "
            "2 datapoints for ALARM -> OK transition).");
}

TEST_F(AlarmEngineTest, EveryTreatMissingDataMode) {
  for (std::string treat : {"missing", "ignore", "breaching", "notBreaching"}) {
    MetricAlarm alarm = errors_alarm(treat);
    alarm.treat_missing_data = treat;
    alarm.alarm_actions.clear();
    alarm.ok_actions.clear();
    put(alarm);
  }

  // No data at all.
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("missing"), "INSUFFICIENT_DATA");
  EXPECT_EQ(state("ignore"), "INSUFFICIENT_DATA");
  EXPECT_EQ(state("breaching"), "ALARM");
  EXPECT_EQ(state("notBreaching"), "OK");
  EXPECT_EQ(engine_->find("breaching")->state_reason,
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
            "was treated as [Breaching] (minimum 1 datapoint for OK -> ALARM transition).");
  EXPECT_EQ(engine_->history("missing").size(), 1u);  // only its creation

  // From OK, missing data moves only `missing` (to INSUFFICIENT_DATA) and `breaching`.
  for (std::string name : {"missing", "ignore", "breaching", "notBreaching"}) {
    auto status = run_task(engine_->set_state(name, AlarmState::ok, "test", ""));
    ASSERT_TRUE(status.ok()) << status.error().message;
  }
  evaluate_at(kBase + 125);
  EXPECT_EQ(state("missing"), "INSUFFICIENT_DATA");
  EXPECT_EQ(engine_->find("missing")->state_reason, "Insufficient Data: 1 datapoint was unknown.");
  EXPECT_EQ(state("ignore"), "OK");
  EXPECT_EQ(engine_->find("ignore")->state_reason, "test");
  EXPECT_EQ(state("breaching"), "ALARM");
  EXPECT_EQ(state("notBreaching"), "OK");

  // With real data the mode does not matter.
  add(7, kBase + 130);
  evaluate_at(kBase + 185);
  for (std::string name : {"missing", "ignore", "breaching", "notBreaching"}) {
    EXPECT_EQ(state(name), "ALARM") << name;
  }
}

TEST_F(AlarmEngineTest, MissingRecentPeriodsLookBackOverTheRange) {
  MetricAlarm alarm = errors_alarm();
  alarm.period_s = 300;
  put(alarm);
  add(1, kBase + 70);  // 06:01:10

  // Evaluated each minute over the five minutes that just ended.
  evaluate_at(kBase + 365);  // [06:01, 06:06)
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_EQ(engine_->find("orders-errors")->state_reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [1.0 (05/12/26 06:01:00)] was "
            "greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM "
            "transition).");
  // Two older periods stand in for a missing newest one.
  evaluate_at(kBase + 785);  // range [05:58, 06:13)
  EXPECT_EQ(state("orders-errors"), "ALARM");
  evaluate_at(kBase + 1025);  // range [06:02, 06:17)
  EXPECT_EQ(state("orders-errors"), "INSUFFICIENT_DATA");
  EXPECT_EQ(engine_->find("orders-errors")->state_reason,
            "Insufficient Data: 1 datapoint was unknown.");
  EXPECT_EQ(calls_.size(), 1u);  // no INSUFFICIENT_DATA actions configured
}

TEST_F(AlarmEngineTest, HighResolutionPeriods) {
  MetricAlarm alarm = errors_alarm();
  alarm.period_s = 10;
  put(alarm);
  add(2, kBase + 12);
  evaluate_at(kBase + 22);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_EQ(engine_->find("orders-errors")->state_reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [2.0 (05/12/26 06:00:10)] was "
            "greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM "
            "transition).");
  add(0, kBase + 25);
  evaluate_at(kBase + 32);
  EXPECT_EQ(state("orders-errors"), "OK");
}

TEST_F(AlarmEngineTest, TimerEvaluatesShortPeriodsAndMinutesAfterTheirDelays) {
  MetricAlarm fast = errors_alarm("fast");
  fast.period_s = 10;
  put(fast);
  put(errors_alarm("slow"));
  add(3, kBase + 15);
  engine_->start();

  // 50 ms before the evaluation of the period [06:00:10, 06:00:20), 2 s after its end.
  now_ms_ = (kBase + 20) * 1000 + 2000 - 50;
  io_.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(state("fast"), "ALARM");
  EXPECT_EQ(state("slow"), "INSUFFICIENT_DATA");

  // 50 ms before the evaluation of the minute [06:00, 06:01), 5 s after its end.
  now_ms_ = (kBase + 60) * 1000 + 5000 - 50;
  io_.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(state("slow"), "ALARM");
  EXPECT_EQ(engine_->find("slow")->state_updated_ms, now_ms_);

  engine_->stop();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(100));
}

TEST_F(AlarmEngineTest, SetAlarmStateRunsActionsUntilTheNextEvaluation) {
  put(errors_alarm());
  auto status = run_task(
      engine_->set_state("orders-errors", AlarmState::alarm, "testing", R"({"source":"test"})"));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(state("orders-errors"), "ALARM");
  ASSERT_EQ(calls_.size(), 1u);
  json::value event = json::parse(calls_[0].event);
  EXPECT_EQ(text(event.at("alarmData").at("state").at("reason")), "testing");
  EXPECT_EQ(text(event.at("alarmData").at("state").at("reasonData")), R"({"source":"test"})");
  EXPECT_EQ(text(event.at("alarmData").at("previousState").at("reason")),
            "Unchecked: Initial alarm creation");
  EXPECT_EQ(event.at("alarmData").at("previousState").as_object().if_contains("reasonData"),
            nullptr);

  // The same state again runs no action.
  status = run_task(engine_->set_state("orders-errors", AlarmState::alarm, "again", ""));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(calls_.size(), 1u);

  add(0, kBase + 10);
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("orders-errors"), "OK");
  EXPECT_EQ(calls_.size(), 2u);

  auto missing = run_task(engine_->set_state("nope", AlarmState::ok, "x", ""));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
}

TEST_F(AlarmEngineTest, TopicActionsPublishTheNotification) {
  std::vector<std::pair<std::string, std::string>> published;  // topic, subject
  engine_->set_topic_sink([&published](std::string arn, std::string subject,
                                       std::string message) -> Task<Status> {
    EXPECT_NE(message.find("\"NewStateValue\":\"ALARM\""), std::string::npos);
    published.emplace_back(std::move(arn), std::move(subject));
    co_return ok_status();
  });
  MetricAlarm alarm = errors_alarm();
  alarm.alarm_actions = {"arn:aws:sns:us-east-1:000000000000:ops"};
  put(alarm);
  add(5, kBase + 1);
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_TRUE(calls_.empty());
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0].first, "arn:aws:sns:us-east-1:000000000000:ops");
  EXPECT_EQ(published[0].second, "ALARM: \"orders-errors\" in US East (N. Virginia)");
  auto items = engine_->history("orders-errors");
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0].type, "Action");
  EXPECT_EQ(items[0].summary,
            "Successfully executed action arn:aws:sns:us-east-1:000000000000:ops");
}

TEST_F(AlarmEngineTest, OtherActionsAreRecordedAsFailed) {
  MetricAlarm alarm = errors_alarm();
  alarm.alarm_actions = {"arn:aws:automate:us-east-1:ec2:stop"};
  put(alarm);
  add(5, kBase + 1);
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_TRUE(calls_.empty());
  auto items = engine_->history("orders-errors");
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0].type, "Action");
  EXPECT_EQ(items[0].summary, "Failed to execute action arn:aws:automate:us-east-1:ec2:stop");
  json::value data = json::parse(items[0].data);
  EXPECT_EQ(text(data.at("actionState")), "Failed");
  EXPECT_NE(text(data.at("error")).find("not supported"), std::string::npos);
}

TEST_F(AlarmEngineTest, DisabledActionsDoNotRun) {
  MetricAlarm alarm = errors_alarm();
  alarm.actions_enabled = false;
  put(alarm);
  add(5, kBase + 1);
  evaluate_at(kBase + 65);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_TRUE(calls_.empty());
  EXPECT_EQ(engine_->history("orders-errors")[0].type, "StateUpdate");
}

TEST_F(AlarmEngineTest, AlarmsAndHistorySurviveReload) {
  put(errors_alarm());
  add(5, kBase + 1);
  evaluate_at(kBase + 65);
  ASSERT_EQ(state("orders-errors"), "ALARM");
  const MetricAlarm before = *engine_->find("orders-errors");
  auto history_before = summaries("orders-errors");

  reopen();
  const MetricAlarm* after = engine_->find("orders-errors");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->state, AlarmState::alarm);
  EXPECT_EQ(after->state_reason, before.state_reason);
  EXPECT_EQ(after->state_reason_data, before.state_reason_data);
  EXPECT_EQ(after->state_updated_ms, before.state_updated_ms);
  EXPECT_EQ(after->arn, before.arn);
  EXPECT_EQ(after->metric, before.metric);
  EXPECT_EQ(after->alarm_actions, before.alarm_actions);
  EXPECT_EQ(after->threshold, 1);
  EXPECT_EQ(summaries("orders-errors"), history_before);

  // A reloaded alarm in ALARM does not run its actions again.
  add(6, kBase + 70);
  evaluate_at(kBase + 125);
  EXPECT_EQ(calls_.size(), 1u);
}

TEST_F(AlarmEngineTest, ReplacedAlarmKeepsItsState) {
  put(errors_alarm());
  add(5, kBase + 1);
  evaluate_at(kBase + 65);
  MetricAlarm changed = errors_alarm();
  changed.threshold = 10;
  now_ms_ += 1000;
  put(changed);
  EXPECT_EQ(state("orders-errors"), "ALARM");
  EXPECT_EQ(engine_->find("orders-errors")->threshold, 10);
  auto items = engine_->history("orders-errors");
  EXPECT_EQ(items[0].summary, "Alarm \"orders-errors\" updated");
  json::value data = json::parse(items[0].data);
  EXPECT_EQ(text(data.at("type")), "Update");
  EXPECT_EQ(data.at("originalUpdatedAlarm").at("threshold"), json::value(1.0));
  EXPECT_EQ(data.at("updatedAlarm").at("threshold"), json::value(10.0));
  EXPECT_EQ(text(data.at("updatedAlarm").at("stateValue")), "ALARM");
}

TEST_F(AlarmEngineTest, HistoryIsNewestFirstAndTrimmed) {
  reopen(3);
  for (int i = 0; i < 5; ++i) {
    MetricAlarm alarm = errors_alarm();
    alarm.description = "version " + std::to_string(i);
    put(alarm);
    now_ms_ += 1000;
  }
  put(errors_alarm("other"));
  auto items = engine_->history("orders-errors");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_GT(items[0].timestamp_ms, items[1].timestamp_ms);
  EXPECT_GT(items[1].timestamp_ms, items[2].timestamp_ms);
  EXPECT_NE(items[0].data.find("version 4"), std::string::npos);
  EXPECT_NE(items[2].data.find("version 2"), std::string::npos);
  auto all = engine_->history("");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].alarm_name, "other");

  // Trimmed items are gone from the store, and a smaller limit trims at load.
  reopen(3);
  EXPECT_EQ(engine_->history("orders-errors").size(), 3u);
  reopen(2);
  EXPECT_EQ(engine_->history("orders-errors").size(), 2u);
  engine_->start();
  io_.run_for(std::chrono::milliseconds(200));
  engine_->stop();
  io_.restart();
  io_.run_for(std::chrono::milliseconds(100));
  reopen(100);
  EXPECT_EQ(engine_->history("orders-errors").size(), 2u);

  // Items older than the two-week retention go when the next item is written.
  now_ms_ += 15LL * 86400 * 1000;
  put(errors_alarm());
  EXPECT_EQ(summaries("orders-errors"),
            (std::vector<std::string>{"Alarm \"orders-errors\" updated"}));
}

TEST_F(AlarmEngineTest, RemoveNeedsEveryAlarmToExist) {
  put(errors_alarm("a"));
  put(errors_alarm("b"));
  auto missing = run_task(engine_->remove({"a", "zzz"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find("zzz"), std::string::npos);
  EXPECT_NE(engine_->find("a"), nullptr);

  auto removed = run_task(engine_->remove({"a", "a"}));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(engine_->find("a"), nullptr);
  ASSERT_EQ(engine_->alarms().size(), 1u);
  EXPECT_EQ(engine_->alarms()[0]->name, "b");
  EXPECT_EQ(summaries("a").front(), "Alarm \"a\" deleted");

  reopen();
  EXPECT_EQ(engine_->find("a"), nullptr);
  EXPECT_EQ(summaries("a").front(), "Alarm \"a\" deleted");
}

TEST_F(AlarmEngineTest, InvalidAlarmsAreRejected) {
  MetricAlarm alarm = errors_alarm();
  alarm.period_s = 45;
  auto status = run_task(engine_->put(alarm));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::invalid_parameter);
  EXPECT_NE(status.error().message.find("45"), std::string::npos);

  alarm = errors_alarm();
  alarm.comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold";
  status = run_task(engine_->put(alarm));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("LessThanLowerOrGreaterThanUpperThreshold"),
            std::string::npos);

  alarm = errors_alarm();
  alarm.datapoints_to_alarm = 2;
  EXPECT_FALSE(run_task(engine_->put(alarm)).ok());
  EXPECT_TRUE(engine_->alarms().empty());
}

}  // namespace
}  // namespace lambent::metrics
