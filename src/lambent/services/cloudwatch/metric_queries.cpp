#include "lambent/metrics/metric_store.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/input.h"
#include "lambent/services/cloudwatch/metric_input.h"
#include "lambent/services/cloudwatch/metric_math.h"
#include "lambent/services/cloudwatch/operations.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace lambent::services::cloudwatch {

namespace {

constexpr std::int64_t kMaxStatisticsDatapoints = 1440;  // GetMetricStatistics
constexpr std::size_t kMaxQueries = 500;                 // MetricDataQueries per GetMetricData
constexpr std::int64_t kDefaultMaxDatapoints = 100800;   // GetMetricData

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  std::int64_t quotient = value / divisor;
  if (value % divisor != 0 && (value < 0) != (divisor < 0)) --quotient;
  return quotient;
}

// The query window in seconds, [start_s, end_s). A period of a minute or more reads one-minute
// points, so the start is rounded down to the minute, as CloudWatch rounds it.
struct Window {
  std::int64_t start_s = 0;
  std::int64_t end_s = 0;
};

Window window_of(std::int64_t start_ms, std::int64_t end_ms, std::int64_t period_s) {
  Window window;
  window.start_s = floor_div(start_ms, 1000);
  if (period_s >= 60) window.start_s = floor_div(window.start_s, 60) * 60;
  window.end_s = -floor_div(-end_ms, 1000);
  return window;
}

struct StatisticsRequest {
  metrics::MetricKey key;
  std::int64_t start_ms = 0;
  std::int64_t end_ms = 0;
  std::int64_t period_s = 0;
  std::vector<std::string> statistics;
  std::vector<metrics::Statistic> extended;
  std::optional<std::string> unit;
};

Result<StatisticsRequest> read_statistics_request(const Value& input) {
  Reader reader;
  StatisticsRequest request;
  Field root = Reader::root(input);
  Field ns_field = Reader::member(root, "Namespace");
  Field name_field = Reader::member(root, "MetricName");
  Field start_field = Reader::member(root, "StartTime");
  Field end_field = Reader::member(root, "EndTime");
  Field period_field = Reader::member(root, "Period");
  for (const Field* required : {&ns_field, &name_field, &start_field, &end_field, &period_field}) {
    if (!required->present()) return missing_parameter(required->path);
  }

  auto ns = reader.string(ns_field);
  auto name = reader.string(name_field);
  auto start = reader.timestamp_ms(start_field);
  auto end = reader.timestamp_ms(end_field);
  auto period = reader.integer(period_field);
  auto dimensions = read_dimensions(reader, Reader::member(root, "Dimensions"));
  if (!reader.ok()) return reader.error();
  if (auto checked = check_namespace(*ns, ns_field.path, false); !checked) return checked.error();
  if (auto checked = check_metric_name(*name, name_field.path); !checked) return checked.error();
  if (auto checked = check_query_period(*period, period_field.path); !checked) {
    return checked.error();
  }
  request.key = metrics::MetricKey{std::move(*ns), std::move(*name), std::move(*dimensions)};
  request.period_s = *period;

  Field statistics_field = Reader::member(root, "Statistics");
  Field extended_field = Reader::member(root, "ExtendedStatistics");
  std::vector<Field> statistics = reader.list(statistics_field, 5);
  std::vector<Field> extended = reader.list(extended_field, 10);
  if (!reader.ok()) return reader.error();
  if (statistics.empty() && extended.empty()) {
    return invalid_combination("Must specify either Statistics or ExtendedStatistics.");
  }
  if (!statistics.empty() && !extended.empty()) {
    return invalid_combination(
        fmt::format("The parameters {} and {} are mutually exclusive and you have specified both.",
                    statistics_field.path, extended_field.path));
  }
  for (const Field& field : statistics) {
    auto statistic = reader.string(field);
    if (!statistic) return reader.error();
    if (!is_simple_statistic(*statistic)) {
      return constraint_error(*statistic, field.path,
                              "Member must satisfy enum value set: [Maximum, SampleCount, Sum, "
                              "Minimum, Average]");
    }
    if (std::find(request.statistics.begin(), request.statistics.end(), *statistic) ==
        request.statistics.end()) {
      request.statistics.push_back(std::move(*statistic));
    }
  }
  for (const Field& field : extended) {
    auto text = reader.string(field);
    if (!text) return reader.error();
    auto statistic = read_statistic(*text, field.path);
    if (!statistic || statistic->kind != metrics::Statistic::Kind::percentile) {
      return invalid_value(fmt::format(
          "The value {} for parameter {} is not supported. Use a percentile from p0 to p100 "
          "such as p99 or p99.9.",
          text->substr(0, 256), field.path));
    }
    request.extended.push_back(std::move(*statistic));
  }

  Field unit_field = Reader::member(root, "Unit");
  if (auto unit = reader.string(unit_field)) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) return checked.error();
    request.unit = std::move(*unit);
  }
  if (!reader.ok()) return reader.error();

  if (*start == *end) {
    return invalid_value("The parameter StartTime must not equal parameter EndTime.");
  }
  if (*start > *end) {
    return invalid_value("The parameter StartTime must be less than the parameter EndTime.");
  }
  request.start_ms = *start;
  request.end_ms = *end;
  return request;
}

