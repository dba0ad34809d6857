#include "lambent/http/server.h"

#include "lambent/http/aws_chunked.h"

#include "lambent/base/crypto.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace lambent::http {
namespace {

using namespace std::chrono_literals;

// Declared body sizes above this get the handler's 413 from check_head.
constexpr std::uint64_t kDeclaredLimit = 1000;
// Body limit for requests to /small, so a short chunked upload can exceed it.
constexpr std::uint64_t kSmallLimit = 16;
// Every blocking socket call in the client gives up after this long.
constexpr int kSocketTimeoutSeconds = 5;

// Echoes what the server parsed, so the client side can check it.
class EchoHandler : public Handler {
 public:
  HeadDecision check_head(const Request& head,
                          std::optional<std::uint64_t> content_length) override {
    ++check_head_calls;
    HeadDecision decision;
    decision.body_limit = head.path() == "/small" ? kSmallLimit : kDeclaredLimit;
    if (content_length && *content_length > kDeclaredLimit) {
      Response reject;
      reject.status = 413;
      reject.body = "declared " + std::to_string(*content_length) + " bytes";
      decision.reject = std::move(reject);
    }
    return decision;
  }

  Response body_too_large(const Request& head, std::uint64_t body_limit) override {
    ++too_large_calls;
    Response response;
    response.status = 413;
    response.body = "body over " + std::to_string(body_limit) + " bytes on " + head.target;
    return response;
  }

  Task<Response> handle(Request& request) override {
    ++handle_calls;
    if (request.path() == "/slow") {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(30s);
      co_await timer.async_wait(asio::use_awaitable);  // throws when the server stops
    }
    {
      std::lock_guard lock(mutex);
      last = request;
    }
    Response response;
    response.header("x-request-id", request.id);
    response.header("x-method", request.method);
    response.body = request.body;
    if (request.path() == "/close") response.close = true;
    if (request.path().starts_with("/status/")) {
      response.status = static_cast<unsigned>(std::stoi(std::string(request.path().substr(8))));
      response.body = "content";
    }
    if (request.path() == "/huge-header") response.header("x-huge", std::string(70000, 'h'));
    co_return response;
  }

  Request last_request() {
    std::lock_guard lock(mutex);
    return last;
  }

  std::atomic<int> check_head_calls{0};
  std::atomic<int> too_large_calls{0};
  std::atomic<int> handle_calls{0};
  std::mutex mutex;
  Request last;
};

struct ParsedResponse {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

// A minimal blocking HTTP/1.1 client on a raw socket, so tests control every byte sent and
// can observe interim responses and connection closes.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval timeout{kSocketTimeoutSeconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    connect_errno_ = errno;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until `delimiter` is buffered; returns everything up to and including it, or
  // nullopt on close, error or timeout.
  std::optional<std::string> read_until(std::string_view delimiter) {
    for (;;) {
      auto at = buffer_.find(delimiter);
      if (at != std::string::npos) {
        std::string out = buffer_.substr(0, at + delimiter.size());
        buffer_.erase(0, at + delimiter.size());
        return out;
      }
      if (!fill()) return std::nullopt;
    }
  }

  std::optional<std::string> read_exact(std::size_t size) {
    while (buffer_.size() < size) {
      if (!fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, size);
    buffer_.erase(0, size);
    return out;
  }

  // Reads one response head and, when read_body, its Content-Length body.
  std::optional<ParsedResponse> read_response(bool read_body = true) {
    auto head = read_until("\r\n\r\n");
    if (!head) return std::nullopt;
    ParsedResponse response;
    static const std::regex status_line(R"(HTTP/1\.1 (\d{3}) ([^\r]*)\r\n)");
    std::smatch match;
    if (!std::regex_search(*head, match, status_line) || match.position(0) != 0) {
      ADD_FAILURE() << "bad status line in: " << *head;
      return std::nullopt;
    }
    response.status = std::stoi(match[1].str());
    response.reason = match[2].str();

    std::size_t line_start = head->find("\r\n") + 2;
    while (line_start < head->size() - 2) {
      std::size_t line_end = head->find("\r\n", line_start);
      std::string line = head->substr(line_start, line_end - line_start);
      auto colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response.headers[name] = value;
      line_start = line_end + 2;
    }

    if (!read_body) return response;
    std::size_t length = 0;
    if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
      length = std::stoul(it->second);
    }
    auto body = read_exact(length);
    if (!body) return std::nullopt;
    response.body = *body;
    return response;
  }

