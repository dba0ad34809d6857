#pragma once

#include "lambent/base/result.h"
#include "lambent/patterns/event_pattern.h"
#include "lambent/services/sns/query.h"
#include "lambent/store/message_targets.h"
#include "lambent/store/topic_store.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Topics, subscriptions, messages and delivery policies of the topic service, with their
// stored forms and the checks AWS applies to them.
namespace lambent::services::sns {

using AttributeMap = std::map<std::string, std::string, std::less<>>;

// 256 KiB: the largest message, attributes included, and the largest PublishBatch.
inline constexpr std::size_t kMaxMessageBytes = 262144;

struct Topic {
  std::string arn;
  std::string name;
  AttributeMap attributes;  // attributes set by CreateTopic or SetTopicAttributes
  AttributeMap tags;
  bool fifo() const;
  bool content_based_deduplication() const;
};

struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string protocol;  // lambda, sqs, http, https
  std::string endpoint;
  std::string owner;
  bool confirmed = false;
  std::string token;
  AttributeMap attributes;  // attributes set by Subscribe or SetSubscriptionAttributes
  // The compiled FilterPolicy, kept in step with `attributes` by compile_filter().
  std::optional<patterns::EventPattern> filter;
  // Set when a stored FilterPolicy no longer compiles: the subscription then gets no messages.
  bool filter_rejected = false;
  bool raw() const;
};

store::TopicRecord to_record(const Topic& topic);
Result<Topic> from_record(const store::TopicRecord& record);
store::SubscriptionRecord to_record(const Subscription& subscription);
Result<Subscription> from_record(const store::SubscriptionRecord& record);

// The input of one Publish (or one PublishBatch entry).
struct PublishInput {
  std::string topic_arn;
  std::string message;  // the default message
  // MessageStructure=json: the message of each protocol that has its own.
  std::map<std::string, std::string> per_protocol;
  std::string subject;
  std::vector<store::MessageAttribute> attributes;
  std::string group_id;
  std::string deduplication_id;
};

// One delivery as the outbox stores it: a notification to one subscription, or the
// confirmation request of an HTTP subscription.
struct Notification {
  std::string type = "Notification";  // or "SubscriptionConfirmation"
  std::string message_id;
  std::string topic_arn;
  std::string subject;
  std::string message;
  std::string timestamp;  // ISO 8601 with milliseconds, UTC
  std::vector<store::MessageAttribute> attributes;
  std::string group_id;
  std::string deduplication_id;
  std::string sequence_number;
  std::string token;      // SubscriptionConfirmation only
  std::string signature;  // set at delivery
};

std::string encode_notification(const Notification& notification);
Result<Notification> decode_notification(std::string_view text);

// "2024-01-02T03:04:05.678Z"
std::string format_timestamp(std::int64_t epoch_ms);

// Reads MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue,Value.BinaryValue}
// under `prefix` and checks them as SNS does (data types, numbers, string arrays, at most 10).
Result<std::vector<store::MessageAttribute>> read_message_attributes(const Params& params,
                                                                     std::string_view prefix);
// Bytes the message and its attributes count against kMaxMessageBytes.
std::size_t message_size(std::string_view message,
                         const std::vector<store::MessageAttribute>& attributes);
// Splits a MessageStructure=json message into the default and per-protocol messages.
Status read_message_structure(PublishInput& input);

// A delivery retry policy in SNS's four phases: immediate retries, retries at the minimum
// delay, backoff from the minimum to the maximum delay, then retries at the maximum delay.
struct RetryPolicy {
  int num_retries = 3;
  int num_no_delay_retries = 0;
  int num_min_delay_retries = 0;
  int num_max_delay_retries = 0;
  int min_delay_target = 20;  // seconds
  int max_delay_target = 20;
  std::string backoff_function = "linear";
  // The delay before retry `retry` (1-based), or nullopt when the retries are used up.
  std::optional<std::int64_t> delay_ms(int retry) const;
};

// AWS's policy for endpoints AWS manages (Lambda, SQS): 3 immediate retries, 2 at 1 s, 10 with
// exponential backoff from 1 to 20 s, then 100,000 at 20 s.
RetryPolicy managed_endpoint_policy();
// The default HTTP/S policy: 3 retries 20 s apart.
RetryPolicy default_http_policy();
// Reads "healthyRetryPolicy" (a subscription's DeliveryPolicy) or
// "http.defaultHealthyRetryPolicy" (a topic's) from a DeliveryPolicy document over `base`.
Result<RetryPolicy> read_retry_policy(std::string_view delivery_policy, RetryPolicy base);
// Checks a DeliveryPolicy document. Fails with InvalidParameter naming the problem.
Status check_delivery_policy(std::string_view text);
// The EffectiveDeliveryPolicy attribute of a topic.
std::string effective_delivery_policy(const Topic& topic);

// Checks a RedrivePolicy ({"deadLetterTargetArn": "arn:aws:sqs:..."}) and returns the ARN.
Result<std::string> read_redrive_policy(std::string_view text);

}  // namespace lambent::services::sns
