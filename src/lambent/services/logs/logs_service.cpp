#include "lambent/services/logs/logs_service.h"

#include "lambent/base/log.h"
#include "lambent/services/logs/filter_pattern.h"
#include "lambent/services/logs/protocol.h"
#include "lambent/services/logs/queries.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <map>

namespace lambent::services::logs {

namespace json = boost::json;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kDescribeLimit = 50;
constexpr std::int64_t kEventsLimit = 10000;

const StringRule kGroupName{1, 512, Charset::log_group_name};
const StringRule kGroupNamePattern{0, 512, Charset::log_group_name};
const StringRule kGroupIdentifier{1, 2048, Charset::log_group_identifier};
const StringRule kStreamName{1, 512, Charset::log_stream_name};
const StringRule kToken{1, std::numeric_limits<std::size_t>::max(), Charset::any};

Error group_not_found() {
  return make_error(Errc::not_found, "The specified log group does not exist.");
}

Error invalid_parameter(std::string message) {
  return make_error(Errc::invalid_parameter, std::move(message));
}

// One log group, resolved for an operation on that group alone.
struct GroupTarget {
  std::string name;
  std::string function;  // the function of "/aws/lambda/<function>", else empty
  std::int64_t cutoff_ms = kNoCutoff;
  bool created = false;  // stored in the catalog, so it exists without log files
};

// True when the group exists: created, or a function group whose function has logged.
bool group_exists(const store::LogStore& logs, const GroupTarget& group) {
  return group.created || (!group.function.empty() && logs.has_function(group.function));
}

}  // namespace

struct LogsService::Impl {
  Impl(store::LogStore& logs, store::DocumentStore& documents, asio::thread_pool& blocking,
       asio::any_io_executor executor, LogsOptions options)
      : logs(logs),
        catalog(documents),
        blocking(blocking),
        options(std::move(options)),
        tasks(executor, "logs"),
        sweep_requested(executor) {}

  store::LogStore& logs;
  LogGroupCatalog catalog;
  asio::thread_pool& blocking;
  LogsOptions options;
  TaskGroup tasks;
  Event sweep_requested;
  bool stopping = false;

  std::int64_t now() const { return options.now ? options.now() : epoch_ms(); }

  std::int64_t cutoff(const LogGroupSettings* settings) const {
    if (!settings || !settings->retention_days) return kNoCutoff;
    return now() - *settings->retention_days * kDayMs;
  }

  std::string group_arn(std::string_view name) const {
    return fmt::format("arn:aws:logs:{}:{}:log-group:{}", options.region, options.account_id, name);
  }

  GroupTarget target(std::string name) const {
    GroupTarget group;
    const LogGroupSettings* settings = catalog.find(name);
    group.function = std::string(function_of_group(name));
    group.cutoff_ms = cutoff(settings);
    group.created = settings && settings->created;
    group.name = std::move(name);
    return group;
  }

  // Reads logGroupName or logGroupIdentifier (a name or an ARN); exactly one must be given.
  std::optional<std::string> read_group(RequestFields& fields, Status& problem) const {
    auto name = fields.string("logGroupName", kGroupName);
    auto identifier = fields.string("logGroupIdentifier", kGroupIdentifier);
    if (auto status = fields.status(); !status) {
      problem = status;
      return std::nullopt;
    }
    if (name.has_value() == identifier.has_value()) {
      problem = invalid_parameter(
          "Specify exactly one of logGroupName and logGroupIdentifier (a log group name or "
          "ARN).");
      return std::nullopt;
    }
    if (name) return name;
    std::string_view text = *identifier;
    if (!text.starts_with("arn:")) return std::string(text);
    // arn:aws:logs:<region>:<account>:log-group:<name>
    std::string prefix = group_arn("");
    if (!text.starts_with(prefix)) {
      problem = group_not_found();
      return std::nullopt;
    }
    text.remove_prefix(prefix.size());
    if (text.empty()) {
      problem = group_not_found();
      return std::nullopt;
    }
    return std::string(text);
  }

  template <typename Fn>
  auto blocking_call(Fn fn) -> Task<decltype(fn())> {
    co_return co_await run_blocking(blocking, std::move(fn));
  }

