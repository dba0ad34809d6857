#include "lambent/store/provisioned_store.h"

#include <sqlite3.h>

namespace lambent::store {

Status ProvisionedStore::create_schema(sqlite3* db) {
  return exec(db, R"sql(
CREATE TABLE IF NOT EXISTS provisioned_concurrency (
  function_name TEXT NOT NULL,
  qualifier TEXT NOT NULL,
  requested INTEGER NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (function_name, qualifier)
);
)sql");
}

Result<std::vector<ProvisionedRecord>> ProvisionedStore::load() {
  return db_.call_blocking([](sqlite3* h) -> Result<std::vector<ProvisionedRecord>> {
    Statement st(h,
                 "SELECT function_name, qualifier, requested, last_modified FROM "
                 "provisioned_concurrency ORDER BY function_name, qualifier");
    std::vector<ProvisionedRecord> out;
    while (st.step()) {
      out.push_back({std::string(st.column_text(0)), std::string(st.column_text(1)),
                     st.column_int(2), std::string(st.column_text(3))});
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> ProvisionedStore::put(ProvisionedRecord record) {
  auto job = [record = std::move(record)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO provisioned_concurrency (function_name, qualifier, requested, "
                 "last_modified) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(function_name, qualifier) "
                 "DO UPDATE SET requested = excluded.requested, "
                 "last_modified = excluded.last_modified");
    st.bind(1, record.function_name)
        .bind(2, record.qualifier)
        .bind(3, record.requested)
        .bind(4, record.last_modified);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> ProvisionedStore::remove(std::string function_name, std::string qualifier) {
  auto job = [function_name = std::move(function_name),
              qualifier = std::move(qualifier)](sqlite3* h) -> Status {
    Statement st(h,
                 "DELETE FROM provisioned_concurrency WHERE function_name = ?1 AND qualifier = ?2");
    st.bind(1, function_name).bind(2, qualifier);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> ProvisionedStore::remove_function(std::string function_name) {
  auto job = [function_name = std::move(function_name)](sqlite3* h) -> Status {
    return delete_for_function(h, function_name);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Status ProvisionedStore::delete_for_function(sqlite3* db, const std::string& function_name) {
  Statement st(db, "DELETE FROM provisioned_concurrency WHERE function_name = ?1");
  st.bind(1, function_name);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

}  // namespace lambent::store
