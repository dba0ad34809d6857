#include "lambent/sandbox/spawner.h"

#include "lambent/base/log.h"
#include "lambent/sandbox/isolation.h"

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lambent::sandbox {

namespace fs = std::filesystem;

namespace {

bool write_file(const fs::path& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads "key N" from a flat keyed cgroup file such as memory.events.
std::uint64_t keyed_value(const fs::path& path, std::string_view key) {
  std::istringstream in(read_file(path));
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

// Failure report from the child: the step that failed and errno, written to a CLOEXEC pipe.
struct ChildFailure {
  int step;
  int error;
};

char* g_command_line = nullptr;
std::size_t g_command_line_size = 0;

// The cgroup directory of environment `name`: "env-<server pid>-<name>", so a server that
// starts removes only the leftovers of servers that are gone (see remove_stale_cgroups).
std::string cgroup_name(std::string_view name) {
  if (name.starts_with("env-")) name.remove_prefix(4);
  return fmt::format("env-{}-{}", ::getpid(), name);
}

[[noreturn]] void fail_child(int report_fd, int step) {
  ChildFailure failure{step, errno};
  [[maybe_unused]] auto n = ::write(report_fd, &failure, sizeof failure);
  _exit(127);
}

// Everything the child needs, prepared before fork so the child only makes system calls.
struct Prepared {
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string code_dir;
  std::string runtime_dir;
  std::string passwd_file;
  std::string group_file;
  std::string init_path;
  int init_fd = -1;  // lambent-init opened before the mounts, which may hide its path
  std::string tmp_options;
  std::vector<std::string> cgroup_procs;  // cgroup.procs files to join
  std::string chdir_to;
  uid_t uid;
  gid_t gid;
  bool namespaces;
  std::uint64_t address_space_limit;
};

// Runs in the runtime process: redirect output, drop privileges, exec.
[[noreturn]] void exec_runtime(const Prepared& p, int output_fd, int report_fd) {
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  ::dup2(output_fd, 1);
  ::dup2(output_fd, 2);
  if (int step = drop_credentials(p.uid, p.gid); step != 0) fail_child(report_fd, step);
  if (::chdir(p.chdir_to.c_str()) != 0) fail_child(report_fd, kStepChdir);
  // Close every inherited descriptor except stdio and the CLOEXEC report pipe.
  close_all_except(report_fd, report_fd);
  set_runtime_limits(p.address_space_limit);
  // Signal dispositions the server set (SIGPIPE ignored) would survive exec, so they go back
  // to their defaults.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(p.argv[0], p.argv.data(), p.envp.data());
  fail_child(report_fd, kStepExec);
}

// Runs as pid 1 of the new PID namespace: set up mounts, start the runtime, reap, and exit with
// the runtime's status (128 + signal when it was killed by a signal).
[[noreturn]] void run_init(const Prepared& p, int output_fd, int report_fd) {
  // A spawn on another thread may have had pipes open when this process was cloned. Holding
  // their write ends would keep that spawn waiting for end-of-file.
  close_all_except(output_fd, report_fd, p.init_fd);
  if (g_command_line != nullptr && g_command_line_size > 0) {
    static constexpr char kTitle[] = "lambent-init";
    std::memset(g_command_line, 0, g_command_line_size);
    std::memcpy(g_command_line, kTitle, std::min(sizeof kTitle, g_command_line_size));
  }
  for (const auto& procs : p.cgroup_procs) {
    if (int step = join_cgroup(procs.c_str()); step != 0) fail_child(report_fd, step);
  }
  if (p.namespaces) {
    MountPlan plan{.code_dir = p.code_dir.c_str(),
                   .runtime_dir = p.runtime_dir.c_str(),
                   .passwd_file = p.passwd_file.c_str(),
                   .group_file = p.group_file.c_str(),
                   .tmp_options = p.tmp_options.c_str()};
    if (int step = mount_sandbox(plan); step != 0) fail_child(report_fd, step);
  }
  ::setsid();

  // A raw clone instead of fork(): glibc's fork takes the malloc locks, which another server
  // thread may have held at the moment this process was cloned.
  pid_t runtime =
      static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
  if (runtime < 0) fail_child(report_fd, kStepFork);
  if (runtime == 0) exec_runtime(p, output_fd, report_fd);

  ::close(output_fd);
  ::close(report_fd);
  ::close(0);
  ::close(1);
  ::close(2);

  // Become lambent-init, passing the runtime's pid as decimal text built without allocating.
  if (p.init_fd >= 0) {
    char pid_text[16];
    char* digits = pid_text + sizeof pid_text - 1;
    *digits = '\0';
    for (pid_t rest = runtime; rest > 0; rest /= 10) *--digits = static_cast<char>('0' + rest % 10);
    char* init_argv[] = {const_cast<char*>(p.init_path.c_str()), digits, nullptr};
    char* init_env[] = {nullptr};
    // By descriptor: the private /tmp mount may cover the program's path.
    ::syscall(SYS_execveat, p.init_fd, "", init_argv, init_env, AT_EMPTY_PATH);
  }
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) _exit(127);
    if (done == runtime) {
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      _exit(128 + WTERMSIG(status));
    }
  }
}

}  // namespace

void set_command_line_area(int argc, char** argv) {
  if (argc <= 0 || argv == nullptr || argv[0] == nullptr) return;
  // The kernel reports arg_start..arg_end, which contains the argv strings back to back.
  char* end = argv[argc - 1] + std::strlen(argv[argc - 1]) + 1;
  g_command_line = argv[0];
  g_command_line_size = static_cast<std::size_t>(end - argv[0]);
}

Spawner::Spawner(SpawnerOptions options) : options_(std::move(options)) {}

std::string Spawner::probe() {
  std::ostringstream summary;
  bool root = ::geteuid() == 0;
  if (root) {
    std::error_code ec;
    fs::create_directories(kTaskRoot, ec);
    if (!ec) fs::create_directories(kRuntimeRoot, ec);
    // Namespaces: try one throwaway child.
    pid_t pid = static_cast<pid_t>(
        ::syscall(SYS_clone, SIGCHLD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS,
                  nullptr, nullptr, nullptr, nullptr));
    if (pid == 0) _exit(0);
    if (pid > 0) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      isolation_ = ec ? Isolation::rlimit_only : Isolation::full;
    }
  }

  auto make_root = [](const fs::path& base) -> fs::path {
    std::error_code ec;
    fs::path dir = base / "lambent";
    fs::create_directories(dir, ec);
    if (ec || !fs::exists(dir / "cgroup.procs")) return {};
    return dir;
  };
  if (isolation_ == Isolation::full) {
    fs::path parent = options_.cgroup_parent;
    if (parent.empty() || fs::exists(parent / "cgroup.controllers")) {
      fs::path v2 = parent.empty() ? fs::path("/sys/fs/cgroup") : parent;
      std::string controllers = read_file(v2 / "cgroup.controllers");
      if (controllers.find("memory") != std::string::npos) {
        write_file(v2 / "cgroup.subtree_control", "+memory +pids");
        if (auto dir = make_root(v2); !dir.empty()) {
          write_file(dir / "cgroup.subtree_control", "+memory +pids");
          if (read_file(dir / "cgroup.subtree_control").find("memory") != std::string::npos) {
            memory_root_ = dir;
            cgroup_v2_ = true;
          }
        }
      }
    }
    if (memory_root_.empty() && fs::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      memory_root_ = make_root("/sys/fs/cgroup/memory");
      if (fs::exists("/sys/fs/cgroup/pids")) pids_root_ = make_root("/sys/fs/cgroup/pids");
    }
  }

  remove_stale_cgroups();
  init_path_ = options_.init_path;
  if (init_path_.empty()) {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) init_path_ = exe.parent_path() / "lambent-init";
  }
  if (::access(init_path_.c_str(), X_OK) == 0) {
    init_fd_ = ::open(init_path_.c_str(), O_PATH | O_CLOEXEC);
  }
  if (init_fd_ < 0) {
    LOG_WARN("sandbox", "init_missing",
             "path={} effect=\"each environment keeps a copy of the "
             "server as pid 1\"",
             init_path_.string());
    init_path_.clear();
  }
  zygote_library_ = options_.zygote_library;
  if (zygote_library_.empty()) {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) zygote_library_ = exe.parent_path() / "liblambent_zygote.so";
  }
  if (isolation_ == Isolation::full && !options_.state_dir.empty()) {
    write_account_files();
  }

  if (isolation_ == Isolation::full) {
    summary << "isolation=namespaces uids=" << options_.first_uid << "-"
            << options_.first_uid + options_.uid_count - 1;
  } else {
    summary << "isolation=rlimits-only (run as root for namespaces, a private /var/task and "
               "an unprivileged uid per function)";
  }
  if (memory_root_.empty()) {
    summary << " memory_limits=none (no writable memory cgroup)";
  } else {
    summary << " memory_limits=" << (cgroup_v2_ ? "cgroup-v2 " : "cgroup-v1 ")
            << memory_root_.string();
  }
  return summary.str();
}

