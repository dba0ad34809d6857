#include "lambent/services/sns/model.h"

#include "lambent/base/crypto.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace lambent::services::sns {

namespace json = boost::json;

namespace {

std::string encode_map(const AttributeMap& map) {
  json::object o;
  for (const auto& [key, value] : map) o[key] = value;
  return json::serialize(o);
}

Result<AttributeMap> decode_map(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return make_error(Errc::io, "corrupt stored topic attributes");
  AttributeMap out;
  for (const auto& [key, item] : value.as_object()) {
    if (!item.is_string()) return make_error(Errc::io, "corrupt stored topic attributes");
    out.emplace(std::string(key), std::string(item.as_string()));
  }
  return out;
}

bool is_true(const AttributeMap& map, std::string_view name) {
  auto it = map.find(name);
  if (it == map.end()) return false;
  std::string lower = it->second;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "true";
}

std::string string_field(const json::object& o, std::string_view name) {
  const auto* value = o.if_contains(name);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

bool Topic::fifo() const { return is_true(attributes, "FifoTopic"); }
bool Topic::content_based_deduplication() const {
  return is_true(attributes, "ContentBasedDeduplication");
}
bool Subscription::raw() const { return is_true(attributes, "RawMessageDelivery"); }

store::TopicRecord to_record(const Topic& topic) {
  return store::TopicRecord{.arn = topic.arn,
                            .name = topic.name,
                            .attributes = encode_map(topic.attributes),
                            .tags = encode_map(topic.tags)};
}

Result<Topic> from_record(const store::TopicRecord& record) {
  Topic topic{.arn = record.arn, .name = record.name, .attributes = {}, .tags = {}};
  auto attributes = decode_map(record.attributes);
  if (!attributes) return attributes.error();
  auto tags = decode_map(record.tags);
  if (!tags) return tags.error();
  topic.attributes = std::move(*attributes);
  topic.tags = std::move(*tags);
  return topic;
}

store::SubscriptionRecord to_record(const Subscription& s) {
  return store::SubscriptionRecord{.arn = s.arn,
                                   .topic_arn = s.topic_arn,
                                   .protocol = s.protocol,
                                   .endpoint = s.endpoint,
                                   .owner = s.owner,
                                   .confirmed = s.confirmed,
                                   .token = s.token,
                                   .attributes = encode_map(s.attributes)};
}

Result<Subscription> from_record(const store::SubscriptionRecord& r) {
  auto attributes = decode_map(r.attributes);
  if (!attributes) return attributes.error();
  return Subscription{.arn = r.arn,
                      .topic_arn = r.topic_arn,
                      .protocol = r.protocol,
                      .endpoint = r.endpoint,
                      .owner = r.owner,
                      .confirmed = r.confirmed,
                      .token = r.token,
                      .attributes = std::move(*attributes),
                      .filter = std::nullopt,
                      .filter_rejected = false};
}

std::string encode_notification(const Notification& n) {
  json::array attributes;
  for (const auto& a : n.attributes) {
    attributes.push_back(json::object{{"n", a.name},
                                      {"t", a.data_type},
                                      {"s", a.string_value},
                                      {"b", base64_encode(a.binary_value)}});
  }
  json::object o{{"Type", n.type},
                 {"MessageId", n.message_id},
                 {"TopicArn", n.topic_arn},
                 {"Subject", n.subject},
                 {"Message", n.message},
                 {"Timestamp", n.timestamp},
                 {"Attributes", std::move(attributes)},
                 {"GroupId", n.group_id},
                 {"DeduplicationId", n.deduplication_id},
                 {"SequenceNumber", n.sequence_number},
                 {"Token", n.token}};
  return json::serialize(o);
}

Result<Notification> decode_notification(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return make_error(Errc::io, "corrupt stored notification");
  const auto& o = value.as_object();
  Notification n;
  n.type = string_field(o, "Type");
  n.message_id = string_field(o, "MessageId");
  n.topic_arn = string_field(o, "TopicArn");
  n.subject = string_field(o, "Subject");
  n.message = string_field(o, "Message");
  n.timestamp = string_field(o, "Timestamp");
  n.group_id = string_field(o, "GroupId");
  n.deduplication_id = string_field(o, "DeduplicationId");
  n.sequence_number = string_field(o, "SequenceNumber");
  n.token = string_field(o, "Token");
  if (const auto* attributes = o.if_contains("Attributes"); attributes && attributes->is_array()) {
    for (const auto& item : attributes->as_array()) {
      if (!item.is_object()) continue;
      const auto& a = item.as_object();
      auto binary = base64_decode(string_field(a, "b"));
      n.attributes.push_back(store::MessageAttribute{.name = string_field(a, "n"),
                                                     .data_type = string_field(a, "t"),
                                                     .string_value = string_field(a, "s"),
                                                     .binary_value = binary ? *binary : ""});
    }
  }
  return n;
}

std::string format_timestamp(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

namespace {

// Message attribute errors are ParameterValueInvalid (InvalidParameterValueException), and
// their messages carry no "Invalid parameter:" prefix.
Error invalid_value(std::string message) {
  return sns_error(Errc::invalid_parameter, "ParameterValueInvalid", std::move(message));
}

// Names use A-Z, a-z, 0-9, '_', '-' and '.', and neither start nor end with '.' nor repeat it.
Status check_attribute_name(std::string_view name) {
  if (name.front() == '.') {
    return invalid_value("Invalid message attribute name starting with character '.' was found.");
  }
  if (name.back() == '.') {
    return invalid_value("Invalid message attribute name ending with character '.' was found.");
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') {
      return invalid_value(fmt::format(
          "Invalid non-alphanumeric character '#x{:X}' was found in the message attribute "
          "name. Can only include alphanumeric characters, hyphens, underscores, or dots.",
          c));
    }
    if (c == '.' && name[i - 1] == '.') {
      return invalid_value("Message attribute name can not have successive '.' character.");
    }
  }
  if (name.size() > 256) {
    return invalid_value(fmt::format("Message attribute name '{}' is longer than 256 characters.",
                                     name.substr(0, 32)));
  }
  return ok_status();
}

}  // namespace

Result<std::vector<store::MessageAttribute>> read_message_attributes(const Params& params,
                                                                     std::string_view prefix) {
  std::vector<store::MessageAttribute> out;
  std::string entries = std::string(prefix) + ".entry";
  for (int index : params.indexes(entries)) {
    std::string base = fmt::format("{}.{}.", entries, index);
    store::MessageAttribute attribute;
    attribute.name = params.get(base + "Name");
    attribute.data_type = params.get(base + "Value.DataType");
    if (attribute.name.empty()) {
      return invalid_value("The request must contain non-empty message attribute name.");
    }
    if (auto checked = check_attribute_name(attribute.name); !checked) return checked.error();
    std::string_view type = attribute.data_type;
    std::string_view base_type = type.substr(0, type.find('.'));
    if (attribute.data_type.empty()) {
      return invalid_value(
          fmt::format("The message attribute '{}' must contain non-empty message attribute value.",
                      attribute.name));
    }
    if (base_type != "String" && base_type != "Number" && base_type != "Binary") {
      return invalid_value(fmt::format(
          "The message attribute '{}' has an invalid message attribute type, the set of "
          "supported type prefixes is Binary, Number, and String.",
          attribute.name));
    }
    bool binary = base_type == "Binary";
    const auto* value = params.find(base + (binary ? "Value.BinaryValue" : "Value.StringValue"));
    if (!value) {
      return invalid_value(
          fmt::format("The message attribute '{}' with type '{}' must use field '{}'.",
                      attribute.name, attribute.data_type, binary ? "Binary" : "String"));
    }
    if (binary) {
      auto decoded = base64_decode(*value);
      if (!decoded) {
        return invalid_value(
            fmt::format("The message attribute '{}' has a BinaryValue that is not valid base64.",
                        attribute.name));
      }
      attribute.binary_value = std::move(*decoded);
    } else {
      attribute.string_value = *value;
    }
    if (attribute.binary_value.empty() && attribute.string_value.empty()) {
      return invalid_value(fmt::format(
          "The message attribute '{}' must contain non-empty message attribute value for "
          "message attribute type '{}'.",
          attribute.name, attribute.data_type));
    }
    if (base_type == "Number") {
      char* end = nullptr;
      double number = std::strtod(attribute.string_value.c_str(), &end);
      if (end != attribute.string_value.c_str() + attribute.string_value.size() ||
          !std::isfinite(number)) {
        return invalid_value(
            fmt::format("Could not cast message attribute '{}' value to number.", attribute.name));
      }
    }
    if (type == "String.Array") {
      boost::system::error_code ec;
      auto parsed = json::parse(attribute.string_value, ec);
      if (ec || !parsed.is_array()) {
        return invalid_value(fmt::format(
            "The message attribute '{}' with type 'String.Array' has an invalid value: it must "
            "be a JSON array.",
            attribute.name));
      }
    }
    out.push_back(std::move(attribute));
  }
  if (out.size() > 10) {
    return invalid_parameter(fmt::format(
        "Invalid parameter: Number of message attributes [{}] exceeds the allowed maximum [10].",
        out.size()));
  }
  return out;
}

std::size_t message_size(std::string_view message,
                         const std::vector<store::MessageAttribute>& attributes) {
  std::size_t size = message.size();
  for (const auto& a : attributes) {
    size += a.name.size() + a.data_type.size() + a.string_value.size() + a.binary_value.size();
  }
  return size;
}

Status read_message_structure(PublishInput& input) {
  boost::system::error_code ec;
  auto value = json::parse(input.message, ec);
  if (ec || !value.is_object()) {
    return invalid_parameter(
        "Invalid parameter: Message Structure - JSON message body failed to parse");
  }
  const auto& o = value.as_object();
  const auto* fallback = o.if_contains("default");
  if (!fallback || !fallback->is_string()) {
    return invalid_parameter(
        "Invalid parameter: Message Structure - No default entry in JSON message body");
  }
  // Entries whose value is not a string are ignored, as SNS ignores them.
  for (const auto& [key, item] : o) {
    if (key == "default" || !item.is_string()) continue;
    input.per_protocol[std::string(key)] = std::string(item.as_string());
  }
  input.message = std::string(fallback->as_string());
  return ok_status();
}

std::optional<std::int64_t> RetryPolicy::delay_ms(int retry) const {
  if (retry < 1 || retry > num_retries) return std::nullopt;
  std::int64_t min_ms = std::int64_t{min_delay_target} * 1000;
  std::int64_t max_ms = std::int64_t{max_delay_target} * 1000;
  if (retry <= num_no_delay_retries) return 0;
  if (retry <= num_no_delay_retries + num_min_delay_retries) return min_ms;
  int backoff = num_retries - num_no_delay_retries - num_min_delay_retries - num_max_delay_retries;
  int step = retry - num_no_delay_retries - num_min_delay_retries;
  if (step > backoff || backoff <= 0) return max_ms;
  double fraction = backoff == 1 ? 1.0 : static_cast<double>(step - 1) / (backoff - 1);
  double delay = 0;
  if (backoff_function == "exponential" && min_ms > 0) {
    delay = min_ms * std::pow(static_cast<double>(max_ms) / min_ms, fraction);
  } else if (backoff_function == "geometric") {
    delay = min_ms + (max_ms - min_ms) * fraction * fraction * fraction;
  } else if (backoff_function == "arithmetic") {
    delay = min_ms + (max_ms - min_ms) * fraction * fraction;
  } else {
    delay = min_ms + (max_ms - min_ms) * fraction;
  }
  return static_cast<std::int64_t>(delay);
}

RetryPolicy managed_endpoint_policy() {
  return RetryPolicy{.num_retries = 100015,
                     .num_no_delay_retries = 3,
                     .num_min_delay_retries = 2,
                     .num_max_delay_retries = 100000,
                     .min_delay_target = 1,
                     .max_delay_target = 20,
                     .backoff_function = "exponential"};
}

RetryPolicy default_http_policy() { return RetryPolicy{}; }

namespace {

Result<json::object> parse_object(std::string_view text, std::string_view attribute) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) {
    return invalid_parameter(
        fmt::format("Invalid parameter: Attributes Reason: {}: Invalid JSON", attribute));
  }
  return std::move(value.as_object());
}

Status apply_retry_fields(const json::object& o, RetryPolicy& policy) {
  auto read_int = [&](std::string_view key, int& field, int low, int high) -> Status {
    const auto* value = o.if_contains(key);
    if (!value) return ok_status();
    if (!value->is_int64() || value->as_int64() < low || value->as_int64() > high) {
      return invalid_parameter(
          fmt::format("Invalid parameter: DeliveryPolicy: {} must be an integer from {} to {}", key,
                      low, high));
    }
    field = static_cast<int>(value->as_int64());
    return ok_status();
  };
  if (auto s = read_int("numRetries", policy.num_retries, 0, 100); !s) return s;
  if (auto s = read_int("numNoDelayRetries", policy.num_no_delay_retries, 0, 100); !s) return s;
  if (auto s = read_int("numMinDelayRetries", policy.num_min_delay_retries, 0, 100); !s) return s;
  if (auto s = read_int("numMaxDelayRetries", policy.num_max_delay_retries, 0, 100); !s) return s;
  if (auto s = read_int("minDelayTarget", policy.min_delay_target, 0, 3600); !s) return s;
  if (auto s = read_int("maxDelayTarget", policy.max_delay_target, 0, 3600); !s) return s;
  if (const auto* f = o.if_contains("backoffFunction")) {
    std::string name = f->is_string() ? std::string(f->as_string()) : "";
    if (name != "linear" && name != "arithmetic" && name != "geometric" && name != "exponential") {
      return invalid_parameter(
          "Invalid parameter: DeliveryPolicy: backoffFunction must be one of linear, "
          "arithmetic, geometric, exponential");
    }
    policy.backoff_function = name;
  }
  if (policy.min_delay_target > policy.max_delay_target) {
    return invalid_parameter(
        "Invalid parameter: DeliveryPolicy: minDelayTarget must not exceed maxDelayTarget");
  }
  if (policy.num_no_delay_retries + policy.num_min_delay_retries + policy.num_max_delay_retries >
      policy.num_retries) {
    return invalid_parameter(
        "Invalid parameter: DeliveryPolicy: numNoDelayRetries, numMinDelayRetries and "
        "numMaxDelayRetries together must not exceed numRetries");
  }
  return ok_status();
}

const json::object* retry_section(const json::object& o) {
  if (const auto* healthy = o.if_contains("healthyRetryPolicy"); healthy && healthy->is_object()) {
    return &healthy->as_object();
  }
  if (const auto* http = o.if_contains("http"); http && http->is_object()) {
    const auto* inner = http->as_object().if_contains("defaultHealthyRetryPolicy");
    if (inner && inner->is_object()) return &inner->as_object();
  }
  return nullptr;
}

}  // namespace

