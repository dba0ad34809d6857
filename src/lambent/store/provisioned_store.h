#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <cstdint>
#include <string>
#include <vector>

// Provisioned concurrency settings, one row per function version or alias.
namespace lambent::store {

struct ProvisionedRecord {
  std::string function_name;
  std::string qualifier;  // a version number or an alias name
  std::int64_t requested = 0;
  std::string last_modified;  // as AWS formats it
};

class ProvisionedStore {
 public:
  explicit ProvisionedStore(Sqlite& db) : db_(db) {}

  // Creates the table; Repository::open runs it.
  static Status create_schema(sqlite3* db);
  // Returns every setting, ordered by function and qualifier. Blocks, so it runs at start-up only.
  Result<std::vector<ProvisionedRecord>> load();

  Task<Status> put(ProvisionedRecord record);
  Task<Status> remove(std::string function_name, std::string qualifier);
  // Removes every setting of a function.
  Task<Status> remove_function(std::string function_name);
  // Removes every setting of a function inside a caller's transaction on the writer thread.
  static Status delete_for_function(sqlite3* db, const std::string& function_name);

 private:
  Sqlite& db_;
};

}  // namespace lambent::store
