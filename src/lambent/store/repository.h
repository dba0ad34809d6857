#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/event_invoke_config_store.h"
#include "lambent/store/concurrency_store.h"
#include "lambent/store/records.h"
#include "lambent/store/sqlite.h"

#include <filesystem>
#include <memory>
#include <optional>
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
  // Returns up to `limit` events whose visibility time has passed, earliest due first, marks
  // them leased, counts one more attempt in the row and hides each for `lease_ms` from now.
  // The returned `attempts` is the count before this lease. Events scheduled for later stay.
  Task<Result<std::vector<AsyncEvent>>> lease(int limit, std::int64_t lease_ms);
  Task<Status> ack(std::int64_t seq);
  // Deletes event `seq` and inserts `next` in one transaction, so a crash keeps either both
  // rows' old state or the new one.
  Task<Status> ack_and_enqueue(std::int64_t seq, AsyncEvent next);
  // Releases the lease on event.seq and stores its retry state (attempts, failed_attempts,
  // delayed_retries); the event becomes visible at `visible_ms` (epoch milliseconds).
  Task<Status> reschedule(AsyncEvent event, std::int64_t visible_ms);
  // Async events stored and not yet finished, leased ones included.
  Task<Result<std::int64_t>> async_event_count();
  // The earliest visible_ms among events not leased, or none when no such event exists.
  Task<Result<std::optional<std::int64_t>>> next_visible_ms();
  // Makes every leased event visible again; used at start-up, when no lease holder survives.
  // Events waiting for a scheduled retry keep their time.
  Status release_all_leases();
  Result<std::int64_t> count_queued();

  // Event invoke configs (PutFunctionEventInvokeConfig); delete_function removes a function's.
  EventInvokeConfigStore& event_invoke_configs() { return event_invoke_configs_; }

  Sqlite& db() { return *db_; }
  ConcurrencyStore& concurrency() { return *concurrency_; }

 private:
  explicit Repository(std::unique_ptr<Sqlite> db)
      : db_(std::move(db)), event_invoke_configs_(*db_) {}
  std::unique_ptr<Sqlite> db_;
  EventInvokeConfigStore event_invoke_configs_;
  std::unique_ptr<ConcurrencyStore> concurrency_;
};

std::string encode_function(const FunctionRecord& record);
Result<FunctionRecord> decode_function(std::string_view json);

}  // namespace lambent::store
