#include "lambent/http/server.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace lambent::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

// Large bodies are read through a 64 KiB buffer; headers are limited to 64 KiB as well.
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

// Builds the Beast response. Fails for what HTTP/1.1 cannot send as a final response: a 1xx
// or out-of-range status, or a header Beast rejects (a field over 64 KB). 204 and 304
// responses never carry content, so their body is dropped.
bool encode_response(Response& response, unsigned version, bool keep_alive,
                     const std::string& request_id, bhttp::response<bhttp::string_body>& out) {
  if (response.status < 200 || response.status > 599) {
    LOG_WARN("http", "response_rejected", "request_id={} status={} reason=\"not a final HTTP "
             "status\"", request_id, response.status);
    return false;
  }
  out = {};
  out.version(version);
  out.result(response.status);
  try {
    for (auto& [name, value] : response.headers) out.insert(name, value);
  } catch (const std::exception& e) {
    LOG_WARN("http", "response_rejected", "request_id={} status={} reason=\"{}\"", request_id,
             response.status, e.what());
    out = {};
    return false;
  }
  if (response.status != 204 && response.status != 304) out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  return true;
}

}  // namespace

// Requests inside Handler::handle, counted so that drain() can wait for them. Shared with every
// connection, because a cancelled connection may finish after the server is destroyed.
struct Server::Activity {
  explicit Activity(asio::any_io_executor executor) : idle(std::move(executor)) {}
  std::size_t requests = 0;
  bool draining = false;
  Event idle;  // set when draining and no request is left
};

namespace {

// Counts one request for the time the handler runs, also when the handler is cancelled.
class ActiveRequest {
 public:
  explicit ActiveRequest(Server::Activity& activity) : activity_(activity) { ++activity_.requests; }
  ~ActiveRequest() {
    if (--activity_.requests == 0 && activity_.draining) activity_.idle.set();
  }
  ActiveRequest(const ActiveRequest&) = delete;
  ActiveRequest& operator=(const ActiveRequest&) = delete;

 private:
  Server::Activity& activity_;
};

Task<void> run_connection(tcp::socket socket, std::shared_ptr<Handler> handler,
                          std::chrono::seconds idle_timeout, std::string remote,
                          std::shared_ptr<Server::Activity> activity) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(kReadBufferBytes);
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    stream.expires_after(idle_timeout);
    boost::system::error_code ec;
    co_await bhttp::async_read_header(stream, buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // A request the parser rejects gets 400 (431 for oversized headers) before the close;
      // a closed or timed-out connection gets nothing.
      bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
                       ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
      if (malformed) {
        bool too_large = ec == bhttp::error::header_limit;
        bhttp::response<bhttp::string_body> rejected{
            too_large ? bhttp::status::request_header_fields_too_large : bhttp::status::bad_request,
            11};
        rejected.set(bhttp::field::content_type, "text/plain");
        rejected.body() = too_large ? "request header fields too large\n"
                                    : "malformed HTTP request: " + ec.message() + "\n";
        rejected.keep_alive(false);
        rejected.prepare_payload();
        boost::system::error_code ignored;
        co_await bhttp::async_write(stream, rejected,
                                    asio::redirect_error(asio::use_awaitable, ignored));
      }
      co_return;
    }

    auto& head = parser.get();
    Request request;
    request.method = std::string(head.method_string());
    request.target = std::string(head.target());
    request.remote_address = remote;
    request.id = random_uuid();
    request.headers.reserve(16);
    for (const auto& field : head) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    std::optional<std::uint64_t> length;
    if (auto declared = parser.content_length()) length = *declared;

