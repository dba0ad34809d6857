// The dispatcher: leases due outbox rows, delivers each to its subscription's endpoint, and
// deletes the row or schedules the next attempt with the subscription's retry policy.
#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/async_client.h"
#include "lambent/invoke/async_policy.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/sns/sns_service.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <deque>

namespace lambent::services::sns {

namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A leased row stays hidden this long; a delivery attempt ends well before (HTTP times out
// after 15 s), and a restart releases every lease.
constexpr std::int64_t kLeaseMs = 5 * 60 * 1000;
constexpr std::chrono::milliseconds kHttpTimeout = 15s;
constexpr std::chrono::milliseconds kIdleWait = 60s;
// Leased rows, running or waiting behind their FIFO group, per delivery slot.
constexpr int kMaxLeasedPerSlot = 4;

json::object attributes_json(const Notification& n) {
  json::object out;
  for (const auto& a : n.attributes) {
    bool binary = a.data_type.starts_with("Binary");
    out[a.name] = json::object{{"Type", a.data_type},
                               {"Value", binary ? base64_encode(a.binary_value) : a.string_value}};
  }
  return out;
}

bool permanent_failure(const Error& error) {
  return error.code == Errc::not_found || error.code == Errc::invalid_parameter ||
         error.code == Errc::too_large;
}

}  // namespace

void SnsService::sign(Notification& n, const Subscription& subscription) const {
  if (!signer_) return;
  std::string text;
  auto add = [&text](std::string_view key, std::string_view value) {
    text.append(key).append("\n").append(value).append("\n");
  };
  add("Message", n.message);
  add("MessageId", n.message_id);
  if (n.type == "Notification") {
    if (!n.subject.empty()) add("Subject", n.subject);
  } else {
    add("SubscribeURL", subscribe_url(subscription));
  }
  add("Timestamp", n.timestamp);
  if (n.type != "Notification") add("Token", n.token);
  add("TopicArn", n.topic_arn);
  add("Type", n.type);
  n.signature = signer_->sign(text);
}

std::string SnsService::envelope(const Notification& n, const Subscription& subscription) const {
  json::object o;
  o["Type"] = n.type;
  o["MessageId"] = n.message_id;
  if (n.type == "SubscriptionConfirmation") {
    o["Token"] = n.token;
    o["TopicArn"] = n.topic_arn;
    o["Message"] = n.message;
    o["SubscribeURL"] = subscribe_url(subscription);
  } else {
    if (!n.sequence_number.empty()) o["SequenceNumber"] = n.sequence_number;
    o["TopicArn"] = n.topic_arn;
    if (!n.subject.empty()) o["Subject"] = n.subject;
    o["Message"] = n.message;
  }
  o["Timestamp"] = n.timestamp;
  o["SignatureVersion"] = "1";
  o["Signature"] = n.signature;
  o["SigningCertURL"] = signing_cert_url();
  if (n.type == "Notification") {
    o["UnsubscribeURL"] = unsubscribe_url(subscription.arn);
    if (!n.attributes.empty()) o["MessageAttributes"] = attributes_json(n);
  }
  return json::serialize(o);
}

std::string SnsService::lambda_event(const Notification& n,
                                     const Subscription& subscription) const {
  json::object sns;
  sns["Type"] = n.type;
  sns["MessageId"] = n.message_id;
  sns["TopicArn"] = n.topic_arn;
  sns["Subject"] = n.subject.empty() ? json::value(nullptr) : json::value(n.subject);
  sns["Message"] = n.message;
  sns["Timestamp"] = n.timestamp;
  sns["SignatureVersion"] = "1";
  sns["Signature"] = n.signature;
  sns["SigningCertUrl"] = signing_cert_url();
  sns["UnsubscribeUrl"] = unsubscribe_url(subscription.arn);
  sns["MessageAttributes"] = attributes_json(n);
  json::object record{{"EventSource", "aws:sns"},
                      {"EventVersion", "1.0"},
                      {"EventSubscriptionArn", subscription.arn},
                      {"Sns", std::move(sns)}};
  return json::serialize(json::object{{"Records", json::array{std::move(record)}}});
}

RetryPolicy SnsService::retry_policy(const Subscription& subscription) const {
  if (subscription.protocol != "http" && subscription.protocol != "https") {
    return managed_endpoint_policy();
  }
  RetryPolicy policy = default_http_policy();
  if (auto topic = topics_.find(subscription.topic_arn); topic != topics_.end()) {
    if (auto it = topic->second.attributes.find("DeliveryPolicy");
        it != topic->second.attributes.end()) {
      auto read = read_retry_policy(it->second, policy);
      if (read) policy = *read;
    }
  }
  if (auto it = subscription.attributes.find("DeliveryPolicy");
      it != subscription.attributes.end()) {
    auto read = read_retry_policy(it->second, policy);
    if (read) policy = *read;
  }
  return policy;
}

Task<void> SnsService::dispatch_loop() {
  while (!tasks_.stopped()) {
    wake_.reset();
    // Rows waiting behind their FIFO group count too, so one slow group cannot pull the whole
    // backlog into memory.
    int room = std::min(options_.max_in_flight - in_flight_,
                        kMaxLeasedPerSlot * options_.max_in_flight - in_flight_ - group_queued_);
    if (room > 0) {
      auto leased = co_await store_.lease(epoch_ms(), room, kLeaseMs);
      if (!leased) {
        LOG_WARN("sns", "lease_failed", "error=\"{}\"", leased.error().message);
        co_await wake_.wait(1s);
        continue;
      }
      for (auto& record : *leased) {
        std::string key = group_key(record);
        if (!key.empty() && co_await held_back(key, record)) continue;
        if (!key.empty()) {
          // A FIFO group delivers one row at a time; later rows wait behind the running one.
          auto [waiting, idle] = group_waiting_.try_emplace(key);
          if (!idle) {
            waiting->second.push_back(std::move(record));
            ++group_queued_;
            continue;
          }
        }
        ++in_flight_;
        tasks_.spawn(deliver(std::move(record), std::move(key)), "deliver");
      }
      if (static_cast<int>(leased->size()) == room) continue;
    }
    auto wait = kIdleWait;
    if (room > 0) {
      auto next = co_await store_.next_due_ms();
      if (next && next->has_value()) {
        std::int64_t delay = **next - epoch_ms();
        wait = std::clamp(std::chrono::milliseconds(delay), 0ms, kIdleWait);
      }
    }
    if (tasks_.stopped()) break;
    if (wait > 0ms) co_await wake_.wait(wait);
  }
}

Task<void> SnsService::deliver(store::DeliveryRecord record, std::string group_key) {
  struct Finished {
    SnsService* service;
    ~Finished() {
      --service->in_flight_;
      service->wake_.set();
    }
  } finished{this};
  auto retry_due = co_await deliver_once(std::move(record));
  if (group_key.empty()) co_return;

  // FIFO order: the next row of the group goes once this one is done. When this one waits for
  // a retry, the rows behind it are released with the same due time, so the next lease takes
  // them again in their original order.
  auto waiting = group_waiting_.find(group_key);
  if (waiting == group_waiting_.end()) co_return;
  if (!retry_due && !waiting->second.empty()) {
    store::DeliveryRecord next = std::move(waiting->second.front());
    waiting->second.pop_front();
    --group_queued_;
    ++in_flight_;
    tasks_.spawn(deliver(std::move(next), std::move(group_key)), "deliver");
    co_return;
  }
  if (!retry_due) {
    group_waiting_.erase(waiting);
    co_return;
  }
  std::deque<store::DeliveryRecord> behind = std::move(waiting->second);
  group_queued_ -= static_cast<int>(behind.size());
  group_waiting_.erase(waiting);
  group_blocked_until_[group_key] = *retry_due;
  for (const auto& row : behind) {
    auto released = co_await store_.retry_later(row.id, row.attempts, *retry_due);
    if (!released) {
      LOG_WARN("sns", "retry_not_stored", "id={} error=\"{}\"", row.id, released.error().message);
    }
  }
}

Task<bool> SnsService::held_back(const std::string& key, const store::DeliveryRecord& record) {
  auto blocked = group_blocked_until_.find(key);
  if (blocked == group_blocked_until_.end()) co_return false;
  std::int64_t until = blocked->second;
  if (until <= epoch_ms()) {
    group_blocked_until_.erase(blocked);
    co_return false;
  }
  // An earlier row of the group waits for its retry: this one becomes due with it, after it.
  auto released = co_await store_.retry_later(record.id, record.attempts, until);
  if (!released) {
    LOG_WARN("sns", "retry_not_stored", "id={} error=\"{}\"", record.id, released.error().message);
  }
  co_return true;
}

std::string SnsService::group_key(const store::DeliveryRecord& record) {
  auto notification = decode_notification(record.message);
  if (!notification || notification->group_id.empty()) return {};
  return record.subscription_arn + "\n" + notification->group_id;
}

Task<std::optional<std::int64_t>> SnsService::deliver_once(store::DeliveryRecord record) {
  auto found = subscriptions_.find(record.subscription_arn);
  auto notification = decode_notification(record.message);
  if (found == subscriptions_.end() || !notification) {
    if (!notification) {
      LOG_WARN("sns", "delivery_dropped", "subscription={} error=\"{}\"", record.subscription_arn,
               notification.error().message);
    }
    co_await store_.remove_delivery(record.id);
    co_return std::nullopt;
  }
  // A copy: the subscription may change or go away while the attempt runs.
  Subscription subscription = found->second;
  Notification& n = *notification;
  if (n.type == "SubscriptionConfirmation" && subscription.confirmed) {
    co_await store_.remove_delivery(record.id);
    co_return std::nullopt;
  }
  sign(n, subscription);
  auto outcome = co_await attempt(subscription, n);
  if (outcome) {
    auto removed = co_await store_.remove_delivery(record.id);
    if (!removed) {
      LOG_WARN("sns", "delivery_not_removed", "id={} error=\"{}\"", record.id,
               removed.error().message);
    }
    co_return std::nullopt;
  }
  int attempts = record.attempts + 1;
  std::optional<std::int64_t> delay;
  if (!permanent_failure(outcome.error())) delay = retry_policy(subscription).delay_ms(attempts);
  if (!delay) {
    LOG_WARN("sns", "delivery_failed", "subscription={} message_id={} attempts={} error=\"{}\"",
             subscription.arn, n.message_id, attempts, outcome.error().message);
    if (n.type == "Notification") co_await dead_letter(subscription, n);
    co_await store_.remove_delivery(record.id);
    co_return std::nullopt;
  }
  LOG_DEBUG("sns", "delivery_retry",
            "subscription={} message_id={} attempts={} delay_ms={} error=\"{}\"", subscription.arn,
            n.message_id, attempts, *delay, outcome.error().message);
  std::int64_t due = epoch_ms() + *delay;
  auto stored = co_await store_.retry_later(record.id, attempts, due);
  if (!stored) {
    LOG_WARN("sns", "retry_not_stored", "id={} error=\"{}\"", record.id, stored.error().message);
  }
  co_return due;
}

Task<Status> SnsService::attempt(const Subscription& subscription, const Notification& n) {
  if (subscription.protocol == "lambda") {
    auto target = invoke::parse_lambda_arn(subscription.endpoint);
    if (!target) {
      co_return invalid_parameter("not a Lambda function ARN: " + subscription.endpoint);
    }
    auto resolved = invoker_.resolve(target->name, std::string_view(target->qualifier));
    if (!resolved) co_return resolved.error();
    co_return co_await invoker_.enqueue(target->name, target->qualifier, random_uuid(),
                                        lambda_event(n, subscription));
  }
  if (subscription.protocol == "sqs") {
    store::OutboundMessage message;
    if (subscription.raw()) {
      message.body = n.message;
      message.attributes = n.attributes;
    } else {
      message.body = envelope(n, subscription);
    }
    message.group_id = n.group_id;
    message.deduplication_id = n.deduplication_id;
    auto sent = co_await targets_.send(subscription.endpoint, std::move(message));
    if (!sent) co_return sent.error();
    co_return ok_status();
  }
  co_return co_await attempt_http(subscription, n);
}

Task<Status> SnsService::attempt_http(const Subscription& subscription, const Notification& n) {
  http::OutboundRequest request;
  request.method = "POST";
  request.url = subscription.endpoint;
  request.timeout = kHttpTimeout;
  request.max_response_body = 64 * 1024;
  request.trust = options_.https_trust;
  request.headers = {{"x-amz-sns-message-type", n.type},
                     {"x-amz-sns-message-id", n.message_id},
                     {"x-amz-sns-topic-arn", n.topic_arn},
                     {"Content-Type", "text/plain; charset=UTF-8"},
                     {"User-Agent", "Amazon Simple Notification Service Agent"}};
  bool raw = n.type == "Notification" && subscription.raw();
  if (n.type == "Notification") {
    request.headers.emplace_back("x-amz-sns-subscription-arn", subscription.arn);
  }
  if (raw) request.headers.emplace_back("x-amz-sns-rawdelivery", "true");
  request.body = raw ? n.message : envelope(n, subscription);
  auto response = co_await http::fetch(std::move(request));
  if (!response) co_return response.error();
  if (response->status < 200 || response->status > 299) {
    co_return make_error(Errc::io, fmt::format("{} answered with HTTP status {}",
                                               subscription.endpoint, response->status));
  }
  co_return ok_status();
}

Task<void> SnsService::dead_letter(const Subscription& subscription, const Notification& n) {
  auto policy = subscription.attributes.find("RedrivePolicy");
  if (policy == subscription.attributes.end()) co_return;
  auto arn = read_redrive_policy(policy->second);
  if (!arn) co_return;
  store::OutboundMessage message;
  message.body = subscription.raw() ? n.message : envelope(n, subscription);
  message.attributes = n.attributes;
  message.group_id = n.group_id;
  message.deduplication_id = n.deduplication_id;
  auto sent = co_await targets_.send(*arn, std::move(message));
  if (!sent) {
    LOG_WARN("sns", "dead_letter_failed", "subscription={} message_id={} queue={} error=\"{}\"",
             subscription.arn, n.message_id, *arn, sent.error().message);
  }
}

}  // namespace lambent::services::sns
