#include "lambent/cli/report.h"

#include <gtest/gtest.h>

namespace lambent::cli {
namespace {

TEST(ParseDuration, AcceptsUnits) {
  EXPECT_EQ(parse_duration_seconds("90"), 90);
  EXPECT_EQ(parse_duration_seconds("90s"), 90);
  EXPECT_EQ(parse_duration_seconds("15m"), 900);
  EXPECT_EQ(parse_duration_seconds("24h"), 86400);
  EXPECT_EQ(parse_duration_seconds("7d"), 7 * 86400);
  EXPECT_EQ(parse_duration_seconds("2w"), 14 * 86400);
}

TEST(ParseDuration, RejectsOtherText) {
  for (const char* text :
       {"", "h", "0", "0h", "-5m", "1.5h", "10x", "1h30m", " 1h", "99999999999999999d"}) {
    EXPECT_EQ(parse_duration_seconds(text), std::nullopt) << text;
  }
}

TEST(FormatTable, AlignsColumns) {
  std::string table =
      format_table({{"NAME", "COUNT"}, {"a", "5"}, {"longer", "1234"}}, {false, true});
  EXPECT_EQ(table,
            "NAME    COUNT\n"
            "a           5\n"
            "longer   1234\n");
}

TEST(FormatTable, CountsUtf8Characters) {
  std::string table = format_table({{"é", "x"}, {"ab", "y"}}, {false, false});
  EXPECT_EQ(table,
            "é   x\n"
            "ab  y\n");
}

TEST(Downsample, CombinesNeighbours) {
  std::vector<std::optional<double>> values{1, 2, std::nullopt, 4, 5, std::nullopt, std::nullopt};
  std::size_t per_bucket = 0;
  auto sums = downsample(values, 3, Combine::sum, per_bucket);
  EXPECT_EQ(per_bucket, 3u);
  ASSERT_EQ(sums.size(), 3u);
  EXPECT_EQ(sums[0], 3);
  EXPECT_EQ(sums[1], 9);
  EXPECT_EQ(sums[2], std::nullopt);
  auto maxima = downsample(values, 3, Combine::max, per_bucket);
  EXPECT_EQ(maxima[0], 2);
  EXPECT_EQ(maxima[1], 5);
  auto means = downsample(values, 3, Combine::mean, per_bucket);
  EXPECT_EQ(means[0], 1.5);
  EXPECT_EQ(means[1], 4.5);
}

TEST(Downsample, KeepsShortSeries) {
  std::vector<std::optional<double>> values{1, std::nullopt, 3};
  std::size_t per_bucket = 0;
  auto out = downsample(values, 44, Combine::sum, per_bucket);
  EXPECT_EQ(per_bucket, 1u);
  EXPECT_EQ(out, values);
}

TEST(Sparkline, ScalesFromZeroToMaximum) {
  EXPECT_EQ(sparkline({0, 1, 2, 3, 4, 5, 6, 7}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(sparkline({7, std::nullopt, 0}), "█ ▁");
  EXPECT_EQ(sparkline({0, 0}), "▁▁");
  EXPECT_EQ(sparkline({5, 5}), "██");
  EXPECT_EQ(sparkline({}), "");
}

TEST(CompactNumber, StaysShort) {
  EXPECT_EQ(compact_number(0), "0");
  EXPECT_EQ(compact_number(42), "42");
  EXPECT_EQ(compact_number(999999), "999999");
  EXPECT_EQ(compact_number(1234567), "1.23M");
  EXPECT_EQ(compact_number(2.5e9), "2.5G");
  EXPECT_EQ(compact_number(12.345), "12.3");
  EXPECT_EQ(compact_number(1234.4), "1234");
  EXPECT_EQ(compact_number(0.1234), "0.123");
}

}  // namespace
}  // namespace lambent::cli
