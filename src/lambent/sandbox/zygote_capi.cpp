// C functions for the Python zygote, which loads them with ctypes from liblambent_zygote.so.
// Python 3.11 has no os.unshare or os.mount, and these share the exec path's code, so both
// paths isolate an environment the same way. Each returns 0 or an errno value; the ones that
// can fail at several steps store the Step in *step.
#include "lambent/sandbox/isolation.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

using namespace lambent::sandbox;

extern "C" {

__attribute__((visibility("default"))) int lambent_join_cgroup(const char* procs_file) {
  return join_cgroup(procs_file) == 0 ? 0 : errno;
}

// New mount, PID, IPC and UTS namespaces. The caller's next child is pid 1 of the new PID
// namespace; the caller itself stays in the old one.
__attribute__((visibility("default"))) int lambent_unshare_namespaces() {
  return ::unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) == 0 ? 0 : errno;
}

__attribute__((visibility("default"))) int lambent_mount_sandbox(
    const char* code_dir, const char* runtime_dir, const char* passwd_file,
    const char* group_file, const char* tmp_options, int* step) {
  MountPlan plan{.code_dir = code_dir,
                 .runtime_dir = runtime_dir,
                 .passwd_file = passwd_file,
                 .group_file = group_file,
                 .tmp_options = tmp_options};
  *step = mount_sandbox(plan);
  return *step == 0 ? 0 : errno;
}

__attribute__((visibility("default"))) int lambent_drop_credentials(unsigned uid, unsigned gid,
                                                                    int* step) {
  *step = drop_credentials(uid, gid);
  return *step == 0 ? 0 : errno;
}

__attribute__((visibility("default"))) void lambent_set_runtime_limits(
    unsigned long long address_space) {
  set_runtime_limits(address_space);
}

__attribute__((visibility("default"))) void lambent_close_all_except(int keep) {
  close_all_except(keep, keep);
}

// Replaces the calling process, pid 1 of an environment, with lambent-init, which reaps
// orphans and exits with the status of runtime_pid. Returns only on failure.
__attribute__((visibility("default"))) int lambent_exec_init(int init_fd, const char* init_path,
                                                             int runtime_pid) {
  char pid_text[16];
  char* digits = pid_text + sizeof pid_text - 1;
  *digits = '\0';
  for (int rest = runtime_pid; rest > 0; rest /= 10) *--digits = static_cast<char>('0' + rest % 10);
  char* argv[] = {const_cast<char*>(init_path), digits, nullptr};
  char* envp[] = {nullptr};
  // By descriptor: the private /tmp mount may cover the program's path.
  ::syscall(SYS_execveat, init_fd, "", argv, envp, AT_EMPTY_PATH);
  return errno;
}

// Asks for SIGKILL when the parent exits, so a zygote never outlives the server. Returns
// ESRCH when the parent is already gone (it is no longer expected_parent).
__attribute__((visibility("default"))) int lambent_die_with_parent(int expected_parent) {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return errno;
  return ::getppid() == expected_parent ? 0 : ESRCH;
}

}  // extern "C"
