#pragma once

#include "lambent/base/result.h"
#include "lambent/sandbox/zygote.h"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

// Starts execution environments as isolated process trees. This is the only code in Lambent
// that forks or execs.
//
// When the server runs as root, each environment gets new mount, PID, IPC and UTS namespaces.
// Its function code is bind-mounted read-only at /var/task and the runtime bootstraps at
// /var/runtime. It gets a private size-limited tmpfs at /tmp, its own /proc and its own
// unprivileged uid. A cgroup (v2, or v1 where only v1 controllers are mounted) limits its
// memory and PIDs. Inside the new PID namespace a small init (pid 1) reaps orphans and exits
// with the runtime's status, so killing it ends the whole tree. A spawn either clones the
// server and execs the runtime, or sends a request to a zygote (zygote.h), which forks the
// environment. The server is then a child subreaper, so the environment's pid 1 is its child
// on both paths.
//
// spawn() blocks for a few milliseconds (fork, mounts, exec or zygote handshake): call it from
// a worker thread, not from the event loop. Other members are cheap and thread-safe.
namespace lambent::sandbox {

enum class Isolation {
  full,         // namespaces + cgroup limits + unprivileged uid (server runs as root)
  rlimit_only,  // no namespaces or cgroups available: rlimits only, announced at start
};

struct SpawnSpec {
  std::vector<std::string> argv;      // argv[0] is an absolute path
  std::vector<std::string> env;       // "KEY=VALUE"
  std::filesystem::path code_dir;     // mounted read-only at /var/task
  std::filesystem::path runtime_dir;  // mounted read-only at /var/runtime (empty: none)
  std::string env_id;                 // names the cgroup, with the server pid; [a-z0-9-] only
  std::uint64_t memory_limit_bytes = 128ull << 20;
  std::uint64_t tmp_size_bytes = 512ull << 20;
  // Without a memory cgroup, RLIMIT_AS of this many bytes replaces the memory limit (0: none).
  // V8 reserves far more address space than it uses, so Node.js environments get none.
  std::uint64_t address_space_limit_bytes = 0;
  uid_t uid = 0;  // from acquire_uid(); 0 runs as the server's own uid (rlimit-only mode)
  // When not empty, the environment is forked from the zygote started with this command (one
  // zygote per distinct command) instead of exec'ing argv, which then only sets the runtime's
  // sys.argv. When that zygote cannot start or stops responding, spawn() logs a warning and
  // execs argv.
  std::vector<std::string> zygote_argv;
};

struct Child {
  pid_t pid = -1;      // pid of the environment's init in the server's PID namespace
  int output_fd = -1;  // read end of the pipe carrying the runtime's stdout and stderr
  std::string cgroup;  // cgroup directories to remove after exit ("" when none)
};

// Returns the uid that owns the TCP socket connected from 127.0.0.1:client_port to
// 127.0.0.1:server_port, or nullopt when there is none. Asks the kernel through
// NETLINK_SOCK_DIAG, and reads /proc/net/tcp where that is not available.
std::optional<uid_t> loopback_peer_uid(std::uint16_t client_port, std::uint16_t server_port);

struct SpawnerOptions {
  std::filesystem::path cgroup_parent;  // empty: detect
  // Each live environment runs as its own uid (and gid) from this range, so environments
  // cannot signal each other or use each other's Runtime API connections.
  uid_t first_uid = 60000;
  uid_t uid_count = 5000;
  std::uint64_t max_pids = 1024;  // per environment
  // The lambent-init program that becomes each environment's pid 1 (empty: next to the running
  // executable). Without it, pid 1 stays a copy of the server.
  std::filesystem::path init_path;
  // liblambent_zygote.so, which zygotes load for namespaces and mounts (empty: next to the
  // running executable).
  std::filesystem::path zygote_library;
  // Folder for files the sandboxes share, such as the /etc/passwd and /etc/group they see;
  // empty leaves the host's files in place.
  std::filesystem::path state_dir;
};

// Records where the process's argv strings live, so an environment's init process can
// overwrite its copy: /proc/1/cmdline inside a sandbox then reads "lambent-init" instead of the
// server's command line (which names the data directory). Call once from main().
void set_command_line_area(int argc, char** argv);

class Spawner {
 public:
  explicit Spawner(SpawnerOptions options);
  // Stops the zygotes and removes the cgroups of their spares.
  ~Spawner();

