#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/document_store.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Event source mappings: which queue feeds which function, with the batching, filtering and
// scaling settings of CreateEventSourceMapping. The catalog keeps them in memory and in the
// document store (collection "event_source_mappings", keyed by UUID).
namespace lambent::sources {

struct EventSourceMapping {
  std::string uuid;
  std::string event_source_arn;
  std::string function_name;
  std::string qualifier;  // version or alias, empty for the unqualified function
  std::string function_arn;  // as the API returns it, with the qualifier when one was given
  std::int64_t batch_size = 10;
  std::int64_t maximum_batching_window_seconds = 0;
  bool enabled = true;
  // FilterCriteria.Filters[].Pattern, as the caller sent them.
  std::vector<std::string> filter_patterns;
  bool report_batch_item_failures = false;  // FunctionResponseTypes ["ReportBatchItemFailures"]
  std::optional<std::int64_t> maximum_concurrency;  // ScalingConfig.MaximumConcurrency
  double last_modified = 0;  // epoch seconds
};

// The JSON document the catalog stores; also what tests of the catalog read.
std::string to_document(const EventSourceMapping& mapping);
Result<EventSourceMapping> from_document(std::string_view text);

// Every mapping, in memory and in the document store. Confined to the control-plane executor.
class MappingCatalog {
 public:
  explicit MappingCatalog(store::DocumentStore& documents) : documents_(documents) {}

  // Reads every mapping from the store. Blocking: runs at start-up only.
  Status load();

  std::shared_ptr<const EventSourceMapping> find(std::string_view uuid) const;
  // Mappings ordered by UUID.
  std::vector<std::shared_ptr<const EventSourceMapping>> list() const;
  // Persists, then replaces the mapping with the same UUID (or adds it), then calls the
  // observer.
  Task<Status> put(EventSourceMapping mapping);
  // Persists the removal, then calls the observer. Removing an unknown UUID succeeds.
  Task<Status> remove(std::string uuid);

  // Called with a UUID after each put or remove: the pollers start, change or stop.
  void set_observer(std::function<void(const std::string& uuid)> observer) {
    observer_ = std::move(observer);
  }

 private:
  static constexpr std::string_view kCollection = "event_source_mappings";

  store::DocumentStore& documents_;
  std::map<std::string, std::shared_ptr<const EventSourceMapping>, std::less<>> mappings_;
  std::function<void(const std::string&)> observer_;
};

}  // namespace lambent::sources