  // Reads one response head only: the response to HEAD, or a 204 or 304, which have no content
  // whatever their Content-Length header gives.
  std::optional<ParsedResponse> read_response_headers() { return read_response(false); }

  // True when the server closed the connection (orderly EOF or reset) with nothing more sent.
  bool closed_by_peer() {
    if (!buffer_.empty()) return false;
    char byte;
    ssize_t n;
    do {
      n = ::recv(fd_, &byte, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n == 0) return true;
    if (n < 0 && errno == ECONNRESET) return true;
    if (n > 0) buffer_.push_back(byte);
    return false;
  }

  std::string pending() const { return buffer_; }

  // Reads `length` body bytes without keeping them: each piece goes to `sink`.
  bool read_body(std::uint64_t length, const std::function<void(std::string_view)>& sink) {
    while (length > 0) {
      if (buffer_.empty() && !fill()) return false;
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer_.size()));
      sink(std::string_view(buffer_).substr(0, take));
      buffer_.erase(0, take);
      length -= take;
    }
    return true;
  }

  // Reads a chunked body without keeping it and returns its length, or nullopt when the framing
  // is broken or the connection ends first.
  std::optional<std::uint64_t> read_chunked_body(
      const std::function<void(std::string_view)>& sink) {
    std::uint64_t total = 0;
    for (;;) {
      auto line = read_until("\r\n");
      if (!line) return std::nullopt;
      std::uint64_t size = std::stoull(*line, nullptr, 16);
      if (size == 0) {
        auto end = read_until("\r\n");
        if (!end || *end != "\r\n") return std::nullopt;
        return total;
      }
      if (!read_body(size, sink)) return std::nullopt;
      auto crlf = read_exact(2);
      if (!crlf || *crlf != "\r\n") return std::nullopt;
      total += size;
    }
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n;
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
  std::string buffer_;
};

bool is_uuid_v4(const std::string& id) {
  static const std::regex pattern(
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return std::regex_match(id, pattern);
}

// Runs a Server with a handler of type H on its own io_context thread.
template <class H>
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_ = std::make_shared<H>();
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.name = "test";
    options.idle_timeout = idle_timeout_;
    server_ = std::make_unique<Server>(ctx_.get_executor(), options, handler_);
    auto port = server_->listen();
    ASSERT_TRUE(port.ok()) << port.error().message;
    ASSERT_NE(*port, 0);
    EXPECT_EQ(server_->port(), *port);
    port_ = *port;
    server_->start();
    // No work guard: run() returns once the server has stopped and every connection ended.
    thread_ = std::thread([this] {
      ctx_.run();
      finished_.set_value();
    });
  }

  void TearDown() override {
    stop_server();
    if (thread_.joinable()) thread_.join();
  }

  // Stops the server on its executor and waits (bounded) until the io_context runs dry,
  // which happens only when the accept loop and every connection have ended.
  // Returns false when that took longer than the bound.
  bool stop_server() {
    if (stopped_) return true;
    stopped_ = true;
    asio::post(ctx_, [this] { server_->stop(); });
    auto finished = finished_.get_future();
    if (finished.wait_for(5s) == std::future_status::ready) return true;
    ctx_.stop();
    finished.wait();
    return false;
  }

  std::chrono::seconds idle_timeout_{75};
  asio::io_context ctx_;
  std::shared_ptr<H> handler_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::promise<void> finished_;
  bool stopped_ = false;
};

using ServerTest = ServerFixture<EchoHandler>;

TEST_F(ServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Client client(port_);
  ASSERT_TRUE(client.connected());

  ASSERT_TRUE(client.send("GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto first = client.read_response();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->headers["x-method"], "GET");
  EXPECT_EQ(first->body, "");
  EXPECT_NE(first->headers["connection"], "close");

  ASSERT_TRUE(
      client.send("POST /second?x=1 HTTP/1.1\r\nHost: localhost\r\n"
                  "Content-Length: 5\r\n\r\nhello"));
  auto second = client.read_response();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->headers["x-method"], "POST");
  EXPECT_EQ(second->body, "hello");
  EXPECT_NE(first->headers["x-request-id"], second->headers["x-request-id"]);

  Request seen = handler_->last_request();
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/second?x=1");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  EXPECT_EQ(handler_->handle_calls.load(), 2);
}

TEST_F(ServerTest, ConnectionCloseRequestClosesAfterResponse) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, HandlerCloseFlagClosesConnection) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, CheckHeadRejectionSkipsBodyAndCloses) {
  Client client(port_);
  // The body is never sent, so the server must respond from the head alone.
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value()) << "no response before the body was sent";
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "declared 5000 bytes");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(handler_->handle_calls.load(), 0);
}

