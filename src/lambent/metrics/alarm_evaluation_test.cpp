#include "lambent/metrics/alarm_evaluation.h"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

namespace lambent::metrics {
namespace {

// Epoch seconds of a UTC time.
std::int64_t utc(int year, int month, int day, int hour, int minute, int second = 0) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm));
}

MetricAlarm alarm_of(int evaluation_periods, int datapoints_to_alarm, std::string treat) {
  MetricAlarm alarm;
  alarm.name = "errors";
  alarm.metric = {"AWS/Lambda", "Errors", {{"FunctionName", "f"}}};
  alarm.statistic = "Sum";
  alarm.period_s = 60;
  alarm.evaluation_periods = evaluation_periods;
  alarm.datapoints_to_alarm = datapoints_to_alarm;
  alarm.threshold = 1;
  alarm.comparison_operator = "GreaterThanOrEqualToThreshold";
  alarm.treat_missing_data = std::move(treat);
  return alarm;
}

// Windows from a row of AWS's missing-data tables, oldest on the left: '0' not breaching,
// 'X' breaching, '-' missing. The newest period starts at `newest_start_s`.
std::vector<AlarmWindow> windows_of(std::string_view row, std::int64_t newest_start_s,
                                    std::int64_t period_s = 60) {
  std::vector<AlarmWindow> out;
  for (std::size_t i = 0; i < row.size(); ++i) {
    char c = row[row.size() - 1 - i];
    AlarmWindow window;
    window.start_s = newest_start_s - static_cast<std::int64_t>(i) * period_s;
    if (c != '-') {
      window.value = c == 'X' ? 5.0 : 0.0;
      window.sample_count = 5;
    }
    out.push_back(window);
  }
  return out;
}

// "OK", "ALARM", "INSUFFICIENT_DATA", or "keep" when the state stays as it is.
std::string state_of(const AlarmDecision& decision) {
  return decision.state ? std::string(to_string(*decision.state)) : std::string("keep");
}

struct TableRow {
  std::string_view row;
  std::string_view missing;
  std::string_view ignore;
  std::string_view breaching;
  std::string_view not_breaching;
};

void check_table(int evaluation_periods, int datapoints_to_alarm,
                 const std::vector<TableRow>& rows) {
  const std::int64_t now = utc(2026, 12, 5, 6, 10);
  for (const auto& row : rows) {
    auto windows = windows_of(row.row, now - 60);
    auto decide_with = [&](std::string treat) {
      return state_of(
          decide(alarm_of(evaluation_periods, datapoints_to_alarm, treat), windows, now * 1000));
    };
    EXPECT_EQ(decide_with("missing"), row.missing) << row.row;
    EXPECT_EQ(decide_with("ignore"), row.ignore) << row.row;
    EXPECT_EQ(decide_with("breaching"), row.breaching) << row.row;
    EXPECT_EQ(decide_with("notBreaching"), row.not_breaching) << row.row;
  }
}

