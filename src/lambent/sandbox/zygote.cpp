#include "lambent/sandbox/zygote.h"

#include "lambent/base/log.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lambent::sandbox {

namespace {

constexpr int kControlFd = 3;  // the zygote's end of the control socket
constexpr std::size_t kMaxReplyBytes = 64 * 1024;

// Waits for a message until `timeout`, then receives it. Returns the bytes, or "" on
// end-of-file, a timeout or an error, with errno set to the cause (0 for end-of-file).
std::string receive(int socket, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      errno = ETIMEDOUT;
      return {};
    }
    pollfd wait_reply{socket, POLLIN, 0};
    int ready = ::poll(&wait_reply, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return {};
    if (ready == 0) continue;
    std::string buffer(kMaxReplyBytes, '\0');
    ssize_t n = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = 0;
      return {};
    }
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
}

std::int64_t int_field(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_int64()) return 0;
  return value->as_int64();
}

}  // namespace

Zygote::Zygote(std::vector<std::string> argv, std::vector<std::string> env)
    : argv_(std::move(argv)), env_(std::move(env)) {}

Zygote::~Zygote() { stop(); }

bool Zygote::running() {
  std::lock_guard lock(mutex_);
  return pid_ > 0;
}

pid_t Zygote::pid() {
  std::lock_guard lock(mutex_);
  return pid_;
}

Status Zygote::start(std::chrono::milliseconds start_timeout) {
  std::lock_guard lock(mutex_);
  if (pid_ > 0) {
    // A zygote that exited since the last request is reaped here and started again.
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return ok_status();
    LOG_WARN("sandbox", "zygote_exited", "pid={} status={}", pid_, status);
    pid_ = -1;
    ::close(socket_);
    socket_ = -1;
    reap_spare_locked();
  }

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return make_error(Errc::internal, std::string("socketpair failed: ") + std::strerror(errno));
  }
  std::vector<char*> argv;
  for (auto& arg : argv_) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = env_;
  env.push_back("LAMBENT_ZYGOTE_PARENT=" + std::to_string(::getpid()));
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  // posix_spawn (vfork and exec) is safe in a multithreaded process. dup2 onto descriptor 3
  // clears close-on-exec there; every other descriptor of the server is close-on-exec.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pair[1], kControlFd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(pair[1]);
  if (spawned != 0) {
    ::close(pair[0]);
    return make_error(Errc::internal, fmt::format("cannot start zygote {}: {}", argv_[0],
                                                  std::strerror(spawned)));
  }
  pid_ = pid;
  socket_ = pair[0];

  std::string ready = receive(socket_, start_timeout);
  boost::system::error_code ec;
  auto parsed = boost::json::parse(ready, ec);
  if (ready.empty() || ec || !parsed.is_object() || !parsed.as_object().contains("ready")) {
    int error = errno;
    stop_locked();
    return make_error(Errc::internal,
                      fmt::format("zygote {} did not become ready: {}", argv_[0],
                                  ready.empty() ? (error == 0 ? "it exited" : std::strerror(error))
                                                : "invalid ready message"));
  }
  LOG_INFO("sandbox", "zygote_started", "pid={} program=\"{}\"", pid_,
           argv_.size() > 1 ? argv_.back() : argv_[0]);
  return ok_status();
}

Result<boost::json::object> Zygote::exchange_locked(const std::string& request, int fd,
                                                    std::chrono::milliseconds reply_timeout) {
  if (pid_ <= 0) return make_error(Errc::internal, "zygote is not running");

  msghdr message{};
  iovec data{const_cast<char*>(request.data()), request.size()};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof(int));
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(socket_, &message, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(request.size())) {
    std::string reason = sent < 0 ? std::strerror(errno) : "short write";
    stop_locked();
    return make_error(Errc::internal, "sending a request to the zygote failed: " + reason);
  }

  std::string reply = receive(socket_, reply_timeout);
  int error = errno;
  boost::system::error_code ec;
  auto parsed = reply.empty() ? boost::json::value() : boost::json::parse(reply, ec);
  if (reply.empty() || ec || !parsed.is_object()) {
    stop_locked();
    return make_error(Errc::internal,
                      fmt::format("zygote sent no valid reply: {}",
                                  reply.empty() ? (error == 0 ? "it exited" : std::strerror(error))
                                                : "invalid JSON"));
  }
  auto& object = parsed.as_object();
  if (const auto* text = object.if_contains("error"); text && text->is_string()) {
    return make_error(Errc::internal,
                      "zygote rejected the request: " + std::string(text->as_string()));
  }
  return std::move(object);
}

Result<ZygoteReply> Zygote::spawn(const std::string& request, int output_fd,
                                  std::chrono::milliseconds reply_timeout) {
  std::lock_guard lock(mutex_);
  auto object = exchange_locked(request, output_fd, reply_timeout);
  // Whatever the outcome, the zygote has used up or dropped its spare.
  spare_pid_ = 0;
  if (!object) return std::move(object).error();
  ZygoteReply result;
  result.pid = static_cast<pid_t>(int_field(*object, "pid"));
  result.step = static_cast<int>(int_field(*object, "step"));
  result.error = static_cast<int>(int_field(*object, "errno"));
  if (result.step == 0 && result.pid <= 0) {
    return make_error(Errc::internal, "zygote reply names no process");
  }
  return result;
}

Result<pid_t> Zygote::prepare(const std::string& request) {
  std::lock_guard lock(mutex_);
  auto object = exchange_locked(request, -1, std::chrono::seconds(35));
  if (!object) return std::move(object).error();
  auto pid = static_cast<pid_t>(int_field(*object, "spare"));
  if (pid <= 0) return make_error(Errc::internal, "zygote reply names no spare");
  spare_pid_ = pid;
  return pid;
}

void Zygote::stop() {
  std::lock_guard lock(mutex_);
  stop_locked();
}

void Zygote::stop_locked() {
  if (socket_ >= 0) {
    ::close(socket_);
    socket_ = -1;
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  reap_spare_locked();
}

void Zygote::reap_spare_locked() {
  if (spare_pid_ <= 0) return;
  // The zygote is gone, so the spare's first child is the server's child now. It exits by
  // itself once it has reaped the spare's pid 1, which exits when the zygote's end of its
  // channel closes. A first child that takes longer than a second is killed.
  int status = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    pid_t done = ::waitpid(spare_pid_, &status, WNOHANG);
    if (done != 0) {
      spare_pid_ = 0;
      return;
    }
    ::usleep(10000);
  }
  ::kill(spare_pid_, SIGKILL);
  while (::waitpid(spare_pid_, &status, 0) < 0 && errno == EINTR) {
  }
  spare_pid_ = 0;
}

}  // namespace lambent::sandbox