TEST_F(ServerTest, ChunkedBodyOverLimitGetsBodyTooLarge) {
  Client client(port_);
  std::string chunk(100, 'x');
  ASSERT_TRUE(
      client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "64\r\n" +
                  chunk + "\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, "body over 16 bytes on /small");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(handler_->too_large_calls.load(), 1);
  EXPECT_EQ(handler_->handle_calls.load(), 0);
}

TEST_F(ServerTest, ChunkedBodyWithinLimitIsDelivered) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world");
  EXPECT_EQ(handler_->too_large_calls.load(), 0);
}

TEST_F(ServerTest, ExpectContinueGets100BeforeFinalResponse) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  // The interim response comes before any body byte is sent.
  auto interim = client.read_until("\r\n\r\n");
  ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");

  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
}

TEST_F(ServerTest, ExpectContinueMatchesCaseInsensitively) {
  // RFC 9110 section 10.1.1: the 100-continue expectation is case-insensitive.
  Client client(port_);
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-Continue\r\n\r\n"));
  auto interim = client.read_until("\r\n\r\n");
  ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "hello");
}

TEST_F(ServerTest, ExpectContinueWithEmptyBodyStillGets100) {
  Client client(port_);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                            "Expect: 100-continue\r\n\r\n"));
    auto interim = client.read_until("\r\n\r\n");
    ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
    EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "");
  }
}

TEST_F(ServerTest, ExpectContinueRejectedGetsNo100) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, MalformedRequestGets400AndClose) {
  for (const char* request : {"THIS IS NOT HTTP\r\n\r\n", "GET /\x01 HTTP/1.1\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"}) {
    Client client(port_);
    ASSERT_TRUE(client.send(request));
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value()) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_TRUE(client.closed_by_peer()) << "pending: " << client.pending();
  }
  {
    Client client(port_);
    std::string huge =
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n";
    ASSERT_TRUE(client.send(huge));
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 431);
    EXPECT_TRUE(client.closed_by_peer());
  }
  EXPECT_EQ(handler_->check_head_calls.load(), 0);

  // The server is still serving.
  Client after(port_);
  ASSERT_TRUE(after.send("GET /alive HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = after.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST_F(ServerTest, HostHeaderCountMustBeOne) {
  for (const char* request :
       {"GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    Client client(port_);
    ASSERT_TRUE(client.send(request));
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value()) << request;
    EXPECT_EQ(response->status, 400) << request;
    EXPECT_TRUE(client.closed_by_peer());
  }
  EXPECT_EQ(handler_->handle_calls.load(), 0);
}

TEST_F(ServerTest, MalformedChunkedBodyGets400AndClose) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "zz\r\nhello\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(handler_->handle_calls.load(), 0);
}

TEST_F(ServerTest, HeadResponseHasLengthButNoContent) {
  Client client(port_);
  // A GET right behind the HEAD on the same connection shows whether stray content was sent.
  ASSERT_TRUE(
      client.send("HEAD /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response_headers();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], "7");
  auto get = client.read_response();
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "content");
}

TEST_F(ServerTest, NoContentStatusesDropTheBody) {
  for (int status : {204, 304}) {
    Client client(port_);
    std::string request = "GET /status/" + std::to_string(status) +
                          " HTTP/1.1\r\nHost: x\r\n\r\nGET /status/200 HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_TRUE(client.send(request));
    auto first = client.read_response_headers();
    ASSERT_TRUE(first.has_value()) << status;
    EXPECT_EQ(first->status, status);
    auto second = client.read_response();
    ASSERT_TRUE(second.has_value()) << status;
    EXPECT_EQ(second->status, 200);
    EXPECT_EQ(second->body, "content");
  }
}

TEST_F(ServerTest, UnsendableResponsesBecome500) {
  for (const char* path : {"/status/101", "/status/99", "/status/600", "/huge-header"}) {
    Client client(port_);
    ASSERT_TRUE(client.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = client.read_response();
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->status, 500) << path;
    EXPECT_EQ(response->body, R"({"message":"Internal Server Error"})") << path;
  }
}

TEST_F(ServerTest, HeadersAreLowercasedInRequest) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Amz-Date: 20240102T030405Z\r\n"
                  "X-MIXED-Case: Value Kept\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  Request seen = handler_->last_request();
  EXPECT_EQ(seen.header("x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(seen.header("x-mixed-case"), "Value Kept");  // values keep their case
  EXPECT_EQ(seen.header("host"), "x");
  EXPECT_EQ(seen.header("x-dup"), "1");
  int dup_count = 0;
  for (const auto& [name, value] : seen.headers) {
    for (char c : name) {
      EXPECT_FALSE(c >= 'A' && c <= 'Z') << "header name '" << name << "'";
    }
    if (name == "x-dup") ++dup_count;
  }
  EXPECT_EQ(dup_count, 2);  // repeated headers stay separate, in arrival order
}

TEST_F(ServerTest, RequestIdIsUuid) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  std::string id = response->headers["x-request-id"];
  EXPECT_TRUE(is_uuid_v4(id)) << id;
  EXPECT_EQ(handler_->last_request().id, id);
}

TEST_F(ServerTest, StopEndsIdleConnection) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(client.read_response().has_value());
  // The connection now waits in a keep-alive read for the next request.

  EXPECT_TRUE(stop_server()) << "the io_context still had work 5 s after stop()";
  EXPECT_TRUE(client.closed_by_peer());
  Client refused(port_);
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connect_errno(), ECONNREFUSED);
}