  Task<Result<std::string>> describe_log_groups(const json::object& body);
  Task<Result<std::string>> describe_log_streams(const json::object& body);
  Task<Result<std::string>> get_log_events(const json::object& body);
  Task<Result<std::string>> filter_log_events(const json::object& body);
  Task<Result<std::string>> put_retention_policy(const json::object& body);
  Task<Result<std::string>> delete_retention_policy(const json::object& body);
  Task<Result<std::string>> create_log_group(const json::object& body);
  Task<Result<std::string>> delete_log_group(const json::object& body);

  Task<void> sweep_loop();
  Task<void> sweep_once();
};

LogsService::LogsService(store::LogStore& logs, store::DocumentStore& documents,
                         asio::thread_pool& blocking, asio::any_io_executor executor,
                         LogsOptions options)
    : impl_(std::make_unique<Impl>(logs, documents, blocking, std::move(executor),
                                   std::move(options))) {}

LogsService::~LogsService() = default;

Status LogsService::load() { return impl_->catalog.load(); }

void LogsService::start() { impl_->tasks.spawn(impl_->sweep_loop(), "retention_sweep"); }

void LogsService::stop() {
  impl_->stopping = true;
  impl_->sweep_requested.set();
  impl_->tasks.stop();
}

bool LogsService::owns(const http::Request& request) {
  return request.header("x-amz-target").starts_with(kTargetPrefix);
}

Task<http::Response> LogsService::handle(http::Request& request, std::string request_id) {
  std::string target(request.header("x-amz-target"));
  std::string_view operation = std::string_view(target).substr(kTargetPrefix.size());
  if (request.method != "POST") {
    co_return error_response(
        make_error(Errc::invalid_content,
                   fmt::format("CloudWatch Logs requests use POST, not {}.", request.method)),
        request_id);
  }

  json::object body;
  if (!request.body.empty()) {
    boost::system::error_code ec;
    json::value parsed = json::parse(request.body, ec);
    if (ec || !parsed.is_object()) {
      co_return error_response(
          make_error(Errc::invalid_content, "The request body must be a JSON object."), request_id);
    }
    body = std::move(parsed.as_object());
  }

  Result<std::string> result = std::string();
  if (operation == "DescribeLogGroups") {
    result = co_await impl_->describe_log_groups(body);
  } else if (operation == "DescribeLogStreams") {
    result = co_await impl_->describe_log_streams(body);
  } else if (operation == "GetLogEvents") {
    result = co_await impl_->get_log_events(body);
  } else if (operation == "FilterLogEvents") {
    result = co_await impl_->filter_log_events(body);
  } else if (operation == "PutRetentionPolicy") {
    result = co_await impl_->put_retention_policy(body);
  } else if (operation == "DeleteRetentionPolicy") {
    result = co_await impl_->delete_retention_policy(body);
  } else if (operation == "CreateLogGroup") {
    result = co_await impl_->create_log_group(body);
  } else if (operation == "DeleteLogGroup") {
    result = co_await impl_->delete_log_group(body);
  } else {
    result = unknown_operation(target);
  }
  if (!result) {
    const Error& error = result.error();
    if (error.code == Errc::io || error.code == Errc::internal) {
      LOG_WARN("logs", "request_failed", "request_id={} operation={} error=\"{}\"", request_id,
               operation, error.message);
    }
    co_return error_response(error, request_id);
  }
  co_return ok_response(std::move(*result), request_id);
}

