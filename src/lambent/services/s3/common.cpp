#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/s3/operations.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cctype>
#include <ctime>

namespace lambent::services::s3 {

unsigned status_of(std::string_view code) {
  struct Entry {
    std::string_view code;
    unsigned status;
  };
  static constexpr Entry kStatuses[] = {
      {"NoSuchBucket", 404},         {"NoSuchKey", 404},
      {"NoSuchUpload", 404},         {"BucketAlreadyOwnedByYou", 409},
      {"BucketAlreadyExists", 409},  {"BucketNotEmpty", 409},
      {"OperationAborted", 409},     {"InvalidRange", 416},
      {"PreconditionFailed", 412},   {"NotImplemented", 501},
      {"AccessDenied", 403},         {"SignatureDoesNotMatch", 403},
      {"InvalidAccessKeyId", 403},   {"RequestTimeTooSkewed", 403},
      {"MethodNotAllowed", 405},     {"InternalError", 500},
      {"MissingContentLength", 411},
  };
  for (const auto& entry : kStatuses) {
    if (entry.code == code) return entry.status;
  }
  return 400;
}

namespace {

void add_ids(http::Response& response, const S3Service::Call& call) {
  response.header("x-amz-request-id", call.request.id);
  response.header("x-amz-id-2", call.host_id);
}

}  // namespace

http::Response error_response(const S3Service::Call& call, std::string_view code,
                              std::string_view message,
                              std::vector<std::pair<std::string, std::string>> fields) {
  http::Response response;
  response.status = status_of(code);
  add_ids(response, call);
  // A HEAD response has no body, so clients read the status alone.
  if (call.head) return response;
  response.header("Content-Type", "application/xml");
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
  body += xml_escape(code);
  body += "</Code><Message>";
  body += xml_escape(message);
  body += "</Message>";
  for (const auto& [name, value] : fields) {
    body += fmt::format("<{0}>{1}</{0}>", name, xml_escape(value));
  }
  body += fmt::format("<RequestId>{}</RequestId><HostId>{}</HostId></Error>", call.request.id,
                      xml_escape(call.host_id));
  response.body = std::move(body);
  return response;
}

http::Response error_response(const S3Service::Call& call, const Error& error) {
  std::string code = error.type;
  if (code.empty()) {
    switch (error.code) {
      case Errc::not_found:
        code = "NoSuchKey";
        break;
      case Errc::too_large:
        code = "EntityTooLarge";
        break;
      case Errc::precondition_failed:
        code = "PreconditionFailed";
        break;
      case Errc::not_implemented:
        code = "NotImplemented";
        break;
      case Errc::unauthorized:
        code = "AccessDenied";
        break;
      case Errc::conflict:
        code = "OperationAborted";
        break;
      case Errc::io:
      case Errc::internal:
        code = "InternalError";
        break;
      default:
        code = "InvalidArgument";
    }
  }
  std::vector<std::pair<std::string, std::string>> fields;
  if (code == "NoSuchBucket" || code == "BucketNotEmpty" || code == "BucketAlreadyOwnedByYou") {
    fields.emplace_back("BucketName", call.bucket);
  }
  if (code == "NoSuchKey") fields.emplace_back("Key", call.key);
  if (code == "NoSuchUpload") fields.emplace_back("UploadId", call.query("uploadId").value);
  if (code == "InternalError") {
    LOG_WARN("s3", "request_failed", "request_id={} bucket={} error=\"{}\"", call.request.id,
             call.bucket, error.message);
    return error_response(call, code, "We encountered an internal error. Please try again.");
  }
  return error_response(call, code, error.message, std::move(fields));
}

http::Response xml_response(const S3Service::Call& call, std::string body) {
  http::Response response;
  add_ids(response, call);
  response.header("Content-Type", "application/xml");
  response.body = std::move(body);
  return response;
}

http::Response empty_response(const S3Service::Call& call, unsigned status) {
  http::Response response;
  response.status = status;
  add_ids(response, call);
  return response;
}

std::string http_date(std::int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string owner_id(std::string_view account_id) {
  return to_hex(sha256("lambent-canonical-user:" + std::string(account_id)));
}

std::string hex(std::string_view bytes) { return to_hex(bytes); }

std::string md5_raw(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

Status check_bucket_name(std::string_view name) {
  auto invalid = [name](std::string_view rule) {
    return Error{Errc::invalid_parameter,
                 fmt::format("The specified bucket is not valid: '{}' {}", name, rule),
                 "InvalidBucketName"};
  };
  if (name.size() < 3 || name.size() > 63) return invalid("must be 3 to 63 characters long");
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-')) {
      return invalid("may contain only lowercase letters, digits, dots and hyphens");
    }
  }
  auto alnum = [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c));
  };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return invalid("must begin and end with a letter or digit");
  }
  if (name.find("..") != std::string_view::npos || name.find(".-") != std::string_view::npos ||
      name.find("-.") != std::string_view::npos) {
    return invalid("must not contain two adjacent periods or a period next to a hyphen");
  }
  int dots = 0;
  bool numeric = true;
  for (char c : name) {
    if (c == '.')
      ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c)))
      numeric = false;
  }
  if (numeric && dots == 3) return invalid("must not be formatted as an IP address");
  if (name.starts_with("xn--") || name.starts_with("sthree-")) {
    return invalid("must not start with the prefix xn-- or sthree-");
  }
  if (name.ends_with("-s3alias") || name.ends_with("--ol-s3")) {
    return invalid("must not end with the suffix -s3alias or --ol-s3");
  }
  return ok_status();
}

