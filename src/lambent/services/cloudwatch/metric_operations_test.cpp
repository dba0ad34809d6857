#include "lambent/metrics/metric_store.h"
#include "lambent/services/cloudwatch/operations.h"
#include "lambent/services/cloudwatch/protocol.h"
#include "lambent/store/sqlite.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>

namespace lambent::services::cloudwatch {
namespace {

namespace fs = std::filesystem;
using store::testing::run_task;

// 2026-12-05T06:00:00Z, an hour boundary.
constexpr std::int64_t kNowS = 1796450400;
constexpr std::int64_t kNowMs = kNowS * 1000;

std::string iso(std::int64_t epoch_s) {
  std::time_t t = epoch_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// The input of a JSON 1.0 request body.
Value json_input(const std::string& body) {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.headers.emplace_back("x-amz-target", "GraniteServiceVersion20100801.Op");
  request.body = body;
  auto call = decode_call(request, 1 << 24);
  EXPECT_TRUE(call.ok()) << call.error().message;
  return call.ok() ? call->input : Value::structure();
}

// The input of a query-protocol form body.
Value query_input(const std::string& form) {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.body = "Action=Op&" + form;
  auto call = decode_call(request, 1 << 24);
  EXPECT_TRUE(call.ok()) << call.error().message;
  return call.ok() ? call->input : Value::structure();
}

class MetricOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-cloudwatch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto db = store::Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<metrics::MetricStore>(*db_, io_.get_executor(),
                                                    metrics::MetricStoreOptions{});
    ASSERT_TRUE(store_->open().ok());
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  OperationContext context() {
    OperationContext out;
    out.store = store_.get();
    out.options = &options_;
    out.now_ms = kNowMs;
    return out;
  }

  Output run(Task<Output> (*operation)(OperationContext, const Value*), const Value& input) {
    return run_task(operation(context(), &input));
  }

  void put(const std::string& body) {
    auto output = run(&put_metric_data, json_input(body));
    ASSERT_TRUE(output.ok()) << output.error().message;
  }

  Error put_error(const std::string& body) {
    auto output = run(&put_metric_data, json_input(body));
    EXPECT_FALSE(output.ok()) << body;
    return output.ok() ? Error{} : output.error();
  }

  Value statistics(const std::string& body) {
    auto output = run(&get_metric_statistics, json_input(body));
    EXPECT_TRUE(output.ok()) << output.error().message;
    return output.ok() && *output ? **output : Value();
  }

  Error statistics_error(const std::string& body) {
    auto output = run(&get_metric_statistics, json_input(body));
    EXPECT_FALSE(output.ok()) << body;
    return output.ok() ? Error{} : output.error();
  }

  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<store::Sqlite> db_;
  std::unique_ptr<metrics::MetricStore> store_;
  CloudWatchOptions options_;
};

TEST_F(MetricOperationsTest, PutThenReadStatisticsExactly) {
  // 100 values 1..100 in the first minute, 3 values of 1000 in the second.
  std::string values;
  for (int i = 1; i <= 100; ++i) values += fmt::format("{}{}", i == 1 ? "" : ",", i);
  put(fmt::format(R"({{"Namespace":"App","MetricData":[
      {{"MetricName":"Latency","Unit":"Milliseconds","Timestamp":{},"Values":[{}],
        "Dimensions":[{{"Name":"Stage","Value":"prod"}}]}},
      {{"MetricName":"Latency","Unit":"Milliseconds","Timestamp":{},"Value":1000,
        "Dimensions":[{{"Name":"Stage","Value":"prod"}}]}},
      {{"MetricName":"Latency","Unit":"Milliseconds","Timestamp":{},"Values":[1000],"Counts":[2],
        "Dimensions":[{{"Name":"Stage","Value":"prod"}}]}}]}})",
                  kNowS - 600, values, kNowS - 540, kNowS - 530));

  Value output = statistics(fmt::format(
      R"({{"Namespace":"App","MetricName":"Latency","Dimensions":[{{"Name":"Stage","Value":"prod"}}],
          "StartTime":{},"EndTime":{},"Period":60,
          "Statistics":["Sum","SampleCount","Minimum","Maximum","Average"]}})",
      kNowS - 3600, kNowS));
  EXPECT_EQ(output.find("Label")->as_string(), "Latency");
  const auto& datapoints = output.find("Datapoints")->items();
  ASSERT_EQ(datapoints.size(), 2u);
  const Value& first = datapoints[0];
  EXPECT_EQ(first.find("Timestamp")->as_timestamp_ms(), (kNowS - 600) * 1000);
  EXPECT_EQ(first.find("Sum")->as_number(), 5050);
  EXPECT_EQ(first.find("SampleCount")->as_number(), 100);
  EXPECT_EQ(first.find("Minimum")->as_number(), 1);
  EXPECT_EQ(first.find("Maximum")->as_number(), 100);
  EXPECT_EQ(first.find("Average")->as_number(), 50.5);
  EXPECT_EQ(first.find("Unit")->as_string(), "Milliseconds");
  EXPECT_EQ(datapoints[1].find("Sum")->as_number(), 3000);
  EXPECT_EQ(datapoints[1].find("SampleCount")->as_number(), 3);

  Value percentiles = statistics(fmt::format(
      R"({{"Namespace":"App","MetricName":"Latency","Dimensions":[{{"Name":"Stage","Value":"prod"}}],
          "StartTime":{},"EndTime":{},"Period":60,"ExtendedStatistics":["p50","p90","p99.5"]}})",
      kNowS - 600, kNowS - 540));
  ASSERT_EQ(percentiles.find("Datapoints")->items().size(), 1u);
  const Value* extended = percentiles.find("Datapoints")->items()[0].find("ExtendedStatistics");
  ASSERT_NE(extended, nullptr);
  EXPECT_NEAR(extended->find("p50")->as_number(), 50, 0.5);
  EXPECT_NEAR(extended->find("p90")->as_number(), 90, 0.9);
  // The sketch returns a value within 1% of the value at that rank, here 99 or 100.
  EXPECT_GE(extended->find("p99.5")->as_number(), 99 * 0.99);
  EXPECT_LE(extended->find("p99.5")->as_number(), 100 * 1.01);
}

