#include "lambent/services/logs/queries.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>

namespace lambent::services::logs {
namespace {

namespace fs = std::filesystem;

class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-queries-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    store_ = std::make_unique<store::LogStore>(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Appends (timestamp, message) lines to a stream of function "fn".
  void write(std::string_view stream, std::vector<std::pair<std::int64_t, std::string>> lines) {
    auto out = store_->open_stream("fn", stream);
    ASSERT_NE(out, nullptr);
    for (auto& [ts, message] : lines) out->append(ts, message);
    out->flush();
  }

  fs::path root_;
  std::unique_ptr<store::LogStore> store_;
};

std::vector<std::string> messages_of(const std::vector<store::LogEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.message);
  return out;
}

FilterPattern pattern(std::string_view text) {
  auto parsed = parse_filter_pattern(text);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : FilterPattern();
}

TEST_F(QueriesTest, GetEventsNewestByDefault) {
  write("s", {{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}});
  GetEventsQuery query;
  query.function = "fn";
  query.stream = "s";
  query.limits.max_events = 2;

  auto page = get_events(*store_, query);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(messages_of(page->events), (std::vector<std::string>{"c", "d"}));

  // Backward pages walk to the head; then the same backward token comes back.
  query.token = page->next_backward_token;
  auto older = get_events(*store_, query);
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(messages_of(older->events), (std::vector<std::string>{"a", "b"}));
  query.token = older->next_backward_token;
  auto head = get_events(*store_, query);
  ASSERT_TRUE(head.ok());
  EXPECT_TRUE(head->events.empty());
  EXPECT_EQ(head->next_backward_token, older->next_backward_token);

  // At the end, the forward token comes back unchanged until new events arrive.
  query.token = page->next_forward_token;
  auto end = get_events(*store_, query);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->events.empty());
  EXPECT_EQ(end->next_forward_token, page->next_forward_token);
  write("s", {{5, "e"}});
  auto newer = get_events(*store_, query);
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(messages_of(newer->events), std::vector<std::string>{"e"});
  EXPECT_NE(newer->next_forward_token, page->next_forward_token);
}

TEST_F(QueriesTest, GetEventsFromHeadPagesForward) {
  write("s", {{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {5, "e"}});
  GetEventsQuery query;
  query.function = "fn";
  query.stream = "s";
  query.start_from_head = true;
  query.limits.max_events = 2;

  std::vector<std::string> seen;
  std::optional<std::string> token;
  for (int i = 0; i < 10; ++i) {
    query.token = token;
    auto page = get_events(*store_, query);
    ASSERT_TRUE(page.ok());
    for (auto& m : messages_of(page->events)) seen.push_back(m);
    if (token && page->next_forward_token == *token) break;
    token = page->next_forward_token;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_TRUE(token->starts_with("f/"));
  EXPECT_EQ(token->size(), 58u);
}

TEST_F(QueriesTest, GetEventsTimeRange) {
  write("s", {{10, "a"}, {20, "b"}, {30, "c"}, {40, "d"}});
  GetEventsQuery query;
  query.function = "fn";
  query.stream = "s";
  query.start_ms = 20;
  query.end_ms = 40;

  auto newest = get_events(*store_, query);
  ASSERT_TRUE(newest.ok());
  EXPECT_EQ(messages_of(newest->events), (std::vector<std::string>{"b", "c"}));
  query.start_from_head = true;
  auto head = get_events(*store_, query);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(messages_of(head->events), (std::vector<std::string>{"b", "c"}));
}

TEST_F(QueriesTest, GetEventsHidesEventsBeforeCutoff) {
  write("s", {{10, "old"}, {20, "new"}});
  GetEventsQuery query;
  query.function = "fn";
  query.stream = "s";
  query.cutoff_ms = 15;
  auto page = get_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events), std::vector<std::string>{"new"});

  // A stream whose newest event is older than the cutoff is gone.
  query.cutoff_ms = 21;
  auto hidden = get_events(*store_, query);
  ASSERT_FALSE(hidden.ok());
  EXPECT_EQ(hidden.error().code, Errc::not_found);
}

TEST_F(QueriesTest, GetEventsErrors) {
  write("s", {{1, "a"}, {2, "b"}});
  GetEventsQuery query;
  query.function = "fn";
  query.stream = "missing";
  auto missing = get_events(*store_, query);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_EQ(missing.error().message, "The specified log stream does not exist.");

  query.stream = "s";
  for (std::string token : {"x/1", "f/", "f/abc", "b/-1", "f/3"}) {
    query.token = token;
    auto bad = get_events(*store_, query);
    ASSERT_FALSE(bad.ok()) << token;
    EXPECT_EQ(bad.error().code, Errc::invalid_parameter) << token;
  }
}

