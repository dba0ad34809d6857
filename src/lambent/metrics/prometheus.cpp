#include "lambent/metrics/prometheus.h"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>
#include <vector>

namespace lambent::metrics {

namespace {

// CloudWatch names in Prometheus style: "ConcurrentExecutions" -> "concurrent_executions".
std::string snake_case(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

std::string labels(const Dimensions& dimensions, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  std::string out;
  auto add = [&out](std::string_view name, std::string_view value) {
    out += out.empty() ? "{" : ",";
    out += name;
    out += "=\"";
    append_escaped(out, value);
    out += "\"";
  };
  for (const auto& dimension : dimensions) add(snake_case(dimension.name), dimension.value);
  if (!extra_name.empty()) add(extra_name, extra_value);
  if (!out.empty()) out += "}";
  return out;
}

struct Family {
  std::string type;
  std::string help;
  std::vector<std::string> samples;
};

const std::set<std::string_view>& counter_metrics() {
  static const std::set<std::string_view> names = {
      "Invocations",
      "Errors",
      "Throttles",
      "DeadLetterErrors",
      "DestinationDeliveryFailures",
      "AsyncEventsReceived",
      "AsyncEventsDropped",
      "ProvisionedConcurrencyInvocations",
      "ProvisionedConcurrencySpilloverInvocations",
  };
  return names;
}

const std::set<std::string_view>& summary_metrics() {
  static const std::set<std::string_view> names = {"Duration", "AsyncEventAge", "IteratorAge"};
  return names;
}

}  // namespace

std::string render_prometheus(const MetricStore& store, const LambdaMetrics& lambda,
                              const ServerHealth& health) {
  std::map<std::string, Family> families;
  store.for_each_total([&](const MetricKey& key, const std::string& unit, double sum,
                           double count, const Sketch& sketch) {
    if (key.ns != kLambdaNamespace) return;
    std::string base = "lambent_lambda_" + snake_case(key.name);
    if (counter_metrics().count(key.name)) {
      auto& family = families[base + "_total"];
      family.type = "counter";
      family.help = "AWS/Lambda " + key.name + " (Sum) since the server started.";
      family.samples.push_back(fmt::format("{}_total{} {}", base, labels(key.dimensions), sum));
    } else if (summary_metrics().count(key.name)) {
      std::string name = base + "_milliseconds";
      auto& family = families[name];
      family.type = "summary";
      family.help = "AWS/Lambda " + key.name + " in " + unit +
                    " since the server started; quantiles within 1%.";
      for (double q : {0.5, 0.9, 0.99}) {
        family.samples.push_back(fmt::format("{}{} {}", name,
                                             labels(key.dimensions, "quantile", fmt::format("{}", q)),
                                             sketch.quantile(q)));
      }
      family.samples.push_back(fmt::format("{}_sum{} {}", name, labels(key.dimensions), sum));
      family.samples.push_back(fmt::format("{}_count{} {}", name, labels(key.dimensions), count));
    }
  });

  auto& running = families["lambent_lambda_concurrent_executions"];
  running.type = "gauge";
  running.help = "Invocations running now, in total and by function.";
  running.samples.push_back(
      fmt::format("lambent_lambda_concurrent_executions {}", lambda.running_total()));
  for (const auto& [function, count] : lambda.running_by_function()) {
    running.samples.push_back(fmt::format("lambent_lambda_concurrent_executions{} {}",
                                          labels({{"FunctionName", function}}), count));
  }

  auto& environments = families["lambent_environments"];
  environments.type = "gauge";
  environments.help = "Execution environments by state.";
  for (auto [state, count] : {std::pair{"starting", health.environments_starting},
                              std::pair{"idle", health.environments_idle},
                              std::pair{"busy", health.environments_busy},
                              std::pair{"stopping", health.environments_stopping}}) {
    environments.samples.push_back(
        fmt::format("lambent_environments{{state=\"{}\"}} {}", state, count));
  }
  auto gauge = [&families](std::string name, std::string help, double value) {
    auto& family = families[name];
    family.type = "gauge";
    family.help = std::move(help);
    family.samples.push_back(fmt::format("{} {}", name, value));
  };
  auto counter = [&families](std::string name, std::string help, double value) {
    auto& family = families[name];
    family.type = "counter";
    family.help = std::move(help);
    family.samples.push_back(fmt::format("{} {}", name, value));
  };
  if (health.async_events_stored >= 0) {
    gauge("lambent_async_events_stored", "Asynchronous events queued or being delivered.",
          static_cast<double>(health.async_events_stored));
  }
  gauge("lambent_async_events_in_flight", "Asynchronous events being delivered now.",
        static_cast<double>(health.async_events_in_flight));
  counter("lambent_store_commits_total", "SQLite group commits.",
          static_cast<double>(health.store_commits));
  counter("lambent_store_commit_seconds_total", "Time spent in SQLite group commits.",
          health.store_commit_seconds);
  counter("lambent_metric_flushes_total", "Writes of in-memory metric buckets to the store.",
          static_cast<double>(health.metric_flushes));
  counter("lambent_metric_flush_seconds_total",
          "Time from submitting metric writes to their commit.", health.metric_flush_seconds);
  gauge("lambent_uptime_seconds", "Seconds since the server started.", health.uptime_seconds);

  std::string out;
  for (const auto& [name, family] : families) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name, family.type);
    for (const auto& sample : family.samples) {
      out += sample;
      out.push_back('\n');
    }
  }
  return out;
}

}  // namespace lambent::metrics