TEST_F(MetricOperationsTest, PercentileAvailability) {
  // As in CloudWatch, a statistic set of different values has no percentiles, one of equal
  // values keeps them, and a negative value takes them away.
  put(fmt::format(R"({{"Namespace":"App","MetricData":[
      {{"MetricName":"Set","Timestamp":{},
        "StatisticValues":{{"SampleCount":4,"Sum":10,"Minimum":1,"Maximum":4}}}},
      {{"MetricName":"Equal","Timestamp":{},
        "StatisticValues":{{"SampleCount":4,"Sum":10,"Minimum":2.5,"Maximum":2.5}}}},
      {{"MetricName":"Negative","Timestamp":{},"Values":[-1,5,6]}}]}})",
                  kNowS - 60, kNowS - 60, kNowS - 60));
  auto percentiles_of = [&](std::string name) {
    Value output = statistics(fmt::format(
        R"({{"Namespace":"App","MetricName":"{}","StartTime":{},"EndTime":{},"Period":300,
            "ExtendedStatistics":["p50"]}})",
        name, kNowS - 3600, kNowS));
    EXPECT_EQ(output.find("Datapoints")->items().size(), 1u) << name;
    if (output.find("Datapoints")->items().empty()) return Value();
    const Value& datapoint = output.find("Datapoints")->items()[0];
    EXPECT_EQ(datapoint.find("Unit")->as_string(), "None");
    return *datapoint.find("ExtendedStatistics");
  };
  EXPECT_EQ(percentiles_of("Set").members().size(), 0u);
  Value equal = percentiles_of("Equal");
  ASSERT_NE(equal.find("p50"), nullptr);
  EXPECT_EQ(equal.find("p50")->as_number(), 2.5);
  EXPECT_EQ(percentiles_of("Negative").members().size(), 0u);

  Value sums = statistics(fmt::format(
      R"({{"Namespace":"App","MetricName":"Equal","StartTime":{},"EndTime":{},"Period":300,
          "Statistics":["Sum","SampleCount"]}})",
      kNowS - 3600, kNowS));
  EXPECT_EQ(sums.find("Datapoints")->items()[0].find("Sum")->as_number(), 10);
  EXPECT_EQ(sums.find("Datapoints")->items()[0].find("SampleCount")->as_number(), 4);
}

