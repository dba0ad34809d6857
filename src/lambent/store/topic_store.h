#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// Persistence of SNS-style topics: topics with their attributes and tags, subscriptions with
// their attributes, and the delivery outbox, one row per message and subscription. Attributes,
// tags and messages are opaque text (JSON) to the store; the topic service gives them meaning.
// Writes run on the Sqlite writer thread and resume the caller once committed.
namespace lambent::store {

struct TopicRecord {
  std::string arn;
  std::string name;
  std::string attributes;  // JSON object of the settable attributes
  std::string tags;        // JSON object, tag key to value
};

struct SubscriptionRecord {
  std::string arn;
  std::string topic_arn;
  std::string protocol;  // lambda, sqs, http, https
  std::string endpoint;
  std::string owner;  // account id
  bool confirmed = false;
  std::string token;       // confirmation token of a pending subscription
  std::string attributes;  // JSON object of the settable attributes
};

// A delivery to write: `message` is what the dispatcher needs to build the notification.
struct NewDelivery {
  std::string subscription_arn;
  std::string message;
};

struct DeliveryRecord {
  std::int64_t id = 0;
  std::string subscription_arn;
  std::string message;
  int attempts = 0;  // failed attempts so far
  std::int64_t due_ms = 0;
  std::int64_t created_ms = 0;
};

class TopicStore {
 public:
  explicit TopicStore(Sqlite& db) : db_(db) {}

  // Creates the tables and releases every delivery lease, since no other process holds one.
  // Blocking: start-up only.
  Status open();
  Result<std::vector<TopicRecord>> load_topics();
  Result<std::vector<SubscriptionRecord>> load_subscriptions();

  // Inserts or replaces the topic with this ARN.
  Task<Status> put_topic(TopicRecord topic);
  // Deletes the topic, its subscriptions and their pending deliveries in one transaction.
  Task<Status> delete_topic(std::string arn);
  // Inserts or replaces the subscription with this ARN.
  Task<Status> put_subscription(SubscriptionRecord subscription);
  // Deletes the subscription and its pending deliveries.
  Task<Status> delete_subscription(std::string arn);

  // Commits every delivery in one transaction, due at `now_ms`.
  Task<Status> enqueue(std::vector<NewDelivery> deliveries, std::int64_t now_ms);
  // Leases up to `limit` deliveries due at `now_ms` that no lease holds, for `lease_ms`,
  // oldest due first.
  Task<Result<std::vector<DeliveryRecord>>> lease(std::int64_t now_ms, int limit,
                                                  std::int64_t lease_ms);
  // Stores a failed attempt and the time of the next one, and releases the lease.
  Task<Status> retry_later(std::int64_t id, int attempts, std::int64_t due_ms);
  // Deletes a delivery after success or final failure.
  Task<Status> remove_delivery(std::int64_t id);
  // The earliest time a delivery becomes leasable, or nullopt when none is stored.
  Task<Result<std::optional<std::int64_t>>> next_due_ms();
  // Stored deliveries, for tests and metrics.
  Task<Result<std::int64_t>> delivery_count();

 private:
  Sqlite& db_;
};

}  // namespace lambent::store
