#include "lambent/runtime/manager.h"

#include "lambent/store/log_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// These tests start real execution environments (Python, through the real Spawner), so they
// need lambent-init next to the test binary and the runtimes folder of the build or source tree.
namespace lambent::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Upper bound for each wait on real environments, so a hang fails the test.
constexpr auto kWaitLimit = 30s;

constexpr std::string_view kHandler = R"(import os
import time
import uuid

INSTANCE = uuid.uuid4().hex
if os.environ.get("FAIL_INIT"):
    raise RuntimeError("init failed on purpose")


def handler(event, context):
    time.sleep(event.get("seconds", 0))
    if event.get("exit"):
        os._exit(3)
    return {"instance": INSTANCE, "init_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
)";

fs::path build_dir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

// The runtimes folder the build copies next to the binaries, else the source tree's.
fs::path runtimes_dir() {
  for (fs::path candidate : {build_dir() / "runtimes", build_dir() / "../../runtimes"}) {
    if (fs::exists(candidate / "python" / "bootstrap.py")) return fs::canonical(candidate);
  }
  return {};
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (runtimes_dir().empty()) GTEST_SKIP() << "no runtimes folder next to the test binary";
    std::string pattern = (fs::temp_directory_path() / "lambent-manager-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // Environments run as their own uid and read the code through a bind mount.
    ::chmod(dir_.c_str(), 0755);
    fs::create_directories(dir_ / "code");
    std::ofstream(dir_ / "code" / "app.py") << kHandler;
    ::chmod((dir_ / "code").c_str(), 0755);
    ::chmod((dir_ / "code" / "app.py").c_str(), 0644);

    sandbox::SpawnerOptions spawner_options;
    spawner_options.state_dir = dir_ / "sandbox";
    spawner_ = std::make_unique<sandbox::Spawner>(spawner_options);
    spawner_->probe();
    logs_ = std::make_unique<store::LogStore>(dir_ / "logs");
  }

  void TearDown() override {
    // As the server does: stop on the executor's thread (cancellation is delivered inline
    // there), let the cancelled tasks and exit watchers finish, then destroy the manager.
    io_.restart();
    if (manager_) asio::post(io_, [this] { manager_->stop(); });
    io_.run_for(300ms);
    manager_.reset();
    blocking_.join();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void make_manager(ManagerOptions options) {
    EnvironmentContext context;
    context.executor = io_.get_executor();
    context.blocking = &blocking_;
    context.spawner = spawner_.get();
    context.logs = logs_.get();
    context.paths.bootstraps = runtimes_dir();
    context.region = "us-east-1";
    context.endpoint_url = "http://127.0.0.1:9";
    manager_ = std::make_unique<Manager>(std::move(context), options);
  }

  std::shared_ptr<const FunctionSpec> spec(std::string name, int memory_mb = 128,
                                           bool fail_init = false) {
    auto out = std::make_shared<FunctionSpec>();
    out->config.name = std::move(name);
    out->config.runtime = "python3.12";
    out->config.handler = "app.handler";
    out->config.timeout_seconds = 10;
    out->config.memory_mb = memory_mb;
    if (fail_init) out->config.environment = {{"FAIL_INIT", "1"}};
    out->function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + out->config.name;
    out->code_dir = dir_ / "code";
    out->family = RuntimeFamily::python;
    out->generation = next_generation_++;
    return out;
  }

  // Runs invocations of `function` at once, each with its payload; returns their results.
  std::vector<Result<InvokeResult>> invoke_all(std::shared_ptr<const FunctionSpec> function,
                                               std::vector<std::string> payloads) {
    std::vector<std::optional<Result<InvokeResult>>> slots(payloads.size());
    std::size_t finished = 0;
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      InvokeRequest request;
      request.request_id = fmt::format("00000000-0000-0000-0000-{:012d}", next_request_++);
      request.payload = payloads[i];
      request.invoked_function_arn = function->function_arn;
      auto run = [](Manager* manager, std::shared_ptr<const FunctionSpec> target,
                    InvokeRequest req, std::optional<Result<InvokeResult>>* slot,
                    std::size_t* done) -> Task<void> {
        slot->emplace(co_await manager->invoke(std::move(target), std::move(req)));
        ++*done;
      };
      asio::co_spawn(io_, run(manager_.get(), function, std::move(request), &slots[i], &finished),
                     [](std::exception_ptr error) {
                       if (error) std::rethrow_exception(error);
                     });
    }
    bool all = run_until([&] { return finished == payloads.size(); });
    EXPECT_TRUE(all) << "invocations did not finish within " << kWaitLimit.count() << " s";
    std::vector<Result<InvokeResult>> out;
    for (auto& slot : slots) {
      out.push_back(slot ? std::move(*slot) : Result<InvokeResult>(Error{Errc::internal, "unfinished"}));
    }
    return out;
  }

  InvokeResult invoke_one(std::shared_ptr<const FunctionSpec> function,
                          std::string payload = "{}") {
    auto results = invoke_all(std::move(function), {std::move(payload)});
    EXPECT_TRUE(results[0].ok()) << results[0].error().message;
    return results[0].ok() ? std::move(results[0]).value() : InvokeResult{};
  }

  // Runs `fn` on the executor's thread, where the manager lives (cancellation of its tasks is
  // delivered inline only there).
  void on_executor(const std::function<void()>& fn) {
    bool done = false;
    asio::post(io_, [&] {
      fn();
      done = true;
    });
    ASSERT_TRUE(run_until([&] { return done; }));
  }

  // Runs the io_context until `done` is true or the wait limit passes.
  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = kWaitLimit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_for(20ms);
      io_.restart();
    }
    return true;
  }

  std::vector<std::string> report_lines(const std::string& function_name) {
    std::vector<std::string> out;
    for (const auto& event : logs_->read(function_name, 0, 10000)) {
      if (event.message.starts_with("REPORT ")) out.push_back(event.message);
    }
    return out;
  }

  fs::path dir_;
  asio::io_context io_;
  asio::thread_pool blocking_{2};
  std::unique_ptr<sandbox::Spawner> spawner_;
  std::unique_ptr<store::LogStore> logs_;
  std::unique_ptr<Manager> manager_;
  std::uint64_t next_generation_ = 1;
  int next_request_ = 1;
};