TEST_F(MetricOperationsTest, QueryProtocolStringsConvert) {
  auto output =
      run(&put_metric_data, query_input(fmt::format("Namespace=Q&MetricData.member.1.MetricName=M&"
                                                    "MetricData.member.1.Value=2.5&"
                                                    "MetricData.member.1.Timestamp={}&"
                                                    "MetricData.member.1.StorageResolution=1",
                                                    iso(kNowS - 10))));
  ASSERT_TRUE(output.ok()) << output.error().message;
  auto read = run(&get_metric_statistics,
                  query_input(fmt::format("Namespace=Q&MetricName=M&StartTime={}&EndTime={}&"
                                          "Period=1&Statistics.member.1=Sum",
                                          iso(kNowS - 60), iso(kNowS))));
  ASSERT_TRUE(read.ok()) << read.error().message;
  const auto& datapoints = (*read)->find("Datapoints")->items();
  ASSERT_EQ(datapoints.size(), 1u);
  EXPECT_EQ(datapoints[0].find("Timestamp")->as_timestamp_ms(), (kNowS - 10) * 1000);
  EXPECT_EQ(datapoints[0].find("Sum")->as_number(), 2.5);
}

TEST_F(MetricOperationsTest, PutMetricDataValidation) {
  struct Case {
    std::string body;
    std::string code;
    std::string message;
  };
  std::string dims31;
  for (int i = 0; i < 31; ++i) {
    dims31 += fmt::format(R"({}{{"Name":"d{}","Value":"v"}})", i ? "," : "", i);
  }
  std::string values151;
  for (int i = 0; i < 151; ++i) values151 += fmt::format("{}{}", i ? "," : "", i);
  const std::vector<Case> cases = {
      {R"({"MetricData":[{"MetricName":"m","Value":1}]})", "MissingParameter",
       "The parameter Namespace is required."},
      {R"({"Namespace":"AWS/Lambda","MetricData":[{"MetricName":"m","Value":1}]})",
       "InvalidParameterValue", "The value AWS/Lambda for parameter Namespace is invalid."},
      {R"({"Namespace":":x","MetricData":[{"MetricName":"m","Value":1}]})", "InvalidParameterValue",
       "The value :x for parameter Namespace is invalid."},
      {R"({"Namespace":"App"})", "MissingParameter", "The parameter MetricData is required."},
      {R"({"Namespace":"App","MetricData":[{"Value":1}]})", "MissingParameter",
       "The parameter MetricData.member.1.MetricName is required."},
      {fmt::format(
           R"({{"Namespace":"App","MetricData":[{{"MetricName":"m","Value":1,"Timestamp":{}}}]}})",
           kNowS - 15 * 86400),
       "InvalidParameterValue",
       "The parameter MetricData.member.1.Timestamp must specify a time within the past two "
       "weeks."},
      {fmt::format(
           R"({{"Namespace":"App","MetricData":[{{"MetricName":"m","Value":1,"Timestamp":{}}}]}})",
           kNowS + 3 * 3600),
       "InvalidParameterValue",
       "The parameter MetricData.member.1.Timestamp must specify a time no more than two hours "
       "in the future."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1,"StorageResolution":5}]})",
       "InvalidParameterValue",
       "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ]."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1,
          "StatisticValues":{"SampleCount":1,"Sum":1,"Minimum":1,"Maximum":1}}]})",
       "InvalidParameterCombination",
       "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are "
       "mutually exclusive and you have specified both."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1,"Values":[1]}]})",
       "InvalidParameterCombination",
       "The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually "
       "exclusive and you have specified both."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Values":[1,2],"Counts":[1]}]})",
       "InvalidParameterValue",
       "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the "
       "same size."},
      {fmt::format(R"({{"Namespace":"App","MetricData":[{{"MetricName":"m","Values":[{}]}}]}})",
                   values151),
       "InvalidParameterValue",
       "The collection MetricData.member.1.Values must not have a size greater than 150."},
      {fmt::format(
           R"({{"Namespace":"App","MetricData":[{{"MetricName":"m","Value":1,"Dimensions":[{}]}}]}})",
           dims31),
       "InvalidParameterValue",
       "The collection MetricData.member.1.Dimensions must not have a size greater than 30."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1,"Unit":"Parsecs"}]})",
       "ValidationError", ""},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1e300,"Values":[]}]})",
       "InvalidParameterValue",
       "The value 1e+300 for parameter MetricData.member.1.Value is invalid."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","StatisticValues":
          {"SampleCount":1,"Sum":1,"Minimum":1}}]})",
       "MissingParameter",
       "The parameter MetricData.member.1.StatisticValues.Maximum is required."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m"}]})", "InvalidParameterCombination",
       "One of the parameters MetricData.member.1.Value, MetricData.member.1.Values and "
       "MetricData.member.1.StatisticValues must be specified."},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":1,
          "Dimensions":[{"Name":"a","Value":"1"},{"Name":"a","Value":"2"}]}]})",
       "InvalidParameterValue", ""},
      {R"({"Namespace":"App","MetricData":[{"MetricName":"m","Value":"x"}]})", "MalformedInput",
       "The value x for parameter MetricData.member.1.Value is not a valid number."},
  };
  for (const auto& c : cases) {
    Error error = put_error(c.body);
    EXPECT_EQ(error.type, c.code) << c.body;
    if (!c.message.empty()) {
      EXPECT_EQ(error.message, c.message) << c.body;
    }
  }

  // NaN arrives through the query protocol, which spells it out.
  auto nan = run(&put_metric_data, query_input("Namespace=App&MetricData.member.1.MetricName=m&"
                                               "MetricData.member.1.Value=NaN"));
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().message,
            "The value NaN for parameter MetricData.member.1.Value is invalid.");

  std::string many = R"({"Namespace":"App","MetricData":[)";
  for (int i = 0; i < 1001; ++i)
    many += fmt::format(R"({}{{"MetricName":"m","Value":1}})", i ? "," : "");
  many += "]}";
  EXPECT_EQ(put_error(many).message,
            "The collection MetricData must not have a size greater than 1000.");
}

