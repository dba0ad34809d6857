#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <map>
#include <memory>
#include <string>

struct sqlite3;

// Reserved concurrency of each function (PutFunctionConcurrency), in its own table of the data
// directory's database. Repository::open creates it; a function's row goes when the function is
// deleted. Writes are awaited and durable when they resume; SQL runs on the Sqlite writer thread.
namespace lambent::store {

class ConcurrencyStore {
 public:
  // Creates the table when it is missing. Blocking; start-up only. Fails with Errc::io.
  static Result<std::unique_ptr<ConcurrencyStore>> open(Sqlite& db);

  // Every stored reservation by function name. Blocking; start-up only.
  Result<std::map<std::string, std::int64_t>> load_reserved();
  Task<Status> put_reserved(std::string function_name, std::int64_t reserved);
  // Removing a function without a reservation is not an error.
  Task<Status> delete_reserved(std::string function_name);

  // Deletes the function's row inside a job that is already running on the writer thread, so
  // DeleteFunction removes the function and its reservation in one transaction.
  static Status delete_for_function(sqlite3* db, const std::string& function_name);

 private:
  explicit ConcurrencyStore(Sqlite& db) : db_(db) {}
  Sqlite& db_;
};

}  // namespace lambent::store
