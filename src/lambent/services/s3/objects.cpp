// PutObject, CopyObject, GetObject, HeadObject, DeleteObject(s) and the object listings.
#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/aws_chunked.h"
#include "lambent/http/sigv4.h"
#include "lambent/services/s3/operations.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace lambent::services::s3 {

namespace {

// Response bodies are read from disk in pieces of this size.
constexpr std::size_t kReadPiece = 512 * 1024;
// Request bodies are handed to the disk in pieces of up to this size.
constexpr std::size_t kWritePiece = 1 << 20;

// Streams a byte range of an open object from the blocking pool.
class ObjectBodySource final : public http::BodySource {
 public:
  ObjectBodySource(store::ObjectStore& store, std::shared_ptr<store::ObjectFile> file,
                   std::uint64_t offset, std::uint64_t length)
      : store_(store),
        file_(std::move(file)),
        offset_(offset),
        left_(length),
        buffer_(kReadPiece, '\0') {}

  Task<Result<std::string_view>> next() override {
    if (left_ == 0) co_return std::string_view();
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), left_));
    auto read = co_await store_.read(file_, offset_, std::span<char>(buffer_.data(), want));
    if (!read) co_return read.error();
    if (*read == 0) co_return make_error(Errc::io, "an object body ended before its recorded size");
    offset_ += *read;
    left_ -= *read;
    co_return std::string_view(buffer_.data(), *read);
  }

 private:
  store::ObjectStore& store_;
  std::shared_ptr<store::ObjectFile> file_;
  std::uint64_t offset_;
  std::uint64_t left_;
  std::string buffer_;
};

// Form encoding for listings with encoding-type=url, the encoding of event records.
std::string list_encode(std::string_view value, bool encode) {
  return encode ? event_key(value) : std::string(value);
}

// Whether an If-Match / If-None-Match list names this ETag ("*" names any).
bool etag_listed(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"')
      item = item.substr(1, item.size() - 2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

// Parses "bytes=a-b", "bytes=a-" and "bytes=-n". nullopt: not a single byte range, so the
// whole object is sent, as S3 does. `unsatisfiable` is set when the range starts past the end.
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size,
                                     bool& unsatisfiable) {
  unsatisfiable = false;
  if (!header.starts_with("bytes=")) return std::nullopt;
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::nullopt;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view text, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty();
  };
  std::string_view a = spec.substr(0, dash);
  std::string_view b = spec.substr(dash + 1);
  ByteRange range;
  if (a.empty()) {
    std::uint64_t suffix = 0;
    if (!number(b, suffix)) return std::nullopt;
    if (suffix == 0 || size == 0) {
      unsatisfiable = true;
      return std::nullopt;
    }
    range.first = suffix >= size ? 0 : size - suffix;
    range.last = size - 1;
    return range;
  }
  if (!number(a, range.first)) return std::nullopt;
  if (b.empty()) {
    range.last = size == 0 ? 0 : size - 1;
  } else if (!number(b, range.last) || range.last < range.first) {
    return std::nullopt;
  }
  if (range.first >= size) {
    unsatisfiable = true;
    return std::nullopt;
  }
  range.last = std::min(range.last, size - 1);
  return range;
}

std::optional<std::int64_t> header_time(std::string_view value) {
  if (value.empty()) return std::nullopt;
  auto parsed = http::parse_http_date(value);
  if (!parsed) return std::nullopt;
  return parsed->time_since_epoch().count();
}

}  // namespace