TEST_F(MetricOperationsTest, GetMetricStatisticsValidation) {
  auto body = [](std::string extra, std::int64_t start, std::int64_t end) {
    return fmt::format(R"({{"Namespace":"App","MetricName":"m","StartTime":{},"EndTime":{}{}}})",
                       start, end, extra);
  };
  Error period = statistics_error(body(R"(,"Period":7,"Statistics":["Sum"])", kNowS - 60, kNowS));
  EXPECT_EQ(period.type, "InvalidParameterValue");
  EXPECT_EQ(period.message,
            "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60; 7 is not.");

  Error too_many =
      statistics_error(body(R"(,"Period":60,"Statistics":["Sum"])", kNowS - 86460, kNowS));
  EXPECT_EQ(too_many.type, "InvalidParameterCombination");
  EXPECT_EQ(too_many.message,
            "You have requested up to 1441 datapoints, which exceeds the limit of 1440. You may "
            "reduce the datapoints requested by increasing Period, or decreasing the time range.");
  // Exactly 1,440 is allowed.
  statistics(body(R"(,"Period":60,"Statistics":["Sum"])", kNowS - 86400, kNowS));

  Error neither = statistics_error(body(R"(,"Period":60)", kNowS - 60, kNowS));
  EXPECT_EQ(neither.type, "InvalidParameterCombination");
  Error both = statistics_error(
      body(R"(,"Period":60,"Statistics":["Sum"],"ExtendedStatistics":["p9"])", kNowS - 60, kNowS));
  EXPECT_EQ(both.type, "InvalidParameterCombination");
  Error bad_statistic =
      statistics_error(body(R"(,"Period":60,"Statistics":["Median"])", kNowS - 60, kNowS));
  EXPECT_EQ(bad_statistic.type, "ValidationError");
  Error bad_percentile =
      statistics_error(body(R"(,"Period":60,"ExtendedStatistics":["p101"])", kNowS - 60, kNowS));
  EXPECT_EQ(bad_percentile.type, "InvalidParameterValue");
  Error equal = statistics_error(body(R"(,"Period":60,"Statistics":["Sum"])", kNowS, kNowS));
  EXPECT_EQ(equal.message, "The parameter StartTime must not equal parameter EndTime.");
  Error reversed =
      statistics_error(body(R"(,"Period":60,"Statistics":["Sum"])", kNowS, kNowS - 60));
  EXPECT_EQ(reversed.message, "The parameter StartTime must be less than the parameter EndTime.");
  Error missing = statistics_error(R"({"Namespace":"App","MetricName":"m"})");
  EXPECT_EQ(missing.type, "MissingParameter");
  EXPECT_EQ(missing.message, "The parameter StartTime is required.");
}

