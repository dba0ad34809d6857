#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

// HTTP/1.1 server on Boost.Beast with one coroutine per connection and keep-alive.
// Runs on the executor it is given; handlers run on that executor too and must not block.
namespace lambent::http {

// The request handling a Server delegates to. check_head runs after the request header is read
// and before any of the body, so size limits apply without reading an oversized body.
class Handler {
 public:
  virtual ~Handler() = default;

  // Returns the maximum body size for this request, or a response to send instead of reading
  // the body (the connection is then closed).
  struct HeadDecision {
    std::uint64_t body_limit = 0;
    std::optional<Response> reject;
    // Leaves the body unread: handle() reads it through Request::body_reader, at most
    // body_limit bytes, through one 64 KiB buffer of the server.
    bool stream_body = false;
  };
  virtual HeadDecision check_head(const Request& head, std::optional<std::uint64_t> content_length) = 0;

  // Returns the response sent when the body turns out larger than body_limit while reading
  // (chunked uploads declare no length).
  virtual Response body_too_large(const Request& head, std::uint64_t body_limit) = 0;

  virtual Task<Response> handle(Request& request) = 0;

  // Decides whether to serve a new connection from remote_port on the loopback interface to
  // local_port; a rejected connection is closed before anything is read.
  virtual bool accept_peer(std::uint16_t remote_port, std::uint16_t local_port) { return true; }
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port
  std::chrono::seconds idle_timeout{75};
  std::string name = "http";  // used in logs
};

class Server {
 public:
  Server(asio::any_io_executor executor, ServerOptions options, std::shared_ptr<Handler> handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port. Fails with Errc::io naming the address.
  Result<std::uint16_t> listen();
  // Starts accepting. Connections run in the server's task group.
  void start();
  // Stops accepting and cancels every connection.
  void stop();
  // Stops accepting, lets the requests in progress finish (each connection closes after its
  // response), then stop()s once none is left or `timeout` has passed.
  Task<void> drain(std::chrono::steady_clock::duration timeout);
  struct Activity;
  std::uint16_t port() const { return port_; }

 private:
  Task<void> accept_loop();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace lambent::http
