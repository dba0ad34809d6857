#include "lambent/http/async_client.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <mutex>

namespace lambent::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;

class TlsTrust {
 public:
  TlsTrust() : context(ssl::context::tls_client) {}
  // Streams take a non-const context, but nothing changes it after load_tls_trust returns.
  mutable ssl::context context;
};

namespace {

constexpr const char* kSystemCaDir = "/etc/ssl/certs";

std::string ssl_error_reason(const boost::system::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason) return reason;
  }
  return ec.message();
}

const std::shared_ptr<const TlsTrust>& system_trust() {
  static std::once_flag once;
  static std::shared_ptr<const TlsTrust> trust;
  std::call_once(once, [] {
    auto loaded = load_tls_trust({});
    if (loaded) trust = std::move(*loaded);
  });
  return trust;
}

}  // namespace

Result<std::shared_ptr<const TlsTrust>> load_tls_trust(
    const std::vector<std::string>& extra_ca_files) {
  auto trust = std::make_shared<TlsTrust>();
  auto& context = trust->context;
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  context.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  // Certificates in the system directory are looked up by subject hash when a chain is built.
  // NOTE: that lookup reads a few small files during the first handshakes, on the event loop;
  // OpenSSL caches them in the store afterwards.
  context.add_verify_path(kSystemCaDir, ec);
  if (ec) {
    return make_error(Errc::internal, fmt::format("cannot use the system CA store {}: {}",
                                                  kSystemCaDir, ssl_error_reason(ec)));
  }
  for (const auto& file : extra_ca_files) {
    context.load_verify_file(file, ec);
    if (ec) {
      return make_error(Errc::invalid_parameter,
                        fmt::format("cannot load CA certificates from '{}': {} (expected a "
                                    "readable PEM file with one or more certificates)",
                                    file, ssl_error_reason(ec)));
    }
  }
  return std::shared_ptr<const TlsTrust>(std::move(trust));
}

Result<Url> parse_url(std::string_view url) {
  auto invalid = [&] {
    return make_error(Errc::invalid_parameter,
                      fmt::format("invalid URL '{}': expected http://HOST[:PORT][/PATH]", url));
  };
  Url out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    out.scheme = "http";
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.scheme = "https";
    rest = url.substr(8);
  } else {
    return invalid();
  }
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  out.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return invalid();
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return invalid();
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid();
      port = after.substr(1);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return invalid();
  if (port.empty()) port = out.scheme == "https" ? "443" : "80";
  if (port.find_first_not_of("0123456789") != std::string_view::npos || port.size() > 5) {
    return invalid();
  }
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

namespace {

Error failure(std::string_view step, const std::string& url, const boost::system::error_code& ec) {
  std::string reason = ec == beast::error::timeout ? "timed out" : ssl_error_reason(ec);
  return make_error(Errc::io, fmt::format("{} {} failed: {}", step, url, reason));
}

// Writes the request on a connected (and, for https, handshaken) stream and reads the
// response.
template <class Stream>
Task<Result<Response>> exchange(Stream& stream, bhttp::request<bhttp::string_body>& out,
                                const OutboundRequest& request) {
  auto failed = [&](std::string_view step, const boost::system::error_code& ec) {
    return failure(step, request.url, ec);
  };
  boost::system::error_code ec;
  co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("sending to", ec);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(request.max_response_body);
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == ssl::error::stream_truncated && parser.is_header_done() && !parser.chunked() &&
      !parser.content_length()) {
    // Many TLS servers close without close_notify, which is how a body without
    // Content-Length or chunking ends: take the end of the connection as its end.
    parser.put_eof(ec);
  }
  if (ec == bhttp::error::body_limit) {
    co_return make_error(Errc::too_large, fmt::format("the response of {} is larger than {} bytes",
                                                      request.url, request.max_response_body));
  }
  if (ec) co_return failed("reading the response of", ec);
  auto& in = parser.get();
  Response response;
  response.status = in.result_int();
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  response.body = std::move(in.body());
  co_return response;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

Task<Result<Response>> fetch(OutboundRequest request) {
  auto url = parse_url(request.url);
  if (!url) co_return url.error();
  bool tls = url->scheme == "https";
  std::shared_ptr<const TlsTrust> trust = request.trust;
  if (tls && !trust) {
    trust = system_trust();
    if (!trust) {
      co_return make_error(Errc::internal, fmt::format("cannot send to '{}': the system CA "
                                                       "store {} cannot be loaded",
                                                       request.url, kSystemCaDir));
    }
  }
  auto executor = co_await asio::this_coro::executor;
  auto failed = [&](std::string_view step, const boost::system::error_code& ec) {
    return failure(step, request.url, ec);
  };

  bhttp::request<bhttp::string_body> out;
  out.method_string(request.method);
  out.target(url->target);
  out.version(11);
  bool default_port = url->port == (tls ? "443" : "80");
  std::string host_header =
      url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  out.set(bhttp::field::host, default_port ? host_header : host_header + ":" + url->port);
  for (const auto& [name, value] : request.headers) out.insert(name, value);
  out.set(bhttp::field::connection, "close");
  out.body() = std::move(request.body);
  out.prepare_payload();

  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(url->host, url->port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("resolving", ec);

  if (!tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(request.timeout);
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return failed("connecting to", ec);
    auto response = co_await exchange(stream, out, request);
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    co_return response;
  }

  // The reason the verify callback rejected the certificate. It is declared before the
  // stream, which owns the callback.
  std::string rejected;
  beast::ssl_stream<beast::tcp_stream> stream(executor, trust->context);
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(request.timeout);
  co_await tcp.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("connecting to", ec);

  // SNI carries host names only, never addresses (RFC 6066).
  if (!is_ip_literal(url->host) &&
      !SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str())) {
    co_return make_error(Errc::io,
                         fmt::format("cannot set the TLS server name for {}", request.url));
  }
  ssl::host_name_verification matches_host(url->host);
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback([&rejected, matches_host, host = url->host](
                                 bool preverified, ssl::verify_context& context) mutable {
    X509_STORE_CTX* store = context.native_handle();
    if (!preverified) {
      if (rejected.empty()) {
        rejected = fmt::format("certificate verification failed: {}",
                               X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
      }
      return false;
    }
    if (X509_STORE_CTX_get_error_depth(store) == 0 && !matches_host(true, context)) {
      rejected = fmt::format("the server's certificate does not match the host '{}'", host);
      return false;
    }
    return true;
  });
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (!rejected.empty() && ec != beast::error::timeout) {
      co_return make_error(Errc::io,
                           fmt::format("TLS handshake with {} failed: {}", request.url, rejected));
    }
    co_return failed("TLS handshake with", ec);
  }
  auto response = co_await exchange(stream, out, request);
  // The whole response is read and the connection is not reused: close it without waiting
  // for the peer's close_notify.
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  co_return response;
}

}  // namespace lambent::http