TEST_F(MetricOperationsTest, GetMetricDataScansAndPages) {
  std::string data;
  for (int i = 0; i < 5; ++i) {
    data += fmt::format(R"({}{{"MetricName":"Hits","Value":{},"Timestamp":{}}})", i ? "," : "",
                        i + 1, kNowS - 300 + i * 60);
  }
  put(fmt::format(R"({{"Namespace":"App","MetricData":[{}]}})", data));

  std::string queries = R"("MetricDataQueries":[
      {"Id":"hits","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Hits"},"Period":60,"Stat":"Sum"}},
      {"Id":"labelled","Label":"Hit count","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Hits"},"Period":60,"Stat":"SampleCount"}},
      {"Id":"hidden","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"App","MetricName":"Hits"},"Period":60,"Stat":"Sum"}}])";
  auto full = run(&get_metric_data, json_input(fmt::format(R"({{{},"StartTime":{},"EndTime":{}}})",
                                                           queries, kNowS - 3600, kNowS)));
  ASSERT_TRUE(full.ok()) << full.error().message;
  const auto& results = (*full)->find("MetricDataResults")->items();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].find("Label")->as_string(), "Hits");
  EXPECT_EQ(results[1].find("Label")->as_string(), "Hit count");
  EXPECT_EQ(results[0].find("StatusCode")->as_string(), "Complete");
  // Newest first by default.
  const auto& values = results[0].find("Values")->items();
  ASSERT_EQ(values.size(), 5u);
  EXPECT_EQ(values[0].as_number(), 5);
  EXPECT_EQ(values[4].as_number(), 1);
  EXPECT_EQ(results[0].find("Timestamps")->items()[0].as_timestamp_ms(), (kNowS - 60) * 1000);
  EXPECT_EQ((*full)->find("NextToken"), nullptr);

  // Pages of 3 datapoints across the 10 returned datapoints, oldest first.
  std::vector<double> seen;
  std::optional<std::string> token;
  int pages = 0;
  do {
    std::string token_member = token ? fmt::format(R"(,"NextToken":"{}")", *token) : "";
    auto page = run(&get_metric_data,
                    json_input(fmt::format(R"({{{},"StartTime":{},"EndTime":{},"MaxDatapoints":3,
                                              "ScanBy":"TimestampAscending"{}}})",
                                           queries, kNowS - 3600, kNowS, token_member)));
    ASSERT_TRUE(page.ok()) << page.error().message;
    for (const auto& result : (*page)->find("MetricDataResults")->items()) {
      for (const auto& value : result.find("Values")->items()) seen.push_back(value.as_number());
    }
    const Value* next = (*page)->find("NextToken");
    token = next ? std::optional<std::string>(next->as_string()) : std::nullopt;
    ++pages;
  } while (token && pages < 10);
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(seen, (std::vector<double>{1, 2, 3, 4, 5, 1, 1, 1, 1, 1}));

  auto bad_token =
      run(&get_metric_data,
          json_input(fmt::format(R"({{{},"StartTime":{},"EndTime":{},"NextToken":"x"}})", queries,
                                 kNowS - 3600, kNowS)));
  ASSERT_FALSE(bad_token.ok());
  EXPECT_EQ(bad_token.error().type, "InvalidNextToken");
}

