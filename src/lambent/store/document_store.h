#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <string>
#include <vector>

// Small JSON documents kept by collection and key: the configuration of services whose objects
// are read whole and rewritten whole (HTTP APIs, REST APIs, function URL configs). Each
// document is one row; a put replaces it in one commit.
namespace lambent::store {

struct Document {
  std::string key;
  std::string body;  // JSON text, owned and parsed by the service
};

class DocumentStore {
 public:
  explicit DocumentStore(Sqlite& db) : db_(db) {}

  // Creates the table; Repository::open runs it.
  static Status create_schema(sqlite3* db);
  // Returns every document of a collection ordered by key. Blocks, so it runs at start-up only.
  Result<std::vector<Document>> load(std::string collection);

  Task<Status> put(std::string collection, std::string key, std::string body);
  Task<Status> remove(std::string collection, std::string key);

 private:
  Sqlite& db_;
};

}  // namespace lambent::store
