// lambent-init: pid 1 of an execution environment's PID namespace.
//
// The sandbox starts the runtime process, then replaces itself (a copy of the whole server)
// with this small program, so an idle environment does not keep a private copy of the
// server's memory. It reaps every process that exits in the namespace and exits with the
// runtime's status, or 128 + the signal number when a signal ended the runtime. Outside a PID
// namespace (rlimit-only mode) it is a child subreaper, so it still reaps the runtime's orphans.
//
//   lambent-init RUNTIME_PID
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 2) return 127;
  char* end = nullptr;
  long runtime = std::strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || runtime <= 0) return 127;
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(-1, &status, 0);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return 127;
    if (done == runtime) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
  }
}