// A statistic of one period, as CloudWatch returns it: percentiles are not available when any
// value of the period is negative.
std::optional<double> statistic_value(const metrics::Aggregate& aggregate,
                                      const metrics::Statistic& statistic) {
  if (statistic.kind == metrics::Statistic::Kind::percentile && aggregate.minimum < 0) {
    return std::nullopt;
  }
  return metrics::evaluate(aggregate, statistic);
}

// One datapoint of GetMetricStatistics, members in the model's order.
Value statistics_datapoint(const metrics::Datapoint& datapoint, const StatisticsRequest& request) {
  static constexpr std::string_view kOrder[] = {"SampleCount", "Average", "Sum", "Minimum",
                                                "Maximum"};
  Value out = Value::structure();
  out.set("Timestamp", Value::timestamp(datapoint.timestamp_s * 1000));
  for (std::string_view name : kOrder) {
    if (std::find(request.statistics.begin(), request.statistics.end(), name) ==
        request.statistics.end()) {
      continue;
    }
    auto statistic = metrics::parse_statistic(name);
    auto value = statistic_value(datapoint.aggregate, *statistic);
    if (value) out.set(std::string(name), Value::number(*value));
  }
  out.set("Unit", Value::string(datapoint.unit));
  if (!request.extended.empty()) {
    Value extended = Value::map();
    for (const auto& statistic : request.extended) {
      // A percentile of values that arrived as statistic sets has no value, so it is left out.
      auto value = statistic_value(datapoint.aggregate, statistic);
      if (value) extended.set(statistic.label, Value::number(*value));
    }
    out.set("ExtendedStatistics", std::move(extended));
  }
  return out;
}

// One MetricDataQuery: a MetricStat, or a metric math expression over other queries.
struct DataQuery {
  std::string id;
  std::string label;
  bool return_data = true;
  std::optional<std::string> expression;
  metrics::MetricKey key;
  std::int64_t period_s = 0;
  metrics::Statistic statistic;
  std::optional<std::string> unit;
};

bool valid_query_id(std::string_view id) {
  if (id.empty() || id.front() < 'a' || id.front() > 'z') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<DataQuery> read_data_query(Reader& reader, const Field& field) {
  DataQuery query;
  Field id_field = Reader::member(field, "Id");
  auto id = reader.required_string(id_field);
  if (!id) return reader.error();
  if (auto checked = check_length(*id, id_field.path, 1, 255); !checked) return checked.error();
  if (!valid_query_id(*id)) {
    return invalid_value(fmt::format(
        "The value {} for parameter {} is invalid. An Id starts with a lowercase letter and "
        "contains only letters, digits and underscores.",
        *id, id_field.path));
  }
  query.id = std::move(*id);

  Field stat_field = Reader::member(field, "MetricStat");
  Field expression_field = Reader::member(field, "Expression");
  if (expression_field.present()) {
    if (stat_field.present()) {
      return invalid_combination(fmt::format(
          "The parameters {} and {} are mutually exclusive and you have specified both.",
          stat_field.path, expression_field.path));
    }
    auto expression = reader.string(expression_field);
    auto label = reader.string(Reader::member(field, "Label"));
    auto return_data = reader.boolean(Reader::member(field, "ReturnData"));
    if (!reader.ok()) return reader.error();
    if (auto checked = check_length(*expression, expression_field.path, 1, 2048); !checked) {
      return checked.error();
    }
    // Without a Label, an expression's result is labelled with its Id.
    query.label = label ? std::move(*label) : query.id;
    query.return_data = return_data.value_or(true);
    query.expression = std::move(*expression);
    return query;
  }
  if (!stat_field.present())
    return validation_error(fmt::format("The parameter {} is required.", stat_field.path));

  Field metric_field = Reader::member(stat_field, "Metric");
  Field ns_field = Reader::member(metric_field, "Namespace");
  Field name_field = Reader::member(metric_field, "MetricName");
  Field period_field = Reader::member(stat_field, "Period");
  Field statistic_field = Reader::member(stat_field, "Stat");
  for (const Field* required :
       {&metric_field, &ns_field, &name_field, &period_field, &statistic_field}) {
    if (!required->present()) return missing_parameter(required->path);
  }
  auto ns = reader.string(ns_field);
  auto name = reader.string(name_field);
  auto period = reader.integer(period_field);
  auto statistic = reader.string(statistic_field);
  auto dimensions = read_dimensions(reader, Reader::member(metric_field, "Dimensions"));
  auto label = reader.string(Reader::member(field, "Label"));
  auto return_data = reader.boolean(Reader::member(field, "ReturnData"));
  Field unit_field = Reader::member(stat_field, "Unit");
  auto unit = reader.string(unit_field);
  if (!reader.ok()) return reader.error();

  if (auto checked = check_namespace(*ns, ns_field.path, false); !checked) return checked.error();
  if (auto checked = check_metric_name(*name, name_field.path); !checked) return checked.error();
  if (auto checked = check_query_period(*period, period_field.path); !checked) {
    return checked.error();
  }
  auto parsed = read_statistic(*statistic, statistic_field.path);
  if (!parsed) return std::move(parsed).error();
  if (unit) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) return checked.error();
  }
  // Without a Label, the result is labelled with the metric name.
  query.label = label ? std::move(*label) : *name;
  query.return_data = return_data.value_or(true);
  query.key = metrics::MetricKey{std::move(*ns), std::move(*name), std::move(*dimensions)};
  query.period_s = *period;
  query.statistic = std::move(*parsed);
  query.unit = std::move(unit);
  return query;
}

