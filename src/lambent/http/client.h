#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <chrono>
#include <string>

// A blocking HTTP/1.1 client for the command-line tools: one request per connection, with
// SigV4 signing when credentials are given. Not for use on the server's event loop.
namespace lambent::http {

struct ClientCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "us-east-1";
  std::string service = "lambda";
};

struct Endpoint {
  std::string host = "127.0.0.1";
  std::string port = "4566";
};

// Parses "http://host:port" (no TLS, no path). Fails with Errc::invalid_parameter.
Result<Endpoint> parse_endpoint(std::string_view url);

// Sends `request` (method, target, headers, body) and returns the response. Signs it when
// credentials has a key id. Fails with Errc::io naming the endpoint.
Result<Response> send(const Endpoint& endpoint, const Request& request,
                      const ClientCredentials& credentials,
                      std::chrono::seconds timeout = std::chrono::seconds(960));

}  // namespace lambent::http
