#include "lambent/services/logs/queries.h"

#include "lambent/base/crypto.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <queue>

namespace lambent::services::logs {

namespace {

Error invalid_token() {
  return make_error(Errc::invalid_parameter,
                    "The specified nextToken is invalid: use a token from an earlier response "
                    "to the same request.");
}

Error stream_not_found() {
  return make_error(Errc::not_found, "The specified log stream does not exist.");
}

// Opaque tokens are base64 of tab-separated fields, the first naming the token's kind.
std::string encode_token(std::initializer_list<std::string_view> fields) {
  std::string text;
  for (auto field : fields) {
    if (!text.empty()) text.push_back('\t');
    text += field;
  }
  return base64_encode(text);
}

std::optional<std::vector<std::string>> decode_token(std::string_view token, std::string_view kind,
                                                     std::size_t field_count) {
  auto text = base64_decode(token);
  if (!text) return std::nullopt;
  std::vector<std::string> fields;
  std::size_t start = 0;
  // The last field (a name) may itself contain tabs, so it takes the rest of the text.
  while (fields.size() + 1 < field_count) {
    auto tab = text->find('\t', start);
    if (tab == std::string::npos) return std::nullopt;
    fields.push_back(text->substr(start, tab - start));
    start = tab + 1;
  }
  fields.push_back(text->substr(start));
  if (fields.front() != kind) return std::nullopt;
  return fields;
}

template <typename Int>
std::optional<Int> parse_number(std::string_view text) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::int64_t stream_sort_time(const store::LogStreamInfo& stream) {
  return stream.last_event_ms.value_or(stream.creation_time_ms);
}

}  // namespace

bool is_visible(const store::LogStreamInfo& stream, std::int64_t cutoff_ms) {
  return stream.last_event_ms.value_or(stream.last_write_ms) >= cutoff_ms;
}

Result<GroupPage> page_groups(const store::LogStore& store, std::vector<GroupCandidate> candidates,
                              std::optional<std::string> token, std::size_t limit) {
  std::sort(candidates.begin(), candidates.end(),
            [](const GroupCandidate& a, const GroupCandidate& b) { return a.name < b.name; });
  auto begin = candidates.begin();
  if (token) {
    auto fields = decode_token(*token, "g", 2);
    if (!fields) return invalid_token();
    const std::string& after = (*fields)[1];
    begin = std::upper_bound(candidates.begin(), candidates.end(), after,
                             [](const std::string& name, const GroupCandidate& candidate) {
                               return name < candidate.name;
                             });
  }
  GroupPage page;
  for (auto it = begin; it != candidates.end(); ++it) {
    if (page.groups.size() == limit) {
      page.next_token = encode_token({"g", page.groups.back().name});
      break;
    }
    page.groups.push_back(*it);
  }
  for (const auto& group : page.groups) {
    std::uint64_t bytes = 0;
    if (!group.function.empty()) {
      for (const auto& stream : store.list_streams(group.function)) {
        if (is_visible(stream, group.cutoff_ms)) bytes += stream.stored_bytes;
      }
    }
    page.stored_bytes.push_back(bytes);
  }
  return page;
}

Result<StreamList> describe_streams(const store::LogStore& store,
                                    const DescribeStreamsQuery& query) {
  std::vector<store::LogStreamInfo> streams;
  if (!query.function.empty()) {
    for (auto& stream : store.list_streams(query.function)) {
      if (!stream.name.starts_with(query.prefix) || !is_visible(stream, query.cutoff_ms)) continue;
      streams.push_back(std::move(stream));
    }
  }
  // Sort keys: (time, name) for LastEventTime, name alone otherwise.
  auto key_less = [&](std::int64_t a_time, std::string_view a_name, std::int64_t b_time,
                      std::string_view b_name) {
    if (query.order == StreamOrder::last_event_time && a_time != b_time) return a_time < b_time;
    return a_name < b_name;
  };
  auto before = [&](const store::LogStreamInfo& a, const store::LogStreamInfo& b) {
    return query.descending ? key_less(stream_sort_time(b), b.name, stream_sort_time(a), a.name)
                            : key_less(stream_sort_time(a), a.name, stream_sort_time(b), b.name);
  };
  std::sort(streams.begin(), streams.end(), before);

  auto begin = streams.begin();
  if (query.token) {
    std::optional<std::vector<std::string>> fields;
    store::LogStreamInfo after;
    if (query.order == StreamOrder::last_event_time) {
      fields = decode_token(*query.token, "t", 3);
      if (!fields) return invalid_token();
      auto time = parse_number<std::int64_t>((*fields)[1]);
      if (!time) return invalid_token();
      after.last_event_ms = *time;
      after.name = (*fields)[2];
    } else {
      fields = decode_token(*query.token, "s", 2);
      if (!fields) return invalid_token();
      after.name = (*fields)[1];
    }
    begin = std::upper_bound(streams.begin(), streams.end(), after, before);
  }

  StreamList list;
  for (auto it = begin; it != streams.end(); ++it) {
    if (list.streams.size() == query.limit) {
      const auto& last = list.streams.back();
      list.next_token = query.order == StreamOrder::last_event_time
                            ? encode_token({"t", std::to_string(stream_sort_time(last)), last.name})
                            : encode_token({"s", last.name});
      break;
    }
    list.streams.push_back(std::move(*it));
  }
  return list;
}

namespace {

struct PositionToken {
  char direction;  // 'f' or 'b'
  std::uint64_t offset;
};

std::string format_position(char direction, std::uint64_t offset) {
  return fmt::format("{}/{:056}", direction, offset);
}

std::optional<PositionToken> parse_position(std::string_view token) {
  if (token.size() < 3 || (token[0] != 'f' && token[0] != 'b') || token[1] != '/') {
    return std::nullopt;
  }
  auto offset = parse_number<std::uint64_t>(token.substr(2));
  if (!offset) return std::nullopt;
  return PositionToken{token[0], *offset};
}

}  // namespace

Result<EventPage> get_events(const store::LogStore& store, const GetEventsQuery& query) {
  if (query.function.empty()) return stream_not_found();
  auto info = store.stream_info(query.function, query.stream);
  if (!info || !is_visible(*info, query.cutoff_ms)) return stream_not_found();

  store::TimeRange range;
  range.start_ms = std::max(query.start_ms.value_or(kNoCutoff), query.cutoff_ms);
  if (query.end_ms) range.end_ms = *query.end_ms;

  std::optional<PositionToken> position;
  if (query.token) {
    position = parse_position(*query.token);
    if (!position) return invalid_token();
  }

  EventPage page;
  bool forward = position ? position->direction == 'f' : query.start_from_head;
  if (forward) {
    std::uint64_t from = 0;
    if (position) {
      from = position->offset;
    } else if (range.start_ms != kNoCutoff) {
      auto found = store.lower_bound(query.function, query.stream, range.start_ms);
      if (!found) return stream_not_found();
      from = *found;
    }
    auto read = store.read_forward(query.function, query.stream, from, range, query.limits);
    if (!read) return position ? Result<EventPage>(invalid_token()) : stream_not_found();
    std::uint64_t first = read->events.empty() ? from : read->events.front().offset;
    page.next_forward_token =
        position && read->end == from ? *query.token : format_position('f', read->end);
    page.next_backward_token = format_position('b', first);
    page.events = std::move(read->events);
    return page;
  }

  std::optional<std::uint64_t> before;
  if (position) {
    before = position->offset;
  } else if (query.end_ms) {
    auto found = store.lower_bound(query.function, query.stream, range.end_ms);
    if (!found) return stream_not_found();
    before = *found;
  }
  auto read = store.read_backward(query.function, query.stream, before, range, query.limits);
  if (!read) return position ? Result<EventPage>(invalid_token()) : stream_not_found();
  std::uint64_t last = read->events.empty() ? read->end : read->events.back().end_offset;
  page.next_backward_token = position && read->begin == position->offset
                                 ? *query.token
                                 : format_position('b', read->begin);
  page.next_forward_token = format_position('f', last);
  page.events = std::move(read->events);
  return page;
}

namespace {

// FilterLogEvents' order: timestamp, then stream name; one stream is read in file order.
struct MergeKey {
  std::int64_t timestamp_ms;
  std::string_view stream;
  bool operator<(const MergeKey& other) const {
    if (timestamp_ms != other.timestamp_ms) return timestamp_ms < other.timestamp_ms;
    return stream < other.stream;
  }
};

struct Cursor {
  std::int64_t timestamp_ms = 0;
  std::string stream;
  std::uint64_t offset = 0;  // just after the cursor's event in its stream
};

// One stream of the merge: its reader and the event it will yield next.
struct Source {
  std::string name;
  std::int64_t lower_ms = 0;  // no event before this time is wanted from this stream
  std::optional<std::uint64_t> resume_offset;
  std::int64_t first_event_ms = 0;
  std::int64_t first_key_ms = 0;  // no wanted event of the stream is older than this
  std::unique_ptr<store::LogStreamReader> reader;
  store::LogEvent head;
  bool completely = false;
  std::uint64_t scanned_counted = 0;

