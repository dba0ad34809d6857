#include "lambent/server/message_router.h"

#include <fmt/format.h>

namespace lambent::server {

namespace {

// The service field of "arn:partition:service:region:account:resource".
std::string_view arn_service(std::string_view arn) {
  if (!arn.starts_with("arn:")) return {};
  auto partition_end = arn.find(':', 4);
  if (partition_end == std::string_view::npos) return {};
  auto service_end = arn.find(':', partition_end + 1);
  if (service_end == std::string_view::npos) return {};
  return arn.substr(partition_end + 1, service_end - partition_end - 1);
}

}  // namespace

Task<Result<std::string>> MessageRouter::send(std::string_view arn, store::OutboundMessage message) {
  std::string_view service = arn_service(arn);
  store::MessageTargets* target = nullptr;
  if (service == "sqs") target = queues_;
  if (service == "sns") target = topics_;
  if (service != "sqs" && service != "sns") {
    co_return make_error(Errc::invalid_parameter,
                         fmt::format("'{}' is not the ARN of an SQS queue or an SNS topic", arn));
  }
  if (target == nullptr) {
    co_return make_error(Errc::not_found, fmt::format("no {} service serves '{}'", service, arn));
  }
  co_return co_await target->send(arn, std::move(message));
}

}  // namespace lambent::server
