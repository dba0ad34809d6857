#include "lambent/runtime/environment.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/server.h"
#include "lambent/runtime/cpu_usage.h"

#include <fmt/format.h>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace lambent::runtime {

namespace {

constexpr std::string_view kApiPrefix = "/2018-06-01/runtime/";
// AWS's limit for a synchronous response, and the figure its error message quotes.
constexpr std::uint64_t kMaxResponseBytes = 6291556;
constexpr std::size_t kTailBytes = 4096;
constexpr std::size_t kMaxLogLineBytes = 256 * 1024;

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::string error_payload(std::string_view type, std::string_view message) {
  return fmt::format(R"({{"errorType":"{}","errorMessage":"{}"}})", json_escape(type),
                     json_escape(message));
}

// Signal names as the Go runtime prints them, which is how AWS words exit errors.
std::string_view signal_name(int sig) {
  switch (sig) {
    case SIGKILL:
      return "killed";
    case SIGSEGV:
      return "segmentation fault";
    case SIGABRT:
      return "aborted";
    case SIGTERM:
      return "terminated";
    case SIGBUS:
      return "bus error";
    case SIGFPE:
      return "floating point exception";
    case SIGILL:
      return "illegal instruction";
    case SIGINT:
      return "interrupt";
    case SIGPIPE:
      return "broken pipe";
    default:
      return "unknown signal";
  }
}

std::string utc_stamp(const char* format) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

http::Response api_error(unsigned status, std::string_view type, std::string_view message) {
  http::Response response;
  response.status = status;
  response.header("Content-Type", "application/json");
  response.body = error_payload(type, message);
  return response;
}

http::Response accepted() {
  http::Response response;
  response.status = 202;
  response.header("Content-Type", "application/json");
  response.body = R"({"status":"OK"})";
  return response;
}

// True when the function's environment sets a PYTHON* variable. The interpreter reads those
// (PYTHONPATH, PYTHONHASHSEED, PYTHONWARNINGS and others) when it starts, which a zygote did
// before the function existed, so such functions start by exec.
bool sets_interpreter_variables(const store::FunctionRecord& config) {
  for (const auto& [key, value] : config.environment) {
    if (key.starts_with("PYTHON")) return true;
  }
  return false;
}

}  // namespace

std::string make_log_stream_name(std::string_view version) {
  return utc_stamp("%Y/%m/%d/") + "[" + std::string(version) + "]" + random_hex(16);
}

struct Environment::Pending {
  explicit Pending(asio::any_io_executor ex) : done_event(ex) {}
  InvokeRequest request;
  std::int64_t deadline_ms = 0;
  bool released = false;  // the invocation started: /next may hand it out
  bool delivered = false;
  bool done = false;
  Outcome outcome = Outcome::success;
  std::string payload;
  Event done_event;
};

// The Runtime API endpoint of one environment.
class Environment::RuntimeApi final : public http::Handler {
 public:
  explicit RuntimeApi(std::weak_ptr<Environment> env) : env_(std::move(env)) {}

  HeadDecision check_head(const http::Request& head,
                          std::optional<std::uint64_t> content_length) override {
    HeadDecision decision;
    decision.body_limit = kMaxResponseBytes;
    if (content_length && *content_length > kMaxResponseBytes && head.method == "POST" &&
        head.path().ends_with("/response")) {
      decision.reject = body_too_large(head, kMaxResponseBytes);
    }
    return decision;
  }

  http::Response body_too_large(const http::Request& head, std::uint64_t limit) override {
    if (auto env = env_.lock(); env && head.path().ends_with("/response")) {
      env->complete(Outcome::failure,
                    error_payload("Function.ResponseSizeTooLarge",
                                  fmt::format("Response payload size exceeded maximum allowed "
                                              "payload size ({} bytes).",
                                              kMaxResponseBytes)));
      // The connection closes with the unread body in flight, which runtimes treat as fatal:
      // replace the environment rather than hand it the next event.
      env->stop();
    }
    return api_error(413, "RequestEntityTooLarge",
                     fmt::format("Request must be smaller than {} bytes", limit));
  }