// The rows of CloudWatch's "How alarm state is evaluated when data is missing" tables: the
// evaluation range holds five periods for three evaluation periods.
TEST(AlarmDecision, ThreeOutOfThreeWithMissingData) {
  check_table(3, 3,
              {
                  {"0-X-X", "OK", "OK", "OK", "OK"},
                  {"0----", "OK", "OK", "OK", "OK"},
                  {"-----", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"},
                  {"0XX-X", "ALARM", "ALARM", "ALARM", "ALARM"},
                  {"----X", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"},
              });
}

TEST(AlarmDecision, TwoOutOfThreeWithMissingData) {
  check_table(3, 2,
              {
                  {"0-X-X", "ALARM", "ALARM", "ALARM", "ALARM"},
                  {"00X0X", "ALARM", "ALARM", "ALARM", "ALARM"},
                  {"0-X--", "OK", "OK", "ALARM", "OK"},
                  {"----0", "OK", "OK", "ALARM", "OK"},
                  {"----X", "INSUFFICIENT_DATA", "keep", "ALARM", "OK"},
              });
}

TEST(AlarmDecision, MOutOfNWithoutMissingData) {
  const std::int64_t now = utc(2026, 12, 5, 6, 10);
  auto alarm = alarm_of(5, 3, "missing");
  EXPECT_EQ(state_of(decide(alarm, windows_of("XXX00X0", now - 60), now * 1000)), "OK");
  EXPECT_EQ(state_of(decide(alarm, windows_of("00XX0XX", now - 60), now * 1000)), "ALARM");
  EXPECT_EQ(state_of(decide(alarm, windows_of("XXX0000", now - 60), now * 1000)), "OK");
}

TEST(AlarmDecision, DynamoDbAlarmsIgnoreMissingData) {
  const std::int64_t now = utc(2026, 12, 5, 6, 10);
  auto alarm = alarm_of(1, 1, "breaching");
  alarm.metric.ns = "AWS/DynamoDB";
  EXPECT_EQ(state_of(decide(alarm, windows_of("---", now - 60), now * 1000)), "keep");
}

TEST(AlarmReason, OneOutOfOneBreaching) {
  const std::int64_t now = utc(2026, 12, 5, 6, 11, 2);
  auto decision = decide(alarm_of(1, 1, "missing"), windows_of("--X", utc(2026, 12, 5, 6, 10)),
                         now * 1000 + 345);
  EXPECT_EQ(state_of(decision), "ALARM");
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 1 out of the last 1 datapoints [5.0 (05/12/26 06:10:00)] was "
            "greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM "
            "transition).");
  EXPECT_EQ(decision.reason_data,
            R"({"version":"1.0","queryDate":"2026-12-05T06:11:02.345+0000",)"
            R"("startDate":"2026-12-05T06:10:00.000+0000","statistic":"Sum","period":60,)"
            R"("recentDatapoints":[5.0],"threshold":1.0,"evaluatedDatapoints":[)"
            R"({"timestamp":"2026-12-05T06:10:00.000+0000","sampleCount":5.0,"value":5.0}]})");
}

TEST(AlarmReason, ClassicFormWithoutDatapointsToAlarm) {
  const std::int64_t newest = utc(2026, 8, 19, 5, 50);
  auto alarm = alarm_of(3, 0, "missing");
  alarm.comparison_operator = "GreaterThanThreshold";
  alarm.threshold = 0;
  std::vector<AlarmWindow> windows = windows_of("--XXX", newest);
  windows[0].value = 2;
  windows[1].value = 3;
  windows[2].value = 1;
  // Three-minute spacing, as in the recorded reason.
  windows[1].start_s = newest - 180;
  windows[2].start_s = newest - 360;
  auto decision = decide(alarm, windows, (newest + 92) * 1000);
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 3 datapoints [2.0 (19/08/26 05:50:00), 3.0 (19/08/26 05:47:00), "
            "1.0 (19/08/26 05:44:00)] were greater than the threshold (0.0).");
}

TEST(AlarmReason, ClassicFormListsFiveOfMany) {
  const std::int64_t newest = utc(2022, 9, 29, 22, 5);
  auto alarm = alarm_of(6, 0, "missing");
  alarm.period_s = 300;
  alarm.comparison_operator = "LessThanOrEqualToThreshold";
  alarm.threshold = 0;
  auto decision = decide(alarm, windows_of("--000000", newest, 300), (newest + 304) * 1000);
  EXPECT_EQ(state_of(decision), "ALARM");
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 6 datapoints were less than or equal to the threshold (0.0). The "
            "most recent datapoints which crossed the threshold: [0.0 (29/09/22 22:05:00), 0.0 "
            "(29/09/22 22:00:00), 0.0 (29/09/22 21:55:00), 0.0 (29/09/22 21:50:00), 0.0 "
            "(29/09/22 21:45:00)].");
}

