#include "lambent/runtime/manager.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace lambent::runtime {

namespace {

using Clock = std::chrono::steady_clock;

// How long a new environment waits for a start permit before its invocation is throttled.
constexpr auto kPermitWaitMax = std::chrono::seconds(30);
constexpr std::string_view kInitFailure = "FUNCTION_ERROR_INIT_FAILURE";

Error host_limit_error() {
  return Error{Errc::throttled, "Rate Exceeded.", "ConcurrentInvocationLimitExceeded"};
}

}  // namespace

std::uint64_t default_host_memory_mb() {
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 4096;
  std::uint64_t bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
  return (bytes / 2) >> 20;
}

std::size_t default_max_starting() {
  std::size_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::size_t>(4, 2 * cpus);
}

Manager::Manager(EnvironmentContext context, ManagerOptions options)
    : context_(std::move(context)),
      options_(options),
      start_freed_(std::make_unique<Event>(context_.executor)),
      tasks_(context_.executor, "runtime") {
  if (options_.host_memory_mb == 0) options_.host_memory_mb = default_host_memory_mb();
  if (options_.max_starting == 0) options_.max_starting = default_max_starting();
  start_tokens_ = static_cast<double>(options_.max_starting);
  tokens_at_ = Clock::now();
}

Manager::~Manager() { stop(); }

void Manager::start() { tasks_.spawn(reap_idle(), "reap_idle"); }

void Manager::stop() {
  tasks_.stop();
  for (auto& [key, pool] : pools_) {
    pool.idle.clear();
    pool.provisioned.clear();
    for (auto& waiter : pool.waiters) {
      if (waiter->done) continue;
      waiter->done = true;
      waiter->error = Error{Errc::internal, "the server is stopping"};
      waiter->ready.set();
    }
    pool.waiters.clear();
  }
  for (auto& [pointer, live] : live_) {
    if (auto env = live.env.lock()) env->stop();
  }
  live_.clear();
  memory_in_use_mb_ = 0;
}

std::size_t Manager::idle_count() const {
  std::size_t n = 0;
  for (const auto& [name, pool] : pools_) n += pool.idle.size();
  return n;
}

std::array<std::size_t, 4> Manager::count_by_state() const {
  std::array<std::size_t, 4> counts{};
  for (const auto& [env, live] : live_) ++counts[static_cast<std::size_t>(env->state())];
  return counts;
}

bool Manager::past_lifetime(const Environment& env) const {
  return Clock::now() - env.started_at() >= options_.max_lifetime;
}

void Manager::release(const std::shared_ptr<Environment>& env) {
  env->stop();
  // Keep the environment alive for one more turn of the executor: the cancelled accept of its
  // Runtime API server completes first, so the server's tasks end before it is destroyed.
  asio::post(context_.executor, [env] {});
  auto it = live_.find(env.get());
  if (it == live_.end()) return;
  memory_in_use_mb_ -= it->second.memory_mb;
  live_.erase(it);
}

Manager::Pool& Manager::pool_for(const std::shared_ptr<const FunctionSpec>& spec) {
  auto& pool = pools_[spec->pool_key()];
  if (pool.generation != spec->generation) {
    for (auto& env : pool.idle) release(env);
    pool.idle.clear();
    pool.provisioned.clear();
    pool.generation = spec->generation;
  }
  return pool;
}

std::shared_ptr<Environment> Manager::take_idle(Pool& pool) {
  std::erase_if(pool.idle, [&](const std::shared_ptr<Environment>& env) {
    if (env->state() == Environment::State::idle) return false;
    pool.provisioned.erase(env.get());
    release(env);
    return true;
  });
  if (pool.idle.empty()) return nullptr;
  // Provisioned environments serve first, as on AWS; otherwise the most recently used.
  auto chosen = std::prev(pool.idle.end());
  for (auto it = pool.idle.rbegin(); it != pool.idle.rend(); ++it) {
    if (pool.provisioned.contains(it->get())) {
      chosen = std::prev(it.base());
      break;
    }
  }
  auto env = std::move(*chosen);
  pool.idle.erase(chosen);
  return env;
}

