#include "lambent/store/log_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
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

// Writes raw text as a stream file, as an older server or a test fixture would have left it.
void write_file(const fs::path& path, std::string_view text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(LogStoreNames, ValidFunctionNames) {
  EXPECT_TRUE(LogStore::valid_function_name("my-function_1"));
  EXPECT_FALSE(LogStore::valid_function_name(""));
  EXPECT_FALSE(LogStore::valid_function_name("."));
  EXPECT_FALSE(LogStore::valid_function_name(".."));
  EXPECT_FALSE(LogStore::valid_function_name("a/b"));
  EXPECT_FALSE(LogStore::valid_function_name(std::string_view("a\0b", 3)));
}

TEST(LogStoreNames, ValidStreamNames) {
  EXPECT_TRUE(LogStore::valid_stream_name(kStreamA));
  EXPECT_TRUE(LogStore::valid_stream_name("plain"));
  EXPECT_TRUE(LogStore::valid_stream_name("a.b/c..d"));
  for (std::string_view bad : {"", "/abs", "a//b", "a/", "..", "../x", "a/../b", "./a", "a/."}) {
    EXPECT_FALSE(LogStore::valid_stream_name(bad)) << bad;
  }
}

TEST_F(LogStoreTest, ListFunctionsOrdersByName) {
  LogStore store(root_);
  store.open_stream("zeta", kStreamA)->append(1, "z");
  store.open_stream("alpha", kStreamA)->append(1, "a");
  std::ofstream(root_ / "stray-file") << "x";

  auto functions = store.list_functions();
  ASSERT_EQ(functions.size(), 2u);
  EXPECT_EQ(functions[0].function, "alpha");
  EXPECT_EQ(functions[1].function, "zeta");
  EXPECT_GT(functions[0].creation_time_ms, 0);
}

TEST_F(LogStoreTest, ListStreamsReportsEventTimesAndSizes) {
  LogStore store(root_);
  auto a = store.open_stream("fn", kStreamA);
  a->append(1000, "first");
  a->append(2000, "second");
  a->flush();
  auto b = store.open_stream("fn", kStreamB);
  b->flush();  // a stream without events

  auto streams = store.list_streams("fn");
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[0].name, kStreamA);
  EXPECT_EQ(streams[0].first_event_ms, 1000);
  EXPECT_EQ(streams[0].last_event_ms, 2000);
  EXPECT_EQ(streams[0].stored_bytes, std::string("1000\tfirst\n2000\tsecond\n").size());
  // The events are older than the file, so the stream was created with its first event.
  EXPECT_EQ(streams[0].creation_time_ms, 1000);
  EXPECT_GT(streams[0].last_write_ms, 1000);

  EXPECT_EQ(streams[1].name, kStreamB);
  EXPECT_FALSE(streams[1].first_event_ms.has_value());
  EXPECT_FALSE(streams[1].last_event_ms.has_value());
  EXPECT_EQ(streams[1].stored_bytes, 0u);
}

TEST_F(LogStoreTest, StreamTimesSkipMalformedAndPartialLines) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "junk\n5\tfive\n9\tnine\nbad line\n12\tpartial");

  auto info = store.stream_info("fn", "s");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->first_event_ms, 5);
  EXPECT_EQ(info->last_event_ms, 9);
  EXPECT_FALSE(store.stream_info("fn", "missing").has_value());
  EXPECT_FALSE(store.stream_info("fn", "../fn/s").has_value());
  EXPECT_FALSE(store.stream_info("..", "fn/s").has_value());
}

TEST_F(LogStoreTest, ReadForwardReturnsOffsetsAndEnd) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "10\ta\n20\tbb\n30\tccc\n");

  auto page = store.read_forward("fn", "s", 0, TimeRange{}, PageLimits{});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->events.size(), 3u);
  EXPECT_EQ(page->events[0].offset, 0u);
  EXPECT_EQ(page->events[0].end_offset, 5u);
  EXPECT_EQ(page->events[1].offset, 5u);
  EXPECT_EQ(page->events[2].offset, 11u);
  EXPECT_EQ(page->events[2].message, "ccc");
  EXPECT_EQ(page->begin, 0u);
  EXPECT_EQ(page->end, 18u);
  EXPECT_TRUE(page->exhausted);

  // From the middle, and from the end.
  auto rest = store.read_forward("fn", "s", 5, TimeRange{}, PageLimits{});
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(timestamps_of(rest->events), (std::vector<std::int64_t>{20, 30}));
  auto none = store.read_forward("fn", "s", 18, TimeRange{}, PageLimits{});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->end, 18u);
}

