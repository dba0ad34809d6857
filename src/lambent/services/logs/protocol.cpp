#include "lambent/services/logs/protocol.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace lambent::services::logs {

namespace json = boost::json;

namespace {

// The operations of the CloudWatch Logs API model 2014-03-28 (botocore 1.40), sorted.
constexpr std::array<std::string_view, 113> kModelOperations = {
    "AssociateKmsKey",
    "AssociateSourceToS3TableIntegration",
    "CancelExportTask",
    "CancelImportTask",
    "CreateDelivery",
    "CreateExportTask",
    "CreateImportTask",
    "CreateLogAnomalyDetector",
    "CreateLogGroup",
    "CreateLogStream",
    "CreateLookupTable",
    "CreateScheduledQuery",
    "DeleteAccountPolicy",
    "DeleteDataProtectionPolicy",
    "DeleteDelivery",
    "DeleteDeliveryDestination",
    "DeleteDeliveryDestinationPolicy",
    "DeleteDeliverySource",
    "DeleteDestination",
    "DeleteIndexPolicy",
    "DeleteIntegration",
    "DeleteLogAnomalyDetector",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteLookupTable",
    "DeleteMetricFilter",
    "DeleteQueryDefinition",
    "DeleteResourcePolicy",
    "DeleteRetentionPolicy",
    "DeleteScheduledQuery",
    "DeleteSubscriptionFilter",
    "DeleteTransformer",
    "DescribeAccountPolicies",
    "DescribeConfigurationTemplates",
    "DescribeDeliveries",
    "DescribeDeliveryDestinations",
    "DescribeDeliverySources",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeFieldIndexes",
    "DescribeImportTaskBatches",
    "DescribeImportTasks",
    "DescribeIndexPolicies",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeLookupTables",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "DisassociateKmsKey",
    "DisassociateSourceFromS3TableIntegration",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetDelivery",
    "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy",
    "GetDeliverySource",
    "GetIntegration",
    "GetLogAnomalyDetector",
    "GetLogEvents",
    "GetLogFields",
    "GetLogGroupFields",
    "GetLogObject",
    "GetLogRecord",
    "GetLookupTable",
    "GetQueryResults",
    "GetScheduledQuery",
    "GetScheduledQueryHistory",
    "GetTransformer",
    "ListAggregateLogGroupSummaries",
    "ListAnomalies",
    "ListIntegrations",
    "ListLogAnomalyDetectors",
    "ListLogGroups",
    "ListLogGroupsForQuery",
    "ListScheduledQueries",
    "ListSourcesForS3TableIntegration",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutAccountPolicy",
    "PutBearerTokenAuthentication",
    "PutDataProtectionPolicy",
    "PutDeliveryDestination",
    "PutDeliveryDestinationPolicy",
    "PutDeliverySource",
    "PutDestination",
    "PutDestinationPolicy",
    "PutIndexPolicy",
    "PutIntegration",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutMetricFilter",
    "PutQueryDefinition",
    "PutResourcePolicy",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "PutTransformer",
    "StartLiveTail",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "TestTransformer",
    "UntagLogGroup",
    "UntagResource",
    "UpdateAnomaly",
    "UpdateDeliveryConfiguration",
    "UpdateLogAnomalyDetector",
    "UpdateLookupTable",
    "UpdateScheduledQuery"};

struct Shape {
  unsigned status;
  std::string_view type;
};

Shape shape_for(Errc code) {
  switch (code) {
    case Errc::invalid_parameter:
    case Errc::validation:
    case Errc::precondition_failed:
    case Errc::too_large:
      return {400, "InvalidParameterException"};
    case Errc::not_found:
      return {400, "ResourceNotFoundException"};
    case Errc::conflict:
      return {400, "ResourceAlreadyExistsException"};
    case Errc::invalid_content:
      return {400, "SerializationException"};
    case Errc::throttled:
      return {400, "ThrottlingException"};
    case Errc::unauthorized:
      return {400, "AccessDeniedException"};
    case Errc::not_implemented:
      return {400, "UnknownOperationException"};
    case Errc::io:
    case Errc::internal:
      return {500, "ServiceUnavailableException"};
  }
  return {500, "ServiceUnavailableException"};
}

bool allowed(Charset charset, unsigned char c) {
  switch (charset) {
    case Charset::any:
      return true;
    case Charset::log_group_name:
      return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == '#';
    case Charset::log_group_identifier:
      return std::isalnum(c) || c == '_' || c == '#' || c == '+' || c == '=' || c == '/' ||
             c == ':' || c == ',' || c == '.' || c == '@' || c == '-';
    case Charset::log_stream_name:
      return c != ':' && c != '*';
  }
  return true;
}

std::string_view pattern_of(Charset charset, bool allow_empty) {
  switch (charset) {
    case Charset::log_group_name:
      return allow_empty ? "[\\.\\-_/#A-Za-z0-9]*" : "[\\.\\-_/#A-Za-z0-9]+";
    case Charset::log_group_identifier:
      return "[\\w#+=/:,.@-]*";
    case Charset::log_stream_name:
      return "[^:*]*";
    case Charset::any:
      break;
  }
  return "";
}

std::string quoted(std::string_view value) { return fmt::format("'{}'", value); }

}  // namespace