  MergeKey pending_key() const { return {first_key_ms, name}; }
  MergeKey head_key() const { return {head.timestamp_ms, name}; }
};

class Merge {
 public:
  Merge(const store::LogStore& store, std::string function, store::TimeRange range)
      : store_(store), function_(std::move(function)), range_(range) {}

  // Opens a source and reads its first wanted event; false when it has none.
  bool open(Source& source) {
    std::uint64_t offset = 0;
    if (source.resume_offset) {
      offset = *source.resume_offset;
    } else if (source.lower_ms > source.first_event_ms) {
      auto found = store_.lower_bound(function_, source.name, source.lower_ms);
      if (!found) return finish(source);
      offset = *found;
    }
    source.reader = store_.open_reader(function_, source.name, offset);
    if (!source.reader) return finish(source);
    return advance(source);
  }

  // Reads the source's next wanted event into head; false at its end.
  bool advance(Source& source) {
    while (source.reader->next(source.head)) {
      count_scanned(source);
      if (source.head.timestamp_ms < source.lower_ms) continue;
      if (source.head.timestamp_ms >= range_.end_ms) return finish(source);
      return true;
    }
    count_scanned(source);
    return finish(source);
  }

  std::uint64_t scanned() const { return scanned_; }

 private:
  bool finish(Source& source) {
    source.completely = true;
    source.reader.reset();
    return false;
  }

