#pragma once

#include "lambent/base/result.h"
#include "lambent/metrics/metric_store.h"
#include "lambent/services/cloudwatch/input.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Validation shared by the metric and alarm operations: namespaces, metric and dimension
// names, units, periods and statistics, with the limits of the CloudWatch model and API
// reference.
namespace lambent::services::cloudwatch {

inline constexpr std::size_t kMaxDimensions = 30;

// Checks a namespace: 1 to 255 characters of A-Z a-z 0-9 . - _ / # : and space, not
// starting with a colon, with a non-space character. When `writing`, namespaces starting
// with "AWS/" are reserved for AWS's own metrics and rejected.
Status check_namespace(std::string_view ns, std::string_view path, bool writing);

// Checks a metric name: 1 to 255 characters, a non-space one among them, no control
// characters.
Status check_metric_name(std::string_view name, std::string_view path);

// Checks a unit against the StandardUnit enumeration.
Status check_unit(std::string_view unit, std::string_view path);

// Reads a Dimensions list (Name and Value, at most 30, names unique) and returns it sorted by
// name. Failures are kept in the reader.
std::optional<metrics::Dimensions> read_dimensions(Reader& reader, const Field& field);

// Checks the Period of GetMetricStatistics, GetMetricData and MetricStat: 1, 5, 10, 20, 30,
// or a multiple of 60 seconds.
Status check_query_period(std::int64_t period, std::string_view path);

// Parses a statistic name (Sum, Average, Minimum, Maximum, SampleCount) or percentile (p0 to
// p100, up to two decimals), failing with InvalidParameterValue naming the value and path.
Result<metrics::Statistic> read_statistic(std::string_view text, std::string_view path);

// True for the five simple statistics (not percentiles).
bool is_simple_statistic(std::string_view name);

}  // namespace lambent::services::cloudwatch
