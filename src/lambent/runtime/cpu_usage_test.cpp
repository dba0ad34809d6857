#include "lambent/runtime/cpu_usage.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

extern char** environ;

namespace lambent::runtime {
namespace {

// CPU time of this process so far, in microseconds.
std::int64_t process_cpu_us() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

// Keeps this thread on the CPU until the process has used `cpu_us` more CPU time, however
// long a busy host makes that take.
void burn(std::int64_t cpu_us) {
  std::int64_t until = process_cpu_us() + cpu_us;
  volatile std::uint64_t sink = 0;
  while (process_cpu_us() < until) {
    for (int i = 0; i < 10000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  }
}

// Own and reaped children's user and system time from getrusage, in microseconds.
std::int64_t rusage_self_and_children_us() {
  struct rusage self {};
  struct rusage children {};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return rusage_cpu_us(self) + rusage_cpu_us(children);
}

TEST(CpuStat, ParsesUsageUsec) {
  EXPECT_EQ(parse_cpu_stat_usage_us("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n"),
            123456);
  EXPECT_EQ(parse_cpu_stat_usage_us("user_usec 1\nusage_usec 42"), 42);
  EXPECT_EQ(parse_cpu_stat_usage_us("user_usec 1\n"), std::nullopt);
  EXPECT_EQ(parse_cpu_stat_usage_us("usage_usec x\n"), std::nullopt);
  EXPECT_EQ(parse_cpu_stat_usage_us(""), std::nullopt);
}

TEST(CpuStat, MissingCgroupGivesNothing) {
  EXPECT_EQ(read_cgroup_cpu_us(""), std::nullopt);
  EXPECT_EQ(read_cgroup_cpu_us("/nonexistent/cgroup"), std::nullopt);
}

TEST(ProcessTreeCpu, MissingProcessGivesNothing) {
  EXPECT_EQ(read_process_tree_cpu_us(0), std::nullopt);
  EXPECT_EQ(read_process_tree_cpu_us(-1), std::nullopt);
  // Above the kernel's pid_max (4194304 at most).
  EXPECT_EQ(read_process_tree_cpu_us(5'000'000), std::nullopt);
}

TEST(ProcessTreeCpu, CountsOwnTime) {
  auto before = read_process_tree_cpu_us(::getpid());
  ASSERT_TRUE(before.has_value());
  burn(300'000);
  auto after = read_process_tree_cpu_us(::getpid());
  std::int64_t reference = rusage_self_and_children_us();
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after - *before, 250'000);
  // /proc counts in 10 ms clock ticks, truncated in each of its four fields.
  EXPECT_NEAR(static_cast<double>(*after), static_cast<double>(reference), 50'000);
}

TEST(ProcessTreeCpu, CountsLiveChildren) {
  // A child that counts to 100000 in the shell, then execs sleep until it is killed.
  const char* argv[] = {
      "/bin/sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; exec sleep 30", nullptr};
  pid_t child = 0;
  ASSERT_EQ(::posix_spawn(&child, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ),
            0);
  // The loop has ended once the child runs sleep.
  std::string comm_path = "/proc/" + std::to_string(child) + "/comm";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string comm;
  while (comm != "sleep\n" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream file(comm_path);
    comm.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  auto child_only = read_process_tree_cpu_us(child);
  auto own_only = rusage_self_and_children_us();
  auto with_child = read_process_tree_cpu_us(::getpid());
  ::kill(child, SIGKILL);
  struct rusage usage {};
  int status = 0;
  ASSERT_EQ(::wait4(child, &status, 0, &usage), child);
  ASSERT_EQ(comm, "sleep\n");
  ASSERT_TRUE(child_only.has_value());
  ASSERT_TRUE(with_child.has_value());

  EXPECT_GE(*child_only, 20'000);
  // The tree of this process includes the live child.
  EXPECT_GE(*with_child + 50'000, own_only + *child_only);
  // The rusage of the reaped child counts the same time.
  EXPECT_NEAR(static_cast<double>(rusage_cpu_us(usage)), static_cast<double>(*child_only), 20'000);
}

TEST(Rusage, AddsUserAndSystemTime) {
  struct rusage usage {};
  usage.ru_utime = {1, 250'000};
  usage.ru_stime = {0, 5};
  EXPECT_EQ(rusage_cpu_us(usage), 1'250'005);
}

}  // namespace
}  // namespace lambent::runtime
