#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/concurrency_store.h"
#include "lambent/store/records.h"
#include "lambent/store/sqlite.h"

#include <filesystem>
#include <memory>
#include <vector>

// Typed persistence for functions, access keys and the durable async queue, on top of Sqlite.
// Writes are awaited and durable when they resume (group commit). Coroutines run on the
// control-plane executor; SQL runs on the Sqlite writer thread.
namespace lambent::store {

class Repository {
 public:
  // Opens data_dir/lambent.db and creates the schema. Fails with Errc::io.
  static Result<std::unique_ptr<Repository>> open(const std::filesystem::path& data_dir);

  // Functions. load_functions runs at start-up only (blocking).
  Result<std::vector<FunctionRecord>> load_functions();
  Task<Status> put_function(FunctionRecord record);
  // Also deletes the function's reserved concurrency, in the same transaction.
  Task<Status> delete_function(std::string name);

  // Access keys (blocking; start-up and `lambent env`).
  Result<std::vector<AccessKey>> load_keys();
  Status add_key(const AccessKey& key);

  // Async queue. enqueue assigns seq and resumes once the event is committed.
  Task<Result<std::int64_t>> enqueue(AsyncEvent event);
  // Returns up to `limit` events whose visibility time has passed, oldest first, and hides each
  // for `lease_ms` from now.
  Task<Result<std::vector<AsyncEvent>>> lease(int limit, std::int64_t lease_ms);
  Task<Status> ack(std::int64_t seq);
  // Makes every leased event visible again; used at start-up, when no lease holder survives.
  Status release_all_leases();
  Result<std::int64_t> count_queued();

  Sqlite& db() { return *db_; }
  ConcurrencyStore& concurrency() { return *concurrency_; }

 private:
  explicit Repository(std::unique_ptr<Sqlite> db) : db_(std::move(db)) {}
  std::unique_ptr<Sqlite> db_;
  std::unique_ptr<ConcurrencyStore> concurrency_;
};

std::string encode_function(const FunctionRecord& record);
Result<FunctionRecord> decode_function(std::string_view json);

}  // namespace lambent::store
