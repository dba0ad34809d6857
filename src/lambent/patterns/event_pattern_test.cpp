#include "lambent/patterns/event_pattern.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <utility>
#include <vector>

namespace lambent::patterns {
namespace {
namespace json = boost::json;

EventPattern must_parse(std::string_view text, Dialect dialect = Dialect::eventbridge) {
  auto pattern = EventPattern::parse(text, dialect);
  if (!pattern.ok()) {
    ADD_FAILURE() << text << ": " << pattern.error().message;
    return EventPattern();
  }
  return std::move(*pattern);
}

bool matches(std::string_view pattern, std::string_view event,
             Dialect dialect = Dialect::eventbridge) {
  return must_parse(pattern, dialect).matches(json::parse(event));
}

Error error_of(std::string_view text, Dialect dialect = Dialect::eventbridge) {
  auto pattern = EventPattern::parse(text, dialect);
  if (pattern.ok()) {
    ADD_FAILURE() << "accepted: " << text;
    return Error{Errc::internal, ""};
  }
  EXPECT_EQ(pattern.error().code, Errc::invalid_parameter) << text;
  return pattern.error();
}

std::string reason_of(std::string_view text, Dialect dialect = Dialect::eventbridge) {
  std::string message = error_of(text, dialect).message;
  constexpr std::string_view kPrefix = "Event pattern is not valid. Reason: ";
  EXPECT_EQ(message.substr(0, kPrefix.size()), kPrefix) << message;
  return message.substr(std::min(message.size(), kPrefix.size()));
}

// ---- EventBridge matching ---------------------------------------------------------------------

TEST(EventPattern, ExactStringsAreOred) {
  const char* pattern = R"({"source": ["aws.ec2", "aws.s3"]})";
  EXPECT_TRUE(matches(pattern, R"({"source": "aws.ec2"})"));
  EXPECT_TRUE(matches(pattern, R"({"source": "aws.s3"})"));
  EXPECT_FALSE(matches(pattern, R"({"source": "aws.EC2"})"));
  EXPECT_FALSE(matches(pattern, R"({"other": "aws.ec2"})"));
}

TEST(EventPattern, FieldsAreAnded) {
  const char* pattern = R"({"source": ["a"], "detail": {"state": ["on"]}})";
  EXPECT_TRUE(matches(pattern, R"({"source": "a", "detail": {"state": "on", "x": 1}})"));
  EXPECT_FALSE(matches(pattern, R"({"source": "a", "detail": {"state": "off"}})"));
  EXPECT_FALSE(matches(pattern, R"({"source": "b", "detail": {"state": "on"}})"));
}

TEST(EventPattern, EventArrayMatchesAnyElement) {
  const char* pattern = R"({"resources": ["arn:b"]})";
  EXPECT_TRUE(matches(pattern, R"({"resources": ["arn:a", "arn:b"]})"));
  EXPECT_FALSE(matches(pattern, R"({"resources": ["arn:a"]})"));
  EXPECT_FALSE(matches(pattern, R"({"resources": []})"));
  EXPECT_TRUE(matches(R"({"items": {"id": ["7"]}})", R"({"items": [{"id": "1"}, {"id": "7"}]})"));
  EXPECT_TRUE(matches(pattern, R"({"resources": [["arn:b"]]})"));
}

TEST(EventPattern, FieldsMatchInTheSameArrayElement) {
  const char* pattern = R"({"a": {"b": [1], "c": [2]}})";
  EXPECT_TRUE(matches(pattern, R"({"a": [{"b": 1, "c": 2}]})"));
  EXPECT_FALSE(matches(pattern, R"({"a": [{"b": 1}, {"c": 2}]})"));
  EXPECT_FALSE(matches(pattern, R"({"a": [{"b": 1, "c": 3}, {"b": 5, "c": 2}]})"));
  // The first element whose b matches is not the one whose c matches.
  EXPECT_TRUE(matches(pattern, R"({"a": [{"b": 1, "c": 9}, {"b": 1, "c": 2}]})"));
  EXPECT_TRUE(matches(R"({"a.b": [1], "a.c": [2]})", R"({"a": [{"c": 2}, {"b": 1, "c": 2}]})"));
  EXPECT_FALSE(matches(R"({"a.b": [1], "a.c": [2]})", R"({"a": [{"c": 2}, {"b": 1}]})"));
}

TEST(EventPattern, DifferentArraysMatchIndependently) {
  const char* pattern = R"({"x": {"b": [1]}, "y": {"c": [2]}})";
  EXPECT_TRUE(matches(pattern, R"({"x": [{"b": 0}, {"b": 1}], "y": [{"c": 2}, {"c": 0}]})"));
  const char* nested = R"({"a": {"list": {"v": ["p"]}, "w": ["q"]}})";
  EXPECT_TRUE(matches(nested, R"({"a": [{"w": "q", "list": [{"v": "z"}, {"v": "p"}]}]})"));
  EXPECT_FALSE(matches(nested, R"({"a": [{"w": "q"}, {"list": [{"v": "p"}]}]})"));
}

TEST(EventPattern, OrAlternativesShareArrayElements) {
  const char* pattern = R"({"a": {"b": [1], "$or": [{"c": [2]}, {"d": [3]}]}})";
  EXPECT_TRUE(matches(pattern, R"({"a": [{"b": 1, "d": 3}]})"));
  EXPECT_FALSE(matches(pattern, R"({"a": [{"b": 1}, {"d": 3}]})"));
  EXPECT_TRUE(matches(pattern, R"({"a": [{"b": 1}, {"b": 1, "c": 2}]})"));
}

TEST(EventPattern, NumbersCompareByValue) {
  const char* pattern = R"({"n": [300]})";
  EXPECT_TRUE(matches(pattern, R"({"n": 300})"));
  EXPECT_TRUE(matches(pattern, R"({"n": 300.0})"));
  EXPECT_TRUE(matches(pattern, R"({"n": 3.0e2})"));
  EXPECT_FALSE(matches(pattern, R"({"n": "300"})"));
  EXPECT_FALSE(matches(R"({"n": ["300"]})", R"({"n": 300})"));
}

TEST(EventPattern, NumbersCompareToSixDecimals) {
  EXPECT_TRUE(matches(R"({"n": [1.0000001]})", R"({"n": 1.0000002})"));
  EXPECT_FALSE(matches(R"({"n": [1.000001]})", R"({"n": 1.000002})"));
}

TEST(EventPattern, NullAndEmptyString) {
  EXPECT_TRUE(matches(R"({"v": [null]})", R"({"v": null})"));
  EXPECT_FALSE(matches(R"({"v": [null]})", R"({"v": "null"})"));
  EXPECT_FALSE(matches(R"({"v": [null]})", R"({})"));
  EXPECT_FALSE(matches(R"({"v": [null]})", R"({"v": []})"));
  EXPECT_TRUE(matches(R"({"v": [""]})", R"({"v": ""})"));
  EXPECT_FALSE(matches(R"({"v": [""]})", R"({"v": null})"));
}

TEST(EventPattern, Booleans) {
  EXPECT_TRUE(matches(R"({"b": [true]})", R"({"b": true})"));
  EXPECT_FALSE(matches(R"({"b": [true]})", R"({"b": false})"));
  EXPECT_FALSE(matches(R"({"b": [true]})", R"({"b": "true"})"));
}

TEST(EventPattern, PrefixAndSuffix) {
  EXPECT_TRUE(matches(R"({"t": [{"prefix": "2017-10"}]})", R"({"t": "2017-10-02T18:43:48Z"})"));
  EXPECT_FALSE(matches(R"({"t": [{"prefix": "2017-11"}]})", R"({"t": "2017-10-02"})"));
  EXPECT_FALSE(matches(R"({"t": [{"prefix": "1"}]})", R"({"t": 12})"));
  EXPECT_TRUE(matches(R"({"t": [{"prefix": ""}]})", R"({"t": "anything"})"));
  EXPECT_TRUE(matches(R"({"f": [{"suffix": ".png"}]})", R"({"f": "image.png"})"));
  EXPECT_FALSE(matches(R"({"f": [{"suffix": ".png"}]})", R"({"f": "image.PNG"})"));
  EXPECT_FALSE(matches(R"({"f": [{"suffix": "png"}]})", R"({"f": "pn"})"));
}

TEST(EventPattern, IgnoreCaseForms) {
  EXPECT_TRUE(matches(R"({"n": [{"equals-ignore-case": "alice"}]})", R"({"n": "ALIce"})"));
  EXPECT_FALSE(matches(R"({"n": [{"equals-ignore-case": "alice"}]})", R"({"n": "alic"})"));
  EXPECT_TRUE(matches(R"({"s": [{"prefix": {"equals-ignore-case": "EventB"}}]})",
                      R"({"s": "eVENTbridge"})"));
  EXPECT_TRUE(matches(R"({"s": [{"suffix": {"equals-ignore-case": "tBridge"}}]})",
                      R"({"s": "EVENTBRIDGE"})"));
  EXPECT_FALSE(
      matches(R"({"s": [{"suffix": {"equals-ignore-case": "x"}}]})", R"({"s": "EVENTBRIDGE"})"));
}

TEST(EventPattern, IgnoreCaseFoldsUnicodeLetters) {
  EXPECT_TRUE(
      matches(R"({"n": [{"equals-ignore-case": "ÄÖÜ straße"}]})", R"({"n": "äöü STRAßE"})"));
  EXPECT_TRUE(matches(R"({"n": [{"equals-ignore-case": "ΑΘΗΝΑ"}]})", R"({"n": "αθηνα"})"));
  EXPECT_TRUE(matches(R"({"n": [{"equals-ignore-case": "Москва"}]})", R"({"n": "МОСКВА"})"));
  EXPECT_TRUE(matches(R"({"n": [{"equals-ignore-case": "Łódź"}]})", R"({"n": "łÓDŹ"})"));
  EXPECT_FALSE(matches(R"({"n": [{"equals-ignore-case": "é"}]})", R"({"n": "e"})"));
  EXPECT_TRUE(matches(R"({"n": [{"prefix": {"equals-ignore-case": "ÉT"}}]})", R"({"n": "été"})"));
  EXPECT_TRUE(matches(R"({"n": [{"suffix": {"equals-ignore-case": "É"}}]})", R"({"n": "café"})"));
  EXPECT_FALSE(matches(R"({"n": [{"suffix": {"equals-ignore-case": "é"}}]})", R"({"n": "cafe"})"));
}

TEST(EventPattern, Wildcard) {
  const char* pattern = R"({"f": [{"wildcard": "dir/*.png"}]})";
  EXPECT_TRUE(matches(pattern, R"({"f": "dir/a/b.png"})"));
  EXPECT_TRUE(matches(pattern, R"({"f": "dir/.png"})"));
  EXPECT_FALSE(matches(pattern, R"({"f": "dir/a.jpg"})"));
  EXPECT_FALSE(matches(pattern, R"({"f": 5})"));
  EXPECT_TRUE(matches(R"({"f": [{"wildcard": "a*b*c"}]})", R"({"f": "aXbYbZc"})"));
  EXPECT_FALSE(matches(R"({"f": [{"wildcard": "a*b*c"}]})", R"({"f": "aXbYbZ"})"));
  EXPECT_TRUE(matches(R"({"f": [{"wildcard": "2\\*3"}]})", R"({"f": "2*3"})"));
  EXPECT_FALSE(matches(R"({"f": [{"wildcard": "2\\*3"}]})", R"({"f": "2x3"})"));
  EXPECT_TRUE(matches(R"({"f": [{"wildcard": ""}]})", R"({"f": ""})"));
  EXPECT_FALSE(matches(R"({"f": [{"wildcard": ""}]})", R"({"f": "x"})"));
}

TEST(EventPattern, AnythingBut) {
  EXPECT_TRUE(matches(R"({"s": [{"anything-but": "init"}]})", R"({"s": "run"})"));
  EXPECT_FALSE(matches(R"({"s": [{"anything-but": "init"}]})", R"({"s": "init"})"));
  EXPECT_TRUE(matches(R"({"s": [{"anything-but": "init"}]})", R"({"s": null})"));
  EXPECT_FALSE(matches(R"({"s": [{"anything-but": "init"}]})", R"({})"));
  EXPECT_TRUE(matches(R"({"n": [{"anything-but": [100, 200]}]})", R"({"n": 150})"));
  EXPECT_FALSE(matches(R"({"n": [{"anything-but": [100, 200]}]})", R"({"n": 200.0})"));
  EXPECT_TRUE(matches(R"({"n": [{"anything-but": [100, "x"]}]})", R"({"n": "y"})"));
  EXPECT_TRUE(matches(R"({"s": [{"anything-but": {"prefix": "us-"}}]})", R"({"s": "eu-west-1"})"));
  EXPECT_FALSE(matches(R"({"s": [{"anything-but": {"prefix": "us-"}}]})", R"({"s": "us-east-1"})"));
  EXPECT_TRUE(matches(R"({"s": [{"anything-but": {"prefix": "us-"}}]})", R"({"s": 12})"));
  EXPECT_FALSE(
      matches(R"({"f": [{"anything-but": {"suffix": [".a", ".b"]}}]})", R"({"f": "x.b"})"));
  EXPECT_FALSE(
      matches(R"({"s": [{"anything-but": {"equals-ignore-case": ["ON"]}}]})", R"({"s": "On"})"));
  EXPECT_TRUE(
      matches(R"({"s": [{"anything-but": {"equals-ignore-case": ["ON"]}}]})", R"({"s": "Off"})"));
  EXPECT_FALSE(
      matches(R"({"p": [{"anything-but": {"wildcard": "*/lib/*"}}]})", R"({"p": "a/lib/b"})"));
  EXPECT_TRUE(matches(R"({"p": [{"anything-but": {"wildcard": "*/lib/*"}}]})", R"({"p": "a/b"})"));
  // One element that is not excluded is enough in EventBridge.
  EXPECT_TRUE(matches(R"({"s": [{"anything-but": ["a"]}]})", R"({"s": ["a", "b"]})"));
}

TEST(EventPattern, NumericRanges) {
  const char* pattern = R"({"c": [{"numeric": [">", 0, "<=", 5]}]})";
  EXPECT_FALSE(matches(pattern, R"({"c": 0})"));
  EXPECT_TRUE(matches(pattern, R"({"c": 0.5})"));
  EXPECT_TRUE(matches(pattern, R"({"c": 5})"));
  EXPECT_FALSE(matches(pattern, R"({"c": 5.000001})"));
  EXPECT_FALSE(matches(pattern, R"({"c": "3"})"));
  EXPECT_FALSE(matches(pattern, R"({"c": null})"));
  EXPECT_TRUE(matches(R"({"c": [{"numeric": [">=", 10, "<", 20]}]})", R"({"c": 10})"));
  EXPECT_FALSE(matches(R"({"c": [{"numeric": [">=", 10, "<", 20]}]})", R"({"c": 20})"));
  EXPECT_TRUE(matches(R"({"c": [{"numeric": ["<", -1]}]})", R"({"c": -1.5})"));
  EXPECT_TRUE(matches(R"({"c": [{"numeric": ["=", 301.8]}]})", R"({"c": 3.018e2})"));
  EXPECT_FALSE(matches(R"({"c": [{"numeric": ["=", 301.8]}]})", R"({"c": 301.9})"));
}

TEST(EventPattern, Cidr) {
  const char* v4 = R"({"ip": [{"cidr": "10.0.0.0/24"}]})";
  EXPECT_TRUE(matches(v4, R"({"ip": "10.0.0.255"})"));
  EXPECT_FALSE(matches(v4, R"({"ip": "10.0.1.0"})"));
  EXPECT_FALSE(matches(v4, R"({"ip": "10.0.0.256"})"));
  EXPECT_FALSE(matches(v4, R"({"ip": 10})"));
  EXPECT_FALSE(matches(v4, R"({"ip": "::ffff:10.0.0.1"})"));
  EXPECT_TRUE(matches(R"({"ip": [{"cidr": "10.1.2.3/32"}]})", R"({"ip": "10.1.2.3"})"));
  EXPECT_TRUE(matches(R"({"ip": [{"cidr": "0.0.0.0/0"}]})", R"({"ip": "192.168.1.1"})"));
  EXPECT_TRUE(matches(R"({"ip": [{"cidr": "10.0.0.0/9"}]})", R"({"ip": "10.127.0.1"})"));
  EXPECT_FALSE(matches(R"({"ip": [{"cidr": "10.0.0.0/9"}]})", R"({"ip": "10.128.0.1"})"));
  const char* v6 = R"({"ip": [{"cidr": "2001:db8:1234:1a00::/64"}]})";
  EXPECT_TRUE(matches(v6, R"({"ip": "2001:0db8:1234:1a00:0000:0000:0000:0001"})"));
  EXPECT_FALSE(matches(v6, R"({"ip": "2001:db8:1234:1a01::"})"));
  EXPECT_FALSE(matches(v6, R"({"ip": "10.0.0.1"})"));
}

TEST(EventPattern, ExistsLooksAtLeaves) {
  EXPECT_TRUE(matches(R"({"d": {"s": [{"exists": true}]}})", R"({"d": {"s": "x"}})"));
  EXPECT_TRUE(matches(R"({"d": {"s": [{"exists": true}]}})", R"({"d": {"s": null}})"));
  EXPECT_FALSE(matches(R"({"d": {"s": [{"exists": true}]}})", R"({"d": {"t": "x"}})"));
  EXPECT_FALSE(matches(R"({"d": [{"exists": true}]})", R"({"d": {"s": "x"}})"));
  EXPECT_FALSE(matches(R"({"r": [{"exists": true}]})", R"({"r": []})"));
  EXPECT_TRUE(matches(R"({"d": {"s": [{"exists": false}]}})", R"({"d": {"t": "x"}})"));
  EXPECT_TRUE(matches(R"({"d": {"s": [{"exists": false}]}})", R"({})"));
  EXPECT_FALSE(matches(R"({"d": {"s": [{"exists": false}]}})", R"({"d": {"s": 0}})"));
}

TEST(EventPattern, RulesOfOneFieldAreOred) {
  const char* pattern = R"({"s": [{"anything-but": ["roses"]}, {"exists": false}]})";
  EXPECT_TRUE(matches(pattern, R"({"s": "tulips"})"));
  EXPECT_TRUE(matches(pattern, R"({})"));
  EXPECT_FALSE(matches(pattern, R"({"s": "roses"})"));
  EXPECT_TRUE(matches(R"({"a": ["x", {"prefix": "y"}, 3]})", R"({"a": "yes"})"));
  EXPECT_TRUE(matches(R"({"a": ["x", {"prefix": "y"}, 3]})", R"({"a": 3})"));
}

TEST(EventPattern, OrAlternatives) {
  const char* pattern =
      R"({"source": ["s"], "detail": {"$or": [{"c": [{"numeric": [">", 0]}]},
                                              {"d": ["x"]}, {"e": {"f": [true]}}]}})";
  EXPECT_TRUE(matches(pattern, R"({"source": "s", "detail": {"c": 1}})"));
  EXPECT_TRUE(matches(pattern, R"({"source": "s", "detail": {"d": "x"}})"));
  EXPECT_TRUE(matches(pattern, R"({"source": "s", "detail": {"e": {"f": true}}})"));
  EXPECT_FALSE(matches(pattern, R"({"source": "s", "detail": {"c": 0, "d": "y"}})"));
  EXPECT_FALSE(matches(pattern, R"({"source": "t", "detail": {"c": 1}})"));
  const char* nested = R"({"$or": [{"a": ["1"]}, {"$or": [{"b": ["2"]}, {"c": ["3"]}]}]})";
  EXPECT_TRUE(matches(nested, R"({"c": "3"})"));
  EXPECT_FALSE(matches(nested, R"({"d": "4"})"));
}

TEST(EventPattern, DottedKeysMeetNestedKeys) {
  EXPECT_TRUE(matches(R"({"a.b": ["x"]})", R"({"a": {"b": "x"}})"));
  EXPECT_TRUE(matches(R"({"a": {"b": ["x"]}})", R"({"a.b": "x"})"));
  EXPECT_TRUE(matches(R"({"a": {"b": {"c": ["x"]}}})", R"({"a": {"b.c": "x"}})"));
  EXPECT_FALSE(matches(R"({"a": {"b": ["x"]}})", R"({"a.b": {"b": "x"}})"));
  EXPECT_FALSE(matches(R"({"A": ["x"]})", R"({"a": "x"})"));
}

TEST(EventPattern, EmptyPatternMatchesEverything) {
  EXPECT_TRUE(matches("{}", R"({"a": 1})"));
  EventPattern empty;
  EXPECT_TRUE(empty.matches(json::parse(R"({"a": 1})")));
  EXPECT_EQ(empty.dialect(), Dialect::eventbridge);
}

TEST(EventPattern, CopiesShareTheCompiledForm) {
  EventPattern first = must_parse(R"({"a": ["x"]})");
  EventPattern copy = first;
  EXPECT_TRUE(copy.matches(json::parse(R"({"a": "x"})")));
  EXPECT_EQ(copy.dialect(), Dialect::eventbridge);
}

// ---- EventBridge errors -----------------------------------------------------------------------

TEST(EventPatternErrors, CarryAwsTypeAndPrefix) {
  Error error = error_of(R"({"a": "x"})");
  EXPECT_EQ(error.type, "InvalidEventPatternException");
  EXPECT_EQ(error.message,
            R"(Event pattern is not valid. Reason: "a" must be an object or an array)");
}

TEST(EventPatternErrors, Structure) {
  EXPECT_EQ(reason_of(R"(["a"])"), "Filter is not an object");
  EXPECT_EQ(reason_of(R"({"a": 42})"), R"("a" must be an object or an array)");
  EXPECT_EQ(reason_of(R"({"a": {"b": null}})"), R"("b" must be an object or an array)");
  EXPECT_EQ(reason_of(R"({"a": []})"), "Empty arrays are not allowed");
  EXPECT_EQ(reason_of(R"({"a": [["x"]]})"),
            "Match value must be String, number, true, false, or null");
  EXPECT_EQ(reason_of(R"({"a": [{"prefix": "x", "suffix": "y"}]})"),
            "Only one key allowed in match expression");
  EXPECT_EQ(reason_of(R"({"a": [{}]})"), "Only one key allowed in match expression");
  EXPECT_EQ(reason_of(R"({"a": [{"EXISTS": true}]})"), "Unrecognized match type EXISTS");
  EXPECT_EQ(reason_of(R"({"$or": {"a": ["x"]}})"), R"("$or" must be an array of objects)");
  EXPECT_EQ(reason_of(R"({"$or": ["a"]})"), R"("$or" must be an array of objects)");
  EXPECT_EQ(reason_of(R"({"$or": []})"), "Empty arrays are not allowed");
  EXPECT_EQ(reason_of(R"({"$or": [{"a": []}]})"), "Empty arrays are not allowed");
}

TEST(EventPatternErrors, InvalidJsonNamesTheOffset) {
  std::string reason = reason_of(R"({"a": ["x"])");
  EXPECT_EQ(reason.substr(0, 23), "Invalid JSON at offset ") << reason;
  reason = reason_of("{'bad': 1}");
  EXPECT_EQ(reason.substr(0, 24), "Invalid JSON at offset 1") << reason;
}

TEST(EventPatternErrors, StringOperators) {
  EXPECT_EQ(reason_of(R"({"a": [{"prefix": 1}]})"), "prefix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"prefix": ["x"]}]})"), "prefix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"prefix": {"equals-ignore-case": 1}}]})"),
            "prefix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"prefix": {"other": "x"}}]})"),
            "prefix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"suffix": null}]})"), "suffix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"equals-ignore-case": ["x"]}]})"),
            "equals-ignore-case match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"exists": "yes"}]})"),
            "exists match pattern must be either true or false.");
}

TEST(EventPatternErrors, Wildcard) {
  EXPECT_EQ(reason_of(R"({"a": [{"wildcard": 1}]})"), "wildcard match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"wildcard": "ab**c"}]})"),
            "Consecutive wildcard characters at pos 3");
  EXPECT_EQ(reason_of(R"({"a": [{"wildcard": "a\\b"}]})"), "Invalid escape character at pos 1");
  EXPECT_EQ(reason_of(R"({"a": [{"wildcard": "*:*:*:*:*:event-bus/*"}]})"),
            "Rule is too complex - try using fewer wildcard characters or fewer repeating "
            "character sequences after a wildcard character");
}

TEST(EventPatternErrors, AnythingBut) {
  const std::string value_message =
      "Value of anything-but must be an array or single string/number value.";
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": null}]})"), value_message);
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": true}]})"), value_message);
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"prefix": {"equals-ignore-case": "x"}}}]})"),
            value_message);
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": ["x", null]}]})"),
            "Inside anything but list, start|null|boolean is not supported.");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": []}]})"), "Empty arrays are not allowed");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"numeric": [">", 1]}}]})"),
            "Unsupported anything-but pattern: numeric");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"prefix": "a", "suffix": "b"}}]})"),
            "Only one key allowed in match expression");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"prefix": ""}}]})"),
            "Null prefix/suffix not allowed");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"suffix": [1]}}]})"),
            "prefix/suffix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"equals-ignore-case": 1}}]})"),
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
            "supported.");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"wildcard": [null]}}]})"),
            "wildcard match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"anything-but": {"wildcard": "a**"}}]})"),
            "Consecutive wildcard characters at pos 2");
}

TEST(EventPatternErrors, Numeric) {
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": 1}]})"), "Value of numeric must be an array.");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": []}]})"), "Invalid member in numeric match: ]");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [1, ">"]}]})"), "Invalid member in numeric match: 1");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": ["!=", 1]}]})"),
            "Unrecognized numeric range operator: !=");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": ["=", "1"]}]})"), "Value of equals must be numeric");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": ["<"]}]})"), "Value of < must be numeric");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": ["<", 5, ">", 1]}]})"),
            "Too many elements in numeric expression");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [">", 1, 5]}]})"), "Bad value in numeric range: 5");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [">", 0, ">", 0]}]})"),
            "Bad numeric range operator: >");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [">", 0, "<"]}]})"), "Value of < must be numeric");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [">", 5, "<", 5]}]})"), "Bottom must be less than top");
  EXPECT_EQ(reason_of(R"({"a": [{"numeric": [">", 0, "<", 5, 6]}]})"),
            "Too many terms in numeric range expression");
}

TEST(EventPatternErrors, Cidr) {
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": ["10.0.0.0/8"]}]})"),
            "prefix match pattern must be a string");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0.0"}]})"), "Malformed CIDR, one '/' required");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0.0/8/8"}]})"), "Malformed CIDR, one '/' required");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0.0/x"}]})"),
            "Malformed CIDR, mask bits must be an integer");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0.0/"}]})"),
            "Malformed CIDR, mask bits must be an integer");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0/8"}]})"), "Nonstandard IP address: 10.0.0");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "10.0.0.0/33"}]})"),
            "Malformed CIDR, mask bits must be between 0 and 32");
  EXPECT_EQ(reason_of(R"({"a": [{"cidr": "::/129"}]})"),
            "Malformed CIDR, mask bits must be between 0 and 128");
}

// ---- Lambda event filtering -------------------------------------------------------------------

std::string lambda_reason(std::string_view text) {
  std::string message = error_of(text, Dialect::lambda).message;
  constexpr std::string_view kPrefix = "Invalid filter pattern definition. Reason: ";
  EXPECT_EQ(message.substr(0, kPrefix.size()), kPrefix) << message;
  return message.substr(std::min(message.size(), kPrefix.size()));
}

// The rows of the comparison operator table in the Lambda developer guide.
TEST(LambdaFiltering, ComparisonOperatorTable) {
  struct Case {
    const char* pattern;
    const char* match;
    const char* no_match;
  };
  const std::vector<Case> cases = {
      {R"({"UserID": [null]})", R"({"UserID": null})", R"({"UserID": "u1"})"},
      {R"({"LastName": [""]})", R"({"LastName": ""})", R"({"LastName": "Doe"})"},
      {R"({"Name": ["Alice"]})", R"({"Name": "Alice"})", R"({"Name": "alice"})"},
      {R"({"Name": [{"equals-ignore-case": "alice"}]})", R"({"Name": "ALICE"})",
       R"({"Name": "Bob"})"},
      {R"({"Location": ["New York"], "Day": ["Monday"]})",
       R"({"Location": "New York", "Day": "Monday"})",
       R"({"Location": "New York", "Day": "Friday"})"},
      {R"({"PaymentType": ["Credit", "Debit"]})", R"({"PaymentType": "Debit"})",
       R"({"PaymentType": "Cash"})"},
      {R"({"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]})",
       R"({"Location": "Boston", "Day": "Monday"})", R"({"Location": "Boston", "Day": "Friday"})"},
      {R"({"Weather": [{"anything-but": ["Raining"]}]})", R"({"Weather": "Sunny"})",
       R"({"Weather": "Raining"})"},
      {R"({"Price": [{"numeric": ["=", 100]}]})", R"({"Price": 100.0})", R"({"Price": 101})"},
      {R"({"Price": [{"numeric": [">", 10, "<=", 20]}]})", R"({"Price": 20})", R"({"Price": 10})"},
      {R"({"ProductName": [{"exists": true}]})", R"({"ProductName": "p"})", R"({"Other": "p"})"},
      {R"({"ProductName": [{"exists": false}]})", R"({"Other": "p"})", R"({"ProductName": "p"})"},
      {R"({"Region": [{"prefix": "us-"}]})", R"({"Region": "us-east-1"})",
       R"({"Region": "eu-west-1"})"},
      {R"({"FileName": [{"suffix": ".png"}]})", R"({"FileName": "a.png"})",
       R"({"FileName": "a.jpg"})"},
      {R"({"ip": [{"cidr": "10.0.0.0/24"}]})", R"({"ip": "10.0.0.11"})", R"({"ip": "10.0.1.11"})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pattern);
    EXPECT_TRUE(matches(c.pattern, c.match, Dialect::lambda));
    EXPECT_FALSE(matches(c.pattern, c.no_match, Dialect::lambda));
  }
}

TEST(LambdaFiltering, ExactNumbersCompareByKind) {
  EXPECT_TRUE(matches(R"({"n": [300]})", R"({"n": 300})", Dialect::lambda));
  EXPECT_FALSE(matches(R"({"n": [300]})", R"({"n": 300.0})", Dialect::lambda));
  EXPECT_FALSE(matches(R"({"n": [300.0]})", R"({"n": 300})", Dialect::lambda));
  EXPECT_TRUE(matches(R"({"n": [300.0]})", R"({"n": 3.0e2})", Dialect::lambda));
}

TEST(LambdaFiltering, RejectsWhatLambdaDoesNotSupport) {
  EXPECT_EQ(lambda_reason(R"({"body": {"f": [{"wildcard": "*.png"}]}})"),
            R"(wildcard is not supported in Lambda event filtering (field "body.f"))");
  for (const char* op : {"prefix", "suffix", "equals-ignore-case", "wildcard"}) {
    std::string pattern = std::string(R"({"s": [{"anything-but": {")") + op + R"(": "x"}}]})";
    EXPECT_EQ(lambda_reason(pattern),
              std::string("anything-but with ") + op +
                  R"( is not supported in Lambda event filtering (field "s"))");
  }
  Error error = error_of(R"({"a": "x"})", Dialect::lambda);
  EXPECT_EQ(error.type, "");
  EXPECT_EQ(error.message,
            R"(Invalid filter pattern definition. Reason: "a" must be an object or an array)");
}

json::value sqs_record(std::string_view body) {
  json::object record;
  record["messageId"] = "059f36b4-87a3-44ab-83d2-661975830a7d";
  record["body"] = parse_data_payload(body);
  record["eventSource"] = "aws:sqs";
  return record;
}

FilterCriteria must_parse_criteria(std::string_view criteria, FilterSource source) {
  auto parsed = FilterCriteria::parse(json::parse(criteria), source);
  if (!parsed.ok()) {
    ADD_FAILURE() << criteria << ": " << parsed.error().message;
    return FilterCriteria();
  }
  return std::move(*parsed);
}

TEST(LambdaFiltering, ParseDataPayload) {
  EXPECT_TRUE(parse_data_payload(R"({"a": 1})").is_object());
  EXPECT_TRUE(parse_data_payload("[1, 2]").is_array());
  EXPECT_EQ(parse_data_payload("hello"), json::value("hello"));
  EXPECT_EQ(parse_data_payload("42"), json::value("42"));
  EXPECT_EQ(parse_data_payload(R"({"a": )"), json::value(R"({"a": )"));
}

// The SQS table of the Lambda developer guide: body format of the message against the form
// of the body filter.
TEST(LambdaFiltering, SqsBodyFormatTable) {
  FilterCriteria plain = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"body\": [{\"prefix\": \"Result: \"}]}"}]})",
      FilterSource::sqs);
  FilterCriteria structured = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"body\": {\"RequestCode\": [\"BBBB\"]}}"}]})",
      FilterSource::sqs);
  FilterCriteria metadata = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"eventSource\": [\"aws:sqs\"]}"}]})", FilterSource::sqs);

  EXPECT_TRUE(plain.matches(sqs_record("Result: ok")));
  EXPECT_FALSE(plain.matches(sqs_record("Other: ok")));
  EXPECT_FALSE(plain.matches(sqs_record(R"({"RequestCode": "BBBB"})")));

  EXPECT_TRUE(structured.matches(sqs_record(R"({"RequestCode": "BBBB"})")));
  EXPECT_FALSE(structured.matches(sqs_record(R"({"RequestCode": "AAAA"})")));
  EXPECT_FALSE(structured.matches(sqs_record("RequestCode BBBB")));

  EXPECT_TRUE(metadata.matches(sqs_record("plain text")));
  EXPECT_TRUE(metadata.matches(sqs_record(R"({"RequestCode": "AAAA"})")));
}

TEST(LambdaFiltering, AnyFilterLetsARecordPass) {
  FilterCriteria criteria = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"body\": {\"rating\": [4, 5]}}"},
                      {"Pattern": "{\"body\": {\"fileName\": [\"metadata.txt\"]}}"}]})",
      FilterSource::sqs);
  EXPECT_EQ(criteria.size(), 2u);
  EXPECT_TRUE(criteria.matches(sqs_record(R"({"rating": 4})")));
  EXPECT_TRUE(criteria.matches(sqs_record(R"({"rating": 1, "fileName": "metadata.txt"})")));
  EXPECT_FALSE(criteria.matches(sqs_record(R"({"rating": 1})")));
}

TEST(LambdaFiltering, EmptyCriteriaPassEverything) {
  for (const char* text : {"{}", R"({"Filters": []})", R"({"Filters": null})"}) {
    FilterCriteria criteria = must_parse_criteria(text, FilterSource::sqs);
    EXPECT_TRUE(criteria.empty()) << text;
    EXPECT_TRUE(criteria.matches(sqs_record("x"))) << text;
  }
}

TEST(LambdaFiltering, DynamoDbMultiLevel) {
  FilterCriteria criteria = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"dynamodb\": {\"Keys\": {\"Id\": {\"N\": [\"101\"]}}}}"}]})",
      FilterSource::dynamodb);
  json::value record = json::parse(
      R"({"eventName": "INSERT", "dynamodb": {"Keys": {"Id": {"N": "101"}},
          "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}}}})");
  EXPECT_TRUE(criteria.matches(record));
  record.at("dynamodb").at("Keys").at("Id").at("N") = "102";
  EXPECT_FALSE(criteria.matches(record));
}

TEST(LambdaFiltering, KinesisDataMustBeFilteredAsJson) {
  auto parsed = FilterCriteria::parse(
      json::parse(R"({"Filters": [{"Pattern": "{\"data\": [\"x\"]}"}]})"), FilterSource::kinesis);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message,
            "Invalid filter pattern definition. Reason: the filter pattern for \"data\" must be a "
            "JSON object, because records of this source carry JSON data");
  FilterCriteria criteria = must_parse_criteria(
      R"({"Filters": [{"Pattern": "{\"partitionKey\": [\"1\"], \"data\": {\"Location\": [\"Los Angeles\"]}}"}]})",
      FilterSource::kinesis);
  EXPECT_TRUE(criteria.matches(
      json::parse(R"({"partitionKey": "1", "data": {"Location": "Los Angeles"}})")));
  EXPECT_FALSE(criteria.matches(json::parse(R"({"partitionKey": "1", "data": "Los Angeles"})")));
}

TEST(LambdaFiltering, CriteriaErrors) {
  auto error_message = [](std::string_view criteria) {
    auto parsed = FilterCriteria::parse(json::parse(criteria), FilterSource::sqs);
    EXPECT_FALSE(parsed.ok()) << criteria;
    if (parsed.ok()) return std::string();
    EXPECT_EQ(parsed.error().code, Errc::invalid_parameter);
    return parsed.error().message;
  };
  std::string six = R"({"Filters": [)";
  for (int i = 0; i < 6; ++i) six += std::string(i ? "," : "") + R"({"Pattern": "{}"})";
  six += "]}";
  EXPECT_EQ(error_message(six),
            "Invalid filter pattern definition. Reason: at most 5 filters are allowed, got 6");
  EXPECT_EQ(error_message("[]"),
            "Invalid filter pattern definition. Reason: FilterCriteria must be an object");
  EXPECT_EQ(error_message(R"({"Filters": {}})"),
            "Invalid filter pattern definition. Reason: Filters must be a list");
  EXPECT_EQ(error_message(R"({"Filters": [{"Other": "{}"}]})"),
            "Invalid filter pattern definition. Reason: each filter must have a Pattern string");
  json::object long_pattern{{"Pattern", std::string(4097, ' ')}};
  json::object criteria{{"Filters", json::array{long_pattern}}};
  EXPECT_EQ(error_message(json::serialize(criteria)),
            "Invalid filter pattern definition. Reason: Pattern must be at most 4096 characters, "
            "got 4097");
  EXPECT_EQ(error_message(R"({"Filters": [{"Pattern": "{\"a\": 1}"}]})"),
            R"(Invalid filter pattern definition. Reason: "a" must be an object or an array)");
}

// ---- SNS filter policies ----------------------------------------------------------------------

json::value attributes(std::initializer_list<MessageAttribute> list) {
  return sns_attributes_event(std::span<const MessageAttribute>(list.begin(), list.size()));
}

bool sns_matches(std::string_view policy, const json::value& event,
                 Dialect dialect = Dialect::sns_attributes) {
  return must_parse(policy, dialect).matches(event);
}

TEST(SnsFilterPolicy, AttributesEvent) {
  json::value event = attributes({{"store", "String", "example_corp"},
                                  {"price_usd", "Number", "210.75"},
                                  {"interests", "String.Array", R"(["rugby", "tennis"])"},
                                  {"blob", "Binary", "AAEC"},
                                  {"note", "String.custom", "x"},
                                  {"bad_number", "Number", "12abc"}});
  EXPECT_EQ(event, json::parse(R"({"store": "example_corp", "price_usd": 210.75,
                                   "interests": ["rugby", "tennis"], "note": "x",
                                   "bad_number": "12abc"})"));
}

TEST(SnsFilterPolicy, StringMatching) {
  json::value rugby = attributes({{"customer_interests", "String", "rugby"}});
  json::value baseball = attributes({{"customer_interests", "String", "baseball"}});
  json::value both =
      attributes({{"customer_interests", "String.Array", R"(["rugby", "baseball"])"}});
  EXPECT_TRUE(sns_matches(R"({"customer_interests": ["rugby", "tennis"]})", rugby));
  EXPECT_FALSE(sns_matches(R"({"customer_interests": ["rugby", "tennis"]})", baseball));
  EXPECT_TRUE(sns_matches(R"({"customer_interests": ["rugby", "tennis"]})", both));
  EXPECT_TRUE(sns_matches(R"({"customer_interests": [{"prefix": "bas"}]})", baseball));
  EXPECT_TRUE(sns_matches(R"({"customer_interests": [{"suffix": "ball"}]})", baseball));
  EXPECT_TRUE(sns_matches(R"({"customer_interests": [{"equals-ignore-case": "RUGBY"}]})", rugby));
  EXPECT_TRUE(
      sns_matches(R"({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]})", baseball));
  EXPECT_FALSE(
      sns_matches(R"({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]})", rugby));
  // SNS matches anything-but on a String.Array only when no element is excluded.
  EXPECT_FALSE(
      sns_matches(R"({"customer_interests": [{"anything-but": ["rugby", "tennis"]}]})", both));
  EXPECT_TRUE(sns_matches(R"({"event": [{"anything-but": {"prefix": "order-"}}]})",
                          attributes({{"event", "String", "data-entry"}})));
  EXPECT_FALSE(sns_matches(R"({"event": [{"anything-but": {"prefix": "order-"}}]})",
                           attributes({{"event", "String", "order-cancelled"}})));
  EXPECT_TRUE(sns_matches(R"({"source_ip": [{"cidr": "10.0.0.0/24"}]})",
                          attributes({{"source_ip", "String", "10.0.0.255"}})));
  EXPECT_FALSE(sns_matches(R"({"source_ip": [{"cidr": "10.0.0.0/24"}]})",
                           attributes({{"source_ip", "String", "10.1.1.0"}})));
}

TEST(SnsFilterPolicy, NumericMatching) {
  const char* equals = R"({"price_usd": [{"numeric": ["=", 301.5]}]})";
  EXPECT_TRUE(sns_matches(equals, attributes({{"price_usd", "Number", "301.5"}})));
  EXPECT_TRUE(sns_matches(equals, attributes({{"price_usd", "Number", "3.015e2"}})));
  EXPECT_FALSE(sns_matches(equals, attributes({{"price_usd", "String", "301.5"}})));
  const char* but = R"({"price": [{"anything-but": [100, 500]}]})";
  EXPECT_TRUE(sns_matches(but, attributes({{"price", "Number", "100.1"}})));
  EXPECT_FALSE(sns_matches(but, attributes({{"price", "Number", "100"}})));
  const char* range = R"({"price_usd": [{"numeric": [">", 0, "<=", 150]}]})";
  EXPECT_TRUE(sns_matches(range, attributes({{"price_usd", "Number", "150"}})));
  EXPECT_FALSE(sns_matches(range, attributes({{"price_usd", "Number", "-1"}})));
  // Five digits after the decimal point.
  EXPECT_TRUE(sns_matches(R"({"p": [{"numeric": ["=", 1.000001]}]})",
                          attributes({{"p", "Number", "1.000002"}})));
  EXPECT_FALSE(sns_matches(R"({"p": [{"numeric": ["=", 1.00001]}]})",
                           attributes({{"p", "Number", "1.00002"}})));
}

TEST(SnsFilterPolicy, KeyMatchingAndLogic) {
  json::value with_store = attributes(
      {{"store", "String", "fans"}, {"customer_interests", "String.Array", R"(["baseball"])"}});
  json::value without_store =
      attributes({{"customer_interests", "String.Array", R"(["baseball"])"}});
  EXPECT_TRUE(sns_matches(R"({"store": [{"exists": true}]})", with_store));
  EXPECT_FALSE(sns_matches(R"({"store": [{"exists": true}]})", without_store));
  EXPECT_FALSE(sns_matches(R"({"store": [{"exists": false}]})", with_store));
  EXPECT_TRUE(sns_matches(R"({"store": [{"exists": false}]})", without_store));
  const char* both = R"({"customer_interests": ["rugby"], "price_usd": [{"numeric": [">", 100]}]})";
  EXPECT_TRUE(sns_matches(both, attributes({{"customer_interests", "String", "rugby"},
                                            {"price_usd", "Number", "101"}})));
  EXPECT_FALSE(sns_matches(both, attributes({{"customer_interests", "String", "rugby"},
                                             {"price_usd", "Number", "100"}})));
  const char* either = R"({"$or": [{"source": ["aws.cloudwatch"]}, {"metricName": ["CPU"]}]})";
  EXPECT_TRUE(sns_matches(either, attributes({{"metricName", "String", "CPU"}})));
  EXPECT_FALSE(sns_matches(either, attributes({{"metricName", "String", "Disk"}})));
}

TEST(SnsFilterPolicy, MessageBodyScopeNests) {
  const char* policy =
      R"({"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
      "customer_interests": ["rugby", "football", "baseball"],
      "price_usd": [{"numeric": [">=", 100]}], "delivery": {"zip": [{"prefix": "98"}]}})";
  json::value body = json::parse(R"({"store": "example_corp", "event": "order_placed",
      "customer_interests": ["soccer", "rugby", "hockey"], "price_usd": 210.75,
      "delivery": {"zip": "98101"}})");
  EXPECT_TRUE(sns_matches(policy, body, Dialect::sns_body));
  body.at("delivery").at("zip") = "10001";
  EXPECT_FALSE(sns_matches(policy, body, Dialect::sns_body));
}

TEST(SnsFilterPolicy, Limits) {
  EXPECT_EQ(error_of(R"({"a": ["1"], "b": ["1"], "c": ["1"], "d": ["1"], "e": ["1"], "f": ["1"]})",
                     Dialect::sns_attributes)
                .message,
            "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 keys");

  // The documented examples: 3 x 1 x 2 = 6, and with nesting 3 x 4 x 2 x 3 = 72.
  must_parse(R"({"key_a": ["v1", "v2", "v3"], "key_b": ["v1"], "key_c": ["v1", "v2"]})",
             Dialect::sns_attributes);
  must_parse(R"({"key_a": {"key_b": {"key_c": ["1", "2", "3", "4"]}},
                 "key_d": {"key_e": ["1", "2", "3"]}})",
             Dialect::sns_body);

  // 151 combinations.
  std::string many = R"({"a": [)";
  for (int i = 0; i < 151; ++i) many += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  many += "]}";
  Error error = error_of(many, Dialect::sns_attributes);
  EXPECT_EQ(error.message, "Invalid parameter: FilterPolicy: Filter policy is too complex");
  EXPECT_EQ(error.type, "InvalidParameter");
  std::string boundary = R"({"a": [)";
  for (int i = 0; i < 150; ++i) boundary += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  boundary += "]}";
  must_parse(boundary, Dialect::sns_attributes);

  // Nesting multiplies by depth: 75 values two levels down count 150, and 76 count 152.
  auto nested = [](int values) {
    std::string policy = R"({"a": {"b": [)";
    for (int i = 0; i < values; ++i) policy += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
    return policy + "]}}";
  };
  must_parse(nested(75), Dialect::sns_body);
  EXPECT_EQ(error_of(nested(76), Dialect::sns_body).message,
            "Invalid parameter: FilterPolicy: Filter policy is too complex");

  // An $or adds its alternatives: 100 + 51 = 151.
  std::string either = R"({"$or": [{"a": [)";
  for (int i = 0; i < 100; ++i) either += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  either += R"(]}, {"b": [)";
  for (int i = 0; i < 51; ++i) either += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  either += "]}]}";
  EXPECT_EQ(error_of(either, Dialect::sns_attributes).message,
            "Invalid parameter: FilterPolicy: Filter policy is too complex");

  std::string huge = R"({"a": [")" + std::string(kSnsMaxPolicyBytes, 'x') + R"("]})";
  EXPECT_EQ(error_of(huge, Dialect::sns_body).message,
            "Invalid parameter: FilterPolicy: Filter policy must be at most 262144 bytes, got " +
                std::to_string(huge.size()));
}

TEST(SnsFilterPolicy, DialectErrors) {
  EXPECT_EQ(error_of(R"({"a": {"b": ["x"]}})", Dialect::sns_attributes).message,
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested "
            "filter policy");
  EXPECT_EQ(error_of(R"({"a": [{"wildcard": "x*"}]})", Dialect::sns_body).message,
            "Invalid parameter: FilterPolicy: Unrecognized match type wildcard");
  EXPECT_EQ(error_of(R"({"a": [{"anything-but": {"suffix": "x"}}]})", Dialect::sns_body).message,
            "Invalid parameter: FilterPolicy: Unsupported anything-but pattern: suffix");
  EXPECT_EQ(
      error_of(R"({"a": [{"prefix": {"equals-ignore-case": "x"}}]})", Dialect::sns_body).message,
      "Invalid parameter: FilterPolicy: prefix match pattern must be a string");
  EXPECT_EQ(error_of(R"({"a": [{"numeric": [">", 5, "<", 1]}]})", Dialect::sns_body).message,
            "Invalid parameter: FilterPolicy: Bottom must be less than top");
}

TEST(SnsFilterPolicy, SubscribeMessage) {
  EXPECT_EQ(sns_subscribe_message("Invalid parameter: FilterPolicy: Filter policy is too complex"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex");
  EXPECT_EQ(sns_subscribe_message("something else"), "something else");
}

}  // namespace
}  // namespace lambent::patterns
