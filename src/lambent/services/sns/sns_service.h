#pragma once

#include "lambent/base/async.h"
#include "lambent/http/async_client.h"
#include "lambent/services/edge/edge.h"
#include "lambent/services/sns/model.h"
#include "lambent/services/sns/signer.h"
#include "lambent/store/message_targets.h"
#include "lambent/store/topic_store.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lambent::invoke {
class Invoker;
}

// The SNS-compatible topic service: the SNS query API (Version 2010-03-31) on the edge, and
// durable fan-out. A publish commits one outbox row per matching subscription before the
// response is sent. A dispatcher delivers each row at least once, to Lambda functions (as
// async invocations), SQS queues (through MessageTargets) and HTTP and HTTPS endpoints (POST). It
// retries with SNS's delivery policies and deletes the row after success or final failure,
// which a RedrivePolicy sends to an SQS dead-letter queue.
//
// Topics and subscriptions are kept in memory and written through to the TopicStore before a
// call returns. Everything runs on the control-plane executor.
namespace lambent::services::sns {

struct SnsOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Deliveries running at once. HTTP deliveries can wait up to their timeout, so the pool is
  // large enough that slow endpoints rarely hold up functions and queues.
  int max_in_flight = 512;
  // CAs trusted by https subscriptions. Null trusts the system store only, as SNS trusts
  // public CAs only.
  std::shared_ptr<const http::TlsTrust> https_trust;
};

class SnsService final : public EdgeService, public store::MessageTargets {
 public:
  SnsService(store::TopicStore& store, invoke::Invoker& invoker, store::MessageTargets& targets,
             asio::any_io_executor executor, SnsOptions options);
  ~SnsService() override;

  // Creates the tables and loads topics and subscriptions. Blocking: start-up only.
  Status load();
  // The edge's base URL ("http://127.0.0.1:4566"), for SubscribeURL and UnsubscribeURL.
  void set_endpoint_url(std::string url) { endpoint_url_ = std::move(url); }
  // Signs notifications with the key pair in `dir` (created on first use). Blocking.
  Status load_signing_key(const std::string& dir);
  void start();
  void stop();

  // EdgeService: requests signed for the "sns" service, and the unsigned GET of a
  // SubscribeURL or UnsubscribeURL.
  bool owns(const http::Request& head) const override;
  http::Handler::HeadDecision check_head(const http::Request& head,
                                         std::optional<std::uint64_t> content_length) override;
  http::Response body_too_large(const http::Request& head, std::uint64_t limit) override;
  http::Response unauthorized(const http::Request& request, const Error& error) override;
  bool allows_anonymous(const http::Request& request) const override;
  Task<http::Response> handle(http::Request& request, const http::Identity* identity) override;

  // MessageTargets: publishes `message` to the topic `arn` names.
  Task<Result<std::string>> send(std::string_view arn, store::OutboundMessage message) override;

  // Deliveries stored and not yet finished, for tests.
  Task<Result<std::int64_t>> pending_deliveries() { return store_.delivery_count(); }

 private:
  struct PublishResult {
    std::string message_id;
    std::string sequence_number;
  };
  Task<http::Response> dispatch(std::string action, Params params, std::string request_id);
  // Operations: each returns the <Result> body (empty optional when it has none) or an error.
  using Output = Result<std::optional<std::string>>;
  Task<Output> create_topic(const Params& params);
  Task<Output> delete_topic(const Params& params);
  Output list_topics(const Params& params);
  Output get_topic_attributes(const Params& params);
  Task<Output> set_topic_attributes(const Params& params);
  Task<Output> subscribe(const Params& params);
  Task<Output> unsubscribe(const Params& params);
  Task<Output> confirm_subscription(const Params& params);
  Output list_subscriptions(const Params& params, bool by_topic);
  Output get_subscription_attributes(const Params& params);
  Task<Output> set_subscription_attributes(const Params& params);
  Task<Output> publish(const Params& params);
  Task<Output> publish_batch(const Params& params);
  Task<Output> tag_resource(const Params& params);
  Task<Output> untag_resource(const Params& params);
  Output list_tags(const Params& params);

  // Commits the messages' deliveries in one transaction; each message's `topic` must exist.
  Task<Result<std::vector<PublishResult>>> publish_messages(std::vector<PublishInput> inputs);
  Result<Topic*> find_topic(std::string_view arn, std::string_view parameter);
  Task<Status> save_topic(const Topic& topic);
  Task<Status> save_subscription(const Subscription& subscription);
  void index_subscription(const Subscription& subscription);
  void unindex_subscription(const std::string& arn);
  Task<Status> queue_confirmation(const Subscription& subscription);
  std::string subscribe_url(const Subscription& subscription) const;
  std::string unsubscribe_url(const std::string& subscription_arn) const;
  std::string signing_cert_url() const;
  // Confirms or unsubscribes from an unsigned SubscribeURL or UnsubscribeURL GET, or serves
  // the signing certificate. The change is committed before the response.
  Task<std::optional<http::Response>> serve_link(const http::Request& request);

  // Delivery (delivery.cpp).
  Task<void> dispatch_loop();
  // Delivers one row; `group_key` names its FIFO group (subscription and message group), or is
  // empty.
  Task<void> deliver(store::DeliveryRecord record, std::string group_key);
  // Returns the due time of the next attempt, or nullopt when the row is finished.
  Task<std::optional<std::int64_t>> deliver_once(store::DeliveryRecord record);
  static std::string group_key(const store::DeliveryRecord& record);
  // Releases `record` until its group's pending retry is due; false when the group is free.
  Task<bool> held_back(const std::string& key, const store::DeliveryRecord& record);
  Task<Status> attempt(const Subscription& subscription, const Notification& notification);
  Task<Status> attempt_http(const Subscription& subscription, const Notification& notification);
  Task<void> dead_letter(const Subscription& subscription, const Notification& notification);
  RetryPolicy retry_policy(const Subscription& subscription) const;
  std::string envelope(const Notification& notification, const Subscription& subscription) const;
  std::string lambda_event(const Notification& notification,
                           const Subscription& subscription) const;
  void sign(Notification& notification, const Subscription& subscription) const;

  store::TopicStore& store_;
  invoke::Invoker& invoker_;
  store::MessageTargets& targets_;
  SnsOptions options_;
  std::string endpoint_url_ = "http://127.0.0.1:4566";
  std::map<std::string, Topic, std::less<>> topics_;
  std::map<std::string, Subscription, std::less<>> subscriptions_;
  // Subscription ARNs of each topic, in creation order.
  std::unordered_map<std::string, std::vector<std::string>> by_topic_;
  // FIFO deduplication: "topic\ndedup id" to the message id and the time it expires.
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> dedup_;
  std::uint64_t sequence_ = 0;
  // FIFO groups with a delivery running, and the leased rows waiting behind it in order.
  std::unordered_map<std::string, std::deque<store::DeliveryRecord>> group_waiting_;
  int group_queued_ = 0;  // rows in group_waiting_
  // FIFO groups whose first row waits for a retry, with its due time.
  std::unordered_map<std::string, std::int64_t> group_blocked_until_;
  std::unique_ptr<Signer> signer_;
  Event wake_;
  int in_flight_ = 0;
  TaskGroup tasks_;
};

}  // namespace lambent::services::sns
