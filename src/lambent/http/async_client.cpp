#include "lambent/http/async_client.h"

#include <fmt/format.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace lambent::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

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

Task<Result<Response>> fetch(OutboundRequest request) {
  auto url = parse_url(request.url);
  if (!url) co_return url.error();
  if (url->scheme != "http") {
    co_return make_error(
        Errc::invalid_parameter,
        fmt::format("cannot send to '{}': only http:// URLs are supported", request.url));
  }
  auto executor = co_await asio::this_coro::executor;
  auto failed = [&](std::string_view step, const boost::system::error_code& ec) {
    std::string reason = ec == beast::error::timeout ? "timed out" : ec.message();
    return make_error(Errc::io, fmt::format("{} {} failed: {}", step, request.url, reason));
  };

  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(url->host, url->port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("resolving", ec);

  beast::tcp_stream stream(executor);
  stream.expires_after(request.timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("connecting to", ec);

  bhttp::request<bhttp::string_body> out;
  out.method_string(request.method);
  out.target(url->target);
  out.version(11);
  bool default_port = (url->port == "80");
  out.set(bhttp::field::host, default_port ? url->host : url->host + ":" + url->port);
  for (const auto& [name, value] : request.headers) out.insert(name, value);
  out.set(bhttp::field::connection, "close");
  out.body() = std::move(request.body);
  out.prepare_payload();
  co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return failed("sending to", ec);

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(request.max_response_body);
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
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
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  co_return response;
}

}  // namespace lambent::http
