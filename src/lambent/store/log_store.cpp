#include "lambent/store/log_store.h"

#include "lambent/base/utf8.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <utility>

namespace lambent::store {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;
constexpr std::string_view kSuffix = ".log";

// Calls visit(path) for each regular file under `dir`. The retention sweep may remove a date
// directory during the walk; that directory is skipped and the walk goes on. A
// recursive_directory_iterator would stop at that first error.
template <typename Visit>
void for_each_file(const fs::path& dir, Visit&& visit) {
  std::vector<fs::path> pending{dir};
  while (!pending.empty()) {
    fs::path current = std::move(pending.back());
    pending.pop_back();
    std::error_code ec;
    for (auto it = fs::directory_iterator(current, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::error_code type_ec;
      auto status = it->symlink_status(type_ec);
      if (type_ec) continue;
      if (fs::is_directory(status)) {
        pending.push_back(it->path());
      } else if (fs::is_regular_file(status)) {
        visit(it->path());
      }
    }
  }
}

// Parses "<ms>\t<message>" (without the newline). False for a malformed line.
bool parse_line(std::string_view line, std::int64_t& timestamp, std::string_view& message) {
  auto tab = line.find('\t');
  if (tab == std::string_view::npos || tab == 0) return false;
  auto [end, ec] = std::from_chars(line.data(), line.data() + tab, timestamp);
  if (ec != std::errc() || end != line.data() + tab) return false;
  message = line.substr(tab + 1);
  return true;
}

std::string decode_message(std::string_view stored) {
  std::string message(stored);
  std::replace(message.begin(), message.end(), '\r', '\n');
  return message;
}

// Reads up to `length` bytes at `offset`; returns fewer at the end of the file, none on error.
std::string read_at(int fd, std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

std::int64_t to_ms(const struct statx_timestamp& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

struct FileTimes {
  std::int64_t birth_ms = 0;  // the modification time where the file system keeps no birth time
  std::int64_t modified_ms = 0;
  std::uint64_t size = 0;
};

std::optional<FileTimes> stat_file(const fs::path& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), 0, STATX_BTIME | STATX_MTIME | STATX_SIZE, &st) != 0) {
    return std::nullopt;
  }
  FileTimes times;
  times.modified_ms = to_ms(st.stx_mtime);
  times.birth_ms = (st.stx_mask & STATX_BTIME) ? to_ms(st.stx_btime) : times.modified_ms;
  times.size = st.stx_size;
  return times;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }
  std::uint64_t size() const {
    struct stat st {};
    return ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  }

 private:
  int fd_;
};

// True when `offset` is 0 or follows a newline, and lies within the file.
bool is_line_start(int fd, std::uint64_t offset, std::uint64_t size) {
  if (offset == 0) return true;
  if (offset > size) return false;
  return read_at(fd, offset - 1, 1) == "\n";
}

// Returns the offset just after the file's last newline: the end of its complete lines.
std::uint64_t complete_end(int fd, std::uint64_t size) {
  std::uint64_t end = size;
  while (end > 0) {
    std::uint64_t start = end > kChunkBytes ? end - kChunkBytes : 0;
    std::string chunk = read_at(fd, start, static_cast<std::size_t>(end - start));
    auto newline = chunk.rfind('\n');
    if (newline != std::string::npos) return start + newline + 1;
    end = start;
  }
  return 0;
}

// Walks complete lines backward from a line start.
class BackwardLines {
 public:
  BackwardLines(int fd, std::uint64_t start) : fd_(fd), position_(start), buffer_offset_(start) {}

  // Steps to the line that ends at the current position; false at the file's start or on a
  // read error. `line` (without its newline) stays valid until the next call.
  bool previous(std::uint64_t& line_start, std::string_view& line) {
    if (position_ == 0) return false;
    // Drop the line returned last, so buffer_ contains the file bytes [buffer_offset_, position_).
    buffer_.resize(static_cast<std::size_t>(position_ - buffer_offset_));
    for (;;) {
      if (!buffer_.empty()) {
        // buffer_.back() is the newline that ends the wanted line; the newline before it, or
        // the file's start, begins it.
        std::size_t newline =
            buffer_.size() >= 2 ? buffer_.rfind('\n', buffer_.size() - 2) : std::string::npos;
        if (newline != std::string::npos || buffer_offset_ == 0) {
          std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
          line_start = buffer_offset_ + begin;
          line = std::string_view(buffer_).substr(begin, buffer_.size() - 1 - begin);
          scanned_ += position_ - line_start;
          position_ = line_start;
          return true;
        }
      }
      std::uint64_t start = buffer_offset_ > kChunkBytes ? buffer_offset_ - kChunkBytes : 0;
      std::string chunk = read_at(fd_, start, static_cast<std::size_t>(buffer_offset_ - start));
      if (chunk.size() != buffer_offset_ - start) return false;
      buffer_.insert(0, chunk);
      buffer_offset_ = start;
    }
  }

