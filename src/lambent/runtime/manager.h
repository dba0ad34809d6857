#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/runtime/environment.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

// Keeps the execution environments of every function: reuses warm ones (most recently used
// first), starts new ones when all are busy, stops idle ones after the keep-alive, and retires
// environments whose function changed. Confined to the control-plane executor.
namespace lambent::runtime {

struct ManagerOptions {
  std::chrono::seconds keep_alive{300};
  std::size_t max_environments = 256;  // across all functions on this host
};

class Manager {
 public:
  Manager(EnvironmentContext context, ManagerOptions options);
  ~Manager();

  void start();
  void stop();

  // Runs one invocation on an environment of `spec`. Fails with Errc::throttled when the host
  // limit of environments is reached, or Errc::internal when a new environment cannot start.
  Task<Result<InvokeResult>> invoke(std::shared_ptr<const FunctionSpec> spec,
                                    InvokeRequest request);

  // Stops the idle environments of one version of a function (every version when `version` is
  // empty) and marks busy ones for retirement.
  void retire(std::string_view function_name, std::string_view version = {});

  std::size_t environment_count() const { return total_; }
  std::size_t idle_count() const;
  EnvironmentContext& context() { return context_; }

 private:
  struct Pool {
    std::uint64_t generation = 0;
    std::vector<std::shared_ptr<Environment>> idle;
  };
  Task<void> reap_idle();

  EnvironmentContext context_;
  ManagerOptions options_;
  // Keyed by pool_key(): one pool per function version.
  std::map<std::string, Pool, std::less<>> pools_;
  // Every environment started and not yet known to be stopped, so stop() can end busy ones too.
  std::vector<std::weak_ptr<Environment>> started_;
  std::size_t total_ = 0;
  std::uint64_t next_env_ = 1;
  TaskGroup tasks_;
};

}  // namespace lambent::runtime
