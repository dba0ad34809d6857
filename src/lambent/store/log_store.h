#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Function logs as append-only files: data/logs/<function>/<log stream name>.log, where the
// stream name is AWS's "YYYY/MM/DD/[$LATEST]<hex>", so each stream is one file. Each line is
// "<epoch ms>\t<message>", with newlines inside a message stored as '\r'.
//
// Appends go to the page cache through stdio buffers and are flushed after each invocation;
// they do not wait for the disk. Readers see only complete lines, so a line that is still in a
// stdio buffer, or half written, is invisible until its newline arrives.
//
// Every read below is blocking file I/O: server code calls it on the blocking pool. The reading
// methods are const and keep no state, so any thread may call them at once.
namespace lambent::store {

struct LogEvent {
  std::int64_t timestamp_ms = 0;
  std::string stream;
  std::string message;
  std::uint64_t offset = 0;      // byte offset of the event's line in its stream file
  std::uint64_t end_offset = 0;  // byte offset just after the line's newline
};

// One stream file as DescribeLogStreams reports it.
struct LogStreamInfo {
  std::string name;
  std::int64_t creation_time_ms = 0;  // file birth time, or the first event when that is older
  std::optional<std::int64_t> first_event_ms;  // empty while the stream has no complete line
  std::optional<std::int64_t> last_event_ms;
  std::int64_t last_write_ms = 0;  // file modification time: the last ingestion
  std::uint64_t stored_bytes = 0;  // file size
};

// One function that has a log directory.
struct LogFunctionInfo {
  std::string function;
  std::int64_t creation_time_ms = 0;  // directory birth time
};

// Event timestamps from start_ms (inclusive) to end_ms (exclusive).
struct TimeRange {
  std::int64_t start_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t end_ms = std::numeric_limits<std::int64_t>::max();
  bool contains(std::int64_t ts) const { return ts >= start_ms && ts < end_ms; }
};

// Bounds on one page of events. A page ends at whichever bound it reaches first.
struct PageLimits {
  std::size_t max_events = 10000;
  // Message bytes plus 26 per event, as CloudWatch Logs counts an event's size.
  std::size_t max_bytes = 1048576;
  // File bytes read, matching or not, so a page over sparse matches still ends quickly.
  std::uint64_t max_scan_bytes = 16u << 20;
};

// CloudWatch Logs' size of one event: its message bytes plus 26.
inline std::size_t event_size(const LogEvent& event) { return event.message.size() + 26; }

// A page of one stream. Reading forward covers the file bytes [begin, end) from the requested
// offset; reading backward covers [begin, end) ending at the requested offset.
struct StreamPage {
  std::vector<LogEvent> events;  // oldest first
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  // True when the read reached the file's start (backward) or the end of its complete lines
  // (forward), or a line outside the time range, so a further read in that direction from
  // this page's edge returns nothing new now.
  bool exhausted = false;
};

// Reads complete lines of one stream file forward from a byte offset. Malformed lines (no tab,
// no number before it) are skipped. Owns an open file descriptor; one thread at a time.
class LogStreamReader {
 public:
  LogStreamReader(int fd, std::string stream, std::uint64_t offset, std::uint64_t size);
  ~LogStreamReader();
  LogStreamReader(const LogStreamReader&) = delete;
  LogStreamReader& operator=(const LogStreamReader&) = delete;

  // Reads the next event into `out`; false at the end of the complete lines that existed
  // when the reader was opened, or on a read error.
  bool next(LogEvent& out);
  // Offset just after the last line read (skipped lines included).
  std::uint64_t position() const { return position_; }
  // Bytes of the file consumed so far.
  std::uint64_t scanned_bytes() const { return scanned_; }
  const std::string& stream() const { return stream_; }

 private:
  bool fill();

  int fd_;
  std::string stream_;
  std::uint64_t position_;
  std::uint64_t size_;
  std::uint64_t scanned_ = 0;
  std::string buffer_;
  std::size_t buffer_pos_ = 0;
  std::uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
};

// One stream's append handle, owned by the environment that writes it.
class LogStream {
 public:
  // `deletions` is the store's count of file deletions (see LogStore): when it has moved,
  // the next append or flush checks that the file still exists and re-creates it if not.
  LogStream(std::FILE* file, std::string name, std::filesystem::path path,
            std::shared_ptr<const std::atomic<std::uint64_t>> deletions);
  ~LogStream();
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;

