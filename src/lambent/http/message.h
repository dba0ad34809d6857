#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Beast-free request and response types, so that services include no Beast headers.
namespace lambent::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A request body read piece by piece while the handler runs, for bodies too large to hold in
// memory (a handler requests it with Handler::HeadDecision::stream_body). Chunked transfer
// coding is already removed; aws-chunked framing is not.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to buffer.size() bytes of the body. Returns the count, 0 once the whole body has
  // been read, or an error when the connection fails, the body is malformed or it grows past
  // the head decision's body_limit (Errc::too_large).
  virtual Task<Result<std::size_t>> read(std::span<char> buffer) = 0;
  // Bytes returned so far.
  virtual std::uint64_t consumed() const = 0;
};

// A BodyReader over a body already in memory, so one code path serves buffered and streamed
// requests. `body` must outlive the reader.
class StringBodyReader final : public BodyReader {
 public:
  explicit StringBodyReader(std::string_view body) : body_(body) {}
  Task<Result<std::size_t>> read(std::span<char> buffer) override {
    std::size_t count = std::min(buffer.size(), body_.size() - offset_);
    std::copy_n(body_.data() + offset_, count, buffer.data());
    offset_ += count;
    co_return count;
  }
  std::uint64_t consumed() const override { return offset_; }

 private:
  std::string_view body_;
  std::size_t offset_ = 0;
};

// A response body produced piece by piece while it is sent (an object read from disk).
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Returns the next piece, valid until the following call; an empty piece ends the body. An
  // error aborts the response: the connection is closed, so the client sees a short body.
  virtual Task<Result<std::string_view>> next() = 0;
};

struct Request {
  std::string method;
  std::string target;  // raw request-target as received: path and query, still percent-encoded
  HeaderList headers;  // names lowercased, in arrival order
  std::string body;
  std::string remote_address;
  std::string id;  // request id assigned by the server, a UUID (AWS's x-amzn-RequestId)
  // Set instead of `body` when the handler asked for a streamed body; valid only while the
  // handler runs. A body the handler leaves unread makes the server close the connection after
  // the response.
  BodyReader* body_reader = nullptr;

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
  // When set, the body comes from this source instead of `body`. The response then carries
  // Content-Length: content_length, or uses chunked transfer coding when that is unset. A HEAD
  // request gets the headers only and the source is not read.
  std::shared_ptr<BodySource> body_source;
  std::optional<std::uint64_t> content_length;

  Response& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// Decodes %XX escapes; '+' stays '+'. Returns false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out);
// Encodes everything outside the RFC 3986 unreserved set.
std::string percent_encode(std::string_view in);
// Decodes an application/x-www-form-urlencoded name or value: '+' is a space and %XX a byte.
// Returns false on a malformed escape.
bool form_decode(std::string_view in, std::string& out);

// Appends `text` escaped for XML content and attribute values. Invalid UTF-8 and the code
// points XML 1.0 forbids become U+FFFD first, and a carriage return becomes &#xD; so that
// parsers keep it.
void append_xml_escaped(std::string& out, std::string_view text);

// Returns the value of `key` in a raw query string, percent-decoded, or nullopt-like empty
// with found=false.
struct QueryValue {
  bool found = false;
  std::string value;
};
QueryValue query_param(std::string_view query, std::string_view key);

}  // namespace lambent::http
