#include "lambent/sandbox/spawner.h"

#include <gtest/gtest.h>

#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace lambent::sandbox {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Upper bound for reading a child's output and for waiting for its exit.
constexpr auto kChildLimit = 10s;
constexpr std::string_view kCodeFile = "handler.txt";
constexpr std::string_view kCodeText = "code file contents\n";

struct Finished {
  std::string output;
  std::optional<int> exit_status;  // init's exit status; nullopt when it was killed by a signal
  int term_signal = 0;
  bool timed_out = false;
};

// Every test here needs root, because the spawner only isolates (namespaces, bind mounts,
// cgroups, uid switch) when it runs as root.
class SpawnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: the spawner only creates namespaces, mounts and cgroups as "
                      "root, and falls back to rlimits otherwise";
    }
    summary_ = spawner_.probe();
    if (spawner_.isolation() != Isolation::full) {
      GTEST_SKIP() << "this host does not allow namespaces: " << summary_;
    }

    std::string pattern = (fs::temp_directory_path() / "lambent-spawner-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = pattern;
    code_dir_ = base_ / "code";
    runtime_dir_ = base_ / "runtime";
    fs::create_directories(code_dir_);
    fs::create_directories(runtime_dir_);
    std::ofstream(code_dir_ / std::string(kCodeFile)) << kCodeText;
    std::ofstream(runtime_dir_ / "bootstrap.txt") << "runtime file\n";
    // The function's uid must be able to traverse and read what is mounted for it.
    for (const auto& path : {base_, code_dir_, runtime_dir_}) fs::permissions(path, fs::perms(0755));
    fs::permissions(code_dir_ / std::string(kCodeFile), fs::perms(0644));
    fs::permissions(runtime_dir_ / "bootstrap.txt", fs::perms(0644));
  }

  void TearDown() override {
    if (child_) {
      if (child_->pid > 0) {
        Spawner::kill_tree(child_->pid);
        int status = 0;
        ::waitpid(child_->pid, &status, 0);
      }
      if (child_->output_fd >= 0) ::close(child_->output_fd);
      spawner_.cleanup(*child_);
      child_.reset();
    }
    if (!base_.empty()) {
      std::error_code ec;
      fs::remove_all(base_, ec);
    }
  }

  SpawnSpec shell_spec(const std::string& script) {
    static int counter = 0;
    SpawnSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "GREETING=hello from env"};
    spec.code_dir = code_dir_;
    spec.env_id = "spawner-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    spec.memory_limit_bytes = 128ull << 20;
    spec.tmp_size_bytes = 16ull << 20;
    spec.uid = spawner_.acquire_uid();
    return spec;
  }

  // Spawns `spec` and keeps the child for TearDown to clean up.
  bool start(const SpawnSpec& spec) {
    auto child = spawner_.spawn(spec);
    EXPECT_TRUE(child.ok()) << (child.ok() ? "" : child.error().message);
    if (!child.ok()) return false;
    child_ = *child;
    EXPECT_GT(child_->pid, 0);
    EXPECT_GE(child_->output_fd, 0);
    return true;
  }

  // Reads output until `marker` appears or the pipe closes, bounded by kChildLimit.
  std::string read_until(std::string_view marker) {
    std::string out;
    auto deadline = Clock::now() + kChildLimit;
    while (out.find(marker) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) break;
      pollfd p{child_->output_fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[4096];
      ssize_t n = ::read(child_->output_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

  // Reads all output to EOF, then reaps the init. Kills the tree if either takes longer than
  // kChildLimit.
  Finished finish() {
    Finished result;
    auto deadline = Clock::now() + kChildLimit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        result.timed_out = true;
        break;
      }
      pollfd p{child_->output_fd, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(left.count()));
      if (ready <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(child_->output_fd, buffer, sizeof buffer);
      if (n <= 0) break;
      result.output.append(buffer, static_cast<std::size_t>(n));
    }
    int status = 0;
    for (;;) {
      pid_t done = ::waitpid(child_->pid, &status, WNOHANG);
      if (done == child_->pid) break;
      if (done < 0) {
        ADD_FAILURE() << "waitpid failed: " << std::strerror(errno);
        break;
      }
      if (Clock::now() > deadline) {
        result.timed_out = true;
        Spawner::kill_tree(child_->pid);
        ::waitpid(child_->pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
    child_->pid = -1;  // reaped
    if (WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
    return result;
  }

  Finished run(const std::string& script) {
    if (!start(shell_spec(script))) return {};
    return finish();
  }

  Spawner spawner_{SpawnerOptions{}};
  std::string summary_;
  fs::path base_;
  fs::path code_dir_;
  fs::path runtime_dir_;
  std::optional<Child> child_;
};

TEST_F(SpawnerTest, RuntimeIsPid2UnderInit) {
  Finished r = run("echo pid=$$ ppid=$PPID; cut -d' ' -f1 /proc/self/stat; ls /proc | grep -c '^[0-9]'");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 0);
  // The shell is pid 2 and its parent is the init (pid 1). `cut` is a child of the shell. The
  // namespace's /proc lists only these few processes.
  EXPECT_TRUE(r.output.starts_with("pid=2 ppid=1\n3\n")) << r.output;
  std::string count = r.output.substr(r.output.rfind('\n', r.output.size() - 2) + 1);
  EXPECT_LE(std::stoi(count), 5) << r.output;
}

TEST_F(SpawnerTest, RunsAsUnprivilegedUid) {
  Finished r = run("id -u; id -g; id -G");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 0);
  // Each environment gets its own uid (and a gid of the same number) from 60000 up.
  std::istringstream ids(r.output);
  long uid = -1, gid = -1, groups = -1;
  ids >> uid >> gid >> groups;
  EXPECT_GE(uid, 60000) << r.output;
  EXPECT_LT(uid, 65000) << r.output;
  EXPECT_EQ(gid, uid) << r.output;
  EXPECT_EQ(groups, uid) << r.output;
}

TEST_F(SpawnerTest, AcquiredUidsAreDistinct) {
  uid_t first = spawner_.acquire_uid();
  uid_t second = spawner_.acquire_uid();
  EXPECT_NE(first, second);
  spawner_.release_uid(first);
  spawner_.release_uid(second);
}

TEST_F(SpawnerTest, PassesEnvironmentAndStartsInTaskRoot) {
  Finished r = run("echo \"$GREETING\"; pwd");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.output, "hello from env\n/var/task\n");
  EXPECT_EQ(spawner_.task_root(shell_spec("")), fs::path("/var/task"));
}

TEST_F(SpawnerTest, TaskRootIsReadOnlyAndReadable) {
  Finished r = run(
      "cat /var/task/handler.txt; "
      "grep ' /var/task ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1; "
      "if echo x > /var/task/new.txt; then echo write=ok; else echo write=denied; fi");
  ASSERT_FALSE(r.timed_out);
  EXPECT_TRUE(r.output.starts_with(std::string(kCodeText) + "ro\n")) << r.output;
  // The shell reports EROFS from the mount, not EACCES from file permissions.
  EXPECT_NE(r.output.find("/var/task/new.txt: Read-only file system\n"), std::string::npos)
      << r.output;
  EXPECT_TRUE(r.output.ends_with("write=denied\n")) << r.output;
  EXPECT_FALSE(fs::exists(code_dir_ / "new.txt"));
}

TEST_F(SpawnerTest, RuntimeDirMountedReadOnly) {
  SpawnSpec spec = shell_spec(
      "cat /var/runtime/bootstrap.txt; "
      "grep ' /var/runtime ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1");
  spec.runtime_dir = runtime_dir_;
  ASSERT_TRUE(start(spec));
  Finished r = finish();
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.output, "runtime file\nro\n");
  EXPECT_EQ(spawner_.runtime_root(spec), fs::path("/var/runtime"));
}

TEST_F(SpawnerTest, TmpIsPrivateEmptyAndWritable) {
  fs::path host_marker = fs::path("/tmp") / ("lambent-host-marker-" + std::to_string(::getpid()));
  std::ofstream(host_marker) << "host";
  const std::string inside_name = "lambent-sandbox-file-" + std::to_string(::getpid());

  Finished r = run("ls -A /tmp | wc -l; "
                   "test -e " + host_marker.string() + " && echo marker=visible || echo marker=hidden; "
                   "echo data > /tmp/" + inside_name + " && cat /tmp/" + inside_name + "; "
                   "grep ' /tmp ' /proc/self/mounts | cut -d' ' -f3");
  fs::remove(host_marker);

  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.output, "0\nmarker=hidden\ndata\ntmpfs\n");
  EXPECT_FALSE(fs::exists(fs::path("/tmp") / inside_name));
}

