#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/invoke/concurrency.h"
#include "lambent/runtime/manager.h"
#include "lambent/store/code_store.h"
#include "lambent/store/repository.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

// Function catalog and invocation: the in-memory view of every function (backed by the
// repository), synchronous invokes, and the durable asynchronous queue with its dispatcher.
// Confined to the control-plane executor.
namespace lambent::invoke {

struct InvokerOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::size_t async_concurrency = 64;  // async events in flight at once
  std::int64_t account_concurrency = 1000;  // AWS's default ConcurrentExecutions
};

class Invoker {
 public:
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

  // Synchronous invoke of an existing function. Holds a concurrency slot while it runs and
  // fails with Errc::throttled (Error::type = AWS's Reason) when none is free.
  Task<Result<runtime::InvokeResult>> invoke(std::shared_ptr<const runtime::FunctionSpec> spec,
                                             runtime::InvokeRequest request);

  // Commits an async event; resumes once it is durable.
  Task<Status> enqueue(std::string function_name, std::string request_id, std::string payload);

  const InvokerOptions& options() const { return options_; }

  // Reserved concurrency (PutFunctionConcurrency). put validates against the minimum
  // unreserved concurrency (Errc::invalid_parameter), persists, then applies the value.
  const ConcurrencyLimiter& concurrency() const { return limiter_; }
  Task<Status> put_reserved_concurrency(std::string function_name, std::int64_t reserved);
  Task<Status> delete_reserved_concurrency(std::string function_name);

 private:
  Task<void> dispatch_loop();
  Task<void> run_event(store::AsyncEvent event);
  // Invokes an async event, waiting with backoff while it is throttled.
  Task<Result<runtime::InvokeResult>> invoke_when_free(
      std::shared_ptr<const runtime::FunctionSpec> spec, runtime::InvokeRequest request);

  runtime::Manager& manager_;
  store::Repository& repository_;
  store::CodeStore& code_;
  InvokerOptions options_;
  std::map<std::string, std::shared_ptr<const runtime::FunctionSpec>, std::less<>> functions_;
  std::uint64_t next_generation_ = 1;
  std::size_t in_flight_ = 0;
  ConcurrencyLimiter limiter_;
  std::unique_ptr<Event> work_;
  TaskGroup tasks_;
};

}  // namespace lambent::invoke
