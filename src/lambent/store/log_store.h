#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Function logs as append-only files: data/logs/<function>/<log stream name>.log, where the
// stream name is AWS's "YYYY/MM/DD/[$LATEST]<hex>", so each stream is one file. Each line is
// "<epoch ms>\t<message>", with newlines inside a message stored as '\r'.
//
// Appends go to the page cache through stdio buffers and are flushed after each invocation;
// they do not wait for the disk.
namespace lambent::store {

struct LogEvent {
  std::int64_t timestamp_ms = 0;
  std::string stream;
  std::string message;
};

class LogStream {
 public:
  LogStream(std::FILE* file, std::string name) : file_(file), name_(std::move(name)) {}
  ~LogStream();
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;

  void append(std::int64_t timestamp_ms, std::string_view message);
  void flush();
  const std::string& name() const { return name_; }

 private:
  std::FILE* file_;
  std::string name_;
};

class LogStore {
 public:
  explicit LogStore(std::filesystem::path root) : root_(std::move(root)) {}

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

 private:
  std::filesystem::path root_;
};

}  // namespace lambent::store