Task<Result<store::WrittenBody>> S3Service::receive_body(Call& call) {
  std::string_view sha = call.header("x-amz-content-sha256");
  bool check_sha =
      sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  std::optional<std::string> md5;
  if (std::string_view header = call.header("content-md5"); !header.empty()) {
    md5 = base64_decode(header);
    if (!md5 || md5->size() != 16) {
      co_return Error{Errc::invalid_parameter, "The Content-MD5 you specified was invalid.",
                      "InvalidDigest"};
    }
  }
  auto writer = co_await store_.writer(check_sha);
  if (!writer) co_return writer.error();
  http::BodyReader* reader = &call.body();
  // aws-chunked framing (x-amz-content-sha256 STREAMING-...): the reader verifies each chunk
  // signature against the seed signature the edge verified, and any trailing checksum.
  std::optional<http::AwsChunkedReader> chunked;
  if (sha.starts_with("STREAMING-")) {
    std::string_view declared = call.header("x-amz-decoded-content-length");
    std::uint64_t decoded = 0;
    auto [end, ec] = std::from_chars(declared.data(), declared.data() + declared.size(), decoded);
    if (declared.empty() || ec != std::errc() || end != declared.data() + declared.size()) {
      co_return Error{Errc::invalid_parameter,
                      "You must provide the x-amz-decoded-content-length header with an "
                      "aws-chunked body.",
                      "MissingContentLength"};
    }
    std::optional<http::ChunkSigning> signing;
    if (call.identity != nullptr && call.identity->chunk_signing) {
      signing = call.identity->chunk_signing;
    }
    chunked.emplace(*reader, std::move(signing), decoded, call.header("x-amz-trailer"));
    reader = &*chunked;
  }
  std::string buffer(kWritePiece, '\0');
  bool done = false;
  while (!done) {
    std::size_t filled = 0;
    while (filled < buffer.size()) {
      auto read =
          co_await reader->read(std::span<char>(buffer.data() + filled, buffer.size() - filled));
      if (!read) {
        if (read.error().code == Errc::too_large) {
          co_return Error{Errc::too_large, "Your proposed upload exceeds the maximum allowed size",
                          "EntityTooLarge"};
        }
        // The aws-chunked reader names S3's error (SignatureDoesNotMatch, BadDigest, ...).
        if (!read.error().type.empty()) co_return std::move(read).error();
        co_return Error{Errc::invalid_parameter,
                        "You did not provide the number of bytes specified by the Content-Length "
                        "HTTP header.",
                        "IncompleteBody"};
      }
      if (*read == 0) {
        done = true;
        break;
      }
      filled += *read;
    }
    if (filled == 0) break;
    auto written = co_await (*writer)->write(std::string_view(buffer.data(), filled));
    if (!written) co_return written.error();
  }
  auto body = co_await (*writer)->finish();
  if (!body) co_return body.error();
  if (md5 && *md5 != body->md5) {
    co_await store_.discard(std::move(*body));
    co_return Error{Errc::invalid_parameter,
                    "The Content-MD5 you specified did not match what we received.", "BadDigest"};
  }
  if (check_sha && body->sha256_hex != sha) {
    co_await store_.discard(std::move(*body));
    co_return Error{Errc::invalid_parameter,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    "XAmzContentSHA256Mismatch"};
  }
  co_return std::move(*body);
}

Task<http::Response> S3Service::put_object(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  auto body = co_await receive_body(call);
  if (!body) co_return error_response(call, body.error());
  store::ObjectRecord record;
  record.bucket = call.bucket;
  record.key = call.key;
  record.size = body->size;
  record.etag = hex(body->md5);
  record.last_modified_ms = epoch_ms();
  record.headers = object_headers(call.request);
  auto events = events_for(call, "s3:ObjectCreated:Put", call.key, record.size, record.etag);
  bool notify = !events.empty();
  std::string etag = record.etag;
  auto committed =
      co_await store_.commit_object(std::move(record), std::move(*body), std::move(events));
  if (!committed) co_return error_response(call, committed.error());
  if (notify) outbox_ready_.set();
  auto response = empty_response(call);
  response.header("ETag", quote_etag(etag));
  co_return response;
}

