#include "lambent/store/concurrency_store.h"

#include <sqlite3.h>

namespace lambent::store {

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS function_concurrency (
  function_name TEXT PRIMARY KEY,
  reserved INTEGER NOT NULL
);
)sql";
}  // namespace

Result<std::unique_ptr<ConcurrencyStore>> ConcurrencyStore::open(Sqlite& db) {
  auto schema = db.call_blocking([](sqlite3* h) { return exec(h, kSchema); });
  if (!schema) return std::move(schema).error();
  return std::unique_ptr<ConcurrencyStore>(new ConcurrencyStore(db));
}

Result<std::map<std::string, std::int64_t>> ConcurrencyStore::load_reserved() {
  return db_.call_blocking([](sqlite3* h) -> Result<std::map<std::string, std::int64_t>> {
    Statement st(h, "SELECT function_name, reserved FROM function_concurrency");
    std::map<std::string, std::int64_t> out;
    while (st.step()) out.emplace(std::string(st.column_text(0)), st.column_int(1));
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> ConcurrencyStore::put_reserved(std::string function_name, std::int64_t reserved) {
  auto job = [name = std::move(function_name), reserved](sqlite3* h) -> Status {
    Statement st(h, "INSERT INTO function_concurrency (function_name, reserved) VALUES (?1, ?2) "
                    "ON CONFLICT(function_name) DO UPDATE SET reserved = excluded.reserved");
    st.bind(1, name).bind(2, reserved);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> ConcurrencyStore::delete_reserved(std::string function_name) {
  auto job = [name = std::move(function_name)](sqlite3* h) -> Status {
    return delete_for_function(h, name);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Status ConcurrencyStore::delete_for_function(sqlite3* db, const std::string& function_name) {
  Statement st(db, "DELETE FROM function_concurrency WHERE function_name = ?1");
  st.bind(1, function_name);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

}  // namespace lambent::store
