#pragma once

#include "lambent/base/result.h"

#include <boost/json/fwd.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Event patterns as EventBridge rules, SNS subscription filter policies and Lambda event
// filtering (FilterCriteria) write them. A pattern is a JSON object whose leaves are arrays of
// rules. Fields are ANDed, and the rules of one array are ORed:
//
//   {"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "pending"}],
//                                      "count": [{"numeric": [">", 0, "<=", 5]}]}}
//
// A pattern is parsed and compiled once, then matched against any number of events. Matching
// walks the event in place and allocates nothing. docs/patterns.md lists the syntax, what each
// dialect accepts and the limits.
namespace lambent::patterns {

// The service whose rules apply. EventBridge accepts every operator. Lambda event filtering
// rejects wildcard and the anything-but forms with prefix, suffix, equals-ignore-case and
// wildcard, and compares exact numbers by their JSON kind as well as their value. SNS rejects
// wildcard, anything-but other than a value list or a prefix, and equals-ignore-case inside
// prefix and suffix. SNS also enforces its limits (5 keys, 150 combinations, 256 KB), and with
// sns_attributes the policy may not nest objects.
enum class Dialect { eventbridge, lambda, sns_attributes, sns_body };

namespace detail {
struct Node;
}

// A compiled pattern. Copies share the compiled form, which is immutable, so one pattern can
// be matched from any thread.
class EventPattern {
 public:
  // The empty pattern {}, which matches every event, in the EventBridge dialect.
  EventPattern();

  // Parses `pattern_json`. A pattern that is not valid fails with Errc::invalid_parameter and
  // the message AWS gives for the dialect: "Event pattern is not valid. Reason: ..." with
  // Error::type "InvalidEventPatternException" (EventBridge), "Invalid parameter: FilterPolicy:
  // ..." with type "InvalidParameter" (SNS, as SetSubscriptionAttributes words it; see
  // sns_subscribe_message), or "Invalid filter pattern definition. Reason: ..." (Lambda).
  static Result<EventPattern> parse(std::string_view pattern_json, Dialect dialect);

  // The same from a parsed JSON value. A key repeated in one object of the text keeps its last
  // value in both forms.
  static Result<EventPattern> compile(const boost::json::value& pattern, Dialect dialect);

  // True when `event` matches. Event arrays match when any element matches. A dotted pattern
  // key ("a.b") and a nested one ({"a": {"b": ...}}) address the same event field, and so do
  // dotted and nested event keys. Fields that pass through the same event array must match
  // in the same element of it.
  bool matches(const boost::json::value& event) const;

  Dialect dialect() const { return dialect_; }

 private:
  EventPattern(std::shared_ptr<const detail::Node> root, Dialect dialect)
      : root_(std::move(root)), dialect_(dialect) {}

  std::shared_ptr<const detail::Node> root_;
  Dialect dialect_;
};

// ---- Lambda event source mappings ---------------------------------------------------------

// The record field that contains the message payload, which a pattern filters as "data
// properties": body (SQS), data (Kinesis, Amazon MQ), dynamodb (DynamoDB streams), value
// (Kafka).
enum class FilterSource { sqs, kinesis, dynamodb, mq, kafka };

std::string_view data_key(FilterSource source);

// Returns the payload as a record should carry it for filtering: the parsed JSON when
// `payload` is a JSON object or array, else the payload as a JSON string.
boost::json::value parse_data_payload(std::string_view payload);

// FilterCriteria of an event source mapping: up to 5 patterns, and a record passes when any
// matches. No patterns at all lets every record pass.
class FilterCriteria {
 public:
  static constexpr std::size_t kMaxFilters = 5;
  static constexpr std::size_t kMaxPatternLength = 4096;

  FilterCriteria() = default;

  // Parses the FilterCriteria object of CreateEventSourceMapping or UpdateEventSourceMapping
  // ({"Filters": [{"Pattern": "..."}]}). An empty object or an empty Filters list clears the
  // criteria. Errors are Errc::invalid_parameter (InvalidParameterValueException).
  static Result<FilterCriteria> parse(const boost::json::value& criteria, FilterSource source);

  // True when `record` passes. The record is the one Lambda sends to the function, with its
  // data field as parse_data_payload returns it. A pattern that filters the data field as JSON
  // rejects a plain-string payload, and one that filters it as a plain string rejects a JSON
  // payload, as Lambda drops such records.
  bool matches(const boost::json::value& record) const;

  bool empty() const { return filters_.empty(); }
  std::size_t size() const { return filters_.size(); }

 private:
  enum class DataForm { none, json, plain };
  struct Filter {
    EventPattern pattern;
    DataForm data_form;
  };

  std::vector<Filter> filters_;
  std::string data_key_;
};

// ---- SNS ------------------------------------------------------------------------------------

// Limits of a subscription filter policy.
inline constexpr std::size_t kSnsMaxPolicyKeys = 5;
inline constexpr std::size_t kSnsMaxCombinations = 150;
inline constexpr std::size_t kSnsMaxPolicyBytes = 256 * 1024;

// Rewrites a message from EventPattern::parse into the form Subscribe uses for filter policy
// errors: "Invalid parameter: Attributes Reason: FilterPolicy: ...".
std::string sns_subscribe_message(std::string_view set_attributes_message);

// One message attribute of Publish (MessageAttributes.entry.N).
struct MessageAttribute {
  std::string_view name;
  std::string_view data_type;  // String, Number, Binary, String.Array, optionally ".custom"
  std::string_view value;      // StringValue; Binary attributes are skipped
};

// Builds the event a MessageAttributes-scope policy is matched against: String values as
// strings, Number values as numbers, String.Array values as the JSON arrays they hold. Binary
// attributes are left out, as SNS ignores them in filtering.
boost::json::object sns_attributes_event(std::span<const MessageAttribute> attributes);

}  // namespace lambent::patterns