  void append(std::int64_t timestamp_ms, std::string_view message);
  void flush();
  const std::string& name() const { return name_; }

 private:
  void reopen_if_deleted();

  std::FILE* file_;
  std::string name_;
  std::filesystem::path path_;
  std::shared_ptr<const std::atomic<std::uint64_t>> deletions_;
  std::uint64_t deletions_seen_ = 0;
};

class LogStore {
 public:
  explicit LogStore(std::filesystem::path root)
      : root_(std::move(root)), deletions_(std::make_shared<std::atomic<std::uint64_t>>(0)) {}

  // Creates the stream's file. Returns nullptr (and the caller logs) when the file can't be
  // created; the environment then runs without persisted logs.
  std::unique_ptr<LogStream> open_stream(std::string_view function_name,
                                         std::string_view stream_name);

  // Returns the function's events with timestamp >= since_ms, oldest first, at most `limit`.
  std::vector<LogEvent> read(std::string_view function_name, std::int64_t since_ms,
                             std::size_t limit) const;

  // True when the function has written at least one log stream.
  bool has_function(std::string_view function_name) const;

  // Removes every stream of a deleted function.
  void remove_function(std::string_view function_name);

  // True for a function name that maps to one directory under the root: not empty, no '/',
  // no NUL, not "." or "..".
  static bool valid_function_name(std::string_view function_name);
  // True for a stream name that maps to a file inside its function's directory: relative,
  // with no empty, "." or ".." component and no NUL.
  static bool valid_stream_name(std::string_view stream_name);

  // Returns every function with a log directory, ordered by name.
  std::vector<LogFunctionInfo> list_functions() const;

  // Returns the function's streams ordered by name. Each costs a stat and two short reads
  // (the first and the last line).
  std::vector<LogStreamInfo> list_streams(std::string_view function_name) const;
  // Returns one stream, or nullopt when it does not exist or its name is invalid.
  std::optional<LogStreamInfo> stream_info(std::string_view function_name,
                                           std::string_view stream_name) const;

  // Opens a reader at `offset`, which must be 0 or just after a newline; nullptr when the
  // stream does not exist or the offset is past the end or inside a line.
  std::unique_ptr<LogStreamReader> open_reader(std::string_view function_name,
                                               std::string_view stream_name,
                                               std::uint64_t offset) const;

  // Reads events in `range` forward from `offset`. Stops at the limits, at the end of the
  // complete lines, or at the first line at or after range.end_ms, which it leaves unread.
  // Returns nullopt when the stream does not exist or `offset` is not a line start.
  std::optional<StreamPage> read_forward(std::string_view function_name,
                                         std::string_view stream_name, std::uint64_t offset,
                                         TimeRange range, PageLimits limits) const;
  // Reads events in `range` backward from `offset` (nullopt: from the end of the complete
  // lines), newest first, and returns them oldest first. Stops at the limits, at the file's
  // start, or at the first line before range.start_ms, which it leaves unread.
  std::optional<StreamPage> read_backward(std::string_view function_name,
                                          std::string_view stream_name,
                                          std::optional<std::uint64_t> offset, TimeRange range,
                                          PageLimits limits) const;

  // Returns the offset of the first line whose timestamp is >= timestamp_ms, or the end of
  // the complete lines when there is none, by binary search.
  // NOTE: the search assumes the stream's timestamps never decrease, which holds unless the
  // system clock stepped back while the stream was written; then the offset is approximate.
  std::optional<std::uint64_t> lower_bound(std::string_view function_name,
                                           std::string_view stream_name,
                                           std::int64_t timestamp_ms) const;

  // Deletes the function's stream files whose newest event (or, without events, whose
  // modification time) is older than cutoff_ms, and the date directories left empty.
  // Returns the names of the deleted streams.
  std::vector<std::string> remove_streams_before(std::string_view function_name,
                                                 std::int64_t cutoff_ms);

 private:
  std::filesystem::path stream_path(std::string_view function_name,
                                    std::string_view stream_name) const;

  std::filesystem::path root_;
  // Counts remove_function and remove_streams_before calls that deleted files, so open
  // streams notice at their next flush that their file may be gone.
  std::shared_ptr<std::atomic<std::uint64_t>> deletions_;
};

}  // namespace lambent::store
