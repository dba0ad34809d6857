#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

// Reading the CPU time used by an execution environment's processes. Every function here
// reads files under /proc or /sys/fs/cgroup, which are in memory, so a call takes
// microseconds. All are thread-safe.
namespace lambent::runtime {

// usage_usec of a cgroup v2 cpu.stat file's text, or nullopt when it has none.
std::optional<std::int64_t> parse_cpu_stat_usage_us(std::string_view text);

// usage_usec of `cgroup_dir`/cpu.stat. Every cgroup v2 directory has the file; cgroup v1
// memory and pids directories do not, and give nullopt.
std::optional<std::int64_t> read_cgroup_cpu_us(const std::filesystem::path& cgroup_dir);

// User plus system time of the process tree under `root`, in microseconds: each live process's
// own time and the time of the children it has reaped (utime, stime, cutime and cstime of
// /proc/PID/stat). The resolution is one clock tick (10 ms with USER_HZ 100). nullopt when
// `root` does not exist. Time of a process that ended without being reaped by a member of the
// tree is not counted.
std::optional<std::int64_t> read_process_tree_cpu_us(pid_t root);

// User plus system time of a rusage, in microseconds.
std::int64_t rusage_cpu_us(const struct rusage& usage);

}  // namespace lambent::runtime