TEST_F(SpawnerTest, HostnameIsSandbox) {
  Finished r = run("cat /proc/sys/kernel/hostname");
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.output, "lambent-sandbox\n");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_STRNE(host, "lambent-sandbox");
}

TEST_F(SpawnerTest, InitExitsWithRuntimeStatus) {
  Finished r = run("exit 7");
  ASSERT_FALSE(r.timed_out);
  ASSERT_TRUE(r.exit_status.has_value()) << "signal " << r.term_signal;
  EXPECT_EQ(*r.exit_status, 7);
}

TEST_F(SpawnerTest, InitReportsSignalAs128Plus) {
  Finished r = run("kill -SEGV $$");
  ASSERT_FALSE(r.timed_out);
  ASSERT_TRUE(r.exit_status.has_value()) << "signal " << r.term_signal;
  EXPECT_EQ(*r.exit_status, 128 + SIGSEGV);
}

TEST_F(SpawnerTest, KillTreeKillsSleepingTree) {
  ASSERT_TRUE(start(shell_spec("sleep 30 & sleep 30 & echo started; wait")));
  std::string started = read_until("started\n");
  ASSERT_EQ(started, "started\n");

  auto before = Clock::now();
  Spawner::kill_tree(child_->pid);
  // finish() reads to EOF, which needs every process holding the pipe (both sleeps) gone.
  Finished r = finish();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - before);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.exit_status.has_value());
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_LT(took.count(), 5000);
}

