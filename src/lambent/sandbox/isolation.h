#pragma once

#include <sys/types.h>

#include <cstdint>

// The steps that isolate an execution environment, shared by the exec path (spawner.cpp, in a
// clone of the server) and the Python zygote (through the C functions in zygote_capi.cpp).
//
// Each function only makes system calls, because it runs in a child of a process that may
// have other threads: a lock another thread held at the fork stays held in the child. Each
// returns 0 on success, or the Step that failed with errno set.
namespace lambent::sandbox {

// Steps of environment set-up, reported by a child that fails. The numbers are part of the
// zygote protocol: runtimes/python/lambent_runtime/zygote.py uses the same values.
enum Step : int {
  kStepCgroup = 1,
  kStepMountPrivate = 2,
  kStepBindCode = 3,
  kStepRemountCode = 4,
  kStepBindRuntime = 5,
  kStepBindAccounts = 6,
  kStepMountTmp = 7,
  kStepMountProc = 8,
  kStepFork = 9,
  kStepGroups = 10,
  kStepGid = 11,
  kStepUid = 12,
  kStepChdir = 13,
  kStepExec = 14,
  kStepUnshare = 15,
  kStepExecInit = 16,
  kStepMountShm = 17,
};

// Returns the step's description for error messages ("mount /tmp").
const char* step_name(int step);

// The sources of mount_sandbox()'s mounts, as NUL-terminated strings. An empty runtime_dir or
// passwd_file skips that mount.
struct MountPlan {
  const char* code_dir = "";     // bind-mounted read-only at /var/task
  const char* runtime_dir = "";  // bind-mounted read-only at /var/runtime
  const char* passwd_file = "";  // bind-mounted at /etc/passwd, with group_file at /etc/group
  const char* group_file = "";
  const char* tmp_options = "";  // tmpfs options for /tmp, such as "size=524288000,mode=1777"
};

inline constexpr const char* kTaskRoot = "/var/task";
inline constexpr const char* kRuntimeRoot = "/var/runtime";

// Moves the calling process into the cgroup whose cgroup.procs file is `procs_file`.
int join_cgroup(const char* procs_file);

// Makes every mount private, then mounts the code, runtime, account files, a private /tmp and
// a new /proc, and sets the host name. Call it as pid 1 of new mount and PID namespaces.
int mount_sandbox(const MountPlan& plan);

// Drops supplementary groups, then sets gid and uid, for good. uid 0 changes nothing.
int drop_credentials(uid_t uid, gid_t gid);

// Sets Lambda's limits: 1024 open files, no core dumps, and RLIMIT_AS when address_space is
// not 0.
void set_runtime_limits(std::uint64_t address_space);

// Closes every descriptor from 3 up except the ones in `keep` (each 3 or more, or -1).
void close_all_except(int keep_a, int keep_b, int keep_c = -1);

}  // namespace lambent::sandbox
