#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/records.h"
#include "lambent/store/sqlite.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;

// Persistence for published function versions and aliases, in the same database as the
// functions table. Writes are awaited and durable when they resume (group commit). Coroutines
// run on the control-plane executor; SQL runs on the Sqlite writer thread.
namespace lambent::store {

// An immutable snapshot of a function's configuration and code, numbered from 1.
struct PublishedVersion {
  int number = 0;
  FunctionRecord config;  // config.name is the function name
};

struct AliasRecord {
  std::string function_name;
  std::string name;
  std::string function_version;  // "$LATEST" or a version number
  std::string description;
  // RoutingConfig.AdditionalVersionWeights: at most one extra version and its weight (0.0-1.0).
  std::optional<std::pair<std::string, double>> additional_version;
  std::string revision_id;
};

// Publish bookkeeping of one function. Version numbers are not reused while the function
// exists, and a $LATEST RevisionId equal to published_revision means nothing changed since
// the last publish.
struct PublishState {
  std::string function_name;
  int last_version = 0;
  std::string published_revision;
};

struct LoadedVersions {
  std::vector<PublishedVersion> versions;  // by function, then number
  std::vector<AliasRecord> aliases;        // by function, then name
  std::vector<PublishState> states;
};

class VersionStore {
 public:
  explicit VersionStore(Sqlite& db) : db_(db) {}

  // Creates the tables when missing. Called from Repository::open, before any write.
  static Status create_schema(sqlite3* db);

  // Reads every version, alias and publish state (blocking; start-up only).
  Result<LoadedVersions> load();

  // In one transaction: stores `version`, replaces the function's $LATEST record with
  // `latest` (publishing gives $LATEST a new RevisionId) and records the publish state.
  Task<Status> publish(PublishedVersion version, FunctionRecord latest);
  Task<Status> delete_version(std::string function_name, int number);

  // Inserts or replaces an alias.
  Task<Status> put_alias(AliasRecord alias);
  Task<Status> delete_alias(std::string function_name, std::string alias_name);

  // In one transaction: deletes the function's $LATEST record, versions, aliases and publish
  // state.
  Task<Status> delete_function(std::string function_name);

 private:
  Sqlite& db_;
};

}  // namespace lambent::store