TEST(AlarmReason, MissingDataTreatedAsBreaching) {
  const std::int64_t newest = utc(2026, 8, 19, 9, 36);
  auto alarm = alarm_of(8, 0, "breaching");
  alarm.comparison_operator = "LessThanOrEqualToThreshold";
  alarm.threshold = 0;
  std::vector<AlarmWindow> windows = windows_of("---------0", newest);
  windows[0].value = 2;
  auto decision = decide(alarm, windows, (newest + 109) * 1000);
  EXPECT_EQ(state_of(decision), "OK");
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 1 datapoint [2.0 (19/08/26 09:36:00)] was not less than or equal "
            "to the threshold (0.0) and 7 missing datapoints were treated as [Breaching].");

  auto empty = decide(alarm_of(2, 0, "breaching"), windows_of("----", newest), newest * 1000);
  EXPECT_EQ(state_of(empty), "ALARM");
  EXPECT_EQ(empty.reason,
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
            "datapoints were treated as [Breaching].");

  auto some = decide(alarm_of(3, 2, "breaching"), windows_of("----0", newest), newest * 1000);
  EXPECT_EQ(state_of(some), "ALARM");
  EXPECT_EQ(some.reason,
            "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints "
            "were treated as [Breaching] (minimum 2 datapoints for OK -> ALARM transition).");
}

TEST(AlarmReason, MissingDataTreatedAsNotBreaching) {
  const std::int64_t newest = utc(2024, 3, 16, 12, 15);
  auto alarm = alarm_of(20, 1, "notBreaching");
  auto windows = windows_of(std::string(21, '-') + "X", newest);
  windows[0].value = 613;
  auto decision = decide(alarm, windows, (newest + 105) * 1000);
  EXPECT_EQ(state_of(decision), "ALARM");
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 1 out of the last 20 datapoints [613.0 (16/03/24 12:15:00)] was "
            "greater than or equal to the threshold (1.0) and 19 missing datapoints were treated "
            "as [NonBreaching] (minimum 1 datapoint for OK -> ALARM transition).");

  auto quiet = decide(alarm_of(2, 2, "notBreaching"), windows_of("----", newest), newest * 1000);
  EXPECT_EQ(state_of(quiet), "OK");
  EXPECT_EQ(quiet.reason,
            "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
            "datapoints were treated as [NonBreaching] (minimum 1 datapoint for ALARM -> OK "
            "transition).");
}

TEST(AlarmReason, ReturnToOkListsTheDatapointsWithinThreshold) {
  const std::int64_t newest = utc(2021, 12, 21, 6, 45);
  auto alarm = alarm_of(5, 3, "missing");
  alarm.comparison_operator = "GreaterThanThreshold";
  alarm.threshold = 0;
  auto decision = decide(alarm, windows_of("--X0X00", newest), (newest + 71) * 1000);
  EXPECT_EQ(state_of(decision), "OK");
  EXPECT_EQ(decision.reason,
            "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (21/12/21 06:45:00), 0.0 "
            "(21/12/21 06:44:00), 0.0 (21/12/21 06:42:00)] were not greater than the threshold "
            "(0.0) (minimum 3 datapoints for ALARM -> OK transition).");
}

TEST(AlarmReason, InsufficientData) {
  const std::int64_t newest = utc(2020, 7, 31, 6, 51);
  auto alarm = alarm_of(1, 0, "missing");
  alarm.statistic = "Average";
  alarm.threshold = 60;
  auto decision = decide(alarm, windows_of("---", newest), utc(2020, 7, 31, 6, 52, 5) * 1000 + 598);
  EXPECT_EQ(state_of(decision), "INSUFFICIENT_DATA");
  EXPECT_EQ(decision.reason, "Insufficient Data: 1 datapoint was unknown.");
  EXPECT_EQ(decision.reason_data,
            R"({"version":"1.0","queryDate":"2020-07-31T06:52:05.598+0000","statistic":"Average",)"
            R"("period":60,"recentDatapoints":[],"threshold":60.0,"evaluatedDatapoints":[)"
            R"({"timestamp":"2020-07-31T06:51:00.000+0000"}]})");

  auto five = decide(alarm_of(5, 0, "missing"), windows_of("-------", newest), newest * 1000);
  EXPECT_EQ(five.reason, "Insufficient Data: 5 datapoints were unknown.");
}

