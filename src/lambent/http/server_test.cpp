#include "lambent/http/server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>

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

 private:
  bool fill() {
    char chunk[4096];
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
  static const std::regex pattern("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return std::regex_match(id, pattern);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_ = std::make_shared<EchoHandler>();
    ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.name = "test";
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

  asio::io_context ctx_;
  std::shared_ptr<EchoHandler> handler_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::promise<void> finished_;
  bool stopped_ = false;
};

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

  ASSERT_TRUE(client.send("POST /second?x=1 HTTP/1.1\r\nHost: localhost\r\n"
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
  ASSERT_TRUE(client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "64\r\n" + chunk + "\r\n0\r\n\r\n"));
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
  ASSERT_TRUE(client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello world");
  EXPECT_EQ(handler_->too_large_calls.load(), 0);
}

TEST_F(ServerTest, ExpectContinueGets100BeforeFinalResponse) {
  Client client(port_);
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
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
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                          "Expect: 100-Continue\r\n\r\n"));
  auto interim = client.read_until("\r\n\r\n");
  ASSERT_TRUE(interim.has_value()) << "no 100 Continue";
  EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(client.send("hello"));
  auto response = client.read_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "hello");
}

TEST_F(ServerTest, ExpectContinueRejectedGetsNo100) {
  Client client(port_);
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
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
    std::string huge = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') +
                       "\r\n\r\n";
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
  for (const char* request : {"GET / HTTP/1.1\r\n\r\n",
                              "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
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
  ASSERT_TRUE(client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
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
  ASSERT_TRUE(client.send("HEAD /status/200 HTTP/1.1\r\nHost: x\r\n\r\n"
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
  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Amz-Date: 20240102T030405Z\r\n"
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

TEST(ServerListen, RejectsInvalidAddress) {
  asio::io_context ctx;
  ServerOptions options;
  options.address = "not-an-address";
  Server server(ctx.get_executor(), options, std::make_shared<EchoHandler>());
  auto port = server.listen();
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.error().code, Errc::invalid_parameter);
  EXPECT_NE(port.error().message.find("invalid listen address 'not-an-address'"),
            std::string::npos)
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
