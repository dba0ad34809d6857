#include "lambent/patterns/case_fold.h"
#include "lambent/patterns/compiled.h"
#include "lambent/patterns/ip_address.h"

#include <boost/json/value.hpp>

#include <cmath>

namespace lambent::patterns::detail {
namespace json = boost::json;

namespace {

bool starts_with(std::string_view text, const Matcher& m) {
  if (text.size() < m.text.size()) return false;
  std::string_view head = text.substr(0, m.text.size());
  return m.flag ? equals_folded(head, m.text) : head == m.text;
}

bool ends_with(std::string_view text, const Matcher& m) {
  if (text.size() < m.text.size()) return false;
  std::string_view tail = text.substr(text.size() - m.text.size());
  return m.flag ? equals_folded(tail, m.text) : tail == m.text;
}

// Glob match where '*' stands for any run of characters and "\*" and "\\" for themselves. The
// parser has already rejected other escapes and consecutive stars. Backtracks to the last star
// only, which is enough for a single-character wildcard alphabet.
bool wildcard_match(std::string_view text, std::string_view pattern) {
  std::size_t t = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      char want = pattern[p];
      std::size_t width = 1;
      if (want == '\\' && p + 1 < pattern.size()) {
        want = pattern[p + 1];
        width = 2;
      }
      if (text[t] == want) {
        p += width;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double to_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

bool in_range(double key, const Matcher& m) {
  if (m.has_lower && (m.lower_inclusive ? key < m.lower : key <= m.lower)) return false;
  if (m.has_upper && (m.upper_inclusive ? key > m.upper : key >= m.upper)) return false;
  return true;
}

bool in_network(std::string_view text, const Network& network) {
  std::array<std::uint8_t, 16> address{};
  bool v6 = false;
  if (!parse_ip_address(text, address, v6) || v6 != network.v6) return false;
  int bits = network.bits;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((address[i] & mask) != (network.bytes[i] & mask)) return false;
  }
  return true;
}

// True when the leaf value `v` (never an object or array) satisfies `m`.
bool leaf_matches(const Matcher& m, const json::value& v, Dialect dialect) {
  switch (m.kind) {
    case MatchKind::exact_string:
      return v.is_string() && std::string_view(v.get_string()) == m.text;
    case MatchKind::exact_number:
      if (!is_number(v)) return false;
      // Lambda compares numbers by their text. Integer against fraction form is the part of
      // that a parsed value keeps: 300 and 300.0 differ, but 300.0 and 3.0e2 compare equal.
      if (dialect == Dialect::lambda && m.integral == v.is_double()) return false;
      return number_key(to_double(v), dialect) == m.number;
    case MatchKind::exact_bool:
      return v.is_bool() && v.get_bool() == m.flag;
    case MatchKind::exact_null:
      return v.is_null();
    case MatchKind::prefix:
      return v.is_string() && starts_with(v.get_string(), m);
    case MatchKind::suffix:
      return v.is_string() && ends_with(v.get_string(), m);
    case MatchKind::equals_ignore_case:
      return v.is_string() && equals_folded(v.get_string(), m.text);
    case MatchKind::wildcard:
      return v.is_string() && wildcard_match(v.get_string(), m.text);
    case MatchKind::numeric:
      return is_number(v) && in_range(number_key(to_double(v), dialect), m);
    case MatchKind::cidr:
      return v.is_string() && in_network(v.get_string(), m.network);
    case MatchKind::anything_but:
      for (const Matcher& inner : m.excluded) {
        if (leaf_matches(inner, v, dialect)) return false;
      }
      return true;
    case MatchKind::exists:
      return true;
  }
  return false;
}

// The array elements that the leaves matched so far came from. A pattern's fields must match
// values in the same element of each event array they pass through, as EventBridge requires,
// so {"a": {"b": [1], "c": [2]}} does not match {"a": [{"b": 1}, {"c": 2}]}. Arrays are
// identified by address, which is stable while the event is matched.
class Bindings {
 public:
  // Returns the element index `array` is bound to, or -1.
  long bound(const json::array* array) const {
    for (std::size_t i = 0; i < size_; ++i) {
      if (entries_[i].array == array) return static_cast<long>(entries_[i].index);
    }
    return -1;
  }
  bool full() const { return size_ == entries_.size(); }
  void push(const json::array* array, std::size_t index) { entries_[size_++] = {array, index}; }
  void pop() { --size_; }

 private:
  struct Entry {
    const json::array* array;
    std::size_t index;
  };
  // Events rarely nest more arrays than this on the paths of one pattern. Arrays past it are
  // entered without binding, which only loosens the same-element rule.
  std::array<Entry, 32> entries_{};
  std::size_t size_ = 0;
};

// Calls `visit` on each leaf the event contains at `path`, until it returns true. Arrays are
// entered at every level, and a key of an event object may itself contain dots, so "a.b.c"
// finds {"a": {"b": {"c": 1}}}, {"a.b": {"c": 1}} and {"a": [{"b.c": 1}]}. With `bindings`,
// an array already bound is entered at its bound element only, and each other element is bound
// while `visit` runs.
template <typename Visit>
bool any_leaf(const json::value& v, std::string_view path, Bindings* bindings, const Visit& visit) {
  if (v.is_array()) {
    const json::array& array = v.get_array();
    long index = bindings ? bindings->bound(&array) : -1;
    if (index >= 0) {
      return static_cast<std::size_t>(index) < array.size() &&
             any_leaf(array[index], path, bindings, visit);
    }
    for (std::size_t i = 0; i < array.size(); ++i) {
      bool bind = bindings && !bindings->full();
      if (bind) bindings->push(&array, i);
      bool found = any_leaf(array[i], path, bindings, visit);
      if (bind) bindings->pop();
      if (found) return true;
    }
    return false;
  }
  if (path.empty()) return !v.is_object() && visit(v);
  if (!v.is_object()) return false;

  const json::object& object = v.get_object();
  std::size_t dot = 0;
  while (true) {
    dot = path.find('.', dot);
    std::string_view key = path.substr(0, dot);
    auto it = object.find(key);
    if (it != object.end()) {
      std::string_view rest =
          dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
      if (any_leaf(it->value(), rest, bindings, visit)) return true;
    }
    if (dot == std::string_view::npos) return false;
    ++dot;
  }
}

bool is_sns(Dialect dialect) {
  return dialect == Dialect::sns_attributes || dialect == Dialect::sns_body;
}

struct Context {
  const json::value& event;
  Dialect dialect;
  Bindings bindings;
};

// The fields and "$or" groups still to match: step `step` of `node`, then `next`. Frames live on
// the call stack, so backtracking allocates nothing.
struct Pending {
  const Node* node;
  std::size_t step;
  const Pending* next;
};

bool run(const Pending* pending, Context& context);

// Matches `field` and then, with the array elements its value came from bound, the rest.
bool match_field(const Field& field, const Pending& rest, Context& context) {
  const json::value& event = context.event;
  for (const Matcher& m : field.any_of) {
    if (m.kind == MatchKind::exists) {
      if (!m.flag) {
        bool found = any_leaf(event, field.path, nullptr, [](const json::value&) { return true; });
        if (!found && run(&rest, context)) return true;
        continue;
      }
      auto visit = [&](const json::value&) { return run(&rest, context); };
      if (any_leaf(event, field.path, &context.bindings, visit)) return true;
      continue;
    }
    if (m.kind == MatchKind::anything_but && is_sns(context.dialect)) {
      // SNS matches anything-but only when no value of the field (no element of a
      // String.Array) is one of the excluded ones.
      bool found = false;
      bool excluded = any_leaf(event, field.path, nullptr, [&](const json::value& v) {
        found = true;
        return !leaf_matches(m, v, context.dialect);
      });
      if (found && !excluded && run(&rest, context)) return true;
      continue;
    }
    auto visit = [&](const json::value& v) {
      return leaf_matches(m, v, context.dialect) && run(&rest, context);
    };
    if (any_leaf(event, field.path, &context.bindings, visit)) return true;
  }
  return false;
}

bool run(const Pending* pending, Context& context) {
  if (!pending) return true;
  const Node& node = *pending->node;
  std::size_t step = pending->step;
  Pending rest{&node, step + 1, pending->next};
  if (step < node.fields.size()) return match_field(node.fields[step], rest, context);

  std::size_t group = step - node.fields.size();
  if (group < node.or_groups.size()) {
    for (const Node& alternative : node.or_groups[group]) {
      Pending frame{&alternative, 0, &rest};
      if (run(&frame, context)) return true;
    }
    return false;
  }
  return run(pending->next, context);
}

}  // namespace

double number_key(double value, Dialect dialect) {
  double scaled = value * (is_sns(dialect) ? 1e5 : 1e6);
  // Beyond 2^53 a double has no fraction left to round.
  return std::fabs(scaled) < 9.0e15 ? std::round(scaled) : scaled;
}

bool matches_node(const Node& node, const json::value& event, Dialect dialect) {
  Context context{event, dialect, {}};
  Pending root{&node, 0, nullptr};
  return run(&root, context);
}

}  // namespace lambent::patterns::detail
