#include "lambent/sandbox/isolation.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace lambent::sandbox {

namespace {

// Closes descriptors first..last with close_range(2) (Linux 5.9) or, where that fails, one
// close per descriptor up to the RLIMIT_NOFILE hard limit.
void close_range_from(unsigned first, unsigned last) {
  if (first > last) return;
  if (::syscall(SYS_close_range, first, last, 0) == 0) return;
  struct rlimit files {};
  ::getrlimit(RLIMIT_NOFILE, &files);
  unsigned limit = files.rlim_max == RLIM_INFINITY || files.rlim_max > 1u << 20
                       ? 1u << 20
                       : static_cast<unsigned>(files.rlim_max);
  for (unsigned fd = first; fd <= last && fd < limit; ++fd) ::close(static_cast<int>(fd));
}

int bind_read_only(const char* source, const char* target) {
  if (::mount(source, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) return -1;
  return ::mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                 nullptr);
}

}  // namespace

const char* step_name(int step) {
  switch (step) {
    case kStepCgroup:
      return "join cgroup";
    case kStepMountPrivate:
      return "make mounts private";
    case kStepBindCode:
      return "bind-mount code at /var/task";
    case kStepRemountCode:
      return "remount /var/task read-only";
    case kStepBindRuntime:
      return "bind-mount the runtime at /var/runtime";
    case kStepBindAccounts:
      return "bind-mount /etc/passwd and /etc/group";
    case kStepMountTmp:
      return "mount /tmp";
    case kStepMountProc:
      return "mount /proc";
    case kStepMountShm:
      return "mount /dev/shm";
    case kStepFork:
      return "fork runtime";
    case kStepGroups:
      return "drop supplementary groups";
    case kStepGid:
      return "setgid";
    case kStepUid:
      return "setuid";
    case kStepChdir:
      return "chdir";
    case kStepExec:
      return "exec runtime";
    case kStepUnshare:
      return "create namespaces";
    case kStepExecInit:
      return "exec lambent-init";
  }
  return "unknown step";
}

int join_cgroup(const char* procs_file) {
  int fd = ::open(procs_file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return kStepCgroup;
  bool joined = ::write(fd, "0", 1) == 1;
  ::close(fd);
  return joined ? 0 : kStepCgroup;
}

int mount_sandbox(const MountPlan& plan) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kStepMountPrivate;
  if (::mount(plan.code_dir, kTaskRoot, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return kStepBindCode;
  }
  if (::mount(nullptr, kTaskRoot, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
              nullptr) != 0) {
    return kStepRemountCode;
  }
  if (plan.runtime_dir[0] != '\0' && bind_read_only(plan.runtime_dir, kRuntimeRoot) != 0) {
    return kStepBindRuntime;
  }
  // Each sandbox uid has an account, as AWS's sbx_user1051 does, so getpwuid() and
  // os.homedir() work for functions.
  if (plan.passwd_file[0] != '\0') {
    if (::mount(plan.passwd_file, "/etc/passwd", nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(plan.group_file, "/etc/group", nullptr, MS_BIND, nullptr) != 0) {
      return kStepBindAccounts;
    }
  }
  if (::mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, plan.tmp_options) != 0) {
    return kStepMountTmp;
  }
  // A private /dev/shm as well: the host's would let functions share files, and keep memory
  // after their environments end.
  if (::access("/dev/shm", F_OK) == 0 &&
      ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, plan.tmp_options) != 0) {
    return kStepMountShm;
  }
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return kStepMountProc;
  }
  static constexpr char kHostname[] = "lambent-sandbox";
  ::sethostname(kHostname, sizeof kHostname - 1);
  return 0;
}

int drop_credentials(uid_t uid, gid_t gid) {
  if (uid == 0) return 0;
  // Raw system calls: glibc's setuid/setgid/setgroups would signal the server's other threads,
  // which do not exist in this process, and wait for them forever.
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) return kStepGroups;
  if (::syscall(SYS_setgid, gid) != 0) return kStepGid;
  if (::syscall(SYS_setuid, uid) != 0) return kStepUid;
  // No exec from here on can gain privileges, through setuid binaries of the visible host
  // filesystem or file capabilities.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return kStepUid;
  return 0;
}

void set_runtime_limits(std::uint64_t address_space) {
  struct rlimit files {
    1024, 1024
  };
  ::setrlimit(RLIMIT_NOFILE, &files);
  struct rlimit core {
    0, 0
  };
  ::setrlimit(RLIMIT_CORE, &core);
  if (address_space != 0) {
    struct rlimit limit {
      address_space, address_space
    };
    ::setrlimit(RLIMIT_AS, &limit);
  }
}

void close_all_except(int keep_a, int keep_b, int keep_c) {
  int keep[3] = {keep_a, keep_b, keep_c};
  std::sort(keep, keep + 3);
  unsigned next = 3;
  for (int fd : keep) {
    if (fd < 3 || static_cast<unsigned>(fd) < next) continue;
    close_range_from(next, static_cast<unsigned>(fd) - 1);
    next = static_cast<unsigned>(fd) + 1;
  }
  close_range_from(next, ~0u);
}

}  // namespace lambent::sandbox