TEST_F(SpawnerTest, SpawnFailureNamesTheStep) {
  SpawnSpec spec = shell_spec("");
  spec.code_dir = base_ / "missing-code";
  auto child = spawner_.spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().code, Errc::io);
  EXPECT_EQ(child.error().message, "environment " + spec.env_id +
                                       " failed to bind-mount code at /var/task: No such file or "
                                       "directory");
}

TEST_F(SpawnerTest, MissingEntryPointIsInvalidEntrypoint) {
  SpawnSpec spec = shell_spec("");
  spec.argv = {"/nonexistent/runtime"};
  auto child = spawner_.spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().code, Errc::invalid_parameter);
  EXPECT_EQ(child.error().type, "Runtime.InvalidEntrypoint");
  EXPECT_EQ(child.error().message, "fork/exec /nonexistent/runtime: no such file or directory");
}

TEST_F(SpawnerTest, MemoryLimitOomKills) {
  if (!spawner_.memory_limits()) GTEST_SKIP() << "no memory cgroup: " << summary_;
  SpawnSpec spec = shell_spec("dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; "
                              "echo dd_status=$?");
  spec.memory_limit_bytes = 64ull << 20;
  ASSERT_TRUE(start(spec));
  Finished r = finish();
  ASSERT_FALSE(r.timed_out);
  // dd is killed (SIGKILL: status 137 in the shell), the shell itself survives.
  EXPECT_EQ(r.output, "dd_status=137\n");
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_TRUE(spawner_.oom_killed(*child_));
  EXPECT_GT(spawner_.peak_memory_bytes(*child_), 32ull << 20);
  EXPECT_LE(spawner_.peak_memory_bytes(*child_), 64ull << 20);
}

