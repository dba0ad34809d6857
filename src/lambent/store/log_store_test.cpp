#include "lambent/store/log_store.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kStreamA = "2024/01/02/[$LATEST]0123456789abcdef0123456789abcdef";
constexpr std::string_view kStreamB = "2024/01/02/[$LATEST]fedcba9876543210fedcba9876543210";

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-logs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path root_;
};

std::vector<std::string> messages_of(const std::vector<LogEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.message);
  return out;
}

std::vector<std::int64_t> timestamps_of(const std::vector<LogEvent>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.timestamp_ms);
  return out;
}

TEST_F(LogStoreTest, AppendFlushReadRoundTrip) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(stream->name(), kStreamA);
  stream->append(1000, "START RequestId: abc");
  stream->append(1001, "hello\tworld");
  stream->append(1002, "");
  stream->flush();

  auto events = store.read("fn", 0, 100);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(timestamps_of(events), (std::vector<std::int64_t>{1000, 1001, 1002}));
  EXPECT_EQ(messages_of(events),
            (std::vector<std::string>{"START RequestId: abc", "hello\tworld", ""}));
  for (const auto& e : events) EXPECT_EQ(e.stream, kStreamA);

  // The file lives at <root>/<function>/<stream>.log with one "<ms>\t<message>" line each.
  fs::path file = root_ / "fn" / (std::string(kStreamA) + ".log");
  ASSERT_TRUE(fs::is_regular_file(file)) << file;
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "1000\tSTART RequestId: abc\n1001\thello\tworld\n1002\t\n");
}

TEST_F(LogStoreTest, ReopenedStreamAppends) {
  LogStore store(root_);
  {
    auto stream = store.open_stream("fn", kStreamA);
    ASSERT_NE(stream, nullptr);
    stream->append(1, "first");
  }  // the destructor closes the file, which flushes it
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  stream->append(2, "second");
  stream->flush();
  EXPECT_EQ(messages_of(store.read("fn", 0, 10)), (std::vector<std::string>{"first", "second"}));
}

TEST_F(LogStoreTest, ReadMergesStreamsByTimestamp) {
  LogStore store(root_);
  auto a = store.open_stream("fn", kStreamA);
  auto b = store.open_stream("fn", kStreamB);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  a->append(10, "a10");
  b->append(5, "b5");
  a->append(30, "a30");
  b->append(20, "b20");
  a->flush();
  b->flush();

  auto events = store.read("fn", 0, 100);
  EXPECT_EQ(messages_of(events), (std::vector<std::string>{"b5", "a10", "b20", "a30"}));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].stream, kStreamB);
  EXPECT_EQ(events[1].stream, kStreamA);
}

TEST_F(LogStoreTest, SinceMsFiltersOlderEvents) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  for (std::int64_t ts : {100, 200, 300, 400}) stream->append(ts, "at " + std::to_string(ts));
  stream->flush();

  // since_ms is inclusive.
  EXPECT_EQ(timestamps_of(store.read("fn", 200, 100)), (std::vector<std::int64_t>{200, 300, 400}));
  EXPECT_EQ(timestamps_of(store.read("fn", 201, 100)), (std::vector<std::int64_t>{300, 400}));
  EXPECT_TRUE(store.read("fn", 401, 100).empty());
}

TEST_F(LogStoreTest, LimitKeepsNewest) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  for (std::int64_t ts = 1; ts <= 10; ++ts) stream->append(ts, "line " + std::to_string(ts));
  stream->flush();

  EXPECT_EQ(timestamps_of(store.read("fn", 0, 3)), (std::vector<std::int64_t>{8, 9, 10}));
  EXPECT_EQ(timestamps_of(store.read("fn", 0, 10)).size(), 10u);
  EXPECT_TRUE(store.read("fn", 0, 0).empty());
  // The limit applies after the since_ms filter.
  EXPECT_EQ(timestamps_of(store.read("fn", 5, 2)), (std::vector<std::int64_t>{9, 10}));
}

TEST_F(LogStoreTest, MultiLineMessageSurvives) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  const std::string traceback =
      "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: bad\n";
  stream->append(1, traceback);
  stream->append(2, "after");
  stream->flush();

  // On disk the newlines inside a message are carriage returns, so each event is one line.
  fs::path file = root_ / "fn" / (std::string(kStreamA) + ".log");
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text,
            "1\tTraceback (most recent call last):\r  File \"app.py\", line 3\rValueError: bad\r\n"
            "2\tafter\n");

  auto events = store.read("fn", 0, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].message, traceback);
  EXPECT_EQ(events[1].message, "after");
}

TEST_F(LogStoreTest, UnflushedAppendsAreNotRead) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  stream->append(1, "buffered");
  EXPECT_TRUE(store.read("fn", 0, 10).empty());
  stream->flush();
  EXPECT_EQ(store.read("fn", 0, 10).size(), 1u);
}

TEST_F(LogStoreTest, SkipsMalformedLines) {
  LogStore store(root_);
  fs::create_directories(root_ / "fn");
  std::ofstream(root_ / "fn" / "manual.log", std::ios::binary)
      << "no tab here\nnotanumber\tmessage\n7\tgood\n";
  std::ofstream(root_ / "fn" / "ignored.txt", std::ios::binary) << "8\tnot a .log file\n";

  auto events = store.read("fn", 0, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].timestamp_ms, 7);
  EXPECT_EQ(events[0].message, "good");
  EXPECT_EQ(events[0].stream, "manual");
}

TEST_F(LogStoreTest, UnknownFunctionReadsEmpty) {
  LogStore store(root_);
  EXPECT_TRUE(store.read("missing", 0, 10).empty());
}

TEST_F(LogStoreTest, RemoveFunctionDeletesOnlyThatFunction) {
  LogStore store(root_);
  auto removed_stream = store.open_stream("gone", kStreamA);
  auto kept_stream = store.open_stream("kept", kStreamA);
  ASSERT_NE(removed_stream, nullptr);
  ASSERT_NE(kept_stream, nullptr);
  removed_stream->append(1, "bye");
  kept_stream->append(1, "hi");
  removed_stream->flush();
  kept_stream->flush();

  store.remove_function("gone");
  EXPECT_TRUE(store.read("gone", 0, 10).empty());
  EXPECT_FALSE(fs::exists(root_ / "gone"));
  EXPECT_EQ(messages_of(store.read("kept", 0, 10)), std::vector<std::string>{"hi"});
  // Removing again, or removing a function that never logged, is harmless.
  store.remove_function("gone");
  store.remove_function("never");
}

TEST_F(LogStoreTest, OpenStreamFailsWhenRootIsAFile) {
  fs::path file_root = root_ / "plain-file";
  std::ofstream(file_root) << "x";
  LogStore store(file_root);
  EXPECT_EQ(store.open_stream("fn", kStreamA), nullptr);
}

}  // namespace
}  // namespace lambent::store