  // Only the environment's own runtime may connect: the peer socket must belong to the
  // environment's uid. In rlimit-only mode every function shares the server's uid, so any
  // local process is accepted.
  bool accept_peer(std::uint16_t remote_port, std::uint16_t local_port) override {
    auto env = env_.lock();
    if (!env) return false;
    if (env->uid_ == 0) return true;
    auto owner = sandbox::loopback_peer_uid(remote_port, local_port);
    if (owner && *owner == env->uid_) return true;
    LOG_WARN("runtime", "runtime_api_connection_rejected", "function={} env_id={} peer_uid={}",
             env->spec_->config.name, env->id_, owner ? static_cast<long>(*owner) : -1L);
    return false;
  }

  Task<http::Response> handle(http::Request& request) override {
    auto env = env_.lock();
    if (!env) co_return api_error(500, "ServiceException", "environment is gone");
    std::string_view path = request.path();
    if (!path.starts_with(kApiPrefix)) {
      co_return api_error(404, "InvalidRequest", "unknown path");
    }
    path.remove_prefix(kApiPrefix.size());
    if (path == "invocation/next" && request.method == "GET") {
      co_return co_await next(env);
    }
    if (path == "init/error" && request.method == "POST") {
      env->init_error_ = std::move(request.body);
      env->initialized_.set();
      if (env->current_ && !env->current_->done) {
        env->complete(Outcome::function_error, *env->init_error_);
      }
      co_return accepted();
    }
    if (path.starts_with("invocation/") && request.method == "POST") {
      path.remove_prefix(std::string_view("invocation/").size());
      auto slash = path.find('/');
      std::string_view id = path.substr(0, slash);
      std::string_view action = slash == std::string_view::npos ? "" : path.substr(slash + 1);
      auto* pending = env->current_.get();
      if (!pending || pending->request.request_id != id || !pending->delivered) {
        co_return api_error(400, "InvalidRequestID", "Invalid request ID");
      }
      if (pending->done) {
        co_return api_error(400, "InvalidStateTransition",
                            "Invalid state transition: a result was already posted");
      }
      if (action == "response") {
        env->complete(Outcome::success, std::move(request.body));
        co_return accepted();
      }
      if (action == "error") {
        env->complete(Outcome::function_error, std::move(request.body));
        co_return accepted();
      }
    }
    co_return api_error(404, "InvalidRequest", "unknown path");
  }

 private:
  static Task<http::Response> next(std::shared_ptr<Environment> env) {
    if (!env->initialized_.is_set()) {
      env->init_done_at_ = std::chrono::steady_clock::now();
      env->initialized_.set();
    }
    for (;;) {
      if (env->state_ == State::dead) {
        http::Response stopping =
            api_error(500, "ServiceException", "environment is shutting down");
        stopping.close = true;
        co_return stopping;
      }
      auto* pending = env->current_.get();
      if (pending && pending->released && !pending->delivered && !pending->done) {
        pending->delivered = true;
        http::Response response;
        response.headers.reserve(8);
        response.header("Content-Type", "application/json");
        response.header("Lambda-Runtime-Aws-Request-Id", pending->request.request_id);
        response.header("Lambda-Runtime-Deadline-Ms", std::to_string(pending->deadline_ms));
        response.header("Lambda-Runtime-Invoked-Function-Arn",
                        pending->request.invoked_function_arn);
        response.header("Lambda-Runtime-Trace-Id", pending->request.trace_id);
        if (!pending->request.client_context.empty()) {
          response.header("Lambda-Runtime-Client-Context", pending->request.client_context);
        }
        if (!pending->request.cognito_identity.empty()) {
          response.header("Lambda-Runtime-Cognito-Identity", pending->request.cognito_identity);
        }
        response.body = std::move(pending->request.payload);
        co_return response;
      }
      env->next_ready_.reset();
      co_await env->next_ready_.wait(std::chrono::hours(24));
    }
  }

