#include "lambent/services/cloudwatch/metric_math.h"

#include <gtest/gtest.h>

#include <map>

namespace lambent::services::cloudwatch {
namespace {

class MetricMathTest : public ::testing::Test {
 protected:
  Result<TimeSeries> evaluate(std::string_view expression) {
    SeriesLookup lookup = [this](std::string_view id) -> Result<TimeSeries> {
      auto it = series_.find(std::string(id));
      if (it == series_.end()) return Error{Errc::not_found, "unknown", "InvalidParameterValue"};
      return it->second;
    };
    return evaluate_expression(expression, lookup, {"errors", "calls"});
  }

  std::map<std::string, TimeSeries> series_ = {
      {"errors", TimeSeries{{60, 120, 180}, {1, 0, 3}}},
      {"calls", TimeSeries{{0, 60, 120}, {10, 20, 0}}},
  };
};

TEST_F(MetricMathTest, ArithmeticJoinsOnTimestamps) {
  auto rate = evaluate("100 * errors / calls");
  ASSERT_TRUE(rate.ok()) << rate.error().message;
  // 180 has no calls, and 120 divides by zero, so only 60 remains.
  EXPECT_EQ(rate->timestamps_s, (std::vector<std::int64_t>{60}));
  EXPECT_EQ(rate->values, (std::vector<double>{5}));
}

TEST_F(MetricMathTest, PrecedenceParenthesesAndUnaryMinus) {
  auto value = evaluate("-(errors + 1) * 2 - 1");
  ASSERT_TRUE(value.ok()) << value.error().message;
  EXPECT_EQ(value->values, (std::vector<double>{-5, -3, -9}));
  auto absolute = evaluate("ABS(0 - calls)");
  ASSERT_TRUE(absolute.ok()) << absolute.error().message;
  EXPECT_EQ(absolute->values, (std::vector<double>{10, 20, 0}));
}

TEST_F(MetricMathTest, AggregatesAcrossSeries) {
  auto sum = evaluate("SUM(METRICS())");
  ASSERT_TRUE(sum.ok()) << sum.error().message;
  EXPECT_EQ(sum->timestamps_s, (std::vector<std::int64_t>{0, 60, 120, 180}));
  EXPECT_EQ(sum->values, (std::vector<double>{10, 21, 0, 3}));
  EXPECT_EQ(evaluate("MAX([errors, calls])").ok(), false);
  EXPECT_EQ(evaluate("MAX(errors, calls)")->values, (std::vector<double>{10, 20, 0, 3}));
  EXPECT_EQ(evaluate("MIN(errors, calls)")->values, (std::vector<double>{10, 1, 0, 3}));
  EXPECT_EQ(evaluate("AVG(METRICS(\"err\"))")->values, (std::vector<double>{1, 0, 3}));
}

TEST_F(MetricMathTest, RejectsWhatItCannotEvaluate) {
  for (const char* expression : {"errors +", "RATE(errors)", "SELECT AVG(x) FROM y", "5",
                                 "METRICS()", "errors $ calls", "(errors", "\"text"}) {
    auto value = evaluate(expression);
    ASSERT_FALSE(value.ok()) << expression;
    EXPECT_EQ(value.error().type, "InvalidParameterValue") << expression;
    EXPECT_NE(value.error().message.find("is not supported by Lambent's metric math"),
              std::string::npos)
        << expression;
  }
  auto unknown = evaluate("missing * 2");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown");
}

}  // namespace
}  // namespace lambent::services::cloudwatch
