#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Sending a message to a queue or topic named by its ARN: what async destinations, dead-letter
// targets, bucket notifications, alarm actions and topic subscriptions do. The queue and topic
// services implement it; the server routes each ARN to the one that owns it.
namespace lambent::store {

// An SQS or SNS message attribute: DataType "String", "Number" or "Binary", optionally with a
// custom suffix ("Number.float"); the value is in string_value, or raw bytes in binary_value.
struct MessageAttribute {
  std::string name;
  std::string data_type;
  std::string string_value;
  std::string binary_value;
};

struct OutboundMessage {
  std::string body;
  std::vector<MessageAttribute> attributes;
  std::string subject;           // SNS only; empty when none
  std::string group_id;          // FIFO queues and topics
  std::string deduplication_id;  // FIFO; empty uses content-based deduplication when enabled
};

class MessageTargets {
 public:
  virtual ~MessageTargets() = default;
  // Sends `message` to the queue or topic `arn` names and resumes once it is durable, with the
  // new message id. Fails with Errc::not_found when nothing has that ARN, and with
  // Errc::invalid_parameter when the message does not fit the target (a FIFO queue without a
  // group id, a body over the size limit).
  virtual Task<Result<std::string>> send(std::string_view arn, OutboundMessage message) = 0;
};

}  // namespace lambent::store
