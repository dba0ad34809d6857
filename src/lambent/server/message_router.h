#pragma once

#include "lambent/store/message_targets.h"

#include <string>
#include <string_view>

// Routes a send to the service an ARN names: arn:aws:sqs:... to the queues, arn:aws:sns:... to
// the topics. Either may be missing; a send to it then fails with Errc::not_found.
namespace lambent::server {

class MessageRouter final : public store::MessageTargets {
 public:
  void set_queues(store::MessageTargets* queues) { queues_ = queues; }
  void set_topics(store::MessageTargets* topics) { topics_ = topics; }

  Task<Result<std::string>> send(std::string_view arn, store::OutboundMessage message) override;

 private:
  store::MessageTargets* queues_ = nullptr;
  store::MessageTargets* topics_ = nullptr;
};

}  // namespace lambent::server