Task<Result<std::string>> LogsService::Impl::describe_log_groups(const json::object& body) {
  RequestFields fields(body);
  auto prefix = fields.string("logGroupNamePrefix", kGroupName);
  auto pattern = fields.string("logGroupNamePattern", kGroupNamePattern);
  auto token = fields.string("nextToken", kToken);
  auto limit = fields.integer("limit", 1, kDescribeLimit);
  auto group_class =
      fields.enumeration("logGroupClass", {"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"});
  auto identifiers = fields.string_list("logGroupIdentifiers", 1, 50, kGroupIdentifier);
  fields.boolean("includeLinkedAccounts");
  fields.string_list("accountIdentifiers", 0, 20, StringRule{});
  if (auto status = fields.status(); !status) co_return std::move(status).error();
  if (prefix && pattern) {
    co_return invalid_parameter(
        "logGroupNamePrefix and logGroupNamePattern are mutually exclusive; pass only one.");
  }
  if (identifiers && (prefix || pattern)) {
    co_return invalid_parameter(
        "logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.");
  }

  // Names the identifiers select, ARNs reduced to names.
  std::vector<std::string> selected;
  if (identifiers) {
    std::string arn_prefix = group_arn("");
    for (std::string_view identifier : *identifiers) {
      if (identifier.starts_with(arn_prefix)) identifier.remove_prefix(arn_prefix.size());
      selected.emplace_back(identifier);
    }
  }
  // Every group is STANDARD, so a request for another class lists none.
  bool other_class = group_class && *group_class != "STANDARD";

  std::vector<GroupCandidate> catalog_groups;
  std::map<std::string, GroupCandidate, std::less<>> settings;
  for (const auto& [name, group] : catalog.groups()) {
    GroupCandidate candidate;
    candidate.name = name;
    candidate.function = std::string(function_of_group(name));
    candidate.creation_time_ms = group.creation_time_ms;
    candidate.cutoff_ms = cutoff(&group);
    if (group.created) catalog_groups.push_back(candidate);
    settings.emplace(name, std::move(candidate));
  }

  auto* store = &logs;
  std::string prefix_text = prefix.value_or("");
  std::string pattern_text = pattern.value_or("");
  std::size_t page_limit = static_cast<std::size_t>(limit.value_or(kDescribeLimit));
  auto job = [store, catalog_groups = std::move(catalog_groups), settings = std::move(settings),
              selected = std::move(selected), prefix_text, pattern_text, token, page_limit,
              other_class]() -> Result<GroupPage> {
    std::map<std::string, GroupCandidate, std::less<>> groups;
    for (const auto& function : store->list_functions()) {
      std::string name = std::string(kLambdaGroupPrefix) + function.function;
      GroupCandidate candidate;
      if (auto it = settings.find(name); it != settings.end()) candidate = it->second;
      candidate.name = name;
      candidate.function = function.function;
      if (candidate.creation_time_ms == 0) candidate.creation_time_ms = function.creation_time_ms;
      groups[name] = std::move(candidate);
    }
    for (const auto& candidate : catalog_groups) {
      if (groups.contains(candidate.name)) continue;
      GroupCandidate copy = candidate;
      copy.function.clear();  // no log directory, so no streams
      groups[copy.name] = std::move(copy);
    }
    std::vector<GroupCandidate> matching;
    if (!other_class) {
      for (auto& [name, candidate] : groups) {
        if (!name.starts_with(prefix_text)) continue;
        if (!pattern_text.empty() && name.find(pattern_text) == std::string::npos) continue;
        if (!selected.empty() &&
            std::find(selected.begin(), selected.end(), name) == selected.end()) {
          continue;
        }
        matching.push_back(std::move(candidate));
      }
    }
    return page_groups(*store, std::move(matching), token, page_limit);
  };
  auto page = co_await blocking_call(std::move(job));
  if (!page) co_return std::move(page).error();

  json::array groups;
  for (std::size_t i = 0; i < page->groups.size(); ++i) {
    const auto& group = page->groups[i];
    json::object item;
    item["logGroupName"] = group.name;
    item["creationTime"] = group.creation_time_ms;
    // With logGroupNamePattern AWS returns only the name, the creation time and the ARN.
    if (!pattern) {
      if (const auto* stored = catalog.find(group.name); stored && stored->retention_days) {
        item["retentionInDays"] = *stored->retention_days;
      }
      item["metricFilterCount"] = 0;
    }
    item["arn"] = group_arn(group.name) + ":*";
    if (!pattern) {
      item["logGroupArn"] = group_arn(group.name);
      item["storedBytes"] = page->stored_bytes[i];
      item["logGroupClass"] = "STANDARD";
    }
    groups.push_back(std::move(item));
  }
  json::object out{{"logGroups", std::move(groups)}};
  if (page->next_token) out["nextToken"] = *page->next_token;
  co_return json::serialize(out);
}

