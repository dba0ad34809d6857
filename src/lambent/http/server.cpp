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

// Fills the status line and header fields of `out`. Fails for what HTTP/1.1 cannot send as a
// final response: a 1xx or out-of-range status, or a header Beast rejects (a field over 64 KB).
template <class Body>
bool encode_head(const Response& response, unsigned version, bool keep_alive,
                 const std::string& request_id, bhttp::response<Body>& out) {
  if (response.status < 200 || response.status > 599) {
    LOG_WARN("http", "response_rejected",
             "request_id={} status={} reason=\"not a final HTTP status\"", request_id,
             response.status);
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
  out.keep_alive(keep_alive);
  return true;
}

// Builds the Beast response for a body held in memory. 204 and 304 responses never carry
// content, so their body is dropped.
bool encode_response(Response& response, unsigned version, bool keep_alive,
                     const std::string& request_id, bhttp::response<bhttp::string_body>& out) {
  if (!encode_head(response, version, keep_alive, request_id, out)) return false;
  if (response.status != 204 && response.status != 304) out.body() = std::move(response.body);
  out.prepare_payload();
  return true;
}

Response internal_error(const std::string& request_id) {
  Response failed;
  failed.status = 500;
  failed.header("Content-Type", "application/json");
  failed.header("x-amzn-RequestId", request_id);
  failed.body = R"({"message":"Internal Server Error"})";
  return failed;
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

// A streamed request body read straight from the connection. The parser contains the request
// head, and body bytes go from the connection's read buffer into the caller's buffer, so memory
// stays at that one buffer whatever the body size. Lives on the connection's coroutine frame
// while the handler runs.
class ConnectionBodyReader final : public BodyReader {
 public:
  ConnectionBodyReader(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                       bhttp::request_parser<bhttp::buffer_body>& parser,
                       std::chrono::seconds idle_timeout, std::uint64_t limit)
      : stream_(stream),
        buffer_(buffer),
        parser_(parser),
        idle_timeout_(idle_timeout),
        limit_(limit) {}

  Task<Result<std::size_t>> read(std::span<char> out) override {
    if (failure_) co_return *failure_;
    if (out.empty() || parser_.is_done()) co_return std::size_t{0};
    if (auto declared = parser_.content_length(); declared && *declared > limit_) {
      co_return fail(too_large());
    }
    // Asks for at most one byte past the limit, so an oversized body is seen without being
    // delivered.
    std::uint64_t allowed = limit_ - consumed_;
    if (allowed < out.size()) out = out.first(static_cast<std::size_t>(allowed) + 1);
    for (;;) {
      auto& body = parser_.get().body();
      body.data = out.data();
      body.size = out.size();
      body.more = true;
      // Each read gets its own idle deadline, so an upload that keeps sending lives on and one
      // that stalls for idle_timeout ends.
      stream_.expires_after(idle_timeout_);
      boost::system::error_code ec;
      co_await bhttp::async_read_some(stream_, buffer_, parser_,
                                      asio::redirect_error(asio::use_awaitable, ec));
      const std::size_t count = out.size() - body.size;
      body.data = nullptr;
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return fail(read_error(ec));
      if (count > allowed) co_return fail(too_large());
      if (count > 0 || parser_.is_done()) {
        consumed_ += count;
        co_return count;
      }
    }
  }

  std::uint64_t consumed() const override { return consumed_; }

 private:
  Error fail(Error error) {
    failure_ = error;
    return error;
  }

  Error too_large() const {
    return make_error(Errc::too_large, fmt::format("The request body is larger than the "
                                                   "{}-byte limit.",
                                                   limit_));
  }

  Error read_error(const boost::system::error_code& ec) const {
    if (ec == bhttp::error::partial_message || ec == bhttp::error::end_of_stream ||
        ec == asio::error::eof || ec == asio::error::connection_reset) {
      return Error{
          Errc::invalid_content,
          fmt::format("The connection closed after {} bytes of the request body.", consumed_),
          "IncompleteBody"};
    }
    if (ec == beast::error::timeout) {
      return Error{
          Errc::invalid_content,
          fmt::format("No request body bytes arrived for {} seconds.", idle_timeout_.count()),
          "RequestTimeout"};
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category()) {
      return make_error(Errc::invalid_content, "malformed HTTP request body: " + ec.message());
    }
    return make_error(Errc::io, "reading the request body failed: " + ec.message());
  }

  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  std::chrono::seconds idle_timeout_;
  std::uint64_t limit_;
  std::uint64_t consumed_ = 0;
  std::optional<Error> failure_;
};

// Sends a response whose body comes from response.body_source: the head, then each piece, with
// Content-Length when the length is known and chunked transfer coding otherwise (an HTTP/1.0
// client gets a body delimited by the close). Returns false when the connection must close: a
// write failed, the source failed, or the source's length differed from content_length.
Task<bool> write_streamed(beast::tcp_stream& stream, Response& response, unsigned version,
                          bool keep_alive, bool head_only, const std::string& request_id,
                          std::chrono::seconds idle_timeout) {
  const bool no_content = response.status == 204 || response.status == 304;
  const bool close_delimited = !response.content_length && version < 11;
  bhttp::response<bhttp::empty_body> out;
  if (!encode_head(response, version, keep_alive && !close_delimited, request_id, out)) {
    Response failed = internal_error(request_id);
    bhttp::response<bhttp::string_body> fallback;
    encode_response(failed, version, keep_alive, request_id, fallback);
    stream.expires_after(idle_timeout);
    boost::system::error_code ec;
    co_await bhttp::async_write(stream, fallback, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && keep_alive;
  }
  out.erase(bhttp::field::content_length);
  out.erase(bhttp::field::transfer_encoding);
  if (!no_content) {
    if (response.content_length) {
      out.content_length(*response.content_length);
    } else if (!close_delimited && !head_only) {
      out.chunked(true);
    }
  }
  bhttp::response_serializer<bhttp::empty_body> serializer(out);
  stream.expires_after(idle_timeout);
  boost::system::error_code ec;
  co_await bhttp::async_write_header(stream, serializer,
                                     asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  // A response to HEAD has the headers of the GET response and no content (RFC 9110 section
  // 9.3.2), so the source is not read.
  if (head_only || no_content) co_return keep_alive && !close_delimited;

  const bool chunked = !response.content_length && !close_delimited;
  std::uint64_t sent = 0;
  for (;;) {
    auto piece = co_await response.body_source->next();
    if (!piece) {
      LOG_WARN("http", "body_source_failed", "request_id={} sent={} error=\"{}\"", request_id, sent,
               piece.error().message);
      co_return false;
    }
    std::string_view data = *piece;
    if (data.empty()) break;
    if (response.content_length && data.size() > *response.content_length - sent) {
      LOG_WARN("http", "body_source_too_long", "request_id={} content_length={}", request_id,
               *response.content_length);
      co_return false;
    }
    stream.expires_after(idle_timeout);
    asio::const_buffer buffer(data.data(), data.size());
    if (chunked) {
      co_await asio::async_write(stream, bhttp::make_chunk(buffer),
                                 asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await asio::async_write(stream, buffer, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return false;
    sent += data.size();
  }
  if (response.content_length && sent != *response.content_length) {
    LOG_WARN("http", "body_source_too_short", "request_id={} content_length={} sent={}", request_id,
             *response.content_length, sent);
    co_return false;
  }
  if (chunked) {
    stream.expires_after(idle_timeout);
    co_await asio::async_write(stream, bhttp::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  co_return keep_alive && !close_delimited;
}

// Closing a socket with unread request bytes makes the kernel send a reset, which can destroy
// the response before the client reads it. So after a response that left the body unread, the
// server stops sending and discards what still arrives, for a bounded time and byte count.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 16 * 1024 * 1024;

Task<void> linger(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(kLingerTime);
  std::size_t discarded = 0;
  while (discarded < kLingerBytes) {
    buffer.consume(buffer.size());
    std::size_t count = co_await stream.async_read_some(
        buffer.prepare(kReadBufferBytes), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    discarded += count;
  }
}

Task<void> run_connection(tcp::socket socket, std::shared_ptr<Handler> handler,
                          std::chrono::seconds idle_timeout, std::string remote,
                          std::shared_ptr<Server::Activity> activity) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(kReadBufferBytes);
  bool body_left_unread = false;
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
      bool malformed =
          ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
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

    // The head's fields are copied out here, because a streamed body moves the parser.
    const auto& head = parser.get();
    const unsigned version = head.version();
    const bool head_only = head.method() == bhttp::verb::head;
    const bool client_keep_alive = head.keep_alive();
    const bool expects_continue = beast::iequals(head[bhttp::field::expect], "100-continue");
    const std::size_t host_count = head.count(bhttp::field::host);
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
    bool body_done = parser.is_done();
    bool close_after = false;
    // RFC 9112 section 3.2: an HTTP/1.1 request needs exactly one Host header.
    if (version >= 11 && host_count != 1) {
      Response bad;
      bad.status = 400;
      bad.header("Content-Type", "text/plain");
      bad.body = host_count == 0
                     ? "malformed HTTP request: an HTTP/1.1 request needs a Host header\n"
                     : "malformed HTTP request: more than one Host header\n";
      bad.close = true;
      decision.reject = std::move(bad);
    }
    if (decision.reject) {
      response = std::move(*decision.reject);
      close_after = !body_done;
    } else {
      // 100 Continue goes out even for an empty body: botocore sends Expect with a zero-length
      // PutObject and misreads its next response on the connection when the 100 is missing.
      if (expects_continue && version >= 11) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        co_await bhttp::async_write(stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      if (decision.stream_body) {
        // Only streamed bodies get the full read buffer, so idle connections stay small.
        buffer.reserve(kReadBufferBytes);
        bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(parser));
        body_parser.body_limit(boost::none);
        ConnectionBodyReader reader(stream, buffer, body_parser, idle_timeout, decision.body_limit);
        request.body_reader = &reader;
        stream.expires_never();
        {
          ActiveRequest counted(*activity);
          response = co_await handler->handle(request);
        }
        request.body_reader = nullptr;
        body_done = body_parser.is_done();
        close_after = !body_done;
      } else {
        parser.body_limit(decision.body_limit);
        if (!body_done) {
          co_await bhttp::async_read(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
          body_done = parser.is_done();
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
    }

    // A draining server sends the response to a request it has started, then closes the connection.
    bool keep_alive = client_keep_alive && !close_after && !response->close && !activity->draining;
    body_left_unread = !body_done;
    if (response->body_source) {
      keep_alive = co_await write_streamed(stream, *response, version, keep_alive, head_only,
                                           request.id, idle_timeout);
      if (!keep_alive) break;
      continue;
    }
    bhttp::response<bhttp::string_body> out;
    if (!encode_response(*response, version, keep_alive, request.id, out)) {
      Response failed = internal_error(request.id);
      encode_response(failed, version, keep_alive, request.id, out);
    }
    stream.expires_after(idle_timeout);
    if (head_only) {
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
  if (body_left_unread) {
    co_await linger(stream, buffer);
    co_return;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

struct Server::Impl {
  Impl(asio::any_io_executor ex, ServerOptions opts, std::shared_ptr<Handler> h)
      : executor(ex),
        options(std::move(opts)),
        handler(std::move(h)),
        acceptor(ex),
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
    return make_error(Errc::invalid_parameter, fmt::format("invalid listen address '{}': {}",
                                                           impl_->options.address, ec.message()));
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
    LOG_INFO("http", "draining", "server={} requests={}", impl_->options.name, activity->requests);
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
    tcp::socket socket =
        co_await impl->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !impl->acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or memory: back off instead of spinning on the same error.
      LOG_WARN("http", "accept_failed", "server={} error=\"{}\"", impl->options.name, ec.message());
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
    impl->tasks.spawn(run_connection(std::move(socket), impl->handler, impl->options.idle_timeout,
                                     std::move(remote_address), impl->activity),
                      "connection");
  }
}

}  // namespace lambent::http
