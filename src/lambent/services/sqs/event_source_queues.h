#pragma once

#include "lambent/services/sqs/queues.h"
#include "lambent/sources/queue_source.h"

// The queue operations of Lambda event source mappings (sources::QueueSource), served by
// Queues in process. Queues are named by ARN. Runs on the executor of `queues`, which must
// outlive this object.
namespace lambent::services::sqs {

class EventSourceQueues final : public sources::QueueSource {
 public:
  explicit EventSourceQueues(Queues& queues) : queues_(queues) {}

  std::optional<sources::QueueFacts> describe(std::string_view arn) const override;
  Task<Result<std::vector<sources::QueueMessage>>> receive(std::string arn, int max_messages,
                                                           std::chrono::seconds wait) override;
  Task<Status> remove(std::string arn, std::vector<std::string> receipt_handles) override;

 private:
  Queues& queues_;
};

// The event record view of a received message: every attribute, their digest and the system
// attributes in the order QueueMessage documents.
sources::QueueMessage to_queue_message(ReceivedMessage message);

}  // namespace lambent::services::sqs
