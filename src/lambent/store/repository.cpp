#include "lambent/store/repository.h"

#include "lambent/store/event_invoke_config_store.h"
#include "lambent/store/document_store.h"
#include "lambent/store/provisioned_store.h"
#include "lambent/store/versions.h"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <algorithm>

namespace lambent::store {

namespace json = boost::json;

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS functions (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS async_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  function_name TEXT NOT NULL,
  qualifier TEXT NOT NULL,
  request_id TEXT NOT NULL,
  payload BLOB NOT NULL,
  enqueued_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  visible_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS async_events_visible ON async_events (visible_ms, seq);
)sql";

// Retry state added to async_events after its first release. Databases created before it get
// the columns on open. A row leased by the older code has visible_ms > 0 and no retry
// schedule, so it is marked as leased and start-up releases it.
constexpr const char* kRetryColumns[][2] = {
    {"failed_attempts", "ALTER TABLE async_events ADD COLUMN failed_attempts INTEGER NOT NULL "
                        "DEFAULT 0"},
    {"delayed_retries", "ALTER TABLE async_events ADD COLUMN delayed_retries INTEGER NOT NULL "
                        "DEFAULT 0"},
    {"leased", "ALTER TABLE async_events ADD COLUMN leased INTEGER NOT NULL DEFAULT 0; "
               "UPDATE async_events SET leased = 1 WHERE visible_ms > 0"},
};

Status add_retry_columns(sqlite3* h) {
  std::vector<std::string> present;
  {
    Statement st(h, "SELECT name FROM pragma_table_info('async_events')");
    while (st.step()) present.emplace_back(st.column_text(0));
    if (st.failed()) return st.error();
  }
  for (const auto& [column, sql] : kRetryColumns) {
    if (std::find(present.begin(), present.end(), column) != present.end()) continue;
    if (auto added = exec(h, sql); !added) return added;
  }
  return ok_status();
}

Status insert_event(sqlite3* h, const AsyncEvent& event, std::int64_t& seq) {
  Statement st(h,
               "INSERT INTO async_events (function_name, qualifier, request_id, payload, "
               "enqueued_ms, attempts, failed_attempts, delayed_retries, visible_ms, leased) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0)");
  st.bind(1, event.function_name)
      .bind(2, event.qualifier)
      .bind(3, event.request_id)
      .bind_blob(4, event.payload)
      .bind(5, event.enqueued_ms)
      .bind(6, static_cast<std::int64_t>(event.attempts))
      .bind(7, static_cast<std::int64_t>(event.failed_attempts))
      .bind(8, static_cast<std::int64_t>(event.delayed_retries));
  st.step();
  if (st.failed()) return st.error();
  seq = sqlite3_last_insert_rowid(h);
  return ok_status();
}

Status delete_event(sqlite3* h, std::int64_t seq) {
  Statement st(h, "DELETE FROM async_events WHERE seq = ?1");
  st.bind(1, seq);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}
}  // namespace

Result<std::unique_ptr<Repository>> Repository::open(const std::filesystem::path& data_dir) {
  auto db = Sqlite::open(data_dir / "lambent.db");
  if (!db) return std::move(db).error();
  auto schema = (*db)->call_blocking([](sqlite3* h) -> Status {
    if (auto created = exec(h, kSchema); !created) return created;
    if (auto added = add_retry_columns(h); !added) return added;
    return EventInvokeConfigStore::create_schema(h);
  });
  if (!schema) return std::move(schema).error();
  auto version_schema = (*db)->call_blocking(VersionStore::create_schema);
  if (!version_schema) return std::move(version_schema).error();
  auto provisioned_schema = (*db)->call_blocking(ProvisionedStore::create_schema);
  if (!provisioned_schema) return std::move(provisioned_schema).error();
  auto document_schema = (*db)->call_blocking(DocumentStore::create_schema);
  if (!document_schema) return std::move(document_schema).error();
  auto concurrency = ConcurrencyStore::open(**db);
  if (!concurrency) return std::move(concurrency).error();
  auto repository = std::unique_ptr<Repository>(new Repository(std::move(db).value()));
  repository->concurrency_ = std::move(concurrency).value();
  return repository;
}

std::string encode_function(const FunctionRecord& r) {
  json::object env;
  for (const auto& [k, v] : r.environment) env[k] = v;
  json::object o{
      {"name", r.name},
      {"runtime", r.runtime},
      {"handler", r.handler},
      {"role", r.role},
      {"description", r.description},
      {"timeout", r.timeout_seconds},
      {"memory", r.memory_mb},
      {"ephemeral_storage", r.ephemeral_storage_mb},
      {"architecture", r.architecture},
      {"code_sha256_hex", r.code_sha256_hex},
      {"code_sha256_base64", r.code_sha256_base64},
      {"code_size", r.code_size},
      {"last_modified", r.last_modified},
      {"revision_id", r.revision_id},
      {"created_ms", r.created_ms},
  };
  // Environment variables keep their order, so they are stored as a list of pairs.
  json::array pairs;
  for (const auto& [k, v] : r.environment) pairs.push_back(json::array{json::string(k), json::string(v)});
  o["environment"] = std::move(pairs);
  o["environment_set"] = r.environment_set;
  if (!r.dead_letter_target_arn.empty()) o["dead_letter_target_arn"] = r.dead_letter_target_arn;
  return json::serialize(o);
}

