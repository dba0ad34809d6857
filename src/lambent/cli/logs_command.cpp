// `lambent logs`: a function's log lines through the CloudWatch Logs API.
#include "lambent/cli/commands.h"
#include "lambent/cli/connection.h"
#include "lambent/cli/report.h"
#include "lambent/services/logs/filter_pattern.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <limits>
#include <set>
#include <thread>

namespace lambent::cli {

namespace json = boost::json;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(500);

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct CallError {
  std::string type;
  std::string message;
  unsigned status = 0;
};

// Calls one CloudWatch Logs operation. Returns the response object, or fills `error`.
std::optional<json::object> call_logs(const Connection& connection, std::string_view operation,
                                      const json::object& request, CallError& error) {
  http::Request http_request;
  http_request.method = "POST";
  http_request.target = "/";
  http_request.headers.emplace_back("content-type", "application/x-amz-json-1.1");
  http_request.headers.emplace_back("x-amz-target", "Logs_20140328." + std::string(operation));
  http_request.body = json::serialize(request);
  http::ClientCredentials credentials = connection.credentials;
  credentials.service = "logs";
  auto response = http::send(connection.endpoint, http_request, credentials);
  if (!response) {
    error = {"", response.error().message, 0};
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(response->body, ec);
  if (response->status == 200 && !ec && parsed.is_object()) return std::move(parsed.as_object());
  error.status = response->status;
  error.message = response->body;
  if (!ec && parsed.is_object()) {
    const auto& body = parsed.as_object();
    if (auto* type = body.if_contains("__type"); type && type->is_string()) {
      error.type = std::string(type->as_string());
    }
    if (auto* message = body.if_contains("message"); message && message->is_string()) {
      error.message = std::string(message->as_string());
    }
  }
  return std::nullopt;
}

void print_error(const CallError& error) {
  if (error.status == 0) {
    std::cerr << "lambent: " << error.message << "\n";
    return;
  }
  std::cerr << "lambent: " << (error.type.empty() ? "error" : error.type) << " (HTTP "
            << error.status << "): " << error.message << "\n";
}

struct Event {
  std::string stream;
  std::int64_t timestamp = 0;
  std::string message;
  std::string id;
};

Event event_of(const json::value& value) {
  const auto& object = value.as_object();
  Event event;
  if (auto* v = object.if_contains("logStreamName"); v && v->is_string()) {
    event.stream = std::string(v->as_string());
  }
  if (auto* v = object.if_contains("timestamp"); v && v->is_int64())
    event.timestamp = v->as_int64();
  if (auto* v = object.if_contains("message"); v && v->is_string()) {
    event.message = std::string(v->as_string());
  }
  if (auto* v = object.if_contains("eventId"); v && v->is_string()) {
    event.id = std::string(v->as_string());
  }
  return event;
}

enum class Fetch { ok, no_group, failed };

// Reads every page of FilterLogEvents from `start_ms` into `events`.
Fetch filter_all(const Connection& connection, const std::string& group, std::int64_t start_ms,
                 const std::string& pattern, std::vector<Event>& events, bool quiet_missing) {
  std::optional<std::string> token;
  do {
    json::object request{{"logGroupName", group}};
    if (start_ms > 0) request["startTime"] = start_ms;
    if (!pattern.empty()) request["filterPattern"] = pattern;
    if (token) request["nextToken"] = *token;
    CallError error;
    auto response = call_logs(connection, "FilterLogEvents", request, error);
    if (!response) {
      if (error.type == "ResourceNotFoundException" && quiet_missing) return Fetch::no_group;
      print_error(error);
      return Fetch::failed;
    }
    if (auto* list = response->if_contains("events"); list && list->is_array()) {
      for (const auto& value : list->as_array()) events.push_back(event_of(value));
    }
    token.reset();
    if (auto* next = response->if_contains("nextToken"); next && next->is_string()) {
      token = std::string(next->as_string());
    }
  } while (token);
  return Fetch::ok;
}

// The lines of one invocation: its stream from the START line through the REPORT line (or
// through the stream's current end while it runs). Returns true once REPORT is among them.
bool invocation_lines(const Connection& connection, const std::string& group,
                      const std::string& request_id, std::int64_t start_ms,
                      std::vector<std::string>& lines, Fetch& fetch) {
  std::vector<Event> marked;
  fetch = filter_all(connection, group, start_ms, "\"RequestId: " + request_id + "\"", marked,
                     /*quiet_missing=*/true);
  if (fetch != Fetch::ok) return false;
  const std::string start_line = "START RequestId: " + request_id + " ";
  const std::string report_line = "REPORT RequestId: " + request_id;
  const Event* start = nullptr;
  for (const auto& event : marked) {
    if (event.message.starts_with(start_line)) {
      start = &event;
      break;
    }
  }
  if (!start) {
    // Without its START line (expired, or written by another tool) only the lines that name
    // the request id can be shown.
    for (const auto& event : marked) lines.push_back(event.message);
    return false;
  }

  std::optional<std::string> token;
  bool started = false;
  for (;;) {
    json::object request{{"logGroupName", group},
                         {"logStreamName", start->stream},
                         {"startTime", start->timestamp},
                         {"startFromHead", true}};
    if (token) request["nextToken"] = *token;
    CallError error;
    auto response = call_logs(connection, "GetLogEvents", request, error);
    if (!response) {
      print_error(error);
      fetch = Fetch::failed;
      return false;
    }
    if (auto* list = response->if_contains("events"); list && list->is_array()) {
      for (const auto& value : list->as_array()) {
        Event event = event_of(value);
        if (!started) started = event.message.starts_with(start_line);
        if (!started) continue;
        lines.push_back(event.message);
        if (event.message.starts_with(report_line)) return true;
      }
    }
    std::string next;
    if (auto* v = response->if_contains("nextForwardToken"); v && v->is_string()) {
      next = std::string(v->as_string());
    }
    if (next.empty() || (token && next == *token)) return false;
    token = std::move(next);
  }
}

int print_invocation(const Connection& connection, const std::string& name,
                     const std::string& group, const LogsCommandOptions& options,
                     std::int64_t start_ms, const services::logs::FilterPattern& pattern) {
  for (;;) {
    std::vector<std::string> lines;
    Fetch fetch = Fetch::ok;
    bool finished = invocation_lines(connection, group, options.request_id, start_ms, lines, fetch);
    if (fetch == Fetch::failed) return 1;
    if (finished || (!options.follow && !lines.empty())) {
      for (const auto& line : lines) {
        if (pattern.matches(line)) std::cout << line << "\n";
      }
      std::cout.flush();
      return 0;
    }
    if (!options.follow) {
      std::cerr << "lambent: no log lines of request " << options.request_id << " in the logs of "
                << name << "\n";
      return 1;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

int logs(const ClientOptions& client, const std::string& name, const LogsCommandOptions& options) {
  std::int64_t start_ms = 0;
  if (!options.since.empty()) {
    auto seconds = parse_duration_seconds(options.since);
    if (!seconds) {
      std::cerr << "lambent: invalid --since '" << options.since
                << "': expected a number of seconds or a duration such as 30s, 10m, 2h, 1d or 1w\n";
      return 2;
    }
    if (*seconds > 0) start_ms = std::max<std::int64_t>(0, now_ms() - *seconds * 1000);
  }
  // Checked here too, so a bad pattern fails before any request, and --request-id can apply
  // it to the invocation's lines.
  auto pattern = services::logs::parse_filter_pattern(options.filter);
  if (!pattern) {
    std::cerr << "lambent: invalid --filter '" << options.filter << "': " << pattern.error().message
              << "\n";
    return 2;
  }

  Connection connection;
  if (!connect(client, connection)) return 1;
  const std::string group = "/aws/lambda/" + name;
  if (!options.request_id.empty()) {
    return print_invocation(connection, name, group, options, start_ms, *pattern);
  }

  // Events at the newest timestamp printed are remembered by id, so a poll that starts at
  // that millisecond prints each of them once.
  std::int64_t newest = start_ms;
  std::set<std::string> printed_at_newest;
  for (;;) {
    std::vector<Event> events;
    Fetch fetch = filter_all(connection, group, newest, options.filter, events, options.follow);
    if (fetch == Fetch::failed) return 1;
    for (const auto& event : events) {
      if (event.timestamp < newest) continue;
      if (event.timestamp == newest && printed_at_newest.contains(event.id)) continue;
      std::cout << event.message << "\n";
      if (event.timestamp > newest) {
        newest = event.timestamp;
        printed_at_newest.clear();
      }
      printed_at_newest.insert(event.id);
    }
    std::cout.flush();
    if (!options.follow) return 0;
    // A function that has not run yet has no log group: keep waiting for its first lines.
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace lambent::cli
