#include "lambent/services/cloudwatch/timestamps.h"

#include <gtest/gtest.h>

namespace lambent::services::cloudwatch {
namespace {

TEST(Timestamps, ParsesTheFormsClientsSend) {
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00Z"), 1714564800000);
  // botocore's microsecond form; the fraction past milliseconds is dropped.
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00.250999Z"), 1714564800250);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T14:00:00+02:00"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T11:30:00-0030"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("2024-05-01T12:00:00"), 1714564800000);
  EXPECT_EQ(parse_iso8601_ms("1969-12-31T23:59:59Z"), -1000);
}

TEST(Timestamps, RejectsOtherText) {
  for (const char* text :
       {"", "2024-05-01", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00Q", "2024-05-01T12:00:00+2", "1714564800"}) {
    EXPECT_EQ(parse_iso8601_ms(text), std::nullopt) << text;
  }
}

TEST(Timestamps, FormatsWithMilliseconds) {
  EXPECT_EQ(format_iso8601_ms(1714564800250), "2024-05-01T12:00:00.250Z");
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace lambent::services::cloudwatch
