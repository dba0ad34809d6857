#include "lambent/services/cloudwatch/metric_input.h"

#include "lambent/services/cloudwatch/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace lambent::services::cloudwatch {

namespace {

// StandardUnit in the CloudWatch model (botocore 1.43).
constexpr std::array<std::string_view, 27> kUnits = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
};

bool has_visible_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return c != ' ' && c != '\t' && c != '\n' && c != '\r'; });
}

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool namespace_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == '/' || c == '#' || c == ':' || c == ' ';
}

}  // namespace

Status check_namespace(std::string_view ns, std::string_view path, bool writing) {
  if (auto length = check_length(ns, path, 1, 255); !length) return length;
  if (ns.front() == ':' || !has_visible_character(ns) ||
      !std::all_of(ns.begin(), ns.end(), namespace_character)) {
    return invalid_value_for(ns, path);
  }
  // Namespaces starting with "AWS/" belong to AWS services; custom metrics may not use them.
  if (writing && ns.starts_with("AWS/")) return invalid_value_for(ns, path);
  return ok_status();
}

Status check_metric_name(std::string_view name, std::string_view path) {
  if (auto length = check_length(name, path, 1, 255); !length) return length;
  if (!has_visible_character(name) || has_control_character(name)) {
    return invalid_value_for(name, path);
  }
  return ok_status();
}

Status check_unit(std::string_view unit, std::string_view path) {
  if (std::find(kUnits.begin(), kUnits.end(), unit) != kUnits.end()) return ok_status();
  return constraint_error(
      unit.substr(0, 256), path,
      fmt::format("Member must satisfy enum value set: [{}]", fmt::join(kUnits, ", ")));
}

std::optional<metrics::Dimensions> read_dimensions(Reader& reader, const Field& field) {
  metrics::Dimensions dimensions;
  for (const Field& element : reader.list(field, kMaxDimensions)) {
    Field name_field = Reader::member(element, "Name");
    Field value_field = Reader::member(element, "Value");
    auto name = reader.required_string(name_field);
    auto value = reader.required_string(value_field);
    if (!name || !value) return std::nullopt;
    if (auto length = check_length(*name, name_field.path, 1, 255); !length) {
      reader.fail(length.error());
      return std::nullopt;
    }
    if (auto length = check_length(*value, value_field.path, 1, 1024); !length) {
      reader.fail(length.error());
      return std::nullopt;
    }
    // Dimension names and values are ASCII with a visible character; names do not start with
    // a colon.
    if (name->front() == ':' || !is_ascii(*name) || !has_visible_character(*name) ||
        has_control_character(*name)) {
      reader.fail(invalid_value_for(*name, name_field.path));
      return std::nullopt;
    }
    if (!is_ascii(*value) || !has_visible_character(*value) || has_control_character(*value)) {
      reader.fail(invalid_value_for(*value, value_field.path));
      return std::nullopt;
    }
    for (const auto& existing : dimensions) {
      if (existing.name == *name) {
        reader.fail(invalid_value(fmt::format(
            "The parameter {} has the duplicate dimension name {}; each dimension name may "
            "appear once.",
            field.path, *name)));
        return std::nullopt;
      }
    }
    dimensions.push_back(metrics::Dimension{std::move(*name), std::move(*value)});
  }
  if (!reader.ok()) return std::nullopt;
  metrics::normalize(dimensions);
  return dimensions;
}

Status check_query_period(std::int64_t period, std::string_view path) {
  if (period < 1) {
    return constraint_error(std::to_string(period), path,
                            "Member must have value greater than or equal to 1");
  }
  if (period == 1 || period == 5 || period == 10 || period == 20 || period == 30 ||
      period % 60 == 0) {
    return ok_status();
  }
  return invalid_value(fmt::format(
      "The parameter {} must be 1, 5, 10, 20, 30, or a multiple of 60; {} is not.", path, period));
}

Result<metrics::Statistic> read_statistic(std::string_view text, std::string_view path) {
  auto statistic = metrics::parse_statistic(text);
  if (!statistic) {
    return invalid_value(fmt::format(
        "The value {} for parameter {} is not supported. Use Sum, Average, Minimum, Maximum, "
        "SampleCount, or a percentile from p0 to p100 such as p99 or p99.9.",
        text.substr(0, 256), path));
  }
  return statistic;
}

bool is_simple_statistic(std::string_view name) {
  return name == "Sum" || name == "Average" || name == "Minimum" || name == "Maximum" ||
         name == "SampleCount";
}

}  // namespace lambent::services::cloudwatch