  std::weak_ptr<Environment> env_;
};

Environment::Environment(std::shared_ptr<const FunctionSpec> spec, EnvironmentContext* context,
                         std::string env_id)
    : spec_(std::move(spec)),
      context_(context),
      id_(std::move(env_id)),
      tasks_(context->executor, "environment"),
      next_ready_(context->executor),
      initialized_(context->executor),
      started_at_(std::chrono::steady_clock::now()),
      last_used_(started_at_) {}

Environment::~Environment() {
  if (state_ != State::dead) sandbox::Spawner::kill_tree(child_.pid);
  if (output_fd_ >= 0) ::close(output_fd_);
}

std::vector<std::string> Environment::build_env(std::uint16_t api_port,
                                                const std::filesystem::path& task_root,
                                                const std::filesystem::path& runtime_dir) const {
  const auto& c = spec_->config;
  std::string exec_env;
  switch (spec_->family) {
    case RuntimeFamily::python:
      exec_env = "AWS_Lambda_" + c.runtime;
      break;
    case RuntimeFamily::nodejs:
      exec_env = "AWS_Lambda_" + c.runtime;
      break;
    case RuntimeFamily::provided:
      break;
  }
  std::vector<std::string> env = {
      "_HANDLER=" + c.handler,
      "LAMBDA_TASK_ROOT=" + task_root.string(),
      "LAMBDA_RUNTIME_DIR=" + runtime_dir.string(),
      fmt::format("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{}", api_port),
      "AWS_LAMBDA_FUNCTION_NAME=" + c.name,
      "AWS_LAMBDA_FUNCTION_VERSION=" + spec_->version,
      fmt::format("AWS_LAMBDA_FUNCTION_MEMORY_SIZE={}", c.memory_mb),
      "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + c.name,
      "AWS_LAMBDA_LOG_STREAM_NAME=" + log_stream_name_,
      "AWS_LAMBDA_INITIALIZATION_TYPE=" + initialization_type_,
      "AWS_REGION=" + context_->region,
      "AWS_DEFAULT_REGION=" + context_->region,
      "AWS_ACCESS_KEY_ID=" + context_->access_key_id,
      "AWS_SECRET_ACCESS_KEY=" + context_->secret_access_key,
      "AWS_ENDPOINT_URL=" + context_->endpoint_url,
      "TZ=:UTC",
      "LANG=en_US.UTF-8",
      "PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
      "LD_LIBRARY_PATH=/var/task:/var/task/lib:/opt/lib",
  };
  if (!exec_env.empty()) env.push_back("AWS_EXECUTION_ENV=" + exec_env);
  if (spec_->family == RuntimeFamily::nodejs) {
    env.push_back("NODE_PATH=/opt/nodejs/node_modules:/var/runtime/node_modules:/var/task");
  }
  for (const auto& [key, value] : c.environment) env.push_back(key + "=" + value);
  return env;
}

