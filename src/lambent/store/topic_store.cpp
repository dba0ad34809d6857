#include "lambent/store/topic_store.h"

#include <sqlite3.h>

namespace lambent::store {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sns_topics (
  arn TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  attributes TEXT NOT NULL,
  tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sns_subscriptions (
  arn TEXT PRIMARY KEY,
  topic_arn TEXT NOT NULL,
  protocol TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  owner TEXT NOT NULL,
  confirmed INTEGER NOT NULL,
  token TEXT NOT NULL,
  attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_subscriptions_topic ON sns_subscriptions (topic_arn);
CREATE TABLE IF NOT EXISTS sns_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subscription_arn TEXT NOT NULL,
  message TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  due_ms INTEGER NOT NULL,
  leased_until_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sns_deliveries_due ON sns_deliveries (due_ms);
CREATE INDEX IF NOT EXISTS sns_deliveries_subscription ON sns_deliveries (subscription_arn);
)sql";

Status step_once(Statement& st) {
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

Status delete_subscription_rows(sqlite3* h, const std::string& arn) {
  Statement deliveries(h, "DELETE FROM sns_deliveries WHERE subscription_arn = ?1");
  deliveries.bind(1, arn);
  if (auto done = step_once(deliveries); !done) return done;
  Statement sub(h, "DELETE FROM sns_subscriptions WHERE arn = ?1");
  sub.bind(1, arn);
  return step_once(sub);
}

}  // namespace

Status TopicStore::open() {
  return db_.call_blocking([](sqlite3* h) -> Status {
    if (auto created = exec(h, kSchema); !created) return created;
    return exec(h, "UPDATE sns_deliveries SET leased_until_ms = 0 WHERE leased_until_ms != 0");
  });
}

Result<std::vector<TopicRecord>> TopicStore::load_topics() {
  return db_.call_blocking([](sqlite3* h) -> Result<std::vector<TopicRecord>> {
    Statement st(h, "SELECT arn, name, attributes, tags FROM sns_topics ORDER BY arn");
    std::vector<TopicRecord> out;
    while (st.step()) {
      out.push_back(TopicRecord{.arn = std::string(st.column_text(0)),
                                .name = std::string(st.column_text(1)),
                                .attributes = std::string(st.column_text(2)),
                                .tags = std::string(st.column_text(3))});
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Result<std::vector<SubscriptionRecord>> TopicStore::load_subscriptions() {
  return db_.call_blocking([](sqlite3* h) -> Result<std::vector<SubscriptionRecord>> {
    Statement st(h,
                 "SELECT arn, topic_arn, protocol, endpoint, owner, confirmed, token, attributes "
                 "FROM sns_subscriptions ORDER BY rowid");
    std::vector<SubscriptionRecord> out;
    while (st.step()) {
      out.push_back(SubscriptionRecord{.arn = std::string(st.column_text(0)),
                                       .topic_arn = std::string(st.column_text(1)),
                                       .protocol = std::string(st.column_text(2)),
                                       .endpoint = std::string(st.column_text(3)),
                                       .owner = std::string(st.column_text(4)),
                                       .confirmed = st.column_int(5) != 0,
                                       .token = std::string(st.column_text(6)),
                                       .attributes = std::string(st.column_text(7))});
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> TopicStore::put_topic(TopicRecord topic) {
  auto job = [topic = std::move(topic)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO sns_topics (arn, name, attributes, tags) VALUES (?1, ?2, ?3, ?4) "
                 "ON CONFLICT(arn) DO UPDATE SET attributes = excluded.attributes, "
                 "tags = excluded.tags");
    st.bind(1, topic.arn).bind(2, topic.name).bind(3, topic.attributes).bind(4, topic.tags);
    return step_once(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> TopicStore::delete_topic(std::string arn) {
  auto job = [arn = std::move(arn)](sqlite3* h) -> Status {
    std::vector<std::string> subscriptions;
    {
      Statement st(h, "SELECT arn FROM sns_subscriptions WHERE topic_arn = ?1");
      st.bind(1, arn);
      while (st.step()) subscriptions.emplace_back(st.column_text(0));
      if (st.failed()) return st.error();
    }
    for (const auto& subscription : subscriptions) {
      if (auto deleted = delete_subscription_rows(h, subscription); !deleted) return deleted;
    }
    Statement st(h, "DELETE FROM sns_topics WHERE arn = ?1");
    st.bind(1, arn);
    return step_once(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> TopicStore::put_subscription(SubscriptionRecord s) {
  auto job = [s = std::move(s)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, endpoint, owner, "
                 "confirmed, token, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                 "ON CONFLICT(arn) DO UPDATE SET confirmed = excluded.confirmed, "
                 "token = excluded.token, attributes = excluded.attributes");
    st.bind(1, s.arn).bind(2, s.topic_arn).bind(3, s.protocol).bind(4, s.endpoint);
    st.bind(5, s.owner).bind(6, std::int64_t{s.confirmed ? 1 : 0}).bind(7, s.token);
    st.bind(8, s.attributes);
    return step_once(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> TopicStore::delete_subscription(std::string arn) {
  auto job = [arn = std::move(arn)](sqlite3* h) -> Status {
    return delete_subscription_rows(h, arn);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> TopicStore::enqueue(std::vector<NewDelivery> deliveries, std::int64_t now_ms) {
  auto job = [deliveries = std::move(deliveries), now_ms](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO sns_deliveries (subscription_arn, message, attempts, due_ms, "
                 "leased_until_ms, created_ms) VALUES (?1, ?2, 0, ?3, 0, ?3)");
    for (const auto& delivery : deliveries) {
      st.reset();
      st.bind(1, delivery.subscription_arn).bind(2, delivery.message).bind(3, now_ms);
      if (auto done = step_once(st); !done) return done;
    }
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Result<std::vector<DeliveryRecord>>> TopicStore::lease(std::int64_t now_ms, int limit,
                                                            std::int64_t lease_ms) {
  auto job = [now_ms, limit, lease_ms](sqlite3* h) -> Result<std::vector<DeliveryRecord>> {
    std::vector<DeliveryRecord> out;
    {
      Statement st(h,
                   "SELECT id, subscription_arn, message, attempts, due_ms, created_ms "
                   "FROM sns_deliveries WHERE due_ms <= ?1 AND leased_until_ms <= ?1 "
                   "ORDER BY due_ms, id LIMIT ?2");
      st.bind(1, now_ms).bind(2, std::int64_t{limit});
      while (st.step()) {
        out.push_back(DeliveryRecord{.id = st.column_int(0),
                                     .subscription_arn = std::string(st.column_text(1)),
                                     .message = std::string(st.column_text(2)),
                                     .attempts = static_cast<int>(st.column_int(3)),
                                     .due_ms = st.column_int(4),
                                     .created_ms = st.column_int(5)});
      }
      if (st.failed()) return st.error();
    }
    Statement update(h, "UPDATE sns_deliveries SET leased_until_ms = ?2 WHERE id = ?1");
    for (const auto& record : out) {
      update.reset();
      update.bind(1, record.id).bind(2, now_ms + lease_ms);
      if (auto done = step_once(update); !done) return done.error();
    }
    return out;
  };
  co_return co_await db_.call<std::vector<DeliveryRecord>>(std::move(job));
}

Task<Status> TopicStore::retry_later(std::int64_t id, int attempts, std::int64_t due_ms) {
  auto job = [id, attempts, due_ms](sqlite3* h) -> Status {
    Statement st(h,
                 "UPDATE sns_deliveries SET attempts = ?2, due_ms = ?3, leased_until_ms = 0 "
                 "WHERE id = ?1");
    st.bind(1, id).bind(2, std::int64_t{attempts}).bind(3, due_ms);
    return step_once(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> TopicStore::remove_delivery(std::int64_t id) {
  auto job = [id](sqlite3* h) -> Status {
    Statement st(h, "DELETE FROM sns_deliveries WHERE id = ?1");
    st.bind(1, id);
    return step_once(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Result<std::optional<std::int64_t>>> TopicStore::next_due_ms() {
  auto job = [](sqlite3* h) -> Result<std::optional<std::int64_t>> {
    Statement st(h, "SELECT MIN(MAX(due_ms, leased_until_ms)) FROM sns_deliveries");
    std::optional<std::int64_t> out;
    if (st.step() && !st.column_is_null(0)) out = st.column_int(0);
    if (st.failed()) return st.error();
    return out;
  };
  co_return co_await db_.call<std::optional<std::int64_t>>(std::move(job));
}

Task<Result<std::int64_t>> TopicStore::delivery_count() {
  auto job = [](sqlite3* h) -> Result<std::int64_t> {
    Statement st(h, "SELECT COUNT(*) FROM sns_deliveries");
    std::int64_t count = 0;
    if (st.step()) count = st.column_int(0);
    if (st.failed()) return st.error();
    return count;
  };
  co_return co_await db_.call<std::int64_t>(std::move(job));
}

}  // namespace lambent::store
