#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/invoke/concurrency.h"
#include "lambent/metrics/lambda_metrics.h"
#include "lambent/runtime/manager.h"
#include "lambent/store/code_store.h"
#include "lambent/store/message_targets.h"
#include "lambent/store/provisioned_store.h"
#include "lambent/store/repository.h"
#include "lambent/store/versions.h"

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::metrics {
class CostLedger;
}

// Function catalog and invocation: the in-memory view of every function with its published
// versions and aliases (backed by the repository), qualifier resolution, synchronous invokes, and
// the durable asynchronous queue with its dispatcher. Confined to the control-plane executor.
namespace lambent::invoke {

struct InvokerOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::size_t async_concurrency = 64;       // async events in flight at once
  std::int64_t account_concurrency = 1000;  // AWS's default ConcurrentExecutions
  // Multiplies every async retry delay, backoff and maximum event age. A testing knob
  // (`serve --async-retry-scale`); 1 gives AWS's timing.
  double async_retry_scale = 1.0;
};

// Counters of async delivery since start, for metrics.
struct AsyncStats {
  std::uint64_t retries_scheduled = 0;     // attempts scheduled after a failure or throttle
  std::uint64_t events_expired = 0;        // dropped past MaximumEventAgeInSeconds
  std::uint64_t retries_exhausted = 0;     // dropped after MaximumRetryAttempts
  std::uint64_t destination_records = 0;   // records enqueued or sent to a destination
  std::uint64_t destination_failures = 0;  // records that could not be delivered
  std::uint64_t dead_letter_errors = 0;    // events that could not be sent to the dead-letter target
};

// A function, version or alias resolved for one call.
struct Resolved {
  std::shared_ptr<const runtime::FunctionSpec> spec;  // the version that runs
  std::string invoked_arn;  // function ARN as called, qualified when a qualifier was given
  std::string alias;        // alias name when the qualifier was an alias, else empty
};

class Invoker {
 public:
  using Resolved = invoke::Resolved;  // so both invoke::Resolved and Invoker::Resolved work

  Invoker(runtime::Manager& manager, store::Repository& repository, store::CodeStore& code,
          InvokerOptions options);
  ~Invoker();

  // Loads functions from the repository and starts the async dispatcher. Blocking.
  Status start();
  void stop();

  // Catalog. put() persists the record and retires environments of an older version.
  std::shared_ptr<const runtime::FunctionSpec> find(std::string_view name) const;
  std::vector<std::shared_ptr<const runtime::FunctionSpec>> list() const;
  Task<Status> put(store::FunctionRecord record);
  Task<Status> remove(std::string name);

  std::string function_arn(std::string_view name) const;

  // Resolves "$LATEST", a version number or an alias (weighted routing picks a version).
  // Errc::not_found with AWS's message when the function or qualifier does not exist.
  Result<Resolved> resolve(std::string_view name, std::optional<std::string_view> qualifier) const;
  // Like resolve(), but an alias always gives its primary FunctionVersion, as GetFunction
  // reports it.
  Result<Resolved> describe(std::string_view name, std::optional<std::string_view> qualifier) const;
  // True when the qualifier names an existing version or alias of the function ("$LATEST" too).
  bool qualifier_exists(std::string_view name, std::string_view qualifier) const;

  // Versions and aliases (invoke/versions.cpp). Callers serialize changes and check
  // preconditions; these persist and then update the catalog.
  std::shared_ptr<const runtime::FunctionSpec> find_version(std::string_view name,
                                                            std::string_view version) const;
  // Published versions of a function, oldest first ($LATEST not included).
  std::vector<std::shared_ptr<const runtime::FunctionSpec>> list_versions(
      std::string_view name) const;
  // Publishes $LATEST as a new version, or returns the newest version when $LATEST has not
  // changed since it was published. `description` defaults to $LATEST's.
  Task<Result<std::shared_ptr<const runtime::FunctionSpec>>> publish(
      std::string name, std::optional<std::string> description);
  Task<Status> delete_version(std::string name, std::string version);
  std::optional<store::AliasRecord> find_alias(std::string_view name, std::string_view alias) const;
  std::vector<store::AliasRecord> list_aliases(std::string_view name) const;
  Task<Status> put_alias(store::AliasRecord alias);
  Task<Status> delete_alias(std::string name, std::string alias);
  // Provisioned concurrency (invoke/provisioning.cpp). A setting names a version or an alias;
  // an alias's environments belong to its primary version, and move when the alias does.
  const store::ProvisionedRecord* provisioned(std::string_view name,
                                              std::string_view qualifier) const;
  std::vector<store::ProvisionedRecord> list_provisioned(std::string_view name) const;
  // Sum of the function's settings, leaving out `except_qualifier`.
  std::int64_t total_provisioned(std::string_view name,
                                 std::string_view except_qualifier = {}) const;
  // Sum of the settings of every function without reserved concurrency except `name`.
  std::int64_t unreserved_provisioned(std::string_view except_name) const;
  Task<Status> put_provisioned(store::ProvisionedRecord record);
  Task<Status> delete_provisioned(std::string name, std::string qualifier);
  runtime::ProvisionedStatus provisioned_status(std::string_view name,
                                                std::string_view qualifier) const;
  // Memory in MB that every provisioned setting keeps allocated, leaving out the setting of
  // `except_name`:`except_qualifier`; and the host's cap on environment memory.
  std::uint64_t provisioned_memory_mb(std::string_view except_name,
                                      std::string_view except_qualifier) const;
  std::uint64_t host_memory_mb() const { return manager_.options().host_memory_mb; }

