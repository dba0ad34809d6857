#include "lambent/patterns/parse.h"

#include "lambent/patterns/case_fold.h"
#include "lambent/patterns/ip_address.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>

namespace lambent::patterns::detail {
namespace json = boost::json;

namespace {

using Check = std::optional<Failure>;

Failure fail(std::string reason) { return Failure{std::move(reason)}; }

bool is_sns(Dialect d) { return d == Dialect::sns_attributes || d == Dialect::sns_body; }

bool is_number(const json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double to_double(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

// A JSON value as a message shows it: strings bare, everything else as JSON text.
std::string shown(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return json::serialize(v);
}

std::string quoted_path(std::string_view path) { return "\"" + std::string(path) + "\""; }

class Compiler {
 public:
  explicit Compiler(Dialect dialect) : dialect_(dialect) {}

  Check compile_object(const json::object& object, const std::string& prefix, Node& out) {
    for (const auto& [key, value] : object) {
      if (key == "$or") {
        if (auto failure = compile_or(value, prefix, out)) return failure;
        continue;
      }
      std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
      if (value.is_object()) {
        if (dialect_ == Dialect::sns_attributes) {
          return Failure{
              "Filter policy scope MessageAttributes does not support nested filter policy", true};
        }
        if (auto failure = compile_object(value.get_object(), path, out)) return failure;
      } else if (value.is_array()) {
        if (value.get_array().empty()) return fail("Empty arrays are not allowed");
        Field field;
        field.path = std::move(path);
        for (const json::value& rule : value.get_array()) {
          Matcher matcher;
          if (auto failure = compile_rule(rule, field.path, matcher)) return failure;
          field.any_of.push_back(std::move(matcher));
        }
        out.fields.push_back(std::move(field));
      } else {
        return fail("\"" + std::string(key) + "\" must be an object or an array");
      }
    }
    return std::nullopt;
  }

 private:
  Check compile_or(const json::value& value, const std::string& prefix, Node& out) {
    if (!value.is_array()) return fail("\"$or\" must be an array of objects");
    const json::array& alternatives = value.get_array();
    if (alternatives.empty()) return fail("Empty arrays are not allowed");
    std::vector<Node> group;
    for (const json::value& alternative : alternatives) {
      if (!alternative.is_object()) return fail("\"$or\" must be an array of objects");
      Node node;
      if (auto failure = compile_object(alternative.get_object(), prefix, node)) return failure;
      group.push_back(std::move(node));
    }
    out.or_groups.push_back(std::move(group));
    return std::nullopt;
  }

  // A rule the dialect does not accept. SNS words these as an unknown match type, as it does
  // for any operator it does not know.
  Failure unsupported(std::string_view what, std::string_view path) {
    if (is_sns(dialect_)) return fail("Unrecognized match type " + std::string(what));
    return fail(std::string(what) + " is not supported in Lambda event filtering (field " +
                quoted_path(path) + ")");
  }

  Check compile_rule(const json::value& rule, std::string_view path, Matcher& out) {
    if (rule.is_string()) {
      out.kind = MatchKind::exact_string;
      out.text = rule.get_string();
    } else if (is_number(rule)) {
      out.kind = MatchKind::exact_number;
      out.number = number_key(to_double(rule), dialect_);
      out.integral = !rule.is_double();
    } else if (rule.is_bool()) {
      out.kind = MatchKind::exact_bool;
      out.flag = rule.get_bool();
    } else if (rule.is_null()) {
      out.kind = MatchKind::exact_null;
    } else if (rule.is_object()) {
      const json::object& object = rule.get_object();
      if (object.size() != 1) return fail("Only one key allowed in match expression");
      const auto& entry = *object.begin();
      return compile_operator(entry.key(), entry.value(), path, out);
    } else {
      return fail("Match value must be String, number, true, false, or null");
    }
    return std::nullopt;
  }

  Check compile_operator(std::string_view op, const json::value& arg, std::string_view path,
                         Matcher& out) {
    if (op == "prefix" || op == "suffix") {
      out.kind = op == "prefix" ? MatchKind::prefix : MatchKind::suffix;
      return compile_affix(op, arg, out);
    }
    if (op == "equals-ignore-case") {
      if (!arg.is_string()) return fail("equals-ignore-case match pattern must be a string");
      out.kind = MatchKind::equals_ignore_case;
      out.text = fold_case(arg.get_string());
      return std::nullopt;
    }
    if (op == "wildcard") {
      if (dialect_ != Dialect::eventbridge) return unsupported("wildcard", path);
      if (!arg.is_string()) return fail("wildcard match pattern must be a string");
      out.kind = MatchKind::wildcard;
      out.text = arg.get_string();
      return check_wildcard(out.text);
    }
    if (op == "anything-but") return compile_anything_but(arg, path, out);
    if (op == "numeric") return compile_numeric(arg, out);
    if (op == "exists") {
      if (!arg.is_bool()) return fail("exists match pattern must be either true or false.");
      out.kind = MatchKind::exists;
      out.flag = arg.get_bool();
      return std::nullopt;
    }
    if (op == "cidr") return compile_cidr(arg, out);
    return fail("Unrecognized match type " + std::string(op));
  }

  // {"prefix": "text"} or, outside SNS, {"prefix": {"equals-ignore-case": "text"}}.
  Check compile_affix(std::string_view op, const json::value& arg, Matcher& out) {
    std::string message = std::string(op) + " match pattern must be a string";
    if (arg.is_string()) {
      out.text = arg.get_string();
      return std::nullopt;
    }
    if (arg.is_object() && !is_sns(dialect_)) {
      const json::object& object = arg.get_object();
      auto it = object.find("equals-ignore-case");
      if (object.size() == 1 && it != object.end() && it->value().is_string()) {
        out.flag = true;
        out.text = fold_case(it->value().get_string());
        return std::nullopt;
      }
    }
    return fail(std::move(message));
  }

  Check compile_anything_but(const json::value& arg, std::string_view path, Matcher& out) {
    out.kind = MatchKind::anything_but;
    if (arg.is_string() || is_number(arg)) {
      Matcher inner;
      if (auto failure = compile_rule(arg, path, inner)) return failure;
      out.excluded.push_back(std::move(inner));
      return std::nullopt;
    }

    if (arg.is_array()) {
      if (arg.get_array().empty()) return fail("Empty arrays are not allowed");
      for (const json::value& value : arg.get_array()) {
        if (!value.is_string() && !is_number(value)) {
          return fail("Inside anything but list, start|null|boolean is not supported.");
        }
        Matcher inner;
        if (auto failure = compile_rule(value, path, inner)) return failure;
        out.excluded.push_back(std::move(inner));
      }
      return std::nullopt;
    }

    if (!arg.is_object()) {
      return fail("Value of anything-but must be an array or single string/number value.");
    }

    const json::object& object = arg.get_object();
    if (object.size() != 1) return fail("Only one key allowed in match expression");
    const auto& entry = *object.begin();
    std::string_view op = entry.key();
    if (op != "prefix" && op != "suffix" && op != "equals-ignore-case" && op != "wildcard") {
      return fail("Unsupported anything-but pattern: " + std::string(op));
    }

    if (dialect_ == Dialect::lambda) {
      return fail("anything-but with " + std::string(op) +
                  " is not supported in Lambda event filtering (field " + quoted_path(path) + ")");
    }
    if (is_sns(dialect_) && op != "prefix") {
      return fail("Unsupported anything-but pattern: " + std::string(op));
    }
    return compile_anything_but_operator(op, entry.value(), out);
  }

  // The inner operator of {"anything-but": {op: value}}, where value is a string or a list.
  Check compile_anything_but_operator(std::string_view op, const json::value& value, Matcher& out) {
    bool affix = op == "prefix" || op == "suffix";
    std::string type_message =
        affix ? "prefix/suffix match pattern must be a string"
        : op == "wildcard"
            ? "wildcard match pattern must be a string"
            : "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
              "supported.";

    auto add = [&](const json::value& item) -> Check {
      if (!item.is_string()) return fail(type_message);
      std::string_view text = item.get_string();
      Matcher inner;
      if (affix) {
        if (text.empty()) return fail("Null prefix/suffix not allowed");
        inner.kind = op == "prefix" ? MatchKind::prefix : MatchKind::suffix;
        inner.text = text;
      } else if (op == "wildcard") {
        inner.kind = MatchKind::wildcard;
        inner.text = text;
        if (auto failure = check_wildcard(inner.text)) return failure;
      } else {
        inner.kind = MatchKind::equals_ignore_case;
        inner.text = fold_case(text);
      }
      out.excluded.push_back(std::move(inner));
      return std::nullopt;
    };

    if (value.is_array()) {
      if (value.get_array().empty()) return fail("Empty arrays are not allowed");
      for (const json::value& item : value.get_array()) {
        if (auto failure = add(item)) return failure;
      }
      return std::nullopt;
    }
    if (affix && value.is_object()) {
      return fail("Value of anything-but must be an array or single string/number value.");
    }
    return add(value);
  }

  // ["<", 5], [">", 0, "<=", 5], ["=", 3.5]: a lower bound may be followed by an upper one.
  Check compile_numeric(const json::value& arg, Matcher& out) {
    if (!arg.is_array()) return fail("Value of numeric must be an array.");
    const json::array& terms = arg.get_array();
    out.kind = MatchKind::numeric;
    if (terms.empty()) return fail("Invalid member in numeric match: ]");

    if (!terms[0].is_string()) return fail("Invalid member in numeric match: " + shown(terms[0]));
    std::string_view first = terms[0].get_string();
    if (first != "<" && first != "<=" && first != "=" && first != ">" && first != ">=") {
      return fail("Unrecognized numeric range operator: " + std::string(first));
    }
    if (terms.size() < 2 || !is_number(terms[1])) {
      return fail("Value of " + std::string(first == "=" ? "equals" : first) + " must be numeric");
    }
    double first_value = number_key(to_double(terms[1]), dialect_);
    if (first == "=") {
      out.has_lower = out.has_upper = out.lower_inclusive = out.upper_inclusive = true;
      out.lower = out.upper = first_value;
    } else if (first[0] == '>') {
      out.has_lower = true;
      out.lower_inclusive = first == ">=";
      out.lower = first_value;
    } else {
      out.has_upper = true;
      out.upper_inclusive = first == "<=";
      out.upper = first_value;
    }
    if (terms.size() == 2) return std::nullopt;

    if (first[0] != '>') return fail("Too many elements in numeric expression");
    if (!terms[2].is_string()) return fail("Bad value in numeric range: " + shown(terms[2]));
    std::string_view second = terms[2].get_string();
    if (second != "<" && second != "<=") {
      return fail("Bad numeric range operator: " + std::string(second));
    }
    if (terms.size() < 4 || !is_number(terms[3])) {
      return fail("Value of " + std::string(second) + " must be numeric");
    }
    double second_value = number_key(to_double(terms[3]), dialect_);
    if (second_value <= first_value) return fail("Bottom must be less than top");
    if (terms.size() > 4) return fail("Too many terms in numeric range expression");
    out.has_upper = true;
    out.upper_inclusive = second == "<=";
    out.upper = second_value;
    return std::nullopt;
  }

  Check compile_cidr(const json::value& arg, Matcher& out) {
    // AWS rejects a cidr that is not a string with the prefix message.
    if (!arg.is_string()) return fail("prefix match pattern must be a string");
    std::string_view text = arg.get_string();
    std::size_t slash = text.find('/');
    if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos) {
      return fail("Malformed CIDR, one '/' required");
    }
    std::string_view address = text.substr(0, slash);
    std::string_view mask = text.substr(slash + 1);
    bool digits = !mask.empty() && mask.size() <= 3;
    for (char c : mask) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (!digits) return fail("Malformed CIDR, mask bits must be an integer");

    out.kind = MatchKind::cidr;
    if (!parse_ip_address(address, out.network.bytes, out.network.v6)) {
      return fail("Nonstandard IP address: " + std::string(address));
    }
    out.network.bits = std::stoi(std::string(mask));
    int max_bits = out.network.v6 ? 128 : 32;
    if (out.network.bits > max_bits) {
      return fail("Malformed CIDR, mask bits must be between 0 and " + std::to_string(max_bits));
    }
    return std::nullopt;
  }

  // Rejects "**", escapes other than "\*" and "\\", and patterns whose matching could
  // backtrack heavily.
  Check check_wildcard(std::string_view text) {
    int stars = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\') {
        if (i + 1 >= text.size() || (text[i + 1] != '*' && text[i + 1] != '\\')) {
          return fail("Invalid escape character at pos " + std::to_string(i));
        }
        ++i;
        continue;
      }
      if (text[i] != '*') continue;
      if (i > 0 && text[i - 1] == '*') {
        return fail("Consecutive wildcard characters at pos " + std::to_string(i));
      }
      ++stars;
    }
    // NOTE: AWS measures the complexity of the state machine a rule builds, which is not
    // reproduced here. This bound rejects the documented too-complex example
    // ("*:*:*:*:*:event-bus/*", six wildcards) and accepts the ARN and path patterns with
    // one to three wildcards that the documentation shows.
    if (stars > 5) {
      return fail(
          "Rule is too complex - try using fewer wildcard characters or fewer repeating "
          "character sequences after a wildcard character");
    }
    return std::nullopt;
  }

