#pragma once

// Blocking HTTP/1.1 keep-alive connections and SigV4 request signing for the load generators in
// bench/. Each connection belongs to one client thread. Header-only, because every bench/*.cpp
// file builds into an executable of its own.
#include "lambent/http/client.h"
#include "lambent/http/sigv4.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace lambent::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using HttpRequest = bhttp::request<bhttp::string_body>;
using HttpResponse = bhttp::response<bhttp::string_body>;

inline std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// Builds a keep-alive request and signs it with the credentials in AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or leaves it unsigned when they are unset. A signed request may be sent
// again unchanged for 15 minutes, the clock skew SigV4 verifiers accept.
inline HttpRequest signed_request(const http::Endpoint& endpoint, const std::string& method,
                                  const std::string& target, const std::string& body,
                                  const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string host = endpoint.host + ":" + endpoint.port;
  HttpRequest request{bhttp::string_to_verb(method), target, 11};
  request.set(bhttp::field::host, host);
  std::vector<http::Header> headers{{"host", host}};
  for (const auto& [name, value] : extra) {
    request.set(name, value);
    headers.push_back({name, value});
  }
  std::string key = env_or_empty("AWS_ACCESS_KEY_ID");
  std::string secret = env_or_empty("AWS_SECRET_ACCESS_KEY");
  if (!key.empty()) {
    http::SigningInput input{method, target, headers, body, key, secret,
                             "us-east-1", "lambda", std::chrono::system_clock::now()};
    for (const auto& [name, value] : http::sign_sigv4(input)) request.set(name, value);
  }
  request.body() = body;
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

// Builds an unsigned keep-alive GET request, as a browser or curl sends to an HTTP API.
inline HttpRequest plain_get_request(const http::Endpoint& endpoint, const std::string& target) {
  HttpRequest request{bhttp::verb::get, target, 11};
  request.set(bhttp::field::host, endpoint.host + ":" + endpoint.port);
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

inline std::string invocations_target(const std::string& function) {
  return "/2015-03-31/functions/" + http::percent_encode(function) + "/invocations";
}

// One keep-alive TCP connection with Nagle off. exchange() throws boost::system::system_error
// when the connection fails.
class Connection {
 public:
  explicit Connection(const http::Endpoint& endpoint) : stream_(io_) {
    asio::ip::tcp::resolver resolver(io_);
    stream_.connect(resolver.resolve(endpoint.host, endpoint.port));
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  }

  HttpResponse exchange(const HttpRequest& request) {
    bhttp::write(stream_, request);
    HttpResponse response;
    bhttp::read(stream_, buffer_, response);
    return response;
  }

 private:
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

inline double elapsed_us(Clock::time_point begin, Clock::time_point end) {
  return std::chrono::duration<double, std::micro>(end - begin).count();
}

// Returns the p-th percentile (p in 0..100) of `values`: after sorting them, the element at
// index floor(p / 100 * (size - 1)). Returns 0 when `values` is empty.
inline double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
  return values[index];
}

// Builds one flat JSON object from (key, number) pairs, for bench/bench.py to read.
class JsonLine {
 public:
  JsonLine& add(const std::string& key, double value) {
    fields_.push_back(fmt::format("\"{}\": {:.3f}", key, value));
    return *this;
  }
  std::string str() const { return "{" + fmt::format("{}", fmt::join(fields_, ", ")) + "}"; }

 private:
  std::vector<std::string> fields_;
};

}  // namespace lambent::bench