TEST_F(ManagerTest, ProvisionedStartAheadWithoutInitDuration) {
  make_manager({});
  auto function = spec("provisioned");
  on_executor([&] { manager_->set_provisioned(function, 2); });
  auto started = manager_->provisioned_status(function->pool_key());
  EXPECT_EQ(started.requested, 2u);
  EXPECT_EQ(started.status, "IN_PROGRESS");

  ASSERT_TRUE(run_until([&] {
    return manager_->provisioned_status(function->pool_key()).status == "READY";
  }));
  auto ready = manager_->provisioned_status(function->pool_key());
  EXPECT_EQ(ready.requested, 2u);
  EXPECT_EQ(ready.allocated, 2u);
  EXPECT_EQ(ready.available, 2u);
  EXPECT_EQ(ready.status_reason, "");
  EXPECT_EQ(manager_->environment_count(), 2u);
  EXPECT_EQ(manager_->idle_count(), 2u);
  EXPECT_EQ(manager_->memory_in_use_mb(), 256u);

  auto result = invoke_one(function);
  EXPECT_EQ(result.outcome, Outcome::success) << result.payload;
  EXPECT_FALSE(result.cold_start);
  EXPECT_NE(result.payload.find(R"("init_type": "provisioned-concurrency")"), std::string::npos)
      << result.payload;
  auto reports = report_lines("provisioned");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].find("Init Duration"), std::string::npos) << reports[0];
  // No new environment started for the invocation.
  EXPECT_EQ(manager_->environment_count(), 2u);
}

TEST_F(ManagerTest, OnDemandColdStartReportsInitDuration) {
  make_manager({});
  auto function = spec("on-demand");
  auto result = invoke_one(function);
  EXPECT_EQ(result.outcome, Outcome::success) << result.payload;
  EXPECT_TRUE(result.cold_start);
  EXPECT_NE(result.payload.find(R"("init_type": "on-demand")"), std::string::npos);
  auto reports = report_lines("on-demand");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("Init Duration"), std::string::npos) << reports[0];

  auto warm = invoke_one(function);
  EXPECT_FALSE(warm.cold_start);
  EXPECT_EQ(manager_->environment_count(), 1u);
}

TEST_F(ManagerTest, ProvisionedReplacedWhenItDies) {
  make_manager({});
  auto function = spec("replaced");
  on_executor([&] { manager_->set_provisioned(function, 1); });
  ASSERT_TRUE(run_until([&] {
    return manager_->provisioned_status(function->pool_key()).status == "READY";
  }));

  auto crashed = invoke_one(function, R"({"exit": true})");
  EXPECT_EQ(crashed.outcome, Outcome::failure);
  EXPECT_TRUE(crashed.environment_lost);

  ASSERT_TRUE(run_until([&] {
    auto status = manager_->provisioned_status(function->pool_key());
    return status.allocated == 1 && manager_->idle_count() == 1;
  }));
  auto after = invoke_one(function);
  EXPECT_EQ(after.outcome, Outcome::success) << after.payload;
  EXPECT_FALSE(after.cold_start);
}

TEST_F(ManagerTest, ProvisionedInitFailureIsFailed) {
  make_manager({});
  auto function = spec("broken", 128, /*fail_init=*/true);
  on_executor([&] { manager_->set_provisioned(function, 1); });
  ASSERT_TRUE(run_until([&] {
    return manager_->provisioned_status(function->pool_key()).status == "FAILED";
  }));
  auto status = manager_->provisioned_status(function->pool_key());
  EXPECT_EQ(status.requested, 1u);
  EXPECT_EQ(status.allocated, 0u);
  EXPECT_EQ(status.status_reason, "FUNCTION_ERROR_INIT_FAILURE");
  EXPECT_EQ(manager_->environment_count(), 0u);
}

