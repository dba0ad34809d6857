#include "lambent/http/message.h"

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <string>

namespace lambent::http {
namespace {

std::string decoded(std::string_view in) {
  std::string out = "sentinel";
  EXPECT_TRUE(percent_decode(in, out)) << "input '" << in << "'";
  return out;
}

TEST(PercentDecode, DecodesValidEscapes) {
  EXPECT_EQ(decoded(""), "");
  EXPECT_EQ(decoded("plain-text_1.2~"), "plain-text_1.2~");
  EXPECT_EQ(decoded("a%20b"), "a b");
  EXPECT_EQ(decoded("%41%42%43"), "ABC");
  EXPECT_EQ(decoded("%2f%2F"), "//");  // both hex cases
  EXPECT_EQ(decoded("arn%3Aaws%3Alambda"), "arn:aws:lambda");
  EXPECT_EQ(decoded("%24LATEST"), "$LATEST");
  EXPECT_EQ(decoded("%00"), std::string(1, '\0'));
  EXPECT_EQ(decoded("%C3%A9"), "\xc3\xa9");
  EXPECT_EQ(decoded("%FF"), "\xff");
  EXPECT_EQ(decoded("%2525"), "%25");  // decodes once only
}

TEST(PercentDecode, KeepsPlusAsPlus) { EXPECT_EQ(decoded("a+b"), "a+b"); }

TEST(PercentDecode, EscapeAtEndOfInput) {
  EXPECT_EQ(decoded("abc%41"), "abcA");
  EXPECT_EQ(decoded("%41"), "A");
}

TEST(PercentDecode, RejectsMalformedEscape) {
  for (const char* text : {"%zz", "%g0", "%0g", "a%-1b", "%%41", "% 41"}) {
    std::string out;
    EXPECT_FALSE(percent_decode(text, out)) << "input '" << text << "'";
  }
}

TEST(PercentDecode, RejectsTruncatedEscape) {
  for (const char* text : {"%", "%4", "abc%", "abc%4"}) {
    std::string out;
    EXPECT_FALSE(percent_decode(text, out)) << "input '" << text << "'";
  }
}

TEST(PercentEncode, LeavesUnreservedSetAlone) {
  const std::string unreserved =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  EXPECT_EQ(percent_encode(unreserved), unreserved);
}

TEST(PercentEncode, EncodesEverythingElseUppercase) {
  EXPECT_EQ(percent_encode(" "), "%20");
  EXPECT_EQ(percent_encode("+"), "%2B");
  EXPECT_EQ(percent_encode("a/b:c"), "a%2Fb%3Ac");
  EXPECT_EQ(percent_encode("$LATEST"), "%24LATEST");
  EXPECT_EQ(percent_encode("%"), "%25");
  EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_encode(std::string(1, '\0')), "%00");
  EXPECT_EQ(percent_encode("\x7f\xff"), "%7F%FF");
  // Every reserved and otherwise special ASCII character is escaped.
  for (char c : std::string("!#$&'()*+,/:;=?@[]\"<>\\^`{|} ")) {
    std::string encoded = percent_encode(std::string(1, c));
    EXPECT_EQ(encoded.size(), 3u) << "character '" << c << "'";
    EXPECT_EQ(encoded[0], '%') << "character '" << c << "'";
  }
}

TEST(PercentEncode, RoundTripsThroughDecode) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string out;
  ASSERT_TRUE(percent_decode(percent_encode(all), out));
  EXPECT_EQ(out, all);
}

TEST(QueryParam, FindsPresentKey) {
  auto v = query_param("Qualifier=prod&Marker=abc", "Marker");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "abc");
  v = query_param("Qualifier=prod&Marker=abc", "Qualifier");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "prod");
}

TEST(QueryParam, AbsentKeyIsNotFound) {
  for (const char* query : {"", "Marker=prod", "Qualifierx=1", "xQualifier=1", "&&"}) {
    auto v = query_param(query, "Qualifier");
    EXPECT_FALSE(v.found) << "query '" << query << "'";
    EXPECT_EQ(v.value, "") << "query '" << query << "'";
  }
  // Keys compare case-sensitively.
  EXPECT_FALSE(query_param("qualifier=1", "Qualifier").found);
}

