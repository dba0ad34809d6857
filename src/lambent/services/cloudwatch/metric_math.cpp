#include "lambent/services/cloudwatch/metric_math.h"

#include "lambent/services/cloudwatch/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>

namespace lambent::services::cloudwatch {

namespace {

struct Token {
  enum class Kind { number, name, text, symbol, end };
  Kind kind = Kind::end;
  std::string text;
  double number = 0;
};

// Splits an expression into tokens; fails on a character that starts no token.
Result<std::vector<Token>> tokenize(std::string_view expression) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < expression.size()) {
    char c = expression[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token token;
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* first = expression.data() + i;
      auto [end, ec] = std::from_chars(first, expression.data() + expression.size(), token.number);
      if (ec != std::errc())
        return Error{Errc::invalid_parameter,
                     fmt::format("a malformed number at position {}", i + 1)};
      token.kind = Token::Kind::number;
      i += static_cast<std::size_t>(end - first);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t start = i;
      while (i < expression.size() &&
             (std::isalnum(static_cast<unsigned char>(expression[i])) || expression[i] == '_')) {
        ++i;
      }
      token.kind = Token::Kind::name;
      token.text = std::string(expression.substr(start, i - start));
    } else if (c == '"') {
      auto close = expression.find('"', i + 1);
      if (close == std::string_view::npos) {
        return Error{Errc::invalid_parameter,
                     fmt::format("an unterminated string at position {}", i + 1)};
      }
      token.kind = Token::Kind::text;
      token.text = std::string(expression.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (std::string_view("()+-*/,").find(c) != std::string_view::npos) {
      token.kind = Token::Kind::symbol;
      token.text = std::string(1, c);
      ++i;
    } else {
      return Error{Errc::invalid_parameter,
                   static_cast<unsigned char>(c) < 0x80
                       ? fmt::format("the character '{}' at position {}", c, i + 1)
                       : fmt::format("a non-ASCII character at position {}", i + 1)};
    }
    tokens.push_back(std::move(token));
  }
  tokens.push_back(Token{});
  return tokens;
}

// A value during evaluation: a number, or one or more series.
struct MathValue {
  bool scalar = false;
  double number = 0;
  std::vector<TimeSeries> series;
};

// Applies `op` point by point; timestamps where `op` gives no finite value are left out.
template <typename Op>
TimeSeries map_points(const TimeSeries& in, Op op) {
  TimeSeries out;
  for (std::size_t i = 0; i < in.values.size(); ++i) {
    double value = op(in.values[i]);
    if (!std::isfinite(value)) continue;
    out.timestamps_s.push_back(in.timestamps_s[i]);
    out.values.push_back(value);
  }
  return out;
}

double apply(char op, double a, double b) {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    default:
      return b == 0 ? std::nan("") : a / b;
  }
}

class Evaluator {
 public:
  Evaluator(std::vector<Token> tokens, const SeriesLookup& lookup, const MetricIds& metric_ids)
      : tokens_(std::move(tokens)), lookup_(lookup), metric_ids_(metric_ids) {}