TEST_F(MetricOperationsTest, GetMetricDataExpressions) {
  put(fmt::format(R"js({{"Namespace":"App","MetricData":[
      {{"MetricName":"Calls","Value":10,"Timestamp":{}}},
      {{"MetricName":"Calls","Value":20,"Timestamp":{}}},
      {{"MetricName":"Errors","Value":1,"Timestamp":{}}},
      {{"MetricName":"Errors","Value":5,"Timestamp":{}}}]}})js",
                  kNowS - 120, kNowS - 60, kNowS - 120, kNowS - 60));
  std::string stats = R"js(
      {"Id":"calls","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"App",
       "MetricName":"Calls"},"Period":60,"Stat":"Sum"}},
      {"Id":"errors","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"App",
       "MetricName":"Errors"},"Period":60,"Stat":"Sum"}})js";
  std::string queries = stats + R"js(,
      {"Id":"rate","Expression":"100 * errors / calls"},
      {"Id":"total","Label":"All","Expression":"SUM(METRICS())"})js";
  auto output =
      run(&get_metric_data, json_input(fmt::format(R"js({{"MetricDataQueries":[{}],"StartTime":{},
                                              "EndTime":{},"ScanBy":"TimestampAscending"}})js",
                                                   queries, kNowS - 3600, kNowS)));
  ASSERT_TRUE(output.ok()) << output.error().message;
  const auto& results = (*output)->find("MetricDataResults")->items();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].find("Label")->as_string(), "rate");
  ASSERT_EQ(results[0].find("Values")->items().size(), 2u);
  EXPECT_EQ(results[0].find("Values")->items()[0].as_number(), 10);
  EXPECT_EQ(results[0].find("Values")->items()[1].as_number(), 25);
  EXPECT_EQ(results[1].find("Label")->as_string(), "All");
  EXPECT_EQ(results[1].find("Values")->items()[1].as_number(), 25);

  std::string cyclic = stats + R"js(,
      {"Id":"a","Expression":"b + 1"},{"Id":"b","Expression":"a * 2"})js";
  auto cycle =
      run(&get_metric_data,
          json_input(fmt::format(R"js({{"MetricDataQueries":[{}],"StartTime":{},"EndTime":{}}})js",
                                 cyclic, kNowS - 3600, kNowS)));
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.error().type, "InvalidParameterValue");
  EXPECT_NE(cycle.error().message.find("refers to itself"), std::string::npos);

  auto unknown =
      run(&get_metric_data, json_input(fmt::format(
                                R"js({{"MetricDataQueries":[{{"Id":"a","Expression":"nope * 2"}}],
                              "StartTime":{},"EndTime":{}}})js",
                                kNowS - 3600, kNowS)));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "An expression names nope, which is not the Id of a query in MetricDataQueries.");
}