TEST_F(SpawnerTest, NoOomWithinLimit) {
  if (!spawner_.memory_limits()) GTEST_SKIP() << "no memory cgroup: " << summary_;
  SpawnSpec spec = shell_spec("dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null; "
                              "echo dd_status=$?");
  spec.memory_limit_bytes = 64ull << 20;
  ASSERT_TRUE(start(spec));
  Finished r = finish();
  EXPECT_EQ(r.output, "dd_status=0\n");
  EXPECT_FALSE(spawner_.oom_killed(*child_));
}

TEST_F(SpawnerTest, CleanupRemovesCgroup) {
  if (!spawner_.memory_limits()) GTEST_SKIP() << "no memory cgroup: " << summary_;
  ASSERT_TRUE(start(shell_spec("true")));
  ASSERT_FALSE(child_->cgroup.empty());
  std::string first_dir = child_->cgroup.substr(0, child_->cgroup.find('\n'));
  EXPECT_TRUE(fs::is_directory(first_dir)) << first_dir;
  Finished r = finish();
  EXPECT_EQ(r.exit_status, 0);
  spawner_.cleanup(*child_);
  EXPECT_FALSE(fs::exists(first_dir)) << first_dir;
}


TEST(LoopbackPeerUid, FindsConnectedSocketOwner) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::uint16_t server_port = ntohs(address.sin_port);

  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(client, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  sockaddr_in local{};
  length = sizeof local;
  ASSERT_EQ(::getsockname(client, reinterpret_cast<sockaddr*>(&local), &length), 0);
  std::uint16_t client_port = ntohs(local.sin_port);

  EXPECT_EQ(loopback_peer_uid(client_port, server_port), std::optional<uid_t>(::geteuid()));
  EXPECT_EQ(loopback_peer_uid(client_port, static_cast<std::uint16_t>(server_port + 1)),
            std::nullopt);
  ::close(client);
  ::close(listener);
}

// ---- the Python zygote path ----

// The build copies runtimes/ and builds liblambent_zygote.so next to this test program.
fs::path build_dir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

std::vector<std::string> zygote_command() {
  return {"/usr/bin/python3", "-u", (build_dir() / "runtimes" / "python" / "zygote.py").string()};
}

class ZygoteSpawnTest : public SpawnerTest {
 protected:
  void SetUp() override {
    SpawnerTest::SetUp();
    if (IsSkipped()) return;
    if (!fs::exists(zygote_command()[2]) || !fs::exists(build_dir() / "liblambent_zygote.so")) {
      GTEST_SKIP() << "build the lambent_runtimes and lambent_zygote targets first";
    }
  }

  // An environment whose handler module runs `module_code` when the runtime imports it.
  SpawnSpec python_spec(const std::string& module_code) {
    std::ofstream(code_dir_ / "app.py") << module_code;
    fs::permissions(code_dir_ / "app.py", fs::perms(0644));
    SpawnSpec spec = shell_spec("");
    spec.argv = {"/usr/bin/python3", "-u", "/var/runtime/python/bootstrap.py"};
    // Port 1 on loopback refuses connections; the tests' modules exit before connecting.
    spec.env = {"PATH=/usr/bin:/bin", "_HANDLER=app.handler", "LAMBDA_TASK_ROOT=/var/task",
                "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1", "GREETING=hello from env"};
    spec.runtime_dir = build_dir() / "runtimes";
    spec.zygote_argv = zygote_command();
    return spec;
  }
};

constexpr std::string_view kSandboxFacts =
    "import os, socket, sys\n"
    "print('zygote', 'lambent_runtime.zygote' in sys.modules)\n"
    "print('pid', os.getpid(), os.getppid())\n"
    "print('uid', os.getuid(), os.getgid(), os.getgroups())\n"
    "print('host', socket.gethostname())\n"
    "print('tmp', os.listdir('/tmp'))\n"
    "print('cwd', os.getcwd(), os.environ['GREETING'])\n"
    "print('fds', sorted(os.listdir('/proc/self/fd')))\n"
    "print('argv', sys.argv)\n"
    "try:\n"
    "    open('/var/task/new.txt', 'w')\n"
    "except OSError as exc:\n"
    "    print('task', exc.errno)\n"
    "os._exit(7)\n";