Result<FunctionRecord> decode_function(std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return make_error(Errc::io, "corrupt function record");
  const auto& o = value.as_object();
  FunctionRecord r;
  try {
    r.name = json::value_to<std::string>(o.at("name"));
    r.runtime = json::value_to<std::string>(o.at("runtime"));
    r.handler = json::value_to<std::string>(o.at("handler"));
    r.role = json::value_to<std::string>(o.at("role"));
    r.description = json::value_to<std::string>(o.at("description"));
    r.timeout_seconds = json::value_to<int>(o.at("timeout"));
    r.memory_mb = json::value_to<int>(o.at("memory"));
    r.ephemeral_storage_mb = json::value_to<int>(o.at("ephemeral_storage"));
    r.architecture = json::value_to<std::string>(o.at("architecture"));
    r.code_sha256_hex = json::value_to<std::string>(o.at("code_sha256_hex"));
    r.code_sha256_base64 = json::value_to<std::string>(o.at("code_sha256_base64"));
    r.code_size = json::value_to<std::uint64_t>(o.at("code_size"));
    r.last_modified = json::value_to<std::string>(o.at("last_modified"));
    r.revision_id = json::value_to<std::string>(o.at("revision_id"));
    r.created_ms = json::value_to<std::int64_t>(o.at("created_ms"));
    if (const auto* set = o.if_contains("environment_set"); set && set->is_bool()) {
      r.environment_set = set->as_bool();
    }
    if (const auto* target = o.if_contains("dead_letter_target_arn"); target && target->is_string()) {
      r.dead_letter_target_arn = json::value_to<std::string>(*target);
    }
    for (const auto& pair : o.at("environment").as_array()) {
      const auto& kv = pair.as_array();
      r.environment.emplace_back(json::value_to<std::string>(kv.at(0)),
                                 json::value_to<std::string>(kv.at(1)));
    }
  } catch (const std::exception& e) {
    return make_error(Errc::io, std::string("corrupt function record: ") + e.what());
  }
  return r;
}

