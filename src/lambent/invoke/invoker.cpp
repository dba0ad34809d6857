#include "lambent/invoke/invoker.h"

#include "lambent/base/log.h"
#include "lambent/metrics/cost.h"

namespace lambent::invoke {

namespace {
// An async event stays hidden from other dispatch rounds for this long after it is leased;
// longer than the 900 s maximum function timeout. Leases are released at start-up.
constexpr std::int64_t kLeaseMs = 16 * 60 * 1000;
constexpr int kLeaseBatch = 64;
}  // namespace

Invoker::Invoker(runtime::Manager& manager, store::Repository& repository,
                 store::CodeStore& code, InvokerOptions options)
    : manager_(manager),
      repository_(repository),
      code_(code),
      options_(std::move(options)),
      version_store_(std::make_unique<store::VersionStore>(repository.db())),
      routing_random_(std::random_device{}()),
      limiter_(options_.account_concurrency),
      provisioned_store_(std::make_unique<store::ProvisionedStore>(repository.db())),
      work_(std::make_unique<Event>(manager.context().executor)),
      tasks_(manager.context().executor, "invoke") {}

Invoker::~Invoker() { stop(); }

std::string Invoker::function_arn(std::string_view name) const {
  return fmt::format("arn:aws:lambda:{}:{}:function:{}", options_.region, options_.account_id,
                     name);
}

Status Invoker::start() {
  auto records = repository_.load_functions();
  if (!records) return std::move(records).error();
  for (auto& record : *records) {
    auto family = runtime::runtime_family(record.runtime);
    if (!family) {
      LOG_WARN("invoke", "function_skipped", "function={} runtime={} reason=unsupported",
               record.name, record.runtime);
      continue;
    }
    if (auto tree = code_.ensure_tree(record.code_sha256_hex); !tree) {
      LOG_ERROR("invoke", "code_missing", "function={} sha256={} error=\"{}\"", record.name,
                record.code_sha256_hex, tree.error().message);
    }
    auto spec = std::make_shared<runtime::FunctionSpec>();
    spec->function_arn = function_arn(record.name);
    spec->code_dir = code_.tree_path(record.code_sha256_hex);
    spec->family = *family;
    spec->generation = next_generation_++;
    spec->config = std::move(record);
    functions_[spec->config.name] = std::move(spec);
  }
  auto configs = repository_.event_invoke_configs().load_all();
  if (!configs) return std::move(configs).error();
  for (auto& config : *configs) {
    auto key = std::make_pair(config.function_name, config.qualifier);
    event_invoke_configs_[std::move(key)] = std::move(config);
  }
  if (auto loaded = load_versions(); !loaded) return loaded;
  auto reserved = repository_.concurrency().load_reserved();
  if (!reserved) return std::move(reserved).error();
  for (auto& [name, value] : *reserved) limiter_.set_reserved(name, value);
  if (auto loaded = load_provisioned(); !loaded) return loaded;
  if (auto released = repository_.release_all_leases(); !released) return released;
  auto queued = repository_.count_queued();
  LOG_INFO("invoke", "started", "functions={} queued_async_events={}", functions_.size(),
           queued ? *queued : -1);
  tasks_.spawn(dispatch_loop(), "async_dispatch");
  return ok_status();
}

void Invoker::stop() { tasks_.stop(); }

std::shared_ptr<const runtime::FunctionSpec> Invoker::find(std::string_view name) const {
  auto it = functions_.find(name);
  return it == functions_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const runtime::FunctionSpec>> Invoker::list() const {
  std::vector<std::shared_ptr<const runtime::FunctionSpec>> out;
  out.reserve(functions_.size());
  for (const auto& [name, spec] : functions_) out.push_back(spec);
  return out;
}

Task<Status> Invoker::put(store::FunctionRecord record) {
  auto family = runtime::runtime_family(record.runtime);
  if (!family) {
    co_return make_error(Errc::invalid_parameter, "unsupported runtime " + record.runtime);
  }
  auto spec = std::make_shared<runtime::FunctionSpec>();
  spec->function_arn = function_arn(record.name);
  spec->code_dir = code_.tree_path(record.code_sha256_hex);
  spec->family = *family;
  spec->config = record;
  auto saved = co_await repository_.put_function(std::move(record));
  if (!saved) co_return saved;
  spec->generation = next_generation_++;
  std::string name = spec->config.name;
  functions_[name] = std::move(spec);
  manager_.retire(name, "$LATEST");
  co_return ok_status();
}

Task<Status> Invoker::remove(std::string name) {
  // Deletes $LATEST, every version and every alias in one transaction.
  auto removed = co_await version_store_->delete_function(name);
  if (!removed) co_return removed;
  functions_.erase(name);
  std::erase_if(event_invoke_configs_, [&name](const auto& entry) { return entry.first.first == name; });
  published_.erase(name);
  limiter_.clear_reserved(name);
  std::erase_if(provisioned_, [&name](const auto& entry) { return entry.first.first == name; });
  provisioned_pools_.erase(name);
  manager_.retire(name);
  co_return ok_status();
}

Task<Status> Invoker::put_reserved_concurrency(std::string function_name, std::int64_t reserved) {
  if (auto valid = limiter_.validate_reserved(function_name, reserved); !valid) co_return valid;
  // NOTE: callers serialize changes to reservations (LambdaService's mutation lock), so the
  // check above still holds when the write completes.
  auto saved = co_await repository_.concurrency().put_reserved(function_name, reserved);
  if (!saved) co_return saved;
  limiter_.set_reserved(std::move(function_name), reserved);
  co_return ok_status();
}

Task<Status> Invoker::delete_reserved_concurrency(std::string function_name) {
  auto removed = co_await repository_.concurrency().delete_reserved(function_name);
  if (!removed) co_return removed;
  limiter_.clear_reserved(function_name);
  co_return ok_status();
}

Task<Result<runtime::InvokeResult>> Invoker::invoke(
    std::shared_ptr<const runtime::FunctionSpec> spec, runtime::InvokeRequest request) {
  // The qualifier the call named: what follows the function name in a qualified ARN.
  std::string qualifier;
  if (auto at = request.invoked_function_arn.find(":function:"); at != std::string::npos) {
    auto colon = request.invoked_function_arn.find(':', at + 10);
    if (colon != std::string::npos) qualifier = request.invoked_function_arn.substr(colon + 1);
  }
  metrics::LambdaMetrics::Target* target = nullptr;
  if (metrics_ != nullptr) {
    target = metrics_->target(spec->config.name, qualifier,
                              metrics::is_alias_qualifier(qualifier), spec->version);
  }
  auto slot = limiter_.acquire(spec->config.name);
  if (!slot) {
    LOG_DEBUG("invoke", "throttled", "request_id={} function={} reason={}", request.request_id,
              spec->config.name, slot.error().type);
    if (target != nullptr) metrics_->throttled(target, epoch_ms());
    co_return std::move(slot).error();
  }
  // The slot is held until the invocation returns, including while an environment starts.
  auto running_slot = std::move(slot).value();
  if (target == nullptr) {
    auto result = co_await manager_.invoke(spec, std::move(request));
    if (result && cost_ledger_) {
      cost_ledger_->record_invoke(spec->config.name, spec->version, result->duration_ms,
                                  spec->config.memory_mb, epoch_ms());
    }
    co_return std::move(result);
  }

  metrics_->started(target, limiter_.unreserved_running(), epoch_ms());
  auto spec_copy = spec;
  auto result = co_await manager_.invoke(std::move(spec), std::move(request));
  std::int64_t now = epoch_ms();
  if (result) {
    if (cost_ledger_) {
      cost_ledger_->record_invoke(spec_copy->config.name, spec_copy->version,
                                  result->duration_ms, spec_copy->config.memory_mb, now);
    }
    // The provisioned setting of the invoked version or alias, when it has one.
    bool has_provisioned = !qualifier.empty() && !provisioned_.empty() &&
                           provisioned(spec_copy->config.name, qualifier) != nullptr;
    std::int64_t allocated = 0;
    if (has_provisioned && result->provisioned) {
      allocated = static_cast<std::int64_t>(
          provisioned_status(spec_copy->config.name, qualifier).allocated);
    }
    metrics_->finished(target, result->outcome != runtime::Outcome::success,
                       result->duration_ms, has_provisioned, result->provisioned, allocated, now);
  } else {
    if (result.error().code == Errc::throttled) metrics_->throttled(target, now);
    metrics_->abandoned(target);
  }
  co_return result;
}

Task<Status> Invoker::enqueue(std::string function_name, std::string qualifier,
                              std::string request_id, std::string payload) {
  store::AsyncEvent event;
  event.function_name = std::move(function_name);
  event.qualifier = std::move(qualifier);
  event.request_id = std::move(request_id);
  event.payload = std::move(payload);
  event.enqueued_ms = epoch_ms();
  metrics::LambdaMetrics::Target* target = nullptr;
  if (metrics_ != nullptr) {
    target = metrics_->target(event.function_name, event.qualifier,
                              metrics::is_alias_qualifier(event.qualifier), {});
  }
  auto seq = co_await repository_.enqueue(std::move(event));
  if (!seq) co_return std::move(seq).error();
  if (target != nullptr) metrics_->async_received(target, epoch_ms());
  work_->set();
  co_return ok_status();
}

Task<void> Invoker::dispatch_loop() {
  for (;;) {
    work_->reset();
    std::size_t room = options_.async_concurrency - in_flight_;
    if (room == 0) {
      // Every finished event sets work_.
      co_await work_->wait(std::chrono::minutes(1));
      continue;
    }
    std::size_t limit = std::min<std::size_t>(room, kLeaseBatch);
    auto leased = co_await repository_.lease(static_cast<int>(limit), kLeaseMs);
    if (!leased) {
      LOG_ERROR("invoke", "async_lease_failed", "error=\"{}\"", leased.error().message);
      co_await work_->wait(std::chrono::seconds(1));
      continue;
    }
    for (auto& event : *leased) {
      ++in_flight_;
      tasks_.spawn(run_event(std::move(event)), "async_event");
    }
    if (leased->size() == limit) continue;
    co_await wait_for_due_event();
  }
}

Task<void> Invoker::run_event(store::AsyncEvent event) {
  struct Release {
    Invoker* self;
    ~Release() {
      --self->in_flight_;
      self->work_->set();
    }
  } release{this};
  co_await deliver_event(std::move(event));
}

}  // namespace lambent::invoke