TEST(AlarmReason, RecentDatapointsSpanTheRangeOldestFirst) {
  const std::int64_t newest = utc(2026, 12, 5, 6, 10);
  auto alarm = alarm_of(1, 1, "missing");
  alarm.unit = "Count";
  auto windows = windows_of("X-0", newest);
  auto decision = decide(alarm, windows, newest * 1000);
  EXPECT_EQ(state_of(decision), "OK");
  EXPECT_EQ(decision.reason_data,
            R"({"version":"1.0","queryDate":"2026-12-05T06:10:00.000+0000",)"
            R"("startDate":"2026-12-05T06:08:00.000+0000","unit":"Count","statistic":"Sum",)"
            R"("period":60,"recentDatapoints":[5.0,0.0],"threshold":1.0,"evaluatedDatapoints":[)"
            R"({"timestamp":"2026-12-05T06:10:00.000+0000","sampleCount":5.0,"value":0.0}]})");
}

TEST(AlarmDecision, LowSampleCountPercentile) {
  const std::int64_t newest = utc(2026, 12, 5, 6, 10);
  auto alarm = alarm_of(1, 1, "missing");
  alarm.statistic.clear();
  alarm.extended_statistic = "p99";
  auto windows = windows_of("--X", newest);
  windows[0].sample_count = 999;
  alarm.evaluate_low_sample_count_percentile = "ignore";
  EXPECT_EQ(state_of(decide(alarm, windows, newest * 1000)), "keep");
  windows[0].sample_count = 1000;
  EXPECT_EQ(state_of(decide(alarm, windows, newest * 1000)), "ALARM");
  windows[0].sample_count = 3;
  alarm.evaluate_low_sample_count_percentile = "evaluate";
  EXPECT_EQ(state_of(decide(alarm, windows, newest * 1000)), "ALARM");
  alarm.evaluate_low_sample_count_percentile.clear();
  EXPECT_EQ(state_of(decide(alarm, windows, newest * 1000)), "ALARM");

  EXPECT_NEAR(low_sample_threshold(99), 1000, 1e-9);
  EXPECT_DOUBLE_EQ(low_sample_threshold(50), 20);
  EXPECT_DOUBLE_EQ(low_sample_threshold(10), 100);
  EXPECT_DOUBLE_EQ(low_sample_threshold(100), 0);
}

TEST(AlarmReason, LongReasonsStayWithinApiLimits) {
  const std::int64_t newest = utc(2026, 12, 5, 6, 10);
  auto alarm = alarm_of(500, 500, "missing");
  alarm.period_s = 10;
  auto decision = decide(alarm, windows_of(std::string(502, 'X'), newest, 10), newest * 1000);
  EXPECT_EQ(state_of(decision), "ALARM");
  EXPECT_LE(decision.reason.size(), 1023u);
  EXPECT_LE(decision.reason_data.size(), 4000u);
  EXPECT_TRUE(
      decision.reason.starts_with("Threshold Crossed: 500 out of the last 500 datapoints ["));
}

TEST(AlarmFormat, NumbersAsJavaPrintsThem) {
  EXPECT_EQ(format_number(5), "5.0");
  EXPECT_EQ(format_number(0), "0.0");
  EXPECT_EQ(format_number(100), "100.0");
  EXPECT_EQ(format_number(-2.5), "-2.5");
  EXPECT_EQ(format_number(10.08), "10.08");
  EXPECT_EQ(format_number(0.2872183414376726), "0.2872183414376726");
  EXPECT_EQ(format_number(7.272883842388789), "7.272883842388789");
  EXPECT_EQ(format_number(0.001), "0.001");
  EXPECT_EQ(format_number(0.0001), "1.0E-4");
  EXPECT_EQ(format_number(9999999), "9999999.0");
  EXPECT_EQ(format_number(1e7), "1.0E7");
  EXPECT_EQ(format_number(12345678.9), "1.23456789E7");
}

TEST(AlarmFormat, Times) {
  EXPECT_EQ(format_timestamp(utc(2023, 8, 4, 12, 36, 15) * 1000 + 490),
            "2023-08-04T12:36:15.490+0000");
  EXPECT_EQ(format_reason_time(utc(2022, 4, 26, 3, 6)), "26/04/22 03:06:00");
}

}  // namespace
}  // namespace lambent::metrics