TEST_F(QueriesTest, FilterMergesStreamsByTime) {
  write("2024/01/01/[$LATEST]b", {{10, "b10"}, {30, "b30"}, {30, "b30 again"}});
  write("2024/01/01/[$LATEST]a", {{20, "a20"}, {30, "a30"}, {50, "a50"}});
  FilterEventsQuery query;
  query.function = "fn";

  auto page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok()) << page.error().message;
  // Ties at 30 are ordered by stream name, then by position in the stream.
  EXPECT_EQ(messages_of(page->events),
            (std::vector<std::string>{"b10", "a20", "a30", "b30", "b30 again", "a50"}));
  EXPECT_FALSE(page->next_token.has_value());
  ASSERT_EQ(page->searched.size(), 2u);
  for (const auto& searched : page->searched) EXPECT_TRUE(searched.completely);
  EXPECT_EQ(page->events[0].stream, "2024/01/01/[$LATEST]b");
}

TEST_F(QueriesTest, FilterPagesWithTokens) {
  for (std::string name : {"x", "y", "z"}) {
    std::vector<std::pair<std::int64_t, std::string>> lines;
    for (int i = 0; i < 20; ++i) lines.push_back({i / 3, name + std::to_string(i)});
    write(name, lines);
  }
  FilterEventsQuery all_query;
  all_query.function = "fn";
  auto all = filter_events(*store_, all_query);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 60u);

  for (std::size_t size : {1u, 2u, 7u, 59u}) {
    FilterEventsQuery query;
    query.function = "fn";
    query.limits.max_events = size;
    std::vector<std::string> seen;
    std::set<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = filter_events(*store_, query);
      ASSERT_TRUE(page.ok());
      for (const auto& event : page->events) {
        seen.push_back(event.message);
        ids.insert(event_id(event));
      }
      if (!page->next_token) break;
      ASSERT_NE(page->next_token, query.token);
      query.token = page->next_token;
    }
    EXPECT_EQ(seen, messages_of(all->events)) << "page size " << size;
    EXPECT_EQ(ids.size(), 60u);
  }
}

TEST_F(QueriesTest, FilterAppliesPatternRangeAndStreams) {
  write("a", {{10, "ERROR one"}, {20, "INFO two"}, {30, "ERROR three"}});
  write("b", {{15, "ERROR four"}, {40, "WARN five"}});

  FilterEventsQuery query;
  query.function = "fn";
  query.pattern = pattern("ERROR");
  auto page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events),
            (std::vector<std::string>{"ERROR one", "ERROR four", "ERROR three"}));

  // endTime is inclusive for FilterLogEvents.
  query.start_ms = 15;
  query.end_ms = 30;
  page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events), (std::vector<std::string>{"ERROR four", "ERROR three"}));

  query = FilterEventsQuery();
  query.function = "fn";
  query.stream_names = {"b"};
  query.pattern = pattern("?ERROR ?WARN");
  page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events), (std::vector<std::string>{"ERROR four", "WARN five"}));

  query = FilterEventsQuery();
  query.function = "fn";
  query.stream_prefix = "a";
  query.pattern = pattern("-ERROR");
  page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events), std::vector<std::string>{"INFO two"});
}

TEST_F(QueriesTest, FilterScanBoundReturnsTokenWithoutMatches) {
  std::vector<std::pair<std::int64_t, std::string>> lines;
  for (int i = 0; i < 1000; ++i) lines.push_back({i, "noise " + std::to_string(i)});
  lines.push_back({1000, "needle"});
  write("s", lines);

  FilterEventsQuery query;
  query.function = "fn";
  query.pattern = pattern("needle");
  query.limits.max_scan_bytes = 2000;
  int pages = 0;
  std::vector<std::string> found;
  for (; pages < 100; ++pages) {
    auto page = filter_events(*store_, query);
    ASSERT_TRUE(page.ok());
    for (auto& m : messages_of(page->events)) found.push_back(m);
    if (pages == 0) {
      EXPECT_TRUE(page->events.empty());
      EXPECT_TRUE(page->next_token.has_value());
    }
    if (!page->next_token) break;
    query.token = page->next_token;
  }
  EXPECT_EQ(found, std::vector<std::string>{"needle"});
  // Each page reads about 2000 bytes of lines, so the file takes that many pages.
  auto size = static_cast<int>(fs::file_size(root_ / "fn" / "s.log"));
  EXPECT_GE(pages + 1, size / 2000);
  EXPECT_LE(pages + 1, size / 2000 + 2);
}

