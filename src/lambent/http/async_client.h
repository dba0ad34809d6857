#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// An asynchronous HTTP/1.1 client for the server's own outbound calls (topic subscriptions,
// webhooks): one request per connection, on the executor of the awaiting coroutine, so it
// never blocks the control plane. https:// URLs use TLS with the peer's certificate verified.
namespace lambent::http {

// The certificate authorities an https:// request trusts: the system store (/etc/ssl/certs)
// and any extra CA files. It is built once, shared by requests and not changed afterwards.
class TlsTrust;

// Loads the system store and the PEM files in `extra_ca_files` (each may contain several
// certificates). Blocking: reads the files. Fails with Errc::invalid_parameter naming a file
// that cannot be read or contains no certificate.
Result<std::shared_ptr<const TlsTrust>> load_tls_trust(
    const std::vector<std::string>& extra_ca_files = {});

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::string port;    // defaults to 80 or 443
  std::string target;  // path and query, "/" when the URL has none
};

// Parses an absolute http:// or https:// URL. Fails with Errc::invalid_parameter naming it.
Result<Url> parse_url(std::string_view url);

struct OutboundRequest {
  std::string method = "POST";
  std::string url;
  HeaderList headers;  // Host and Content-Length are added
  std::string body;
  // Deadline for the whole exchange: resolve, connect, write and read.
  std::chrono::milliseconds timeout{15000};
  // A response body larger than this fails the request with Errc::too_large.
  std::size_t max_response_body = 1 << 20;
  // Trusted CAs for https:// URLs. Null trusts the system store only.
  std::shared_ptr<const TlsTrust> trust;
};

// Sends the request and returns the response (any status). Fails with Errc::invalid_parameter
// for a URL it cannot use, Errc::io for network failures, timeouts, TLS failures and
// certificates that are untrusted or name another host (naming the URL and the reason), and
// Errc::too_large for an oversized response. Cancellation of the awaiting coroutine closes
// the connection.
Task<Result<Response>> fetch(OutboundRequest request);

}  // namespace lambent::http