std::shared_ptr<Environment> Manager::admit(const std::shared_ptr<const FunctionSpec>& spec) {
  const std::uint64_t memory_mb = static_cast<std::uint64_t>(spec->config.memory_mb);
  const std::string key = spec->pool_key();
  // An entry whose environment is gone was never released (a bug): return its memory anyway.
  std::erase_if(live_, [&](const auto& entry) {
    if (!entry.second.env.expired()) return false;
    LOG_WARN("runtime", "environment_not_released", "memory_mb={}", entry.second.memory_mb);
    memory_in_use_mb_ -= entry.second.memory_mb;
    return true;
  });
  auto fits = [&] {
    return live_.size() < options_.max_environments &&
           memory_in_use_mb_ + memory_mb <= options_.host_memory_mb;
  };
  while (!fits()) {
    // Evict the least recently used idle environment of another pool; provisioned ones stay.
    Pool* victim_pool = nullptr;
    std::size_t victim_index = 0;
    auto oldest = Clock::time_point::max();
    for (auto& [pool_key, pool] : pools_) {
      if (pool_key == key) continue;
      for (std::size_t i = 0; i < pool.idle.size(); ++i) {
        const auto& env = pool.idle[i];
        if (pool.provisioned.contains(env.get())) continue;
        if (env->last_used() < oldest) {
          oldest = env->last_used();
          victim_pool = &pool;
          victim_index = i;
        }
      }
    }
    if (!victim_pool) return nullptr;
    auto victim = std::move(victim_pool->idle[victim_index]);
    victim_pool->idle.erase(victim_pool->idle.begin() + static_cast<std::ptrdiff_t>(victim_index));
    LOG_DEBUG("runtime", "environment_evicted", "function={} env_id={} for={}",
              victim->spec().config.name, victim->id(), key);
    release(victim);
  }
  std::string env_id = fmt::format("env-{}-{}", next_env_++, random_hex(4));
  auto env = std::make_shared<Environment>(spec, &context_, env_id);
  live_[env.get()] = Live{env, memory_mb};
  memory_in_use_mb_ += memory_mb;
  return env;
}

void Manager::offer(Pool& pool, std::shared_ptr<Environment> env) {
  while (!pool.waiters.empty()) {
    auto waiter = std::move(pool.waiters.front());
    pool.waiters.pop_front();
    if (waiter->done) continue;
    waiter->done = true;
    waiter->env = std::move(env);
    waiter->ready.set();
    // The environment starting for this waiter may still wait for a permit: wake it to cancel.
    start_freed_->set();
    start_freed_->reset();
    return;
  }
  pool.idle.push_back(std::move(env));
}

void Manager::finish_invocation(const std::string& key,
                                const std::shared_ptr<const FunctionSpec>& spec,
                                std::shared_ptr<Environment> env, bool lost) {
  // The pool may have been retired or replaced while the invocation ran.
  auto it = pools_.find(key);
  bool reusable = !lost && env->state() == Environment::State::idle && it != pools_.end() &&
                  it->second.generation == spec->generation && !past_lifetime(*env);
  if (reusable) {
    offer(it->second, std::move(env));
    return;
  }
  if (it != pools_.end()) it->second.provisioned.erase(env.get());
  release(env);
  if (it != pools_.end()) replenish(key);
}

void Manager::retire(std::string_view function_name, std::string_view version) {
  std::string prefix = std::string(function_name) + ":";
  for (auto it = pools_.lower_bound(prefix); it != pools_.end() && it->first.starts_with(prefix);
       ++it) {
    if (!version.empty() && std::string_view(it->first).substr(prefix.size()) != version) continue;
    auto& pool = it->second;
    for (auto& env : pool.idle) release(env);
    pool.idle.clear();
    pool.provisioned.clear();
    pool.provisioned_target = 0;
    pool.provisioned_spec.reset();
    pool.provisioned_failure.reset();
    // Busy environments see the generation change when they finish and are stopped then.
    pool.generation = ~0ull;
  }
}

Task<Status> Manager::acquire_start_permit(const Waiter* waiter) {
  const auto deadline = Clock::now() + kPermitWaitMax;
  const double burst = static_cast<double>(options_.max_starting);
  for (;;) {
    if (waiter && waiter->done)
      co_return make_error(Errc::conflict, "served by another environment");
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    start_tokens_ = std::min(burst, start_tokens_ + elapsed * options_.max_start_rate);
    tokens_at_ = now;
    if (starting_ < options_.max_starting && start_tokens_ >= 1) {
      start_tokens_ -= 1;
      ++starting_;
      co_return ok_status();
    }
    if (now >= deadline) co_return host_limit_error();
    // A finished start wakes the waiters early; otherwise wake when the next token is due.
    auto wake = deadline;
    if (starting_ < options_.max_starting) {
      auto due = std::chrono::duration<double>((1 - start_tokens_) / options_.max_start_rate);
      wake = std::min(deadline, now + std::chrono::duration_cast<Clock::duration>(due) +
                                    std::chrono::milliseconds(1));
    }
    co_await start_freed_->wait_until(wake);
  }
}

void Manager::release_start_permit() {
  --starting_;
  start_freed_->set();
  start_freed_->reset();
}