  std::uint64_t position() const { return position_; }
  std::uint64_t scanned_bytes() const { return scanned_; }

 private:
  int fd_;
  std::uint64_t position_;
  std::uint64_t buffer_offset_;
  std::string buffer_;
  std::uint64_t scanned_ = 0;
};

}  // namespace

LogStreamReader::LogStreamReader(int fd, std::string stream, std::uint64_t offset,
                                 std::uint64_t size)
    : fd_(fd), stream_(std::move(stream)), position_(offset), size_(size), buffer_offset_(offset) {}

LogStreamReader::~LogStreamReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool LogStreamReader::fill() {
  buffer_.erase(0, buffer_pos_);
  buffer_offset_ += buffer_pos_;
  buffer_pos_ = 0;
  std::uint64_t from = buffer_offset_ + buffer_.size();
  if (from >= size_) return false;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size_ - from));
  std::string chunk = read_at(fd_, from, want);
  if (chunk.empty()) return false;
  buffer_ += chunk;
  return true;
}

bool LogStreamReader::next(LogEvent& out) {
  for (;;) {
    auto newline = buffer_.find('\n', buffer_pos_);
    if (newline == std::string::npos) {
      if (!fill()) return false;
      continue;
    }
    std::string_view line(buffer_.data() + buffer_pos_, newline - buffer_pos_);
    std::uint64_t line_start = buffer_offset_ + buffer_pos_;
    std::uint64_t line_end = buffer_offset_ + newline + 1;
    buffer_pos_ = newline + 1;
    scanned_ += line_end - line_start;
    position_ = line_end;
    std::int64_t timestamp = 0;
    std::string_view message;
    if (!parse_line(line, timestamp, message)) continue;
    out.timestamp_ms = timestamp;
    out.stream = stream_;
    out.message = decode_message(message);
    out.offset = line_start;
    out.end_offset = line_end;
    return true;
  }
}

LogStream::LogStream(std::FILE* file, std::string name, std::filesystem::path path,
                     std::shared_ptr<const std::atomic<std::uint64_t>> deletions)
    : file_(file),
      name_(std::move(name)),
      path_(std::move(path)),
      deletions_(std::move(deletions)),
      deletions_seen_(deletions_->load(std::memory_order_relaxed)) {}

LogStream::~LogStream() {
  if (file_) std::fclose(file_);
}

void LogStream::append(std::int64_t timestamp_ms, std::string_view message) {
  if (!file_) return;
  // Readers send events as JSON, so bytes that are not UTF-8 are stored as U+FFFD.
  if (!is_valid_utf8(message)) {
    std::string valid = to_valid_utf8(message);
    append(timestamp_ms, valid);
    return;
  }
  if (deletions_->load(std::memory_order_relaxed) != deletions_seen_) reopen_if_deleted();
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
  if (!file_) return;
  if (deletions_->load(std::memory_order_relaxed) != deletions_seen_) reopen_if_deleted();
  std::fflush(file_);
}

void LogStream::reopen_if_deleted() {
  deletions_seen_ = deletions_->load(std::memory_order_relaxed);
  std::error_code ec;
  if (fs::exists(path_, ec) || ec) return;
  // The file was deleted (DeleteLogGroup, or a retention sweep), so later lines go to a new
  // file of the same name instead of the unlinked one. Lines still buffered go with the old.
  fs::create_directories(path_.parent_path(), ec);
  if (std::FILE* reopened = std::fopen(path_.c_str(), "ae")) {
    std::fclose(file_);
    file_ = reopened;
  }
}

