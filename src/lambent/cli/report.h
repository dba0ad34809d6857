#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Text helpers of the `cost` and `metrics` commands: durations on the command line, aligned
// tables and sparklines.
namespace lambent::cli {

// Seconds of a duration such as "90", "90s", "15m", "24h", "7d" or "2w": a positive whole number
// with an optional unit (s, m, h, d, w). nullopt when the text is anything else or overflows.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

// Lays out rows as columns separated by two spaces, each as wide as its widest cell (counted
// in UTF-8 characters). Columns whose `right_aligned` entry is true are right-aligned. Each
// line ends with '\n' and has no trailing spaces.
std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned);

// The rule that merges the values of neighbouring periods when a sparkline has fewer
// characters than periods.
enum class Combine { sum, mean, max };

// Groups `values` into at most `width` buckets of equal length (the last may be shorter),
// merged with `combine`. A bucket without any value stays empty. Returns the buckets and
// sets `per_bucket` to the number of values in each.
std::vector<std::optional<double>> downsample(const std::vector<std::optional<double>>& values,
                                              std::size_t width, Combine combine,
                                              std::size_t& per_bucket);

// One character per value: the eight block elements U+2581 to U+2588 scaled from
// min(0, smallest value) to the largest value, and a space for a missing value.
std::string sparkline(const std::vector<std::optional<double>>& values);

// A value in at most about six characters: whole numbers below a million as they are, others
// with three significant digits, and k, M or G for thousands, millions and billions.
std::string compact_number(double value);

}  // namespace lambent::cli
