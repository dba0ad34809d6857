#include "lambent/runtime/manager.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"

namespace lambent::runtime {

Manager::Manager(EnvironmentContext context, ManagerOptions options)
    : context_(std::move(context)), options_(options), tasks_(context_.executor, "runtime") {}

Manager::~Manager() { stop(); }

void Manager::start() { tasks_.spawn(reap_idle(), "reap_idle"); }

void Manager::stop() {
  tasks_.stop();
  for (auto& [name, pool] : pools_) pool.idle.clear();
  for (auto& weak : started_) {
    if (auto env = weak.lock()) env->stop();
  }
  started_.clear();
}

std::size_t Manager::idle_count() const {
  std::size_t n = 0;
  for (const auto& [name, pool] : pools_) n += pool.idle.size();
  return n;
}

void Manager::retire(std::string_view function_name, std::string_view version) {
  std::string prefix = std::string(function_name) + ":";
  for (auto it = pools_.lower_bound(prefix); it != pools_.end() && it->first.starts_with(prefix);
       ++it) {
    if (!version.empty() && std::string_view(it->first).substr(prefix.size()) != version) continue;
    for (auto& env : it->second.idle) {
      env->stop();
      --total_;
    }
    it->second.idle.clear();
    // Busy environments see the generation change when they finish and are stopped then.
    it->second.generation = ~0ull;
  }
}

Task<Result<InvokeResult>> Manager::invoke(std::shared_ptr<const FunctionSpec> spec,
                                           InvokeRequest request) {
  std::string key = spec->pool_key();
  auto& pool = pools_[key];
  if (pool.generation != spec->generation) {
    for (auto& env : pool.idle) {
      env->stop();
      --total_;
    }
    pool.idle.clear();
    pool.generation = spec->generation;
  }

  std::shared_ptr<Environment> env;
  while (!pool.idle.empty()) {
    env = std::move(pool.idle.back());
    pool.idle.pop_back();
    if (env->state() == Environment::State::idle) break;
    --total_;
    env.reset();
  }

  if (!env) {
    if (total_ >= options_.max_environments) {
      co_return Error{Errc::throttled, "Rate Exceeded.", "ConcurrentInvocationLimitExceeded"};
    }
    ++total_;
    std::string env_id = fmt::format("env-{}-{}", next_env_++, random_hex(4));
    env = std::make_shared<Environment>(spec, &context_, env_id);
    std::erase_if(started_, [](const std::weak_ptr<Environment>& w) { return w.expired(); });
    started_.push_back(env);
    auto started = co_await env->start();
    if (!started && started.error().type == "Runtime.InvalidEntrypoint") {
      // AWS reports a bootstrap that cannot run as a function error of the invocation.
      --total_;
      InvokeResult failed;
      failed.outcome = Outcome::failure;
      failed.cold_start = true;
      failed.environment_lost = true;
      failed.payload = fmt::format(
          R"({{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: {} Error: {}"}})",
          request.request_id, started.error().message);
      co_return failed;
    }
    if (!started) {
      --total_;
      LOG_ERROR("runtime", "environment_start_failed", "function={} env_id={} error=\"{}\"",
                spec->config.name, env_id, started.error().message);
      co_return Error{Errc::internal, "failed to start an execution environment: " +
                                          started.error().message};
    }
  }

  auto result = co_await env->invoke(std::move(request));

  // The pool may have been retired or replaced while the invocation ran.
  auto it = pools_.find(key);
  bool reusable = !result.environment_lost && env->state() == Environment::State::idle &&
                  it != pools_.end() && it->second.generation == spec->generation;
  if (reusable) {
    it->second.idle.push_back(std::move(env));
  } else {
    env->stop();
    --total_;
  }
  co_return result;
}

Task<void> Manager::reap_idle() {
  asio::steady_timer timer(context_.executor);
  for (;;) {
    timer.expires_after(std::chrono::seconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    auto now = std::chrono::steady_clock::now();
    for (auto& [name, pool] : pools_) {
      auto& idle = pool.idle;
      for (auto it = idle.begin(); it != idle.end();) {
        auto& env = *it;
        bool expired = now - env->last_used() >= options_.keep_alive;
        if (expired || env->state() != Environment::State::idle) {
          if (expired) {
            LOG_DEBUG("runtime", "environment_expired", "function={} env_id={}", name,
                      env->id());
          }
          env->stop();
          --total_;
          it = idle.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
}

}  // namespace lambent::runtime