std::unique_ptr<LogStream> LogStore::open_stream(std::string_view function_name,
                                                 std::string_view stream_name) {
  fs::path path = root_ / std::string(function_name) / (std::string(stream_name) + ".log");
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (!file) return nullptr;
  return std::make_unique<LogStream>(file, std::string(stream_name), std::move(path), deletions_);
}

std::vector<LogEvent> LogStore::read(std::string_view function_name, std::int64_t since_ms,
                                     std::size_t limit) const {
  std::vector<LogEvent> events;
  fs::path dir = root_ / std::string(function_name);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return events;
  for_each_file(dir, [&](const fs::path& path) {
    if (path.extension() != ".log") return;
    std::string stream = path.lexically_relative(dir).replace_extension().string();
    std::ifstream in(path);
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
  });
  std::stable_sort(events.begin(), events.end(), [](const LogEvent& a, const LogEvent& b) {
    return a.timestamp_ms < b.timestamp_ms;
  });
  if (events.size() > limit) events.erase(events.begin(), events.end() - static_cast<long>(limit));
  return events;
}

bool LogStore::has_function(std::string_view function_name) const {
  std::error_code ec;
  return fs::is_directory(root_ / std::string(function_name), ec);
}

void LogStore::remove_function(std::string_view function_name) {
  std::error_code ec;
  if (fs::remove_all(root_ / std::string(function_name), ec) > 0) {
    deletions_->fetch_add(1, std::memory_order_relaxed);
  }
}

bool LogStore::valid_function_name(std::string_view function_name) {
  return !function_name.empty() && function_name != "." && function_name != ".." &&
         function_name.find('/') == std::string_view::npos &&
         function_name.find('\0') == std::string_view::npos;
}

bool LogStore::valid_stream_name(std::string_view stream_name) {
  if (stream_name.empty() || stream_name.find('\0') != std::string_view::npos) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = stream_name.find('/', start);
    std::string_view part = stream_name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

fs::path LogStore::stream_path(std::string_view function_name, std::string_view stream_name) const {
  return root_ / std::string(function_name) / (std::string(stream_name) + std::string(kSuffix));
}

std::vector<LogFunctionInfo> LogStore::list_functions() const {
  std::vector<LogFunctionInfo> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    std::string name = it->path().filename().string();
    if (!valid_function_name(name)) continue;
    auto times = stat_file(it->path());
    out.push_back({std::move(name), times ? times->birth_ms : 0});
  }
  std::sort(out.begin(), out.end(), [](const LogFunctionInfo& a, const LogFunctionInfo& b) {
    return a.function < b.function;
  });
  return out;
}

namespace {

std::optional<LogStreamInfo> describe_file(const fs::path& path, std::string name) {
  auto times = stat_file(path);
  if (!times) return std::nullopt;
  LogStreamInfo info;
  info.name = std::move(name);
  info.creation_time_ms = times->birth_ms;
  info.last_write_ms = times->modified_ms;
  FileDescriptor fd(path);
  if (!fd) return std::nullopt;
  std::uint64_t size = fd.size();
  info.stored_bytes = size;

  // The first event: the first well-formed line near the start.
  {
    int dup = ::dup(fd.get());
    if (dup >= 0) {
      LogStreamReader reader(dup, info.name, 0, std::min<std::uint64_t>(size, 4 * kChunkBytes));
      LogEvent event;
      if (reader.next(event)) info.first_event_ms = event.timestamp_ms;
    }
  }
  // The last event: the last well-formed line near the end.
  BackwardLines lines(fd.get(), complete_end(fd.get(), size));
  std::uint64_t line_start = 0;
  std::string_view line;
  while (lines.scanned_bytes() < 4 * kChunkBytes && lines.previous(line_start, line)) {
    std::int64_t timestamp = 0;
    std::string_view message;
    if (parse_line(line, timestamp, message)) {
      info.last_event_ms = timestamp;
      break;
    }
  }
  if (info.first_event_ms && !info.last_event_ms) info.last_event_ms = info.first_event_ms;
  if (info.last_event_ms && !info.first_event_ms) info.first_event_ms = info.last_event_ms;
  if (info.first_event_ms) {
    info.creation_time_ms = std::min(info.creation_time_ms, *info.first_event_ms);
    // File times can be a few milliseconds coarser than the clock that stamps events.
    info.last_write_ms = std::max(info.last_write_ms, *info.last_event_ms);
  }
  return info;
}

}  // namespace