TEST_F(QueriesTest, FilterCutoffAndInvalidToken) {
  write("old", {{5, "old event"}});
  write("new", {{5, "early"}, {50, "late"}});
  FilterEventsQuery query;
  query.function = "fn";
  query.cutoff_ms = 10;
  auto page = filter_events(*store_, query);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(messages_of(page->events), std::vector<std::string>{"late"});
  ASSERT_EQ(page->searched.size(), 1u);
  EXPECT_EQ(page->searched[0].name, "new");

  query.token = "not a token";
  auto bad = filter_events(*store_, query);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_parameter);
}

TEST_F(QueriesTest, DescribeStreamsOrdersAndPages) {
  write("c", {{100, "x"}});
  write("a", {{300, "x"}});
  write("b", {{200, "x"}});
  write("ab", {{50, "x"}});

  DescribeStreamsQuery by_name;
  by_name.function = "fn";
  by_name.limit = 3;
  auto first = describe_streams(*store_, by_name);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->streams.size(), 3u);
  EXPECT_EQ(first->streams[0].name, "a");
  EXPECT_EQ(first->streams[1].name, "ab");
  EXPECT_EQ(first->streams[2].name, "b");
  ASSERT_TRUE(first->next_token.has_value());
  by_name.token = first->next_token;
  auto second = describe_streams(*store_, by_name);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->streams.size(), 1u);
  EXPECT_EQ(second->streams[0].name, "c");
  EXPECT_FALSE(second->next_token.has_value());

  DescribeStreamsQuery by_time;
  by_time.function = "fn";
  by_time.order = StreamOrder::last_event_time;
  by_time.descending = true;
  by_time.limit = 2;
  auto newest = describe_streams(*store_, by_time);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->streams.size(), 2u);
  EXPECT_EQ(newest->streams[0].name, "a");
  EXPECT_EQ(newest->streams[1].name, "b");
  by_time.token = newest->next_token;
  auto rest = describe_streams(*store_, by_time);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->streams.size(), 2u);
  EXPECT_EQ(rest->streams[0].name, "c");
  EXPECT_EQ(rest->streams[1].name, "ab");

  DescribeStreamsQuery prefixed;
  prefixed.function = "fn";
  prefixed.prefix = "a";
  auto with_prefix = describe_streams(*store_, prefixed);
  ASSERT_TRUE(with_prefix.ok());
  EXPECT_EQ(with_prefix->streams.size(), 2u);

  DescribeStreamsQuery retained;
  retained.function = "fn";
  retained.cutoff_ms = 150;
  auto visible = describe_streams(*store_, retained);
  ASSERT_TRUE(visible.ok());
  EXPECT_EQ(visible->streams.size(), 2u);

  by_name.token = "bm90IGEgdG9rZW4=";
  EXPECT_FALSE(describe_streams(*store_, by_name).ok());
}

TEST_F(QueriesTest, PageGroupsByName) {
  write("s", {{1, std::string(100, 'x')}});
  std::vector<GroupCandidate> candidates = {{"/aws/lambda/fn", "fn", 1, kNoCutoff},
                                            {"/custom/b", "", 2, kNoCutoff},
                                            {"/custom/a", "", 3, kNoCutoff}};

  auto first = page_groups(*store_, candidates, std::nullopt, 2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->groups.size(), 2u);
  EXPECT_EQ(first->groups[0].name, "/aws/lambda/fn");
  EXPECT_EQ(first->stored_bytes[0], 103u);
  EXPECT_EQ(first->groups[1].name, "/custom/a");
  EXPECT_EQ(first->stored_bytes[1], 0u);
  auto second = page_groups(*store_, candidates, first->next_token, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->groups.size(), 1u);
  EXPECT_EQ(second->groups[0].name, "/custom/b");
  EXPECT_FALSE(second->next_token.has_value());
}

TEST(EventId, StableAndDistinct) {
  store::LogEvent a;
  a.timestamp_ms = 1700000000000;
  a.stream = "s1";
  a.message = "m";
  a.offset = 10;
  store::LogEvent b = a;
  b.stream = "s2";
  EXPECT_EQ(event_id(a).size(), 56u);
  EXPECT_EQ(event_id(a), event_id(a));
  EXPECT_NE(event_id(a), event_id(b));
}

}  // namespace
}  // namespace lambent::services::logs
