#include "lambent/services/cloudwatch/alarm_input.h"

#include "lambent/services/cloudwatch/protocol.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

namespace lambent::services::cloudwatch {
namespace {

Value json_input(const std::string& body) {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.headers.emplace_back("x-amz-target", "GraniteServiceVersion20100801.PutMetricAlarm");
  request.body = body;
  auto call = decode_call(request, 1 << 20);
  EXPECT_TRUE(call.ok()) << call.error().message;
  return call.ok() ? call->input : Value::structure();
}

// A valid alarm with `extra` members appended; a member given twice takes the later value.
std::string alarm(const std::string& extra = "") {
  return fmt::format(
      R"({{"AlarmName":"errors","Namespace":"AWS/Lambda","MetricName":"Errors","Statistic":"Sum",
          "Period":60,"EvaluationPeriods":3,"Threshold":1,
          "ComparisonOperator":"GreaterThanOrEqualToThreshold"{}}})",
      extra.empty() ? "" : "," + extra);
}

Result<metrics::MetricAlarm> read(const std::string& body) {
  return read_metric_alarm(json_input(body), CloudWatchOptions{});
}

Error error_of(const std::string& body) {
  auto result = read(body);
  EXPECT_FALSE(result.ok()) << body;
  return result.ok() ? Error{} : result.error();
}

TEST(ReadMetricAlarm, MapsTheMetricFields) {
  auto result = read(alarm(R"("Dimensions":[{"Name":"FunctionName","Value":"f"}],
      "AlarmActions":["arn:aws:lambda:us-east-1:000000000000:function:notify:live"],
      "OKActions":["arn:aws:lambda:us-east-1:000000000000:function:notify"],
      "DatapointsToAlarm":2,"TreatMissingData":"breaching","Unit":"Count",
      "AlarmDescription":"too many","ActionsEnabled":false,"Tags":[{"Key":"team","Value":"core"}])"));
  ASSERT_TRUE(result.ok()) << result.error().message;
  const metrics::MetricAlarm& a = *result;
  EXPECT_EQ(a.name, "errors");
  EXPECT_EQ(a.metric.ns, "AWS/Lambda");
  EXPECT_EQ(a.metric.name, "Errors");
  ASSERT_EQ(a.metric.dimensions.size(), 1u);
  EXPECT_EQ(a.metric.dimensions[0].value, "f");
  EXPECT_EQ(a.statistic, "Sum");
  EXPECT_EQ(a.extended_statistic, "");
  EXPECT_EQ(a.period_s, 60);
  EXPECT_EQ(a.evaluation_periods, 3);
  EXPECT_EQ(a.datapoints_to_alarm, 2);
  EXPECT_EQ(a.threshold, 1);
  EXPECT_EQ(a.comparison_operator, "GreaterThanOrEqualToThreshold");
  EXPECT_EQ(a.treat_missing_data, "breaching");
  EXPECT_EQ(a.unit, "Count");
  EXPECT_EQ(a.description, "too many");
  EXPECT_FALSE(a.actions_enabled);
  EXPECT_EQ(a.alarm_actions,
            std::vector<std::string>{"arn:aws:lambda:us-east-1:000000000000:function:notify:live"});
  EXPECT_EQ(a.ok_actions.size(), 1u);
  ASSERT_EQ(a.tags.size(), 1u);
  EXPECT_EQ(a.tags[0].first, "team");
}

TEST(ReadMetricAlarm, DefaultsTreatMissingDataAndDatapoints) {
  auto result = read(alarm());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->treat_missing_data, "missing");
  EXPECT_EQ(result->datapoints_to_alarm, 0);
  EXPECT_TRUE(result->actions_enabled);
}

TEST(ReadMetricAlarm, MapsASingleMetricStatQuery) {
  auto result = read(R"({"AlarmName":"p","EvaluationPeriods":1,"Threshold":500,
      "ComparisonOperator":"GreaterThanThreshold","Metrics":[{"Id":"m","ReturnData":true,
      "MetricStat":{"Metric":{"Namespace":"App","MetricName":"Latency"},"Period":30,
      "Stat":"p99","Unit":"Milliseconds"}}]})");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->metric.name, "Latency");
  EXPECT_EQ(result->extended_statistic, "p99");
  EXPECT_EQ(result->statistic, "");
  EXPECT_EQ(result->period_s, 30);
  EXPECT_EQ(result->unit, "Milliseconds");
}