std::vector<LogStreamInfo> LogStore::list_streams(std::string_view function_name) const {
  std::vector<LogStreamInfo> out;
  if (!valid_function_name(function_name)) return out;
  fs::path dir = root_ / std::string(function_name);
  for_each_file(dir, [&](const fs::path& path) {
    std::string relative = path.lexically_relative(dir).generic_string();
    if (!relative.ends_with(kSuffix)) return;
    relative.resize(relative.size() - kSuffix.size());
    if (!valid_stream_name(relative)) return;
    if (auto info = describe_file(path, std::move(relative))) out.push_back(std::move(*info));
  });
  std::sort(out.begin(), out.end(),
            [](const LogStreamInfo& a, const LogStreamInfo& b) { return a.name < b.name; });
  return out;
}

std::optional<LogStreamInfo> LogStore::stream_info(std::string_view function_name,
                                                   std::string_view stream_name) const {
  if (!valid_function_name(function_name) || !valid_stream_name(stream_name)) return std::nullopt;
  return describe_file(stream_path(function_name, stream_name), std::string(stream_name));
}

std::unique_ptr<LogStreamReader> LogStore::open_reader(std::string_view function_name,
                                                       std::string_view stream_name,
                                                       std::uint64_t offset) const {
  if (!valid_function_name(function_name) || !valid_stream_name(stream_name)) return nullptr;
  FileDescriptor fd(stream_path(function_name, stream_name));
  if (!fd) return nullptr;
  std::uint64_t size = fd.size();
  if (!is_line_start(fd.get(), offset, size)) return nullptr;
  return std::make_unique<LogStreamReader>(fd.release(), std::string(stream_name), offset, size);
}

std::optional<StreamPage> LogStore::read_forward(std::string_view function_name,
                                                 std::string_view stream_name, std::uint64_t offset,
                                                 TimeRange range, PageLimits limits) const {
  auto reader = open_reader(function_name, stream_name, offset);
  if (!reader) return std::nullopt;
  StreamPage page;
  page.begin = offset;
  page.end = offset;
  std::size_t bytes = 0;
  LogEvent event;
  for (;;) {
    if (page.events.size() >= limits.max_events || bytes >= limits.max_bytes ||
        reader->scanned_bytes() >= limits.max_scan_bytes) {
      break;
    }
    if (!reader->next(event)) {
      page.end = reader->position();
      page.exhausted = true;
      break;
    }
    if (event.timestamp_ms >= range.end_ms) {
      // Left unread, so a later read forward from page.end reads it again.
      page.end = event.offset;
      page.exhausted = true;
      break;
    }
    if (event.timestamp_ms < range.start_ms) {
      page.end = reader->position();
      continue;
    }
    if (!page.events.empty() && bytes + event_size(event) > limits.max_bytes) {
      page.end = event.offset;
      break;
    }
    bytes += event_size(event);
    page.end = reader->position();
    page.events.push_back(std::move(event));
  }
  return page;
}

std::optional<StreamPage> LogStore::read_backward(std::string_view function_name,
                                                  std::string_view stream_name,
                                                  std::optional<std::uint64_t> offset,
                                                  TimeRange range, PageLimits limits) const {
  if (!valid_function_name(function_name) || !valid_stream_name(stream_name)) return std::nullopt;
  FileDescriptor fd(stream_path(function_name, stream_name));
  if (!fd) return std::nullopt;
  std::uint64_t size = fd.size();
  std::uint64_t start = 0;
  if (offset) {
    if (!is_line_start(fd.get(), *offset, size)) return std::nullopt;
    start = *offset;
  } else {
    start = complete_end(fd.get(), size);
  }

  StreamPage page;
  page.begin = start;
  page.end = start;
  BackwardLines lines(fd.get(), start);
  std::size_t bytes = 0;
  std::uint64_t line_start = 0;
  std::string_view line;
  for (;;) {
    if (page.events.size() >= limits.max_events || bytes >= limits.max_bytes ||
        lines.scanned_bytes() >= limits.max_scan_bytes) {
      break;
    }
    std::uint64_t line_end = lines.position();
    if (!lines.previous(line_start, line)) {
      page.exhausted = true;
      break;
    }
    std::int64_t timestamp = 0;
    std::string_view stored;
    if (!parse_line(line, timestamp, stored)) {
      page.begin = line_start;
      continue;
    }
    if (timestamp >= range.end_ms) {
      page.begin = line_start;
      continue;
    }
    if (timestamp < range.start_ms) {
      // Left unread: a later read backward from page.begin stops here again.
      page.exhausted = true;
      break;
    }
    LogEvent event{timestamp, std::string(stream_name), decode_message(stored), line_start,
                   line_end};
    if (!page.events.empty() && bytes + event_size(event) > limits.max_bytes) break;
    bytes += event_size(event);
    page.begin = line_start;
    page.events.push_back(std::move(event));
  }
  std::reverse(page.events.begin(), page.events.end());
  return page;
}

