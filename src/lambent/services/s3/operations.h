#pragma once

// Shared by the S3 service's source files: the parsed request and response helpers.
#include "lambent/http/message.h"
#include "lambent/services/s3/s3_service.h"
#include "lambent/services/s3/xml.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lambent::services::s3 {

// 5 GiB: the largest body of one PutObject or UploadPart.
inline constexpr std::uint64_t kMaxPutBytes = 5ull << 30;
// 5 TiB: the largest object.
inline constexpr std::uint64_t kMaxObjectBytes = 5ull << 40;
// 5 MiB: the smallest part, except the last one.
inline constexpr std::uint64_t kMinPartBytes = 5ull << 20;
inline constexpr int kMaxPartNumber = 10000;
inline constexpr std::size_t kMaxKeyBytes = 1024;
// Bodies of the requests that are not object data (DeleteObjects, CompleteMultipartUpload...).
inline constexpr std::uint64_t kMaxControlBodyBytes = 4ull << 20;

struct S3Service::Call {
  Call(http::Request& r, const http::Identity* i) : request(r), identity(i), fallback(r.body) {}
  http::Request& request;
  const http::Identity* identity;
  std::string bucket;  // empty for service-level requests
  std::string key;     // empty for bucket-level requests
  std::string host_id;
  bool head = false;
  http::StringBodyReader fallback;
  // The streamed body, or the buffered one when the server read it whole.
  http::BodyReader& body() { return request.body_reader ? *request.body_reader : fallback; }
  std::string_view header(std::string_view name) const { return request.header(name); }
  http::QueryValue query(std::string_view name) const {
    return http::query_param(request.query(), name);
  }
  bool has_query(std::string_view name) const { return query(name).found; }
};

// The S3 error document and status for an error code ("NoSuchKey").
http::Response error_response(const S3Service::Call& call, std::string_view code,
                              std::string_view message,
                              std::vector<std::pair<std::string, std::string>> fields = {});
// The response for an Error from below: Error::type is the S3 code when set.
http::Response error_response(const S3Service::Call& call, const Error& error);
unsigned status_of(std::string_view code);

// A 200 response with an XML body, or an empty one.
http::Response xml_response(const S3Service::Call& call, std::string body);
http::Response empty_response(const S3Service::Call& call, unsigned status = 200);

// RFC 7231 date ("Wed, 12 Oct 2009 17:50:00 GMT").
std::string http_date(std::int64_t epoch_ms);
// The canonical user id S3 reports as Owner/ID for this account.
std::string owner_id(std::string_view account_id);
// Quoted ETag.
inline std::string quote_etag(std::string_view etag) { return "\"" + std::string(etag) + "\""; }
// Lowercase hex of raw bytes.
std::string hex(std::string_view bytes);
// Raw 16-byte MD5 of a small body.
std::string md5_raw(std::string_view data);
// Validates a bucket name against S3's naming rules; the error names the rule broken.
Status check_bucket_name(std::string_view name);
// Reads the whole (small) request body; the edge buffered it.
std::string_view control_body(const S3Service::Call& call);
// Checks a small body against Content-MD5 and a hex x-amz-content-sha256.
Status check_control_body(const S3Service::Call& call);
// The object headers of a PutObject, CopyObject (REPLACE) or CreateMultipartUpload.
store::ObjectHeaders object_headers(const http::Request& request);
struct CopySource {
  std::string bucket;
  std::string key;
};
// Parses x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, with an optional
// "?versionId=" suffix that is ignored. Errors carry S3's InvalidArgument.
Result<CopySource> parse_copy_source(std::string_view header);
// Adds an object's stored headers and metadata to a response.
void add_object_headers(http::Response& response, const store::ObjectRecord& record);

}  // namespace lambent::services::s3
