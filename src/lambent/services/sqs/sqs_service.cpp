#include "lambent/services/sqs/sqs_service.h"

#include "lambent/base/log.h"
#include "lambent/services/sqs/errors.h"
#include "lambent/services/sqs/operations.h"
#include "lambent/services/sqs/protocol.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>

namespace lambent::services::sqs {

namespace {

// A form-encoded batch of ten 256 KiB messages can take three bytes per byte sent, so the
// body limit is well above the 256 KiB payload limit the operations enforce.
constexpr std::uint64_t kMaxRequestBytes = 4 * 1024 * 1024;

using Operation = Task<Output> (*)(const OperationContext&);

struct OperationEntry {
  std::string_view name;
  Operation run;  // null: an operation of the model that Lambent does not serve
};

constexpr OperationEntry kOperations[] = {
    {"CreateQueue", &create_queue},
    {"GetQueueUrl", &get_queue_url},
    {"ListQueues", &list_queues},
    {"DeleteQueue", &delete_queue},
    {"GetQueueAttributes", &get_queue_attributes},
    {"SetQueueAttributes", &set_queue_attributes},
    {"TagQueue", &tag_queue},
    {"UntagQueue", &untag_queue},
    {"ListQueueTags", &list_queue_tags},
    {"PurgeQueue", &purge_queue},
    {"ListDeadLetterSourceQueues", &list_dead_letter_source_queues},
    {"SendMessage", &send_message},
    {"SendMessageBatch", &send_message_batch},
    {"ReceiveMessage", &receive_message},
    {"DeleteMessage", &delete_message},
    {"DeleteMessageBatch", &delete_message_batch},
    {"ChangeMessageVisibility", &change_message_visibility},
    {"ChangeMessageVisibilityBatch", &change_message_visibility_batch},
    {"AddPermission", nullptr},
    {"RemovePermission", nullptr},
    {"StartMessageMoveTask", nullptr},
    {"CancelMessageMoveTask", nullptr},
    {"ListMessageMoveTasks", nullptr},
};

bool is_queue_path(std::string_view path) {
  if (!path.starts_with('/')) return false;
  path.remove_prefix(1);
  auto slash = path.find('/');
  if (slash != 12) return false;
  auto account = path.substr(0, slash);
  auto name = path.substr(slash + 1);
  return std::all_of(account.begin(), account.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         !name.empty() && name.find('/') == std::string_view::npos;
}

}  // namespace

bool SqsService::owns(const http::Request& head) const {
  if (head.header("x-amz-target").starts_with(kTargetPrefix)) return true;
  std::string_view authorization = head.header("authorization");
  if (!authorization.empty()) return http::scope_service(authorization) == "sqs";
  return head.method == "POST" && is_queue_path(head.path()) &&
         head.header("content-type").starts_with("application/x-www-form-urlencoded");
}

http::Handler::HeadDecision SqsService::check_head(const http::Request& head,
                                                   std::optional<std::uint64_t> content_length) {
  http::Handler::HeadDecision decision;
  decision.body_limit = kMaxRequestBytes;
  if (content_length && *content_length > kMaxRequestBytes) {
    decision.reject = body_too_large(head, kMaxRequestBytes);
  }
  return decision;
}

http::Response SqsService::body_too_large(const http::Request& head, std::uint64_t limit) {
  auto response =
      encode_error(detect_protocol(head),
                   sqs_error("AWS.SimpleQueueService.BatchRequestTooLong",
                             fmt::format("The request body is larger than {} bytes.", limit)),
                   head.id);
  response.close = true;
  return response;
}

http::Response SqsService::unauthorized(const http::Request& request, const Error& error) {
  // The edge's types are Lambda's; SQS clients know these two.
  std::string_view code = error.type == "UnrecognizedClientException" ? "InvalidClientTokenId"
                                                                      : "SignatureDoesNotMatch";
  return encode_error(detect_protocol(request), sqs_error(code, error.message), request.id);
}

Task<http::Response> SqsService::handle(http::Request& request, const http::Identity* identity) {
  auto call = decode_call(request);
  if (!call) co_return encode_error(detect_protocol(request), call.error(), request.id);
  const OperationEntry* entry = nullptr;
  for (const auto& candidate : kOperations) {
    if (candidate.name == call->operation) entry = &candidate;
  }
  if (entry == nullptr) {
    co_return encode_error(
        call->protocol,
        sqs_error("InvalidAction",
                  fmt::format("The action {} is not valid for this endpoint.", call->operation)),
        request.id);
  }
  if (entry->run == nullptr) {
    co_return encode_error(call->protocol,
                           sqs_error("AWS.SimpleQueueService.UnsupportedOperation",
                                     fmt::format("Lambent does not implement {}.", entry->name)),
                           request.id);
  }
  OperationContext context{queues_, request, identity, *call};
  auto operation = entry->run;
  auto output = co_await operation(context);
  if (!output) {
    if (output.error().code == Errc::io || output.error().code == Errc::internal) {
      LOG_ERROR("sqs", "operation_failed", "request_id={} operation={} error=\"{}\"", request.id,
                call->operation, output.error().message);
    }
    co_return encode_error(call->protocol, output.error(), request.id);
  }
  co_return encode_output(*call, *output, request.id);
}

}  // namespace lambent::services::sqs