TEST_F(MetricOperationsTest, GetMetricDataValidation) {
  auto error_of = [&](std::string queries) {
    auto output =
        run(&get_metric_data,
            json_input(fmt::format(R"({{"MetricDataQueries":[{}],"StartTime":{},"EndTime":{}}})",
                                   queries, kNowS - 3600, kNowS)));
    EXPECT_FALSE(output.ok()) << queries;
    return output.ok() ? Error{} : output.error();
  };
  EXPECT_EQ(error_of(R"json({"Id":"e","Expression":"SELECT AVG(m) FROM App"})json").type,
            "InvalidParameterValue");
  EXPECT_EQ(
      error_of(
          R"({"Id":"Upper","MetricStat":{"Metric":{"Namespace":"A","MetricName":"m"},"Period":60,"Stat":"Sum"}})")
          .type,
      "InvalidParameterValue");
  EXPECT_EQ(error_of(R"({"Id":"a"})").message,
            "The parameter MetricDataQueries.member.1.MetricStat is required.");
  EXPECT_EQ(
      error_of(
          R"({"Id":"a","MetricStat":{"Metric":{"Namespace":"A","MetricName":"m"},"Period":60,"Stat":"Median"}})")
          .type,
      "InvalidParameterValue");
  EXPECT_EQ(
      error_of(
          R"({"Id":"a","MetricStat":{"Metric":{"Namespace":"A","MetricName":"m"},"Period":60,"Stat":"Sum"}},
                       {"Id":"a","MetricStat":{"Metric":{"Namespace":"A","MetricName":"m"},"Period":60,"Stat":"Sum"}})")
          .type,
      "ValidationError");
}

TEST_F(MetricOperationsTest, ListMetricsFiltersAndPages) {
  std::string data;
  for (int i = 0; i < 501; ++i) {
    data += fmt::format(
        R"({}{{"MetricName":"Hits","Value":1,"Dimensions":[{{"Name":"Shard","Value":"{:04}"}}]}})",
        i ? "," : "", i);
  }
  put(fmt::format(R"({{"Namespace":"Paged","MetricData":[{}]}})", data));
  put(fmt::format(
      R"({{"Namespace":"Other","MetricData":[{{"MetricName":"Old","Value":1,"Timestamp":{}}}]}})",
      kNowS - 5 * 3600));

  auto first = run(&list_metrics, json_input(R"({"Namespace":"Paged"})"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ((*first)->find("Metrics")->items().size(), 500u);
  const Value* token = (*first)->find("NextToken");
  ASSERT_NE(token, nullptr);
  auto second = run(
      &list_metrics,
      json_input(fmt::format(R"({{"Namespace":"Paged","NextToken":"{}"}})", token->as_string())));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ((*second)->find("Metrics")->items().size(), 1u);
  EXPECT_EQ((*second)->find("NextToken"), nullptr);

  auto filtered =
      run(&list_metrics, json_input(R"({"Dimensions":[{"Name":"Shard","Value":"0007"}]})"));
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ((*filtered)->find("Metrics")->items().size(), 1u);
  const Value& metric = (*filtered)->find("Metrics")->items()[0];
  EXPECT_EQ(metric.find("Namespace")->as_string(), "Paged");
  EXPECT_EQ(metric.find("Dimensions")->items()[0].find("Value")->as_string(), "0007");

  auto all_other = run(&list_metrics, json_input(R"({"Namespace":"Other"})"));
  EXPECT_EQ((*all_other)->find("Metrics")->items().size(), 1u);
  auto recent = run(&list_metrics, json_input(R"({"Namespace":"Other","RecentlyActive":"PT3H"})"));
  EXPECT_EQ((*recent)->find("Metrics")->items().size(), 0u);

  auto bad = run(&list_metrics, json_input(R"({"RecentlyActive":"PT1H"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().type, "ValidationError");
  auto bad_token = run(&list_metrics, json_input(R"({"NextToken":"bm9wZQ=="})"));
  ASSERT_FALSE(bad_token.ok());
  EXPECT_EQ(bad_token.error().type, "InvalidParameterValue");
}

}  // namespace
}  // namespace lambent::services::cloudwatch
