#include "lambent/metrics/metric_store.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/input.h"
#include "lambent/services/cloudwatch/metric_input.h"
#include "lambent/services/cloudwatch/operations.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace lambent::services::cloudwatch {

namespace {

// PutMetricData limits from the API reference.
constexpr std::size_t kMaxData = 1000;   // data per request, MetricData and EntityMetricData
constexpr std::size_t kMaxValues = 150;  // entries of Values (and Counts) per datum
constexpr std::int64_t kMaxAgeMs = 14LL * 86400 * 1000;
constexpr std::int64_t kMaxFutureMs = 2LL * 3600 * 1000;
// CloudWatch rejects values beyond +-2^360.
const double kMaxMagnitude = std::ldexp(1.0, 360);

bool acceptable(double value) { return std::isfinite(value) && std::fabs(value) <= kMaxMagnitude; }

std::string show(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return fmt::format("{}", value);
}

// Reads one number that must be an acceptable metric value.
std::optional<double> read_value(Reader& reader, const Field& field) {
  auto value = reader.number(field);
  if (!value) return std::nullopt;
  if (!acceptable(*value)) {
    reader.fail(invalid_value_for(show(*value), field.path));
    return std::nullopt;
  }
  return value;
}

Error mutually_exclusive(const Field& a, const Field& b) {
  return invalid_combination(
      fmt::format("The parameters {} and {} are mutually exclusive and you have specified both.",
                  a.path, b.path));
}

// Reads the values of one datum (Value, Values and Counts, or StatisticValues) into `values`.
Status read_values(Reader& reader, const Field& datum, metrics::Aggregate& values) {
  Field value_field = Reader::member(datum, "Value");
  Field values_field = Reader::member(datum, "Values");
  Field counts_field = Reader::member(datum, "Counts");
  Field statistics_field = Reader::member(datum, "StatisticValues");

  std::vector<Field> value_list = reader.list(values_field, kMaxValues);
  std::vector<Field> count_list = reader.list(counts_field, kMaxValues);
  if (!reader.ok()) return reader.error();
  bool has_value = value_field.present();
  bool has_values = !value_list.empty();
  bool has_statistics = statistics_field.present();

  if (has_value && has_statistics) return mutually_exclusive(value_field, statistics_field);
  if (has_value && has_values) return mutually_exclusive(value_field, values_field);
  if (has_values && has_statistics) return mutually_exclusive(values_field, statistics_field);
  if (!count_list.empty() && !has_values) {
    return invalid_combination(
        fmt::format("The parameter {} requires {}.", counts_field.path, values_field.path));
  }

  if (has_value) {
    auto value = read_value(reader, value_field);
    if (!value) return reader.error();
    values.add(*value);
    return ok_status();
  }

  if (has_values) {
    if (!count_list.empty() && count_list.size() != value_list.size()) {
      return invalid_value(fmt::format("The parameters {} and {} must be of the same size.",
                                       values_field.path, counts_field.path));
    }
    for (std::size_t i = 0; i < value_list.size(); ++i) {
      auto value = read_value(reader, value_list[i]);
      double count = 1;
      if (!count_list.empty()) {
        auto given = reader.number(count_list[i]);
        if (!given) return reader.error();
        if (!std::isfinite(*given) || *given < 0) {
          return invalid_value_for(show(*given), count_list[i].path);
        }
        count = *given;
      }
      if (!value) return reader.error();
      values.add(*value, count);
    }
    return ok_status();
  }

  if (has_statistics) {
    static constexpr std::string_view kMembers[] = {"SampleCount", "Sum", "Minimum", "Maximum"};
    double numbers[4] = {};
    for (int i = 0; i < 4; ++i) {
      Field member = Reader::member(statistics_field, kMembers[i]);
      if (!member.present()) return missing_parameter(member.path);
      auto number = read_value(reader, member);
      if (!number) return reader.error();
      numbers[i] = *number;
    }
    Field count_path = Reader::member(statistics_field, "SampleCount");
    if (numbers[0] <= 0) return invalid_value_for(show(numbers[0]), count_path.path);
    if (numbers[2] > numbers[3]) {
      return invalid_value(
          fmt::format("The parameter {}.Minimum must not be greater than {}.Maximum.",
                      statistics_field.path, statistics_field.path));
    }
    double count = numbers[0];
    double sum = numbers[1];
    double minimum = numbers[2];
    double maximum = numbers[3];
    // A set whose values are all equal (one sample, or Minimum equal to Maximum) keeps its
    // percentiles, as in CloudWatch: it is stored as that value `count` times, with the Sum as
    // given.
    bool consistent = std::fabs(sum - minimum * count) <= 1e-9 * std::max(1.0, std::fabs(sum));
    if (minimum == maximum && consistent) {
      values.add(minimum, count);
      values.sum = sum;
    } else {
      values.add_statistics(sum, count, minimum, maximum);
    }
    return ok_status();
  }

  return invalid_combination(fmt::format("One of the parameters {}, {} and {} must be specified.",
                                         value_field.path, values_field.path,
                                         statistics_field.path));
}

Result<metrics::Sample> read_datum(Reader& reader, const Field& datum, const std::string& ns,
                                   std::int64_t now_ms) {
  metrics::Sample sample;
  sample.key.ns = ns;

  Field name_field = Reader::member(datum, "MetricName");
  auto name = reader.required_string(name_field);
  if (!name) return reader.error();
  if (auto checked = check_metric_name(*name, name_field.path); !checked) return checked.error();
  sample.key.name = std::move(*name);

  auto dimensions = read_dimensions(reader, Reader::member(datum, "Dimensions"));
  if (!dimensions) return reader.error();
  sample.key.dimensions = std::move(*dimensions);

  Field timestamp_field = Reader::member(datum, "Timestamp");
  sample.timestamp_ms = now_ms;
  if (timestamp_field.present()) {
    auto timestamp = reader.timestamp_ms(timestamp_field);
    if (!timestamp) return reader.error();
    if (*timestamp < now_ms - kMaxAgeMs) {
      return invalid_value(fmt::format(
          "The parameter {} must specify a time within the past two weeks.", timestamp_field.path));
    }
    if (*timestamp > now_ms + kMaxFutureMs) {
      return invalid_value(
          fmt::format("The parameter {} must specify a time no more than two hours in the future.",
                      timestamp_field.path));
    }
    sample.timestamp_ms = *timestamp;
  }

  Field unit_field = Reader::member(datum, "Unit");
  sample.unit = "None";
  if (auto unit = reader.string(unit_field)) {
    if (auto checked = check_unit(*unit, unit_field.path); !checked) return checked.error();
    sample.unit = std::move(*unit);
  }

  Field resolution_field = Reader::member(datum, "StorageResolution");
  if (resolution_field.present()) {
    auto resolution = reader.integer(resolution_field);
    if (!resolution) return reader.error();
    if (*resolution != 1 && *resolution != 60) {
      return invalid_value(fmt::format("The parameter {} must be a value in the set [ 1, 60 ].",
                                       resolution_field.path));
    }
    sample.high_resolution = *resolution == 1;
  }

  if (auto read = read_values(reader, datum, sample.values); !read) return read.error();
  if (!reader.ok()) return reader.error();
  return sample;
}

}  // namespace

