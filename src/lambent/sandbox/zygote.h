#pragma once

#include "lambent/base/result.h"

#include <boost/json/object.hpp>

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

// A zygote: a pre-started runtime process that forks execution environments on request over
// a Unix socket (runtimes/python/lambent_runtime/zygote.py describes its side). The server
// owns the process: the zygote dies with it (PR_SET_PDEATHSIG) and is killed and reaped by
// stop() or the destructor.
//
// start() and spawn() block (process start, fork and set-up of an environment): call them
// from a worker thread. Every member is thread-safe; requests are served one at a time.
namespace lambent::sandbox {

// The zygote's reply to a spawn request.
struct ZygoteReply {
  pid_t pid = 0;  // pid 1 of the environment in the server's PID namespace; 0 when none
  int step = 0;   // the Step that failed, or 0 on success
  int error = 0;  // errno of the failed step
};

class Zygote {
 public:
  // argv[0] is the interpreter's absolute path; env is the zygote's whole environment.
  Zygote(std::vector<std::string> argv, std::vector<std::string> env);
  ~Zygote();
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Starts the process, if it is not running, and waits up to start_timeout for its ready
  // message. Fails with Errc::internal when it cannot start; the caller logs the error.
  Status start(std::chrono::milliseconds start_timeout = std::chrono::seconds(10));

  // Sends a spawn request (a JSON object) with output_fd, the write end of the environment's
  // output pipe, attached. Fails with Errc::internal when the zygote is not running, dies or
  // sends no valid reply within reply_timeout. The zygote is then stopped, so the next call to
  // start() starts a new one.
  Result<ZygoteReply> spawn(const std::string& request, int output_fd,
                            std::chrono::milliseconds reply_timeout = std::chrono::seconds(35));

  // Asks the zygote to fork a spare for the next spawn: a child that joins the cgroups and
  // creates the namespaces a prepare request names ({"kind":"prepare",...}) ahead of time.
  // A later spawn request with "spare": true hands its environment to that spare. Returns the
  // pid of the spare's first child; fails like spawn().
  Result<pid_t> prepare(const std::string& request);

  // Kills and reaps the process and its spare. Idempotent.
  void stop();

  bool running();
  pid_t pid();

 private:
  void stop_locked();
  void reap_spare_locked();
  Result<boost::json::object> exchange_locked(const std::string& request, int fd,
                                              std::chrono::milliseconds reply_timeout);

  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::mutex mutex_;
  pid_t pid_ = -1;
  int socket_ = -1;
  // The first child of the spare forked by the last prepare(), until a spawn uses it. It is
  // the zygote's child, and becomes the server's (a child subreaper) when the zygote dies, so
  // stop() reaps it.
  pid_t spare_pid_ = 0;
};

}  // namespace lambent::sandbox
