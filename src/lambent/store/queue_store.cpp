#include "lambent/store/queue_store.h"

#include <sqlite3.h>
#include <boost/json.hpp>

namespace lambent::store {

namespace json = boost::json;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sqs_queues (
  name TEXT PRIMARY KEY,
  attributes TEXT NOT NULL,
  tags TEXT NOT NULL,
  created_s INTEGER NOT NULL,
  modified_s INTEGER NOT NULL,
  next_sequence INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sqs_messages (
  queue TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT NOT NULL,
  body BLOB NOT NULL,
  attributes TEXT NOT NULL,
  trace_header TEXT NOT NULL,
  md5_body TEXT NOT NULL,
  md5_attributes TEXT NOT NULL,
  md5_system_attributes TEXT NOT NULL,
  sender_id TEXT NOT NULL,
  sent_ms INTEGER NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  receive_count INTEGER NOT NULL,
  first_receive_ms INTEGER NOT NULL,
  group_id TEXT NOT NULL,
  deduplication_id TEXT NOT NULL,
  sequence_number TEXT NOT NULL,
  receipt_token TEXT NOT NULL,
  PRIMARY KEY (queue, seq)
);
CREATE TABLE IF NOT EXISTS sqs_dedup (
  queue TEXT NOT NULL,
  deduplication_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  sequence_number TEXT NOT NULL,
  expires_ms INTEGER NOT NULL,
  PRIMARY KEY (queue, deduplication_id)
);
)sql";

std::string encode_map(const std::map<std::string, std::string>& map) {
  json::object object;
  for (const auto& [key, value] : map) object[key] = value;
  return json::serialize(object);
}

std::map<std::string, std::string> decode_map(std::string_view text) {
  std::map<std::string, std::string> map;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return map;
  for (const auto& [key, item] : value.as_object()) {
    if (item.is_string()) map.emplace(std::string(key), std::string(item.as_string()));
  }
  return map;
}

Status insert_message(sqlite3* db, const std::string& queue, const MessageRecord& m) {
  Statement st(db,
               "INSERT INTO sqs_messages (queue, seq, id, body, attributes, trace_header, "
               "md5_body, md5_attributes, md5_system_attributes, sender_id, sent_ms, "
               "visible_at_ms, receive_count, first_receive_ms, group_id, deduplication_id, "
               "sequence_number, receipt_token) VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)");
  st.bind(1, queue).bind(2, m.seq).bind(3, m.id).bind_blob(4, *m.body).bind(5, m.attributes);
  st.bind(6, m.trace_header).bind(7, m.md5_body).bind(8, m.md5_attributes);
  st.bind(9, m.md5_system_attributes).bind(10, m.sender_id).bind(11, m.sent_ms);
  st.bind(12, m.visible_at_ms).bind(13, m.receive_count).bind(14, m.first_receive_ms);
  st.bind(15, m.group_id).bind(16, m.deduplication_id).bind(17, m.sequence_number);
  st.bind(18, m.receipt_token);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

Status delete_message(sqlite3* db, const std::string& queue, std::int64_t seq) {
  Statement st(db, "DELETE FROM sqs_messages WHERE queue = ?1 AND seq = ?2");
  st.bind(1, queue).bind(2, seq);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

Status run(sqlite3* db, const char* sql, const std::string& queue) {
  Statement st(db, sql);
  st.bind(1, queue);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<QueueStore>> QueueStore::open(Sqlite& db) {
  auto schema = db.call_blocking([](sqlite3* h) { return exec(h, kSchema); });
  if (!schema) return std::move(schema).error();
  return std::unique_ptr<QueueStore>(new QueueStore(db));
}

Result<std::vector<StoredQueue>> QueueStore::load(std::int64_t now_ms) {
  return db_.call_blocking([now_ms](sqlite3* h) -> Result<std::vector<StoredQueue>> {
    std::vector<StoredQueue> out;
    std::map<std::string, std::size_t> index;
    {
      Statement st(h,
                   "SELECT name, attributes, tags, created_s, modified_s, next_sequence "
                   "FROM sqs_queues ORDER BY name");
      while (st.step()) {
        StoredQueue q;
        q.queue.name = std::string(st.column_text(0));
        q.queue.attributes = decode_map(st.column_text(1));
        q.queue.tags = decode_map(st.column_text(2));
        q.queue.created_s = st.column_int(3);
        q.queue.modified_s = st.column_int(4);
        q.queue.next_sequence = st.column_int(5);
        index.emplace(q.queue.name, out.size());
        out.push_back(std::move(q));
      }
      if (st.failed()) return st.error();
    }
    {
      Statement st(h,
                   "SELECT queue, seq, id, body, attributes, trace_header, md5_body, "
                   "md5_attributes, md5_system_attributes, sender_id, sent_ms, visible_at_ms, "
                   "receive_count, first_receive_ms, group_id, deduplication_id, "
                   "sequence_number, receipt_token FROM sqs_messages ORDER BY queue, seq");
      while (st.step()) {
        auto it = index.find(std::string(st.column_text(0)));
        if (it == index.end()) continue;
        MessageRecord m;
        m.seq = st.column_int(1);
        m.id = std::string(st.column_text(2));
        m.body = std::make_shared<const std::string>(st.column_text(3));
        m.attributes = std::string(st.column_text(4));
        m.trace_header = std::string(st.column_text(5));
        m.md5_body = std::string(st.column_text(6));
        m.md5_attributes = std::string(st.column_text(7));
        m.md5_system_attributes = std::string(st.column_text(8));
        m.sender_id = std::string(st.column_text(9));
        m.sent_ms = st.column_int(10);
        m.visible_at_ms = st.column_int(11);
        m.receive_count = st.column_int(12);
        m.first_receive_ms = st.column_int(13);
        m.group_id = std::string(st.column_text(14));
        m.deduplication_id = std::string(st.column_text(15));
        m.sequence_number = std::string(st.column_text(16));
        m.receipt_token = std::string(st.column_text(17));
        out[it->second].messages.push_back(std::move(m));
      }
      if (st.failed()) return st.error();
    }
    {
      Statement st(h,
                   "SELECT queue, deduplication_id, message_id, sequence_number, expires_ms "
                   "FROM sqs_dedup WHERE expires_ms > ?1");
      st.bind(1, now_ms);
      while (st.step()) {
        auto it = index.find(std::string(st.column_text(0)));
        if (it == index.end()) continue;
        out[it->second].dedup.push_back(
            DedupRecord{std::string(st.column_text(1)), std::string(st.column_text(2)),
                        std::string(st.column_text(3)), st.column_int(4)});
      }
      if (st.failed()) return st.error();
    }
    Statement expired(h, "DELETE FROM sqs_dedup WHERE expires_ms <= ?1");
    expired.bind(1, now_ms);
    expired.step();
    if (expired.failed()) return expired.error();
    return out;
  });
}

Task<Status> QueueStore::put_queue(QueueRecord queue) {
  auto job = [queue = std::move(queue)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT OR REPLACE INTO sqs_queues (name, attributes, tags, created_s, "
                 "modified_s, next_sequence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st.bind(1, queue.name).bind(2, encode_map(queue.attributes)).bind(3, encode_map(queue.tags));
    st.bind(4, queue.created_s).bind(5, queue.modified_s).bind(6, queue.next_sequence);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::delete_queue(std::string name) {
  auto job = [name = std::move(name)](sqlite3* h) -> Status {
    for (const char* sql :
         {"DELETE FROM sqs_messages WHERE queue = ?1", "DELETE FROM sqs_dedup WHERE queue = ?1",
          "DELETE FROM sqs_queues WHERE name = ?1"}) {
      auto done = run(h, sql, name);
      if (!done) return done;
    }
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::insert_messages(std::string queue, std::vector<MessageRecord> messages,
                                         std::vector<DedupRecord> dedup,
                                         std::int64_t next_sequence) {
  auto job = [queue = std::move(queue), messages = std::move(messages), dedup = std::move(dedup),
              next_sequence](sqlite3* h) -> Status {
    for (const auto& message : messages) {
      auto inserted = insert_message(h, queue, message);
      if (!inserted) return inserted;
    }
    for (const auto& record : dedup) {
      Statement st(h,
                   "INSERT OR REPLACE INTO sqs_dedup (queue, deduplication_id, message_id, "
                   "sequence_number, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
      st.bind(1, queue).bind(2, record.deduplication_id).bind(3, record.message_id);
      st.bind(4, record.sequence_number).bind(5, record.expires_ms);
      st.step();
      if (st.failed()) return st.error();
    }
    if (!dedup.empty()) {
      Statement st(h, "UPDATE sqs_queues SET next_sequence = ?2 WHERE name = ?1");
      st.bind(1, queue).bind(2, next_sequence);
      st.step();
      if (st.failed()) return st.error();
    }
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::update_messages(std::string queue, std::vector<MessageVisibility> updates,
                                         std::vector<std::int64_t> removed) {
  auto job = [queue = std::move(queue), updates = std::move(updates),
              removed = std::move(removed)](sqlite3* h) -> Status {
    Statement st(h,
                 "UPDATE sqs_messages SET visible_at_ms = ?3, receive_count = ?4, "
                 "first_receive_ms = ?5, receipt_token = ?6 WHERE queue = ?1 AND seq = ?2");
    for (const auto& update : updates) {
      st.reset();
      st.bind(1, queue).bind(2, update.seq).bind(3, update.visible_at_ms);
      st.bind(4, update.receive_count).bind(5, update.first_receive_ms);
      st.bind(6, update.receipt_token);
      st.step();
      if (st.failed()) return st.error();
    }
    for (auto seq : removed) {
      auto deleted = delete_message(h, queue, seq);
      if (!deleted) return deleted;
    }
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::delete_messages(std::string queue, std::vector<std::int64_t> seqs) {
  auto job = [queue = std::move(queue), seqs = std::move(seqs)](sqlite3* h) -> Status {
    for (auto seq : seqs) {
      auto deleted = delete_message(h, queue, seq);
      if (!deleted) return deleted;
    }
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::move_message(std::string from, std::int64_t seq, std::string to,
                                      MessageRecord moved) {
  auto job = [from = std::move(from), seq, to = std::move(to),
              moved = std::move(moved)](sqlite3* h) -> Status {
    auto deleted = delete_message(h, from, seq);
    if (!deleted) return deleted;
    return insert_message(h, to, moved);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> QueueStore::purge(std::string queue) {
  auto job = [queue = std::move(queue)](sqlite3* h) -> Status {
    return run(h, "DELETE FROM sqs_messages WHERE queue = ?1", queue);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

}  // namespace lambent::store
