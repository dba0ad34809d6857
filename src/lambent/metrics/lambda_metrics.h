#pragma once

#include "lambent/metrics/metric_store.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

// The AWS/Lambda namespace as Lambda publishes it. Each invocation records Invocations, Errors,
// Duration and ConcurrentExecutions, and other events record Throttles, the async metrics, the
// provisioned concurrency metrics and IteratorAge. Each value goes to the dimension sets AWS
// uses: none (the whole account), {FunctionName}, {FunctionName, Resource} when the call named a
// version or alias, and {ExecutedVersion, FunctionName, Resource} when it named an alias.
// Handles are cached per invoked resource, so a warm invocation costs a map lookup and a few
// in-memory additions. Confined to the control-plane executor.
namespace lambent::metrics {

inline constexpr std::string_view kLambdaNamespace = "AWS/Lambda";

// True for a qualifier that names an alias: not empty, not $LATEST, not a version number.
inline bool is_alias_qualifier(std::string_view qualifier) {
  return !qualifier.empty() && qualifier != "$LATEST" &&
         qualifier.find_first_not_of("0123456789") != std::string_view::npos;
}

class LambdaMetrics {
 public:
  // The series of one invoked resource (function, version or alias) and executed version.
  struct Target;

  explicit LambdaMetrics(MetricStore& store);
  ~LambdaMetrics();
  LambdaMetrics(const LambdaMetrics&) = delete;
  LambdaMetrics& operator=(const LambdaMetrics&) = delete;

  // `qualifier` is empty for an unqualified call; `alias` is true when it named an alias.
  // An empty `executed_version` (not known yet, as when an event is queued) leaves out the
  // ExecutedVersion dimension set. A `qualifier` of $LATEST counts as unqualified.
  Target* target(std::string_view function, std::string_view qualifier, bool alias,
                 std::string_view executed_version);
  // Same, from the ARN the call used (qualified or not); a qualifier other than a number or
  // $LATEST is an alias.
  Target* target_for_arn(std::string_view invoked_arn, std::string_view executed_version);

  // An invocation took a concurrency slot; `unreserved_running` is the unreserved pool's use
  // after it did.
  void started(Target* target, std::int64_t unreserved_running, std::int64_t now_ms);
  // It finished: error is true for a function error or a timeout. `provisioned` is true when
  // it ran in a provisioned environment. `has_provisioned` is true when the invoked resource has
  // provisioned concurrency configured; without it no provisioned metrics are written.
  // `provisioned_allocated` is the number of environments that setting has.
  void finished(Target* target, bool error, double duration_ms, bool has_provisioned,
                bool provisioned, std::int64_t provisioned_allocated, std::int64_t now_ms);
  // It ended without running (the platform refused it): only the running counts change.
  void abandoned(Target* target);
  void throttled(Target* target, std::int64_t now_ms);

  // Asynchronous invocation metrics, by the resource the event was queued for.
  void async_received(Target* target, std::int64_t now_ms);
  void async_event_age(Target* target, double age_ms, std::int64_t now_ms);
  void async_dropped(Target* target, std::int64_t now_ms);
  void dead_letter_error(Target* target, std::int64_t now_ms);
  void destination_failure(Target* target, std::int64_t now_ms);
  // Age of the last record of a batch read from a stream, when it reached the function.
  void iterator_age(Target* target, double age_ms, std::int64_t now_ms);

  // Invocations running now, by function and in total, for the Prometheus gauges.
  std::int64_t running_total() const { return running_total_; }
  const std::map<std::string, std::int64_t, std::less<>>& running_by_function() const {
    return running_;
  }

 private:
  struct DimensionSet;
  DimensionSet* dimension_set(Dimensions dimensions);
  // The set's series of one metric, created on first use.
  MetricStore::Series* series(DimensionSet* set, int metric);
  void count(Target* target, int metric, double value, std::int64_t now_ms);
  // Counts one running invocation of the target as finished.
  void release(Target* target);

  MetricStore& store_;
  std::map<std::string, std::unique_ptr<Target>, std::less<>> targets_;
  std::map<std::string, std::unique_ptr<DimensionSet>, std::less<>> sets_;
  std::map<std::string, std::int64_t, std::less<>> running_;
  std::int64_t running_total_ = 0;
  std::string key_;  // reused lookup buffer
};

}  // namespace lambent::metrics
