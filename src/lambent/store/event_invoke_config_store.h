#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Persistence of Lambda event invoke configs: the retry, event-age and destination settings of
// asynchronous invocation, one per function and qualifier. Writes run on the Sqlite writer
// thread and resume once committed.
namespace lambent::store {

struct EventInvokeConfig {
  std::string function_name;
  std::string qualifier;  // "$LATEST", a version number or an alias name
  // Unset fields are left out of responses, as AWS does; delivery then uses AWS's defaults.
  std::optional<int> maximum_retry_attempts;
  std::optional<int> maximum_event_age_seconds;
  std::string on_success;  // DestinationConfig.OnSuccess.Destination ARN, empty for none
  std::string on_failure;  // DestinationConfig.OnFailure.Destination ARN, empty for none
  std::int64_t last_modified_ms = 0;
};

class EventInvokeConfigStore {
 public:
  explicit EventInvokeConfigStore(Sqlite& db) : db_(db) {}

  // Creates the table; Repository::open calls it inside its schema set-up.
  static Status create_schema(sqlite3* h);
  // Deletes every config of `function_name`; runs inside the caller's transaction.
  static Status delete_function_configs(sqlite3* h, std::string_view function_name);

  // Every stored config, ordered by function name and qualifier. Blocking: start-up only.
  Result<std::vector<EventInvokeConfig>> load_all();
  // Inserts or replaces the config of (function_name, qualifier).
  Task<Status> put(EventInvokeConfig config);
  // Deletes one config; deleting a missing one succeeds.
  Task<Status> remove(std::string function_name, std::string qualifier);

 private:
  Sqlite& db_;
};

std::string encode_event_invoke_config(const EventInvokeConfig& config);
Result<EventInvokeConfig> decode_event_invoke_config(std::string_view function_name,
                                                     std::string_view qualifier,
                                                     std::string_view json);

}  // namespace lambent::store