Task<Result<InvokeResult>> Manager::invoke(std::shared_ptr<const FunctionSpec> spec,
                                           InvokeRequest request) {
  const std::string key = spec->pool_key();
  auto& pool = pool_for(spec);
  std::shared_ptr<Environment> env = take_idle(pool);

  if (!env) {
    auto fresh = admit(spec);
    if (!fresh) {
      LOG_DEBUG("runtime", "host_limit_reached", "function={} environments={} memory_mb={}", key,
                live_.size(), memory_in_use_mb_);
      co_return host_limit_error();
    }
    // The request waits for its own environment, or for one that frees up first. start_for
    // always completes the waiter, so the deadline is only a bound against a bug there.
    auto waiter = std::make_shared<Waiter>(context_.executor);
    pool.waiters.push_back(waiter);
    tasks_.spawn(start_for(spec, std::move(fresh), waiter), "start_environment");
    auto init_budget = std::max<Clock::duration>(
        context_.init_timeout, std::chrono::seconds(spec->config.timeout_seconds));
    co_await waiter->ready.wait_until(Clock::now() + kPermitWaitMax + init_budget +
                                      std::chrono::seconds(10));
    if (!waiter->done) {
      waiter->done = true;
      pools_[key].waiters.remove(waiter);
      co_return Error{Errc::internal, "timed out waiting for an execution environment"};
    }
    if (waiter->error && waiter->error->type == "Runtime.InvalidEntrypoint") {
      // AWS reports a bootstrap that cannot run as a function error of the invocation.
      InvokeResult failed;
      failed.outcome = Outcome::failure;
      failed.cold_start = true;
      failed.environment_lost = true;
      failed.payload = fmt::format(
          R"({{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: {} Error: {}"}})",
          request.request_id, waiter->error->message);
      co_return failed;
    }
    if (waiter->error) co_return std::move(*waiter->error);
    env = std::move(waiter->env);
  }

  auto current = pools_.find(key);
  bool provisioned = current != pools_.end() && current->second.provisioned.count(env.get()) > 0;
  auto result = co_await env->invoke(std::move(request));
  result.provisioned = provisioned;
  finish_invocation(key, spec, std::move(env), result.environment_lost);
  co_return result;
}

Task<void> Manager::start_for(std::shared_ptr<const FunctionSpec> spec,
                              std::shared_ptr<Environment> env, std::shared_ptr<Waiter> waiter) {
  const std::string key = spec->pool_key();
  auto complete_waiter = [&](std::shared_ptr<Environment> given, std::optional<Error> error) {
    waiter->done = true;
    waiter->env = std::move(given);
    waiter->error = std::move(error);
    if (auto it = pools_.find(key); it != pools_.end()) it->second.waiters.remove(waiter);
    waiter->ready.set();
  };

  auto permit = co_await acquire_start_permit(waiter.get());
  if (!permit || waiter->done) {
    // Throttled, or the request took an environment that freed up before this one started.
    release(env);
    if (!waiter->done) complete_waiter(nullptr, permit.error());
    if (permit) release_start_permit();
    co_return;
  }
  auto started = co_await env->start();
  bool initialized = false;
  if (started) initialized = co_await env->wait_initialized();
  release_start_permit();

  if (!started) {
    release(env);
    if (started.error().type != "Runtime.InvalidEntrypoint") {
      LOG_ERROR("runtime", "environment_start_failed", "function={} env_id={} error=\"{}\"",
                spec->config.name, env->id(), started.error().message);
    }
    if (!waiter->done) {
      Error error = started.error();
      if (error.type != "Runtime.InvalidEntrypoint") {
        error = Error{Errc::internal,
                      "failed to start an execution environment: " + started.error().message};
      }
      complete_waiter(nullptr, std::move(error));
    }
    co_return;
  }
  if (!waiter->done) {
    // Its own environment, initialized or not: a failed init becomes the invocation's error.
    complete_waiter(std::move(env), std::nullopt);
    co_return;
  }
  // The request was served by an environment that freed up first: keep this one warm.
  auto it = pools_.find(key);
  if (!initialized || it == pools_.end() || it->second.generation != spec->generation) {
    release(env);
    co_return;
  }
  env->mark_initialized_ahead();
  offer(it->second, std::move(env));
}