Result<Child> Spawner::spawn(const SpawnSpec& spec) {
  if (!spec.zygote_argv.empty()) {
    auto child = spawn_with_zygote(spec);
    if (child || child.error().code != Errc::internal) return child;
    std::lock_guard lock(zygotes_mutex_);
    // One warning per failure streak: the next success re-arms it.
    if (!zygote_fallback_logged_) {
      zygote_fallback_logged_ = true;
      LOG_WARN("sandbox", "zygote_unavailable",
               "env_id={} error=\"{}\" effect=\"environments start by exec until the zygote "
               "runs again\"",
               spec.env_id, child.error().message);
    }
  }
  return spawn_with_exec(spec);
}

Status Spawner::start_zygote(const std::vector<std::string>& argv) {
  std::string error;
  Zygote* zygote = zygote_for(argv, error);
  if (zygote == nullptr) return make_error(Errc::internal, error);
  prepare_spare(*zygote);
  return ok_status();
}

void Spawner::prepare_spare(Zygote& zygote) {
  Child cgroups;
  std::vector<std::string> procs;
  std::string name;
  pid_t zygote_pid = zygote.pid();
  {
    // One spare per zygote: skip when one exists or another thread is preparing it.
    std::lock_guard lock(zygotes_mutex_);
    auto& slot = spares_[&zygote];
    if (slot.zygote_pid == zygote_pid) return;
    cleanup(slot.cgroups);
    slot = Spare{zygote_pid, {}, false};
    name = fmt::format("spare-{}", ++spare_count_);
  }
  if (auto created = create_cgroups(name, 0, cgroups, procs); !created) {
    LOG_WARN("sandbox", "zygote_spare_failed", "error=\"{}\"", created.error().message);
    std::lock_guard lock(zygotes_mutex_);
    spares_.erase(&zygote);
    return;
  }

  boost::json::object request;
  request["kind"] = "prepare";
  request["namespaces"] = isolation_ == Isolation::full;
  request["cgroup_procs"] = boost::json::value_from(procs);
  request["init_path"] = init_path_.string();
  auto spare = zygote.prepare(boost::json::serialize(request));
  if (!spare) {
    cleanup(cgroups);
    LOG_WARN("sandbox", "zygote_spare_failed", "error=\"{}\"", spare.error().message);
    std::lock_guard lock(zygotes_mutex_);
    spares_.erase(&zygote);
    return;
  }
  std::lock_guard lock(zygotes_mutex_);
  spares_[&zygote] = Spare{zygote_pid, std::move(cgroups), true};
}