Result<RetryPolicy> read_retry_policy(std::string_view delivery_policy, RetryPolicy base) {
  auto o = parse_object(delivery_policy, "DeliveryPolicy");
  if (!o) return o.error();
  if (const auto* section = retry_section(*o)) {
    if (auto applied = apply_retry_fields(*section, base); !applied) return applied.error();
  }
  return base;
}

Status check_delivery_policy(std::string_view text) {
  auto policy = read_retry_policy(text, default_http_policy());
  if (!policy) return policy.error();
  return ok_status();
}

std::string effective_delivery_policy(const Topic& topic) {
  RetryPolicy policy = default_http_policy();
  if (auto it = topic.attributes.find("DeliveryPolicy"); it != topic.attributes.end()) {
    auto read = read_retry_policy(it->second, policy);
    if (read) policy = *read;
  }
  json::object retry{{"minDelayTarget", policy.min_delay_target},
                     {"maxDelayTarget", policy.max_delay_target},
                     {"numRetries", policy.num_retries},
                     {"numMaxDelayRetries", policy.num_max_delay_retries},
                     {"numNoDelayRetries", policy.num_no_delay_retries},
                     {"numMinDelayRetries", policy.num_min_delay_retries},
                     {"backoffFunction", policy.backoff_function}};
  json::object http{
      {"defaultHealthyRetryPolicy", std::move(retry)},
      {"disableSubscriptionOverrides", false},
      {"defaultRequestPolicy", json::object{{"headerContentType", "text/plain; charset=UTF-8"}}}};
  return json::serialize(json::object{{"http", std::move(http)}});
}

Result<std::string> read_redrive_policy(std::string_view text) {
  auto o = parse_object(text, "RedrivePolicy");
  if (!o) return o.error();
  std::string arn = string_field(*o, "deadLetterTargetArn");
  if (!arn.starts_with("arn:aws:sqs:")) {
    return invalid_parameter(
        "Invalid parameter: RedrivePolicy: deadLetterTargetArn is missing or is not the ARN of "
        "an SQS queue");
  }
  return arn;
}

}  // namespace lambent::services::sns
