#include "lambent/store/document_store.h"

#include <sqlite3.h>

namespace lambent::store {

Status DocumentStore::create_schema(sqlite3* db) {
  return exec(db, R"sql(
CREATE TABLE IF NOT EXISTS documents (
  collection TEXT NOT NULL,
  key TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (collection, key)
);
)sql");
}

Result<std::vector<Document>> DocumentStore::load(std::string collection) {
  return db_.call_blocking([&collection](sqlite3* h) -> Result<std::vector<Document>> {
    Statement st(h, "SELECT key, body FROM documents WHERE collection = ?1 ORDER BY key");
    st.bind(1, collection);
    std::vector<Document> out;
    while (st.step()) out.push_back({std::string(st.column_text(0)), std::string(st.column_text(1))});
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> DocumentStore::put(std::string collection, std::string key, std::string body) {
  auto job = [collection = std::move(collection), key = std::move(key),
              body = std::move(body)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO documents (collection, key, body) VALUES (?1, ?2, ?3) "
                 "ON CONFLICT(collection, key) DO UPDATE SET body = excluded.body");
    st.bind(1, collection).bind(2, key).bind(3, body);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> DocumentStore::remove(std::string collection, std::string key) {
  auto job = [collection = std::move(collection), key = std::move(key)](sqlite3* h) -> Status {
    Statement st(h, "DELETE FROM documents WHERE collection = ?1 AND key = ?2");
    st.bind(1, collection).bind(2, key);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

}  // namespace lambent::store