Spawner::~Spawner() {
  std::lock_guard lock(zygotes_mutex_);
  for (auto& [key, zygote] : zygotes_) zygote->stop();
  for (auto& [zygote, spare] : spares_) cleanup(spare.cgroups);
}

Zygote* Spawner::zygote_for(const std::vector<std::string>& argv, std::string& error) {
  std::string key;
  for (const auto& arg : argv) key.append(arg).push_back('\0');
  Zygote* zygote = nullptr;
  {
    std::lock_guard lock(zygotes_mutex_);
    auto& slot = zygotes_[key];
    if (!slot) {
      // Environments forked from a zygote's child become the server's children when that
      // child exits, so the server can wait for them as for the ones it clones itself.
      ::prctl(PR_SET_CHILD_SUBREAPER, 1);
      std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=en_US.UTF-8",
                                      "TZ=:UTC",
                                      "LAMBENT_ZYGOTE_LIBRARY=" + zygote_library_.string()};
      slot = std::make_unique<Zygote>(argv, std::move(env));
    }
    zygote = slot.get();
  }
  // Starting takes tens of milliseconds, so it runs outside the map's lock. The zygote's own
  // lock makes concurrent starts wait for the first.
  auto started = zygote->start();
  if (!started) {
    error = started.error().message;
    return nullptr;
  }
  return zygote;
}