TEST_F(ServerTest, StopEndsConnectionInsideHandler) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Wait until the handler is running, bounded.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (handler_->handle_calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(handler_->handle_calls.load(), 1);

  EXPECT_TRUE(stop_server()) << "the io_context still had work 5 s after stop()";
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, StopEndsConnectionWaitingForBody) {
  Client client(port_);
  ASSERT_TRUE(client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (handler_->check_head_calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(handler_->check_head_calls.load(), 1);

  EXPECT_TRUE(stop_server()) << "the io_context still had work 5 s after stop()";
  EXPECT_TRUE(client.closed_by_peer());
}

// ---- Streamed bodies ----

constexpr std::size_t kPieceBytes = 64 * 1024;
constexpr std::uint64_t kStreamLimit = 1ull << 30;
// Body limit for requests to /limited.
constexpr std::uint64_t kLimitedBytes = 1 << 20;
// 200 MiB plus an odd tail, so the last piece is short.
constexpr std::uint64_t kLargeBody = 200ull * 1024 * 1024 + 12345;
// Peak RSS growth allowed while a large body streams through: a few read buffers. Under
// AddressSanitizer freed memory stays resident in its quarantine for a while, so the bound
// there is looser, still far below the 200 MiB body.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kMaxRssGrowthKib = 32 * 1024;
#else
constexpr long kMaxRssGrowthKib = 8 * 1024;
#endif

// Deterministic test bytes: each 64 KiB block comes from a xorshift generator seeded by the
// block's index, so a lost, repeated or reordered piece changes the digest.
class PatternStream {
 public:
  explicit PatternStream(std::uint64_t size) : remaining_(size) {}

  // Writes the next bytes into `out`; returns how many, 0 at the end.
  std::size_t fill(std::span<char> out) {
    std::size_t written = 0;
    while (written < out.size() && remaining_ > 0) {
      if (offset_ == block_.size()) next_block();
      std::size_t take =
          std::min({out.size() - written, block_.size() - offset_,
                    static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, block_.size()))});
      std::memcpy(out.data() + written, block_.data() + offset_, take);
      offset_ += take;
      written += take;
      remaining_ -= take;
    }
    return written;
  }

 private:
  void next_block() {
    std::uint64_t state = (index_++ + 1) * 0x9E3779B97F4A7C15ull;
    for (std::size_t at = 0; at < block_.size(); at += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      std::memcpy(block_.data() + at, &state, 8);
    }
    offset_ = 0;
  }

  std::array<char, kPieceBytes> block_{};
  std::size_t offset_ = kPieceBytes;
  std::uint64_t index_ = 0;
  std::uint64_t remaining_;
};

std::string pattern_sha256(std::uint64_t size) {
  PatternStream pattern(size);
  Sha256 hash;
  std::vector<char> piece(kPieceBytes);
  while (std::size_t n = pattern.fill(piece)) hash.update(std::string_view(piece.data(), n));
  return to_hex(hash.finish());
}

// A response body of `size` pattern bytes produced in 64 KiB pieces. With fail_after set, next()
// fails once that many bytes were produced.
class PatternSource final : public BodySource {
 public:
  PatternSource(std::uint64_t size, std::shared_ptr<std::atomic<int>> next_calls,
                std::optional<std::uint64_t> fail_after = std::nullopt)
      : pattern_(size),
        next_calls_(std::move(next_calls)),
        fail_after_(fail_after),
        piece_(kPieceBytes) {}

