// Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
// AbortMultipartUpload, ListParts and ListMultipartUploads.
#include "lambent/base/crypto.h"
#include "lambent/services/s3/operations.h"

#include <fmt/format.h>

#include <charconv>

namespace lambent::services::s3 {

namespace {

Error malformed_xml() {
  return Error{Errc::invalid_parameter,
               "The XML you provided was not well-formed or did not validate against our "
               "published schema",
               "MalformedXML"};
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string_view unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    return etag.substr(1, etag.size() - 2);
  return etag;
}

}  // namespace

Task<http::Response> S3Service::create_upload(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  store::UploadRecord upload{random_hex(32), call.bucket, call.key, epoch_ms(),
                             object_headers(call.request)};
  std::string id = upload.upload_id;
  auto created = co_await store_.create_upload(std::move(upload));
  if (!created) co_return error_response(call, created.error());
  XmlWriter xml("InitiateMultipartUploadResult");
  xml.leaf("Bucket", call.bucket).leaf("Key", call.key).leaf("UploadId", id);
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::upload_part(Call& call) {
  auto number = parse_int(call.query("partNumber").value);
  if (!number || *number < 1 || *number > kMaxPartNumber) {
    co_return error_response(
        call, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive",
        {{"ArgumentName", "partNumber"}, {"ArgumentValue", call.query("partNumber").value}});
  }
  std::string upload_id = call.query("uploadId").value;
  auto upload = co_await store_.find_upload(upload_id);
  if (!upload || upload->bucket != call.bucket || upload->key != call.key) {
    co_return error_response(call, upload ? Error{Errc::not_found,
                                                  "The specified upload does not "
                                                  "exist. The upload ID may be invalid, or the "
                                                  "upload may have been aborted or completed.",
                                                  "NoSuchUpload"}
                                          : upload.error());
  }
  bool copy = call.request.has_header("x-amz-copy-source");
  Result<store::WrittenBody> body = Error{Errc::internal, "no body"};
  if (copy) {
    body = co_await copy_part_body(call);
  } else {
    body = co_await receive_body(call);
  }
  if (!body) co_return error_response(call, body.error());
  store::PartRecord part;
  part.number = *number;
  part.size = body->size;
  part.etag = hex(body->md5);
  part.last_modified_ms = epoch_ms();
  std::string etag = part.etag;
  std::int64_t modified = part.last_modified_ms;
  auto stored = co_await store_.put_part(upload_id, std::move(part), std::move(*body));
  if (!stored) co_return error_response(call, stored.error());
  if (copy) {
    XmlWriter xml("CopyPartResult");
    xml.leaf("LastModified", iso8601_ms(modified)).leaf("ETag", quote_etag(etag));
    co_return xml_response(call, xml.finish());
  }
  auto response = empty_response(call);
  response.header("ETag", quote_etag(etag));
  co_return response;
}

// UploadPartCopy: the part's bytes are x-amz-copy-source's, all of them or the inclusive
// x-amz-copy-source-range "bytes=first-last".
Task<Result<store::WrittenBody>> S3Service::copy_part_body(Call& call) {
  auto source = parse_copy_source(call.header("x-amz-copy-source"));
  if (!source) co_return source.error();
  auto opened = co_await store_.open_object(source->bucket, source->key);
  if (!opened) co_return opened.error();
  std::uint64_t size = opened->record.size;
  std::uint64_t first = 0;
  std::uint64_t length = size;
  if (std::string_view range = call.header("x-amz-copy-source-range"); !range.empty()) {
    auto dash = range.find('-');
    std::uint64_t last = 0;
    bool parsed = range.starts_with("bytes=") && dash != std::string_view::npos;
    if (parsed) {
      std::string_view a = range.substr(6, dash - 6);
      std::string_view b = range.substr(dash + 1);
      auto [a_end, a_ec] = std::from_chars(a.data(), a.data() + a.size(), first);
      auto [b_end, b_ec] = std::from_chars(b.data(), b.data() + b.size(), last);
      parsed = !a.empty() && !b.empty() && a_ec == std::errc() && b_ec == std::errc() &&
               a_end == a.data() + a.size() && b_end == b.data() + b.size() && first <= last;
    }
    if (!parsed) {
      co_return Error{Errc::invalid_parameter,
                      "The x-amz-copy-source-range value must be of the form bytes=first-last "
                      "where first and last are the zero-based offsets of the first and last "
                      "bytes to copy",
                      "InvalidArgument"};
    }
    if (last >= size) {
      co_return Error{
          Errc::invalid_parameter,
          fmt::format("Range specified is not valid for source object of size: {}", size),
          "InvalidArgument"};
    }
    length = last - first + 1;
  }
  if (length > kMaxPutBytes) {
    co_return Error{Errc::invalid_parameter,
                    fmt::format("The specified copy source is larger than the maximum allowable "
                                "size for a copy source: {}",
                                kMaxPutBytes),
                    "InvalidRequest"};
  }
  co_return co_await store_.copy_body(opened->file, first, length);
}

Task<http::Response> S3Service::complete_upload(Call& call) {
  std::string upload_id = call.query("uploadId").value;
  auto upload = co_await store_.find_upload(upload_id);
  if (!upload) co_return error_response(call, upload.error());
  if (upload->bucket != call.bucket || upload->key != call.key) {
    co_return error_response(
        call, Error{Errc::not_found, "The specified upload does not exist.", "NoSuchUpload"});
  }
  if (auto checked = check_control_body(call); !checked)
    co_return error_response(call, checked.error());
  auto root = parse_xml(control_body(call));
  if (!root || root->name != "CompleteMultipartUpload")
    co_return error_response(call, malformed_xml());
  struct Listed {
    int number;
    std::string etag;
  };
  std::vector<Listed> listed;
  for (const auto& child : root->children) {
    if (child.name != "Part") continue;
    auto number = parse_int(child.child_text("PartNumber"));
    if (!number) co_return error_response(call, malformed_xml());
    listed.push_back({*number, std::string(unquote(child.child_text("ETag")))});
  }
  if (listed.empty()) {
    co_return error_response(call, "MalformedXML",
                             "The XML you provided was not well-formed or did not validate "
                             "against our published schema");
  }
  for (std::size_t i = 1; i < listed.size(); ++i) {
    if (listed[i].number <= listed[i - 1].number) {
      co_return error_response(call, "InvalidPartOrder",
                               "The list of parts was not in ascending order. The parts list must "
                               "be specified in order by part number.",
                               {{"UploadId", upload_id}});
    }
  }
  auto stored = co_await store_.list_parts(upload_id, 0, 0);
  if (!stored) co_return error_response(call, stored.error());
  std::vector<store::PartRecord> parts;
  std::size_t next = 0;
  for (const auto& wanted : listed) {
    while (next < stored->size() && (*stored)[next].number < wanted.number) ++next;
    if (next == stored->size() || (*stored)[next].number != wanted.number ||
        (*stored)[next].etag != wanted.etag) {
      co_return error_response(call, "InvalidPart",
                               "One or more of the specified parts could not be found.  The part "
                               "may not have been uploaded, or the specified entity tag may not "
                               "match the part's entity tag.",
                               {{"UploadId", upload_id},
                                {"PartNumber", std::to_string(wanted.number)},
                                {"ETag", wanted.etag}});
    }
    parts.push_back((*stored)[next]);
  }
  std::string digests;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    if (i + 1 < parts.size() && part.size < kMinPartBytes) {
      co_return error_response(call, "EntityTooSmall",
                               "Your proposed upload is smaller than the minimum allowed object "
                               "size.",
                               {{"ProposedSize", std::to_string(part.size)},
                                {"MinSizeAllowed", std::to_string(kMinPartBytes)},
                                {"PartNumber", std::to_string(part.number)},
                                {"ETag", part.etag}});
    }
    for (std::size_t j = 0; j + 1 < part.etag.size(); j += 2) {
      digests.push_back(static_cast<char>(std::stoi(part.etag.substr(j, 2), nullptr, 16)));
    }
    total += part.size;
  }
  if (total > kMaxObjectBytes) {
    co_return error_response(call, "EntityTooLarge",
                             "Your proposed upload exceeds the maximum allowed size",
                             {{"ProposedSize", std::to_string(total)},
                              {"MaxSizeAllowed", std::to_string(kMaxObjectBytes)}});
  }
  std::string etag = fmt::format("{}-{}", hex(md5_raw(digests)), parts.size());
  auto body = co_await store_.concatenate(std::move(parts));
  if (!body) co_return error_response(call, body.error());
  store::ObjectRecord record;
  record.bucket = call.bucket;
  record.key = call.key;
  record.size = body->size;
  record.etag = etag;
  record.last_modified_ms = epoch_ms();
  record.headers = std::move(upload->headers);
  auto events = events_for(call, "s3:ObjectCreated:CompleteMultipartUpload", call.key, record.size,
                           record.etag);
  bool notify = !events.empty();
  auto committed = co_await store_.commit_object(std::move(record), std::move(*body),
                                                 std::move(events), upload_id);
  if (!committed) co_return error_response(call, committed.error());
  if (notify) outbox_ready_.set();
  std::string host(call.header("host"));
  XmlWriter xml("CompleteMultipartUploadResult");
  xml.leaf("Location",
           fmt::format("http://{}/{}/{}", host, call.bucket, http::percent_encode(call.key)));
  xml.leaf("Bucket", call.bucket).leaf("Key", call.key).leaf("ETag", quote_etag(etag));
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::abort_upload(Call& call) {
  std::string upload_id = call.query("uploadId").value;
  auto upload = co_await store_.find_upload(upload_id);
  if (!upload) co_return error_response(call, upload.error());
  auto aborted = co_await store_.abort_upload(upload_id);
  if (!aborted) co_return error_response(call, aborted.error());
  co_return empty_response(call, 204);
}

Task<http::Response> S3Service::list_parts(Call& call) {
  std::string upload_id = call.query("uploadId").value;
  auto upload = co_await store_.find_upload(upload_id);
  if (!upload) co_return error_response(call, upload.error());
  int max_parts = 1000;
  if (auto given = call.query("max-parts"); given.found) {
    auto value = parse_int(given.value);
    if (!value || *value < 0) {
      co_return error_response(call, "InvalidArgument",
                               "Provided max-parts not an integer or within integer range",
                               {{"ArgumentName", "max-parts"}, {"ArgumentValue", given.value}});
    }
    max_parts = std::min(*value, 1000);
  }
  int marker = 0;
  if (auto given = call.query("part-number-marker"); given.found) {
    auto value = parse_int(given.value);
    if (!value || *value < 0) {
      co_return error_response(
          call, "InvalidArgument",
          "Provided part-number-marker not an integer or within integer range",
          {{"ArgumentName", "part-number-marker"}, {"ArgumentValue", given.value}});
    }
    marker = *value;
  }
  auto parts = co_await store_.list_parts(upload_id, marker, max_parts + 1);
  if (!parts) co_return error_response(call, parts.error());
  bool truncated = static_cast<int>(parts->size()) > max_parts;
  if (truncated) parts->resize(static_cast<std::size_t>(max_parts));
  std::string id = owner_id(options_.account_id);
  XmlWriter xml("ListPartsResult");
  xml.leaf("Bucket", call.bucket).leaf("Key", call.key).leaf("UploadId", upload_id);
  xml.leaf("PartNumberMarker", std::to_string(marker));
  if (!parts->empty()) xml.leaf("NextPartNumberMarker", std::to_string(parts->back().number));
  xml.leaf("MaxParts", std::to_string(max_parts)).leaf("IsTruncated", truncated ? "true" : "false");
  for (const auto& part : *parts) {
    xml.open("Part").leaf("PartNumber", std::to_string(part.number));
    xml.leaf("LastModified", iso8601_ms(part.last_modified_ms)).leaf("ETag", quote_etag(part.etag));
    xml.leaf("Size", std::to_string(part.size)).close("Part");
  }
  xml.open("Initiator").leaf("ID", id).leaf("DisplayName", "lambent").close("Initiator");
  xml.open("Owner").leaf("ID", id).leaf("DisplayName", "lambent").close("Owner");
  xml.leaf("StorageClass", "STANDARD");
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::list_uploads(Call& call) {
  store::UploadListQuery query;
  query.bucket = call.bucket;
  query.prefix = call.query("prefix").value;
  query.key_marker = call.query("key-marker").value;
  query.upload_id_marker = call.query("upload-id-marker").value;
  if (auto given = call.query("max-uploads"); given.found) {
    auto value = parse_int(given.value);
    if (!value || *value < 0) {
      co_return error_response(call, "InvalidArgument",
                               "Provided max-uploads not an integer or within integer range",
                               {{"ArgumentName", "max-uploads"}, {"ArgumentValue", given.value}});
    }
    query.max_uploads = std::min(*value, 1000);
  }
  auto uploads = co_await store_.list_uploads(query);
  if (!uploads) co_return error_response(call, uploads.error());
  bool truncated = static_cast<int>(uploads->size()) > query.max_uploads;
  if (truncated) uploads->resize(static_cast<std::size_t>(query.max_uploads));
  std::string id = owner_id(options_.account_id);
  XmlWriter xml("ListMultipartUploadsResult");
  xml.leaf("Bucket", call.bucket).leaf("KeyMarker", query.key_marker);
  xml.leaf("UploadIdMarker", query.upload_id_marker);
  if (truncated && !uploads->empty()) {
    xml.leaf("NextKeyMarker", uploads->back().key)
        .leaf("NextUploadIdMarker", uploads->back().upload_id);
  }
  if (!query.prefix.empty()) xml.leaf("Prefix", query.prefix);
  xml.leaf("MaxUploads", std::to_string(query.max_uploads));
  xml.leaf("IsTruncated", truncated ? "true" : "false");
  for (const auto& upload : *uploads) {
    xml.open("Upload").leaf("Key", upload.key).leaf("UploadId", upload.upload_id);
    xml.open("Initiator").leaf("ID", id).leaf("DisplayName", "lambent").close("Initiator");
    xml.open("Owner").leaf("ID", id).leaf("DisplayName", "lambent").close("Owner");
    xml.leaf("StorageClass", "STANDARD").leaf("Initiated", iso8601_ms(upload.initiated_ms));
    xml.close("Upload");
  }
  co_return xml_response(call, xml.finish());
}

}  // namespace lambent::services::s3