Result<Child> Spawner::spawn_with_zygote(const SpawnSpec& spec) {
  std::string error;
  Zygote* zygote = zygote_for(spec.zygote_argv, error);
  if (zygote == nullptr) return make_error(Errc::internal, error);

  bool retryable = false;
  auto child = spawn_from_zygote(zygote, spec, SpareUse::allowed, retryable);
  if (child || !retryable) return child;
  // A server of an older version that starts on this host removes every empty cgroup, which
  // can include a spare's cgroup, or a new environment's, before its process joins it. The
  // spawn is then tried once more with new cgroups of its own.
  LOG_WARN("sandbox", "spawn_retried", "env_id={} error=\"{}\"", spec.env_id,
           child.error().message);
  return spawn_from_zygote(zygote, spec, SpareUse::never, retryable);
}

Result<Child> Spawner::spawn_from_zygote(Zygote* zygote, const SpawnSpec& spec, SpareUse spare_use,
                                         bool& retryable) {
  retryable = false;
  boost::json::object request;
  bool namespaces = isolation_ == Isolation::full;
  request["argv"] = boost::json::value_from(spec.argv);
  request["env"] = boost::json::value_from(spec.env);
  request["namespaces"] = namespaces;
  request["code_dir"] = spec.code_dir.string();
  request["runtime_dir"] = spec.runtime_dir.string();
  request["passwd_file"] = passwd_file_.string();
  request["group_file"] = group_file_.string();
  request["tmp_options"] = "size=" + std::to_string(spec.tmp_size_bytes) + ",mode=1777";
  request["chdir"] = namespaces ? std::string(kTaskRoot) : spec.code_dir.string();
  uid_t uid = namespaces ? spec.uid : 0;
  request["uid"] = uid;
  request["gid"] = uid;
  request["address_space_limit"] = memory_root_.empty() ? spec.address_space_limit_bytes : 0;
  request["init_path"] = init_path_.string();

  // A spare forked by the zygote ahead of time is already in its cgroups and namespaces.
  Child child;
  std::vector<std::string> procs;
  bool use_spare = false;
  {
    std::lock_guard lock(zygotes_mutex_);
    auto spare = spares_.find(zygote);
    if (spare != spares_.end() && spare->second.ready && spare_use == SpareUse::allowed) {
      use_spare = spare->second.zygote_pid == zygote->pid();
      if (use_spare) {
        child = spare->second.cgroups;
      } else {
        cleanup(spare->second.cgroups);
      }
      spares_.erase(spare);
    }
  }
  if (use_spare) {
    set_memory_limit(child, spec.memory_limit_bytes);
  } else if (auto created = create_cgroups(spec.env_id, spec.memory_limit_bytes, child, procs);
             !created) {
    return std::move(created).error();
  }
  request["spare"] = use_spare;
  request["cgroup_procs"] = boost::json::value_from(procs);
  std::string text = boost::json::serialize(request);

  int output[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    cleanup(child);
    return make_error(Errc::io, std::string("pipe failed: ") + std::strerror(errno));
  }
  auto reply = zygote->spawn(text, output[1]);
  if (reply) prepare_spare(*zygote);
  if (!reply) {
    // The zygote died or hung; it is stopped now and the next spawn starts a new one.
    ::close(output[0]);
    ::close(output[1]);
    cleanup(child);
    return std::move(reply).error();
  }
  ::close(output[1]);
  if (reply->step != 0) {
    if (reply->pid > 0) {
      kill_tree(reply->pid);
      int status = 0;
      ::waitpid(reply->pid, &status, 0);
    }
    ::close(output[0]);
    cleanup(child);
    retryable = use_spare || (reply->step == kStepCgroup && reply->error == ENOENT);
    return make_error(Errc::io, fmt::format("environment {} failed to {}: {}", spec.env_id,
                                            step_name(reply->step), std::strerror(reply->error)));
  }
  {
    std::lock_guard lock(zygotes_mutex_);
    zygote_fallback_logged_ = false;
  }
  child.pid = reply->pid;
  child.output_fd = output[0];
  return child;
}