Task<Output> put_metric_data(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field ns_field = Reader::member(root, "Namespace");
  auto ns = reader.required_string(ns_field);
  if (!ns) co_return reader.error();
  if (auto checked = check_namespace(*ns, ns_field.path, true); !checked) {
    co_return checked.error();
  }

  // The data of MetricData, then of each EntityMetricData entry. Entities are accepted and
  // not stored.
  Field data_field = Reader::member(root, "MetricData");
  std::vector<Field> data = reader.list(data_field, kMaxData);
  Field entities_field = Reader::member(root, "EntityMetricData");
  for (const Field& entity : reader.list(entities_field, kMaxData)) {
    for (Field& datum : reader.list(Reader::member(entity, "MetricData"), kMaxData)) {
      data.push_back(std::move(datum));
    }
  }
  if (!reader.ok()) co_return reader.error();
  if (data.empty()) co_return missing_parameter(data_field.path);
  if (data.size() > kMaxData) {
    co_return invalid_value(
        fmt::format("The request has {} metric data; a PutMetricData request may have at most {}.",
                    data.size(), kMaxData));
  }

  std::vector<metrics::Sample> samples;
  samples.reserve(data.size());
  for (const Field& datum : data) {
    auto sample = read_datum(reader, datum, *ns, context.now_ms);
    if (!sample) co_return std::move(sample).error();
    // Values that all had a count of 0 add nothing.
    if (!sample->values.empty()) samples.push_back(std::move(*sample));
  }
  if (!samples.empty()) {
    auto stored = co_await context.store->put(std::move(samples));
    if (!stored) co_return std::move(stored).error();
  }
  co_return std::optional<Value>();
}

}  // namespace lambent::services::cloudwatch
