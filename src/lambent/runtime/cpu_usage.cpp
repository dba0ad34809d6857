#include "lambent/runtime/cpu_usage.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace lambent::runtime {

namespace {

// Processes visited per tree at most; an environment's pids cgroup allows 1024.
constexpr std::size_t kMaxTreeProcesses = 4096;

// Reads a small pseudo-file whole; empty when it cannot be opened.
std::string read_small_file(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

struct ProcessTimes {
  pid_t parent = 0;
  std::int64_t ticks = 0;  // utime + stime + cutime + cstime
};

// Fields of /proc/PID/stat after the command name, which is in parentheses and may itself
// contain spaces and parentheses: state is field 3, ppid 4, utime 14 to cstime 17.
std::optional<ProcessTimes> read_process_times(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::string text = read_small_file(path);
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::string_view rest(text);
  rest.remove_prefix(close_paren + 1);
  ProcessTimes times;
  int field = 2;
  while (!rest.empty() && field < 17) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    auto end = rest.find(' ');
    std::string_view token = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    ++field;
    if (field == 4 || (field >= 14 && field <= 17)) {
      auto value = parse_int(token);
      if (!value) return std::nullopt;
      if (field == 4) {
        times.parent = static_cast<pid_t>(*value);
      } else {
        times.ticks += *value;
      }
    }
  }
  if (field < 17) return std::nullopt;
  return times;
}

// Appends (child, pid) for each pid listed in /proc/PID/task/*/children.
void append_children(pid_t pid, std::vector<std::pair<pid_t, pid_t>>& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  DIR* tasks = ::opendir(path);
  if (!tasks) return;
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    char children_path[96];
    std::snprintf(children_path, sizeof children_path, "/proc/%d/task/%s/children",
                  static_cast<int>(pid), entry->d_name);
    std::string text = read_small_file(children_path);
    std::string_view rest(text);
    while (!rest.empty()) {
      auto end = rest.find(' ');
      if (auto child = parse_int(rest.substr(0, end)); child && *child > 0) {
        out.emplace_back(static_cast<pid_t>(*child), pid);
      }
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
  }
  ::closedir(tasks);
}

}  // namespace

std::optional<std::int64_t> parse_cpu_stat_usage_us(std::string_view text) {
  constexpr std::string_view kKey = "usage_usec ";
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    std::string_view line = text.substr(at, end == std::string_view::npos ? end : end - at);
    if (line.starts_with(kKey)) return parse_int(line.substr(kKey.size()));
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return std::nullopt;
}

std::optional<std::int64_t> read_cgroup_cpu_us(const std::filesystem::path& cgroup_dir) {
  if (cgroup_dir.empty()) return std::nullopt;
  std::string text = read_small_file((cgroup_dir / "cpu.stat").c_str());
  return parse_cpu_stat_usage_us(text);
}

std::optional<std::int64_t> read_process_tree_cpu_us(pid_t root) {
  if (root <= 0) return std::nullopt;
  auto root_times = read_process_times(root);
  if (!root_times) return std::nullopt;
  std::int64_t ticks = root_times->ticks;
  std::vector<pid_t> parents{root};
  std::vector<std::pair<pid_t, pid_t>> children;  // (child, parent)
  std::size_t visited = 1;
  while (!parents.empty() && visited < kMaxTreeProcesses) {
    children.clear();
    for (pid_t parent : parents) append_children(parent, children);
    parents.clear();
    for (auto [child, parent] : children) {
      if (visited >= kMaxTreeProcesses) break;
      auto times = read_process_times(child);
      // A pid that ended between the two reads may name another process by now.
      if (!times || times->parent != parent) continue;
      ticks += times->ticks;
      parents.push_back(child);
      ++visited;
    }
  }
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  return ticks * 1'000'000 / (ticks_per_second > 0 ? ticks_per_second : 100);
}

std::int64_t rusage_cpu_us(const struct rusage& usage) {
  auto micros = [](const timeval& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000 + t.tv_usec;
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

}  // namespace lambent::runtime