std::string_view control_body(const S3Service::Call& call) { return call.request.body; }

Status check_control_body(const S3Service::Call& call) {
  std::string_view body = call.request.body;
  std::string_view md5 = call.header("content-md5");
  if (!md5.empty()) {
    auto expected = base64_decode(md5);
    if (!expected || expected->size() != 16) {
      return Error{Errc::invalid_parameter, "The Content-MD5 you specified was invalid.",
                   "InvalidDigest"};
    }
    if (md5_raw(body) != *expected) {
      return Error{Errc::invalid_parameter,
                   "The Content-MD5 you specified did not match what we received.", "BadDigest"};
    }
  }
  std::string_view sha = call.header("x-amz-content-sha256");
  if (sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string_view::npos) {
    if (to_hex(sha256(body)) != sha) {
      return Error{Errc::invalid_parameter,
                   "The provided 'x-amz-content-sha256' header does not match what was computed.",
                   "XAmzContentSHA256Mismatch"};
    }
  }
  return ok_status();
}

store::ObjectHeaders object_headers(const http::Request& request) {
  store::ObjectHeaders h;
  h.content_type = request.header("content-type");
  // aws-chunked describes the transfer only, so S3 leaves it out of the stored encoding.
  std::string_view encoding = request.header("content-encoding");
  while (!encoding.empty()) {
    auto comma = encoding.find(',');
    std::string_view item = encoding.substr(0, comma);
    encoding = comma == std::string_view::npos ? std::string_view() : encoding.substr(comma + 1);
    while (item.starts_with(' ')) item.remove_prefix(1);
    while (item.ends_with(' ')) item.remove_suffix(1);
    if (item.empty() || item == "aws-chunked") continue;
    if (!h.content_encoding.empty()) h.content_encoding += ",";
    h.content_encoding += item;
  }
  h.content_disposition = request.header("content-disposition");
  h.content_language = request.header("content-language");
  h.cache_control = request.header("cache-control");
  h.expires = request.header("expires");
  for (const auto& [name, value] : request.headers) {
    if (name.starts_with("x-amz-meta-")) h.metadata.emplace_back(name.substr(11), value);
  }
  return h;
}

Result<CopySource> parse_copy_source(std::string_view header) {
  std::string_view source = header;
  if (auto q = source.find('?'); q != std::string_view::npos) source = source.substr(0, q);
  std::string decoded;
  if (!http::percent_decode(source, decoded)) {
    return Error{Errc::invalid_parameter, "Invalid copy source encoding", "InvalidArgument"};
  }
  if (decoded.starts_with("/")) decoded.erase(0, 1);
  auto slash = decoded.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == decoded.size()) {
    return Error{Errc::invalid_parameter,
                 "Invalid copy source object key: '" + std::string(header) +
                     "'. Expected the form bucket/key.",
                 "InvalidArgument"};
  }
  return CopySource{decoded.substr(0, slash), decoded.substr(slash + 1)};
}

void add_object_headers(http::Response& response, const store::ObjectRecord& record) {
  const auto& h = record.headers;
  response.header("Content-Type", h.content_type.empty() ? "binary/octet-stream" : h.content_type);
  if (!h.content_encoding.empty()) response.header("Content-Encoding", h.content_encoding);
  if (!h.content_disposition.empty()) response.header("Content-Disposition", h.content_disposition);
  if (!h.content_language.empty()) response.header("Content-Language", h.content_language);
  if (!h.cache_control.empty()) response.header("Cache-Control", h.cache_control);
  if (!h.expires.empty()) response.header("Expires", h.expires);
  for (const auto& [name, value] : h.metadata) response.header("x-amz-meta-" + name, value);
  response.header("ETag", quote_etag(record.etag));
  response.header("Last-Modified", http_date(record.last_modified_ms));
  response.header("Accept-Ranges", "bytes");
}

}  // namespace lambent::services::s3