  void count_scanned(Source& source) {
    std::uint64_t now = source.reader->scanned_bytes();
    scanned_ += now - source.scanned_counted;
    source.scanned_counted = now;
  }

  const store::LogStore& store_;
  std::string function_;
  store::TimeRange range_;
  std::uint64_t scanned_ = 0;
};

std::optional<Cursor> parse_cursor(std::string_view token) {
  auto fields = decode_token(token, "e", 4);
  if (!fields) return std::nullopt;
  auto timestamp = parse_number<std::int64_t>((*fields)[1]);
  auto offset = parse_number<std::uint64_t>((*fields)[2]);
  if (!timestamp || !offset || (*fields)[3].empty()) return std::nullopt;
  return Cursor{*timestamp, (*fields)[3], *offset};
}

}  // namespace

Result<FilteredPage> filter_events(const store::LogStore& store, const FilterEventsQuery& query) {
  store::TimeRange range;
  range.start_ms = std::max(query.start_ms.value_or(kNoCutoff), query.cutoff_ms);
  if (query.end_ms && *query.end_ms < std::numeric_limits<std::int64_t>::max()) {
    range.end_ms = *query.end_ms + 1;
  }
  std::optional<Cursor> cursor;
  if (query.token) {
    cursor = parse_cursor(*query.token);
    if (!cursor) return invalid_token();
  }

  FilteredPage page;
  if (query.function.empty() || range.start_ms >= range.end_ms) return page;

  // Candidate streams, each with the earliest key it can yield after the cursor.
  std::vector<std::unique_ptr<Source>> pending;
  for (auto& stream : store.list_streams(query.function)) {
    if (!query.stream_names.empty() &&
        std::find(query.stream_names.begin(), query.stream_names.end(), stream.name) ==
            query.stream_names.end()) {
      continue;
    }
    if (!stream.name.starts_with(query.stream_prefix)) continue;
    if (!stream.first_event_ms || !is_visible(stream, query.cutoff_ms)) continue;
    auto source = std::make_unique<Source>();
    source->name = stream.name;
    source->lower_ms = range.start_ms;
    if (cursor) {
      if (stream.name == cursor->stream) {
        source->resume_offset = cursor->offset;
        source->lower_ms = std::max(range.start_ms, cursor->timestamp_ms);
      } else {
        // Events at the cursor's time belong after it only in streams named after its stream.
        std::int64_t after =
            stream.name > cursor->stream ? cursor->timestamp_ms : cursor->timestamp_ms + 1;
        source->lower_ms = std::max(range.start_ms, after);
      }
    }
    if (*stream.last_event_ms < source->lower_ms || *stream.first_event_ms >= range.end_ms) {
      continue;
    }
    source->first_event_ms = *stream.first_event_ms;
    source->first_key_ms = std::max(*stream.first_event_ms, source->lower_ms);
    pending.push_back(std::move(source));
  }
  std::sort(pending.begin(), pending.end(),
            [](const auto& a, const auto& b) { return a->pending_key() < b->pending_key(); });

  Merge merge(store, query.function, range);
  auto later = [](const Source* a, const Source* b) { return b->head_key() < a->head_key(); };
  std::priority_queue<Source*, std::vector<Source*>, decltype(later)> heads(later);
  std::vector<std::unique_ptr<Source>> opened;
  std::size_t next_pending = 0;
  std::size_t bytes = 0;
  std::optional<Cursor> last;
  bool stopped = false;

  for (;;) {
    // A stream not opened yet may hold an event before the current head, so it opens first.
    while (next_pending < pending.size() &&
           (heads.empty() || !(heads.top()->head_key() < pending[next_pending]->pending_key()))) {
      Source* source = pending[next_pending].get();
      opened.push_back(std::move(pending[next_pending]));
      ++next_pending;
      if (merge.open(*source)) heads.push(source);
    }
    if (heads.empty()) break;
    // Each page consumes at least one event, so a next token always moves on.
    if (last && (page.events.size() >= query.limits.max_events || bytes >= query.limits.max_bytes ||
                 merge.scanned() >= query.limits.max_scan_bytes)) {
      stopped = true;
      break;
    }

    Source* source = heads.top();
    const store::LogEvent& event = source->head;
    if (query.pattern.matches(event.message)) {
      if (!page.events.empty() && bytes + store::event_size(event) > query.limits.max_bytes) {
        stopped = true;
        break;
      }
      bytes += store::event_size(event);
      page.events.push_back(event);
    }
    last = Cursor{event.timestamp_ms, source->name, event.end_offset};
    heads.pop();
    if (merge.advance(*source)) heads.push(source);
  }

  for (const auto& source : opened) page.searched.push_back({source->name, source->completely});
  if (stopped && last) {
    page.next_token = encode_token(
        {"e", std::to_string(last->timestamp_ms), std::to_string(last->offset), last->stream});
  }
  return page;
}

std::string event_id(const store::LogEvent& event) {
  // FNV-1a of the stream name keeps ids of different streams apart.
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : event.stream) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return fmt::format("{:020}{:020}{:016}", static_cast<std::uint64_t>(event.timestamp_ms), hash,
                     event.offset % 10000000000000000ull);
}

}  // namespace lambent::services::logs