// The series of MetricStat queries, then of expressions as they are needed. Expressions may
// name each other in any order, but not in a cycle.
class QueryResults {
 public:
  QueryResults(const std::vector<DataQuery>& queries, std::map<std::string, TimeSeries> stats)
      : queries_(queries), done_(std::move(stats)) {
    for (const auto& query : queries) {
      if (!query.expression) metric_ids_.push_back(query.id);
    }
  }

  Result<TimeSeries> get(std::string_view id) {
    if (auto it = done_.find(std::string(id)); it != done_.end()) return it->second;
    const DataQuery* query = nullptr;
    for (const auto& candidate : queries_) {
      if (candidate.id == id) query = &candidate;
    }
    if (query == nullptr) {
      return invalid_value(fmt::format(
          "An expression names {}, which is not the Id of a query in MetricDataQueries.", id));
    }
    if (!visiting_.insert(query->id).second) {
      return invalid_value(fmt::format(
          "The expression of query {} refers to itself through other expressions.", query->id));
    }
    SeriesLookup lookup = [this](std::string_view other) { return get(other); };
    auto series = evaluate_expression(*query->expression, lookup, metric_ids_);
    visiting_.erase(query->id);
    if (!series) return series;
    done_[query->id] = *series;
    return series;
  }

 private:
  const std::vector<DataQuery>& queries_;
  std::map<std::string, TimeSeries> done_;
  std::set<std::string> visiting_;
  MetricIds metric_ids_;
};

}  // namespace

Task<Output> get_metric_statistics(OperationContext context, const Value* input) {
  auto request = read_statistics_request(*input);
  if (!request) co_return std::move(request).error();
  Window window = window_of(request->start_ms, request->end_ms, request->period_s);
  std::int64_t requested =
      (window.end_s - window.start_s + request->period_s - 1) / request->period_s;
  if (requested > kMaxStatisticsDatapoints) {
    co_return invalid_combination(fmt::format(
        "You have requested up to {} datapoints, which exceeds the limit of {}. You may reduce "
        "the datapoints requested by increasing Period, or decreasing the time range.",
        requested, kMaxStatisticsDatapoints));
  }

  auto datapoints = co_await context.store->query(request->key, window.start_s, window.end_s,
                                                  request->period_s, request->unit);
  if (!datapoints) co_return std::move(datapoints).error();

  // Datapoints are returned oldest first. AWS does not order them.
  Value list = Value::list();
  for (const auto& datapoint : *datapoints) {
    if (datapoint.aggregate.empty()) continue;
    list.push_back(statistics_datapoint(datapoint, *request));
  }
  Value output = Value::structure();
  output.set("Label", Value::string(request->key.name));
  output.set("Datapoints", std::move(list));
  co_return std::optional<Value>(std::move(output));
}

