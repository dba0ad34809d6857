// Topic operations: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes and tags.
#include "lambent/services/sns/sns_service.h"

#include "lambent/base/crypto.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace lambent::services::sns {

namespace {

constexpr std::size_t kPageSize = 100;
constexpr std::size_t kMaxTags = 50;

// Attributes CreateTopic and SetTopicAttributes accept (FifoTopic only at creation).
constexpr std::array<std::string_view, 23> kTopicAttributes = {
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ContentBasedDeduplication",
    "FifoTopic",
    "DataProtectionPolicy",
    "ArchivePolicy",
    "FifoThroughputScope",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
};

bool valid_topic_name(std::string_view name) {
  if (name.ends_with(".fifo")) name.remove_suffix(5);
  if (name.empty() || name.size() > 251) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status check_topic_attribute(std::string_view name, std::string_view value, bool creating,
                             bool fifo) {
  if (std::find(kTopicAttributes.begin(), kTopicAttributes.end(), name) == kTopicAttributes.end() ||
      (name == "FifoTopic" && !creating)) {
    return invalid_parameter("Invalid parameter: AttributeName");
  }
  if (name == "FifoTopic" || name == "ContentBasedDeduplication") {
    std::string v = lower(value);
    if (v != "true" && v != "false") {
      return invalid_parameter(fmt::format(
          "Invalid parameter: Attributes Reason: {}: Invalid value [{}]. Must be true or false.",
          name, value));
    }
    if (name == "ContentBasedDeduplication" && !fifo && v == "true") {
      return invalid_parameter(
          "Invalid parameter: Attributes Reason: Content based deduplication can only be set "
          "for FIFO topics");
    }
  }
  if (name == "DeliveryPolicy") return check_delivery_policy(value);
  if (name == "DisplayName" && value.size() > 100) {
    return invalid_parameter("Invalid parameter: DisplayName");
  }
  return ok_status();
}

// The account and name of "arn:aws:sns:REGION:ACCOUNT:NAME", or nullopt.
bool well_formed_topic_arn(std::string_view arn) {
  if (!arn.starts_with("arn:aws:sns:")) return false;
  std::string_view rest = arn.substr(12);
  auto region_end = rest.find(':');
  if (region_end == std::string_view::npos) return false;
  auto account_end = rest.find(':', region_end + 1);
  if (account_end == std::string_view::npos) return false;
  std::string_view name = rest.substr(account_end + 1);
  return valid_topic_name(name);
}

Result<AttributeMap> read_tags(const Params& params) {
  AttributeMap tags;
  for (int index : params.indexes("Tags.member")) {
    std::string base = fmt::format("Tags.member.{}.", index);
    const auto* key = params.find(base + "Key");
    const auto* value = params.find(base + "Value");
    if (!key || key->empty() || key->size() > 128) {
      return sns_error(Errc::invalid_parameter, "InvalidParameter",
                       "Invalid parameter: Tags Reason: Tag keys must be between 1 and 128 "
                       "characters");
    }
    if (!value || value->size() > 256) {
      return sns_error(Errc::invalid_parameter, "InvalidParameter",
                       "Invalid parameter: Tags Reason: Tag values must be between 0 and 256 "
                       "characters");
    }
    tags[*key] = *value;
  }
  return tags;
}

Error tag_limit() {
  return sns_error(Errc::invalid_parameter, "TagLimitExceeded",
                   "Could not complete request: tag quota of per resource exceeded");
}

std::string attributes_xml(const AttributeMap& attributes) {
  Xml xml;
  xml.open("Attributes");
  for (const auto& [key, value] : attributes) {
    xml.open("entry").leaf("key", key).leaf("value", value).close("entry");
  }
  xml.close("Attributes");
  return xml.take();
}

}  // namespace

Result<Topic*> SnsService::find_topic(std::string_view arn, std::string_view parameter) {
  if (!well_formed_topic_arn(arn)) {
    return invalid_parameter(fmt::format("Invalid parameter: {}", parameter));
  }
  auto it = topics_.find(arn);
  if (it == topics_.end()) return not_found("Topic does not exist");
  return &it->second;
}

Task<Status> SnsService::save_topic(const Topic& topic) {
  co_return co_await store_.put_topic(to_record(topic));
}

Task<SnsService::Output> SnsService::create_topic(const Params& params) {
  std::string name = params.get("Name");
  auto attributes_list = params.map("Attributes");
  AttributeMap attributes;
  for (auto& [key, value] : attributes_list) attributes[key] = value;
  bool fifo = false;
  if (auto it = attributes.find("FifoTopic"); it != attributes.end()) {
    fifo = lower(it->second) == "true";
  }
  if (fifo && !name.ends_with(".fifo")) {
    co_return invalid_parameter(
        "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only "
        "uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
        "between 1 and 256 characters long.");
  }
  if (!valid_topic_name(name) || (!fifo && name.ends_with(".fifo"))) {
    co_return invalid_parameter("Invalid parameter: Topic Name");
  }
  for (const auto& [key, value] : attributes) {
    auto checked = check_topic_attribute(key, value, true, fifo);
    if (!checked) co_return checked.error();
  }
  if (!fifo) attributes.erase("FifoTopic");
  if (fifo) {
    attributes["FifoTopic"] = "true";
    if (!attributes.contains("ContentBasedDeduplication")) {
      attributes["ContentBasedDeduplication"] = "false";
    }
  }
  auto tags = read_tags(params);
  if (!tags) co_return tags.error();
  if (tags->size() > kMaxTags) co_return tag_limit();

  std::string arn = fmt::format("arn:aws:sns:{}:{}:{}", options_.region, options_.account_id, name);
  Xml xml;
  xml.leaf("TopicArn", arn);
  if (auto it = topics_.find(arn); it != topics_.end()) {
    // CreateTopic is idempotent for the same attributes and tags.
    for (const auto& [key, value] : attributes) {
      auto existing = it->second.attributes.find(key);
      if (existing == it->second.attributes.end() || existing->second != value) {
        co_return invalid_parameter(
            "Invalid parameter: Attributes Reason: Topic already exists with different "
            "attributes");
      }
    }
    for (const auto& [key, value] : *tags) {
      auto existing = it->second.tags.find(key);
      if (existing == it->second.tags.end() || existing->second != value) {
        co_return invalid_parameter(
            "Invalid parameter: Tags Reason: Topic already exists with different tags");
      }
    }
    co_return xml.take();
  }
  Topic topic{
      .arn = arn, .name = name, .attributes = std::move(attributes), .tags = std::move(*tags)};
  auto saved = co_await save_topic(topic);
  if (!saved) co_return saved.error();
  topics_.insert_or_assign(arn, std::move(topic));
  co_return xml.take();
}

Task<SnsService::Output> SnsService::delete_topic(const Params& params) {
  std::string arn = params.get("TopicArn");
  auto topic = find_topic(arn, "TopicArn");
  // Deleting a topic that does not exist succeeds, as on AWS.
  if (!topic && topic.error().code == Errc::not_found) co_return std::nullopt;
  if (!topic) co_return topic.error();
  auto deleted = co_await store_.delete_topic(arn);
  if (!deleted) co_return deleted.error();
  if (auto it = by_topic_.find(arn); it != by_topic_.end()) {
    for (const auto& subscription : it->second) subscriptions_.erase(subscription);
    by_topic_.erase(it);
  }
  topics_.erase(arn);
  co_return std::nullopt;
}

SnsService::Output SnsService::list_topics(const Params& params) {
  std::string token = params.get("NextToken");
  auto it = topics_.begin();
  if (!token.empty()) {
    auto after = base64_decode(token);
    if (!after) return invalid_parameter("Invalid parameter: NextToken");
    it = topics_.upper_bound(*after);
  }
  Xml xml;
  xml.open("Topics");
  std::size_t count = 0;
  std::string last;
  for (; it != topics_.end() && count < kPageSize; ++it, ++count) {
    xml.open("member").leaf("TopicArn", it->first).close("member");
    last = it->first;
  }
  xml.close("Topics");
  if (it != topics_.end()) xml.leaf("NextToken", base64_encode(last));
  return Output(xml.take());
}

SnsService::Output SnsService::get_topic_attributes(const Params& params) {
  auto topic = find_topic(params.get("TopicArn"), "TopicArn");
  if (!topic) return topic.error();
  const Topic& t = **topic;
  int confirmed = 0;
  int pending = 0;
  if (auto it = by_topic_.find(t.arn); it != by_topic_.end()) {
    for (const auto& arn : it->second) {
      auto sub = subscriptions_.find(arn);
      if (sub == subscriptions_.end()) continue;
      (sub->second.confirmed ? confirmed : pending) += 1;
    }
  }
  AttributeMap attributes = t.attributes;
  attributes["TopicArn"] = t.arn;
  attributes["Owner"] = options_.account_id;
  attributes["SubscriptionsConfirmed"] = std::to_string(confirmed);
  attributes["SubscriptionsPending"] = std::to_string(pending);
  attributes["SubscriptionsDeleted"] = "0";
  attributes.try_emplace("DisplayName", "");
  attributes["EffectiveDeliveryPolicy"] = effective_delivery_policy(t);
  if (!attributes.contains("Policy")) {
    attributes["Policy"] = fmt::format(
        R"({{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"{}","Condition":{{"StringEquals":{{"AWS:SourceOwner":"{}"}}}}}}]}})",
        t.arn, options_.account_id);
  }
  return Output(attributes_xml(attributes));
}

Task<SnsService::Output> SnsService::set_topic_attributes(const Params& params) {
  auto topic = find_topic(params.get("TopicArn"), "TopicArn");
  if (!topic) co_return topic.error();
  std::string name = params.get("AttributeName");
  std::string value = params.get("AttributeValue");
  auto checked = check_topic_attribute(name, value, false, (*topic)->fifo());
  if (!checked) co_return checked.error();
  Topic updated = **topic;
  updated.attributes[name] = value;
  auto saved = co_await save_topic(updated);
  if (!saved) co_return saved.error();
  // Re-find: the topic may have been deleted while the write ran.
  if (auto it = topics_.find(updated.arn); it != topics_.end()) it->second = std::move(updated);
  co_return std::nullopt;
}

namespace {

Error resource_not_found() {
  return sns_error(Errc::not_found, "ResourceNotFound", "Resource does not exist");
}

}  // namespace

Task<SnsService::Output> SnsService::tag_resource(const Params& params) {
  auto topic = find_topic(params.get("ResourceArn"), "ResourceArn");
  if (!topic)
    co_return topic.error().code == Errc::not_found ? resource_not_found() : topic.error();
  auto tags = read_tags(params);
  if (!tags) co_return tags.error();
  Topic updated = **topic;
  for (auto& [key, value] : *tags) updated.tags[key] = value;
  if (updated.tags.size() > kMaxTags) co_return tag_limit();
  auto saved = co_await save_topic(updated);
  if (!saved) co_return saved.error();
  if (auto it = topics_.find(updated.arn); it != topics_.end()) it->second = std::move(updated);
  co_return std::string();
}

Task<SnsService::Output> SnsService::untag_resource(const Params& params) {
  auto topic = find_topic(params.get("ResourceArn"), "ResourceArn");
  if (!topic)
    co_return topic.error().code == Errc::not_found ? resource_not_found() : topic.error();
  Topic updated = **topic;
  for (int index : params.indexes("TagKeys.member")) {
    updated.tags.erase(params.get(fmt::format("TagKeys.member.{}", index)));
  }
  auto saved = co_await save_topic(updated);
  if (!saved) co_return saved.error();
  if (auto it = topics_.find(updated.arn); it != topics_.end()) it->second = std::move(updated);
  co_return std::string();
}

SnsService::Output SnsService::list_tags(const Params& params) {
  auto topic = find_topic(params.get("ResourceArn"), "ResourceArn");
  if (!topic) return topic.error().code == Errc::not_found ? resource_not_found() : topic.error();
  Xml xml;
  xml.open("Tags");
  for (const auto& [key, value] : (*topic)->tags) {
    xml.open("member").leaf("Key", key).leaf("Value", value).close("member");
  }
  xml.close("Tags");
  return Output(xml.take());
}

}  // namespace lambent::services::sns
