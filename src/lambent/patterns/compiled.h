#pragma once

#include "lambent/patterns/event_pattern.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

// The compiled form of an event pattern, shared by the parser (parse.cpp) and the matcher
// (match.cpp). Nothing outside this folder includes it.
namespace lambent::patterns::detail {

enum class MatchKind {
  exact_string,
  exact_number,
  exact_bool,
  exact_null,
  prefix,
  suffix,
  equals_ignore_case,
  wildcard,
  numeric,
  cidr,
  exists,
  anything_but,
};

// An IPv4 or IPv6 network; IPv4 uses the first 4 bytes.
struct Network {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  int bits = 0;
};

struct Matcher {
  MatchKind kind = MatchKind::exact_null;
  // exact_bool: the value; exists: true for {"exists": true}; prefix, suffix: compare
  // ignoring case.
  bool flag = false;
  // exact_string, prefix, suffix, wildcard: the text; equals_ignore_case and the case-blind
  // prefix and suffix: the text after fold_case.
  std::string text;
  // exact_number: the number scaled to the dialect's precision (number_key); integral records
  // whether the pattern wrote an integer, which Lambda compares too.
  double number = 0;
  bool integral = false;
  // numeric: the range in scaled units.
  bool has_lower = false, lower_inclusive = false, has_upper = false, upper_inclusive = false;
  double lower = 0, upper = 0;
  Network network;
  // anything_but: the rules a value must not match.
  std::vector<Matcher> excluded;
};

// One event field, by its dotted path from the event root, and the rules of its array (ORed).
struct Field {
  std::string path;
  std::vector<Matcher> any_of;
};

// An object of the pattern: every field must match, and in each "$or" group one alternative.
struct Node {
  std::vector<Field> fields;
  std::vector<std::vector<Node>> or_groups;
};

// Scales a number to the dialect's decimal precision (6 digits after the point, 5 for SNS) and
// rounds it, so that numbers equal to that precision compare equal.
double number_key(double value, Dialect dialect);

bool matches_node(const Node& node, const boost::json::value& event, Dialect dialect);

}  // namespace lambent::patterns::detail