Task<http::Response> S3Service::copy_object(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  auto source = parse_copy_source(call.header("x-amz-copy-source"));
  if (!source) co_return error_response(call, source.error());
  std::string source_bucket = std::move(source->bucket);
  std::string source_key = std::move(source->key);
  std::string directive(call.header("x-amz-metadata-directive"));
  if (directive.empty()) directive = "COPY";
  if (directive != "COPY" && directive != "REPLACE") {
    co_return error_response(
        call, "InvalidArgument", "Unknown metadata directive.",
        {{"ArgumentName", "x-amz-metadata-directive"}, {"ArgumentValue", directive}});
  }
  if (source_bucket == call.bucket && source_key == call.key && directive == "COPY") {
    co_return error_response(call, "InvalidRequest",
                             "This copy request is illegal because it is trying to copy an object "
                             "to itself without changing the object's metadata, storage class, "
                             "website redirect location or encryption attributes.");
  }
  auto opened = co_await store_.open_object(source_bucket, source_key);
  if (!opened) {
    Call source_call(call.request, call.identity);
    source_call.host_id = call.host_id;
    source_call.bucket = source_bucket;
    source_call.key = source_key;
    co_return error_response(source_call, opened.error());
  }
  const auto& source_record = opened->record;
  if (std::string_view match = call.header("x-amz-copy-source-if-match");
      !match.empty() && !etag_listed(match, source_record.etag)) {
    co_return error_response(call, "PreconditionFailed",
                             "At least one of the pre-conditions you specified did not hold",
                             {{"Condition", "x-amz-copy-source-If-Match"}});
  }
  if (std::string_view none = call.header("x-amz-copy-source-if-none-match");
      !none.empty() && etag_listed(none, source_record.etag)) {
    co_return error_response(call, "PreconditionFailed",
                             "At least one of the pre-conditions you specified did not hold",
                             {{"Condition", "x-amz-copy-source-If-None-Match"}});
  }
  if (source_record.size > kMaxPutBytes) {
    co_return error_response(call, "InvalidRequest",
                             fmt::format("The specified copy source is larger than the maximum "
                                         "allowable size for a copy source: {}",
                                         kMaxPutBytes));
  }
  auto body = co_await store_.copy_body(opened->file, 0, source_record.size);
  if (!body) co_return error_response(call, body.error());
  store::ObjectRecord record;
  record.bucket = call.bucket;
  record.key = call.key;
  record.size = body->size;
  record.etag = hex(body->md5);
  record.last_modified_ms = epoch_ms();
  record.headers = directive == "COPY" ? source_record.headers : object_headers(call.request);
  auto events = events_for(call, "s3:ObjectCreated:Copy", call.key, record.size, record.etag);
  bool notify = !events.empty();
  std::string etag = record.etag;
  std::int64_t modified = record.last_modified_ms;
  auto committed =
      co_await store_.commit_object(std::move(record), std::move(*body), std::move(events));
  if (!committed) co_return error_response(call, committed.error());
  if (notify) outbox_ready_.set();
  XmlWriter xml("CopyObjectResult");
  xml.leaf("LastModified", iso8601_ms(modified)).leaf("ETag", quote_etag(etag));
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::get_object_tagging(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  auto found = co_await store_.find_object(call.bucket, call.key);
  if (!found) co_return error_response(call, found.error());
  XmlWriter xml("Tagging");
  xml.open("TagSet").close("TagSet");
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::get_object(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  store::ObjectRecord record;
  std::shared_ptr<store::ObjectFile> file;
  if (call.head) {
    auto found = co_await store_.find_object(call.bucket, call.key);
    if (!found) co_return error_response(call, found.error());
    record = std::move(*found);
  } else {
    auto opened = co_await store_.open_object(call.bucket, call.key);
    if (!opened) co_return error_response(call, opened.error());
    record = std::move(opened->record);
    file = std::move(opened->file);
  }
  // Conditional requests, in the precedence RFC 7232 section 6 gives and S3 follows.
  std::int64_t modified_s = record.last_modified_ms / 1000;
  std::string_view if_match = call.header("if-match");
  std::string_view if_none_match = call.header("if-none-match");
  auto not_modified = [&]() {
    auto response = empty_response(call, 304);
    response.header("ETag", quote_etag(record.etag));
    response.header("Last-Modified", http_date(record.last_modified_ms));
    return response;
  };
  auto failed = [&](std::string_view condition) {
    return error_response(call, "PreconditionFailed",
                          "At least one of the pre-conditions you specified did not hold",
                          {{"Condition", std::string(condition)}});
  };
  if (!if_match.empty()) {
    if (!etag_listed(if_match, record.etag)) co_return failed("If-Match");
  } else if (auto since = header_time(call.header("if-unmodified-since"));
             since && modified_s > *since) {
    co_return failed("If-Unmodified-Since");
  }
  if (!if_none_match.empty()) {
    if (etag_listed(if_none_match, record.etag)) co_return not_modified();
  } else if (auto since = header_time(call.header("if-modified-since"));
             since && modified_s <= *since) {
    co_return not_modified();
  }

  bool unsatisfiable = false;
  std::optional<ByteRange> range;
  if (std::string_view header = call.header("range"); !header.empty()) {
    range = parse_range(header, record.size, unsatisfiable);
    if (unsatisfiable) {
      co_return error_response(call, "InvalidRange", "The requested range is not satisfiable",
                               {{"RangeRequested", std::string(header)},
                                {"ActualObjectSize", std::to_string(record.size)}});
    }
  }
  // response-* query parameters override the stored headers in this response.
  struct Override {
    const char* parameter;
    std::string store::ObjectHeaders::*field;
  };
  static constexpr Override kOverrides[] = {
      {"response-content-type", &store::ObjectHeaders::content_type},
      {"response-content-language", &store::ObjectHeaders::content_language},
      {"response-expires", &store::ObjectHeaders::expires},
      {"response-cache-control", &store::ObjectHeaders::cache_control},
      {"response-content-disposition", &store::ObjectHeaders::content_disposition},
      {"response-content-encoding", &store::ObjectHeaders::content_encoding}};
  for (const auto& o : kOverrides) {
    auto value = call.query(o.parameter);
    if (value.found) record.headers.*(o.field) = value.value;
  }

  http::Response response = empty_response(call, range ? 206 : 200);
  add_object_headers(response, record);
  std::uint64_t first = range ? range->first : 0;
  std::uint64_t length = range ? range->last - range->first + 1 : record.size;
  if (range) {
    response.header("Content-Range",
                    fmt::format("bytes {}-{}/{}", range->first, range->last, record.size));
  }
  response.content_length = length;
  // A HEAD response is not read from its source, but the server needs one to send
  // content_length.
  response.body_source =
      std::make_shared<ObjectBodySource>(store_, std::move(file), first, call.head ? 0 : length);
  co_return response;
}

Task<http::Response> S3Service::delete_object(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  auto events = events_for(call, "s3:ObjectRemoved:Delete", call.key, 0, {});
  bool notify = !events.empty();
  auto deleted = co_await store_.delete_object(call.bucket, call.key, std::move(events));
  if (!deleted) co_return error_response(call, deleted.error());
  if (notify && *deleted) outbox_ready_.set();
  co_return empty_response(call, 204);
}

Task<http::Response> S3Service::delete_objects(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  if (call.header("content-md5").empty() && call.header("x-amz-checksum-crc32").empty() &&
      call.header("x-amz-checksum-crc32c").empty() && call.header("x-amz-checksum-sha1").empty() &&
      call.header("x-amz-checksum-sha256").empty()) {
    co_return error_response(call, "InvalidRequest",
                             "Missing required header for this request: Content-MD5");
  }
  if (auto checked = check_control_body(call); !checked)
    co_return error_response(call, checked.error());
  auto root = parse_xml(control_body(call));
  if (!root) co_return error_response(call, root.error());
  if (root->name != "Delete") {
    co_return error_response(call, Error{Errc::invalid_parameter,
                                         "The XML you provided was not well-formed or did not "
                                         "validate against our published schema",
                                         "MalformedXML"});
  }
  bool quiet = root->child_text("Quiet") == "true";
  std::vector<std::string> keys;
  for (const auto& child : root->children) {
    if (child.name == "Object") keys.push_back(child.child_text("Key"));
  }
  if (keys.empty() || keys.size() > 1000) {
    co_return error_response(call, Error{Errc::invalid_parameter,
                                         "The XML you provided was not well-formed or did not "
                                         "validate against our published schema",
                                         "MalformedXML"});
  }
  XmlWriter xml("DeleteResult");
  bool notify = false;
  for (const auto& key : keys) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      xml.open("Error")
          .leaf("Key", key)
          .leaf("Code", key.empty() ? "UserKeyMustBeSpecified" : "KeyTooLongError");
      xml.leaf("Message", key.empty() ? "The key must be specified" : "Your key is too long")
          .close("Error");
      continue;
    }
    auto events = events_for(call, "s3:ObjectRemoved:Delete", key, 0, {});
    bool has_events = !events.empty();
    auto deleted = co_await store_.delete_object(call.bucket, key, std::move(events));
    if (!deleted) {
      LOG_WARN("s3", "delete_failed", "request_id={} bucket={} error=\"{}\"", call.request.id,
               call.bucket, deleted.error().message);
      xml.open("Error").leaf("Key", key).leaf("Code", "InternalError");
      xml.leaf("Message", "We encountered an internal error. Please try again.").close("Error");
      continue;
    }
    notify = notify || (has_events && *deleted);
    if (!quiet) xml.open("Deleted").leaf("Key", key).close("Deleted");
  }
  if (notify) outbox_ready_.set();
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::list_objects(Call& call, int version) {
  store::ListQuery query;
  query.bucket = call.bucket;
  query.prefix = call.query("prefix").value;
  query.delimiter = call.query("delimiter").value;
  auto encoding = call.query("encoding-type");
  if (encoding.found && encoding.value != "url") {
    co_return error_response(
        call, "InvalidArgument", "Invalid Encoding Method specified in Request",
        {{"ArgumentName", "encoding-type"}, {"ArgumentValue", encoding.value}});
  }
  bool encode = encoding.found;
  if (auto max = call.query("max-keys"); max.found) {
    int value = 0;
    auto [end, ec] = std::from_chars(max.value.data(), max.value.data() + max.value.size(), value);
    if (ec != std::errc() || end != max.value.data() + max.value.size() || value < 0) {
      co_return error_response(call, "InvalidArgument",
                               "Provided max-keys not an integer or within integer range",
                               {{"ArgumentName", "max-keys"}, {"ArgumentValue", max.value}});
    }
    query.max_keys = std::min(value, 1000);
  }
  std::string token;
  std::string start_after;
  std::string marker;
  bool has_token = false;
  if (version == 2) {
    auto given = call.query("continuation-token");
    start_after = call.query("start-after").value;
    if (given.found) {
      has_token = true;
      token = given.value;
      auto decoded = base64_decode(token);
      if (!decoded || !decoded->starts_with("k:")) {
        co_return error_response(call, "InvalidArgument",
                                 "The continuation token provided is incorrect",
                                 {{"ArgumentName", "continuation-token"}});
      }
      query.after = decoded->substr(2);
    } else {
      query.after = start_after;
    }
  } else {
    marker = call.query("marker").value;
    query.after = marker;
  }
  auto page = co_await store_.list(query);
  if (!page) co_return error_response(call, page.error());

  XmlWriter xml("ListBucketResult");
  xml.leaf("Name", call.bucket).leaf("Prefix", list_encode(query.prefix, encode));
  if (version == 1) {
    xml.leaf("Marker", list_encode(marker, encode));
    if (page->truncated && !query.delimiter.empty())
      xml.leaf("NextMarker", list_encode(page->last, encode));
  }
  if (!query.delimiter.empty()) xml.leaf("Delimiter", list_encode(query.delimiter, encode));
  xml.leaf("MaxKeys", std::to_string(query.max_keys));
  if (encode) xml.leaf("EncodingType", "url");
  if (version == 2) {
    xml.leaf("KeyCount", std::to_string(page->objects.size() + page->common_prefixes.size()));
    if (has_token) xml.leaf("ContinuationToken", token);
    if (page->truncated) xml.leaf("NextContinuationToken", base64_encode("k:" + page->last));
    if (!start_after.empty()) xml.leaf("StartAfter", list_encode(start_after, encode));
  }
  xml.leaf("IsTruncated", page->truncated ? "true" : "false");
  bool owner = version == 1 || call.query("fetch-owner").value == "true";
  std::string id = owner_id(options_.account_id);
  for (const auto& object : page->objects) {
    xml.open("Contents").leaf("Key", list_encode(object.key, encode));
    xml.leaf("LastModified", iso8601_ms(object.last_modified_ms))
        .leaf("ETag", quote_etag(object.etag));
    xml.leaf("Size", std::to_string(object.size));
    if (owner) xml.open("Owner").leaf("ID", id).leaf("DisplayName", "lambent").close("Owner");
    xml.leaf("StorageClass", "STANDARD").close("Contents");
  }
  for (const auto& prefix : page->common_prefixes) {
    xml.open("CommonPrefixes").leaf("Prefix", list_encode(prefix, encode)).close("CommonPrefixes");
  }
  co_return xml_response(call, xml.finish());
}

}  // namespace lambent::services::s3