  Task<Result<std::string_view>> next() override {
    ++*next_calls_;
    if (fail_after_ && produced_ >= *fail_after_) {
      co_return make_error(Errc::io, "the test source failed on purpose");
    }
    std::size_t count = pattern_.fill(piece_);
    produced_ += count;
    co_return std::string_view(piece_.data(), count);
  }

 private:
  PatternStream pattern_;
  std::shared_ptr<std::atomic<int>> next_calls_;
  std::optional<std::uint64_t> fail_after_;
  std::vector<char> piece_;
  std::uint64_t produced_ = 0;
};

// What a streamed upload handler saw.
struct UploadSeen {
  std::uint64_t bytes = 0;
  std::string sha256;
  std::size_t largest_piece = 0;
  std::optional<Error> error;
};

std::uint64_t query_number(const Request& request, std::string_view key, std::uint64_t fallback) {
  auto value = query_param(request.query(), key);
  return value.found ? std::stoull(value.value) : fallback;
}

// Streams every request body except /buffered ones through Request::body_reader.
//   /upload, /limited    read the body in pieces (?piece=N, default 64 KiB), decoding it when
//                        Content-Encoding is aws-chunked, and return "<bytes> <sha256>", or the
//                        read error's status and type
//   /early               returns a response without reading the body
//   /download?size=N     returns N pattern bytes from a BodySource (&chunked=1: no length;
//                        &fail_after=M: the source fails after M bytes; &status=S: status S)
class StreamHandler : public Handler {
 public:
  HeadDecision check_head(const Request& head, std::optional<std::uint64_t>) override {
    HeadDecision decision;
    decision.stream_body = head.path() != "/buffered";
    decision.body_limit = head.path() == "/limited" ? kLimitedBytes : kStreamLimit;
    return decision;
  }

  Response body_too_large(const Request& head, std::uint64_t body_limit) override {
    Response response;
    response.status = 413;
    return response;
  }

  Task<Response> handle(Request& request) override {
    Response response;
    if (request.path() == "/download") {
      std::uint64_t size = query_number(request, "size", 0);
      std::optional<std::uint64_t> fail_after;
      if (query_param(request.query(), "fail_after").found) {
        fail_after = query_number(request, "fail_after", 0);
      }
      response.body_source = std::make_shared<PatternSource>(size, next_calls, fail_after);
      if (!query_param(request.query(), "chunked").found) response.content_length = size;
      response.status = static_cast<unsigned>(query_number(request, "status", 200));
      response.header("Content-Type", "application/octet-stream");
      co_return response;
    }

    if (request.path() == "/early") {
      response.body = "early";
      co_return response;
    }
    if (request.path() == "/buffered") {
      response.body = request.body;
      co_return response;
    }

    if (request.body_reader == nullptr) {
      response.status = 500;
      response.body = "no body reader";
      co_return response;
    }

    BodyReader* reader = request.body_reader;
    std::optional<AwsChunkedReader> decoded;
    if (request.header("content-encoding") == "aws-chunked") {
      decoded.emplace(*reader, std::nullopt,
                      std::stoull(std::string(request.header("x-amz-decoded-content-length"))),
                      request.header("x-amz-trailer"));
      reader = &*decoded;
    }

    UploadSeen seen;
    Sha256 hash;
    std::vector<char> piece(query_number(request, "piece", kPieceBytes));
    for (;;) {
      auto count = co_await reader->read(piece);
      if (!count) {
        seen.error = count.error();
        break;
      }
      if (*count == 0) break;
      seen.largest_piece = std::max(seen.largest_piece, *count);
      seen.bytes += *count;
      hash.update(std::string_view(piece.data(), *count));
    }

    EXPECT_EQ(reader->consumed(), seen.bytes);
    seen.sha256 = to_hex(hash.finish());
    if (seen.error) {
      response.status = seen.error->code == Errc::too_large ? 413 : 400;
      response.body = seen.error->type + ": " + seen.error->message;
    } else {
      response.body = std::to_string(seen.bytes) + " " + seen.sha256;
    }
    {
      std::lock_guard lock(mutex);
      uploads.push_back(std::move(seen));
    }
    co_return response;
  }

  // Waits (bounded) until `count` uploads have ended and returns the last one.
  std::optional<UploadSeen> wait_for_upload(std::size_t count) {
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex);
        if (uploads.size() >= count) return uploads[count - 1];
      }
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

  std::shared_ptr<std::atomic<int>> next_calls = std::make_shared<std::atomic<int>>(0);
  std::mutex mutex;
  std::vector<UploadSeen> uploads;
};

