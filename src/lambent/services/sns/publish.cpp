// Publish and PublishBatch: validation, filter policies, FIFO deduplication, and the outbox
// rows of the matching subscriptions, committed before the response is sent.
#include "lambent/base/crypto.h"
#include "lambent/services/sns/filter.h"
#include "lambent/services/sns/sns_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace lambent::services::sns {

namespace {

constexpr std::size_t kMaxBatchEntries = 10;
// FIFO topics drop a message whose deduplication id was seen in the last 5 minutes.
constexpr std::int64_t kDeduplicationWindowMs = 5 * 60 * 1000;

// Reads one Publish, or one batch entry when `prefix` is "PublishBatchRequestEntries.member.N.".
Result<PublishInput> read_publish(const Params& params, const std::string& prefix,
                                  const Topic& topic) {
  PublishInput input;
  input.topic_arn = topic.arn;
  const auto* message = params.find(prefix + "Message");
  if (!message) {
    return invalid_parameter("Invalid parameter: Message Reason: no value for required parameter");
  }
  if (message->empty()) return invalid_parameter("Invalid parameter: Empty message");
  input.message = *message;
  input.subject = params.get(prefix + "Subject");
  if (params.has(prefix + "Subject")) {
    bool printable = std::all_of(input.subject.begin(), input.subject.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    if (input.subject.empty() || input.subject.size() > 100 || !printable) {
      return invalid_parameter("Invalid parameter: Subject");
    }
  }
  auto attributes = read_message_attributes(params, prefix + "MessageAttributes");
  if (!attributes) return attributes.error();
  input.attributes = std::move(*attributes);
  if (message_size(input.message, input.attributes) > kMaxMessageBytes) {
    return invalid_parameter("Invalid parameter: Message too long");
  }
  if (params.has(prefix + "MessageStructure")) {
    if (params.get(prefix + "MessageStructure") != "json") {
      return invalid_parameter("Invalid parameter: MessageStructure");
    }
    if (auto read = read_message_structure(input); !read) return read.error();
  }
  input.group_id = params.get(prefix + "MessageGroupId");
  input.deduplication_id = params.get(prefix + "MessageDeduplicationId");
  if (topic.fifo()) {
    if (input.group_id.empty()) {
      return invalid_parameter(
          "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
    }
    if (input.deduplication_id.empty() && !topic.content_based_deduplication()) {
      return invalid_parameter(
          "Invalid parameter: The topic should either have ContentBasedDeduplication enabled "
          "or MessageDeduplicationId provided explicitly");
    }
  } else if (!input.deduplication_id.empty()) {
    return invalid_parameter(
        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
        "MessageDeduplicationId parameter that is not valid for this topic type");
  }
  for (const auto* value : {&input.group_id, &input.deduplication_id}) {
    if (value->size() > 128) {
      return invalid_parameter(
          "Invalid parameter: MessageGroupId and MessageDeduplicationId can be at most 128 "
          "characters long");
    }
  }
  return input;
}

bool valid_batch_id(std::string_view id) {
  if (id.empty() || id.size() > 80) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace

Task<Result<std::vector<SnsService::PublishResult>>> SnsService::publish_messages(
    std::vector<PublishInput> inputs) {
  std::int64_t now = epoch_ms();
  for (auto it = dedup_.begin(); it != dedup_.end();) {
    it = it->second.second <= now ? dedup_.erase(it) : std::next(it);
  }
  std::vector<PublishResult> results;
  std::vector<store::NewDelivery> deliveries;
  std::vector<std::string> new_dedup_keys;
  for (auto& input : inputs) {
    auto topic = topics_.find(input.topic_arn);
    if (topic == topics_.end()) co_return not_found("Topic does not exist");
    PublishResult result;
    Notification n;
    if (topic->second.fifo()) {
      std::string dedup_id =
          input.deduplication_id.empty() ? to_hex(sha256(input.message)) : input.deduplication_id;
      std::string key = input.topic_arn + "\n" + dedup_id;
      if (auto seen = dedup_.find(key); seen != dedup_.end()) {
        // A duplicate within the window is acknowledged with the first message's id and not
        // delivered again.
        results.push_back({seen->second.first, ""});
        continue;
      }
      sequence_ = std::max<std::uint64_t>(sequence_ + 1, static_cast<std::uint64_t>(now) * 1000);
      result.sequence_number = fmt::format("{:020}", sequence_);
      n.deduplication_id = dedup_id;
      n.group_id = input.group_id;
      n.sequence_number = result.sequence_number;
    }
    result.message_id = random_uuid();
    n.message_id = result.message_id;
    n.topic_arn = input.topic_arn;
    n.subject = input.subject;
    n.timestamp = format_timestamp(now);
    n.attributes = input.attributes;
    if (topic->second.fifo()) {
      std::string key = input.topic_arn + "\n" + n.deduplication_id;
      dedup_[key] = {result.message_id, now + kDeduplicationWindowMs};
      new_dedup_keys.push_back(std::move(key));
    }
    if (auto subs = by_topic_.find(input.topic_arn); subs != by_topic_.end()) {
      for (const auto& arn : subs->second) {
        const Subscription& subscription = subscriptions_.at(arn);
        if (!subscription.confirmed) continue;
        auto own = input.per_protocol.find(subscription.protocol);
        n.message = own != input.per_protocol.end() ? own->second : input.message;
        if (!filter_matches(subscription, input, n.message)) continue;
        deliveries.push_back({subscription.arn, encode_notification(n)});
      }
    }
    results.push_back(std::move(result));
  }
  if (!deliveries.empty()) {
    auto queued = co_await store_.enqueue(std::move(deliveries), now);
    if (!queued) {
      for (const auto& key : new_dedup_keys) dedup_.erase(key);
      co_return queued.error();
    }
    wake_.set();
  }
  co_return results;
}

Task<SnsService::Output> SnsService::publish(const Params& params) {
  std::string topic_arn = params.get("TopicArn");
  std::string target_arn = params.get("TargetArn");
  if (params.has("PhoneNumber")) {
    co_return invalid_parameter(
        "Invalid parameter: PhoneNumber Reason: SMS delivery is not supported by Lambent");
  }
  if (!topic_arn.empty() && !target_arn.empty()) {
    co_return invalid_parameter(
        "Invalid parameter: TargetArn Reason: Only one of targetArn or topicArn or phoneNumber "
        "can be specified");
  }
  if (topic_arn.empty() && target_arn.empty()) {
    co_return invalid_parameter(
        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
  }
  auto topic = find_topic(topic_arn.empty() ? target_arn : topic_arn,
                          topic_arn.empty() ? "TargetArn" : "TopicArn");
  if (!topic) co_return topic.error();
  auto input = read_publish(params, "", **topic);
  if (!input) co_return input.error();
  std::vector<PublishInput> inputs;
  inputs.push_back(std::move(*input));
  auto published = co_await publish_messages(std::move(inputs));
  if (!published) co_return published.error();
  const auto& result = published->front();
  Xml xml;
  xml.leaf("MessageId", result.message_id);
  if (!result.sequence_number.empty()) xml.leaf("SequenceNumber", result.sequence_number);
  co_return xml.take();
}

Task<SnsService::Output> SnsService::publish_batch(const Params& params) {
  auto topic = find_topic(params.get("TopicArn"), "TopicArn");
  if (!topic) co_return topic.error();
  auto indexes = params.indexes("PublishBatchRequestEntries.member");
  if (indexes.empty()) {
    co_return sns_error(Errc::invalid_parameter, "EmptyBatchRequest",
                        "The batch request doesn't contain any entries");
  }
  if (indexes.size() > kMaxBatchEntries) {
    co_return sns_error(Errc::invalid_parameter, "TooManyEntriesInBatchRequest",
                        "The batch request contains more entries than permissible.");
  }
  std::set<std::string> ids;
  std::size_t total = 0;
  for (int index : indexes) {
    std::string prefix = fmt::format("PublishBatchRequestEntries.member.{}.", index);
    std::string id = params.get(prefix + "Id");
    if (!valid_batch_id(id)) {
      co_return sns_error(Errc::invalid_parameter, "InvalidBatchEntryId",
                          "A batch entry id can only contain alphanumeric characters, hyphens "
                          "and underscores. It can be at most 80 letters long.");
    }
    if (!ids.insert(id).second) {
      co_return sns_error(Errc::invalid_parameter, "BatchEntryIdsNotDistinct",
                          "Two or more batch entries in the request have the same Id.");
    }
    total += params.get(prefix + "Message").size();
  }
  if (total > kMaxMessageBytes) {
    co_return sns_error(Errc::invalid_parameter, "BatchRequestTooLong",
                        "The length of all the messages put together is more than the limit.");
  }

  std::vector<std::string> accepted_ids;
  std::vector<PublishInput> inputs;
  Xml failed;
  for (int index : indexes) {
    std::string prefix = fmt::format("PublishBatchRequestEntries.member.{}.", index);
    std::string id = params.get(prefix + "Id");
    auto input = read_publish(params, prefix, **topic);
    if (!input) {
      failed.open("member")
          .leaf("Id", id)
          .leaf("Code", input.error().type.empty() ? "InvalidParameter" : input.error().type)
          .leaf("Message", input.error().message)
          .leaf("SenderFault", "true")
          .close("member");
      continue;
    }
    accepted_ids.push_back(std::move(id));
    inputs.push_back(std::move(*input));
  }
  std::vector<PublishResult> results;
  if (!inputs.empty()) {
    auto published = co_await publish_messages(std::move(inputs));
    if (!published) co_return published.error();
    results = std::move(*published);
  }
  Xml xml;
  xml.open("Successful");
  for (std::size_t i = 0; i < results.size(); ++i) {
    xml.open("member").leaf("Id", accepted_ids[i]).leaf("MessageId", results[i].message_id);
    if (!results[i].sequence_number.empty()) {
      xml.leaf("SequenceNumber", results[i].sequence_number);
    }
    xml.close("member");
  }
  xml.close("Successful").open("Failed");
  std::string body = xml.take() + failed.take() + "</Failed>";
  co_return body;
}

Task<Result<std::string>> SnsService::send(std::string_view arn_view,
                                           store::OutboundMessage message) {
  std::string arn(arn_view);
  auto topic = topics_.find(arn);
  if (topic == topics_.end()) {
    co_return make_error(Errc::not_found, fmt::format("topic '{}' does not exist", arn));
  }
  PublishInput input;
  input.topic_arn = arn;
  input.message = std::move(message.body);
  input.subject = std::move(message.subject);
  input.attributes = std::move(message.attributes);
  input.group_id = std::move(message.group_id);
  input.deduplication_id = std::move(message.deduplication_id);
  if (input.message.empty()) co_return invalid_parameter("Invalid parameter: Empty message");
  if (message_size(input.message, input.attributes) > kMaxMessageBytes) {
    co_return invalid_parameter("Invalid parameter: Message too long");
  }
  if (topic->second.fifo() && input.group_id.empty()) {
    co_return invalid_parameter(
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
  }
  if (topic->second.fifo() && input.deduplication_id.empty()) {
    input.deduplication_id = to_hex(sha256(input.message));
  }
  std::vector<PublishInput> inputs;
  inputs.push_back(std::move(input));
  auto published = co_await publish_messages(std::move(inputs));
  if (!published) co_return published.error();
  co_return published->front().message_id;
}

}  // namespace lambent::services::sns
