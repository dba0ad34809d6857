#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/http/sigv4.h"
#include "lambent/services/sqs/protocol.h"
#include "lambent/services/sqs/queues.h"

#include <boost/json/object.hpp>

#include <string>

// The SQS operations behind SqsService, each taking the decoded call and returning its output
// in the JSON shape. Internal to services/sqs.
namespace lambent::services::sqs {

struct OperationContext {
  Queues& queues;
  const http::Request& request;
  const http::Identity* identity;
  const Call& call;
};

using Output = Result<boost::json::object>;

// The queue a request names: its QueueUrl member, else (query protocol) the request path when
// it is a queue URL path. NonExistentQueue for a URL of another account or an unknown queue.
Result<std::string> queue_name(const OperationContext& context);
// http://<Host the client used>/<account>/<name>.
std::string queue_url(const OperationContext& context, std::string_view name);

Task<Output> create_queue(const OperationContext& context);
Task<Output> get_queue_url(const OperationContext& context);
Task<Output> list_queues(const OperationContext& context);
Task<Output> delete_queue(const OperationContext& context);
Task<Output> get_queue_attributes(const OperationContext& context);
Task<Output> set_queue_attributes(const OperationContext& context);
Task<Output> tag_queue(const OperationContext& context);
Task<Output> untag_queue(const OperationContext& context);
Task<Output> list_queue_tags(const OperationContext& context);
Task<Output> purge_queue(const OperationContext& context);
Task<Output> list_dead_letter_source_queues(const OperationContext& context);

Task<Output> send_message(const OperationContext& context);
Task<Output> send_message_batch(const OperationContext& context);
Task<Output> receive_message(const OperationContext& context);
Task<Output> delete_message(const OperationContext& context);
Task<Output> delete_message_batch(const OperationContext& context);
Task<Output> change_message_visibility(const OperationContext& context);
Task<Output> change_message_visibility_batch(const OperationContext& context);

}  // namespace lambent::services::sqs