TEST_F(LogStoreTest, ReadForwardRejectsOffsetInsideLine) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "10\ta\n20\tbb\n");
  EXPECT_FALSE(store.read_forward("fn", "s", 3, TimeRange{}, PageLimits{}).has_value());
  EXPECT_FALSE(store.read_forward("fn", "s", 99, TimeRange{}, PageLimits{}).has_value());
  EXPECT_FALSE(store.read_forward("fn", "missing", 0, TimeRange{}, PageLimits{}).has_value());
  EXPECT_EQ(store.open_reader("fn", "s", 3), nullptr);
  EXPECT_NE(store.open_reader("fn", "s", 5), nullptr);
}

TEST_F(LogStoreTest, ReadForwardStopsAtLimits) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  for (int i = 1; i <= 10; ++i) stream->append(i, std::string(10, 'x'));
  stream->flush();

  PageLimits by_count;
  by_count.max_events = 4;
  auto page = store.read_forward("fn", kStreamA, 0, TimeRange{}, by_count);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(timestamps_of(page->events), (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_FALSE(page->exhausted);
  EXPECT_EQ(page->end, page->events.back().end_offset);

  // Each event counts 10 + 26 bytes, so 80 bytes hold two of them.
  PageLimits by_size;
  by_size.max_bytes = 80;
  page = store.read_forward("fn", kStreamA, 0, TimeRange{}, by_size);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->end, page->events.back().end_offset);

  // The scan bound ends a page that matched nothing within it.
  PageLimits by_scan;
  by_scan.max_scan_bytes = 30;
  TimeRange late{9, 100};
  page = store.read_forward("fn", kStreamA, 0, late, by_scan);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->events.empty());
  EXPECT_FALSE(page->exhausted);
  EXPECT_GE(page->end, 30u);
  auto next = store.read_forward("fn", kStreamA, page->end, late, PageLimits{});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(timestamps_of(next->events), (std::vector<std::int64_t>{9, 10}));
}

TEST_F(LogStoreTest, ReadForwardStopsBeforeRangeEnd) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "10\ta\n20\tb\n30\tc\n40\td\n");

  auto page = store.read_forward("fn", "s", 0, TimeRange{20, 40}, PageLimits{});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(timestamps_of(page->events), (std::vector<std::int64_t>{20, 30}));
  EXPECT_TRUE(page->exhausted);
  // The line at 40 is left unread.
  EXPECT_EQ(page->end, 15u);
}

TEST_F(LogStoreTest, PartialLastLineIsInvisible) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "10\ta\n20\thalf-writ");

  auto page = store.read_forward("fn", "s", 0, TimeRange{}, PageLimits{});
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(timestamps_of(page->events), std::vector<std::int64_t>{10});
  EXPECT_EQ(page->end, 5u);
  auto back = store.read_backward("fn", "s", std::nullopt, TimeRange{}, PageLimits{});
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(timestamps_of(back->events), std::vector<std::int64_t>{10});
  EXPECT_EQ(back->end, 5u);
}

TEST_F(LogStoreTest, ReadBackwardReturnsNewestOldestFirst) {
  LogStore store(root_);
  write_file(root_ / "fn" / "s.log", "10\ta\n20\tb\n30\tc\n40\td\n");

  PageLimits two;
  two.max_events = 2;
  auto page = store.read_backward("fn", "s", std::nullopt, TimeRange{}, two);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(timestamps_of(page->events), (std::vector<std::int64_t>{30, 40}));
  EXPECT_EQ(page->begin, 10u);
  EXPECT_EQ(page->end, 20u);
  EXPECT_FALSE(page->exhausted);

  auto older = store.read_backward("fn", "s", page->begin, TimeRange{}, two);
  ASSERT_TRUE(older.has_value());
  EXPECT_EQ(timestamps_of(older->events), (std::vector<std::int64_t>{10, 20}));
  EXPECT_EQ(older->begin, 0u);

  auto none = store.read_backward("fn", "s", 0, TimeRange{}, two);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->events.empty());
  EXPECT_TRUE(none->exhausted);

  // A range skips newer lines and stops at the first older one.
  auto ranged = store.read_backward("fn", "s", std::nullopt, TimeRange{20, 40}, PageLimits{});
  ASSERT_TRUE(ranged.has_value());
  EXPECT_EQ(timestamps_of(ranged->events), (std::vector<std::int64_t>{20, 30}));
  EXPECT_TRUE(ranged->exhausted);
  EXPECT_EQ(ranged->begin, 5u);
  EXPECT_FALSE(store.read_backward("fn", "s", 7, TimeRange{}, two).has_value());
}

TEST_F(LogStoreTest, ReadBackwardCrossesChunks) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  // 2000 lines of about 110 bytes: several 64 KiB chunks, and one line longer than a chunk.
  for (int i = 0; i < 2000; ++i) {
    stream->append(i, i == 1000 ? std::string(100000, 'L')
                                : "line " + std::to_string(i) + std::string(100, '.'));
  }
  stream->flush();

  std::vector<std::int64_t> seen;
  std::optional<std::uint64_t> before;
  PageLimits limits;
  limits.max_events = 333;
  for (;;) {
    auto page = store.read_backward("fn", kStreamA, before, TimeRange{}, limits);
    ASSERT_TRUE(page.has_value());
    if (page->events.empty()) break;
    for (auto it = page->events.rbegin(); it != page->events.rend(); ++it) {
      seen.push_back(it->timestamp_ms);
      if (it->timestamp_ms == 1000) {
        EXPECT_EQ(it->message, std::string(100000, 'L'));
      } else {
        EXPECT_EQ(it->message, "line " + std::to_string(it->timestamp_ms) + std::string(100, '.'));
      }
    }
    before = page->begin;
  }
  ASSERT_EQ(seen.size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], 1999 - i);
}