Result<Child> Spawner::spawn_with_exec(const SpawnSpec& spec, int attempt) {
  Prepared p;
  std::vector<std::string> argv_storage = spec.argv;
  std::vector<std::string> env_storage = spec.env;
  for (auto& a : argv_storage) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : env_storage) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  p.namespaces = isolation_ == Isolation::full;
  p.code_dir = spec.code_dir.string();
  p.runtime_dir = spec.runtime_dir.string();
  p.passwd_file = passwd_file_.string();
  p.init_path = init_path_.string();
  p.init_fd = init_fd_;
  p.group_file = group_file_.string();
  p.chdir_to = p.namespaces ? kTaskRoot : p.code_dir;
  p.tmp_options = "size=" + std::to_string(spec.tmp_size_bytes) + ",mode=1777";
  p.uid = 0;
  if (p.namespaces) p.uid = spec.uid;
  p.gid = p.uid;
  p.address_space_limit = memory_root_.empty() ? spec.address_space_limit_bytes : 0;

  Child child;
  if (auto created = create_cgroups(spec.env_id, spec.memory_limit_bytes, child, p.cgroup_procs);
      !created) {
    return std::move(created).error();
  }

  int output[2];
  int report[2];
  if (::pipe2(output, O_CLOEXEC) != 0) {
    cleanup(child);
    return make_error(Errc::io, std::string("pipe failed: ") + std::strerror(errno));
  }
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ::close(output[0]);
    ::close(output[1]);
    cleanup(child);
    return make_error(Errc::io, std::string("pipe failed: ") + std::strerror(errno));
  }

  long flags = SIGCHLD;
  if (p.namespaces) flags |= CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  pid_t pid = static_cast<pid_t>(::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr));
  if (pid == 0) {
    ::close(output[0]);
    ::close(report[0]);
    // The output pipe's write end must survive exec in the runtime; dup2 clears CLOEXEC there.
    run_init(p, output[1], report[1]);
  }
  int clone_errno = errno;
  ::close(output[1]);
  ::close(report[1]);
  if (pid < 0) {
    ::close(output[0]);
    ::close(report[0]);
    cleanup(child);
    return make_error(Errc::io, std::string("clone failed: ") + std::strerror(clone_errno));
  }

  // The report pipe reaches end-of-file when the runtime execs. A child that neither execs nor
  // reports within 30 s is killed rather than left to block this worker thread.
  ChildFailure failure{};
  ssize_t n = -1;
  struct pollfd wait_report {
    report[0], POLLIN, 0
  };
  int ready;
  do {
    ready = ::poll(&wait_report, 1, 30000);
  } while (ready < 0 && errno == EINTR);
  if (ready > 0) {
    do {
      n = ::read(report[0], &failure, sizeof failure);
    } while (n < 0 && errno == EINTR);
  } else {
    failure = ChildFailure{kStepExec, ETIMEDOUT};
    n = sizeof failure;
  }
  ::close(report[0]);
  if (n == sizeof failure) {
    kill_tree(pid);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(output[0]);
    cleanup(child);
    if (failure.step == kStepCgroup && failure.error == ENOENT && attempt == 0) {
      // Another server removed the new, still empty cgroup (see spawn_with_zygote).
      LOG_WARN("sandbox", "spawn_retried",
               "env_id={} error=\"cgroup removed before the "
               "environment joined it\"",
               spec.env_id);
      return spawn_with_exec(spec, attempt + 1);
    }
    Error error{Errc::io, fmt::format("environment {} failed to {}: {}", spec.env_id,
                                      step_name(failure.step), std::strerror(failure.error))};
    // A missing or non-executable entry point is the function's fault, not the host's.
    if (failure.step == kStepExec &&
        (failure.error == ENOENT || failure.error == EACCES || failure.error == ENOEXEC)) {
      error.code = Errc::invalid_parameter;
      error.type = "Runtime.InvalidEntrypoint";
      error.message = fmt::format("fork/exec {}: {}", spec.argv.empty() ? "" : spec.argv[0],
                                  failure.error == ENOENT   ? "no such file or directory"
                                  : failure.error == EACCES ? "permission denied"
                                                            : "exec format error");
    }
    return error;
  }
  child.pid = pid;
  child.output_fd = output[0];
  return child;
}

