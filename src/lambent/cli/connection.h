#pragma once

#include "lambent/cli/commands.h"
#include "lambent/http/client.h"
#include "lambent/http/message.h"

#include <string>

// The connection every client command opens: the server's endpoint and the credentials that
// sign its requests. Shared by the command files of this folder.
namespace lambent::cli {

struct Connection {
  http::Endpoint endpoint;
  http::ClientCredentials credentials;  // service "lambda" unless a command changes it
};

// Resolves the endpoint, region and credentials of `options`; prints why on failure.
bool connect(const ClientOptions& options, Connection& out);

// Sends a request and prints the service's error (type and message) when the status is not
// 2xx. A body goes as application/json unless `headers` has a content-type. A response with
// status `quiet_status` is returned as a failure without printing it.
bool call(const Connection& c, const std::string& method, const std::string& target,
          std::string body, http::Response& response, http::HeaderList headers = {},
          unsigned quiet_status = 0);

}  // namespace lambent::cli