TEST_F(LogStoreTest, LowerBoundFindsFirstLineAtOrAfter) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  // Each timestamp twice, so the bound must find the first of equal lines.
  for (int i = 0; i < 20000; ++i) stream->append(1000 + i / 2, "event " + std::to_string(i));
  stream->flush();

  PageLimits every;
  every.max_events = 20000;
  auto all = store.read_forward("fn", kStreamA, 0, TimeRange{}, every);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->events.size(), 20000u);
  for (std::int64_t target : {0, 1000, 1001, 4321, 10999}) {
    auto offset = store.lower_bound("fn", kStreamA, target);
    ASSERT_TRUE(offset.has_value());
    auto expected = std::find_if(all->events.begin(), all->events.end(),
                                 [&](const LogEvent& e) { return e.timestamp_ms >= target; });
    ASSERT_NE(expected, all->events.end());
    EXPECT_EQ(*offset, expected->offset) << target;
  }
  EXPECT_EQ(store.lower_bound("fn", kStreamA, 11000), all->end);
  EXPECT_FALSE(store.lower_bound("fn", "missing", 0).has_value());
}

TEST_F(LogStoreTest, RemoveStreamsBeforeDeletesOnlyOldStreams) {
  LogStore store(root_);
  write_file(root_ / "fn" / "2020/01/01/[$LATEST]old.log", "100\tancient\n200\told\n");
  write_file(root_ / "fn" / "2020/01/02/[$LATEST]mixed.log", "100\tancient\n5000\tnew\n");
  auto live = store.open_stream("fn", kStreamA);
  live->append(6000, "current");
  live->flush();

  auto removed = store.remove_streams_before("fn", 1000);
  EXPECT_EQ(removed, std::vector<std::string>{"2020/01/01/[$LATEST]old"});
  EXPECT_FALSE(fs::exists(root_ / "fn" / "2020/01/01"));
  EXPECT_TRUE(fs::exists(root_ / "fn" / "2020/01/02/[$LATEST]mixed.log"));
  EXPECT_TRUE(fs::exists(root_ / "fn"));
  EXPECT_EQ(store.list_streams("fn").size(), 2u);

  // A stream without events goes by its modification time, which is now.
  write_file(root_ / "fn" / "empty.log", "");
  EXPECT_TRUE(store.remove_streams_before("fn", 1000).empty());
  EXPECT_TRUE(store.remove_streams_before("..", 1000).empty());
}

TEST_F(LogStoreTest, ListingSurvivesDirectoriesRemovedMeanwhile) {
  LogStore store(root_);
  write_file(root_ / "fn" / "2026/12/05/[$LATEST]kept.log", "100\tkept\n");
  std::atomic<bool> done{false};
  // Listings run while date directories are created and removed.
  std::thread churn([&] {
    for (int round = 0; !done.load(); ++round) {
      fs::path day = root_ / "fn" / "2020/01" / std::to_string(round % 8);
      write_file(day / "[$LATEST]old.log", "1\told\n");
      std::error_code ec;
      fs::remove_all(root_ / "fn" / "2020", ec);
    }
  });
  int missing = 0;
  for (int i = 0; i < 300; ++i) {
    auto streams = store.list_streams("fn");
    bool found = std::any_of(streams.begin(), streams.end(), [](const LogStreamInfo& stream) {
      return stream.name == "2026/12/05/[$LATEST]kept";
    });
    if (!found) ++missing;
    if (store.read("fn", 0, 10).empty()) ++missing;
  }
  done = true;
  churn.join();
  EXPECT_EQ(missing, 0);
}

TEST_F(LogStoreTest, FlushRecreatesDeletedFile) {
  LogStore store(root_);
  auto stream = store.open_stream("fn", kStreamA);
  ASSERT_NE(stream, nullptr);
  stream->append(1, "before");
  stream->flush();

  store.remove_function("fn");
  EXPECT_FALSE(fs::exists(root_ / "fn"));
  stream->append(2, "after");
  stream->flush();

  EXPECT_EQ(messages_of(store.read("fn", 0, 10)), std::vector<std::string>{"after"});
  stream->append(3, "again");
  stream->flush();
  EXPECT_EQ(messages_of(store.read("fn", 0, 10)), (std::vector<std::string>{"after", "again"}));
}

}  // namespace
}  // namespace lambent::store