TEST(QueryParam, EmptyValueIsFound) {
  auto with_equals = query_param("Marker=&MaxItems=5", "Marker");
  EXPECT_TRUE(with_equals.found);
  EXPECT_EQ(with_equals.value, "");
  auto bare = query_param("Marker&MaxItems=5", "Marker");
  EXPECT_TRUE(bare.found);
  EXPECT_EQ(bare.value, "");
}

TEST(QueryParam, DecodesKeyAndValue) {
  auto v = query_param("Qualif%69er=%24LATEST", "Qualifier");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "$LATEST");
  v = query_param("FunctionVersion=ALL&Marker=a%2Fb%3Dc", "Marker");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "a/b=c");
  // '+' is not a space in these queries.
  v = query_param("q=a+b", "q");
  EXPECT_EQ(v.value, "a+b");
  // Only the first '=' separates key from value.
  v = query_param("q=a=b", "q");
  EXPECT_EQ(v.value, "a=b");
}

TEST(QueryParam, RepeatedKeyReturnsFirst) {
  auto v = query_param("Qualifier=1&Qualifier=2&Qualifier=3", "Qualifier");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "1");
}

TEST(QueryParam, MalformedValueIsKeptRaw) {
  auto v = query_param("q=%zz", "q");
  EXPECT_TRUE(v.found);
  EXPECT_EQ(v.value, "%zz");
}

TEST(Request, SplitsPathAndQuery) {
  Request r;
  r.target = "/2015-03-31/functions/fn/invocations?Qualifier=%24LATEST";
  EXPECT_EQ(r.path(), "/2015-03-31/functions/fn/invocations");
  EXPECT_EQ(r.query(), "Qualifier=%24LATEST");
  r.target = "/plain";
  EXPECT_EQ(r.path(), "/plain");
  EXPECT_EQ(r.query(), "");
}

TEST(Request, HeaderReturnsFirstMatch) {
  Request r;
  r.headers = {{"x-a", "1"}, {"x-b", "2"}, {"x-a", "3"}};
  EXPECT_EQ(r.header("x-a"), "1");
  EXPECT_EQ(r.header("x-b"), "2");
  EXPECT_EQ(r.header("x-c"), "");
  EXPECT_TRUE(r.has_header("x-b"));
  EXPECT_FALSE(r.has_header("x-c"));
  EXPECT_FALSE(r.has_header("X-A"));  // lookups take lowercase names
}

TEST(StringBodyReader, ReadsInPiecesThenZero) {
  asio::io_context io;
  std::string body = "hello, world";
  StringBodyReader reader(body);
  std::string out;
  auto drain = [&]() -> Task<void> {
    char buffer[5];
    for (;;) {
      auto count = co_await reader.read(buffer);
      EXPECT_TRUE(count.ok());
      if (*count == 0) break;
      out.append(buffer, *count);
    }
  };
  asio::co_spawn(io, drain(), asio::detached);
  io.run();
  EXPECT_EQ(out, body);
  EXPECT_EQ(reader.consumed(), body.size());
}

TEST(FormDecode, TurnsPlusIntoSpace) {
  std::string out;
  ASSERT_TRUE(form_decode("a+b%2Bc%2f", out));
  EXPECT_EQ(out, "a b+c/");
  ASSERT_TRUE(form_decode("%41", out));
  EXPECT_EQ(out, "A");
  EXPECT_FALSE(form_decode("bad%2", out));
  EXPECT_FALSE(form_decode("bad%zz", out));
}

TEST(XmlEscape, EscapesMarkupAndReplacesForbiddenCharacters) {
  std::string out = "<a>";
  append_xml_escaped(out, "x & <y> \"q\" 'r'\r\n");
  EXPECT_EQ(out, "<a>x &amp; &lt;y&gt; &quot;q&quot; &apos;r&apos;&#xD;\n");
  out.clear();
  append_xml_escaped(out, std::string_view("\x01\xff", 2));
  EXPECT_EQ(out, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace lambent::http
