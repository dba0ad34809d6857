#include "lambent/metrics/alarm_messages.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace lambent::metrics {
namespace {

namespace json = boost::json;

MetricAlarm errors_alarm() {
  MetricAlarm alarm;
  alarm.name = "errors";
  alarm.arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors";
  alarm.alarm_actions = {"arn:aws:sns:us-east-1:000000000000:pager"};
  alarm.metric.ns = "AWS/Lambda";
  alarm.metric.name = "Errors";
  alarm.metric.dimensions = {{"FunctionName", "worker"}};
  alarm.statistic = "Sum";
  alarm.period_s = 60;
  alarm.evaluation_periods = 3;
  alarm.datapoints_to_alarm = 2;
  alarm.threshold = 1;
  alarm.comparison_operator = "GreaterThanOrEqualToThreshold";
  alarm.state = AlarmState::alarm;
  alarm.state_reason = "Threshold Crossed";
  alarm.state_updated_ms = 1764892800123;
  alarm.configuration_updated_ms = 1764892700000;
  return alarm;
}

TEST(SnsAlarmNotification, HasAwsFieldsAndSubject) {
  AlarmStateSnapshot previous{AlarmState::ok, "fine", "", 1764892000000};
  auto notification = sns_alarm_notification(errors_alarm(), previous, AlarmOptions{});
  EXPECT_EQ(notification.subject, "ALARM: \"errors\" in US East (N. Virginia)");
  json::object message = json::parse(notification.message).as_object();
  EXPECT_EQ(message.at("AlarmName"), "errors");
  EXPECT_TRUE(message.at("AlarmDescription").is_null());
  EXPECT_EQ(message.at("AWSAccountId"), "000000000000");
  EXPECT_EQ(message.at("NewStateValue"), "ALARM");
  EXPECT_EQ(message.at("OldStateValue"), "OK");
  EXPECT_EQ(message.at("NewStateReason"), "Threshold Crossed");
  EXPECT_EQ(message.at("StateChangeTime"), "2025-12-05T00:00:00.123+0000");
  EXPECT_EQ(message.at("Region"), "US East (N. Virginia)");
  EXPECT_EQ(message.at("AlarmActions").as_array().size(), 1u);
  const auto& trigger = message.at("Trigger").as_object();
  EXPECT_EQ(trigger.at("StatisticType"), "Statistic");
  EXPECT_EQ(trigger.at("Statistic"), "SUM");
  EXPECT_EQ(trigger.at("DatapointsToAlarm"), 2);
  EXPECT_EQ(trigger.at("Dimensions").at(0).at("name"), "FunctionName");
  EXPECT_EQ(trigger.at("Dimensions").at(0).at("value"), "worker");
  EXPECT_EQ(trigger.at("Threshold"), 1.0);
}

TEST(SnsAlarmNotification, PercentileAlarmsAndLongNames) {
  MetricAlarm alarm = errors_alarm();
  alarm.statistic.clear();
  alarm.extended_statistic = "p99";
  alarm.name = std::string(120, 'x');
  alarm.state = AlarmState::insufficient_data;
  auto notification =
      sns_alarm_notification(alarm, AlarmStateSnapshot::of(errors_alarm()), AlarmOptions{});
  EXPECT_EQ(notification.subject.size(), 100u);
  EXPECT_TRUE(notification.subject.starts_with("INSUFFICIENT_DATA: \"xxx"));
  json::object message = json::parse(notification.message).as_object();
  EXPECT_EQ(message.at("Trigger").at("StatisticType"), "ExtendedStatistic");
  EXPECT_EQ(message.at("Trigger").at("ExtendedStatistic"), "p99");
  EXPECT_EQ(message.at("OldStateValue"), "ALARM");
}

}  // namespace
}  // namespace lambent::metrics