Task<Status> Environment::start() {
  auto self = shared_from_this();
  log_stream_name_ = make_log_stream_name(spec_->version);
  log_ = context_->logs->open_stream(spec_->config.name, log_stream_name_);

  api_server_ =
      std::make_unique<http::Server>(context_->executor,
                                     http::ServerOptions{.address = "127.0.0.1",
                                                         .port = 0,
                                                         .idle_timeout = std::chrono::seconds(900),
                                                         .name = "runtime-api"},
                                     std::make_shared<RuntimeApi>(weak_from_this()));
  auto port = api_server_->listen();
  if (!port) co_return std::move(port).error();

  sandbox::SpawnSpec spawn;
  spawn.code_dir = spec_->code_dir;
  spawn.runtime_dir = context_->paths.bootstraps;
  RuntimePaths paths = context_->paths;
  paths.bootstraps = context_->spawner->runtime_root(spawn);
  spawn.argv = runtime_command(spec_->family, paths, context_->spawner->task_root(spawn));
  spawn.env = build_env(*port, context_->spawner->task_root(spawn), paths.bootstraps);
  if (context_->cold_start == ColdStart::zygote && !sets_interpreter_variables(spec_->config)) {
    spawn.zygote_argv = zygote_command(spec_->family, context_->paths);
  }
  spawn.env_id = id_;
  uid_ = context_->spawner->acquire_uid();
  spawn.uid = uid_;
  spawn.memory_limit_bytes = static_cast<std::uint64_t>(spec_->config.memory_mb) << 20;
  spawn.tmp_size_bytes = static_cast<std::uint64_t>(spec_->config.ephemeral_storage_mb) << 20;
  if (spec_->family != RuntimeFamily::nodejs) {
    // Interpreters map shared libraries and arenas beyond what they touch: allow 64 MB over the
    // configured memory before allocations fail.
    spawn.address_space_limit_bytes = spawn.memory_limit_bytes + (64ull << 20);
  }
  started_at_ = std::chrono::steady_clock::now();
  auto* spawner = context_->spawner;
  auto start_process = [spawner, spawn = std::move(spawn)]() { return spawner->spawn(spawn); };
  auto child = co_await run_blocking(*context_->blocking, std::move(start_process));
  if (!child) {
    state_ = State::dead;
    api_server_->stop();
    context_->spawner->release_uid(uid_);
    co_return std::move(child).error();
  }
  child_ = std::move(child).value();
  // Accepting starts only now: a server started before a failed spawn would still have its
  // accept loop pending when the failed environment is destroyed. The runtime's first
  // connection waits in the listen backlog until then.
  api_server_->start();
  output_fd_ = child_.output_fd;
  ::fcntl(output_fd_, F_SETFL, ::fcntl(output_fd_, F_GETFL) | O_NONBLOCK);
  LOG_DEBUG("runtime", "environment_started", "function={} env_id={} pid={}", spec_->config.name,
            id_, child_.pid);
  tasks_.spawn(read_output(), "output");
  tasks_.spawn(watch_exit(), "exit");
  if (context_->report_cpu) {
    std::string cgroup_dir = child_.cgroup.substr(0, child_.cgroup.find('\n'));
    tasks_.spawn(sample_cpu(weak_from_this(), context_->executor, context_->blocking,
                            context_->cpu_sample_interval, std::move(cgroup_dir), child_.pid),
                 "cpu");
  }
  // stop() ran while the process was being spawned: end it now; watch_exit reaps it.
  if (state_ == State::dead) sandbox::Spawner::kill_tree(child_.pid);
  co_return ok_status();
}

