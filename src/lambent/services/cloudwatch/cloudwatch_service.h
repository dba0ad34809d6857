#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/services/cloudwatch/operations.h"

namespace lambent::metrics {
class MetricStore;
class AlarmEngine;
}  // namespace lambent::metrics

// The CloudWatch metrics and alarms API (monitoring 2010-08-01) on the edge port, in the query,
// JSON 1.0 and Smithy RPC v2 CBOR protocols (protocol.h). Decodes each request, runs the
// operation against the metric store and the alarm engine, and encodes the response in the
// caller's protocol. Operations of the model that Lambent does not serve get 501
// NotImplemented naming the operation, and unknown names get InvalidAction. The edge verifies
// signatures first. Runs on the control-plane executor, and the store and engine must outlive
// it.
namespace lambent::services::cloudwatch {

class CloudWatchService {
 public:
  // `alarms` may be null, and the alarm operations then return NotImplemented.
  CloudWatchService(metrics::MetricStore& store, metrics::AlarmEngine* alarms,
                    CloudWatchOptions options);

  // True when the edge should route the request here (is_cloudwatch_request in protocol.h).
  static bool owns(const http::Request& request);

  // Serves one request; request.id is the request id of the response.
  Task<http::Response> handle(const http::Request& request);

  // Renders the edge's signature failure (Errc::unauthorized with the Lambda-style type in
  // Error::type) as the error the request's protocol expects, such as SignatureDoesNotMatch.
  http::Response unauthorized(const http::Request& request, const Error& error) const;

 private:
  metrics::MetricStore& store_;
  metrics::AlarmEngine* alarms_;
  CloudWatchOptions options_;
};

}  // namespace lambent::services::cloudwatch
