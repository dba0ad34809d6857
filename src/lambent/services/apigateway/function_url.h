#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/http/server.h"
#include "lambent/http/sigv4.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/lambda/function_urls.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

// The function URL data plane: serves HTTP requests addressed to a function URL, either by host
// ({url-id}.lambda-url.{region}.localhost:{port}, any host whose second label is "lambda-url")
// or by path (/_aws/lambda-url/{url-id}/..., which needs no DNS). Checks the URL's AuthType
// (SigV4 for AWS_IAM), responds to CORS preflights, invokes the function or alias with a payload
// format 2.0 event and converts its result as function URLs do. Runs on the control-plane
// executor.
namespace lambent::services::apigateway {

// A request's function URL, as the host or path names it.
struct FunctionUrlTarget {
  std::string url_id;
  // The path passed to the function, still percent-encoded: the request's path for the host form,
  // the rest after /_aws/lambda-url/{url-id} for the path form ("/" when nothing follows).
  std::string path;
  // The host the client addressed, without the port. The path form reports
  // {url-id}.lambda-url.{region}.localhost, the host it stands for.
  std::string domain_name;
};

// Returns the target when the request addresses a function URL, by host or by path.
std::optional<FunctionUrlTarget> match_function_url(const http::Request& head,
                                                    std::string_view region);

// Verifies a request's SigV4 signature with the edge's keys. Fails with Errc::unauthorized.
using SignatureCheck = std::function<Result<http::Identity>(const http::Request& request)>;

struct FunctionUrlOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // When false (`serve --no-auth`), AWS_IAM URLs accept unsigned requests like every API.
  bool auth = true;
};

class FunctionUrlGateway {
 public:
  // Function URLs accept request payloads up to 6 MB, as synchronous invokes do.
  static constexpr std::uint64_t kMaxPayloadBytes = 6291456;

  FunctionUrlGateway(lambda::FunctionUrlCatalog& urls, invoke::Invoker& invoker,
                     SignatureCheck check_signature, FunctionUrlOptions options);

  // Body limit for a function URL request; rejects a declared length over 6 MB.
  http::Handler::HeadDecision check_head(const http::Request& head,
                                         std::optional<std::uint64_t> content_length) const;
  // The 413 response for a request or event payload over the limit.
  http::Response payload_too_large(std::string_view request_id) const;

  // Serves one request for which match_function_url() returned `target`.
  Task<http::Response> handle(http::Request& request, FunctionUrlTarget target);

  const FunctionUrlOptions& options() const { return options_; }

 private:
  lambda::FunctionUrlCatalog& urls_;
  invoke::Invoker& invoker_;
  SignatureCheck check_signature_;
  FunctionUrlOptions options_;
};

}  // namespace lambent::services::apigateway