  // True when $LATEST or a published version of any function uses the code package.
  bool code_in_use(std::string_view sha256_hex) const;

  // Synchronous invoke of an existing function. Holds a concurrency slot while it runs and
  // fails with Errc::throttled (Error::type = AWS's Reason) when none is free.
  Task<Result<runtime::InvokeResult>> invoke(std::shared_ptr<const runtime::FunctionSpec> spec,
                                             runtime::InvokeRequest request);

  // Commits an async event; resumes once it is durable.
  Task<Status> enqueue(std::string function_name, std::string qualifier, std::string request_id,
                       std::string payload);

  // Event invoke configs, one per function and qualifier (async_delivery.cpp).
  // event_invoke_config returns nullptr when (name, qualifier) has none.
  const store::EventInvokeConfig* event_invoke_config(std::string_view name,
                                                      std::string_view qualifier) const;
  std::vector<store::EventInvokeConfig> event_invoke_configs(std::string_view name) const;
  Task<Status> put_event_invoke_config(store::EventInvokeConfig config);
  Task<Status> delete_event_invoke_config(std::string name, std::string qualifier);

  const AsyncStats& async_stats() const { return async_stats_; }
  // Records AWS/Lambda metrics of every invocation, throttle and async event from now on.
  void set_metrics(metrics::LambdaMetrics* metrics) { metrics_ = metrics; }
  // Async events leased and being delivered now.
  std::size_t async_in_flight() const { return in_flight_; }
  // Counts every invocation that ran in an environment in `ledger`, which must outlive the
  // invoker; nullptr counts nothing.
  void set_cost_ledger(metrics::CostLedger* ledger) { cost_ledger_ = ledger; }
  // Sends dead-letter messages and SQS or SNS destination records through `targets`, which
  // must outlive the invoker; nullptr counts every such send as failed.
  void set_message_targets(store::MessageTargets* targets) { message_targets_ = targets; }
  const InvokerOptions& options() const { return options_; }

  // Reserved concurrency (PutFunctionConcurrency). put validates against the minimum
  // unreserved concurrency (Errc::invalid_parameter), persists, then applies the value.
  const ConcurrencyLimiter& concurrency() const { return limiter_; }
  Task<Status> put_reserved_concurrency(std::string function_name, std::int64_t reserved);
  Task<Status> delete_reserved_concurrency(std::string function_name);

 private:
  // Published versions and aliases of one function.
  struct Published {
    std::map<int, std::shared_ptr<const runtime::FunctionSpec>> versions;
    std::map<std::string, store::AliasRecord, std::less<>> aliases;
    int last_version = 0;
    std::string published_revision;  // $LATEST RevisionId right after the last publish
  };
  // The version a provisioned setting's environments run, or null when its target is gone.
  std::shared_ptr<const runtime::FunctionSpec> provisioned_target(std::string_view name,
                                                                  std::string_view qualifier) const;
  // Points the function's provisioned environments at the versions its settings name now.
  void apply_provisioned(const std::string& name);
  Status load_provisioned();
  Status load_versions();
  std::shared_ptr<runtime::FunctionSpec> make_version_spec(int number,
                                                           store::FunctionRecord config);
  Result<Resolved> lookup(std::string_view name, std::optional<std::string_view> qualifier,
                          bool route) const;

  Task<void> dispatch_loop();
  Task<void> run_event(store::AsyncEvent event);

  // Async delivery (async_delivery.cpp): one attempt of a leased event, then its retry,
  // destination record or drop.
  Task<void> wait_for_due_event();
  Task<void> deliver_event(store::AsyncEvent event);
  Task<void> finish_event(store::AsyncEvent event, std::string condition,
                          std::shared_ptr<const runtime::FunctionSpec> spec,
                          const runtime::InvokeResult* result);
  Task<void> retry_event(store::AsyncEvent event, std::int64_t delay_ms, std::string reason);
  Task<Result<std::string>> send_dead_letter(const store::AsyncEvent& event,
                                             const std::string& target,
                                             const runtime::InvokeResult* result);

  runtime::Manager& manager_;
  store::Repository& repository_;
  store::CodeStore& code_;
  InvokerOptions options_;
  std::map<std::string, std::shared_ptr<const runtime::FunctionSpec>, std::less<>> functions_;
  std::map<std::string, Published, std::less<>> published_;
  std::unique_ptr<store::VersionStore> version_store_;
  mutable std::mt19937_64 routing_random_;
  std::uint64_t next_generation_ = 1;
  std::size_t in_flight_ = 0;
  std::map<std::pair<std::string, std::string>, store::EventInvokeConfig, std::less<>>
      event_invoke_configs_;
  AsyncStats async_stats_;
  metrics::LambdaMetrics* metrics_ = nullptr;
  ConcurrencyLimiter limiter_;
  std::unique_ptr<store::ProvisionedStore> provisioned_store_;
  std::map<std::pair<std::string, std::string>, store::ProvisionedRecord, std::less<>> provisioned_;
  // Per function: the pools given provisioned environments by apply_provisioned(), by pool key.
  std::map<std::string, std::map<std::string, std::shared_ptr<const runtime::FunctionSpec>>,
           std::less<>>
      provisioned_pools_;
  std::unique_ptr<Event> work_;
  metrics::CostLedger* cost_ledger_ = nullptr;
  store::MessageTargets* message_targets_ = nullptr;
  TaskGroup tasks_;
};

}  // namespace lambent::invoke
