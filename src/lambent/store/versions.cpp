#include "lambent/store/versions.h"

#include "lambent/store/concurrency_store.h"
#include "lambent/store/event_invoke_config_store.h"
#include "lambent/store/provisioned_store.h"

#include "lambent/store/repository.h"

#include <sqlite3.h>

#include <cmath>
#include <string>

namespace lambent::store {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS function_versions (
  function_name TEXT NOT NULL,
  version INTEGER NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (function_name, version)
);
CREATE TABLE IF NOT EXISTS function_aliases (
  function_name TEXT NOT NULL,
  name TEXT NOT NULL,
  function_version TEXT NOT NULL,
  description TEXT NOT NULL,
  additional_version TEXT NOT NULL,
  additional_weight_millionths INTEGER NOT NULL,
  revision_id TEXT NOT NULL,
  PRIMARY KEY (function_name, name)
);
CREATE TABLE IF NOT EXISTS function_publish_state (
  function_name TEXT PRIMARY KEY,
  last_version INTEGER NOT NULL,
  published_revision TEXT NOT NULL
);
)sql";

Status run_statement(Statement& st) {
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

}  // namespace

Status VersionStore::create_schema(sqlite3* db) { return exec(db, kSchema); }

Result<LoadedVersions> VersionStore::load() {
  return db_.call_blocking([](sqlite3* h) -> Result<LoadedVersions> {
    LoadedVersions out;
    Statement versions(h,
                       "SELECT version, config FROM function_versions "
                       "ORDER BY function_name, version");
    while (versions.step()) {
      auto config = decode_function(versions.column_text(1));
      if (!config) return std::move(config).error();
      out.versions.push_back(
          {static_cast<int>(versions.column_int(0)), std::move(config).value()});
    }
    if (versions.failed()) return versions.error();

    Statement aliases(h,
                      "SELECT function_name, name, function_version, description, "
                      "additional_version, additional_weight_millionths, revision_id FROM function_aliases "
                      "ORDER BY function_name, name");
    while (aliases.step()) {
      AliasRecord alias;
      alias.function_name = aliases.column_text(0);
      alias.name = aliases.column_text(1);
      alias.function_version = aliases.column_text(2);
      alias.description = aliases.column_text(3);
      std::string additional(aliases.column_text(4));
      if (!additional.empty()) {
        // NOTE: weights are stored in millionths, so digits beyond the sixth decimal place are
        // rounded away.
        double weight = static_cast<double>(aliases.column_int(5)) / 1e6;
        alias.additional_version = std::make_pair(std::move(additional), weight);
      }
      alias.revision_id = aliases.column_text(6);
      out.aliases.push_back(std::move(alias));
    }
    if (aliases.failed()) return aliases.error();

    Statement states(h,
                     "SELECT function_name, last_version, published_revision "
                     "FROM function_publish_state ORDER BY function_name");
    while (states.step()) {
      out.states.push_back({std::string(states.column_text(0)),
                            static_cast<int>(states.column_int(1)),
                            std::string(states.column_text(2))});
    }
    if (states.failed()) return states.error();
    return out;
  });
}

Task<Status> VersionStore::publish(PublishedVersion version, FunctionRecord latest) {
  std::string version_config = encode_function(version.config);
  std::string latest_config = encode_function(latest);
  auto job = [name = latest.name, number = version.number, version_config = std::move(version_config),
              latest_config = std::move(latest_config),
              revision = latest.revision_id](sqlite3* h) -> Status {
    Statement insert(h,
                     "INSERT INTO function_versions (function_name, version, config) "
                     "VALUES (?1, ?2, ?3)");
    insert.bind(1, name).bind(2, static_cast<std::int64_t>(number)).bind(3, version_config);
    if (auto done = run_statement(insert); !done) return done;

    Statement update(h, "UPDATE functions SET config = ?2 WHERE name = ?1");
    update.bind(1, name).bind(2, latest_config);
    if (auto done = run_statement(update); !done) return done;

    Statement state(h,
                    "INSERT INTO function_publish_state (function_name, last_version, "
                    "published_revision) VALUES (?1, ?2, ?3) ON CONFLICT(function_name) DO "
                    "UPDATE SET last_version = excluded.last_version, "
                    "published_revision = excluded.published_revision");
    state.bind(1, name).bind(2, static_cast<std::int64_t>(number)).bind(3, revision);
    return run_statement(state);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> VersionStore::delete_version(std::string function_name, int number) {
  auto job = [name = std::move(function_name), number](sqlite3* h) -> Status {
    Statement st(h, "DELETE FROM function_versions WHERE function_name = ?1 AND version = ?2");
    st.bind(1, name).bind(2, static_cast<std::int64_t>(number));
    return run_statement(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> VersionStore::put_alias(AliasRecord alias) {
  auto job = [alias = std::move(alias)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO function_aliases (function_name, name, function_version, "
                 "description, additional_version, additional_weight_millionths, revision_id) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(function_name, name) DO UPDATE "
                 "SET function_version = excluded.function_version, "
                 "description = excluded.description, "
                 "additional_version = excluded.additional_version, "
                 "additional_weight_millionths = excluded.additional_weight_millionths, "
                 "revision_id = excluded.revision_id");
    std::string additional;
    std::int64_t weight_millionths = 0;
    if (alias.additional_version) {
      additional = alias.additional_version->first;
      weight_millionths = std::llround(alias.additional_version->second * 1e6);
    }
    st.bind(1, alias.function_name)
        .bind(2, alias.name)
        .bind(3, alias.function_version)
        .bind(4, alias.description)
        .bind(5, additional)
        .bind(6, weight_millionths)
        .bind(7, alias.revision_id);
    return run_statement(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> VersionStore::delete_alias(std::string function_name, std::string alias_name) {
  auto job = [name = std::move(function_name), alias = std::move(alias_name)](sqlite3* h) -> Status {
    Statement st(h, "DELETE FROM function_aliases WHERE function_name = ?1 AND name = ?2");
    st.bind(1, name).bind(2, alias);
    return run_statement(st);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> VersionStore::delete_function(std::string function_name) {
  auto job = [name = std::move(function_name)](sqlite3* h) -> Status {
    for (const char* sql : {"DELETE FROM function_versions WHERE function_name = ?1",
                            "DELETE FROM function_aliases WHERE function_name = ?1",
                            "DELETE FROM function_publish_state WHERE function_name = ?1",
                            "DELETE FROM functions WHERE name = ?1",
                            // Queued events and pending retries end with their function, so
                            // none runs on a new function created under the same name.
                            "DELETE FROM async_events WHERE function_name = ?1"}) {
      Statement st(h, sql);
      st.bind(1, name);
      if (auto done = run_statement(st); !done) return done;
    }
    if (auto deleted = EventInvokeConfigStore::delete_function_configs(h, name); !deleted) {
      return deleted;
    }
    if (auto deleted = ProvisionedStore::delete_for_function(h, name); !deleted) return deleted;
    return ConcurrencyStore::delete_for_function(h, name);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

}  // namespace lambent::store
