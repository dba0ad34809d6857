#pragma once

#include "lambent/base/result.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A subset of CloudWatch metric math for GetMetricData Expression queries. It has numbers, the
// ids of other queries, + - * / with parentheses and unary minus, and ABS(x). METRICS() and
// METRICS("text") select MetricStat queries, and SUM, AVG, MIN and MAX combine the series of
// their arguments. Pure functions.
namespace lambent::services::cloudwatch {

// One time series: timestamps in epoch seconds, ascending, and a value for each.
struct TimeSeries {
  std::vector<std::int64_t> timestamps_s;
  std::vector<double> values;
};

// The series of the query with this id, or an error (unknown id, failed query).
using SeriesLookup = std::function<Result<TimeSeries>(std::string_view id)>;

// The ids of the MetricStat queries, in request order, for METRICS().
using MetricIds = std::vector<std::string>;

// Evaluates `expression` to one time series. Arithmetic between two series keeps the
// timestamps both have, and a division by zero leaves that timestamp out. SUM, AVG, MIN and
// MAX combine their series timestamp by timestamp. Fails with InvalidParameterValue naming the
// expression on a syntax error, an unknown function, or a result that is not one series.
Result<TimeSeries> evaluate_expression(std::string_view expression, const SeriesLookup& lookup,
                                       const MetricIds& metric_ids);

}  // namespace lambent::services::cloudwatch