TEST_F(ManagerTest, ProvisionedZeroReleasesEnvironments) {
  make_manager({});
  auto function = spec("released");
  on_executor([&] { manager_->set_provisioned(function, 2); });
  ASSERT_TRUE(run_until([&] {
    return manager_->provisioned_status(function->pool_key()).status == "READY";
  }));
  on_executor([&] { manager_->set_provisioned(function, 0); });
  EXPECT_EQ(manager_->environment_count(), 0u);
  EXPECT_EQ(manager_->memory_in_use_mb(), 0u);
  auto status = manager_->provisioned_status(function->pool_key());
  EXPECT_EQ(status.requested, 0u);
  EXPECT_EQ(status.allocated, 0u);
}

TEST_F(ManagerTest, KeepAliveSparesProvisioned) {
  ManagerOptions options;
  options.keep_alive = 1s;
  make_manager(options);
  manager_->start();
  auto provisioned = spec("kept");
  auto on_demand = spec("expires");
  on_executor([&] { manager_->set_provisioned(provisioned, 1); });
  invoke_one(on_demand);
  ASSERT_TRUE(run_until([&] {
    return manager_->provisioned_status(provisioned->pool_key()).status == "READY";
  }));
  EXPECT_EQ(manager_->environment_count(), 2u);

  // The on-demand environment stops after the keep-alive; the provisioned one stays.
  ASSERT_TRUE(run_until([&] { return manager_->environment_count() == 1; }));
  EXPECT_EQ(manager_->provisioned_status(provisioned->pool_key()).allocated, 1u);
  EXPECT_EQ(manager_->memory_in_use_mb(), 128u);
}

TEST_F(ManagerTest, MaxLifetimeStopsIdleEnvironments) {
  ManagerOptions options;
  options.max_lifetime = 1s;
  make_manager(options);
  manager_->start();
  auto function = spec("recycled");
  invoke_one(function);
  ASSERT_TRUE(run_until([&] { return manager_->environment_count() == 0; }));
}

TEST_F(ManagerTest, HostMemoryEvictsLeastRecentlyUsed) {
  ManagerOptions options;
  options.host_memory_mb = 384;
  make_manager(options);
  auto older = spec("older");
  auto newer = spec("newer");
  auto large = spec("large", 256);
  invoke_one(older);
  invoke_one(newer);
  EXPECT_EQ(manager_->memory_in_use_mb(), 256u);

  auto result = invoke_one(large);
  EXPECT_EQ(result.outcome, Outcome::success) << result.payload;
  EXPECT_EQ(manager_->environment_count(), 2u);
  EXPECT_EQ(manager_->memory_in_use_mb(), 384u);
  // `newer` kept its warm environment; `older` was evicted.
  EXPECT_FALSE(invoke_one(newer).cold_start);
}

TEST_F(ManagerTest, HostMemoryThrottlesWhenBusy) {
  ManagerOptions options;
  options.host_memory_mb = 256;
  make_manager(options);
  auto function = spec("busy", 256);
  auto results = invoke_all(function, {R"({"seconds": 2})", R"({"seconds": 2})"});
  int throttled = 0;
  int succeeded = 0;
  for (auto& result : results) {
    if (result.ok()) {
      ++succeeded;
    } else {
      EXPECT_EQ(result.error().code, Errc::throttled);
      EXPECT_EQ(result.error().type, "ConcurrentInvocationLimitExceeded");
      ++throttled;
    }
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_EQ(throttled, 1);
}

TEST_F(ManagerTest, MaxEnvironmentsCapsCount) {
  ManagerOptions options;
  options.max_environments = 1;
  make_manager(options);
  auto first = spec("first");
  auto second = spec("second");
  invoke_one(first);
  // The idle environment of `first` is evicted to stay within one environment.
  auto result = invoke_one(second);
  EXPECT_EQ(result.outcome, Outcome::success);
  EXPECT_EQ(manager_->environment_count(), 1u);
  EXPECT_TRUE(invoke_one(first).cold_start);
}

TEST_F(ManagerTest, BurstIntoEmptyPoolAllSucceed) {
  ManagerOptions options;
  options.max_starting = 2;
  make_manager(options);
  auto function = spec("burst");
  std::vector<std::string> payloads(8, R"({"seconds": 0.5})");
  auto results = invoke_all(function, payloads);
  for (auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->outcome, Outcome::success) << result->payload;
  }
  EXPECT_GE(manager_->environment_count(), 1u);
  EXPECT_LE(manager_->environment_count(), 8u);
  // Every started environment ends up idle in the pool, none is leaked or lost.
  ASSERT_TRUE(run_until([&] { return manager_->idle_count() == manager_->environment_count(); }));
  EXPECT_EQ(manager_->memory_in_use_mb(), 128u * manager_->environment_count());
}

}  // namespace
}  // namespace lambent::runtime
