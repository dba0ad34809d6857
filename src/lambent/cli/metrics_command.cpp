// `lambent metrics NAME`: a function's Lambda metrics over a recent window as one sparkline per
// metric, read with CloudWatch's GetMetricData (JSON 1.0 protocol).
#include "lambent/cli/commands.h"
#include "lambent/cli/connection.h"
#include "lambent/cli/report.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>

namespace lambent::cli {

namespace json = boost::json;

namespace {

// The line layout: label, sparkline and summary in 80 columns.
constexpr std::size_t kLabelWidth = 15;
constexpr std::size_t kSparkWidth = 44;
// GetMetricData returns at most 100,800 datapoints per call; the seven series share them.
constexpr std::int64_t kMaxPeriods = 100'800 / 7;

struct Chart {
  const char* id;  // GetMetricData query id
  const char* label;
  const char* metric;
  const char* stat;
  Combine combine;
  const char* unit;  // suffix of the range; empty for counts
};

constexpr Chart kCharts[] = {
    {"invocations", "Invocations", "Invocations", "Sum", Combine::sum, ""},
    {"errors", "Errors", "Errors", "Sum", Combine::sum, ""},
    {"throttles", "Throttles", "Throttles", "Sum", Combine::sum, ""},
    {"duration_avg", "Duration avg", "Duration", "Average", Combine::mean, " ms"},
    {"duration_p99", "Duration p99", "Duration", "p99", Combine::max, " ms"},
    {"concurrency", "Concurrency max", "ConcurrentExecutions", "Maximum", Combine::max, ""},
    {"iterator_age", "IteratorAge max", "IteratorAge", "Maximum", Combine::max, " ms"},
};

double number(const json::value& value) {
  if (value.is_double()) return value.as_double();
  if (value.is_int64()) return static_cast<double>(value.as_int64());
  if (value.is_uint64()) return static_cast<double>(value.as_uint64());
  return std::nan("");
}

// Epoch seconds of a JSON 1.0 timestamp: a number of seconds, or an ISO 8601 string in UTC.
std::optional<std::int64_t> timestamp_seconds(const json::value& value) {
  if (!value.is_string()) {
    double seconds = number(value);
    if (std::isnan(seconds)) return std::nullopt;
    return static_cast<std::int64_t>(std::floor(seconds));
  }
  std::tm tm{};
  std::string text(value.as_string());
  if (!strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string utc_clock(std::int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

std::string request_body(const std::string& name, std::int64_t start_s, std::int64_t end_s,
                         int period_s) {
  json::array queries;
  for (const auto& chart : kCharts) {
    json::object metric{
        {"Namespace", "AWS/Lambda"},
        {"MetricName", chart.metric},
        {"Dimensions", json::array{json::object{{"Name", "FunctionName"}, {"Value", name}}}}};
    queries.push_back(json::object{
        {"Id", chart.id},
        {"MetricStat",
         json::object{{"Metric", std::move(metric)}, {"Period", period_s}, {"Stat", chart.stat}}},
        {"ReturnData", true}});
  }
  return json::serialize(json::object{{"MetricDataQueries", std::move(queries)},
                                      {"StartTime", start_s},
                                      {"EndTime", end_s},
                                      {"ScanBy", "TimestampAscending"}});
}

std::string summary(const Chart& chart, const std::vector<std::optional<double>>& values) {
  std::optional<double> low;
  std::optional<double> high;
  double total = 0;
  for (const auto& v : values) {
    if (!v) continue;
    total += *v;
    low = low ? std::min(*low, *v) : *v;
    high = high ? std::max(*high, *v) : *v;
  }
  if (!low) return "no data";
  if (chart.combine == Combine::sum) return "total " + compact_number(total);
  if (*low == *high) return compact_number(*low) + chart.unit;
  return compact_number(*low) + "–" + compact_number(*high) + chart.unit;
}

}  // namespace

int metrics(const ClientOptions& client, const std::string& name, const std::string& since,
            int period_s) {
  auto window_s = parse_duration_seconds(since);
  if (!window_s) {
    std::cerr << "lambent: invalid --since '" << since
              << "': expected a duration such as 90s, 30m, 1h or 7d\n";
    return 2;
  }
  // CloudWatch's rule for Period: 1, 5, 10, 30, or a multiple of 60 seconds.
  bool valid_period = period_s == 1 || period_s == 5 || period_s == 10 || period_s == 20 ||
                      period_s == 30 ||
                      (period_s >= 60 && period_s % 60 == 0);
  if (!valid_period) {
    std::cerr << "lambent: invalid --period " << period_s
              << ": expected 1, 5, 10, 20, 30 or a multiple of 60 seconds\n";
    return 2;
  }
  std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  // Whole periods: the last one contains now, the first one the start of the window.
  std::int64_t end_s = (now_s / period_s + 1) * period_s;
  std::int64_t start_s = (now_s - *window_s) / period_s * period_s;
  std::int64_t periods = (end_s - start_s) / period_s;
  if (periods > kMaxPeriods) {
    std::cerr << "lambent: --since " << since << " holds " << periods << " periods of " << period_s
              << " s; at most " << kMaxPeriods << " fit one request, so use a longer --period\n";
    return 2;
  }

  Connection c;
  if (!connect(client, c)) return 1;
  c.credentials.service = "monitoring";
  http::HeaderList headers{{"content-type", "application/x-amz-json-1.0"},
                           {"x-amz-target", "GraniteServiceVersion20100801.GetMetricData"}};

  // Values per query id, one slot per period.
  std::map<std::string, std::vector<std::optional<double>>> series;
  for (const auto& chart : kCharts) {
    series[chart.id].assign(static_cast<std::size_t>(periods), std::nullopt);
  }
  std::string next_token;
  do {
    std::string body = request_body(name, start_s, end_s, period_s);
    if (!next_token.empty()) {
      auto document = json::parse(body).as_object();
      document["NextToken"] = next_token;
      body = json::serialize(document);
    }
    http::Response response;
    if (!call(c, "POST", "/", std::move(body), response, headers)) return 1;
    boost::system::error_code ec;
    auto parsed = json::parse(response.body, ec);
    if (ec || !parsed.is_object()) {
      std::cerr << "lambent: the GetMetricData response is not a JSON object\n";
      return 1;
    }
    const auto& document = parsed.as_object();
    const auto* results = document.if_contains("MetricDataResults");
    if (!results || !results->is_array()) {
      std::cerr << "lambent: the GetMetricData response has no MetricDataResults\n";
      return 1;
    }
    for (const auto& item : results->as_array()) {
      if (!item.is_object()) continue;
      const auto& result = item.as_object();
      const auto* id = result.if_contains("Id");
      const auto* stamps = result.if_contains("Timestamps");
      const auto* values = result.if_contains("Values");
      if (!id || !id->is_string() || !stamps || !stamps->is_array() || !values ||
          !values->is_array()) {
        continue;
      }
      auto slot = series.find(std::string(id->as_string()));
      if (slot == series.end()) continue;
      const auto& times = stamps->as_array();
      const auto& numbers = values->as_array();
      for (std::size_t i = 0; i < std::min(times.size(), numbers.size()); ++i) {
        auto at = timestamp_seconds(times[i]);
        double value = number(numbers[i]);
        if (!at || std::isnan(value) || *at < start_s || *at >= end_s) continue;
        slot->second[static_cast<std::size_t>((*at - start_s) / period_s)] = value;
      }
    }
    const auto* token = document.if_contains("NextToken");
    next_token = token && token->is_string() ? std::string(token->as_string()) : "";
  } while (!next_token.empty());

  std::size_t per_bucket = 1;
  std::vector<std::string> lines;
  for (const auto& chart : kCharts) {
    const auto& values = series[chart.id];
    auto buckets = downsample(values, kSparkWidth, chart.combine, per_bucket);
    std::string label = chart.label;
    label.resize(kLabelWidth, ' ');
    lines.push_back(label + " " + sparkline(buckets) +
                    std::string(kSparkWidth - buckets.size(), ' ') + " " + summary(chart, values));
  }
  std::cout << fmt::format("{}: {} to {} UTC, {} s periods", name, utc_clock(start_s),
                           utc_clock(end_s), period_s);
  if (per_bucket > 1) std::cout << fmt::format(", {} per character", per_bucket);
  std::cout << "\n";
  for (auto& line : lines) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  }
  return 0;
}

}  // namespace lambent::cli