Status Spawner::create_cgroups(const std::string& name, std::uint64_t memory_limit_bytes,
                               Child& child, std::vector<std::string>& procs) {
  if (memory_root_.empty()) return ok_status();
  fs::path dir = memory_root_ / cgroup_name(name);
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) {
    return make_error(Errc::io, "cannot create cgroup " + dir.string() + ": " + ec.message());
  }
  std::string pids = std::to_string(options_.max_pids);
  if (cgroup_v2_) write_file(dir / "pids.max", pids);
  procs.push_back((dir / "cgroup.procs").string());
  child.cgroup = dir.string();
  if (memory_limit_bytes != 0) set_memory_limit(child, memory_limit_bytes);
  if (!pids_root_.empty()) {
    fs::path pdir = pids_root_ / cgroup_name(name);
    fs::create_directory(pdir, ec);
    if (!ec) {
      write_file(pdir / "pids.max", pids);
      procs.push_back((pdir / "cgroup.procs").string());
      child.cgroup += "\n" + pdir.string();
    }
  }
  return ok_status();
}

void Spawner::set_memory_limit(const Child& child, std::uint64_t bytes) {
  if (child.cgroup.empty()) return;
  fs::path dir = child.cgroup.substr(0, child.cgroup.find('\n'));
  std::string limit = std::to_string(bytes);
  if (cgroup_v2_) {
    write_file(dir / "memory.max", limit);
    write_file(dir / "memory.swap.max", "0");
  } else {
    write_file(dir / "memory.limit_in_bytes", limit);
    write_file(dir / "memory.memsw.limit_in_bytes", limit);
  }
}

fs::path Spawner::task_root(const SpawnSpec& spec) const {
  return isolation_ == Isolation::full ? fs::path(kTaskRoot) : spec.code_dir;
}

fs::path Spawner::runtime_root(const SpawnSpec& spec) const {
  return isolation_ == Isolation::full && !spec.runtime_dir.empty() ? fs::path(kRuntimeRoot)
                                                                    : spec.runtime_dir;
}

