// Subscription operations: Subscribe, Unsubscribe, ConfirmSubscription, ListSubscriptions,
// ListSubscriptionsByTopic and Get/SetSubscriptionAttributes.
#include "lambent/base/crypto.h"
#include "lambent/http/message.h"
#include "lambent/services/sns/filter.h"
#include "lambent/services/sns/sns_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace lambent::services::sns {

namespace {

constexpr std::size_t kPageSize = 100;

constexpr std::array<std::string_view, 7> kSubscriptionAttributes = {
    "DeliveryPolicy", "FilterPolicy",        "FilterPolicyScope", "RawMessageDelivery",
    "RedrivePolicy",  "SubscriptionRoleArn", "ReplayPolicy",
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status check_endpoint(std::string_view protocol, std::string_view endpoint) {
  if (protocol == "sqs") {
    if (!endpoint.starts_with("arn:aws:sqs:")) {
      return invalid_parameter("Invalid parameter: SQS endpoint ARN");
    }
  } else if (protocol == "lambda") {
    if (!endpoint.starts_with("arn:aws:lambda:") ||
        endpoint.find(":function:") == std::string_view::npos) {
      return invalid_parameter("Invalid parameter: Lambda endpoint ARN");
    }
  } else if (protocol == "http" || protocol == "https") {
    std::string prefix = std::string(protocol) + "://";
    if (!lower(endpoint).starts_with(prefix) || endpoint.size() == prefix.size()) {
      return invalid_parameter("Invalid parameter: Endpoint must match the specified protocol");
    }
  } else {
    return invalid_parameter(fmt::format(
        "Invalid parameter: Amazon SNS does not support this protocol string: {}", protocol));
  }
  return ok_status();
}

Status check_subscription_attribute(std::string_view protocol, std::string_view name,
                                    std::string_view value) {
  if (std::find(kSubscriptionAttributes.begin(), kSubscriptionAttributes.end(), name) ==
      kSubscriptionAttributes.end()) {
    return invalid_parameter("Invalid parameter: AttributeName");
  }
  if (name == "RawMessageDelivery") {
    std::string v = lower(value);
    if (v != "true" && v != "false") {
      return invalid_parameter(fmt::format(
          "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [{}]. Must "
          "be true or false.",
          value));
    }
    if (protocol == "lambda" && v == "true") {
      return invalid_parameter(
          "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support "
          "raw message delivery.");
    }
  }
  if (name == "FilterPolicyScope" && value != "MessageAttributes" && value != "MessageBody") {
    return invalid_parameter(fmt::format(
        "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [{}]. Please "
        "use either MessageBody or MessageAttributes",
        value));
  }
  if (name == "RedrivePolicy" && !value.empty()) {
    auto arn = read_redrive_policy(value);
    if (!arn) return arn.error();
  }
  if (name == "DeliveryPolicy" && !value.empty()) return check_delivery_policy(value);
  return ok_status();
}

// Keeps the attribute, or drops it when an empty value clears it.
void set_attribute(AttributeMap& attributes, const std::string& name, const std::string& value) {
  bool clearable = name == "FilterPolicy" || name == "RedrivePolicy" || name == "DeliveryPolicy";
  if (clearable && value.empty()) {
    attributes.erase(name);
  } else {
    attributes[name] = value;
  }
}

// Checks "arn:aws:sns:REGION:ACCOUNT:TOPIC:ID". A topic ARN (six elements) lacks the id.
Status check_subscription_arn(std::string_view arn) {
  auto elements = std::count(arn.begin(), arn.end(), ':') + 1;
  if (!arn.starts_with("arn:") || elements < 6) {
    return invalid_parameter(fmt::format(
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {}",
        elements));
  }
  if (elements == 6) return invalid_parameter("Invalid parameter: SubscriptionId");
  if (!arn.starts_with("arn:aws:sns:") || elements != 7) {
    return invalid_parameter("Invalid parameter: SubscriptionArn");
  }
  return ok_status();
}

}  // namespace

void SnsService::index_subscription(const Subscription& subscription) {
  auto& list = by_topic_[subscription.topic_arn];
  if (std::find(list.begin(), list.end(), subscription.arn) == list.end()) {
    list.push_back(subscription.arn);
  }
}

void SnsService::unindex_subscription(const std::string& arn) {
  auto it = subscriptions_.find(arn);
  if (it == subscriptions_.end()) return;
  auto& list = by_topic_[it->second.topic_arn];
  list.erase(std::remove(list.begin(), list.end(), arn), list.end());
  subscriptions_.erase(it);
}

Task<Status> SnsService::save_subscription(const Subscription& subscription) {
  co_return co_await store_.put_subscription(to_record(subscription));
}

std::string SnsService::subscribe_url(const Subscription& subscription) const {
  return fmt::format("{}/?Action=ConfirmSubscription&TopicArn={}&Token={}", endpoint_url_,
                     http::percent_encode(subscription.topic_arn), subscription.token);
}

std::string SnsService::unsubscribe_url(const std::string& subscription_arn) const {
  return fmt::format("{}/?Action=Unsubscribe&SubscriptionArn={}", endpoint_url_,
                     http::percent_encode(subscription_arn));
}

std::string SnsService::signing_cert_url() const {
  return endpoint_url_ + std::string(kSigningCertPath);
}

Task<Status> SnsService::queue_confirmation(const Subscription& subscription) {
  std::int64_t now = epoch_ms();
  Notification n;
  n.type = "SubscriptionConfirmation";
  n.message_id = random_uuid();
  n.topic_arn = subscription.topic_arn;
  n.token = subscription.token;
  n.timestamp = format_timestamp(now);
  n.message = fmt::format(
      "You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the "
      "SubscribeURL included in this message.",
      subscription.topic_arn);
  std::vector<store::NewDelivery> deliveries;
  deliveries.push_back({subscription.arn, encode_notification(n)});
  auto queued = co_await store_.enqueue(std::move(deliveries), now);
  if (queued) wake_.set();
  co_return queued;
}

Task<SnsService::Output> SnsService::subscribe(const Params& params) {
  std::string topic_arn = params.get("TopicArn");
  auto topic = find_topic(topic_arn, "TopicArn");
  if (!topic) co_return topic.error();
  std::string protocol = params.get("Protocol");
  std::string endpoint = params.get("Endpoint");
  if (auto checked = check_endpoint(protocol, endpoint); !checked) co_return checked.error();
  if (protocol == "sqs" && endpoint.ends_with(".fifo") && !(*topic)->fifo()) {
    co_return invalid_parameter(
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics");
  }
  AttributeMap attributes;
  for (const auto& [name, value] : params.map("Attributes")) {
    auto checked = check_subscription_attribute(protocol, name, value);
    if (!checked) co_return checked.error();
    set_attribute(attributes, name, value);
  }
  if (auto checked = check_filter_policy(attributes, PolicyWording::subscribe); !checked) {
    co_return checked.error();
  }
  bool return_arn = lower(params.get("ReturnSubscriptionArn")) == "true";

  // Subscribing the same endpoint again returns the existing subscription.
  if (auto it = by_topic_.find(topic_arn); it != by_topic_.end()) {
    for (const auto& arn : it->second) {
      const auto& existing = subscriptions_.at(arn);
      if (existing.protocol != protocol || existing.endpoint != endpoint) continue;
      for (const auto& [name, value] : attributes) {
        auto found = existing.attributes.find(name);
        if (found == existing.attributes.end() || found->second != value) {
          co_return invalid_parameter(
              "Invalid parameter: Attributes Reason: Subscription already exists with "
              "different attributes");
        }
      }
      Xml xml;
      xml.leaf("SubscriptionArn",
               existing.confirmed || return_arn ? existing.arn : "pending confirmation");
      co_return xml.take();
    }
  }

  Subscription subscription{.arn = fmt::format("{}:{}", topic_arn, random_uuid()),
                            .topic_arn = topic_arn,
                            .protocol = protocol,
                            .endpoint = endpoint,
                            .owner = options_.account_id,
                            // Lambda and SQS endpoints of the account need no confirmation.
                            .confirmed = protocol == "lambda" || protocol == "sqs",
                            .token = random_hex(64),
                            .attributes = std::move(attributes),
                            .filter = std::nullopt,
                            .filter_rejected = false};
  if (auto compiled = compile_filter(subscription); !compiled) co_return compiled.error();
  auto saved = co_await save_subscription(subscription);
  if (!saved) co_return saved.error();
  if (!topics_.contains(topic_arn)) co_return not_found("Topic does not exist");
  index_subscription(subscription);
  subscriptions_.insert_or_assign(subscription.arn, subscription);
  if (!subscription.confirmed) {
    auto queued = co_await queue_confirmation(subscription);
    if (!queued) co_return queued.error();
  }
  Xml xml;
  xml.leaf("SubscriptionArn",
           subscription.confirmed || return_arn ? subscription.arn : "pending confirmation");
  co_return xml.take();
}

Task<SnsService::Output> SnsService::unsubscribe(const Params& params) {
  std::string arn = params.get("SubscriptionArn");
  if (auto checked = check_subscription_arn(arn); !checked) co_return checked.error();
  // Unsubscribing twice succeeds, as on AWS.
  if (!subscriptions_.contains(arn)) co_return std::nullopt;
  auto deleted = co_await store_.delete_subscription(arn);
  if (!deleted) co_return deleted.error();
  unindex_subscription(arn);
  co_return std::nullopt;
}

Task<SnsService::Output> SnsService::confirm_subscription(const Params& params) {
  std::string topic_arn = params.get("TopicArn");
  auto topic = find_topic(topic_arn, "TopicArn");
  if (!topic) co_return topic.error();
  std::string token = params.get("Token");
  auto it = by_topic_.find(topic_arn);
  if (it != by_topic_.end() && !token.empty()) {
    for (const auto& arn : it->second) {
      Subscription subscription = subscriptions_.at(arn);
      if (subscription.token != token) continue;
      Xml xml;
      xml.leaf("SubscriptionArn", subscription.arn);
      if (subscription.confirmed) co_return xml.take();
      subscription.confirmed = true;
      auto saved = co_await save_subscription(subscription);
      if (!saved) co_return saved.error();
      if (auto live = subscriptions_.find(arn); live != subscriptions_.end()) {
        live->second.confirmed = true;
      }
      co_return xml.take();
    }
  }
  co_return invalid_parameter("Invalid parameter: Token");
}

SnsService::Output SnsService::list_subscriptions(const Params& params, bool by_topic) {
  std::vector<const Subscription*> all;
  if (by_topic) {
    auto topic = find_topic(params.get("TopicArn"), "TopicArn");
    if (!topic) return topic.error();
    if (auto it = by_topic_.find((*topic)->arn); it != by_topic_.end()) {
      for (const auto& arn : it->second) all.push_back(&subscriptions_.at(arn));
    }
  } else {
    for (const auto& [arn, subscription] : subscriptions_) all.push_back(&subscription);
  }
  std::size_t start = 0;
  std::string token = params.get("NextToken");
  if (!token.empty()) {
    auto decoded = base64_decode(token);
    auto [end, ec] =
        decoded ? std::from_chars(decoded->data(), decoded->data() + decoded->size(), start)
                : std::from_chars_result{nullptr, std::errc::invalid_argument};
    if (ec != std::errc() || start > all.size()) {
      return invalid_parameter("Invalid parameter: NextToken");
    }
  }
  Xml xml;
  xml.open("Subscriptions");
  std::size_t index = start;
  for (; index < all.size() && index < start + kPageSize; ++index) {
    const Subscription& s = *all[index];
    xml.open("member")
        .leaf("SubscriptionArn", s.confirmed ? s.arn : "PendingConfirmation")
        .leaf("Owner", s.owner)
        .leaf("Protocol", s.protocol)
        .leaf("Endpoint", s.endpoint)
        .leaf("TopicArn", s.topic_arn)
        .close("member");
  }
  xml.close("Subscriptions");
  if (index < all.size()) xml.leaf("NextToken", base64_encode(std::to_string(index)));
  return Output(xml.take());
}

SnsService::Output SnsService::get_subscription_attributes(const Params& params) {
  std::string arn = params.get("SubscriptionArn");
  if (auto checked = check_subscription_arn(arn); !checked) return checked.error();
  auto it = subscriptions_.find(arn);
  if (it == subscriptions_.end()) return not_found("Subscription does not exist");
  const Subscription& s = it->second;
  AttributeMap attributes = s.attributes;
  attributes["SubscriptionArn"] = s.arn;
  attributes["TopicArn"] = s.topic_arn;
  attributes["Protocol"] = s.protocol;
  attributes["Endpoint"] = s.endpoint;
  attributes["Owner"] = s.owner;
  attributes["PendingConfirmation"] = s.confirmed ? "false" : "true";
  attributes["ConfirmationWasAuthenticated"] = s.confirmed ? "true" : "false";
  attributes.try_emplace("RawMessageDelivery", "false");
  if (attributes.contains("FilterPolicy")) {
    attributes.try_emplace("FilterPolicyScope", "MessageAttributes");
  }
  if (s.protocol == "http" || s.protocol == "https") {
    auto topic = topics_.find(s.topic_arn);
    if (topic != topics_.end()) {
      attributes["EffectiveDeliveryPolicy"] = effective_delivery_policy(topic->second);
    }
  }
  Xml xml;
  xml.open("Attributes");
  for (const auto& [key, value] : attributes) {
    xml.open("entry").leaf("key", key).leaf("value", value).close("entry");
  }
  xml.close("Attributes");
  return Output(xml.take());
}

Task<SnsService::Output> SnsService::set_subscription_attributes(const Params& params) {
  std::string arn = params.get("SubscriptionArn");
  if (auto checked = check_subscription_arn(arn); !checked) co_return checked.error();
  auto it = subscriptions_.find(arn);
  if (it == subscriptions_.end()) co_return not_found("Subscription does not exist");
  std::string name = params.get("AttributeName");
  std::string value = params.get("AttributeValue");
  auto checked = check_subscription_attribute(it->second.protocol, name, value);
  if (!checked) co_return checked.error();
  Subscription updated = it->second;
  set_attribute(updated.attributes, name, value);
  if (auto compiled = compile_filter(updated); !compiled) co_return compiled.error();
  auto saved = co_await save_subscription(updated);
  if (!saved) co_return saved.error();
  if (auto live = subscriptions_.find(arn); live != subscriptions_.end()) {
    live->second = std::move(updated);
  }
  co_return std::nullopt;
}

}  // namespace lambent::services::sns