TEST(ReadMetricAlarm, RejectsWhatCloudWatchRejects) {
  struct Case {
    std::string body;
    std::string code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {alarm(R"("Period":45)"), "InvalidParameterValue",
       "The parameter Period must be 10, 20, 30, or a multiple of 60; 45 is not."},
      {alarm(R"("Period":3600,"EvaluationPeriods":25)"), "ValidationError",
       "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be "
       "<= 86400)"},
      {alarm(R"("DatapointsToAlarm":4)"), "ValidationError",
       "DatapointsToAlarm (4) must be less than or equal to EvaluationPeriods (3)."},
      {alarm(R"("ExtendedStatistic":"p90")"), "InvalidParameterCombination",
       "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have "
       "specified both."},
      {alarm(R"("Statistic":null)"), "InvalidParameterCombination",
       "One of the parameters Statistic and ExtendedStatistic must be specified."},
      {alarm(R"("Statistic":"Median")"), "ValidationError", ""},
      {alarm(R"("Statistic":null,"ExtendedStatistic":"tm99")"), "InvalidParameterValue",
       "The value tm99 for parameter ExtendedStatistic is not supported."},
      {alarm(R"("ComparisonOperator":"LessThanLowerThreshold")"), "InvalidParameterValue", ""},
      {alarm(R"("ComparisonOperator":"Above")"), "ValidationError", ""},
      {alarm(R"("TreatMissingData":"zero")"), "ValidationError",
       "Option zero is not supported. Supported options for parameter TreatMissingData are "
       "missing, ignore, breaching and notBreaching."},
      {alarm(R"("EvaluateLowSampleCountPercentile":"always")"), "ValidationError",
       "Option always is not supported. Supported options for parameter "
       "EvaluateLowSampleCountPercentile are evaluate and ignore."},
      {alarm(R"("Threshold":null)"), "MissingParameter", "The parameter Threshold is required."},
      {alarm(R"("EvaluationPeriods":null)"), "MissingParameter",
       "The parameter EvaluationPeriods is required."},
      {alarm(R"("Period":null)"), "MissingParameter", "The parameter Period is required."},
      {alarm(R"("ThresholdMetricId":"ad1")"), "InvalidParameterValue", ""},
      {alarm(R"("AlarmActions":["arn:aws:sns:eu-west-1:000000000000:alerts"])"),
       "InvalidParameterValue", ""},
      {alarm(R"("AlarmActions":["arn:aws:sns:us-east-1:000000000000:a/b"])"),
       "InvalidParameterValue", ""},
      {alarm(R"("AlarmActions":["arn:aws:automate:us-east-1:ec2:stop"])"),
       "InvalidParameterValue", ""},
      {alarm(R"("AlarmActions":["arn:aws:lambda:eu-west-1:000000000000:function:f"])"),
       "InvalidParameterValue", ""},
      {alarm(R"("AlarmActions":["arn:aws:lambda:us-east-1:000000000000:function:"])"),
       "InvalidParameterValue", ""},
      {alarm(R"("OKActions":["a","b","c","d","e","f"])"), "InvalidParameterValue",
       "The collection OKActions must not have a size greater than 5."},
      {alarm(
           R"("Metrics":[{"Id":"m","MetricStat":{"Metric":{"Namespace":"A","MetricName":"B"},"Period":60,"Stat":"Sum"}}])"),
       "InvalidParameterCombination", ""},
      {R"({"AlarmName":"m","EvaluationPeriods":1,"Threshold":1,"ComparisonOperator":"LessThanThreshold",
          "Metrics":[{"Id":"e","Expression":"m1*2"},{"Id":"m1","ReturnData":false,
          "MetricStat":{"Metric":{"Namespace":"A","MetricName":"B"},"Period":60,"Stat":"Sum"}}]})",
       "InvalidParameterValue", ""},
      {R"({"Namespace":"A"})", "MissingParameter", "The parameter AlarmName is required."},
  };
  for (const auto& c : cases) {
    Error error = error_of(c.body);
    EXPECT_EQ(error.type, c.code) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(error.message, c.message) << c.body;
    }
  }
}

TEST(MetricAlarmValue, ModelOrderWithoutUnsetFields) {
  auto result = read(alarm(R"("Statistic":null,"ExtendedStatistic":"p90")"));
  ASSERT_TRUE(result.ok()) << result.error().message;
  metrics::MetricAlarm a = *result;
  a.arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors";
  a.state_updated_ms = 1714564800000;
  Value value = metric_alarm_value(a);
  std::vector<std::string> names;
  for (const auto& [name, member] : value.members()) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "AlarmName", "AlarmArn", "ActionsEnabled", "OKActions", "AlarmActions",
                "InsufficientDataActions", "StateValue", "StateReason", "StateUpdatedTimestamp",
                "MetricName", "Namespace", "Dimensions", "Period", "EvaluationPeriods", "Threshold",
                "ComparisonOperator", "ExtendedStatistic", "TreatMissingData"}));
  EXPECT_EQ(value.find("StateValue")->as_string(), "INSUFFICIENT_DATA");
  EXPECT_EQ(value.find("StateUpdatedTimestamp")->as_timestamp_ms(), 1714564800000);
}

}  // namespace
}  // namespace lambent::services::cloudwatch
