#include "lambent/base/utf8.h"

#include <gtest/gtest.h>

namespace lambent {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii\t\n"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF"));
}

TEST(Utf8, RejectsInvalidSequences) {
  for (std::string_view bad : {"\xFF", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                               "\xF4\x90\x80\x80", "\xC3", "\xE2\x82", "a\x80"}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(bad);
  }
}

TEST(Utf8, ReplacesInvalidBytes) {
  EXPECT_EQ(to_valid_utf8("bad \xFF\xFE end"), "bad \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_EQ(to_valid_utf8("x\xC0\xAFy"), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
  EXPECT_EQ(to_valid_utf8("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(Utf8, XmlModeReplacesForbiddenCodePoints) {
  std::string out;
  append_valid_utf8(out, "a\x01" "b\xEF\xBF\xBF" "c\td\xEF\xBF\xBE", true);
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\td\xEF\xBF\xBD");
}

TEST(Utf8, PrefixDoesNotSplitSequences) {
  EXPECT_EQ(utf8_prefix("ab\xC3\xA9", 3), "ab");
  EXPECT_EQ(utf8_prefix("ab\xC3\xA9", 4), "ab\xC3\xA9");
  EXPECT_EQ(utf8_prefix("\xF0\x9F\x98\x80x", 2), "");
}

}  // namespace
}  // namespace lambent
