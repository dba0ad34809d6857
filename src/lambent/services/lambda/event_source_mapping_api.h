#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"
#include "lambent/sources/mapping.h"
#include "lambent/sources/queue_source.h"

#include <string>
#include <string_view>

// The event source mapping operations of the Lambda API: CreateEventSourceMapping and
// ListEventSourceMappings at /2015-03-31/event-source-mappings/, and Get, Update and
// DeleteEventSourceMapping at /2015-03-31/event-source-mappings/UUID, with AWS's validation,
// messages and status codes (202 for create, update and delete). Only SQS queues are served as
// event sources.
namespace lambent::services::lambda {

// True when the path names one of these operations.
bool is_event_source_mapping_route(std::string_view path);

// The catalog and services the operations use. `queues` may be null when no queue service
// runs, and every queue then counts as missing.
struct MappingContext {
  invoke::Invoker& invoker;
  sources::MappingCatalog& catalog;
  const sources::QueueSource* queues = nullptr;
  AsyncMutex& mutations;  // the service's lock for function changes
};

// Serves one request for which is_event_source_mapping_route() is true.
Task<http::Response> handle_event_source_mapping(MappingContext context, http::Request& request,
                                                 std::string request_id);

}  // namespace lambent::services::lambda
