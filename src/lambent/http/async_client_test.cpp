#include "lambent/http/async_client.h"
#include "lambent/http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace lambent::http {
namespace {

using namespace std::chrono_literals;

// Answers every request with its method, target, one header and body, and a large body on
// /large.
class ReplyHandler : public Handler {
 public:
  HeadDecision check_head(const Request&, std::optional<std::uint64_t>) override {
    HeadDecision decision;
    decision.body_limit = 1 << 20;
    return decision;
  }
  Response body_too_large(const Request&, std::uint64_t) override {
    Response response;
    response.status = 413;
    return response;
  }
  Task<Response> handle(Request& request) override {
    Response response;
    response.status = request.path() == "/missing" ? 404 : 200;
    if (request.path() == "/large") {
      response.body.assign(4096, 'x');
    } else {
      response.body = request.method + " " + request.target + " " +
                      std::string(request.header("x-test")) + " " + request.body;
    }
    response.header("X-Reply", "yes");
    co_return response;
  }
};

// Runs the server and the client call on one io_context.
Result<Response> run_fetch(OutboundRequest request, std::uint16_t* port_out = nullptr,
                           bool with_server = true) {
  asio::io_context io;
  Server server(io.get_executor(), ServerOptions{}, std::make_shared<ReplyHandler>());
  if (with_server) {
    auto port = server.listen();
    EXPECT_TRUE(port.ok());
    server.start();
    if (port_out) *port_out = *port;
    auto at = request.url.find("PORT");
    if (at != std::string::npos) request.url.replace(at, 4, std::to_string(*port));
  }
  std::optional<Result<Response>> result;
  auto call = [](OutboundRequest r, std::optional<Result<Response>>& slot,
                 Server& s) -> Task<void> {
    slot.emplace(co_await fetch(std::move(r)));
    s.stop();
  };
  asio::co_spawn(io, call(std::move(request), result, server), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run_for(10s);
  if (!result) return make_error(Errc::internal, "did not finish");
  return std::move(*result);
}

TEST(ParseUrl, SplitsHostPortAndTarget) {
  auto url = parse_url("http://127.0.0.1:8080/a/b?x=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/a/b?x=1");
  auto bare = parse_url("https://example.test");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, "443");
  EXPECT_EQ(bare->target, "/");
  EXPECT_FALSE(parse_url("ftp://x/").ok());
  EXPECT_FALSE(parse_url("http://:80/").ok());
  EXPECT_FALSE(parse_url("http://h:8x/").ok());
}

TEST(AsyncClient, PostsAndReadsTheResponse) {
  OutboundRequest request;
  request.url = "http://127.0.0.1:PORT/hook?q=1";
  request.headers = {{"X-Test", "value"}};
  request.body = "hello";
  auto response = run_fetch(std::move(request));
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "POST /hook?q=1 value hello");
  bool found = false;
  for (const auto& [name, value] : response->headers) found |= name == "x-reply" && value == "yes";
  EXPECT_TRUE(found);
}

TEST(AsyncClient, ReturnsErrorStatuses) {
  OutboundRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:PORT/missing";
  auto response = run_fetch(std::move(request));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404u);
}

TEST(AsyncClient, RejectsAnOversizedResponse) {
  OutboundRequest request;
  request.url = "http://127.0.0.1:PORT/large";
  request.max_response_body = 100;
  auto response = run_fetch(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::too_large);
}

TEST(AsyncClient, FailsWhenNothingListens) {
  // Bind a port, then close it, so nothing listens there.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto port = acceptor.local_endpoint().port();
  acceptor.close();
  OutboundRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto response = run_fetch(std::move(request), nullptr, false);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::io);
}

TEST(AsyncClient, TimesOutWhenThePeerNeverAnswers) {
  asio::io_context io;
  // A listening socket that never accepts: the connection completes in the kernel backlog
  // and the request is never answered.
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  acceptor.listen();
  OutboundRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  request.timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto response = run_fetch(std::move(request), nullptr, false);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::io);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos)
      << response.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(AsyncClient, RefusesHttps) {
  OutboundRequest request;
  request.url = "https://127.0.0.1:1/";
  auto response = run_fetch(std::move(request), nullptr, false);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::invalid_parameter);
}

}  // namespace
}  // namespace lambent::http
