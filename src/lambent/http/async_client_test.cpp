#include "lambent/http/async_client.h"
#include "lambent/http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <unistd.h>

namespace lambent::http {
namespace {

using namespace std::chrono_literals;

// Responds to every request with its method, target, one header and body, and a large body on
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
  // and the request never gets a response.
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

// A throwaway CA and server certificates signed by it, made with the openssl CLI.
class TlsFiles {
 public:
  TlsFiles() {
    dir_ = std::filesystem::temp_directory_path() /
           ("lambent-tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    std::filesystem::create_directories(dir_);
    ok_ = run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-keyout ca.key -out ca.pem -days 2 -subj '/CN=Lambent Test CA' "
              "-addext basicConstraints=critical,CA:TRUE "
              "-addext keyUsage=critical,keyCertSign,cRLSign") &&
          issue("local", "subjectAltName=DNS:localhost,IP:127.0.0.1") &&
          issue("elsewhere", "subjectAltName=DNS:elsewhere.test");
  }
  ~TlsFiles() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  bool run(const std::string& command) {
    std::string line = "cd '" + dir_.string() + "' && " + command + " >/dev/null 2>&1";
    return std::system(line.c_str()) == 0;
  }
  bool issue(const std::string& name, const std::string& san) {
    std::ofstream(dir_ / (name + ".ext")) << san << "\n";
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj /CN=" + name) &&
           run("openssl x509 -req -in " + name +
               ".csr -CA ca.pem -CAkey ca.key "
               "-CAcreateserial -days 2 -out " +
               name + ".pem -extfile " + name + ".ext");
  }
  std::filesystem::path dir_;
  bool ok_ = false;
};

const TlsFiles& tls_files() {
  static TlsFiles files;
  return files;
}

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;

// Accepts one TLS connection and replies to its request with "TLS <method> <target> <body>".
// With `unframed`, the reply is an HTTP/1.0 body that ends when the connection closes, without
// a TLS close_notify.
Task<void> serve_tls_once(asio::ip::tcp::acceptor& acceptor, ssl::context& context, bool unframed) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), context);
  beast::get_lowest_layer(stream).expires_after(5s);
  boost::system::error_code ec;
  co_await stream.async_handshake(ssl::stream_base::server,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> in;
  co_await bhttp::async_read(stream, buffer, in, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  if (unframed) {
    std::string reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nunframed body";
    co_await asio::async_write(stream, asio::buffer(reply),
                               asio::redirect_error(asio::use_awaitable, ec));
    beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    co_return;
  }
  bhttp::response<bhttp::string_body> out(bhttp::status::ok, 11);
  out.body() = "TLS " + std::string(in.method_string()) + " " + std::string(in.target()) + " " +
               std::string(in[bhttp::field::host]) + " " + in.body();
  out.prepare_payload();
  co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

// Runs a TLS server with the certificate `name` on 127.0.0.1 and sends `request` to it, with
// PORT in its URL replaced by the server's port.
Result<Response> run_tls_fetch(OutboundRequest request, const std::string& name,
                               bool unframed = false) {
  const auto& files = tls_files();
  asio::io_context io;
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain_file(files.path(name + ".pem"));
  context.use_private_key_file(files.path(name + ".key"), ssl::context::pem);
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  auto at = request.url.find("PORT");
  if (at != std::string::npos) {
    request.url.replace(at, 4, std::to_string(acceptor.local_endpoint().port()));
  }
  asio::co_spawn(io, serve_tls_once(acceptor, context, unframed), [](std::exception_ptr) {});
  std::optional<Result<Response>> result;
  auto call = [](OutboundRequest r, std::optional<Result<Response>>& slot,
                 asio::ip::tcp::acceptor& a) -> Task<void> {
    slot.emplace(co_await fetch(std::move(r)));
    boost::system::error_code ec;
    a.close(ec);
  };
  asio::co_spawn(io, call(std::move(request), result, acceptor), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run_for(10s);
  if (!result) return make_error(Errc::internal, "did not finish");
  return std::move(*result);
}

std::shared_ptr<const TlsTrust> test_ca_trust() {
  auto trust = load_tls_trust({tls_files().path("ca.pem")});
  EXPECT_TRUE(trust.ok()) << trust.error().message;
  return trust.ok() ? *trust : nullptr;
}

TEST(AsyncClientTls, PostsOverTlsToATrustedServer) {
  ASSERT_TRUE(tls_files().ok());
  OutboundRequest request;
  request.url = "https://127.0.0.1:PORT/hook?q=1";
  request.body = "hello";
  request.trust = test_ca_trust();
  auto response = run_tls_fetch(std::move(request), "local");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  EXPECT_NE(response->body.find("TLS POST /hook?q=1 127.0.0.1:"), std::string::npos)
      << response->body;
  EXPECT_TRUE(response->body.ends_with(" hello")) << response->body;
}

TEST(AsyncClientTls, ReadsABodyEndedByClose) {
  ASSERT_TRUE(tls_files().ok());
  OutboundRequest request;
  request.url = "https://127.0.0.1:PORT/";
  request.trust = test_ca_trust();
  auto response = run_tls_fetch(std::move(request), "local", true);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  EXPECT_EQ(response->body, "unframed body");
}

TEST(AsyncClientTls, VerifiesAHostName) {
  ASSERT_TRUE(tls_files().ok());
  OutboundRequest request;
  request.method = "GET";
  request.url = "https://localhost:PORT/";
  request.trust = test_ca_trust();
  auto response = run_tls_fetch(std::move(request), "local");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_NE(response->body.find("TLS GET / localhost:"), std::string::npos) << response->body;
}

TEST(AsyncClientTls, RejectsACertificateForAnotherHost) {
  ASSERT_TRUE(tls_files().ok());
  OutboundRequest request;
  request.url = "https://127.0.0.1:PORT/";
  request.trust = test_ca_trust();
  auto response = run_tls_fetch(std::move(request), "elsewhere");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::io);
  EXPECT_NE(response.error().message.find("does not match the host '127.0.0.1'"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("https://127.0.0.1:"), std::string::npos);
}

TEST(AsyncClientTls, RejectsAnUntrustedCertificate) {
  ASSERT_TRUE(tls_files().ok());
  // Without the test CA only the system store is trusted.
  for (bool system_only : {true, false}) {
    OutboundRequest request;
    request.url = "https://127.0.0.1:PORT/";
    if (!system_only) {
      auto trust = load_tls_trust({});
      ASSERT_TRUE(trust.ok()) << trust.error().message;
      request.trust = *trust;
    }
    auto response = run_tls_fetch(std::move(request), "local");
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.error().code, Errc::io);
    EXPECT_NE(response.error().message.find("certificate verification failed"), std::string::npos)
        << response.error().message;
  }
}

TEST(AsyncClientTls, TimesOutWhenTheHandshakeNeverCompletes) {
  asio::io_context io;
  // Connections complete in the kernel backlog and nothing ever responds to the ClientHello.
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  acceptor.listen();
  OutboundRequest request;
  request.url = "https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  request.timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto response = run_fetch(std::move(request), nullptr, false);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::io);
  EXPECT_NE(response.error().message.find("timed out"), std::string::npos)
      << response.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(AsyncClientTls, RejectsAMissingCaFile) {
  auto trust = load_tls_trust({"/nonexistent/ca.pem"});
  ASSERT_FALSE(trust.ok());
  EXPECT_EQ(trust.error().code, Errc::invalid_parameter);
  EXPECT_NE(trust.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace lambent::http
