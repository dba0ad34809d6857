#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/document_store.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// The settings CloudWatch Logs keeps per log group (creation time, retention), stored as JSON
// documents in the collection "log_groups" keyed by group name. A function's group
// "/aws/lambda/<name>" exists while the function has a log directory, with or without a
// document; any other group exists only through CreateLogGroup. Runs on the control-plane
// executor; writes commit before they return.
namespace lambent::services::logs {

inline constexpr std::string_view kLambdaGroupPrefix = "/aws/lambda/";

// Returns the function of "/aws/lambda/<function>", or an empty view for any other group.
std::string_view function_of_group(std::string_view group_name);

// Retention periods PutRetentionPolicy accepts, in days.
bool is_allowed_retention(std::int64_t days);
std::string_view allowed_retention_list();

struct LogGroupSettings {
  std::int64_t creation_time_ms = 0;  // 0: take the function's log directory's
  std::optional<int> retention_days;
  bool created = false;  // made by CreateLogGroup, so it exists without log files
};

class LogGroupCatalog {
 public:
  using Map = std::map<std::string, LogGroupSettings, std::less<>>;

  explicit LogGroupCatalog(store::DocumentStore& documents) : documents_(documents) {}

  // Loads every stored group. Blocks, so it runs at start-up only.
  Status load();

  const LogGroupSettings* find(std::string_view name) const;
  const Map& groups() const { return groups_; }

  // Stores the settings, then updates the in-memory copy.
  Task<Status> put(std::string name, LogGroupSettings settings);
  Task<Status> remove(std::string name);

 private:
  store::DocumentStore& documents_;
  Map groups_;
};

}  // namespace lambent::services::logs
