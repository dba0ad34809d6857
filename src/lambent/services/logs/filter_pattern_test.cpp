#include "lambent/services/logs/filter_pattern.h"

#include <gtest/gtest.h>

namespace lambent::services::logs {
namespace {

FilterPattern parse(std::string_view text) {
  auto parsed = parse_filter_pattern(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : FilterPattern();
}

std::string error_of(std::string_view text) {
  auto parsed = parse_filter_pattern(text);
  EXPECT_FALSE(parsed.ok()) << text;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.error().code, Errc::invalid_parameter);
  return parsed.error().message;
}

TEST(FilterPattern, EmptyMatchesEverything) {
  for (std::string_view text : {"", "   ", "\t \n"}) {
    FilterPattern pattern = parse(text);
    EXPECT_TRUE(pattern.matches_everything()) << "'" << text << "'";
    EXPECT_TRUE(pattern.matches(""));
    EXPECT_TRUE(pattern.matches("anything at all"));
  }
}

TEST(FilterPattern, SingleTermIsCaseSensitiveSubstring) {
  FilterPattern pattern = parse("ERROR");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{"ERROR"});
  EXPECT_TRUE(pattern.matches("[ERROR 400] BAD REQUEST"));
  EXPECT_TRUE(pattern.matches("xERRORx"));
  EXPECT_FALSE(pattern.matches("[error 400] bad request"));
  EXPECT_FALSE(pattern.matches("ERRO"));
}

TEST(FilterPattern, AllPlainTermsMustMatch) {
  FilterPattern pattern = parse("ERROR  timeout");
  EXPECT_EQ(pattern.required(), (std::vector<std::string>{"ERROR", "timeout"}));
  EXPECT_TRUE(pattern.matches("timeout after ERROR"));
  EXPECT_FALSE(pattern.matches("ERROR only"));
  EXPECT_FALSE(pattern.matches("timeout only"));
}

TEST(FilterPattern, QuotedPhraseMatchesExactly) {
  FilterPattern pattern = parse("\"Task timed out\"");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{"Task timed out"});
  EXPECT_TRUE(pattern.matches("2024-01-01 abc Task timed out after 3.00 seconds"));
  EXPECT_FALSE(pattern.matches("Task has timed out"));
}

TEST(FilterPattern, QuotedTermKeepsPunctuation) {
  FilterPattern pattern = parse("\"RequestId: 8a1c-22\" REPORT");
  EXPECT_EQ(pattern.required(), (std::vector<std::string>{"RequestId: 8a1c-22", "REPORT"}));
  EXPECT_TRUE(pattern.matches("REPORT RequestId: 8a1c-22\tDuration: 1 ms"));
  EXPECT_FALSE(pattern.matches("REPORT RequestId: 8a1c-23"));
}

TEST(FilterPattern, QuotedEscapes) {
  FilterPattern pattern = parse(R"("say \"hi\" \\ bye")");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{R"(say "hi" \ bye)"});
  EXPECT_TRUE(pattern.matches(R"(they say "hi" \ bye now)"));
}

TEST(FilterPattern, UnquotedTermWithPunctuationIsLiteral) {
  FilterPattern pattern = parse("order-item-1");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{"order-item-1"});
  EXPECT_TRUE(pattern.matches("processing order-item-1 now"));
  EXPECT_FALSE(pattern.matches("processing order item 1"));
}

TEST(FilterPattern, MinusExcludes) {
  FilterPattern pattern = parse("ERROR -retry");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{"ERROR"});
  EXPECT_EQ(pattern.excluded(), std::vector<std::string>{"retry"});
  EXPECT_TRUE(pattern.matches("ERROR final"));
  EXPECT_FALSE(pattern.matches("ERROR will retry"));
  EXPECT_FALSE(pattern.matches("all fine"));
}

TEST(FilterPattern, ExclusionAloneMatchesTheRest) {
  FilterPattern pattern = parse("-\"START RequestId\"");
  EXPECT_EQ(pattern.excluded(), std::vector<std::string>{"START RequestId"});
  EXPECT_FALSE(pattern.matches("START RequestId: abc Version: $LATEST"));
  EXPECT_TRUE(pattern.matches("hello"));
}

TEST(FilterPattern, QuestionMarkTermsAreAlternatives) {
  FilterPattern pattern = parse("?ERROR ?WARN");
  EXPECT_EQ(pattern.any_of(), (std::vector<std::string>{"ERROR", "WARN"}));
  EXPECT_TRUE(pattern.matches("WARN disk"));
  EXPECT_TRUE(pattern.matches("ERROR disk"));
  EXPECT_FALSE(pattern.matches("INFO disk"));
}

TEST(FilterPattern, AlternativesCombineWithRequiredAndExcluded) {
  FilterPattern pattern = parse("disk ?ERROR ?WARN -ignored");
  EXPECT_TRUE(pattern.matches("disk ERROR"));
  EXPECT_TRUE(pattern.matches("WARN disk"));
  EXPECT_FALSE(pattern.matches("ERROR net"));
  EXPECT_FALSE(pattern.matches("disk INFO"));
  EXPECT_FALSE(pattern.matches("disk ERROR ignored"));
}

TEST(FilterPattern, RejectsJsonPattern) {
  EXPECT_EQ(error_of("{ $.level = \"ERROR\" }"),
            "Invalid filter pattern: JSON filter patterns ({ $.field = value }) are not "
            "supported; use terms, \"quoted phrases\", -term and ?term");
}

TEST(FilterPattern, RejectsSpaceDelimitedPattern) {
  EXPECT_EQ(error_of("[ip, user, status = 404]"),
            "Invalid filter pattern: space-delimited filter patterns ([w1, w2, ...]) are not "
            "supported; use terms, \"quoted phrases\", -term and ?term");
}

TEST(FilterPattern, RejectsRegexPattern) {
  EXPECT_NE(error_of("%ERROR|WARN%").find("regular expression filter patterns"), std::string::npos);
}

TEST(FilterPattern, RejectsMalformedTerms) {
  EXPECT_EQ(error_of("\"never closed"),
            "Invalid filter pattern: the quoted term that starts at position 1 has no closing "
            "quote");
  EXPECT_EQ(error_of("ok -"),
            "Invalid filter pattern: '-' at position 4 must be followed by a term");
  EXPECT_EQ(error_of("? x"),
            "Invalid filter pattern: '?' at position 1 must be followed by a term");
  EXPECT_EQ(error_of("a \"\""), "Invalid filter pattern: the quoted term at position 3 is empty");
  EXPECT_EQ(error_of("\"a\"b"),
            "Invalid filter pattern: the quoted term that starts at position 1 must be followed "
            "by a space");
  EXPECT_EQ(error_of("ab\"c\""),
            "Invalid filter pattern: the quote at position 3 is inside a term; quote the whole "
            "term instead");
}

TEST(FilterPattern, LeadingMinusInsideQuotesIsLiteral) {
  FilterPattern pattern = parse("\"-x\"");
  EXPECT_EQ(pattern.required(), std::vector<std::string>{"-x"});
  EXPECT_TRUE(pattern.matches("value -x set"));
  EXPECT_FALSE(pattern.matches("value x set"));
}

}  // namespace
}  // namespace lambent::services::logs