Task<Result<std::string>> LogsService::Impl::describe_log_streams(const json::object& body) {
  RequestFields fields(body);
  Status problem = ok_status();
  auto group_name = read_group(fields, problem);
  if (!group_name) co_return std::move(problem).error();
  auto prefix = fields.string("logStreamNamePrefix", kStreamName);
  auto order = fields.enumeration("orderBy", {"LogStreamName", "LastEventTime"});
  auto descending = fields.boolean("descending");
  auto token = fields.string("nextToken", kToken);
  auto limit = fields.integer("limit", 1, kDescribeLimit);
  if (auto status = fields.status(); !status) co_return std::move(status).error();
  if (prefix && order == "LastEventTime") {
    co_return invalid_parameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }

  GroupTarget group = target(*group_name);
  DescribeStreamsQuery query;
  query.function = group.function;
  query.cutoff_ms = group.cutoff_ms;
  query.prefix = prefix.value_or("");
  query.order = order == "LastEventTime" ? StreamOrder::last_event_time : StreamOrder::name;
  query.descending = descending.value_or(false);
  query.limit = static_cast<std::size_t>(limit.value_or(kDescribeLimit));
  query.token = token;
  auto* store = &logs;
  auto job = [store, group, query]() -> Result<StreamList> {
    if (!group_exists(*store, group)) return group_not_found();
    return describe_streams(*store, query);
  };
  auto list = co_await blocking_call(std::move(job));
  if (!list) co_return std::move(list).error();

  json::array streams;
  std::string arn_prefix = group_arn(group.name) + ":log-stream:";
  for (const auto& stream : list->streams) {
    json::object item;
    item["logStreamName"] = stream.name;
    item["creationTime"] = stream.creation_time_ms;
    if (stream.first_event_ms) {
      item["firstEventTimestamp"] = *stream.first_event_ms;
      item["lastEventTimestamp"] = *stream.last_event_ms;
      item["lastIngestionTime"] = stream.last_write_ms;
    }
    // Sequence tokens are no longer required by PutLogEvents; this one changes with each write.
    item["uploadSequenceToken"] = fmt::format("{:056}", stream.stored_bytes);
    item["arn"] = arn_prefix + stream.name;
    item["storedBytes"] = stream.stored_bytes;
    streams.push_back(std::move(item));
  }
  json::object out{{"logStreams", std::move(streams)}};
  if (list->next_token) out["nextToken"] = *list->next_token;
  co_return json::serialize(out);
}

Task<Result<std::string>> LogsService::Impl::get_log_events(const json::object& body) {
  RequestFields fields(body);
  Status problem = ok_status();
  auto group_name = read_group(fields, problem);
  if (!group_name) co_return std::move(problem).error();
  auto stream = fields.string("logStreamName", kStreamName, Presence::required);
  auto start = fields.integer("startTime", 0);
  auto end = fields.integer("endTime", 0);
  auto token = fields.string("nextToken", kToken);
  auto limit = fields.integer("limit", 1, kEventsLimit);
  auto from_head = fields.boolean("startFromHead");
  fields.boolean("unmask");
  if (auto status = fields.status(); !status) co_return std::move(status).error();

  GroupTarget group = target(*group_name);
  GetEventsQuery query;
  query.function = group.function;
  query.stream = *stream;
  query.cutoff_ms = group.cutoff_ms;
  query.start_ms = start;
  query.end_ms = end;
  query.start_from_head = from_head.value_or(false);
  query.token = token;
  query.limits = options.limits;
  query.limits.max_events = static_cast<std::size_t>(limit.value_or(kEventsLimit));
  auto* store = &logs;
  auto job = [store, group, query]() -> Result<EventPage> {
    if (!group_exists(*store, group)) return group_not_found();
    return get_events(*store, query);
  };
  auto page = co_await blocking_call(std::move(job));
  if (!page) co_return std::move(page).error();

  json::array events;
  for (const auto& event : page->events) {
    // Events are stored as they are written, so ingestion time is the event's own time.
    events.push_back(json::object{{"timestamp", event.timestamp_ms},
                                  {"message", event.message},
                                  {"ingestionTime", event.timestamp_ms}});
  }
  co_return json::serialize(json::object{{"events", std::move(events)},
                                         {"nextForwardToken", page->next_forward_token},
                                         {"nextBackwardToken", page->next_backward_token}});
}