class StreamServerTest : public ServerFixture<StreamHandler> {
 protected:
  // Short, so the stall test ends quickly; every other test keeps its connection busy.
  StreamServerTest() { idle_timeout_ = 2s; }
};

long status_kib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

// Resets the process's peak RSS (VmHWM) to its current RSS and returns that, in KiB.
long reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  EXPECT_TRUE(clear.good()) << "cannot reset the peak RSS through /proc/self/clear_refs";
  return status_kib("VmRSS");
}

// Sends `size` pattern bytes as the body, in chunks of the sizes in `chunk_sizes` taken in turn
// when given, or as raw bytes after a Content-Length head.
bool send_pattern(Client& client, std::uint64_t size, const std::vector<std::size_t>& chunk_sizes) {
  PatternStream pattern(size);
  std::vector<char> piece(kPieceBytes * 2);
  if (chunk_sizes.empty()) {
    while (std::size_t n = pattern.fill(std::span<char>(piece).first(kPieceBytes))) {
      if (!client.send(std::string_view(piece.data(), n))) return false;
    }
    return true;
  }
  for (std::size_t turn = 0;; ++turn) {
    std::size_t want = std::min(chunk_sizes[turn % chunk_sizes.size()], piece.size());
    std::size_t n = pattern.fill(std::span<char>(piece).first(want));
    if (n == 0) break;
    char head[32];
    std::snprintf(head, sizeof head, "%zx\r\n", n);
    if (!client.send(head) || !client.send(std::string_view(piece.data(), n)) ||
        !client.send("\r\n")) {
      return false;
    }
  }
  return client.send("0\r\n\r\n");
}

TEST_F(StreamServerTest, ChunkedUploadStreamsInPiecesWithFlatMemory) {
  const std::string expected = pattern_sha256(kLargeBody);
  long baseline = reset_peak_rss();
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(send_pattern(client, kLargeBody, {65536, 1, 30000, 131072, 4096}));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, std::to_string(kLargeBody) + " " + expected);
  long growth = status_kib("VmHWM") - baseline;
  EXPECT_LT(growth, kMaxRssGrowthKib) << "peak RSS grew by " << growth << " KiB";
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->largest_piece, kPieceBytes);
  EXPECT_NE(response->headers["connection"], "close");
}

TEST_F(StreamServerTest, ContentLengthUploadStreamsInPiecesWithFlatMemory) {
  const std::string expected = pattern_sha256(kLargeBody);
  long baseline = reset_peak_rss();
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(kLargeBody) + "\r\n\r\n"));
  ASSERT_TRUE(send_pattern(client, kLargeBody, {}));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, std::to_string(kLargeBody) + " " + expected);
  long growth = status_kib("VmHWM") - baseline;
  EXPECT_LT(growth, kMaxRssGrowthKib) << "peak RSS grew by " << growth << " KiB";
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->largest_piece, kPieceBytes);
}

TEST_F(StreamServerTest, TinyReadsGiveTheSameBody) {
  const std::uint64_t size = 100000;
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /upload?piece=7 HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(send_pattern(client, size, {3000, 1, 50000}));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, std::to_string(size) + " " + pattern_sha256(size));
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->largest_piece, 7u);
}

TEST_F(StreamServerTest, ExpectContinueComesBeforeStreamedBody) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n"));
  auto interim = client.read_until("\r\n\r\n");
  ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "5 " + to_hex(sha256("hello")));
}

TEST_F(StreamServerTest, RequestWithoutBodyReadsAsEmpty) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET /upload HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "0 " + to_hex(sha256("")));
}

TEST_F(StreamServerTest, ChunkedBodyOverLimitFailsMidStream) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /limited HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // The server responds after the limit and discards the rest of the body while it lingers.
  ASSERT_TRUE(send_pattern(client, 2 * kLimitedBytes, {65536}));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->body, ": The request body is larger than the 1048576-byte limit.");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  ASSERT_TRUE(seen->error.has_value());
  EXPECT_EQ(seen->error->code, Errc::too_large);
  EXPECT_EQ(seen->bytes, kLimitedBytes);  // everything up to the limit, nothing past it
}

TEST_F(StreamServerTest, DeclaredLengthOverLimitFailsBeforeReading) {
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /limited HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_peer());
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->bytes, 0u);
}

TEST_F(StreamServerTest, ClientDisconnectMidBodyFailsTheRead) {
  {
    Client client(port_);
    ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
    ASSERT_TRUE(send_pattern(client, 100000, {}));
  }
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  ASSERT_TRUE(seen->error.has_value());
  EXPECT_EQ(seen->error->code, Errc::invalid_content);
  EXPECT_EQ(seen->error->type, "IncompleteBody");
  EXPECT_EQ(seen->error->message, "The connection closed after 100000 bytes of the request body.");
  EXPECT_EQ(seen->bytes, 100000u);
}

