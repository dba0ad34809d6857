#pragma once

#include "lambent/cli/commands.h"
#include "lambent/http/client.h"

// The server address and signing credentials a client command uses.
namespace lambent::cli {

struct Connection {
  http::Endpoint endpoint;
  http::ClientCredentials credentials;
};

// Resolves the endpoint (option, $AWS_ENDPOINT_URL, $LAMBENT_LISTEN, 127.0.0.1:4566) and the
// credentials (environment, else the data directory). Prints the problem to stderr and
// returns false when either cannot be found.
bool connect(const ClientOptions& options, Connection& out);

}  // namespace lambent::cli