Task<Result<std::string>> LogsService::Impl::filter_log_events(const json::object& body) {
  RequestFields fields(body);
  Status problem = ok_status();
  auto group_name = read_group(fields, problem);
  if (!group_name) co_return std::move(problem).error();
  auto names = fields.string_list("logStreamNames", 1, 100, kStreamName);
  auto prefix = fields.string("logStreamNamePrefix", kStreamName);
  auto start = fields.integer("startTime", 0);
  auto end = fields.integer("endTime", 0);
  auto pattern_text = fields.string("filterPattern", StringRule{0, 1024, Charset::any});
  auto token = fields.string("nextToken", kToken);
  auto limit = fields.integer("limit", 1, kEventsLimit);
  fields.boolean("interleaved");
  fields.boolean("unmask");
  if (auto status = fields.status(); !status) co_return std::move(status).error();
  if (names && prefix) {
    co_return invalid_parameter(
        "logStreamNames and logStreamNamePrefix cannot both be specified; pass one of them.");
  }
  auto pattern = parse_filter_pattern(pattern_text.value_or(""));
  if (!pattern) co_return std::move(pattern).error();

  GroupTarget group = target(*group_name);
  FilterEventsQuery query;
  query.function = group.function;
  query.cutoff_ms = group.cutoff_ms;
  if (names) query.stream_names = std::move(*names);
  query.stream_prefix = prefix.value_or("");
  query.start_ms = start;
  query.end_ms = end;
  query.pattern = std::move(*pattern);
  query.token = token;
  query.limits = options.limits;
  query.limits.max_events = static_cast<std::size_t>(limit.value_or(kEventsLimit));
  auto* store = &logs;
  auto job = [store, group, query = std::move(query)]() -> Result<FilteredPage> {
    if (!group_exists(*store, group)) return group_not_found();
    return filter_events(*store, query);
  };
  auto page = co_await blocking_call(std::move(job));
  if (!page) co_return std::move(page).error();

  json::array events;
  for (const auto& event : page->events) {
    events.push_back(json::object{{"logStreamName", event.stream},
                                  {"timestamp", event.timestamp_ms},
                                  {"message", event.message},
                                  {"ingestionTime", event.timestamp_ms},
                                  {"eventId", event_id(event)}});
  }
  json::array searched;
  for (const auto& stream : page->searched) {
    searched.push_back(
        json::object{{"logStreamName", stream.name}, {"searchedCompletely", stream.completely}});
  }
  json::object out{{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (page->next_token) out["nextToken"] = *page->next_token;
  co_return json::serialize(out);
}

Task<Result<std::string>> LogsService::Impl::put_retention_policy(const json::object& body) {
  RequestFields fields(body);
  auto name = fields.string("logGroupName", kGroupName, Presence::required);
  auto days = fields.integer("retentionInDays", std::numeric_limits<std::int64_t>::min(),
                             std::numeric_limits<std::int64_t>::max(), Presence::required);
  if (days && !is_allowed_retention(*days)) {
    fields.violation(
        "retentionInDays", fmt::format("'{}'", *days),
        fmt::format("Member must satisfy enum value set: {}", allowed_retention_list()));
  }
  if (auto status = fields.status(); !status) co_return std::move(status).error();

  GroupTarget group = target(*name);
  auto* store = &logs;
  auto exists = [store, group]() { return group_exists(*store, group); };
  bool found = co_await blocking_call(std::move(exists));
  if (!found) co_return group_not_found();

  LogGroupSettings settings;
  if (const auto* stored = catalog.find(group.name)) settings = *stored;
  settings.retention_days = static_cast<int>(*days);
  auto saved = co_await catalog.put(group.name, settings);
  if (!saved) co_return std::move(saved).error();
  LOG_INFO("logs", "retention_set", "log_group={} retention_days={}", group.name, *days);
  sweep_requested.set();
  co_return std::string();
}

Task<Result<std::string>> LogsService::Impl::delete_retention_policy(const json::object& body) {
  RequestFields fields(body);
  auto name = fields.string("logGroupName", kGroupName, Presence::required);
  if (auto status = fields.status(); !status) co_return std::move(status).error();

  GroupTarget group = target(*name);
  auto* store = &logs;
  auto exists = [store, group]() { return group_exists(*store, group); };
  bool found = co_await blocking_call(std::move(exists));
  if (!found) co_return group_not_found();

  const auto* stored = catalog.find(group.name);
  if (!stored || !stored->retention_days) co_return std::string();
  LogGroupSettings settings = *stored;
  settings.retention_days.reset();
  Status saved = ok_status();
  if (settings.created || settings.creation_time_ms != 0) {
    saved = co_await catalog.put(group.name, settings);
  } else {
    saved = co_await catalog.remove(group.name);
  }
  if (!saved) co_return std::move(saved).error();
  LOG_INFO("logs", "retention_removed", "log_group={}", group.name);
  co_return std::string();
}

Task<Result<std::string>> LogsService::Impl::create_log_group(const json::object& body) {
  RequestFields fields(body);
  auto name = fields.string("logGroupName", kGroupName, Presence::required);
  fields.string("kmsKeyId", StringRule{0, 256, Charset::any});
  auto group_class =
      fields.enumeration("logGroupClass", {"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"});
  fields.boolean("deletionProtectionEnabled");
  if (const auto* tags = body.if_contains("tags"); tags && !tags->is_object() && !tags->is_null()) {
    co_return make_error(Errc::invalid_content, "The value of 'tags' must be a map of strings.");
  }
  if (auto status = fields.status(); !status) co_return std::move(status).error();
  if (group_class && *group_class != "STANDARD") {
    co_return invalid_parameter(fmt::format(
        "Lambent keeps every log group in the STANDARD class; logGroupClass {} is not supported.",
        *group_class));
  }

  GroupTarget group = target(*name);
  auto* store = &logs;
  auto exists = [store, group]() { return group_exists(*store, group); };
  bool found = co_await blocking_call(std::move(exists));
  if (found) {
    co_return make_error(Errc::conflict, "The specified log group already exists");
  }
  LogGroupSettings settings;
  if (const auto* stored = catalog.find(group.name)) settings = *stored;
  settings.created = true;
  settings.creation_time_ms = now();
  auto saved = co_await catalog.put(group.name, settings);
  if (!saved) co_return std::move(saved).error();
  LOG_INFO("logs", "log_group_created", "log_group={}", group.name);
  co_return std::string();
}

Task<Result<std::string>> LogsService::Impl::delete_log_group(const json::object& body) {
  RequestFields fields(body);
  auto name = fields.string("logGroupName", kGroupName, Presence::required);
  if (auto status = fields.status(); !status) co_return std::move(status).error();

  GroupTarget group = target(*name);
  auto* store = &logs;
  auto remove_files = [store, group]() -> bool {
    if (!group_exists(*store, group)) return false;
    if (!group.function.empty()) store->remove_function(group.function);
    return true;
  };
  bool removed_files = co_await blocking_call(std::move(remove_files));
  if (!removed_files) co_return group_not_found();
  if (catalog.find(group.name)) {
    auto removed = co_await catalog.remove(group.name);
    if (!removed) co_return std::move(removed).error();
  }
  LOG_INFO("logs", "log_group_deleted", "log_group={}", group.name);
  co_return std::string();
}

Task<void> LogsService::Impl::sweep_loop() {
  while (!stopping) {
    co_await sweep_once();
    if (stopping) break;
    co_await sweep_requested.wait(options.sweep_interval);
    sweep_requested.reset();
  }
}

Task<void> LogsService::Impl::sweep_once() {
  std::vector<std::pair<std::string, std::int64_t>> targets;  // function, cutoff
  for (const auto& [name, group] : catalog.groups()) {
    std::string_view function = function_of_group(name);
    if (function.empty() || !group.retention_days) continue;
    targets.emplace_back(std::string(function), cutoff(&group));
  }
  if (targets.empty()) co_return;
  auto* store = &logs;
  auto job = [store, targets]() {
    std::vector<std::pair<std::string, std::size_t>> removed;
    for (const auto& [function, cutoff_ms] : targets) {
      auto streams = store->remove_streams_before(function, cutoff_ms);
      if (!streams.empty()) removed.emplace_back(function, streams.size());
    }
    return removed;
  };
  auto removed = co_await blocking_call(std::move(job));
  for (const auto& [function, count] : removed) {
    LOG_INFO("logs", "retention_deleted", "log_group={}{} streams={}", kLambdaGroupPrefix, function,
             count);
  }
}

}  // namespace lambent::services::logs