Result<std::vector<FunctionRecord>> Repository::load_functions() {
  return db_->call_blocking([](sqlite3* h) -> Result<std::vector<FunctionRecord>> {
    Statement st(h, "SELECT config FROM functions ORDER BY name");
    std::vector<FunctionRecord> out;
    while (st.step()) {
      auto record = decode_function(st.column_text(0));
      if (!record) return std::move(record).error();
      out.push_back(std::move(record).value());
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> Repository::put_function(FunctionRecord record) {
  std::string name = record.name;
  std::string config = encode_function(record);
  auto job = 
      [name = std::move(name), config = std::move(config)](sqlite3* h) -> Status {
        Statement st(h, "INSERT INTO functions (name, config) VALUES (?1, ?2) "
                        "ON CONFLICT(name) DO UPDATE SET config = excluded.config");
        st.bind(1, name).bind(2, config);
        st.step();
        if (st.failed()) return st.error();
        return ok_status();
      };
  co_return co_await db_->call<Unit>(std::move(job));
}

Task<Status> Repository::delete_function(std::string name) {
  auto job = [name = std::move(name)](sqlite3* h) -> Status {
    Statement st(h, "DELETE FROM functions WHERE name = ?1");
    st.bind(1, name);
    st.step();
    if (st.failed()) return st.error();
    // The function's event invoke configs and reservation go in the same transaction.
    if (auto deleted = EventInvokeConfigStore::delete_function_configs(h, name); !deleted) {
      return deleted;
    }
    return ConcurrencyStore::delete_for_function(h, name);
  };
  co_return co_await db_->call<Unit>(std::move(job));
}

Result<std::vector<AccessKey>> Repository::load_keys() {
  return db_->call_blocking([](sqlite3* h) -> Result<std::vector<AccessKey>> {
    Statement st(h, "SELECT id, secret FROM access_keys ORDER BY created_ms");
    std::vector<AccessKey> out;
    while (st.step()) {
      out.push_back({std::string(st.column_text(0)), std::string(st.column_text(1))});
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Status Repository::add_key(const AccessKey& key) {
  return db_->call_blocking([&](sqlite3* h) -> Status {
    Statement st(h, "INSERT INTO access_keys (id, secret, created_ms) VALUES (?1, ?2, ?3)");
    st.bind(1, key.id).bind(2, key.secret).bind(3, epoch_ms());
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  });
}

Task<Result<std::int64_t>> Repository::enqueue(AsyncEvent event) {
  auto job = [event = std::move(event)](sqlite3* h) -> Result<std::int64_t> {
    std::int64_t seq = 0;
    if (auto inserted = insert_event(h, event, seq); !inserted) return std::move(inserted).error();
    return seq;
  };
  co_return co_await db_->call<std::int64_t>(std::move(job));
}

Task<Result<std::vector<AsyncEvent>>> Repository::lease(int limit, std::int64_t lease_ms) {
  auto job = 
      [limit, lease_ms](sqlite3* h) -> Result<std::vector<AsyncEvent>> {
        std::int64_t now = epoch_ms();
        Statement select(h,
                         "SELECT seq, function_name, qualifier, request_id, payload, enqueued_ms, "
                         "attempts, failed_attempts, delayed_retries FROM async_events "
                         "WHERE visible_ms <= ?1 ORDER BY visible_ms, seq LIMIT ?2");
        select.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
        std::vector<AsyncEvent> out;
        while (select.step()) {
          AsyncEvent e;
          e.seq = select.column_int(0);
          e.function_name = select.column_text(1);
          e.qualifier = select.column_text(2);
          e.request_id = select.column_text(3);
          e.payload = select.column_text(4);
          e.enqueued_ms = select.column_int(5);
          e.attempts = static_cast<int>(select.column_int(6));
          e.failed_attempts = static_cast<int>(select.column_int(7));
          e.delayed_retries = static_cast<int>(select.column_int(8));
          out.push_back(std::move(e));
        }
        if (select.failed()) return select.error();
        Statement update(h,
                         "UPDATE async_events SET visible_ms = ?1, leased = 1, "
                         "attempts = attempts + 1 WHERE seq = ?2");
        for (const auto& e : out) {
          update.reset();
          update.bind(1, now + lease_ms).bind(2, e.seq);
          update.step();
          if (update.failed()) return update.error();
        }
        return out;
      };
  co_return co_await db_->call<std::vector<AsyncEvent>>(std::move(job));
}

Task<Status> Repository::ack(std::int64_t seq) {
  auto job = [seq](sqlite3* h) -> Status { return delete_event(h, seq); };
  co_return co_await db_->call<Unit>(std::move(job));
}

Task<Status> Repository::ack_and_enqueue(std::int64_t seq, AsyncEvent next) {
  auto job = [seq, next = std::move(next)](sqlite3* h) -> Status {
    if (auto deleted = delete_event(h, seq); !deleted) return deleted;
    std::int64_t next_seq = 0;
    return insert_event(h, next, next_seq);
  };
  co_return co_await db_->call<Unit>(std::move(job));
}

Task<Status> Repository::reschedule(AsyncEvent event, std::int64_t visible_ms) {
  auto job = [event = std::move(event), visible_ms](sqlite3* h) -> Status {
    Statement st(h,
                 "UPDATE async_events SET visible_ms = ?1, leased = 0, attempts = ?2, "
                 "failed_attempts = ?3, delayed_retries = ?4 WHERE seq = ?5");
    st.bind(1, visible_ms)
        .bind(2, static_cast<std::int64_t>(event.attempts))
        .bind(3, static_cast<std::int64_t>(event.failed_attempts))
        .bind(4, static_cast<std::int64_t>(event.delayed_retries))
        .bind(5, event.seq);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_->call<Unit>(std::move(job));
}

Task<Result<std::optional<std::int64_t>>> Repository::next_visible_ms() {
  auto job = [](sqlite3* h) -> Result<std::optional<std::int64_t>> {
    Statement st(h, "SELECT MIN(visible_ms) FROM async_events WHERE leased = 0");
    if (!st.step()) return st.error();
    if (st.column_is_null(0)) return std::optional<std::int64_t>();
    return std::optional<std::int64_t>(st.column_int(0));
  };
  co_return co_await db_->call<std::optional<std::int64_t>>(std::move(job));
}

Task<Result<std::int64_t>> Repository::async_event_count() {
  auto job = [](sqlite3* h) -> Result<std::int64_t> {
    Statement st(h, "SELECT COUNT(*) FROM async_events");
    if (!st.step()) return st.error();
    return st.column_int(0);
  };
  co_return co_await db_->call<std::int64_t>(std::move(job));
}

Status Repository::release_all_leases() {
  return db_->call_blocking([](sqlite3* h) {
    return exec(h, "UPDATE async_events SET visible_ms = 0, leased = 0 WHERE leased = 1");
  });
}

Result<std::int64_t> Repository::count_queued() {
  return db_->call_blocking([](sqlite3* h) -> Result<std::int64_t> {
    Statement st(h, "SELECT COUNT(*) FROM async_events");
    if (!st.step()) return st.error();
    return st.column_int(0);
  });
}

}  // namespace lambent::store