  Result<MathValue> run() {
    auto value = expression();
    if (!value) return value;
    if (peek().kind != Token::Kind::end) return unexpected();
    return value;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool at_symbol(char symbol) const {
    return peek().kind == Token::Kind::symbol && peek().text[0] == symbol;
  }
  Error unexpected() const {
    if (peek().kind == Token::Kind::end) return Error{Errc::invalid_parameter, "an unexpected end"};
    return Error{Errc::invalid_parameter,
                 fmt::format("an unexpected '{}'", peek().kind == Token::Kind::number
                                                       ? fmt::format("{}", peek().number)
                                                       : peek().text)};
  }

  Result<MathValue> expression() {
    auto left = term();
    if (!left) return left;
    while (at_symbol('+') || at_symbol('-')) {
      char op = tokens_[pos_++].text[0];
      auto right = term();
      if (!right) return right;
      auto combined = combine(op, std::move(*left), std::move(*right));
      if (!combined) return combined;
      left = std::move(combined);
    }
    return left;
  }

  Result<MathValue> term() {
    auto left = factor();
    if (!left) return left;
    while (at_symbol('*') || at_symbol('/')) {
      char op = tokens_[pos_++].text[0];
      auto right = factor();
      if (!right) return right;
      auto combined = combine(op, std::move(*left), std::move(*right));
      if (!combined) return combined;
      left = std::move(combined);
    }
    return left;
  }

  Result<MathValue> factor() {
    const Token& token = peek();
    if (at_symbol('-')) {
      ++pos_;
      auto inner = factor();
      if (!inner) return inner;
      MathValue zero;
      zero.scalar = true;
      return combine('-', std::move(zero), std::move(*inner));
    }
    if (at_symbol('(')) {
      ++pos_;
      auto inner = expression();
      if (!inner) return inner;
      if (!at_symbol(')')) return unexpected();
      ++pos_;
      return inner;
    }
    if (token.kind == Token::Kind::number) {
      MathValue value;
      value.scalar = true;
      value.number = token.number;
      ++pos_;
      return value;
    }
    if (token.kind == Token::Kind::name) {
      std::string name = token.text;
      ++pos_;
      if (at_symbol('(')) return call(name);
      // Query ids start with a lowercase letter; other names are keywords, such as the SELECT
      // of Metrics Insights.
      if (!std::islower(static_cast<unsigned char>(name[0]))) {
        return Error{Errc::invalid_parameter, fmt::format("the unsupported keyword {}", name)};
      }
      auto series = lookup_(name);
      if (!series) return std::move(series).error();
      MathValue value;
      value.series.push_back(std::move(*series));
      return value;
    }
    return unexpected();
  }

  Result<MathValue> call(const std::string& name) {
    ++pos_;  // '('
    std::vector<MathValue> arguments;
    std::optional<std::string> text_argument;
    while (!at_symbol(')')) {
      if (!arguments.empty() || text_argument) {
        if (!at_symbol(',')) return unexpected();
        ++pos_;
      }
      if (peek().kind == Token::Kind::text) {
        text_argument = tokens_[pos_++].text;
        continue;
      }
      auto argument = expression();
      if (!argument) return argument;
      arguments.push_back(std::move(*argument));
    }
    ++pos_;  // ')'

    if (name == "METRICS") {
      if (!arguments.empty())
        return Error{Errc::invalid_parameter, "METRICS takes no argument or one string"};
      MathValue out;
      for (const auto& id : metric_ids_) {
        if (text_argument && id.find(*text_argument) == std::string::npos) continue;
        auto series = lookup_(id);
        if (!series) return std::move(series).error();
        out.series.push_back(std::move(*series));
      }
      return out;
    }
    if (text_argument)
      return Error{Errc::invalid_parameter, fmt::format("{} takes no string argument", name)};
    if (name == "ABS") {
      if (arguments.size() != 1) return Error{Errc::invalid_parameter, "ABS takes one argument"};
      MathValue value = std::move(arguments[0]);
      value.number = std::fabs(value.number);
      for (auto& one : value.series) one = map_points(one, [](double v) { return std::fabs(v); });
      return value;
    }
    if (name == "SUM" || name == "AVG" || name == "MIN" || name == "MAX")
      return aggregate(name, arguments);
    return Error{Errc::invalid_parameter, fmt::format("the unsupported function {}", name)};
  }

  // Combines every series of the arguments timestamp by timestamp.
  Result<MathValue> aggregate(const std::string& name, const std::vector<MathValue>& arguments) {
    std::map<std::int64_t, std::vector<double>> points;
    for (const auto& argument : arguments) {
      if (argument.scalar)
        return Error{Errc::invalid_parameter,
                     fmt::format("{} takes time series, not numbers", name)};
      for (const auto& one : argument.series) {
        for (std::size_t i = 0; i < one.values.size(); ++i) {
          points[one.timestamps_s[i]].push_back(one.values[i]);
        }
      }
    }
    TimeSeries out;
    for (const auto& [timestamp, values] : points) {
      double result = 0;
      if (name == "SUM" || name == "AVG") {
        for (double v : values) result += v;
        if (name == "AVG") result /= static_cast<double>(values.size());
      } else if (name == "MIN") {
        result = *std::min_element(values.begin(), values.end());
      } else {
        result = *std::max_element(values.begin(), values.end());
      }
      out.timestamps_s.push_back(timestamp);
      out.values.push_back(result);
    }
    MathValue value;
    value.series.push_back(std::move(out));
    return value;
  }

  Result<MathValue> combine(char op, MathValue left, MathValue right) {
    if (left.scalar && right.scalar) {
      left.number = apply(op, left.number, right.number);
      return left;
    }
    if (left.scalar || right.scalar) {
      MathValue out;
      const MathValue& series = left.scalar ? right : left;
      double number = left.scalar ? left.number : right.number;
      bool number_first = left.scalar;
      for (const auto& one : series.series) {
        out.series.push_back(map_points(one, [&](double v) {
          return number_first ? apply(op, number, v) : apply(op, v, number);
        }));
      }
      return out;
    }

    if (left.series.size() != 1 || right.series.size() != 1) {
      return Error{Errc::invalid_parameter,
                   "arithmetic between arrays of time series is not supported"};
    }

    // Two series: the timestamps both have.
    const TimeSeries& a = left.series[0];
    const TimeSeries& b = right.series[0];
    TimeSeries out;
    std::size_t i = 0, k = 0;
    while (i < a.values.size() && k < b.values.size()) {
      if (a.timestamps_s[i] < b.timestamps_s[k]) {
        ++i;
      } else if (b.timestamps_s[k] < a.timestamps_s[i]) {
        ++k;
      } else {
        double value = apply(op, a.values[i], b.values[k]);
        if (std::isfinite(value)) {
          out.timestamps_s.push_back(a.timestamps_s[i]);
          out.values.push_back(value);
        }
        ++i;
        ++k;
      }
    }

    MathValue value;
    value.series.push_back(std::move(out));
    return value;
  }

  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  const SeriesLookup& lookup_;
  const MetricIds& metric_ids_;
};

}  // namespace

Result<TimeSeries> evaluate_expression(std::string_view expression, const SeriesLookup& lookup,
                                       const MetricIds& metric_ids) {
  auto describe = [&](const Error& error) {
    return invalid_value(
        fmt::format("The expression {} is not supported by Lambent's metric math: {}.",
                    expression.substr(0, 256), error.message));
  };
  auto tokens = tokenize(expression);
  if (!tokens) return describe(tokens.error());
  auto value = Evaluator(std::move(*tokens), lookup, metric_ids).run();
  if (!value) {
    // Errors of referenced queries pass through as they are.
    if (!value.error().type.empty()) return std::move(value).error();
    return describe(value.error());
  }
  if (value->scalar || value->series.size() != 1) {
    return describe(Error{Errc::invalid_parameter, "the result must be one time series"});
  }
  return std::move(value->series[0]);
}

}  // namespace lambent::services::cloudwatch
