#include "lambent/services/cloudwatch/input.h"

#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/timestamps.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace lambent::services::cloudwatch {

namespace {

std::string child_path(std::string_view parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  return fmt::format("{}.{}", parent, name);
}

// A short rendering of a value for messages.
std::string describe(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::string:
      return value.as_string().substr(0, 256);
    case Value::Kind::boolean:
      return value.as_bool() ? "true" : "false";
    case Value::Kind::integer:
      return std::to_string(value.as_integer());
    case Value::Kind::number:
      return fmt::format("{}", value.as_number());
    case Value::Kind::timestamp:
      return format_iso8601_ms(value.as_timestamp_ms());
    case Value::Kind::list:
      return "a list";
    case Value::Kind::structure:
    case Value::Kind::map:
      return "a structure";
    case Value::Kind::null:
      return "null";
  }
  return "";
}

std::optional<double> parse_double(std::string_view text) {
  double out = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [end, ec] = std::from_chars(first, last, out);
  if (ec != std::errc() || end != last || first == last) return std::nullopt;
  return out;
}

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
  }
  return count;
}

}  // namespace

Field Reader::member(const Field& parent, std::string_view name) {
  Field field{nullptr, child_path(parent.path, name)};
  if (parent.present() && parent.value->is_object()) field.value = parent.value->find(name);
  return field;
}

void Reader::fail(Error error) {
  if (!error_) error_ = std::move(error);
}

std::vector<Field> Reader::list(const Field& field, std::size_t max) {
  std::vector<Field> out;
  if (!field.present()) return out;
  const Value& value = *field.value;
  // The query protocol sends an empty list as "P=".
  if (value.kind() == Value::Kind::string && value.as_string().empty()) return out;
  if (value.kind() != Value::Kind::list) {
    fail(malformed_input(fmt::format("The parameter {} must be a list.", field.path)));
    return out;
  }
  if (value.items().size() > max) {
    fail(invalid_value(
        fmt::format("The collection {} must not have a size greater than {}.", field.path, max)));
    return out;
  }
  out.reserve(value.items().size());
  for (std::size_t i = 0; i < value.items().size(); ++i) {
    out.push_back(Field{&value.items()[i], fmt::format("{}.member.{}", field.path, i + 1)});
  }
  return out;
}

std::optional<std::string> Reader::string(const Field& field) {
  if (!field.present()) return std::nullopt;
  const Value& value = *field.value;
  if (value.kind() == Value::Kind::string) return value.as_string();
  fail(malformed_input(
      fmt::format("The value {} for parameter {} is not a string.", describe(value), field.path)));
  return std::nullopt;
}

std::optional<std::string> Reader::required_string(const Field& field) {
  if (!field.present()) {
    fail(missing_parameter(field.path));
    return std::nullopt;
  }
  return string(field);
}

std::optional<double> Reader::number(const Field& field) {
  if (!field.present()) return std::nullopt;
  const Value& value = *field.value;
  switch (value.kind()) {
    case Value::Kind::number:
      return value.as_number();
    case Value::Kind::integer:
      return static_cast<double>(value.as_integer());
    case Value::Kind::string: {
      // The query protocol spells special values NaN, Infinity and -Infinity.
      if (auto parsed = parse_double(value.as_string())) return parsed;
      break;
    }
    default:
      break;
  }
  fail(malformed_input(fmt::format("The value {} for parameter {} is not a valid number.",
                                   describe(value), field.path)));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(const Field& field) {
  if (!field.present()) return std::nullopt;
  const Value& value = *field.value;
  if (value.kind() == Value::Kind::integer) return value.as_integer();
  if (value.kind() == Value::Kind::number) {
    double n = value.as_number();
    if (std::isfinite(n) && n == std::floor(n) && std::fabs(n) < 9.0e18) {
      return static_cast<std::int64_t>(n);
    }
  }
  if (value.kind() == Value::Kind::string) {
    const std::string& text = value.as_string();
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return out;
  }
  fail(malformed_input(fmt::format("The value {} for parameter {} is not a valid integer.",
                                   describe(value), field.path)));
  return std::nullopt;
}

std::optional<bool> Reader::boolean(const Field& field) {
  if (!field.present()) return std::nullopt;
  const Value& value = *field.value;
  if (value.kind() == Value::Kind::boolean) return value.as_bool();
  if (value.kind() == Value::Kind::string) {
    if (value.as_string() == "true") return true;
    if (value.as_string() == "false") return false;
  }
  fail(malformed_input(fmt::format("The value {} for parameter {} is not a valid boolean.",
                                   describe(value), field.path)));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::timestamp_ms(const Field& field) {
  if (!field.present()) return std::nullopt;
  const Value& value = *field.value;
  std::optional<double> seconds;
  switch (value.kind()) {
    case Value::Kind::timestamp:
      return value.as_timestamp_ms();
    case Value::Kind::integer:
      seconds = static_cast<double>(value.as_integer());
      break;
    case Value::Kind::number:
      seconds = value.as_number();
      break;
    case Value::Kind::string: {
      if (auto parsed = parse_iso8601_ms(value.as_string())) return parsed;
      seconds = parse_double(value.as_string());
      break;
    }
    default:
      break;
  }
  if (seconds && std::isfinite(*seconds) && std::fabs(*seconds) < 9.0e12) {
    return static_cast<std::int64_t>(std::llround(*seconds * 1000.0));
  }
  fail(malformed_input(
      fmt::format("The value {} for parameter {} is not a valid timestamp; use ISO 8601 "
                  "(2024-05-01T12:00:00Z) or epoch seconds.",
                  describe(value), field.path)));
  return std::nullopt;
}

Status check_length(std::string_view value, std::string_view path, std::size_t min,
                    std::size_t max) {
  std::size_t length = code_points(value);
  if (length < min) {
    return constraint_error(
        value, path, fmt::format("Member must have length greater than or equal to {}", min));
  }
  if (length > max) {
    return constraint_error(value.substr(0, 256), path,
                            fmt::format("Member must have length less than or equal to {}", max));
  }
  return ok_status();
}

}  // namespace lambent::services::cloudwatch
