#include "lambent/base/crypto.h"
#include "lambent/metrics/metric_store.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/input.h"
#include "lambent/services/cloudwatch/metric_input.h"
#include "lambent/services/cloudwatch/operations.h"

#include <fmt/format.h>

#include <charconv>

namespace lambent::services::cloudwatch {

namespace {

constexpr std::size_t kPageSize = 500;  // ListMetrics returns up to 500 per call
constexpr std::size_t kMaxDimensionFilters = 10;
constexpr std::int64_t kRecentlyActiveS = 3 * 3600;  // RecentlyActive=PT3H
// ListMetrics lists metrics with data in the past two weeks.
constexpr std::int64_t kListedActivityS = 14 * 86400;

Value dimensions_value(const metrics::Dimensions& dimensions) {
  Value list = Value::list();
  for (const auto& dimension : dimensions) {
    Value item = Value::structure();
    item.set("Name", Value::string(dimension.name));
    item.set("Value", Value::string(dimension.value));
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

std::string encode_page_token(std::string_view operation, std::size_t offset) {
  return base64_encode(fmt::format("{}:{}", operation, offset));
}

std::optional<std::size_t> decode_page_token(std::string_view operation, std::string_view token) {
  auto decoded = base64_decode(token);
  if (!decoded) return std::nullopt;
  std::string_view text = *decoded;
  if (text.size() <= operation.size() + 1 || !text.starts_with(operation) ||
      text[operation.size()] != ':') {
    return std::nullopt;
  }
  text.remove_prefix(operation.size() + 1);
  std::size_t offset = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return offset;
}

Task<Output> list_metrics(OperationContext context, const Value* input) {
  Reader reader;
  Field root = Reader::root(*input);
  Field ns_field = Reader::member(root, "Namespace");
  Field name_field = Reader::member(root, "MetricName");
  Field filters_field = Reader::member(root, "Dimensions");
  Field token_field = Reader::member(root, "NextToken");
  Field active_field = Reader::member(root, "RecentlyActive");
  auto ns = reader.string(ns_field);
  auto name = reader.string(name_field);
  auto token = reader.string(token_field);
  auto recently_active = reader.string(active_field);
  auto linked = reader.boolean(Reader::member(root, "IncludeLinkedAccounts"));
  std::vector<metrics::DimensionFilter> filters;
  for (const Field& filter : reader.list(filters_field, kMaxDimensionFilters)) {
    Field filter_name = Reader::member(filter, "Name");
    auto dimension = reader.required_string(filter_name);
    auto value = reader.string(Reader::member(filter, "Value"));
    if (!reader.ok()) break;
    if (auto checked = check_length(*dimension, filter_name.path, 1, 255); !checked) {
      co_return checked.error();
    }
    filters.push_back(metrics::DimensionFilter{std::move(*dimension), std::move(value)});
  }
  if (!reader.ok()) co_return reader.error();

  if (ns) {
    if (auto checked = check_namespace(*ns, ns_field.path, false); !checked) {
      co_return checked.error();
    }
  }
  if (name) {
    if (auto checked = check_metric_name(*name, name_field.path); !checked) {
      co_return checked.error();
    }
  }
  std::int64_t now_s = context.now_ms / 1000;
  std::int64_t active_since = now_s - kListedActivityS;
  if (recently_active) {
    if (*recently_active != "PT3H") {
      co_return constraint_error(*recently_active, active_field.path,
                                 "Member must satisfy enum value set: [PT3H]");
    }
    active_since = now_s - kRecentlyActiveS;
  }
  std::size_t offset = 0;
  if (token) {
    auto decoded = decode_page_token("ListMetrics", *token);
    if (!decoded) co_return invalid_value("The value of parameter NextToken is invalid.");
    offset = *decoded;
  }

  auto found = co_await context.store->list(ns, name, std::move(filters), active_since);
  if (!found) co_return std::move(found).error();
  if (offset > found->size()) {
    co_return invalid_value("The value of parameter NextToken is invalid.");
  }

  std::size_t end = std::min(found->size(), offset + kPageSize);
  Value metrics_list = Value::list();
  Value owners = Value::list();
  for (std::size_t i = offset; i < end; ++i) {
    const auto& info = (*found)[i];
    Value metric = Value::structure();
    metric.set("Namespace", Value::string(info.key.ns));
    metric.set("MetricName", Value::string(info.key.name));
    metric.set("Dimensions", dimensions_value(info.key.dimensions));
    metrics_list.push_back(std::move(metric));
    owners.push_back(Value::string(context.options->account_id));
  }
  Value output = Value::structure();
  output.set("Metrics", std::move(metrics_list));
  if (end < found->size()) {
    output.set("NextToken", Value::string(encode_page_token("ListMetrics", end)));
  }
  // One owning account per metric, in the same order, when linked accounts are asked for.
  if (linked.value_or(false)) output.set("OwningAccounts", std::move(owners));
  co_return std::optional<Value>(std::move(output));
}

}  // namespace lambent::services::cloudwatch
