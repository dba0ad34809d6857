#include "lambent/services/logs/filter_pattern.h"

#include <fmt/format.h>

namespace lambent::services::logs {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Error invalid(std::string detail) {
  return make_error(Errc::invalid_parameter, "Invalid filter pattern: " + std::move(detail));
}

}  // namespace

bool FilterPattern::matches(std::string_view message) const {
  for (const auto& term : required_) {
    if (message.find(term) == std::string_view::npos) return false;
  }
  for (const auto& term : excluded_) {
    if (message.find(term) != std::string_view::npos) return false;
  }
  if (any_of_.empty()) return true;
  for (const auto& term : any_of_) {
    if (message.find(term) != std::string_view::npos) return true;
  }
  return false;
}

Result<FilterPattern> parse_filter_pattern(std::string_view pattern) {
  std::size_t begin = 0;
  std::size_t end = pattern.size();
  while (begin < end && is_space(pattern[begin])) ++begin;
  while (end > begin && is_space(pattern[end - 1])) --end;
  std::string_view text = pattern.substr(begin, end - begin);

  FilterPattern parsed;
  if (text.empty()) return parsed;
  if (text.front() == '{') {
    return invalid(
        "JSON filter patterns ({ $.field = value }) are not supported; use terms, \"quoted "
        "phrases\", -term and ?term");
  }
  if (text.front() == '[') {
    return invalid(
        "space-delimited filter patterns ([w1, w2, ...]) are not supported; use terms, "
        "\"quoted phrases\", -term and ?term");
  }
  if (text.size() >= 2 && text.front() == '%' && text.back() == '%') {
    return invalid(
        "regular expression filter patterns (%regex%) are not supported; use terms, \"quoted "
        "phrases\", -term and ?term");
  }

  std::size_t i = 0;
  while (i < text.size()) {
    if (is_space(text[i])) {
      ++i;
      continue;
    }
    std::size_t term_start = i;
    char op = 0;
    if (text[i] == '-' || text[i] == '?') {
      op = text[i];
      ++i;
      if (i == text.size() || is_space(text[i])) {
        return invalid(
            fmt::format("'{}' at position {} must be followed by a term", op, term_start + 1));
      }
    }
    std::string term;
    if (text[i] == '"') {
      std::size_t quote = i;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i];
        if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '"' || text[i + 1] == '\\')) {
          term.push_back(text[i + 1]);
          i += 2;
          continue;
        }
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        term.push_back(c);
        ++i;
      }
      if (!closed) {
        return invalid(fmt::format(
            "the quoted term that starts at position {} has no closing quote", quote + 1));
      }
      if (i < text.size() && !is_space(text[i])) {
        return invalid(fmt::format(
            "the quoted term that starts at position {} must be followed by a space", quote + 1));
      }
      if (term.empty()) {
        return invalid(fmt::format("the quoted term at position {} is empty", quote + 1));
      }
    } else {
      while (i < text.size() && !is_space(text[i])) {
        if (text[i] == '"') {
          return invalid(fmt::format(
              "the quote at position {} is inside a term; quote the whole term instead", i + 1));
        }
        term.push_back(text[i]);
        ++i;
      }
    }
    if (op == '-') {
      parsed.excluded_.push_back(std::move(term));
    } else if (op == '?') {
      parsed.any_of_.push_back(std::move(term));
    } else {
      parsed.required_.push_back(std::move(term));
    }
  }
  return parsed;
}

}  // namespace lambent::services::logs
