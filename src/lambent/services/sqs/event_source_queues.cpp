#include "lambent/services/sqs/event_source_queues.h"

#include "lambent/services/sqs/errors.h"

namespace lambent::services::sqs {

sources::QueueMessage to_queue_message(ReceivedMessage message) {
  sources::QueueMessage out;
  out.message_id = std::move(message.message_id);
  out.receipt_handle = std::move(message.receipt_handle);
  out.body = *message.body;
  out.md5_of_body = std::move(message.md5_body);
  out.md5_of_message_attributes = md5_of_attributes(message.attributes);
  out.attributes = std::move(message.attributes);
  auto& system = out.system_attributes;
  system.emplace_back("ApproximateReceiveCount", std::to_string(message.receive_count));
  system.emplace_back("SentTimestamp", std::to_string(message.sent_ms));
  system.emplace_back("SenderId", std::move(message.sender_id));
  system.emplace_back("ApproximateFirstReceiveTimestamp", std::to_string(message.first_receive_ms));
  if (!message.sequence_number.empty()) {
    system.emplace_back("SequenceNumber", std::move(message.sequence_number));
    system.emplace_back("MessageGroupId", std::move(message.group_id));
    system.emplace_back("MessageDeduplicationId", std::move(message.deduplication_id));
  }
  return out;
}

std::optional<sources::QueueFacts> EventSourceQueues::describe(std::string_view arn) const {
  auto name = queues_.name_of_arn(arn);
  if (!name) return std::nullopt;
  auto info = queues_.describe(*name);
  auto depth = queues_.depth(*name);
  if (!info || !depth) return std::nullopt;
  sources::QueueFacts facts;
  facts.visibility_timeout_seconds = info->config.visibility_timeout;
  facts.fifo = info->config.fifo;
  facts.visible_messages = depth->visible;
  return facts;
}

Task<Result<std::vector<sources::QueueMessage>>> EventSourceQueues::receive(
    std::string arn, int max_messages, std::chrono::seconds wait) {
  auto name = queues_.name_of_arn(arn);
  if (!name) co_return queue_not_found();
  ReceiveRequest request;
  request.max_messages = max_messages;
  request.wait_seconds =
      static_cast<int>(std::min<std::chrono::seconds::rep>(wait.count(), kMaxWaitSeconds));
  auto received = co_await queues_.receive_messages(std::move(*name), request);
  if (!received) co_return std::move(received).error();
  std::vector<sources::QueueMessage> messages;
  messages.reserve(received->size());
  for (auto& message : *received) messages.push_back(to_queue_message(std::move(message)));
  co_return messages;
}

Task<Status> EventSourceQueues::remove(std::string arn, std::vector<std::string> receipt_handles) {
  auto name = queues_.name_of_arn(arn);
  if (!name) co_return queue_not_found();
  // Each handle has its own result; a stale one is skipped, as the interface promises.
  auto deleted = co_await queues_.delete_messages(std::move(*name), std::move(receipt_handles));
  if (!deleted) co_return std::move(deleted).error();
  co_return ok_status();
}

}  // namespace lambent::services::sqs
