#include "lambent/services/s3/s3_service.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/sigv4.h"
#include "lambent/invoke/async_policy.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/s3/operations.h"

#include <fmt/format.h>

#include <array>
#include <chrono>

namespace lambent::services::s3 {

namespace {

struct Address {
  std::string bucket;  // percent-decoded
  std::string key;
  bool ok = true;
};

// The bucket of a virtual-hosted request: "<bucket>.s3.<anything>" or "<bucket>.s3-<region>...",
// the forms AWS serves; empty for path-style requests.
std::string_view virtual_bucket(const http::Request& head) {
  std::string_view host = head.header("host");
  if (auto colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  for (std::string_view marker : {".s3.", ".s3-"}) {
    auto at = host.find(marker);
    if (at != std::string_view::npos && at > 0) return host.substr(0, at);
  }
  return {};
}

Address parse_address(const http::Request& head) {
  Address address;
  std::string_view path = head.path();
  if (path.starts_with("/")) path.remove_prefix(1);
  std::string_view host_bucket = virtual_bucket(head);
  std::string_view raw_key;
  if (!host_bucket.empty()) {
    address.bucket = host_bucket;
    raw_key = path;
  } else {
    auto slash = path.find('/');
    std::string_view raw_bucket = path.substr(0, slash);
    if (!http::percent_decode(raw_bucket, address.bucket)) address.ok = false;
    raw_key = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  if (!http::percent_decode(raw_key, address.key)) address.ok = false;
  return address;
}

// Query parameters that select an operation's options rather than another operation.
constexpr std::array<std::string_view, 22> kPlainParameters = {"prefix",
                                                               "delimiter",
                                                               "max-keys",
                                                               "marker",
                                                               "encoding-type",
                                                               "list-type",
                                                               "continuation-token",
                                                               "start-after",
                                                               "fetch-owner",
                                                               "key-marker",
                                                               "upload-id-marker",
                                                               "max-uploads",
                                                               "max-parts",
                                                               "part-number-marker",
                                                               "partNumber",
                                                               "uploadId",
                                                               "x-id",
                                                               "uploads",
                                                               "delete",
                                                               "location",
                                                               "notification",
                                                               "tagging"};

// The first query parameter this service does not serve (an unsupported subresource such as
// ?versioning or ?acl), or empty.
std::string unsupported_parameter(std::string_view query) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::string name;
    http::percent_decode(pair.substr(0, pair.find('=')), name);
    if (name.empty() || name.starts_with("response-") || name.starts_with("X-Amz-") ||
        name == "versionId") {
      continue;
    }
    bool known = false;
    for (auto plain : kPlainParameters) known = known || plain == name;
    if (!known) return name;
  }
  return {};
}

// PutObject and UploadPart carry object data; their bodies are streamed to disk.
bool carries_object_data(const http::Request& head) {
  if (head.method != "PUT" || head.has_header("x-amz-copy-source")) return false;
  Address address = parse_address(head);
  return !address.key.empty() && unsupported_parameter(head.query()).empty();
}

}  // namespace

S3Service::S3Service(store::ObjectStore& store, invoke::Invoker& invoker,
                     store::MessageTargets& targets, asio::any_io_executor executor,
                     S3Options options)
    : store_(store),
      invoker_(invoker),
      targets_(targets),
      executor_(executor),
      options_(std::move(options)),
      tasks_(executor, "s3"),
      outbox_ready_(executor) {}

S3Service::~S3Service() { stop(); }

Status S3Service::load() {
  auto buckets = store_.load_buckets();
  if (!buckets) return buckets.error();
  for (auto& record : *buckets) {
    Bucket bucket;
    if (!record.notification.empty()) {
      auto parsed = parse_notification(record.notification);
      if (parsed) bucket.notification = std::move(*parsed);
    }
    std::string name = record.name;
    bucket.record = std::move(record);
    buckets_.emplace(std::move(name), std::move(bucket));
  }
  return ok_status();
}

void S3Service::start() { tasks_.spawn(deliver_loop(this), "notification_dispatcher"); }

void S3Service::stop() {
  tasks_.stop();
  outbox_ready_.set();
}

bool S3Service::owns(const http::Request& head) const {
  if (!virtual_bucket(head).empty()) return true;
  return http::scope_service(head.header("authorization")) == "s3";
}

http::Handler::HeadDecision S3Service::check_head(const http::Request& head,
                                                  std::optional<std::uint64_t> content_length) {
  http::Handler::HeadDecision decision;
  if (carries_object_data(head)) {
    decision.body_limit = kMaxPutBytes;
    decision.stream_body = true;
  } else {
    decision.body_limit = kMaxControlBodyBytes;
  }
  if (content_length && *content_length > decision.body_limit) {
    decision.reject = body_too_large(head, decision.body_limit);
  }
  return decision;
}

http::Response S3Service::body_too_large(const http::Request& head, std::uint64_t limit) {
  Call call(const_cast<http::Request&>(head), nullptr);
  call.host_id = base64_encode(random_hex(24));
  std::string proposed(head.header("content-length"));
  std::vector<std::pair<std::string, std::string>> fields;
  if (!proposed.empty()) fields.emplace_back("ProposedSize", proposed);
  fields.emplace_back("MaxSizeAllowed", std::to_string(limit));
  return error_response(call, "EntityTooLarge",
                        "Your proposed upload exceeds the maximum allowed size", std::move(fields));
}

http::Response S3Service::unauthorized(const http::Request& request, const Error& error) {
  Call call(const_cast<http::Request&>(request), nullptr);
  call.host_id = base64_encode(random_hex(24));
  call.head = request.method == "HEAD";
  const std::string& type = error.type;
  // A bad x-amz-content-sha256 is a 400 with S3's own code (XAmzContentSHA256Mismatch,
  // InvalidArgument).
  if (error.code == Errc::invalid_content || error.code == Errc::invalid_parameter) {
    return error_response(call, error);
  }
  if (type == "UnrecognizedClientException") {
    return error_response(call, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (type == "MissingAuthenticationTokenException") {
    return error_response(call, "AccessDenied", "Access Denied");
  }
  if (type == "IncompleteSignatureException") {
    return error_response(call, "AuthorizationHeaderMalformed", error.message);
  }
  return error_response(call, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you "
                        "provided. Check your key and signing method.");
}

Task<http::Response> S3Service::handle(http::Request& request, const http::Identity* identity) {
  Call call(request, identity);
  call.host_id = base64_encode(random_hex(24));
  call.head = request.method == "HEAD";
  Address address = parse_address(request);
  if (!address.ok) {
    co_return error_response(call, "InvalidURI", "Couldn't parse the specified URI.");
  }
  call.bucket = std::move(address.bucket);
  call.key = std::move(address.key);
  co_return co_await dispatch(call);
}

Task<http::Response> S3Service::dispatch(Call& call) {
  const std::string& method = call.request.method;
  if (std::string unsupported = unsupported_parameter(call.request.query()); !unsupported.empty()) {
    co_return error_response(
        call, "NotImplemented",
        fmt::format("A parameter you provided implies functionality that is not implemented: {}",
                    unsupported));
  }
  if (call.bucket.empty()) {
    if (method == "GET") co_return co_await list_buckets(call);
    co_return error_response(call, "MethodNotAllowed",
                             "The specified method is not allowed against this resource.",
                             {{"Method", method}, {"ResourceType", "SERVICE"}});
  }
  // Subresources served on one level only: the rest would fall through to an object or
  // bucket operation.
  for (std::string_view name : {"tagging", "notification", "location", "delete"}) {
    bool served = call.key.empty() ? name != "tagging" : (name == "tagging" && method == "GET");
    if (!served && call.has_query(name)) {
      co_return error_response(
          call, "NotImplemented",
          fmt::format("A parameter you provided implies functionality that is not implemented: {}",
                      name));
    }
  }
  if (call.key.empty()) {
    if (method == "PUT") {
      if (call.has_query("notification")) co_return co_await put_notification(call);
      co_return co_await create_bucket(call);
    }
    if (method == "DELETE") co_return co_await delete_bucket(call);
    if (method == "HEAD") co_return head_bucket(call);
    if (method == "POST" && call.has_query("delete")) co_return co_await delete_objects(call);
    if (method == "GET") {
      if (call.has_query("location")) co_return get_bucket_location(call);
      if (call.has_query("notification")) co_return get_notification(call);
      if (call.has_query("uploads")) co_return co_await list_uploads(call);
      co_return co_await list_objects(call, call.query("list-type").value == "2" ? 2 : 1);
    }
  } else {
    if (call.key.size() > kMaxKeyBytes) {
      co_return error_response(call, "KeyTooLongError", "Your key is too long",
                               {{"Size", std::to_string(call.key.size())},
                                {"MaxSizeAllowed", std::to_string(kMaxKeyBytes)}});
    }
    bool upload = call.has_query("uploadId");
    if (method == "PUT") {
      if (upload || call.has_query("partNumber")) co_return co_await upload_part(call);
      if (call.request.has_header("x-amz-copy-source")) co_return co_await copy_object(call);
      co_return co_await put_object(call);
    }
    if (method == "GET" && call.has_query("tagging")) co_return co_await get_object_tagging(call);
    if (method == "GET" || method == "HEAD") {
      if (upload && method == "GET") co_return co_await list_parts(call);
      co_return co_await get_object(call);
    }
    if (method == "DELETE") {
      if (upload) co_return co_await abort_upload(call);
      co_return co_await delete_object(call);
    }
    if (method == "POST") {
      if (call.has_query("uploads")) co_return co_await create_upload(call);
      if (upload) co_return co_await complete_upload(call);
    }
  }
  co_return error_response(
      call, "MethodNotAllowed", "The specified method is not allowed against this resource.",
      {{"Method", method}, {"ResourceType", call.key.empty() ? "BUCKET" : "OBJECT"}});
}

const S3Service::Bucket* S3Service::find_bucket(std::string_view name) const {
  auto it = buckets_.find(name);
  return it == buckets_.end() ? nullptr : &it->second;
}

Task<http::Response> S3Service::list_buckets(Call& call) {
  XmlWriter xml("ListAllMyBucketsResult");
  xml.open("Owner").leaf("ID", owner_id(options_.account_id)).leaf("DisplayName", "lambent");
  xml.close("Owner").open("Buckets");
  for (const auto& [name, bucket] : buckets_) {
    xml.open("Bucket")
        .leaf("Name", name)
        .leaf("CreationDate", iso8601_ms(bucket.record.created_ms));
    xml.close("Bucket");
  }
  xml.close("Buckets");
  co_return xml_response(call, xml.finish());
}

Task<http::Response> S3Service::create_bucket(Call& call) {
  if (auto valid = check_bucket_name(call.bucket); !valid)
    co_return error_response(call, valid.error());
  if (auto checked = check_control_body(call); !checked)
    co_return error_response(call, checked.error());
  std::string constraint;
  std::string_view body = control_body(call);
  if (body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    auto root = parse_xml(body);
    if (!root) co_return error_response(call, root.error());
    constraint = root->child_text("LocationConstraint");
  }
  if (constraint == "us-east-1" && options_.region == "us-east-1") {
    co_return error_response(call, "InvalidLocationConstraint",
                             "The specified location-constraint is not valid",
                             {{"LocationConstraint", constraint}});
  }
  std::string_view region = constraint.empty() ? std::string_view("us-east-1") : constraint;
  if (region != options_.region) {
    co_return error_response(
        call, "IllegalLocationConstraintException",
        fmt::format("The {} location constraint is incompatible for the region specific endpoint "
                    "this request was sent to.",
                    constraint.empty() ? std::string("unspecified") : constraint));
  }
  store::BucketRecord record{call.bucket, options_.region, epoch_ms(), {}};
  auto created = co_await store_.create_bucket(record);
  if (!created) {
    // In us-east-1, S3 returns 200 to a repeated CreateBucket by the owner, for legacy clients.
    if (created.error().type != "BucketAlreadyOwnedByYou" || options_.region != "us-east-1") {
      co_return error_response(call, created.error());
    }
  } else {
    std::string name = record.name;
    buckets_[name] = Bucket{std::move(record), {}};
    LOG_INFO("s3", "bucket_created", "bucket={}", name);
  }
  auto response = empty_response(call);
  response.header("Location", "/" + call.bucket);
  co_return response;
}

Task<http::Response> S3Service::delete_bucket(Call& call) {
  auto deleted = co_await store_.delete_bucket(call.bucket);
  if (!deleted) co_return error_response(call, deleted.error());
  buckets_.erase(call.bucket);
  LOG_INFO("s3", "bucket_deleted", "bucket={}", call.bucket);
  co_return empty_response(call, 204);
}

http::Response S3Service::head_bucket(Call& call) {
  const Bucket* bucket = find_bucket(call.bucket);
  if (bucket == nullptr) return error_response(call, "NoSuchBucket", "Not Found");
  auto response = empty_response(call);
  response.header("x-amz-bucket-region", bucket->record.region);
  return response;
}

http::Response S3Service::get_bucket_location(Call& call) {
  const Bucket* bucket = find_bucket(call.bucket);
  if (bucket == nullptr) {
    return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                          {{"BucketName", call.bucket}});
  }
  // us-east-1 is reported as an empty constraint.
  std::string region = bucket->record.region == "us-east-1" ? "" : bucket->record.region;
  return xml_response(call,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
                          xml_escape(region) + "</LocationConstraint>");
}

Task<http::Response> S3Service::put_notification(Call& call) {
  if (find_bucket(call.bucket) == nullptr) {
    co_return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                             {{"BucketName", call.bucket}});
  }
  if (auto checked = check_control_body(call); !checked)
    co_return error_response(call, checked.error());
  auto config = parse_notification(control_body(call));
  if (!config) co_return error_response(call, config.error());
  std::int64_t now = epoch_ms();
  for (const auto& target : config->targets) {
    if (target.kind == TargetKind::lambda) {
      auto lambda = invoke::parse_lambda_arn(target.arn);
      bool exists = lambda && invoker_.resolve(lambda->name, std::string_view(lambda->qualifier));
      if (!exists) {
        co_return error_response(call, "InvalidArgument",
                                 "Unable to validate the following destination configurations",
                                 {{"ArgumentName", target.arn},
                                  {"ArgumentValue", "The destination function does not exist"}});
      }
      continue;
    }
    // S3 validates a queue or topic by sending it an s3:TestEvent message now.
    store::OutboundMessage message;
    message.body = test_event(call.bucket, now, call.request.id, call.host_id);
    auto sent = co_await targets_.send(target.arn, std::move(message));
    if (!sent) {
      std::string reason = sent.error().code == Errc::not_found
                               ? "The destination queue or topic does not exist"
                               : sent.error().message;
      co_return error_response(call, "InvalidArgument",
                               "Unable to validate the following destination configurations",
                               {{"ArgumentName", target.arn}, {"ArgumentValue", reason}});
    }
  }
  std::string stored = config->targets.empty() ? std::string() : render_notification(*config);
  auto saved = co_await store_.set_notification(call.bucket, stored, {});
  if (!saved) co_return error_response(call, saved.error());
  auto it = buckets_.find(call.bucket);
  if (it != buckets_.end()) it->second.notification = std::move(*config);
  co_return empty_response(call);
}

http::Response S3Service::get_notification(Call& call) {
  const Bucket* bucket = find_bucket(call.bucket);
  if (bucket == nullptr) {
    return error_response(call, "NoSuchBucket", "The specified bucket does not exist",
                          {{"BucketName", call.bucket}});
  }
  return xml_response(call, render_notification(bucket->notification));
}

std::vector<store::OutboxEntry> S3Service::events_for(Call& call, std::string_view event_name,
                                                      std::string_view key, std::uint64_t size,
                                                      std::string_view etag) {
  std::vector<store::OutboxEntry> out;
  const Bucket* bucket = find_bucket(call.bucket);
  if (bucket == nullptr) return out;
  std::string sequencer;
  for (const auto& target : bucket->notification.targets) {
    if (!wants(target, event_name, key)) continue;
    if (sequencer.empty()) {
      // Increasing for every event of this server, so for every event of a key.
      auto now_ns =
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
      last_sequencer_ = std::max(last_sequencer_ + 1, now_ns);
      sequencer = fmt::format("{:016X}", last_sequencer_);
    }
    EventFacts facts;
    facts.region = options_.region;
    facts.event_name = std::string(event_name.substr(3));
    facts.time_ms = epoch_ms();
    facts.principal_id =
        "AWS:" + (call.identity ? call.identity->access_key_id : options_.account_id);
    facts.source_ip = call.request.remote_address;
    facts.request_id = call.request.id;
    facts.host_id = call.host_id;
    facts.configuration_id = target.id;
    facts.bucket = call.bucket;
    facts.owner_id = owner_id(options_.account_id);
    facts.key = std::string(key);
    facts.size = size;
    facts.etag = std::string(etag);
    facts.sequencer = sequencer;
    facts.removed = event_name.starts_with("s3:ObjectRemoved");
    out.push_back({0, target.arn, event_record(facts)});
  }
  return out;
}

Task<void> S3Service::deliver_loop(S3Service* self) {
  while (!self->tasks_.stopped()) {
    self->outbox_ready_.reset();
    auto batch = co_await self->store_.outbox(32);
    if (!batch || batch->empty()) {
      co_await self->outbox_ready_.wait(std::chrono::seconds(30));
      continue;
    }
    bool retry = false;
    for (auto& entry : *batch) {
      if (self->tasks_.stopped()) co_return;
      std::int64_t id = entry.id;
      bool finished = co_await self->deliver(std::move(entry));
      if (!finished) {
        retry = true;
        continue;
      }
      auto done = co_await self->store_.outbox_done(id);
      if (!done) retry = true;
    }
    if (retry) {
      asio::steady_timer pause(self->executor_, std::chrono::seconds(1));
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
}

Task<bool> S3Service::deliver(store::OutboxEntry entry) {
  Status sent = ok_status();
  if (invoke::target_service(entry.target) == invoke::TargetService::lambda) {
    auto lambda = invoke::parse_lambda_arn(entry.target);
    auto resolved =
        lambda ? invoker_.resolve(lambda->name, std::string_view(lambda->qualifier))
               : Result<invoke::Resolved>(make_error(Errc::not_found, "not a function ARN"));
    if (!resolved) {
      sent = resolved.error();
    } else {
      sent = co_await invoker_.enqueue(lambda->name, lambda->qualifier, random_uuid(),
                                       std::move(entry.payload));
    }
  } else {
    store::OutboundMessage message;
    message.body = std::move(entry.payload);
    auto id = co_await targets_.send(entry.target, std::move(message));
    if (!id) sent = id.error();
  }
  if (sent) co_return true;
  // A missing target, or one that rejects the message, would reject every retry too, so the
  // event is dropped with a warning.
  bool permanent =
      sent.error().code == Errc::not_found || sent.error().code == Errc::invalid_parameter;
  LOG_WARN("s3", permanent ? "notification_dropped" : "notification_retry",
           "target={} error=\"{}\"", entry.target, sent.error().message);
  co_return permanent;
}

}  // namespace lambent::services::s3