bool is_model_operation(std::string_view name) {
  return std::binary_search(kModelOperations.begin(), kModelOperations.end(), name);
}

http::Response ok_response(std::string body, std::string_view request_id) {
  http::Response response;
  response.header("Content-Type", "application/x-amz-json-1.1");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.body = std::move(body);
  return response;
}

http::Response error_response(const Error& error, std::string_view request_id) {
  Shape shape = shape_for(error.code);
  std::string type = error.type.empty() ? std::string(shape.type) : error.type;
  http::Response response;
  response.status = shape.status;
  response.header("Content-Type", "application/x-amz-json-1.1");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", type);
  response.body = json::serialize(json::object{{"__type", type}, {"message", error.message}});
  return response;
}

Error unknown_operation(std::string_view target) {
  std::string_view operation = target.substr(std::min(target.size(), kTargetPrefix.size()));
  if (target.starts_with(kTargetPrefix) && is_model_operation(operation)) {
    return make_error(Errc::not_implemented,
                      fmt::format("Lambent does not implement the CloudWatch Logs operation {}; "
                                  "docs/compat/logs.md lists the operations it serves.",
                                  operation));
  }
  return make_error(
      Errc::not_implemented,
      fmt::format("{} is not an operation of the CloudWatch Logs API (X-Amz-Target "
                  "must be Logs_20140328.<Operation>).",
                  target.empty() ? std::string_view("An empty X-Amz-Target") : target));
}

const json::value* RequestFields::find(std::string_view name, Presence presence) {
  const json::value* value = body_.if_contains(name);
  if (value && value->is_null()) value = nullptr;
  if (!value && presence == Presence::required) {
    violation(name, "null", "Member must not be null");
  }
  return value;
}

void RequestFields::type_error(std::string_view name, std::string_view expected) {
  if (type_error_) return;
  type_error_ =
      Error{Errc::invalid_content, fmt::format("The value of '{}' must be {}.", name, expected)};
}

void RequestFields::violation(std::string_view name, std::string_view shown_value,
                              std::string_view constraint) {
  violations_.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}",
                                    shown_value, name, constraint));
}

std::optional<std::string> RequestFields::string(std::string_view name, StringRule rule,
                                                 Presence presence) {
  const json::value* value = find(name, presence);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    type_error(name, "a string");
    return std::nullopt;
  }
  std::string text(value->as_string());
  bool ok = true;
  if (text.size() < rule.min_length) {
    violation(name, quoted(text),
              fmt::format("Member must have length greater than or equal to {}", rule.min_length));
    ok = false;
  }
  if (text.size() > rule.max_length) {
    violation(name, quoted(text),
              fmt::format("Member must have length less than or equal to {}", rule.max_length));
    ok = false;
  }
  if (!std::all_of(text.begin(), text.end(),
                   [&](char c) { return allowed(rule.charset, static_cast<unsigned char>(c)); })) {
    violation(name, quoted(text),
              fmt::format("Member must satisfy regular expression pattern: {}",
                          pattern_of(rule.charset, rule.min_length == 0)));
    ok = false;
  }
  if (!ok) return std::nullopt;
  return text;
}

