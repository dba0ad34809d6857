#include "lambent/metrics/lambda_metrics.h"

#include <array>
#include <vector>

namespace lambent::metrics {

namespace {

enum Metric {
  kInvocations,
  kErrors,
  kDuration,
  kThrottles,
  kConcurrentExecutions,
  kUnreservedConcurrentExecutions,
  kDeadLetterErrors,
  kDestinationDeliveryFailures,
  kAsyncEventsReceived,
  kAsyncEventAge,
  kAsyncEventsDropped,
  kProvisionedConcurrencyInvocations,
  kProvisionedConcurrencySpilloverInvocations,
  kProvisionedConcurrentExecutions,
  kProvisionedConcurrencyUtilization,
  kIteratorAge,
  kMetricCount,
};

struct MetricInfo {
  std::string_view name;
  std::string_view unit;
};

// Names and units as Lambda publishes them.
constexpr std::array<MetricInfo, kMetricCount> kMetrics = {{
    {"Invocations", "Count"},
    {"Errors", "Count"},
    {"Duration", "Milliseconds"},
    {"Throttles", "Count"},
    {"ConcurrentExecutions", "Count"},
    {"UnreservedConcurrentExecutions", "Count"},
    {"DeadLetterErrors", "Count"},
    {"DestinationDeliveryFailures", "Count"},
    {"AsyncEventsReceived", "Count"},
    {"AsyncEventAge", "Milliseconds"},
    {"AsyncEventsDropped", "Count"},
    {"ProvisionedConcurrencyInvocations", "Count"},
    {"ProvisionedConcurrencySpilloverInvocations", "Count"},
    {"ProvisionedConcurrentExecutions", "Count"},
    {"ProvisionedConcurrencyUtilization", "None"},
    {"IteratorAge", "Milliseconds"},
}};

}  // namespace

struct LambdaMetrics::DimensionSet {
  Dimensions dimensions;
  std::array<MetricStore::Series*, kMetricCount> series{};
};

struct LambdaMetrics::Target {
  std::string function;
  // Account, function, then (when the call was qualified) resource and executed version.
  std::vector<DimensionSet*> sets;
  DimensionSet* resource = nullptr;  // {FunctionName, Resource}, or null
  std::int64_t* function_running = nullptr;
  std::int64_t running = 0;  // invocations of this target running now
};

LambdaMetrics::LambdaMetrics(MetricStore& store) : store_(store) {}

LambdaMetrics::~LambdaMetrics() = default;

LambdaMetrics::DimensionSet* LambdaMetrics::dimension_set(Dimensions dimensions) {
  normalize(dimensions);
  std::string key;
  for (const auto& dimension : dimensions) {
    key += dimension.name;
    key.push_back('\x1f');
    key += dimension.value;
    key.push_back('\x1e');
  }
  auto& slot = sets_[key];
  if (!slot) {
    slot = std::make_unique<DimensionSet>();
    slot->dimensions = std::move(dimensions);
  }
  return slot.get();
}

LambdaMetrics::Target* LambdaMetrics::target(std::string_view function,
                                             std::string_view qualifier, bool alias,
                                             std::string_view executed_version) {
  // $LATEST is what an unqualified call runs, and Lambda publishes no Resource for it.
  if (qualifier == "$LATEST") qualifier = {};
  key_.clear();
  key_.append(function).push_back('\n');
  key_.append(qualifier).push_back('\n');
  key_.push_back(alias ? 'a' : 'v');
  key_.append(executed_version);
  if (auto it = targets_.find(std::string_view(key_)); it != targets_.end()) {
    return it->second.get();
  }
  auto target = std::make_unique<Target>();
  target->function = std::string(function);
  target->sets.push_back(dimension_set({}));
  target->sets.push_back(dimension_set({{"FunctionName", target->function}}));
  if (!qualifier.empty()) {
    std::string resource = target->function + ":" + std::string(qualifier);
    target->resource = dimension_set({{"FunctionName", target->function}, {"Resource", resource}});
    target->sets.push_back(target->resource);
    if (alias && !executed_version.empty()) {
      target->sets.push_back(dimension_set({{"ExecutedVersion", std::string(executed_version)},
                                            {"FunctionName", target->function},
                                            {"Resource", resource}}));
    }
  }
  target->function_running = &running_[target->function];
  auto* out = target.get();
  targets_.emplace(key_, std::move(target));
  return out;
}

LambdaMetrics::Target* LambdaMetrics::target_for_arn(std::string_view invoked_arn,
                                                     std::string_view executed_version) {
  // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER], or a bare name.
  std::string_view rest = invoked_arn;
  if (rest.starts_with("arn:")) {
    for (int i = 0; i < 6; ++i) {
      auto colon = rest.find(':');
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  auto colon = rest.find(':');
  std::string_view name = rest.substr(0, colon);
  std::string_view qualifier = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  return target(name, qualifier, is_alias_qualifier(qualifier), executed_version);
}

MetricStore::Series* LambdaMetrics::series(DimensionSet* set, int metric) {
  auto& series = set->series[metric];
  if (!series) {
    series = store_.series(MetricKey{std::string(kLambdaNamespace),
                                     std::string(kMetrics[metric].name), set->dimensions},
                           kMetrics[metric].unit);
  }
  return series;
}

void LambdaMetrics::count(Target* target, int metric, double value, std::int64_t now_ms) {
  for (DimensionSet* set : target->sets) store_.add(series(set, metric), value, now_ms);
}

void LambdaMetrics::started(Target* target, std::int64_t unreserved_running,
                            std::int64_t now_ms) {
  ++running_total_;
  ++*target->function_running;
  ++target->running;
  std::int64_t values[] = {running_total_, *target->function_running, target->running,
                           target->running};
  for (std::size_t i = 0; i < target->sets.size(); ++i) {
    store_.add(series(target->sets[i], kConcurrentExecutions), static_cast<double>(values[i]),
               now_ms);
  }
  // The account-wide set comes first.
  store_.add(series(target->sets[0], kUnreservedConcurrentExecutions),
             static_cast<double>(unreserved_running), now_ms);
}

void LambdaMetrics::finished(Target* target, bool error, double duration_ms,
                             bool has_provisioned, bool provisioned,
                             std::int64_t provisioned_allocated, std::int64_t now_ms) {
  count(target, kInvocations, 1, now_ms);
  count(target, kErrors, error ? 1 : 0, now_ms);
  count(target, kDuration, duration_ms, now_ms);
  if (has_provisioned && target->resource != nullptr) {
    // Provisioned concurrency metrics exist for versions and aliases only.
    auto add = [&](int metric, double value) {
      store_.add(series(target->resource, metric), value, now_ms);
    };
    add(provisioned ? kProvisionedConcurrencyInvocations
                    : kProvisionedConcurrencySpilloverInvocations,
        1);
    if (provisioned) {
      add(kProvisionedConcurrentExecutions, static_cast<double>(target->running));
      if (provisioned_allocated > 0) {
        add(kProvisionedConcurrencyUtilization,
            static_cast<double>(target->running) / static_cast<double>(provisioned_allocated));
      }
    }
  }
  release(target);
}

void LambdaMetrics::abandoned(Target* target) { release(target); }

void LambdaMetrics::release(Target* target) {
  --running_total_;
  --*target->function_running;
  --target->running;
}

void LambdaMetrics::throttled(Target* target, std::int64_t now_ms) {
  count(target, kThrottles, 1, now_ms);
}

void LambdaMetrics::async_received(Target* target, std::int64_t now_ms) {
  count(target, kAsyncEventsReceived, 1, now_ms);
}

void LambdaMetrics::async_event_age(Target* target, double age_ms, std::int64_t now_ms) {
  count(target, kAsyncEventAge, age_ms, now_ms);
}

void LambdaMetrics::async_dropped(Target* target, std::int64_t now_ms) {
  count(target, kAsyncEventsDropped, 1, now_ms);
}

void LambdaMetrics::dead_letter_error(Target* target, std::int64_t now_ms) {
  count(target, kDeadLetterErrors, 1, now_ms);
}

void LambdaMetrics::destination_failure(Target* target, std::int64_t now_ms) {
  count(target, kDestinationDeliveryFailures, 1, now_ms);
}

void LambdaMetrics::iterator_age(Target* target, double age_ms, std::int64_t now_ms) {
  count(target, kIteratorAge, age_ms, now_ms);
}

}  // namespace lambent::metrics
