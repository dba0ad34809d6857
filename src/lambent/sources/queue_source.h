#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/message_targets.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The queue operations the event source mappings use, in process. The queue service implements
// them; CreateEventSourceMapping validates against describe() and the pollers call the rest.
namespace lambent::sources {

struct QueueFacts {
  std::int64_t visibility_timeout_seconds = 30;
  bool fifo = false;
  std::int64_t visible_messages = 0;  // ApproximateNumberOfMessages
};

// A received message with everything the SQS event record of Lambda shows.
struct QueueMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  std::string md5_of_message_attributes;  // empty when the message has no attributes
  std::vector<store::MessageAttribute> attributes;
  // ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp and, on
  // FIFO queues, SequenceNumber, MessageGroupId and MessageDeduplicationId, in that order.
  std::vector<std::pair<std::string, std::string>> system_attributes;
};

class QueueSource {
 public:
  virtual ~QueueSource() = default;
  // Returns the facts of the queue `arn` names, or nullopt when no queue has that ARN.
  virtual std::optional<QueueFacts> describe(std::string_view arn) const = 0;
  // Receives up to `max_messages` (1 to 10) with the queue's visibility timeout, waiting up to
  // `wait` for the first one, as ReceiveMessage with WaitTimeSeconds does. Redrive to a
  // dead-letter queue applies as it does for any receive. Fails with Errc::not_found when the
  // queue is gone.
  virtual Task<Result<std::vector<QueueMessage>>> receive(std::string arn, int max_messages,
                                                          std::chrono::seconds wait) = 0;
  // Deletes received messages by receipt handle. Handles that are stale are skipped.
  virtual Task<Status> remove(std::string arn, std::vector<std::string> receipt_handles) = 0;
};

}  // namespace lambent::sources
