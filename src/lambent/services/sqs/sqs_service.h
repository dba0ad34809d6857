#pragma once

#include "lambent/base/async.h"
#include "lambent/services/edge/edge.h"
#include "lambent/services/sqs/queues.h"

// The SQS API (2012-11-05) on the edge port, in the query protocol (Debian's boto3 1.26, AWS
// CLI 2.9) and the JSON 1.0 protocol (newer SDKs). Decodes each request (protocol.h), runs the
// operation on Queues and encodes the response in the caller's protocol. Operations of the model
// that Lambent does not serve (permissions, message move tasks) get UnsupportedOperation.
// Queue URLs are http://<Host header>/<account>/<queue name>. Runs on the control-plane
// executor; `queues` must outlive the service.
namespace lambent::services::sqs {

class SqsService final : public EdgeService {
 public:
  explicit SqsService(Queues& queues) : queues_(queues) {}

  // An X-Amz-Target of AmazonSQS.*, a SigV4 credential scope of `sqs`, or (unsigned, with auth
  // off) a form POST to a queue URL path /<account>/<name>.
  bool owns(const http::Request& head) const override;
  http::Handler::HeadDecision check_head(const http::Request& head,
                                         std::optional<std::uint64_t> content_length) override;
  http::Response body_too_large(const http::Request& head, std::uint64_t limit) override;
  http::Response unauthorized(const http::Request& request, const Error& error) override;
  Task<http::Response> handle(http::Request& request, const http::Identity* identity) override;

 private:
  Queues& queues_;
};

}  // namespace lambent::services::sqs
