#pragma once

#include "lambent/base/result.h"
#include "lambent/services/logs/filter_pattern.h"
#include "lambent/store/log_store.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

// The reading side of the CloudWatch Logs API over store::LogStore: listing log groups and
// streams, GetLogEvents and FilterLogEvents, with their pagination tokens. Every function here
// does blocking file I/O and runs on the blocking pool; the caller validates the request's
// fields first. Errors are Errc::not_found (a stream that does not exist) and
// Errc::invalid_parameter (a token that does not decode or no longer fits the stream).
namespace lambent::services::logs {

inline constexpr std::int64_t kNoCutoff = std::numeric_limits<std::int64_t>::min();

// A stream is visible while its newest event, or its modification time when it has no
// events, is at or after the retention cutoff.
bool is_visible(const store::LogStreamInfo& stream, std::int64_t cutoff_ms);

// DescribeLogGroups: one group of a page.
struct GroupCandidate {
  std::string name;
  std::string function;  // empty for a group that has no log files
  std::int64_t creation_time_ms = 0;
  std::int64_t cutoff_ms = kNoCutoff;
};

struct GroupPage {
  std::vector<GroupCandidate> groups;
  std::vector<std::uint64_t> stored_bytes;  // one per group, of its visible streams
  std::optional<std::string> next_token;
};

// Orders the candidates by name and returns the page after `token` (a group name from an
// earlier page) with at most `limit` groups.
Result<GroupPage> page_groups(const store::LogStore& store, std::vector<GroupCandidate> candidates,
                              std::optional<std::string> token, std::size_t limit);

enum class StreamOrder { name, last_event_time };

struct DescribeStreamsQuery {
  std::string function;  // empty: a group without log files
  std::int64_t cutoff_ms = kNoCutoff;
  std::string prefix;
  StreamOrder order = StreamOrder::name;
  bool descending = false;
  std::size_t limit = 50;
  std::optional<std::string> token;
};

struct StreamList {
  std::vector<store::LogStreamInfo> streams;
  std::optional<std::string> next_token;
};

Result<StreamList> describe_streams(const store::LogStore& store,
                                    const DescribeStreamsQuery& query);

struct GetEventsQuery {
  std::string function;
  std::string stream;
  std::int64_t cutoff_ms = kNoCutoff;
  std::optional<std::int64_t> start_ms;  // inclusive
  std::optional<std::int64_t> end_ms;    // exclusive
  bool start_from_head = false;
  std::optional<std::string> token;  // "f/..." or "b/..." from an earlier page
  store::PageLimits limits;
};

struct EventPage {
  std::vector<store::LogEvent> events;
  std::string next_forward_token;
  std::string next_backward_token;
};

// Reads one stream. Without a token it starts at the head (start_from_head) or returns the
// newest events; a forward token reads on after its page and a backward token reads before
// it. Reading past the end in a direction returns the token that was passed in.
Result<EventPage> get_events(const store::LogStore& store, const GetEventsQuery& query);

struct FilterEventsQuery {
  std::string function;
  std::int64_t cutoff_ms = kNoCutoff;
  std::vector<std::string> stream_names;  // empty: every stream
  std::string stream_prefix;
  std::optional<std::int64_t> start_ms;  // inclusive
  std::optional<std::int64_t> end_ms;    // inclusive, as FilterLogEvents defines it
  FilterPattern pattern;
  std::optional<std::string> token;
  store::PageLimits limits;
};

struct SearchedStream {
  std::string name;
  bool completely = false;
};

struct FilteredPage {
  std::vector<store::LogEvent> events;  // ordered by timestamp, then stream name, then offset
  std::vector<SearchedStream> searched;
  std::optional<std::string> next_token;
};

// Merges the selected streams by timestamp and returns the events that match the pattern. A
// page ends at the limits, including limits.max_scan_bytes of lines read; a next token is
// returned whenever events may remain.
Result<FilteredPage> filter_events(const store::LogStore& store, const FilterEventsQuery& query);

// A 56-digit id, stable for one event: its timestamp, its stream and its offset there.
std::string event_id(const store::LogEvent& event);

}  // namespace lambent::services::logs
