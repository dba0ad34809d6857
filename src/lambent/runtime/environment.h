#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/runtime/runtimes.h"
#include "lambent/sandbox/spawner.h"
#include "lambent/store/log_store.h"
#include "lambent/store/records.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace lambent::http {
class Server;
}

// One execution environment: a sandboxed runtime process, the Runtime API endpoint it polls
// (its own loopback port), and its log stream. One invocation at a time, as on AWS.
//
// Lives on the control-plane executor; every member is called from there. Owned by its Pool
// through shared_ptr, because Runtime API connections and the exit watcher keep it alive while
// they run.
namespace lambent::runtime {

// Everything an environment runs, fixed for its lifetime. A code or configuration update makes
// a new FunctionSpec; environments of an older one are retired.
struct FunctionSpec {
  store::FunctionRecord config;
  std::string function_arn;  // unqualified
  std::string version = "$LATEST";
  std::filesystem::path code_dir;
  RuntimeFamily family = RuntimeFamily::python;
  std::uint64_t generation = 0;

  // "NAME:VERSION", which names the pool of environments that run this spec.
  std::string pool_key() const { return config.name + ":" + version; }
};

struct InvokeRequest {
  std::string request_id;
  std::string payload;
  std::string invoked_function_arn;
  std::string client_context;    // JSON, already base64-decoded
  std::string cognito_identity;  // JSON
  std::string trace_id;
  bool want_log_tail = false;
};

enum class Outcome {
  success,
  function_error,  // the runtime posted .../error or .../init/error
  failure,         // the platform produced the error payload (timeout, exit, OOM, size)
};

struct InvokeResult {
  Outcome outcome = Outcome::success;
  std::string payload;
  std::string log_tail;  // last 4 KB of this invocation's log, START to REPORT
  double duration_ms = 0;
  bool cold_start = false;
  bool environment_lost = false;  // the environment died and must not be reused
  bool provisioned = false;       // it ran in an environment of provisioned concurrency
};

// Shared services an environment needs; owned by the runtime Manager.
struct EnvironmentContext {
  asio::any_io_executor executor;
  asio::thread_pool* blocking = nullptr;
  sandbox::Spawner* spawner = nullptr;
  store::LogStore* logs = nullptr;
  RuntimePaths paths;
  std::string region;
  std::string endpoint_url;  // AWS_ENDPOINT_URL given to functions
  std::string access_key_id;
  std::string secret_access_key;
  std::chrono::milliseconds init_timeout{10000};
  ColdStart cold_start = ColdStart::zygote;
};

class Environment : public std::enable_shared_from_this<Environment> {
 public:
  enum class State { starting, idle, busy, dead };

  Environment(std::shared_ptr<const FunctionSpec> spec, EnvironmentContext* context,
              std::string env_id);
  ~Environment();

  // Spawns the runtime and starts its Runtime API endpoint. Initialization continues in the
  // background; the first invoke() waits for it.
  Task<Status> start();

  // Waits until the runtime ends its init phase (its first /next), fails it, or runs past the
  // init budget. Returns true when the environment is initialized and alive.
  Task<bool> wait_initialized();

  // Marks an initialized environment that no invocation waited for (started ahead of traffic):
  // its first invocation is not a cold start, so its REPORT line has no Init Duration.
  void mark_initialized_ahead();

  // AWS_LAMBDA_INITIALIZATION_TYPE given to the runtime ("on-demand" by default, or
  // "provisioned-concurrency"). Call before start().
  void set_initialization_type(std::string type) { initialization_type_ = std::move(type); }

  // Runs one invocation to completion: result, function error, timeout, crash or OOM.
  Task<InvokeResult> invoke(InvokeRequest request);

  // Kills the process tree; pending work completes with a failure.
  void stop();

  State state() const { return state_; }
  const std::string& id() const { return id_; }
  const FunctionSpec& spec() const { return *spec_; }
  std::chrono::steady_clock::time_point last_used() const { return last_used_; }
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }

 private:
  class RuntimeApi;
  struct Pending;

  Task<void> read_output();
  Task<void> watch_exit();
  void on_exit(int status);
  void complete(Outcome outcome, std::string payload);
  void complete_after_exit();
  void complete_with_log(std::string_view type, std::string message);
  void drain_output();
  void write_log_line(std::string_view line);
  void emit(std::string_view line);
  std::vector<std::string> build_env(std::uint16_t api_port, const std::filesystem::path& task_root,
                                     const std::filesystem::path& runtime_dir) const;

  std::shared_ptr<const FunctionSpec> spec_;
  EnvironmentContext* context_;
  std::string id_;
  std::string log_stream_name_;
  State state_ = State::starting;
  sandbox::Child child_;
  std::unique_ptr<http::Server> api_server_;
  std::unique_ptr<store::LogStream> log_;
  TaskGroup tasks_;
  Event next_ready_;  // set when an invocation is waiting for /next
  Event initialized_;  // set at the first /next or at init error/exit
  std::unique_ptr<Pending> current_;
  std::optional<std::string> init_error_;  // payload posted to /init/error
  std::optional<int> exit_status_;
  std::string partial_line_;
  std::string tail_;  // current invocation's log text, capped
  bool capture_tail_ = false;
  bool cold_ = true;
  std::string initialization_type_ = "on-demand";
  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point init_done_at_;
  std::chrono::steady_clock::time_point last_used_;
  int output_fd_ = -1;
  uid_t uid_ = 0;  // the environment's own uid; 0 in rlimit-only mode
  std::uint64_t peak_memory_bytes_ = 0;  // read when the process tree exits
};

// AWS's log stream name for a new environment: "YYYY/MM/DD/[VERSION]<32 hex digits>".
std::string make_log_stream_name(std::string_view version);

}  // namespace lambent::runtime