void Spawner::remove_stale_cgroups() {
  // Environments of a server that was killed leave their cgroups behind. Names start with
  // "env-<server pid>-", and only those of servers that are no longer running are removed:
  // another server on this host may have created an empty cgroup that its environment is
  // about to join. rmdir only succeeds on a cgroup without processes.
  std::size_t removed = 0;
  for (const auto& root : {memory_root_, pids_root_}) {
    if (root.empty()) continue;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      std::string name = entry.path().filename().string();
      if (!entry.is_directory() || !name.starts_with("env-")) continue;
      long owner = std::strtol(name.c_str() + 4, nullptr, 10);
      if (owner > 0 && (::kill(static_cast<pid_t>(owner), 0) == 0 || errno == EPERM)) continue;
      if (::rmdir(entry.path().c_str()) == 0) ++removed;
    }
  }
  if (removed > 0) LOG_INFO("sandbox", "stale_cgroups_removed", "count={}", removed);
}

void Spawner::write_account_files() {
  std::error_code ec;
  fs::create_directories(options_.state_dir, ec);
  fs::path passwd = options_.state_dir / "passwd";
  fs::path group = options_.state_dir / "group";
  {
    std::ofstream out(passwd, std::ios::trunc);
    out << "root:x:0:0:root:/root:/sbin/nologin\n"
        << "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n";
    for (uid_t i = 0; i < options_.uid_count; ++i) {
      uid_t uid = options_.first_uid + i;
      out << "sbx_user" << uid << ":x:" << uid << ":" << uid << "::/home/sbx_user" << uid
          << ":/sbin/nologin\n";
    }
    std::ofstream groups(group, std::ios::trunc);
    groups << "root:x:0:\nnogroup:x:65534:\n";
    for (uid_t i = 0; i < options_.uid_count; ++i) {
      uid_t gid = options_.first_uid + i;
      groups << "sbx_user" << gid << ":x:" << gid << ":\n";
    }
    if (!out || !groups) {
      LOG_WARN("sandbox", "account_files_failed", "dir={}", options_.state_dir.string());
      return;
    }
  }
  ::chmod(passwd.c_str(), 0644);
  ::chmod(group.c_str(), 0644);
  passwd_file_ = passwd;
  group_file_ = group;
}

namespace {

// Takes an exclusive flock on the host-wide lock file of `uid`. Returns its descriptor, or -1
// when another process (another Lambent server) has locked it. The lock ends with the
// descriptor, so a server that dies frees its uids.
int lock_uid(uid_t uid) {
  static const char* const kDir = "/run/lambent-uids";
  ::mkdir(kDir, 0700);
  std::string path = fmt::format("{}/{}", kDir, uid);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    LOG_WARN("sandbox", "uid_lock_failed", "path={} error=\"{}\"", path, std::strerror(errno));
    return -2;  // no lock file: fall back to this server's own bookkeeping
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

uid_t Spawner::acquire_uid() {
  if (isolation_ != Isolation::full) return 0;
  std::lock_guard lock(uid_mutex_);
  if (uid_used_.empty()) {
    uid_used_.assign(options_.uid_count, false);
    uid_locks_.assign(options_.uid_count, -1);
  }
  for (std::size_t i = 0; i < uid_used_.size(); ++i) {
    std::size_t slot = (next_uid_ + i) % uid_used_.size();
    if (uid_used_[slot]) continue;
    uid_t uid = options_.first_uid + static_cast<uid_t>(slot);
    int fd = lock_uid(uid);
    if (fd == -1) continue;  // in use by another server on this host
    uid_used_[slot] = true;
    uid_locks_[slot] = fd;
    next_uid_ = slot + 1;
    return uid;
  }
  return 0;
}

void Spawner::release_uid(uid_t uid) {
  if (uid < options_.first_uid) return;
  std::lock_guard lock(uid_mutex_);
  std::size_t slot = uid - options_.first_uid;
  if (slot >= uid_used_.size()) return;
  uid_used_[slot] = false;
  if (uid_locks_[slot] >= 0) ::close(uid_locks_[slot]);
  uid_locks_[slot] = -1;
}

namespace {

// Looks up the TCP socket 127.0.0.1:client_port -> 127.0.0.1:server_port through the kernel's
// sock_diag interface and returns its uid, or nullopt when there is no such socket. Returns -1
// when the query itself failed (no NETLINK_SOCK_DIAG), so the caller reads /proc/net/tcp.
// One exact lookup takes microseconds, where reading /proc/net/tcp walks the kernel's whole
// socket hash table (about 6 ms measured on the 2-core build hosts).
std::optional<long> sock_diag_peer_uid(std::uint16_t client_port, std::uint16_t server_port) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } query{};
  query.header.nlmsg_len = sizeof query;
  query.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  query.header.nlmsg_flags = NLM_F_REQUEST;
  query.request.sdiag_family = AF_INET;
  query.request.sdiag_protocol = IPPROTO_TCP;
  query.request.idiag_states = ~0u;
  query.request.id.idiag_sport = htons(client_port);
  query.request.id.idiag_dport = htons(server_port);
  query.request.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
  query.request.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
  query.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  query.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &query, sizeof query, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) !=
      static_cast<ssize_t>(sizeof query)) {
    ::close(fd);
    return -1;
  }
  alignas(nlmsghdr) char buffer[8192];
  ssize_t n;
  do {
    n = ::recv(fd, buffer, sizeof buffer, 0);
  } while (n < 0 && errno == EINTR);
  ::close(fd);

  if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) return -1;
  auto* reply = reinterpret_cast<nlmsghdr*>(buffer);
  if (!NLMSG_OK(reply, static_cast<unsigned>(n))) return -1;
  if (reply->nlmsg_type == NLMSG_ERROR) {
    auto* error = static_cast<nlmsgerr*>(NLMSG_DATA(reply));
    // ENOENT: no such socket. Anything else means the lookup did not work.
    if (error->error == -ENOENT) return std::nullopt;
    return -1;
  }
  if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      reply->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    return -1;
  }
  auto* message = static_cast<inet_diag_msg*>(NLMSG_DATA(reply));
  return static_cast<long>(message->idiag_uid);
}

}  // namespace