namespace {

// Returns the smallest line start >= offset and < limit, or `limit` when there is none.
std::uint64_t next_line_start(int fd, std::uint64_t offset, std::uint64_t limit) {
  if (offset == 0) return 0;
  std::uint64_t at = offset - 1;  // a newline here makes `offset` itself a line start
  while (at < limit) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(4096, limit - at));
    std::string chunk = read_at(fd, at, want);
    if (chunk.empty()) return limit;
    auto newline = chunk.find('\n');
    if (newline != std::string::npos) return std::min(limit, at + newline + 1);
    at += chunk.size();
  }
  return limit;
}

// Reads the timestamp of the line starting at `offset`.
std::optional<std::int64_t> timestamp_at(int fd, std::uint64_t offset) {
  std::string head = read_at(fd, offset, 32);
  auto tab = head.find('\t');
  if (tab == std::string::npos || tab == 0) return std::nullopt;
  std::int64_t timestamp = 0;
  auto [end, ec] = std::from_chars(head.data(), head.data() + tab, timestamp);
  if (ec != std::errc() || end != head.data() + tab) return std::nullopt;
  return timestamp;
}

}  // namespace

std::optional<std::uint64_t> LogStore::lower_bound(std::string_view function_name,
                                                   std::string_view stream_name,
                                                   std::int64_t timestamp_ms) const {
  if (!valid_function_name(function_name) || !valid_stream_name(stream_name)) return std::nullopt;
  FileDescriptor fd(stream_path(function_name, stream_name));
  if (!fd) return std::nullopt;
  std::uint64_t size = fd.size();

  // Invariant: lo is a line start and every line before it is older than timestamp_ms; the
  // result lies in [lo, hi].
  std::uint64_t lo = 0;
  std::uint64_t hi = size;
  while (hi - lo > kChunkBytes) {
    std::uint64_t mid = lo + (hi - lo) / 2;
    std::uint64_t start = next_line_start(fd.get(), mid, hi);
    if (start >= hi) break;
    auto timestamp = timestamp_at(fd.get(), start);
    if (!timestamp) break;
    if (*timestamp < timestamp_ms) {
      lo = start;
    } else {
      hi = start;
    }
  }

  LogStreamReader reader(fd.release(), std::string(stream_name), lo, size);
  LogEvent event;
  while (reader.next(event)) {
    if (event.offset >= hi) return hi;
    if (event.timestamp_ms >= timestamp_ms) return event.offset;
  }
  return std::min(reader.position(), hi);
}

std::vector<std::string> LogStore::remove_streams_before(std::string_view function_name,
                                                         std::int64_t cutoff_ms) {
  std::vector<std::string> removed;
  if (!valid_function_name(function_name)) return removed;
  fs::path dir = root_ / std::string(function_name);
  for (const auto& info : list_streams(function_name)) {
    std::int64_t newest = info.last_event_ms.value_or(info.last_write_ms);
    if (newest >= cutoff_ms) continue;
    std::error_code ec;
    fs::path path = stream_path(function_name, info.name);
    if (!fs::remove(path, ec) || ec) continue;
    removed.push_back(info.name);
    deletions_->fetch_add(1, std::memory_order_relaxed);
    // Date directories left empty go too; fs::remove fails on a directory that is not empty.
    for (fs::path parent = path.parent_path();
         parent != dir && parent.string().size() > dir.string().size();
         parent = parent.parent_path()) {
      if (!fs::remove(parent, ec) || ec) break;
    }
  }
  return removed;
}

}  // namespace lambent::store
