// `lambent cost`: requests, GB-seconds, CPU-seconds and their cost per function version, from
// the server's GET /_lambent/cost.
#include "lambent/cli/commands.h"
#include "lambent/cli/connection.h"
#include "lambent/cli/report.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>

namespace lambent::cli {

namespace json = boost::json;

namespace {

double number(const json::value& value) {
  if (value.is_double()) return value.as_double();
  if (value.is_int64()) return static_cast<double>(value.as_int64());
  if (value.is_uint64()) return static_cast<double>(value.as_uint64());
  return 0;
}

// A price with up to ten decimals and no trailing zeros: 0.0000002, not 2e-07.
std::string price_text(double price) {
  std::string text = fmt::format("{:.10f}", price);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string utc_minute(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M UTC", &tm);
  return buffer;
}

std::vector<std::string> cost_cells(const json::object& row, std::string function,
                                    std::string version) {
  return {std::move(function),
          std::move(version),
          fmt::format("{}", row.at("requests").as_int64()),
          fmt::format("{:.6f}", number(row.at("gb_seconds"))),
          fmt::format("{:.3f}", number(row.at("cpu_seconds"))),
          fmt::format("{:.8f}", number(row.at("request_cost"))),
          fmt::format("{:.8f}", number(row.at("compute_cost"))),
          fmt::format("{:.8f}", number(row.at("total")))};
}

}  // namespace

int cost(const ClientOptions& client, const std::string& since) {
  std::int64_t since_ms = 0;
  if (since != "all") {
    auto seconds = parse_duration_seconds(since);
    if (!seconds) {
      std::cerr << "lambent: invalid --since '" << since
                << "': expected a duration such as 90s, 30m, 24h or 7d, or all\n";
      return 2;
    }
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    since_ms = std::max<std::int64_t>(0, now_ms - *seconds * 1000);
  }
  Connection c;
  if (!connect(client, c)) return 1;
  http::Response response;
  if (!call(c, "GET", "/_lambent/cost?since_ms=" + std::to_string(since_ms), "", response)) {
    return 1;
  }
  boost::system::error_code ec;
  auto parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object()) {
    std::cerr << "lambent: the server's cost report is not a JSON object\n";
    return 1;
  }
  const auto& report = parsed.as_object();
  try {
    std::vector<std::vector<std::string>> rows{{"FUNCTION", "VERSION", "REQUESTS", "GB-SECONDS",
                                                "CPU-SECONDS", "REQUEST $", "COMPUTE $",
                                                "TOTAL $"}};
    for (const auto& item : report.at("rows").as_array()) {
      const auto& row = item.as_object();
      rows.push_back(cost_cells(row, std::string(row.at("function").as_string()),
                                std::string(row.at("version").as_string())));
    }
    rows.push_back(cost_cells(report.at("totals").as_object(), "TOTAL", ""));
    std::cout << format_table(rows, {false, false, true, true, true, true, true, true});
    const auto& prices = report.at("prices").as_object();
    std::int64_t report_since_ms = report.at("since_ms").as_int64();
    std::string window = report_since_ms > 0 ? "Since " + utc_minute(report_since_ms)
                                             : std::string("Every retained minute");
    std::cout << fmt::format("{}. Prices in US dollars: {} per request, {} per GB-second.\n",
                             window, price_text(number(prices.at("per_request"))),
                             price_text(number(prices.at("per_gb_second"))));
  } catch (const std::exception& e) {
    std::cerr << "lambent: the server's cost report lacks a field: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace lambent::cli