void Environment::write_log_line(std::string_view line) {
  if (log_) log_->append(epoch_ms(), line);
  if (capture_tail_) {
    tail_.append(line);
    tail_.push_back('\n');
    if (tail_.size() > 4 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
  }
}

void Environment::emit(std::string_view chunk) {
  std::size_t start = 0;
  for (;;) {
    auto nl = chunk.find('\n', start);
    if (nl == std::string_view::npos) {
      partial_line_.append(chunk.substr(start));
      if (partial_line_.size() > kMaxLogLineBytes) {
        write_log_line(partial_line_);
        partial_line_.clear();
      }
      return;
    }
    if (partial_line_.empty()) {
      write_log_line(chunk.substr(start, nl - start));
    } else {
      partial_line_.append(chunk.substr(start, nl - start));
      write_log_line(partial_line_);
      partial_line_.clear();
    }
    start = nl + 1;
  }
}

void Environment::drain_output() {
  if (output_fd_ < 0) return;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
    if (n <= 0) return;
    emit(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

Task<void> Environment::read_output() {
  auto self = shared_from_this();
  asio::posix::stream_descriptor pipe(context_->executor, ::dup(output_fd_));
  char buffer[16384];
  for (;;) {
    boost::system::error_code ec;
    co_await pipe.async_wait(asio::posix::stream_descriptor::wait_read,
                             asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    emit(std::string_view(buffer, static_cast<std::size_t>(n)));
    // Readers such as `lambent logs --follow` see output while the invocation still runs.
    if (log_) log_->flush();
  }
  if (!partial_line_.empty()) {
    write_log_line(partial_line_);
    partial_line_.clear();
  }
  if (log_) log_->flush();
}

Task<void> Environment::watch_exit() {
  auto self = shared_from_this();
  int status = 0;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child_.pid, 0));
  if (pidfd >= 0) {
    asio::posix::stream_descriptor watcher(context_->executor, pidfd);
    // The status is read through the pidfd, which names this process even after its pid is
    // reused. It is never read with a blocking wait, because the event loop must not stop for
    // a process that has not exited (after a cancelled wait, or a pidfd that woke early).
    asio::steady_timer poll(context_->executor);
    bool killed = false;
    for (int round = 0;; ++round) {
      boost::system::error_code ec;
      if (round == 0) {
        co_await watcher.async_wait(asio::posix::stream_descriptor::wait_read,
                                    asio::redirect_error(asio::use_awaitable, ec));
      } else {
        poll.expires_after(std::chrono::milliseconds(10));
        co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      siginfo_t info{};
      struct rusage usage {};
      // The raw system call, because glibc's waitid() has no rusage argument. The rusage
      // covers init and the processes it reaped.
      auto waited = ::syscall(SYS_waitid, P_PIDFD, static_cast<id_t>(pidfd), &info,
                              WEXITED | WNOHANG, &usage);
      if (waited == 0 && info.si_pid != 0) {
        status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        exit_cpu_us_ = rusage_cpu_us(usage);
        break;
      }
      if (waited != 0) {
        // Not this server's child (ECHILD), so its exit status cannot be read. Its resources
        // are released next, so make sure it has ended.
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        status = 128 + SIGKILL;
        break;
      }
      if (!killed) {
        // A cancelled wait ends the process instead of waiting for it.
        co_await asio::this_coro::reset_cancellation_state();
        LOG_WARN("runtime", "environment_exit_wait_early", "function={} env_id={} pid={}",
                 spec_->config.name, id_, child_.pid);
        ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
        killed = true;
      }
    }
    on_exit(status);
    co_return;
  } else {
    // Kernels before 5.3 have no pidfd: poll.
    asio::steady_timer timer(context_->executor);
    struct rusage usage {};
    while (::wait4(child_.pid, &status, WNOHANG, &usage) == 0) {
      timer.expires_after(std::chrono::milliseconds(20));
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    exit_cpu_us_ = rusage_cpu_us(usage);
    on_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    co_return;
  }
}

void Environment::on_exit(int status) {
  exit_status_ = status;
  // The cgroup is removed below, so its peak is kept for the REPORT line.
  peak_memory_bytes_ = context_->spawner->peak_memory_bytes(child_);
  bool was_dead = state_ == State::dead;
  state_ = State::dead;
  drain_output();
  if (current_ && !current_->done) complete_after_exit();
  initialized_.set();
  next_ready_.set();
  if (api_server_) api_server_->stop();
  if (context_->report_cpu) {
    // The cgroup is removed below, so its total is read now. Without one, the exit rusage
    // counts what init reaped; processes killed with init are not in it, and the read that
    // stop() made before the kill covers them.
    std::int64_t total = exit_cpu_us_;
    auto cgroup_total = read_cgroup_cpu_us(child_.cgroup.substr(0, child_.cgroup.find('\n')));
    if (cgroup_total) total = std::max(total, *cgroup_total);
    report_cpu_total(total);
  }
  context_->spawner->cleanup(child_);
  context_->spawner->release_uid(uid_);
  if (!was_dead) {
    LOG_DEBUG("runtime", "environment_exited", "function={} env_id={} status={}",
              spec_->config.name, id_, status);
  }
}

void Environment::report_cpu_total(std::int64_t total_us) {
  if (total_us <= cpu_reported_us_) return;
  std::int64_t delta = total_us - cpu_reported_us_;
  cpu_reported_us_ = total_us;
  context_->report_cpu(*spec_, delta);
}

Task<void> Environment::sample_cpu(std::weak_ptr<Environment> weak, asio::any_io_executor executor,
                                   asio::thread_pool* pool, std::chrono::milliseconds interval,
                                   std::string cgroup_dir, pid_t pid) {
  asio::steady_timer timer(executor);
  for (;;) {
    timer.expires_after(interval);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    {
      auto self = weak.lock();
      if (!self || self->state_ == State::dead) co_return;
      // An idle environment sampled after its last invocation has used next to no CPU since.
      if (self->state_ == State::idle && self->last_used_ == self->cpu_sampled_use_) continue;
      self->cpu_sampled_use_ = self->last_used_;
    }
    auto read_total = [cgroup_dir, pid]() -> std::optional<std::int64_t> {
      if (auto total = read_cgroup_cpu_us(cgroup_dir)) return total;
      return read_process_tree_cpu_us(pid);
    };
    auto total = co_await run_blocking(*pool, std::move(read_total));
    auto self = weak.lock();
    // After the exit the pid may name another process, so the figure is not used.
    if (!self || self->exit_status_) co_return;
    if (total) self->report_cpu_total(*total);
  }
}

void Environment::complete_after_exit() {
  const std::string& id = current_->request.request_id;
  int status = exit_status_.value_or(0);
  if (init_error_) {
    complete(Outcome::function_error, *init_error_);
  } else if (context_->spawner->oom_killed(child_)) {
    complete_with_log(
        "Runtime.OutOfMemory",
        fmt::format("RequestId: {} Error: Runtime exited with error: signal: killed", id));
  } else if (status == 0) {
    complete_with_log(
        "Runtime.ExitError",
        fmt::format("RequestId: {} Error: Runtime exited without providing a reason", id));
  } else if (status > 128) {
    complete_with_log("Runtime.ExitError",
                      fmt::format("RequestId: {} Error: Runtime exited with error: signal: {}", id,
                                  signal_name(status - 128)));
  } else {
    complete_with_log(
        "Runtime.ExitError",
        fmt::format("RequestId: {} Error: Runtime exited with error: exit status {}", id, status));
  }
}

void Environment::complete_with_log(std::string_view type, std::string message) {
  // AWS logs a platform-detected failure as its message line and then its type.
  write_log_line(message);
  write_log_line(type);
  complete(Outcome::failure, error_payload(type, message));
}

void Environment::complete(Outcome outcome, std::string payload) {
  if (!current_ || current_->done) return;
  current_->done = true;
  current_->outcome = outcome;
  current_->payload = std::move(payload);
  current_->done_event.set();
}

void Environment::stop() {
  if (state_ == State::dead) return;
  state_ = State::dead;
  if (context_->report_cpu && child_.pid > 0) {
    // The kill ends the processes without init reaping them, so their time would be missing
    // from the exit rusage: read the tree's total first (a few /proc files).
    if (auto total = read_process_tree_cpu_us(child_.pid)) report_cpu_total(*total);
  }
  sandbox::Spawner::kill_tree(child_.pid);
  next_ready_.set();
  if (api_server_) api_server_->stop();
}

Task<bool> Environment::wait_initialized() {
  auto self = shared_from_this();
  if (!initialized_.is_set()) {
    auto timeout = std::chrono::seconds(spec_->config.timeout_seconds);
    auto init_budget =
        std::max<std::chrono::steady_clock::duration>(context_->init_timeout, timeout);
    co_await initialized_.wait_until(started_at_ + init_budget);
  }
  co_return initialized_.is_set() && !init_error_ && !exit_status_ && state_ != State::dead;
}

void Environment::mark_initialized_ahead() {
  cold_ = false;
  if (state_ == State::starting) state_ = State::idle;
  last_used_ = std::chrono::steady_clock::now();
}

Task<InvokeResult> Environment::invoke(InvokeRequest request) {
  auto self = shared_from_this();
  InvokeResult result;
  result.cold_start = cold_;
  const auto& config = spec_->config;
  const auto timeout = std::chrono::seconds(config.timeout_seconds);
  state_ = State::busy;

  current_ = std::make_unique<Pending>(context_->executor);
  current_->request = std::move(request);
  const std::string request_id = current_->request.request_id;
  const bool want_tail = current_->request.want_log_tail;
  capture_tail_ = want_tail;
  tail_.clear();

  auto timed_out_payload = [&] {
    return error_payload("Sandbox.Timedout",
                         fmt::format("RequestId: {} Error: Task timed out after {}.00 seconds",
                                     request_id, config.timeout_seconds));
  };

  // A cold environment finishes its init phase first: up to the init timeout (10 s on AWS), or
  // the function timeout when that is longer.
  if (!initialized_.is_set()) {
    auto init_budget =
        std::max<std::chrono::steady_clock::duration>(context_->init_timeout, timeout);
    co_await initialized_.wait_until(started_at_ + init_budget);
  }

  write_log_line(fmt::format("START RequestId: {} Version: {}", request_id, spec_->version));
  if (log_) log_->flush();
  auto begin = std::chrono::steady_clock::now();
  current_->deadline_ms = epoch_ms() + config.timeout_seconds * 1000LL;

  if (!initialized_.is_set()) {
    write_log_line(fmt::format("{} {} Task timed out after {}.00 seconds",
                               utc_stamp("%Y-%m-%dT%H:%M:%S.000Z"), request_id,
                               config.timeout_seconds));
    complete(Outcome::failure, timed_out_payload());
    stop();
  } else if (init_error_ && !current_->done) {
    complete(Outcome::function_error, *init_error_);
    stop();
  } else if (exit_status_ && !current_->done) {
    complete_after_exit();
  } else if (!current_->done) {
    current_->released = true;
    next_ready_.set();
    bool done = co_await current_->done_event.wait_until(begin + timeout);
    if (!done) {
      drain_output();
      write_log_line(fmt::format("{} {} Task timed out after {}.00 seconds",
                                 utc_stamp("%Y-%m-%dT%H:%M:%S.000Z"), request_id,
                                 config.timeout_seconds));
      complete(Outcome::failure, timed_out_payload());
      stop();
    }
  }
  auto end = std::chrono::steady_clock::now();

  // Output written before the result was posted may still sit in the pipe: let a completed
  // read run first, then read what is left, so it lands before END.
  co_await asio::post(context_->executor, asio::use_awaitable);
  drain_output();
  if (!partial_line_.empty()) {
    write_log_line(partial_line_);
    partial_line_.clear();
  }

  double duration_ms = std::chrono::duration<double, std::milli>(end - begin).count();
  auto billed_ms = static_cast<long long>(std::ceil(duration_ms));
  auto peak_mb =
      (exit_status_ ? peak_memory_bytes_ : context_->spawner->peak_memory_bytes(child_)) >> 20;
  write_log_line(fmt::format("END RequestId: {}", request_id));
  std::string report = fmt::format(
      "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory "
      "Size: {} MB\tMax Memory Used: {} MB",
      request_id, duration_ms, std::max(billed_ms, 1LL), config.memory_mb,
      std::max<std::uint64_t>(peak_mb, 1));
  if (cold_ && initialized_.is_set() && init_done_at_ > started_at_) {
    report +=
        fmt::format("\tInit Duration: {:.2f} ms",
                    std::chrono::duration<double, std::milli>(init_done_at_ - started_at_).count());
  }
  write_log_line(report);
  if (log_) log_->flush();

  result.outcome = current_->outcome;
  result.payload = std::move(current_->payload);
  result.duration_ms = duration_ms;
  if (want_tail) {
    result.log_tail = tail_.size() > kTailBytes ? tail_.substr(tail_.size() - kTailBytes) : tail_;
  }
  capture_tail_ = false;
  tail_.clear();
  current_.reset();
  cold_ = false;
  last_used_ = std::chrono::steady_clock::now();
  if (state_ == State::busy) {
    state_ = State::idle;
  } else {
    result.environment_lost = true;
  }
  co_return result;
}

}  // namespace lambent::runtime