    auto decision = handler->check_head(request, length);
    std::optional<Response> response;
    bool close_after = false;
    // RFC 9112 section 3.2: an HTTP/1.1 request needs exactly one Host header.
    if (head.version() >= 11 && head.count(bhttp::field::host) != 1) {
      Response bad;
      bad.status = 400;
      bad.header("Content-Type", "text/plain");
      bad.body = head.count(bhttp::field::host) == 0
                     ? "malformed HTTP request: an HTTP/1.1 request needs a Host header\n"
                     : "malformed HTTP request: more than one Host header\n";
      bad.close = true;
      decision.reject = std::move(bad);
    }
    if (decision.reject) {
      response = std::move(*decision.reject);
      close_after = !parser.is_done();
    } else {
      if (beast::iequals(head[bhttp::field::expect], "100-continue") && !parser.is_done()) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, head.version()};
        co_await bhttp::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      parser.body_limit(decision.body_limit);
      if (!parser.is_done()) {
        co_await bhttp::async_read(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec == bhttp::error::body_limit) {
          response = handler->body_too_large(request, decision.body_limit);
          close_after = true;
        } else if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension ||
                   ec == bhttp::error::bad_transfer_encoding) {
          // A body the parser rejects gets 400 before the close, as a malformed head does.
          Response bad;
          bad.status = 400;
          bad.header("Content-Type", "text/plain");
          bad.body = "malformed HTTP request: " + ec.message() + "\n";
          response = std::move(bad);
          close_after = true;
        } else if (ec) {
          co_return;
        }
      }
      if (!response) {
        request.body = std::move(parser.get().body());
        // Handlers may wait for a long time (Runtime API long polls), so the idle timer is off.
        stream.expires_never();
        ActiveRequest counted(*activity);
        response = co_await handler->handle(request);
      }
    }

    // A draining server sends the response to a request it has started, then closes the connection.
    bool keep_alive = parser.get().keep_alive() && !close_after && !response->close &&
                      !activity->draining;
    bhttp::response<bhttp::string_body> out;
    if (!encode_response(*response, parser.get().version(), keep_alive, request.id, out)) {
      Response failed;
      failed.status = 500;
      failed.header("Content-Type", "application/json");
      failed.header("x-amzn-RequestId", request.id);
      failed.body = R"({"message":"Internal Server Error"})";
      encode_response(failed, parser.get().version(), keep_alive, request.id, out);
    }
    stream.expires_after(idle_timeout);
    if (head.method() == bhttp::verb::head) {
      // A response to HEAD has the headers of the GET response and no content (RFC 9110
      // section 9.3.2).
      bhttp::response_serializer<bhttp::string_body> serializer(out);
      co_await bhttp::async_write_header(stream, serializer,
                                         asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

struct Server::Impl {
  Impl(asio::any_io_executor ex, ServerOptions opts, std::shared_ptr<Handler> h)
      : executor(ex), options(std::move(opts)), handler(std::move(h)), acceptor(ex),
        tasks(ex, options.name) {}
  asio::any_io_executor executor;
  ServerOptions options;
  std::shared_ptr<Handler> handler;
  tcp::acceptor acceptor;
  TaskGroup tasks;
  std::shared_ptr<Activity> activity = std::make_shared<Activity>(executor);
};

Server::Server(asio::any_io_executor executor, ServerOptions options,
               std::shared_ptr<Handler> handler)
    : impl_(std::make_unique<Impl>(executor, std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

Result<std::uint16_t> Server::listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) {
    return make_error(Errc::invalid_parameter,
                      fmt::format("invalid listen address '{}': {}", impl_->options.address,
                                  ec.message()));
  }
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("cannot listen on {}:{}: {}", impl_->options.address,
                                            impl_->options.port, ec.message()));
  }
  port_ = acceptor.local_endpoint().port();
  return port_;
}

void Server::start() { impl_->tasks.spawn(accept_loop(), "accept"); }

void Server::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->tasks.stop();
}

Task<void> Server::drain(std::chrono::steady_clock::duration timeout) {
  auto activity = impl_->activity;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  activity->draining = true;
  if (activity->requests > 0) {
    LOG_INFO("http", "draining", "server={} requests={}", impl_->options.name,
             activity->requests);
    bool drained = co_await activity->idle.wait(timeout);
    if (!drained) {
      LOG_WARN("http", "drain_timed_out", "server={} requests={}", impl_->options.name,
               activity->requests);
    }
  }
  stop();
}

Task<void> Server::accept_loop() {
  auto* impl = impl_.get();
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await impl->acceptor.async_accept(
        asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !impl->acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the same error.
      LOG_WARN("http", "accept_failed", "server={} error=\"{}\"", impl->options.name,
               ec.message());
      asio::steady_timer backoff(impl->executor);
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);
    std::string remote_address = ec ? std::string() : remote.address().to_string();
    if (!impl->handler->accept_peer(ec ? 0 : remote.port(), port_)) {
      LOG_DEBUG("http", "connection_rejected", "server={} remote_port={}", impl->options.name,
                remote.port());
      socket.close(ec);
      continue;
    }
    impl->tasks.spawn(run_connection(std::move(socket), impl->handler,
                                     impl->options.idle_timeout, std::move(remote_address),
                                     impl->activity),
                      "connection");
  }
}

}  // namespace lambent::http