Task<Output> get_metric_data(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field queries_field = Reader::member(root, "MetricDataQueries");
  Field start_field = Reader::member(root, "StartTime");
  Field end_field = Reader::member(root, "EndTime");
  for (const Field* required : {&queries_field, &start_field, &end_field}) {
    if (!required->present()) co_return missing_parameter(required->path);
  }
  std::vector<Field> query_fields = reader.list(queries_field, kMaxQueries);
  auto start = reader.timestamp_ms(start_field);
  auto end = reader.timestamp_ms(end_field);
  Field scan_field = Reader::member(root, "ScanBy");
  auto scan_by = reader.string(scan_field);
  Field max_field = Reader::member(root, "MaxDatapoints");
  auto max_datapoints = reader.integer(max_field);
  Field token_field = Reader::member(root, "NextToken");
  auto token = reader.string(token_field);
  if (!reader.ok()) co_return reader.error();
  if (query_fields.empty()) co_return missing_parameter(queries_field.path);

  bool descending = true;
  if (scan_by) {
    if (*scan_by != "TimestampDescending" && *scan_by != "TimestampAscending") {
      co_return constraint_error(*scan_by, scan_field.path,
                                 "Member must satisfy enum value set: [TimestampDescending, "
                                 "TimestampAscending]");
    }
    descending = *scan_by == "TimestampDescending";
  }
  std::int64_t page_size = max_datapoints.value_or(kDefaultMaxDatapoints);
  if (page_size < 1) {
    co_return invalid_value_for(std::to_string(page_size), max_field.path);
  }
  std::size_t offset = 0;
  if (token) {
    auto decoded = decode_page_token("GetMetricData", *token);
    if (!decoded) co_return invalid_next_token();
    offset = *decoded;
  }
  if (*start == *end) {
    co_return validation_error("The parameter StartTime must not equal parameter EndTime.");
  }
  if (*start > *end) {
    co_return validation_error("The parameter EndTime must be greater than StartTime.");
  }

  std::vector<DataQuery> queries;
  queries.reserve(query_fields.size());
  for (const Field& field : query_fields) {
    auto query = read_data_query(reader, field);
    if (!query) co_return std::move(query).error();
    for (const auto& earlier : queries) {
      if (earlier.id == query->id) {
        co_return validation_error(fmt::format(
            "The value {} for parameter MetricDataQueries.member.N.Id is used by more than one "
            "query; each Id must be unique.",
            query->id));
      }
    }
    queries.push_back(std::move(*query));
  }

  // Every MetricStat query's series (ReturnData false too, as expressions may use it), then
  // the returned queries' series, then one page of them: the datapoints from `offset` on, at
  // most page_size, counted across the returned queries in request order.
  std::map<std::string, TimeSeries> stats;
  for (const auto& query : queries) {
    if (query.expression) continue;
    Window window = window_of(*start, *end, query.period_s);
    auto datapoints = co_await context.store->query(query.key, window.start_s, window.end_s,
                                                    query.period_s, query.unit);
    if (!datapoints) co_return std::move(datapoints).error();
    TimeSeries one;
    for (const auto& datapoint : *datapoints) {
      auto value = statistic_value(datapoint.aggregate, query.statistic);
      if (!value) continue;
      one.timestamps_s.push_back(datapoint.timestamp_s);
      one.values.push_back(*value);
    }
    stats.emplace(query.id, std::move(one));
  }
  QueryResults computed(queries, std::move(stats));
  std::vector<TimeSeries> series;
  std::vector<const DataQuery*> returned;
  for (const auto& query : queries) {
    if (!query.return_data) continue;
    auto one = computed.get(query.id);
    if (!one) co_return std::move(one).error();
    if (descending) {
      std::reverse(one->timestamps_s.begin(), one->timestamps_s.end());
      std::reverse(one->values.begin(), one->values.end());
    }
    series.push_back(std::move(*one));
    returned.push_back(&query);
  }

  std::size_t total = 0;
  for (const auto& one : series) total += one.values.size();
  if (offset > total) co_return invalid_next_token();
  std::size_t page_end = std::min(total, offset + static_cast<std::size_t>(page_size));

  Value results = Value::list();
  std::size_t position = 0;  // index of the first datapoint of the current series
  for (std::size_t i = 0; i < series.size(); ++i) {
    const TimeSeries& one = series[i];
    std::size_t from = std::clamp(offset, position, position + one.values.size()) - position;
    std::size_t to = std::clamp(page_end, position, position + one.values.size()) - position;
    position += one.values.size();
    Value timestamps = Value::list();
    Value values = Value::list();
    for (std::size_t k = from; k < to; ++k) {
      timestamps.push_back(Value::timestamp(one.timestamps_s[k] * 1000));
      values.push_back(Value::number(one.values[k]));
    }
    Value result = Value::structure();
    result.set("Id", Value::string(returned[i]->id));
    result.set("Label", Value::string(returned[i]->label));
    result.set("Timestamps", std::move(timestamps));
    result.set("Values", std::move(values));
    // PartialData: more of this result follows on a later page.
    result.set("StatusCode", Value::string(to < one.values.size() ? "PartialData" : "Complete"));
    result.set("Messages", Value::list());
    results.push_back(std::move(result));
  }

  Value output = Value::structure();
  output.set("MetricDataResults", std::move(results));
  if (page_end < total) {
    output.set("NextToken", Value::string(encode_page_token("GetMetricData", page_end)));
  }
  output.set("Messages", Value::list());
  co_return std::optional<Value>(std::move(output));
}

}  // namespace lambent::services::cloudwatch