TEST_F(ZygoteSpawnTest, RuntimeRunsIsolated) {
  ASSERT_TRUE(start(python_spec(std::string(kSandboxFacts))));
  Finished r = finish();
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 7) << r.output;
  EXPECT_NE(r.output.find("zygote True\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pid 2 1\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("host lambent-sandbox\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tmp []\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cwd /var/task hello from env\n"), std::string::npos) << r.output;
  // stdin, the shared stdout/stderr pipe, and listdir's own descriptor.
  EXPECT_NE(r.output.find("fds ['0', '1', '2', '3']\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("argv ['/var/runtime/python/bootstrap.py']\n"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("task 30\n"), std::string::npos) << r.output;  // EROFS
  std::size_t at = r.output.find("uid ");
  ASSERT_NE(at, std::string::npos) << r.output;
  std::istringstream ids(r.output.substr(at + 4));
  long uid = -1, gid = -1;
  ids >> uid >> gid;
  EXPECT_GE(uid, 60000);
  EXPECT_EQ(gid, uid);
  EXPECT_EQ(r.output.find(" []\n", at), r.output.find('\n', at) - 3) << "supplementary groups: " << r.output;
}

TEST_F(ZygoteSpawnTest, SignalExitIs128Plus) {
  ASSERT_TRUE(start(python_spec("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")));
  Finished r = finish();
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 128 + SIGKILL) << r.output;
}

TEST_F(ZygoteSpawnTest, FailureNamesTheStep) {
  SpawnSpec spec = python_spec("");
  spec.code_dir = base_ / "missing-code";
  auto child = spawner_.spawn(spec);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.error().code, Errc::io);
  EXPECT_EQ(child.error().message, "environment " + spec.env_id +
                                       " failed to bind-mount code at /var/task: No such file or "
                                       "directory");
}

TEST_F(ZygoteSpawnTest, MissingZygoteFallsBackToExec) {
  SpawnSpec spec = shell_spec("echo \"$GREETING\"");
  spec.zygote_argv = {"/nonexistent/python3", "zygote.py"};
  ASSERT_TRUE(start(spec));
  Finished r = finish();
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.output, "hello from env\n");
}

TEST_F(ZygoteSpawnTest, RandomStateDiffersBetweenChildren) {
  std::string code = "import random, uuid\nprint(random.random(), uuid.uuid4())\n";
  ASSERT_TRUE(start(python_spec(code)));
  Finished first = finish();
  ASSERT_TRUE(start(python_spec(code)));
  Finished second = finish();
  EXPECT_FALSE(first.output.empty());
  EXPECT_NE(first.output, second.output);
}

TEST(Zygote, MissingProgramFailsToStart) {
  Zygote zygote({"/nonexistent/python3", "zygote.py"}, {});
  auto started = zygote.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, Errc::internal);
  EXPECT_FALSE(zygote.running());
}

TEST(Zygote, StartsAgainAfterKill) {
  if (!fs::exists(zygote_command()[2]) || !fs::exists(build_dir() / "liblambent_zygote.so")) {
    GTEST_SKIP() << "build the lambent_runtimes and lambent_zygote targets first";
  }
  Zygote zygote(zygote_command(),
                {"LAMBENT_ZYGOTE_LIBRARY=" + (build_dir() / "liblambent_zygote.so").string()});
  ASSERT_TRUE(zygote.start().ok());
  pid_t first = zygote.pid();
  ASSERT_GT(first, 0);

  ::kill(first, SIGKILL);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  auto reply = zygote.spawn("{}", pipe_fds[1]);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::internal);
  EXPECT_FALSE(zygote.running());

  ASSERT_TRUE(zygote.start().ok());
  EXPECT_NE(zygote.pid(), first);
  EXPECT_TRUE(zygote.running());
}

}  // namespace
}  // namespace lambent::sandbox