std::optional<std::int64_t> RequestFields::integer(std::string_view name, std::int64_t min,
                                                   std::int64_t max, Presence presence) {
  const json::value* value = find(name, presence);
  if (!value) return std::nullopt;
  if (value->is_uint64()) {
    // Only values above the int64 range arrive as uint64.
    violation(name, quoted(std::to_string(value->as_uint64())),
              fmt::format("Member must have value less than or equal to {}", max));
    return std::nullopt;
  }
  if (!value->is_int64()) {
    type_error(name, "an integer");
    return std::nullopt;
  }
  std::int64_t number = value->as_int64();
  if (number < min) {
    violation(name, quoted(std::to_string(number)),
              fmt::format("Member must have value greater than or equal to {}", min));
    return std::nullopt;
  }
  if (number > max) {
    violation(name, quoted(std::to_string(number)),
              fmt::format("Member must have value less than or equal to {}", max));
    return std::nullopt;
  }
  return number;
}

std::optional<bool> RequestFields::boolean(std::string_view name) {
  const json::value* value = find(name, Presence::optional);
  if (!value) return std::nullopt;
  if (!value->is_bool()) {
    type_error(name, "a boolean");
    return std::nullopt;
  }
  return value->as_bool();
}

std::optional<std::vector<std::string>> RequestFields::string_list(std::string_view name,
                                                                   std::size_t min_items,
                                                                   std::size_t max_items,
                                                                   StringRule item_rule) {
  const json::value* value = find(name, Presence::optional);
  if (!value) return std::nullopt;
  if (!value->is_array()) {
    type_error(name, "a list of strings");
    return std::nullopt;
  }
  const auto& items = value->as_array();
  if (items.size() < min_items) {
    violation(name, "[]",
              fmt::format("Member must have length greater than or equal to {}", min_items));
    return std::nullopt;
  }
  if (items.size() > max_items) {
    violation(name, fmt::format("a list of {}", items.size()),
              fmt::format("Member must have length less than or equal to {}", max_items));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      type_error(name, "a list of strings");
      return std::nullopt;
    }
    std::string text(items[i].as_string());
    std::string member = fmt::format("{}.{}.member", name, i + 1);
    if (text.size() < item_rule.min_length || text.size() > item_rule.max_length ||
        !std::all_of(text.begin(), text.end(), [&](char c) {
          return allowed(item_rule.charset, static_cast<unsigned char>(c));
        })) {
      violation(member, quoted(text),
                fmt::format("Member must have length between {} and {} and satisfy regular "
                            "expression pattern: {}",
                            item_rule.min_length, item_rule.max_length,
                            pattern_of(item_rule.charset, item_rule.min_length == 0)));
      return std::nullopt;
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::optional<std::string> RequestFields::enumeration(
    std::string_view name, std::initializer_list<std::string_view> values) {
  auto text = string(name, StringRule{});
  if (!text) return std::nullopt;
  if (std::find(values.begin(), values.end(), *text) != values.end()) return text;
  std::string set;
  for (auto v : values) {
    if (!set.empty()) set += ", ";
    set += v;
  }
  violation(name, quoted(*text), fmt::format("Member must satisfy enum value set: [{}]", set));
  return std::nullopt;
}

Status RequestFields::status() const {
  if (type_error_) return *type_error_;
  if (violations_.empty()) return ok_status();
  std::string message = fmt::format("{} validation error{} detected: ", violations_.size(),
                                    violations_.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < violations_.size(); ++i) {
    if (i) message += "; ";
    message += violations_[i];
  }
  return make_error(Errc::validation, std::move(message));
}

}  // namespace lambent::services::logs
