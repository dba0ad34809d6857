#include "lambent/services/sqs/input.h"

#include "lambent/base/crypto.h"
#include "lambent/services/sqs/errors.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>

namespace lambent::services::sqs {

namespace json = boost::json;

namespace {

Error wrong_type(std::string_view name, std::string_view expected) {
  return invalid_parameter(
      fmt::format("The value for parameter {} is invalid: expected {}.", name, expected));
}

}  // namespace

Result<std::optional<std::string>> optional_string(const json::object& input,
                                                   std::string_view name) {
  const auto* value = input.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<std::string>();
  if (!value->is_string()) return wrong_type(name, "a string");
  return std::optional<std::string>(std::string(value->as_string()));
}

Result<std::string> required_string(const json::object& input, std::string_view name) {
  auto value = optional_string(input, name);
  if (!value) return std::move(value).error();
  if (!value->has_value()) return missing_parameter(name);
  return std::move(**value);
}

Result<std::optional<std::int64_t>> optional_int(const json::object& input, std::string_view name) {
  const auto* value = input.if_contains(name);
  if (value == nullptr || value->is_null()) return std::optional<std::int64_t>();
  if (value->is_int64()) return std::optional<std::int64_t>(value->as_int64());
  if (value->is_uint64() && value->as_uint64() <= INT64_MAX) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(value->as_uint64()));
  }
  if (value->is_string()) {
    std::string_view text = value->as_string();
    std::int64_t number = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return std::optional<std::int64_t>(number);
    }
    return invalid_parameter(fmt::format(
        "Value {} for parameter {} is invalid. Reason: must be an integer.", text, name));
  }
  return wrong_type(name, "an integer");
}

Result<std::map<std::string, std::string>> string_map(const json::object& input,
                                                      std::string_view name) {
  std::map<std::string, std::string> out;
  const auto* value = input.if_contains(name);
  if (value == nullptr || value->is_null()) return out;
  if (!value->is_object()) return wrong_type(name, "a map of strings");
  for (const auto& [key, item] : value->as_object()) {
    if (!item.is_string())
      return wrong_type(fmt::format("{}.{}", name, std::string_view(key)), "a string");
    out.emplace(std::string(key), std::string(item.as_string()));
  }
  return out;
}

Result<std::vector<std::string>> string_list(const json::object& input, std::string_view name) {
  std::vector<std::string> out;
  const auto* value = input.if_contains(name);
  if (value == nullptr || value->is_null()) return out;
  if (value->is_string()) {
    out.emplace_back(value->as_string());
    return out;
  }
  if (!value->is_array()) return wrong_type(name, "a list of strings");
  for (const auto& item : value->as_array()) {
    if (!item.is_string()) return wrong_type(name, "a list of strings");
    out.emplace_back(item.as_string());
  }
  return out;
}

Result<std::vector<store::MessageAttribute>> message_attributes(const json::object& input,
                                                                std::string_view name) {
  std::vector<store::MessageAttribute> out;
  const auto* value = input.if_contains(name);
  if (value == nullptr || value->is_null()) return out;
  if (!value->is_object()) return wrong_type(name, "a map of message attribute values");
  for (const auto& [key, item] : value->as_object()) {
    if (!item.is_object()) {
      return wrong_type(fmt::format("{}.{}", name, std::string_view(key)),
                        "a message attribute value");
    }
    const auto& fields = item.as_object();
    store::MessageAttribute attribute;
    attribute.name = key;
    auto data_type = optional_string(fields, "DataType");
    if (!data_type) return std::move(data_type).error();
    attribute.data_type = data_type->value_or("");
    auto string_value = optional_string(fields, "StringValue");
    if (!string_value) return std::move(string_value).error();
    attribute.string_value = string_value->value_or("");
    auto binary_value = optional_string(fields, "BinaryValue");
    if (!binary_value) return std::move(binary_value).error();
    if (binary_value->has_value()) {
      auto decoded = base64_decode(**binary_value);
      if (!decoded) {
        return invalid_parameter(fmt::format(
            "The BinaryValue of message attribute '{}' is not valid base64.", attribute.name));
      }
      attribute.binary_value = std::move(*decoded);
    }
    if (fields.contains("StringListValues") || fields.contains("BinaryListValues")) {
      return sqs_error("AWS.SimpleQueueService.UnsupportedOperation",
                       "Message attribute list values in SendMessage operation are not "
                       "supported.");
    }
    out.push_back(std::move(attribute));
  }
  return out;
}

}  // namespace lambent::services::sqs
