#pragma once

#include "lambent/base/result.h"

#include <string>
#include <string_view>
#include <vector>

// CloudWatch Logs filter patterns for unstructured events, as FilterLogEvents takes them:
//
//   ERROR                 events that contain ERROR (a case-sensitive substring)
//   ERROR timeout         events that contain both terms, anywhere and in any order
//   "Task timed out"      an exact phrase; quotes also protect spaces and punctuation
//   ERROR -retry          events with ERROR and without retry
//   ?ERROR ?WARN          events with ERROR or WARN
//   (empty)               every event
//
// Plain terms must all match, `-` terms must not match, and when the pattern has `?` terms at
// least one of them must match. Inside quotes, \" and \\ stand for a quote and a backslash.
// JSON patterns ({ $.field = value }), space-delimited patterns ([w1, w2]) and regular
// expressions (%regex%) are rejected with an error that says so.
namespace lambent::services::logs {

class FilterPattern {
 public:
  // Matches every message.
  FilterPattern() = default;

  bool matches(std::string_view message) const;
  bool matches_everything() const {
    return required_.empty() && excluded_.empty() && any_of_.empty();
  }

  const std::vector<std::string>& required() const { return required_; }
  const std::vector<std::string>& excluded() const { return excluded_; }
  const std::vector<std::string>& any_of() const { return any_of_; }

 private:
  friend Result<FilterPattern> parse_filter_pattern(std::string_view pattern);

  std::vector<std::string> required_;
  std::vector<std::string> excluded_;
  std::vector<std::string> any_of_;
};

// Parses a pattern. Fails with Errc::invalid_parameter and a message that starts with
// "Invalid filter pattern" and names the problem.
Result<FilterPattern> parse_filter_pattern(std::string_view pattern);

}  // namespace lambent::services::logs
