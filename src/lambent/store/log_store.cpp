#include "lambent/store/log_store.h"

#include <algorithm>
#include <fstream>

namespace lambent::store {

namespace fs = std::filesystem;

LogStream::~LogStream() {
  if (file_) std::fclose(file_);
}

void LogStream::append(std::int64_t timestamp_ms, std::string_view message) {
  if (!file_) return;
  std::fprintf(file_, "%lld\t", static_cast<long long>(timestamp_ms));
  // Write runs between newlines whole; each newline inside the message is stored as '\r'.
  std::size_t start = 0;
  for (;;) {
    std::size_t newline = message.find('\n', start);
    std::size_t end = newline == std::string_view::npos ? message.size() : newline;
    std::fwrite(message.data() + start, 1, end - start, file_);
    if (newline == std::string_view::npos) break;
    std::fputc('\r', file_);
    start = newline + 1;
  }
  std::fputc('\n', file_);
}

void LogStream::flush() {
  if (file_) std::fflush(file_);
}

std::unique_ptr<LogStream> LogStore::open_stream(std::string_view function_name,
                                                 std::string_view stream_name) {
  fs::path path = root_ / std::string(function_name) / (std::string(stream_name) + ".log");
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (!file) return nullptr;
  return std::make_unique<LogStream>(file, std::string(stream_name));
}

std::vector<LogEvent> LogStore::read(std::string_view function_name, std::int64_t since_ms,
                                     std::size_t limit) const {
  std::vector<LogEvent> events;
  fs::path dir = root_ / std::string(function_name);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return events;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".log") continue;
    std::string stream = fs::relative(it->path(), dir).replace_extension().string();
    std::ifstream in(it->path());
    std::string line;
    while (std::getline(in, line)) {
      auto tab = line.find('\t');
      if (tab == std::string::npos) continue;
      std::int64_t ts = 0;
      try {
        ts = std::stoll(line.substr(0, tab));
      } catch (const std::exception&) {
        continue;
      }
      if (ts < since_ms) continue;
      std::string message = line.substr(tab + 1);
      std::replace(message.begin(), message.end(), '\r', '\n');
      events.push_back({ts, stream, std::move(message)});
    }
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const LogEvent& a, const LogEvent& b) { return a.timestamp_ms < b.timestamp_ms; });
  if (events.size() > limit) events.erase(events.begin(), events.end() - static_cast<long>(limit));
  return events;
}

bool LogStore::has_function(std::string_view function_name) const {
  std::error_code ec;
  return fs::is_directory(root_ / std::string(function_name), ec);
}

void LogStore::remove_function(std::string_view function_name) {
  std::error_code ec;
  fs::remove_all(root_ / std::string(function_name), ec);
}

}  // namespace lambent::store
