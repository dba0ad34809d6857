#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Beast-free request and response types, so that services include no Beast headers.
namespace lambent::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string target;  // raw request-target as received: path and query, still percent-encoded
  HeaderList headers;  // names lowercased, in arrival order
  std::string body;
  std::string remote_address;
  std::string id;  // request id assigned by the server, a UUID (AWS's x-amzn-RequestId)

  std::string_view path() const {
    auto q = target.find('?');
    return std::string_view(target).substr(0, q);
  }
  std::string_view query() const {
    auto q = target.find('?');
    return q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1);
  }
  // Returns the first header with this lowercase name, or an empty view.
  std::string_view header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return value;
    }
    return {};
  }
  bool has_header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return true;
    }
    return false;
  }
};

struct Response {
  unsigned status = 200;
  HeaderList headers;
  std::string body;
  bool close = false;  // close the connection after sending

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Decodes %XX escapes; '+' stays '+'. Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);
// Encodes everything outside the RFC 3986 unreserved set.
std::string percent_encode(std::string_view in);

// Returns the value of `key` in a raw query string, percent-decoded, or nullopt-like empty
// with found=false.
struct QueryValue {
  bool found = false;
  std::string value;
};
QueryValue query_param(std::string_view query, std::string_view key);

}  // namespace lambent::http
