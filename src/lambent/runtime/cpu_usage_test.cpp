#include "lambent/runtime/cpu_usage.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace lambent::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Keeps this thread on the CPU for `duration` of wall time.
void burn(std::chrono::milliseconds duration) {
  auto until = Clock::now() + duration;
  volatile std::uint64_t sink = 0;
  while (Clock::now() < until) {
    for (int i = 0; i < 10000; ++i) sink = sink + static_cast<std::uint64_t>(i);
  }
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
  burn(std::chrono::milliseconds(300));
  auto after = read_process_tree_cpu_us(::getpid());
  ASSERT_TRUE(after.has_value());
  // 300 ms of wall time on the CPU, less whatever a busy host took away, in 10 ms ticks.
  EXPECT_GE(*after - *before, 150'000);
  EXPECT_LE(*after - *before, 1'000'000);
}

TEST(ProcessTreeCpu, CountsLiveAndReapedChildren) {
  // A child that burns about 300 ms of CPU, then sleeps until it is killed.
  const char* argv[] = {"/bin/sh", "-c",
                        "end=$(($(date +%s%N) + 300000000)); "
                        "while [ $(date +%s%N) -lt $end ]; do :; done; exec sleep 30",
                        nullptr};
  auto before = read_process_tree_cpu_us(::getpid());
  ASSERT_TRUE(before.has_value());
  pid_t child = 0;
  ASSERT_EQ(::posix_spawn(&child, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ),
            0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto live = read_process_tree_cpu_us(::getpid());
  auto child_only = read_process_tree_cpu_us(child);
  ::kill(child, SIGKILL);
  struct rusage usage {};
  int status = 0;
  ASSERT_EQ(::wait4(child, &status, 0, &usage), child);
  ASSERT_TRUE(live.has_value());
  ASSERT_TRUE(child_only.has_value());
  // The shell's loop runs `date` many times; their time is in the shell's cutime and cstime.
  EXPECT_GE(*child_only, 150'000);
  EXPECT_GE(*live - *before, *child_only);
  // The rusage of a reaped child counts the same time.
  EXPECT_GE(rusage_cpu_us(usage), 150'000);
  EXPECT_NEAR(static_cast<double>(rusage_cpu_us(usage)), static_cast<double>(*child_only), 100'000);
}

TEST(Rusage, AddsUserAndSystemTime) {
  struct rusage usage {};
  usage.ru_utime = {1, 250'000};
  usage.ru_stime = {0, 5};
  EXPECT_EQ(rusage_cpu_us(usage), 1'250'005);
}

}  // namespace
}  // namespace lambent::runtime
