#include "lambent/services/lambda/service_common.h"

#include "lambent/base/crypto.h"
#include "lambent/services/lambda/errors.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>
#include <ctime>
#include <regex>

namespace lambent::services::lambda {

namespace json = boost::json;

http::Response json_response(unsigned status, const json::value& body,
                             std::string_view request_id) {
  http::Response response;
  response.status = status;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.body = json::serialize(body);
  return response;
}

Result<json::object> parse_body(const std::string& body) {
  if (body.empty()) return json::object();
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return Error{Errc::validation, "Could not parse request body: invalid JSON object",
                 "SerializationException"};
  }
  return std::move(value.as_object());
}

std::string decode_path_segment(std::string_view segment) {
  std::string out;
  if (!http::percent_decode(segment, out)) out = std::string(segment);
  return out;
}

Result<std::optional<std::string>> resolve_qualifier(const FunctionRef& ref,
                                                     const http::Request& request) {
  auto qualifier = http::query_param(request.query(), "Qualifier");
  if (qualifier.found) {
    // The Qualifier shape of GetFunction, DeleteFunction and Invoke in the botocore model.
    static const std::regex pattern{R"(\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)"};
    std::string_view rule;
    if (qualifier.value.size() > 128) {
      rule = "Member must have length less than or equal to 128";
    } else if (!std::regex_match(qualifier.value, pattern)) {
      rule =
          R"(Member must satisfy regular expression pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+)";
    }
    if (!rule.empty()) {
      return validation_error({fmt::format(
          "Value '{}' at 'qualifier' failed to satisfy constraint: {}", qualifier.value, rule)});
    }
  }
  if (qualifier.found && ref.qualifier && *ref.qualifier != qualifier.value) {
    return invalid_parameter(
        "The derived qualifier from the function name does not match the specified "
        "qualifier.");
  }
  if (qualifier.found) return std::optional<std::string>(qualifier.value);
  return ref.qualifier;
}

Status check_revision(const json::object& body, const store::FunctionRecord& record) {
  auto revision = body.find("RevisionId");
  if (revision == body.end() || !revision->value().is_string() ||
      revision->value().as_string() == record.revision_id) {
    return ok_status();
  }
  return Error{Errc::precondition_failed,
               "The Revision Id provided does not match the latest Revision Id. Call the "
               "GetFunction/GetAlias API to retrieve the latest Revision Id"};
}

std::string make_trace_id() {
  return fmt::format("Root=1-{:08x}-{};Sampled=0", static_cast<unsigned>(std::time(nullptr)),
                     random_hex(12));
}

Result<std::int64_t> parse_max_items(const http::Request& request, std::int64_t upper,
                                     std::int64_t fallback) {
  auto param = http::query_param(request.query(), "MaxItems");
  if (!param.found) return fallback;
  std::int64_t value = 0;
  auto [end, ec] =
      std::from_chars(param.value.data(), param.value.data() + param.value.size(), value);
  if (ec != std::errc() || end != param.value.data() + param.value.size()) {
    return validation_error({fmt::format(
        "Value '{}' at 'maxItems' failed to satisfy constraint: Member must be a number",
        param.value)});
  }
  if (value < 1) {
    return validation_error(
        {fmt::format("Value '{}' at 'maxItems' failed to satisfy constraint: "
                     "Member must have value greater than or equal to 1",
                     value)});
  }
  if (value > upper) {
    return validation_error(
        {fmt::format("Value '{}' at 'maxItems' failed to satisfy constraint: "
                     "Member must have value less than or equal to {}",
                     value, upper)});
  }
  return value;
}

Result<std::string> parse_marker(const http::Request& request) {
  auto marker = http::query_param(request.query(), "Marker");
  if (!marker.found || marker.value.empty()) return std::string();
  auto decoded = base64_decode(marker.value);
  if (!decoded || decoded->empty()) return invalid_parameter("Invalid marker: " + marker.value);
  return *decoded;
}

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, field, rule);
}

Error serialization_error(std::string_view field, const boost::json::value& value) {
  return Error{Errc::validation,
               fmt::format("Value '{}' for {} has the wrong type", boost::json::serialize(value), field),
               "SerializationException"};
}

Result<std::optional<int>> bounded_int(const boost::json::object& body, std::string_view key,
                                       std::string_view field, std::int64_t min, std::int64_t max,
                                       std::vector<std::string>& violations) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<int>();
  const auto& v = it->value();
  std::int64_t number = 0;
  if (v.is_int64()) {
    number = v.as_int64();
  } else if (v.is_uint64()) {
    number = INT64_MAX;
  } else {
    return serialization_error(key, v);
  }
  if (number < min) {
    violations.push_back(constraint(std::to_string(number), field,
                                    fmt::format("Member must have value greater than or equal "
                                                "to {}",
                                                min)));
    return std::optional<int>();
  }
  if (number > max) {
    violations.push_back(
        constraint(v.is_uint64() ? std::to_string(v.as_uint64()) : std::to_string(number), field,
                   fmt::format("Member must have value less than or equal to {}", max)));
    return std::optional<int>();
  }
  return std::optional<int>(static_cast<int>(number));
}

}  // namespace lambent::services::lambda
