#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/runtime/environment.h"

#include <chrono>
#include <cstdint>
#include <list>
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

// Keeps the execution environments of every function: reuses warm ones (most recently used
// first), starts new ones in parallel when all are busy, stops idle ones after the keep-alive
// and every one after its maximum lifetime, keeps provisioned environments initialized ahead of
// traffic, and retires environments whose function changed.
//
// Host limits: the sum of MemorySize of live environments stays within host_memory_mb and
// their number within max_environments. A new environment first evicts idle environments of
// other pools, least recently used first. When it still does not fit, the invocation is
// throttled (Errc::throttled, ConcurrentInvocationLimitExceeded).
//
// Confined to the control-plane executor.
namespace lambent::runtime {

struct ManagerOptions {
  std::chrono::seconds keep_alive{300};
  // AWS recycles environments after a few hours too; an environment past this age is stopped
  // when it next becomes idle.
  std::chrono::seconds max_lifetime{std::chrono::hours(4)};
  std::size_t max_environments = 256;  // across all functions on this host
  std::uint64_t host_memory_mb = 0;    // cap on the sum of MemorySize; 0: default_host_memory_mb()
  std::size_t max_starting = 0;        // environments starting at once; 0: default_max_starting()
  // Environment starts per second across the host; bursts up to max_starting.
  double max_start_rate = 100;
};

// Half of the physical memory, in MB, or 4096 when the size cannot be read.
std::uint64_t default_host_memory_mb();
// Twice the number of CPUs, at least 4.
std::size_t default_max_starting();

struct ProvisionedStatus {
  std::size_t requested = 0;
  std::size_t allocated = 0;  // initialized and alive
  std::size_t available = 0;  // allocated, as AWS reports it (busy ones included)
  std::string status;         // "IN_PROGRESS", "READY" or "FAILED"
  std::string status_reason;  // "FUNCTION_ERROR_INIT_FAILURE" when an init failed
};

class Manager {
 public:
  Manager(EnvironmentContext context, ManagerOptions options);
  ~Manager();

  void start();
  void stop();

  // Runs one invocation on an environment of `spec`. Fails with Errc::throttled when the host
  // limits leave no room for a new environment, or Errc::internal when one cannot start.
  Task<Result<InvokeResult>> invoke(std::shared_ptr<const FunctionSpec> spec,
                                    InvokeRequest request);

  // Stops the idle environments of one version of a function (every version when `version` is
  // empty), drops their provisioned environments, and marks busy ones for retirement.
  void retire(std::string_view function_name, std::string_view version = {});

  // Keeps `count` environments of spec's pool initialized ahead of traffic. They are exempt
  // from the keep-alive, replaced when they die, and count against the host limits. A count of
  // 0 releases them.
  void set_provisioned(std::shared_ptr<const FunctionSpec> spec, std::size_t count);
  ProvisionedStatus provisioned_status(std::string_view pool_key) const;

  std::size_t environment_count() const { return live_.size(); }
  std::size_t idle_count() const;
  // Live environments by state: starting, idle, busy, dead (indexed by Environment::State).
  std::array<std::size_t, 4> count_by_state() const;
  std::uint64_t memory_in_use_mb() const { return memory_in_use_mb_; }
  const ManagerOptions& options() const { return options_; }
  EnvironmentContext& context() { return context_; }

 private:
  // A request waiting for an environment while one starts for it.
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : ready(ex) {}
    Event ready;
    bool done = false;
    std::shared_ptr<Environment> env;
    std::optional<Error> error;          // its own environment failed to start
    std::optional<InvokeResult> failed;  // its own bootstrap could not run
  };

  struct Pool {
    std::uint64_t generation = 0;
    std::vector<std::shared_ptr<Environment>> idle;  // most recently used last
    std::list<std::shared_ptr<Waiter>> waiters;      // oldest first
    // Provisioned environments: the target, the members alive and initialized, and starts
    // in flight.
    std::shared_ptr<const FunctionSpec> provisioned_spec;
    std::size_t provisioned_target = 0;
    std::set<const Environment*> provisioned;
    std::size_t provisioned_starting = 0;
    std::optional<std::string> provisioned_failure;
  };

  struct Live {
    std::weak_ptr<Environment> env;
    std::uint64_t memory_mb = 0;
  };

  Pool& pool_for(const std::shared_ptr<const FunctionSpec>& spec);
  std::shared_ptr<Environment> take_idle(Pool& pool);
  // Creates (without starting) a new environment of `spec` when it fits the host limits,
  // evicting idle environments of other pools when needed. Returns nullptr when it does not fit.
  std::shared_ptr<Environment> admit(const std::shared_ptr<const FunctionSpec>& spec);
  // Stops an environment and returns its memory and count; safe to call more than once.
  void release(const std::shared_ptr<Environment>& env);
  // Hands an idle environment to the oldest waiter of its pool, else keeps it idle.
  void offer(Pool& pool, std::shared_ptr<Environment> env);
  void finish_invocation(const std::string& key, const std::shared_ptr<const FunctionSpec>& spec,
                         std::shared_ptr<Environment> env, bool lost);
  bool past_lifetime(const Environment& env) const;

  // Waits for a start permit. Gives up early (Errc::conflict) once `waiter`, when given, was
  // served by another environment, so an unneeded start does not hold host memory.
  Task<Status> acquire_start_permit(const Waiter* waiter = nullptr);
  void release_start_permit();
  Task<void> start_for(std::shared_ptr<const FunctionSpec> spec, std::shared_ptr<Environment> env,
                       std::shared_ptr<Waiter> waiter);
  Task<void> start_provisioned(std::shared_ptr<const FunctionSpec> spec,
                               std::shared_ptr<Environment> env);
  void replenish(const std::string& key);
  Task<void> reap_idle();

  EnvironmentContext context_;
  ManagerOptions options_;
  // Keyed by pool_key(): one pool per function version.
  std::map<std::string, Pool, std::less<>> pools_;
  // Every environment started and not yet stopped, including starting ones; stop() ends them.
  std::map<const Environment*, Live> live_;
  std::uint64_t memory_in_use_mb_ = 0;
  std::size_t starting_ = 0;
  double start_tokens_ = 0;
  std::chrono::steady_clock::time_point tokens_at_;
  std::unique_ptr<Event> start_freed_;
  std::uint64_t next_env_ = 1;
  TaskGroup tasks_;
};

}  // namespace lambent::runtime