Task<void> Manager::start_provisioned(std::shared_ptr<const FunctionSpec> spec,
                                      std::shared_ptr<Environment> env) {
  const std::string key = spec->pool_key();
  env->set_initialization_type("provisioned-concurrency");
  auto permit = co_await acquire_start_permit();
  bool initialized = false;
  if (permit) {
    auto started = co_await env->start();
    if (started) initialized = co_await env->wait_initialized();
    release_start_permit();
  }

  auto it = pools_.find(key);
  if (it == pools_.end()) {
    release(env);
    co_return;
  }
  auto& pool = it->second;
  --pool.provisioned_starting;
  bool still_provisioned = pool.provisioned_spec == spec && pool.generation == spec->generation &&
                           pool.provisioned.size() < pool.provisioned_target;
  if (!initialized || !still_provisioned) {
    if (permit && !initialized && still_provisioned) {
      // As on AWS, a failed init marks the configuration FAILED; no more starts until it is
      // set again.
      pool.provisioned_failure = std::string(kInitFailure);
      LOG_WARN("runtime", "provisioned_init_failed", "function={} env_id={}", key, env->id());
    }
    release(env);
    co_return;
  }
  env->mark_initialized_ahead();
  pool.provisioned.insert(env.get());
  LOG_DEBUG("runtime", "provisioned_ready", "function={} env_id={} allocated={}/{}", key, env->id(),
            pool.provisioned.size(), pool.provisioned_target);
  offer(pool, std::move(env));
}

void Manager::replenish(const std::string& key) {
  auto it = pools_.find(key);
  if (it == pools_.end() || tasks_.stopped()) return;
  auto& pool = it->second;
  if (!pool.provisioned_spec || pool.provisioned_failure) return;
  if (pool.provisioned_spec->generation != pool.generation) return;
  while (pool.provisioned.size() + pool.provisioned_starting < pool.provisioned_target) {
    auto env = admit(pool.provisioned_spec);
    // Retried by the next reap round, once memory frees up.
    if (!env) break;
    ++pool.provisioned_starting;
    tasks_.spawn(start_provisioned(pool.provisioned_spec, std::move(env)), "start_provisioned");
  }
}

void Manager::set_provisioned(std::shared_ptr<const FunctionSpec> spec, std::size_t count) {
  const std::string key = spec->pool_key();
  auto& pool = pool_for(spec);
  pool.provisioned_spec = count > 0 ? spec : nullptr;
  pool.provisioned_target = count;
  pool.provisioned_failure.reset();
  if (pool.provisioned.size() > count) {
    // Idle surplus environments stop; busy ones become on-demand environments.
    std::size_t surplus = pool.provisioned.size() - count;
    std::erase_if(pool.idle, [&](const std::shared_ptr<Environment>& env) {
      if (surplus == 0 || !pool.provisioned.contains(env.get())) return false;
      pool.provisioned.erase(env.get());
      release(env);
      --surplus;
      return true;
    });
    while (surplus > 0) {
      pool.provisioned.erase(pool.provisioned.begin());
      --surplus;
    }
  }
  LOG_INFO("runtime", "provisioned_set", "function={} count={}", key, count);
  replenish(key);
}

ProvisionedStatus Manager::provisioned_status(std::string_view pool_key) const {
  ProvisionedStatus status;
  auto it = pools_.find(pool_key);
  if (it != pools_.end()) {
    const auto& pool = it->second;
    status.requested = pool.provisioned_target;
    for (const Environment* member : pool.provisioned) {
      auto live = live_.find(member);
      if (live == live_.end()) continue;
      auto env = live->second.env.lock();
      if (env && env->state() != Environment::State::dead) ++status.allocated;
    }
    if (pool.provisioned_failure) status.status_reason = *pool.provisioned_failure;
  }
  status.available = status.allocated;
  if (!status.status_reason.empty()) {
    status.status = "FAILED";
  } else if (status.allocated >= status.requested) {
    status.status = "READY";
  } else {
    status.status = "IN_PROGRESS";
  }
  return status;
}

Task<void> Manager::reap_idle() {
  asio::steady_timer timer(context_.executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    auto now = Clock::now();
    for (auto& [key, pool] : pools_) {
      std::erase_if(pool.idle, [&](const std::shared_ptr<Environment>& env) {
        bool provisioned = pool.provisioned.contains(env.get());
        bool expired = !provisioned && now - env->last_used() >= options_.keep_alive;
        bool old = past_lifetime(*env);
        if (!expired && !old && env->state() == Environment::State::idle) return false;
        std::string_view reason = "exited";
        if (expired) {
          reason = "keep_alive";
        } else if (old) {
          reason = "max_lifetime";
        }
        LOG_DEBUG("runtime", "environment_stopped", "function={} env_id={} reason={}", key,
                  env->id(), reason);
        pool.provisioned.erase(env.get());
        release(env);
        return true;
      });
      replenish(key);
    }
  }
}

}  // namespace lambent::runtime