  Dialect dialect_;
};

// The SNS complexity measure: the product, over the arrays of rules, of each array's length
// times its nesting depth, with the alternatives of an "$or" summed.
std::size_t count_combinations(const json::object& object, std::size_t depth,
                               std::size_t combinations) {
  for (const auto& [key, value] : object) {
    if (value.is_object()) {
      combinations = count_combinations(value.get_object(), depth + 1, combinations);
    } else if (value.is_array() && key == "$or") {
      std::size_t sum = 0;
      for (const json::value& alternative : value.get_array()) {
        if (alternative.is_object()) {
          sum += count_combinations(alternative.get_object(), depth, combinations);
        }
      }
      combinations = sum;
    } else if (value.is_array()) {
      combinations *= value.get_array().size() * depth;
    }
    // Capped so that a huge policy cannot overflow; anything past the cap is rejected anyway.
    if (combinations > 1'000'000) combinations = 1'000'000;
  }
  return combinations;
}

}  // namespace

std::optional<Failure> compile_pattern(const json::value& pattern, Dialect dialect, Node& out) {
  if (!pattern.is_object()) return fail("Filter is not an object");
  const json::object& object = pattern.get_object();
  if (is_sns(dialect)) {
    if (object.size() > kSnsMaxPolicyKeys) {
      return fail("Filter policy can not have more than " + std::to_string(kSnsMaxPolicyKeys) +
                  " keys");
    }
    if (count_combinations(object, 1, 1) > kSnsMaxCombinations) {
      return fail("Filter policy is too complex");
    }
  }
  return Compiler(dialect).compile_object(object, "", out);
}

}  // namespace lambent::patterns::detail