TEST_F(StreamServerTest, MalformedChunkFailsTheRead) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, ": malformed HTTP request body: bad chunk");
  EXPECT_TRUE(client.closed_by_peer());
  auto seen = handler_->wait_for_upload(1);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->bytes, 5u);
}

TEST_F(StreamServerTest, EarlyResponseClosesWithoutReadingTheBody) {
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /early HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n"));
  ASSERT_TRUE(send_pattern(client, 1000000, {}));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "early");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(StreamServerTest, StalledUploadEndsAfterIdleTimeout) {
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  auto started = std::chrono::steady_clock::now();
  auto seen = handler_->wait_for_upload(1);
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(seen.has_value());
  ASSERT_TRUE(seen->error.has_value());
  EXPECT_EQ(seen->error->type, "RequestTimeout");
  EXPECT_EQ(seen->bytes, 3u);
  EXPECT_GE(waited, 1500ms);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(StreamServerTest, UploadThatKeepsSendingOutlivesIdleTimeout) {
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n"));
  // Eight bytes over about 4 s, twice the idle timeout, with no gap as long as it.
  for (int i = 0; i < 8; ++i) {
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(client.send("x"));
  }
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "8 " + to_hex(sha256("xxxxxxxx")));
}

TEST_F(StreamServerTest, LargeStreamedResponseWithFlatMemory) {
  const std::string expected = pattern_sha256(kLargeBody);
  long baseline = reset_peak_rss();
  Client client(port_);
  ASSERT_TRUE(client.send("GET /download?size=" + std::to_string(kLargeBody) +
                          " HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response_headers();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], std::to_string(kLargeBody));
  EXPECT_EQ(head->headers.count("transfer-encoding"), 0u);
  Sha256 hash;
  ASSERT_TRUE(client.read_body(kLargeBody, [&](std::string_view piece) { hash.update(piece); }));
  EXPECT_EQ(to_hex(hash.finish()), expected);
  long growth = status_kib("VmHWM") - baseline;
  EXPECT_LT(growth, kMaxRssGrowthKib) << "peak RSS grew by " << growth << " KiB";
}

TEST_F(StreamServerTest, StreamedResponseWithoutLengthIsChunked) {
  const std::uint64_t size = 3 * kPieceBytes + 17;
  Client client(port_);
  ASSERT_TRUE(client.send("GET /download?size=" + std::to_string(size) +
                          "&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response_headers();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->headers["transfer-encoding"], "chunked");
  EXPECT_EQ(head->headers.count("content-length"), 0u);
  Sha256 hash;
  auto length = client.read_chunked_body([&](std::string_view piece) { hash.update(piece); });
  ASSERT_TRUE(length.has_value());
  EXPECT_EQ(*length, size);
  EXPECT_EQ(to_hex(hash.finish()), pattern_sha256(size));
}

TEST_F(StreamServerTest, KeepAliveAfterStreamedRequestAndResponse) {
  Client client(port_);
  ASSERT_TRUE(client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n"));
  ASSERT_TRUE(send_pattern(client, 300000, {}));
  auto upload = client.read_response();
  ASSERT_TRUE(upload.has_value());
  EXPECT_EQ(upload->body, "300000 " + pattern_sha256(300000));

  ASSERT_TRUE(client.send("GET /download?size=100000&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto chunked = client.read_response_headers();
  ASSERT_TRUE(chunked.has_value());
  Sha256 first;
  auto length = client.read_chunked_body([&](std::string_view piece) { first.update(piece); });
  EXPECT_EQ(length, std::optional<std::uint64_t>(100000));
  EXPECT_EQ(to_hex(first.finish()), pattern_sha256(100000));

  ASSERT_TRUE(
      client.send("GET /download?size=5000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "PUT /buffered HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"));
  auto sized = client.read_response();
  ASSERT_TRUE(sized.has_value());
  EXPECT_EQ(to_hex(sha256(sized->body)), pattern_sha256(5000));
  auto buffered = client.read_response();
  ASSERT_TRUE(buffered.has_value());
  EXPECT_EQ(buffered->body, "ok");
  EXPECT_NE(buffered->headers["connection"], "close");
}

TEST_F(StreamServerTest, AwsChunkedUploadKeepsTheConnection) {
  // The aws-chunked framing botocore sends with a CRC32 trailer, inside a Content-Length body.
  const std::string body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Encoding: aws-chunked\r\n"
                  "x-amz-decoded-content-length: 11\r\n"
                  "x-amz-trailer: x-amz-checksum-crc32\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
  auto upload = client.read_response();
  ASSERT_TRUE(upload.has_value());
  EXPECT_EQ(upload->status, 200);
  EXPECT_EQ(upload->body, "11 " + to_hex(sha256("hello world")));
  EXPECT_NE(upload->headers["connection"], "close");
  // Reading the aws-chunked body to its end consumed the HTTP body, so the connection serves on.
  ASSERT_TRUE(client.send("GET /early HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto next = client.read_response();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "early");
}

TEST_F(StreamServerTest, AwsChunkedBadChecksumFailsTheUpload) {
  const std::string body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
  Client client(port_);
  ASSERT_TRUE(
      client.send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Encoding: aws-chunked\r\n"
                  "x-amz-decoded-content-length: 11\r\n"
                  "x-amz-trailer: x-amz-checksum-crc32\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
  auto upload = client.read_response();
  ASSERT_TRUE(upload.has_value());
  EXPECT_EQ(upload->status, 400);
  EXPECT_EQ(upload->body.substr(0, 10), "BadDigest:");
}

TEST_F(StreamServerTest, Http10StreamedResponseEndsWithTheClose) {
  Client client(port_);
  ASSERT_TRUE(client.send("GET /download?size=70000&chunked=1 HTTP/1.0\r\n\r\n"));
  auto head = client.read_until("\r\n\r\n");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->find("Transfer-Encoding"), std::string::npos) << *head;
  EXPECT_EQ(head->find("Content-Length"), std::string::npos) << *head;
  Sha256 hash;
  ASSERT_TRUE(client.read_body(70000, [&](std::string_view piece) { hash.update(piece); }));
  EXPECT_EQ(to_hex(hash.finish()), pattern_sha256(70000));
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(StreamServerTest, NoContentStatusSkipsTheSource) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("GET /download?size=1000&status=204 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /early HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto empty = client.read_response_headers();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->status, 204);
  EXPECT_EQ(empty->headers.count("content-length"), 0u);
  EXPECT_EQ(empty->headers.count("transfer-encoding"), 0u);
  auto next = client.read_response();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->body, "early");
  EXPECT_EQ(handler_->next_calls->load(), 0);
}

TEST_F(StreamServerTest, HeadWithBodySourceSendsHeaderOnly) {
  Client client(port_);
  // A GET right behind the HEAD on the same connection shows whether stray content was sent.
  ASSERT_TRUE(
      client.send("HEAD /download?size=1000 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /download?size=10 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response_headers();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], "1000");
  auto get = client.read_response();
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->body.size(), 10u);
  // The connection serves requests in turn, so once this response arrives the GET is complete.
  ASSERT_TRUE(client.send("GET /early HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(client.read_response().has_value());
  // Only the GET read its source: one piece and the empty end.
  EXPECT_EQ(handler_->next_calls->load(), 2);
}

TEST_F(StreamServerTest, SourceFailureClosesTheConnection) {
  Client client(port_);
  ASSERT_TRUE(
      client.send("GET /download?size=1000000&fail_after=100000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client.read_response_headers();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->headers["content-length"], "1000000");
  std::uint64_t received = 0;
  EXPECT_FALSE(
      client.read_body(1000000, [&](std::string_view piece) { received += piece.size(); }));
  // The source fails at its first piece past 100000 bytes.
  EXPECT_EQ(received, 2 * kPieceBytes);
}

TEST(ServerListen, RejectsInvalidAddress) {
  asio::io_context ctx;
  ServerOptions options;
  options.address = "not-an-address";
  Server server(ctx.get_executor(), options, std::make_shared<EchoHandler>());
  auto port = server.listen();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().code, Errc::invalid_parameter);
  EXPECT_NE(port.error().message.find("invalid listen address 'not-an-address'"), std::string::npos)
      << port.error().message;
}

TEST(ServerListen, ReportsPortInUse) {
  asio::io_context ctx;
  ServerOptions options;
  Server first(ctx.get_executor(), options, std::make_shared<EchoHandler>());
  auto port = first.listen();
  ASSERT_TRUE(port.ok());
  options.port = *port;
  Server second(ctx.get_executor(), options, std::make_shared<EchoHandler>());
  auto again = second.listen();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::io);
  EXPECT_NE(again.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(*port)),
            std::string::npos)
      << again.error().message;
}

}  // namespace
}  // namespace lambent::http
