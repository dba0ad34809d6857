#include "lambent/http/client.h"

#include "lambent/http/sigv4.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace lambent::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

Result<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    return make_error(Errc::invalid_parameter,
                      fmt::format("invalid endpoint '{}': expected http://HOST:PORT", url));
  }
  std::string_view rest = url.substr(scheme.size());
  while (rest.ends_with('/')) rest.remove_suffix(1);
  auto colon = rest.rfind(':');
  Endpoint endpoint;
  if (colon == std::string_view::npos) {
    endpoint.host = std::string(rest);
    endpoint.port = "80";
  } else {
    endpoint.host = std::string(rest.substr(0, colon));
    endpoint.port = std::string(rest.substr(colon + 1));
  }
  if (endpoint.host.empty() || endpoint.port.empty() ||
      endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(Errc::invalid_parameter,
                      fmt::format("invalid endpoint '{}': expected http://HOST:PORT", url));
  }
  return endpoint;
}

Result<Response> send(const Endpoint& endpoint, const Request& request,
                      const ClientCredentials& credentials, std::chrono::seconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("cannot resolve {}: {}", endpoint.host, ec.message()));
  }
  stream.expires_after(timeout);
  stream.connect(results, ec);
  if (ec) {
    return make_error(Errc::io, fmt::format("cannot connect to http://{}:{}: {} (is `lambent "
                                            "serve` running?)",
                                            endpoint.host, endpoint.port, ec.message()));
  }

  bhttp::request<bhttp::string_body> out{bhttp::string_to_verb(request.method), request.target,
                                         11};
  std::string host = endpoint.host + ":" + endpoint.port;
  out.set(bhttp::field::host, host);
  for (const auto& [name, value] : request.headers) out.set(name, value);
  if (!credentials.access_key_id.empty()) {
    std::vector<Header> headers;
    headers.push_back({"host", host});
    for (const auto& [name, value] : request.headers) headers.push_back({name, value});
    SigningInput input{request.method,
                       request.target,
                       headers,
                       request.body,
                       credentials.access_key_id,
                       credentials.secret_access_key,
                       credentials.region,
                       credentials.service,
                       std::chrono::system_clock::now()};
    for (const auto& [name, value] : sign_sigv4(input)) out.set(name, value);
  }
  out.body() = request.body;
  out.prepare_payload();
  bhttp::write(stream, out, ec);
  if (ec) return make_error(Errc::io, "sending request failed: " + ec.message());

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  bhttp::read(stream, buffer, parser, ec);
  if (ec) return make_error(Errc::io, "reading response failed: " + ec.message());
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
  return response;
}

}  // namespace lambent::http
