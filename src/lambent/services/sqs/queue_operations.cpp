#include "lambent/base/crypto.h"
#include "lambent/services/sqs/errors.h"
#include "lambent/services/sqs/input.h"
#include "lambent/services/sqs/operations.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace lambent::services::sqs {

namespace json = boost::json;

namespace {

constexpr std::string_view kComputedAttributes[] = {"ApproximateNumberOfMessages",
                                                    "ApproximateNumberOfMessagesNotVisible",
                                                    "ApproximateNumberOfMessagesDelayed",
                                                    "CreatedTimestamp",
                                                    "LastModifiedTimestamp",
                                                    "QueueArn"};

constexpr std::string_view kStoredAttributes[] = {"DelaySeconds",
                                                  "MaximumMessageSize",
                                                  "MessageRetentionPeriod",
                                                  "Policy",
                                                  "ReceiveMessageWaitTimeSeconds",
                                                  "VisibilityTimeout",
                                                  "RedrivePolicy",
                                                  "RedriveAllowPolicy",
                                                  "KmsMasterKeyId",
                                                  "KmsDataKeyReusePeriodSeconds",
                                                  "SqsManagedSseEnabled",
                                                  "FifoQueue",
                                                  "ContentBasedDeduplication",
                                                  "DeduplicationScope",
                                                  "FifoThroughputLimit"};

// The path of a queue URL, "/<account>/<name>", split; nullopt for any other path.
std::optional<std::pair<std::string_view, std::string_view>> split_queue_path(
    std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  path.remove_prefix(1);
  auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto account = path.substr(0, slash);
  auto name = path.substr(slash + 1);
  if (account.empty() || name.empty() || name.find('/') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{account, name};
}

Result<std::optional<std::int64_t>> max_results(const json::object& input) {
  auto max = optional_int(input, "MaxResults");
  if (!max) return max;
  if (max->has_value() && (**max < 1 || **max > 1000)) {
    return invalid_parameter_value(std::to_string(**max), "MaxResults",
                                   "MaxResults must be an integer between 1 and 1000.");
  }
  return max;
}

// One page of `names`, after the name that NextToken encodes (base64), with the next token.
Result<json::object> page(const OperationContext& context, std::vector<std::string> names,
                          std::string_view member) {
  auto max = max_results(context.call.input);
  if (!max) return std::move(max).error();
  auto token = optional_string(context.call.input, "NextToken");
  if (!token) return std::move(token).error();
  std::size_t start = 0;
  if (token->has_value() && !(*token)->empty()) {
    auto after = base64_decode(**token);
    if (!after) return invalid_parameter("Invalid NextToken value.");
    start = static_cast<std::size_t>(std::upper_bound(names.begin(), names.end(), *after) -
                                     names.begin());
  }
  std::size_t limit = static_cast<std::size_t>(max->value_or(1000));
  json::array urls;
  std::size_t end = std::min(names.size(), start + limit);
  for (std::size_t i = start; i < end; ++i)
    urls.push_back(json::value(queue_url(context, names[i])));
  json::object output;
  if (!urls.empty() || member == "queueUrls") output[member] = std::move(urls);
  if (max->has_value() && end < names.size()) output["NextToken"] = base64_encode(names[end - 1]);
  return output;
}

}  // namespace

Result<std::string> queue_name(const OperationContext& context) {
  auto url = optional_string(context.call.input, "QueueUrl");
  if (!url) return std::move(url).error();
  std::string_view path;
  if (url->has_value()) {
    std::string_view text = **url;
    auto scheme = text.find("://");
    if (scheme != std::string_view::npos) {
      auto slash = text.find('/', scheme + 3);
      path = slash == std::string_view::npos ? std::string_view() : text.substr(slash);
    } else {
      path = text;
    }
  } else if (context.call.protocol == Protocol::query) {
    path = context.request.path();
  }
  if (path.empty() && !url->has_value()) return missing_parameter("QueueUrl");
  auto parts = split_queue_path(path);
  if (!parts) {
    if (!url->has_value()) return missing_parameter("QueueUrl");
    return sqs_error("InvalidAddress",
                     fmt::format("The address {} is not valid for this endpoint.", **url));
  }
  if (parts->first != context.queues.options().account_id) return queue_not_found();
  std::string name;
  if (!http::percent_decode(parts->second, name)) return queue_not_found();
  if (!context.queues.describe(name)) return queue_not_found();
  return name;
}

std::string queue_url(const OperationContext& context, std::string_view name) {
  std::string_view host = context.request.header("host");
  if (host.empty()) host = "localhost:4566";
  return fmt::format("http://{}/{}/{}", host, context.queues.options().account_id, name);
}

Task<Output> create_queue(const OperationContext& context) {
  auto name = required_string(context.call.input, "QueueName");
  if (!name) co_return std::move(name).error();
  auto attributes = string_map(context.call.input, "Attributes");
  if (!attributes) co_return std::move(attributes).error();
  // The JSON member is "tags"; the query protocol's "Tag.N.Key" decodes to Tags.
  auto tags =
      string_map(context.call.input, context.call.protocol == Protocol::json ? "tags" : "Tags");
  if (!tags) co_return std::move(tags).error();
  auto created =
      co_await context.queues.create_queue(*name, std::move(*attributes), std::move(*tags));
  if (!created) co_return std::move(created).error();
  co_return json::object{{"QueueUrl", queue_url(context, created->name)}};
}

Task<Output> get_queue_url(const OperationContext& context) {
  auto name = required_string(context.call.input, "QueueName");
  if (!name) co_return std::move(name).error();
  auto owner = optional_string(context.call.input, "QueueOwnerAWSAccountId");
  if (!owner) co_return std::move(owner).error();
  if (owner->has_value() && **owner != context.queues.options().account_id) {
    co_return queue_not_found();
  }
  auto queue = context.queues.describe(*name);
  if (!queue) co_return std::move(queue).error();
  co_return json::object{{"QueueUrl", queue_url(context, queue->name)}};
}

Task<Output> list_queues(const OperationContext& context) {
  auto prefix = optional_string(context.call.input, "QueueNamePrefix");
  if (!prefix) co_return std::move(prefix).error();
  co_return page(context, context.queues.list_queues(prefix->value_or("")), "QueueUrls");
}

Task<Output> list_dead_letter_source_queues(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  co_return page(context, context.queues.dead_letter_sources(*name), "queueUrls");
}

Task<Output> delete_queue(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto deleted = co_await context.queues.delete_queue(*name);
  if (!deleted) co_return std::move(deleted).error();
  co_return json::object{};
}

Task<Output> get_queue_attributes(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto requested = string_list(context.call.input, "AttributeNames");
  if (!requested) co_return std::move(requested).error();
  auto info = context.queues.describe(*name);
  if (!info) co_return std::move(info).error();
  auto depth = context.queues.depth(*name);
  if (!depth) co_return std::move(depth).error();

  std::map<std::string, std::string> all = info->attributes;
  all["ApproximateNumberOfMessages"] = std::to_string(depth->visible);
  all["ApproximateNumberOfMessagesNotVisible"] = std::to_string(depth->in_flight);
  all["ApproximateNumberOfMessagesDelayed"] = std::to_string(depth->delayed);
  all["CreatedTimestamp"] = std::to_string(info->created_s);
  all["LastModifiedTimestamp"] = std::to_string(info->modified_s);
  all["QueueArn"] = info->arn;

  json::object attributes;
  for (const auto& want : *requested) {
    bool known = want == "All" ||
                 std::find(std::begin(kComputedAttributes), std::end(kComputedAttributes), want) !=
                     std::end(kComputedAttributes) ||
                 std::find(std::begin(kStoredAttributes), std::end(kStoredAttributes), want) !=
                     std::end(kStoredAttributes);
    if (!known) co_return invalid_attribute_name(want);
    for (const auto& [key, value] : all) {
      if (want == "All" || want == key) attributes[key] = value;
    }
  }
  json::object output;
  if (!attributes.empty()) output["Attributes"] = std::move(attributes);
  co_return output;
}

Task<Output> set_queue_attributes(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto attributes = string_map(context.call.input, "Attributes");
  if (!attributes) co_return std::move(attributes).error();
  auto set = co_await context.queues.set_attributes(*name, std::move(*attributes));
  if (!set) co_return std::move(set).error();
  co_return json::object{};
}

Task<Output> tag_queue(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto tags = string_map(context.call.input, "Tags");
  if (!tags) co_return std::move(tags).error();
  if (tags->empty()) co_return missing_parameter("Tags");
  auto tagged = co_await context.queues.tag_queue(*name, std::move(*tags));
  if (!tagged) co_return std::move(tagged).error();
  co_return json::object{};
}

Task<Output> untag_queue(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto keys = string_list(context.call.input, "TagKeys");
  if (!keys) co_return std::move(keys).error();
  if (keys->empty()) co_return missing_parameter("TagKeys");
  auto untagged = co_await context.queues.untag_queue(*name, std::move(*keys));
  if (!untagged) co_return std::move(untagged).error();
  co_return json::object{};
}

Task<Output> list_queue_tags(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto info = context.queues.describe(*name);
  if (!info) co_return std::move(info).error();
  json::object tags;
  for (const auto& [key, value] : info->tags) tags[key] = value;
  json::object output;
  if (!tags.empty()) output["Tags"] = std::move(tags);
  co_return output;
}

Task<Output> purge_queue(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto purged = co_await context.queues.purge(*name);
  if (!purged) co_return std::move(purged).error();
  co_return json::object{};
}

}  // namespace lambent::services::sqs