std::optional<uid_t> loopback_peer_uid(std::uint16_t client_port, std::uint16_t server_port) {
  auto diag = sock_diag_peer_uid(client_port, server_port);
  if (!diag) return std::nullopt;
  if (*diag >= 0) return static_cast<uid_t>(*diag);

  // Lines read "sl local_address rem_address st ... uid timeout inode", with addresses as
  // hex IPv4 in host byte order and hex ports: 127.0.0.1:80 is 0100007F:0050.
  std::string local = fmt::format("0100007F:{:04X}", client_port);
  std::string remote = fmt::format("0100007F:{:04X}", server_port);
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, state, queues, timer, retransmits;
    unsigned long uid = 0;
    fields >> slot >> local_address >> remote_address >> state >> queues >> timer >> retransmits >>
        uid;
    if (local_address == local && remote_address == remote) return static_cast<uid_t>(uid);
  }
  return std::nullopt;
}

void Spawner::kill_tree(pid_t pid) {
  if (pid <= 0) return;
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
}

std::uint64_t Spawner::peak_memory_bytes(const Child& child) const {
  if (child.cgroup.empty()) return 0;
  fs::path dir = child.cgroup.substr(0, child.cgroup.find('\n'));
  std::string text = read_file(dir / (cgroup_v2_ ? "memory.peak" : "memory.max_usage_in_bytes"));
  try {
    return text.empty() ? 0 : std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

bool Spawner::oom_killed(const Child& child) const {
  if (child.cgroup.empty()) return false;
  fs::path dir = child.cgroup.substr(0, child.cgroup.find('\n'));
  if (cgroup_v2_) return keyed_value(dir / "memory.events", "oom_kill") > 0;
  return keyed_value(dir / "memory.oom_control", "oom_kill") > 0;
}

void Spawner::cleanup(const Child& child) const {
  std::istringstream dirs(child.cgroup);
  std::string dir;
  while (std::getline(dirs, dir)) {
    if (!dir.empty()) ::rmdir(dir.c_str());
  }
}

}  // namespace lambent::sandbox
