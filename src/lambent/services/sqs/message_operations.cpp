#include "lambent/base/crypto.h"
#include "lambent/services/sqs/errors.h"
#include "lambent/services/sqs/input.h"
#include "lambent/services/sqs/operations.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <set>

namespace lambent::services::sqs {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxBatchEntries = 10;

constexpr std::string_view kMessageSystemAttributes[] = {"All",
                                                         "SenderId",
                                                         "SentTimestamp",
                                                         "ApproximateReceiveCount",
                                                         "ApproximateFirstReceiveTimestamp",
                                                         "SequenceNumber",
                                                         "MessageDeduplicationId",
                                                         "MessageGroupId",
                                                         "AWSTraceHeader",
                                                         "DeadLetterQueueSourceArn"};

struct BatchEntry {
  std::string id;
  const json::object* fields;
};

bool valid_entry_id(std::string_view id) {
  return !id.empty() && id.size() <= 80 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The Entries of a batch request, checked as AWS checks them before any entry runs.
Result<std::vector<BatchEntry>> batch_entries(const json::object& input,
                                              std::string_view entry_shape) {
  const auto* entries = input.if_contains("Entries");
  if (entries == nullptr || !entries->is_array() || entries->as_array().empty()) {
    return sqs_error("AWS.SimpleQueueService.EmptyBatchRequest",
                     fmt::format("There should be at least one {} in the request.", entry_shape));
  }
  const auto& array = entries->as_array();
  if (array.size() > kMaxBatchEntries) {
    return sqs_error("AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                     fmt::format("Maximum number of entries per request are {}. You have sent {}.",
                                 kMaxBatchEntries, array.size()));
  }
  std::vector<BatchEntry> out;
  std::set<std::string> seen;
  for (const auto& entry : array) {
    if (!entry.is_object()) return invalid_parameter("Each entry of Entries must be a structure.");
    auto id = required_string(entry.as_object(), "Id");
    if (!id) return std::move(id).error();
    if (!valid_entry_id(*id)) {
      return sqs_error("AWS.SimpleQueueService.InvalidBatchEntryId",
                       "A batch entry id can only contain alphanumeric characters, hyphens and "
                       "underscores. It can be at most 80 letters long.");
    }
    if (!seen.insert(*id).second) {
      return sqs_error("AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                       fmt::format("Id {} repeated.", *id));
    }
    out.push_back(BatchEntry{std::move(*id), &entry.as_object()});
  }
  return out;
}

json::object failed_entry(std::string_view id, const Error& error) {
  ErrorShape shape = error_shape(error);
  return json::object{
      {"Id", id}, {"SenderFault", shape.sender}, {"Code", shape.code}, {"Message", error.message}};
}

std::string sender_id(const OperationContext& context) {
  if (context.identity != nullptr) return context.identity->access_key_id;
  return context.queues.options().account_id;
}

Result<NewMessage> read_message(const OperationContext& context, const json::object& fields) {
  NewMessage message;
  auto body = optional_string(fields, "MessageBody");
  if (!body) return std::move(body).error();
  if (!body->has_value()) return missing_parameter("MessageBody");
  message.body = std::move(**body);
  auto delay = optional_int(fields, "DelaySeconds");
  if (!delay) return std::move(delay).error();
  if (delay->has_value()) {
    if (**delay < 0 || **delay > kMaxDelaySeconds) {
      return invalid_parameter_value(std::to_string(**delay), "DelaySeconds",
                                     "DelaySeconds must be >= 0 and <= 900.");
    }
    message.delay_seconds = static_cast<int>(**delay);
  }
  auto attributes = message_attributes(fields, "MessageAttributes");
  if (!attributes) return std::move(attributes).error();
  message.attributes = std::move(*attributes);
  auto system = message_attributes(fields, "MessageSystemAttributes");
  if (!system) return std::move(system).error();
  for (const auto& attribute : *system) {
    if (attribute.name != "AWSTraceHeader") {
      return invalid_parameter(
          fmt::format("Message system attribute name '{}' is invalid.", attribute.name));
    }
    if (attribute.data_type != "String" || attribute.string_value.empty()) {
      return invalid_parameter(
          "Message system attribute 'AWSTraceHeader' must be of type String and not empty.");
    }
    message.trace_header = attribute.string_value;
  }
  auto group = optional_string(fields, "MessageGroupId");
  if (!group) return std::move(group).error();
  message.group_id = group->value_or("");
  auto dedup = optional_string(fields, "MessageDeduplicationId");
  if (!dedup) return std::move(dedup).error();
  message.deduplication_id = dedup->value_or("");
  message.sender_id = sender_id(context);
  return message;
}

std::size_t message_size(const NewMessage& message) {
  std::size_t size = message.body.size();
  for (const auto& a : message.attributes) {
    size += a.name.size() + a.data_type.size() + a.string_value.size() + a.binary_value.size();
  }
  return size;
}

void add_send_result(json::object& out, const SendResult& sent) {
  out["MessageId"] = sent.message_id;
  out["MD5OfMessageBody"] = sent.md5_body;
  if (!sent.md5_attributes.empty()) out["MD5OfMessageAttributes"] = sent.md5_attributes;
  if (!sent.md5_system_attributes.empty()) {
    out["MD5OfMessageSystemAttributes"] = sent.md5_system_attributes;
  }
  if (!sent.sequence_number.empty()) out["SequenceNumber"] = sent.sequence_number;
}

bool attribute_selected(const std::vector<std::string>& names, std::string_view attribute) {
  for (const auto& name : names) {
    if (name == "All" || name == ".*" || name == attribute) return true;
    if (name.size() > 2 && name.ends_with(".*") &&
        attribute.starts_with(std::string_view(name).substr(0, name.size() - 1))) {
      return true;
    }
  }
  return false;
}

json::object render_message(const ReceivedMessage& message,
                            const std::vector<std::string>& system_names,
                            const std::vector<std::string>& attribute_names) {
  json::object out{{"MessageId", message.message_id},
                   {"ReceiptHandle", message.receipt_handle},
                   {"MD5OfBody", message.md5_body},
                   {"Body", *message.body}};
  json::object attributes;
  auto want = [&](std::string_view name) {
    return std::find(system_names.begin(), system_names.end(), "All") != system_names.end() ||
           std::find(system_names.begin(), system_names.end(), name) != system_names.end();
  };
  if (want("SenderId")) attributes["SenderId"] = message.sender_id;
  if (want("SentTimestamp")) attributes["SentTimestamp"] = std::to_string(message.sent_ms);
  if (want("ApproximateReceiveCount")) {
    attributes["ApproximateReceiveCount"] = std::to_string(message.receive_count);
  }
  if (want("ApproximateFirstReceiveTimestamp")) {
    attributes["ApproximateFirstReceiveTimestamp"] = std::to_string(message.first_receive_ms);
  }
  if (want("AWSTraceHeader") && !message.trace_header.empty()) {
    attributes["AWSTraceHeader"] = message.trace_header;
  }
  if (!message.group_id.empty() && want("MessageGroupId")) {
    attributes["MessageGroupId"] = message.group_id;
  }
  if (!message.sequence_number.empty()) {
    if (want("MessageDeduplicationId")) {
      attributes["MessageDeduplicationId"] = message.deduplication_id;
    }
    if (want("SequenceNumber")) attributes["SequenceNumber"] = message.sequence_number;
  }
  if (!attributes.empty()) out["Attributes"] = std::move(attributes);

  std::vector<store::MessageAttribute> selected;
  for (const auto& attribute : message.attributes) {
    if (attribute_selected(attribute_names, attribute.name)) selected.push_back(attribute);
  }
  if (!selected.empty()) {
    // The digest covers the attributes returned, so the client can check what it got.
    out["MD5OfMessageAttributes"] = md5_of_attributes(selected);
    json::object values;
    for (const auto& attribute : selected) {
      json::object value{{"DataType", attribute.data_type}};
      if (attribute.data_type.starts_with("Binary")) {
        value["BinaryValue"] = base64_encode(attribute.binary_value);
      } else {
        value["StringValue"] = attribute.string_value;
      }
      values[attribute.name] = std::move(value);
    }
    out["MessageAttributes"] = std::move(values);
  }
  return out;
}

}  // namespace

Task<Output> send_message(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto message = read_message(context, context.call.input);
  if (!message) co_return std::move(message).error();
  auto sent = co_await context.queues.send_message(*name, std::move(*message));
  if (!sent) co_return std::move(sent).error();
  json::object out;
  add_send_result(out, *sent);
  co_return out;
}

Task<Output> send_message_batch(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto entries = batch_entries(context.call.input, "SendMessageBatchRequestEntry");
  if (!entries) co_return std::move(entries).error();

  json::array failed;
  std::vector<NewMessage> messages;
  std::vector<std::string> ids;
  std::size_t total = 0;
  for (const auto& entry : *entries) {
    auto message = read_message(context, *entry.fields);
    if (!message) {
      failed.push_back(failed_entry(entry.id, message.error()));
      continue;
    }
    total += message_size(*message);
    ids.push_back(entry.id);
    messages.push_back(std::move(*message));
  }
  if (total > static_cast<std::size_t>(kMaxMessageBytes)) {
    co_return sqs_error("AWS.SimpleQueueService.BatchRequestTooLong",
                        fmt::format("Batch requests cannot be longer than {} bytes. You have sent "
                                    "{} bytes.",
                                    kMaxMessageBytes, total));
  }
  json::array successful;
  if (!messages.empty()) {
    auto sent = co_await context.queues.send_messages(*name, std::move(messages));
    if (!sent) co_return std::move(sent).error();
    for (std::size_t i = 0; i < sent->size(); ++i) {
      auto& result = (*sent)[i];
      if (!result) {
        failed.push_back(failed_entry(ids[i], result.error()));
        continue;
      }
      json::object out{{"Id", ids[i]}};
      add_send_result(out, *result);
      successful.push_back(std::move(out));
    }
  }
  co_return json::object{{"Successful", std::move(successful)}, {"Failed", std::move(failed)}};
}

namespace {

// Reads an optional integer parameter and rejects a value outside [min, max] with
// InvalidParameterValue and `rule` as the reason.
Result<std::optional<std::int64_t>> optional_int_in(const json::object& input,
                                                    std::string_view name, std::int64_t min,
                                                    std::int64_t max, std::string_view rule) {
  auto value = optional_int(input, name);
  if (!value) return value;
  if (*value && (**value < min || **value > max)) {
    return invalid_parameter_value(std::to_string(**value), name, rule);
  }
  return value;
}

}  // namespace

Task<Output> receive_message(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  const auto& input = context.call.input;
  ReceiveRequest request;
  auto max = optional_int_in(input, "MaxNumberOfMessages", 1, kMaxReceiveMessages,
                             "Must be between 1 and 10, if provided.");
  if (!max) co_return std::move(max).error();
  if (*max) request.max_messages = static_cast<int>(**max);
  auto visibility = optional_int_in(input, "VisibilityTimeout", 0, kMaxVisibilityTimeout,
                                    "Must be >= 0 and <= 43200, if provided.");
  if (!visibility) co_return std::move(visibility).error();
  if (*visibility) request.visibility_timeout = static_cast<int>(**visibility);
  auto wait = optional_int_in(input, "WaitTimeSeconds", 0, kMaxWaitSeconds,
                              "Must be >= 0 and <= 20, if provided.");
  if (!wait) co_return std::move(wait).error();
  if (*wait) request.wait_seconds = static_cast<int>(**wait);
  auto system_names = string_list(input, "AttributeNames");
  if (!system_names) co_return std::move(system_names).error();
  auto more_names = string_list(input, "MessageSystemAttributeNames");
  if (!more_names) co_return std::move(more_names).error();
  for (auto& extra : *more_names) {
    if (std::find(std::begin(kMessageSystemAttributes), std::end(kMessageSystemAttributes),
                  extra) == std::end(kMessageSystemAttributes)) {
      co_return invalid_attribute_name(extra);
    }
    system_names->push_back(std::move(extra));
  }
  auto attribute_names = string_list(input, "MessageAttributeNames");
  if (!attribute_names) co_return std::move(attribute_names).error();
  auto attempt = optional_string(input, "ReceiveRequestAttemptId");
  if (!attempt) co_return std::move(attempt).error();

  auto received = co_await context.queues.receive_messages(*name, request);
  if (!received) co_return std::move(received).error();
  json::array messages;
  for (const auto& message : *received) {
    messages.push_back(render_message(message, *system_names, *attribute_names));
  }
  json::object output;
  if (!messages.empty()) output["Messages"] = std::move(messages);
  co_return output;
}

Task<Output> delete_message(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto handle = required_string(context.call.input, "ReceiptHandle");
  if (!handle) co_return std::move(handle).error();
  auto deleted = co_await context.queues.delete_message(*name, std::move(*handle));
  if (!deleted) co_return std::move(deleted).error();
  co_return json::object{};
}

Task<Output> delete_message_batch(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto entries = batch_entries(context.call.input, "DeleteMessageBatchRequestEntry");
  if (!entries) co_return std::move(entries).error();
  json::array failed;
  std::vector<std::string> ids;
  std::vector<std::string> handles;
  for (const auto& entry : *entries) {
    auto handle = required_string(*entry.fields, "ReceiptHandle");
    if (!handle) {
      failed.push_back(failed_entry(entry.id, handle.error()));
      continue;
    }
    ids.push_back(entry.id);
    handles.push_back(std::move(*handle));
  }
  json::array successful;
  if (!handles.empty()) {
    auto results = co_await context.queues.delete_messages(*name, std::move(handles));
    if (!results) co_return std::move(results).error();
    for (std::size_t i = 0; i < results->size(); ++i) {
      if ((*results)[i]) {
        successful.push_back(json::object{{"Id", ids[i]}});
      } else {
        failed.push_back(failed_entry(ids[i], (*results)[i].error()));
      }
    }
  }
  co_return json::object{{"Successful", std::move(successful)}, {"Failed", std::move(failed)}};
}

Task<Output> change_message_visibility(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto handle = required_string(context.call.input, "ReceiptHandle");
  if (!handle) co_return std::move(handle).error();
  auto seconds = optional_int(context.call.input, "VisibilityTimeout");
  if (!seconds) co_return std::move(seconds).error();
  if (!seconds->has_value()) co_return missing_parameter("VisibilityTimeout");
  if (**seconds < 0 || **seconds > kMaxVisibilityTimeout) {
    co_return invalid_parameter_value(
        std::to_string(**seconds), "VisibilityTimeout",
        "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]");
  }
  auto changed = co_await context.queues.change_visibility(*name, std::move(*handle),
                                                           static_cast<int>(**seconds));
  if (!changed) co_return std::move(changed).error();
  co_return json::object{};
}

Task<Output> change_message_visibility_batch(const OperationContext& context) {
  auto name = queue_name(context);
  if (!name) co_return std::move(name).error();
  auto entries = batch_entries(context.call.input, "ChangeMessageVisibilityBatchRequestEntry");
  if (!entries) co_return std::move(entries).error();
  json::array failed;
  std::vector<std::string> ids;
  std::vector<std::pair<std::string, int>> changes;
  for (const auto& entry : *entries) {
    auto handle = required_string(*entry.fields, "ReceiptHandle");
    if (!handle) {
      failed.push_back(failed_entry(entry.id, handle.error()));
      continue;
    }
    auto seconds = optional_int(*entry.fields, "VisibilityTimeout");
    if (!seconds) {
      failed.push_back(failed_entry(entry.id, seconds.error()));
      continue;
    }
    std::int64_t value = seconds->value_or(0);
    if (value < 0 || value > kMaxVisibilityTimeout) value = -1;
    ids.push_back(entry.id);
    changes.emplace_back(std::move(*handle), static_cast<int>(value));
  }
  json::array successful;
  if (!changes.empty()) {
    auto results = co_await context.queues.change_visibilities(*name, std::move(changes));
    if (!results) co_return std::move(results).error();
    for (std::size_t i = 0; i < results->size(); ++i) {
      if ((*results)[i]) {
        successful.push_back(json::object{{"Id", ids[i]}});
      } else {
        failed.push_back(failed_entry(ids[i], (*results)[i].error()));
      }
    }
  }
  co_return json::object{{"Successful", std::move(successful)}, {"Failed", std::move(failed)}};
}

}  // namespace lambent::services::sqs