  // Probes what this host allows (root, namespaces, cgroup version) and prepares /var/task and
  // /var/runtime as mount points. Returns a human-readable summary for the start-up log.
  std::string probe();
  Isolation isolation() const { return isolation_; }
  bool memory_limits() const { return !memory_root_.empty(); }
  // Where the code and the runtime bootstraps appear inside an environment.
  std::filesystem::path task_root(const SpawnSpec& spec) const;
  std::filesystem::path runtime_root(const SpawnSpec& spec) const;

  // Starts an environment: from spec.zygote_argv's zygote when set and running, else by
  // clone and exec. Blocks for a few milliseconds: call it from a worker thread.
  Result<Child> spawn(const SpawnSpec& spec);

  // Starts the zygote for `argv` now instead of at its first spawn, so the first cold start
  // does not wait for it. Returns the error when it cannot start.
  Status start_zygote(const std::vector<std::string>& argv);

  // Reserves an unused uid for a new environment; returns 0 in rlimit-only mode, where
  // functions run as the server's user. Thread-safe.
  uid_t acquire_uid();
  void release_uid(uid_t uid);

  // Kills the environment's whole process tree (SIGKILL to its init). Idempotent.
  static void kill_tree(pid_t pid);

  // Reads the peak memory use of an environment in bytes, or 0 when unknown.
  std::uint64_t peak_memory_bytes(const Child& child) const;
  // True when the environment's cgroup recorded an out-of-memory kill.
  bool oom_killed(const Child& child) const;
  // Removes the environment's cgroup after its processes are gone.
  void cleanup(const Child& child) const;

 private:
  void write_account_files();
  // attempt counts retries after a cgroup vanished before the environment joined it.
  Result<Child> spawn_with_exec(const SpawnSpec& spec, int attempt = 0);
  // Fails with Errc::internal when the zygote is unavailable, so spawn() falls back to exec.
  Result<Child> spawn_with_zygote(const SpawnSpec& spec);
  enum class SpareUse { allowed, never };
  // Sends one spawn request to `zygote`. On failure, sets retryable when a new attempt with
  // new cgroups may succeed (the spare failed, or the cgroup vanished before it was joined).
  Result<Child> spawn_from_zygote(Zygote* zygote, const SpawnSpec& spec, SpareUse spare_use,
                                  bool& retryable);
  Zygote* zygote_for(const std::vector<std::string>& argv, std::string& error);
  // Creates the cgroups of environment `name` with the PID limit and, unless
  // memory_limit_bytes is 0, the memory limit. Appends their cgroup.procs files to `procs`.
  Status create_cgroups(const std::string& name, std::uint64_t memory_limit_bytes, Child& child,
                        std::vector<std::string>& procs);
  void set_memory_limit(const Child& child, std::uint64_t bytes);
  void prepare_spare(Zygote& zygote);
  void remove_stale_cgroups();

  SpawnerOptions options_;
  Isolation isolation_ = Isolation::rlimit_only;
  bool cgroup_v2_ = false;
  std::filesystem::path memory_root_;  // v2: the lambent cgroup; v1: memory/lambent
  std::filesystem::path pids_root_;    // v1 only: pids/lambent
  std::filesystem::path init_path_;
  int init_fd_ = -1;  // O_PATH descriptor of lambent-init, kept for the server's lifetime
  std::filesystem::path passwd_file_;  // mounted at /etc/passwd inside environments
  std::filesystem::path group_file_;   // mounted at /etc/group
  std::filesystem::path zygote_library_;
  std::mutex zygotes_mutex_;
  // Keyed by the zygote's command line joined with NUL characters.
  std::map<std::string, std::unique_ptr<Zygote>> zygotes_;
  bool zygote_fallback_logged_ = false;
  // The cgroups of each zygote's spare (see Zygote::prepare), created without a memory limit,
  // which the spawn that uses them sets.
  struct Spare {
    pid_t zygote_pid = 0;  // the zygote process that forked it; a restarted zygote has none
    Child cgroups;
    bool ready = false;  // false while prepare() runs
  };
  std::map<Zygote*, Spare> spares_;
  std::uint64_t spare_count_ = 0;
  std::mutex uid_mutex_;
  std::vector<bool> uid_used_;
  // Per uid in use: a descriptor holding an flock on its lock file, so servers on one host never
  // hand out the same uid (the Runtime API trusts a connection by its uid).
  std::vector<int> uid_locks_;
  std::size_t next_uid_ = 0;
};

}  // namespace lambent::sandbox
