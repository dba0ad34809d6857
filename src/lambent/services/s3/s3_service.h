#pragma once

#include "lambent/base/async.h"
#include "lambent/services/edge/edge.h"
#include "lambent/services/s3/notifications.h"
#include "lambent/store/message_targets.h"
#include "lambent/store/object_store.h"

#include <map>
#include <memory>
#include <string>

namespace lambent::invoke {
class Invoker;
}

// The S3 REST API (path-style and virtual-hosted requests) over an ObjectStore: buckets,
// objects, multipart uploads and bucket notifications. Owns the notification dispatcher, a
// task that delivers outbox rows to functions (Invoker::enqueue), queues and topics
// (MessageTargets) and deletes each row after delivery, so a crash delivers at least once.
// Runs on the control-plane executor; errors are S3's XML error documents.
namespace lambent::services::s3 {

struct S3Options {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
};

class S3Service final : public EdgeService {
 public:
  // `store`, `invoker` and `targets` must outlive the service.
  S3Service(store::ObjectStore& store, invoke::Invoker& invoker, store::MessageTargets& targets,
            asio::any_io_executor executor, S3Options options);
  ~S3Service() override;

  // Loads the buckets (blocking; start-up only).
  Status load();
  // Starts the notification dispatcher; stop() ends it.
  void start();
  void stop();

  bool owns(const http::Request& head) const override;
  http::Handler::HeadDecision check_head(const http::Request& head,
                                         std::optional<std::uint64_t> content_length) override;
  http::Response body_too_large(const http::Request& head, std::uint64_t limit) override;
  http::Response unauthorized(const http::Request& request, const Error& error) override;
  Task<http::Response> handle(http::Request& request, const http::Identity* identity) override;

  struct Call;  // one request, parsed (operations.h)

 private:
  struct Bucket {
    store::BucketRecord record;
    NotificationConfig notification;
  };

  Task<http::Response> dispatch(Call& call);
  // Buckets.
  Task<http::Response> list_buckets(Call& call);
  Task<http::Response> create_bucket(Call& call);
  Task<http::Response> delete_bucket(Call& call);
  http::Response head_bucket(Call& call);
  http::Response get_bucket_location(Call& call);
  Task<http::Response> put_notification(Call& call);
  http::Response get_notification(Call& call);
  // Objects (objects.cpp).
  Task<http::Response> put_object(Call& call);
  Task<http::Response> copy_object(Call& call);
  Task<http::Response> get_object(Call& call);
  // GetObjectTagging: objects carry no tags, so the tag set of an existing object is empty.
  Task<http::Response> get_object_tagging(Call& call);
  Task<http::Response> delete_object(Call& call);
  Task<http::Response> delete_objects(Call& call);
  Task<http::Response> list_objects(Call& call, int version);
  // Multipart uploads (multipart.cpp).
  Task<http::Response> create_upload(Call& call);
  Task<http::Response> upload_part(Call& call);
  Task<http::Response> complete_upload(Call& call);
  Task<http::Response> abort_upload(Call& call);
  Task<http::Response> list_parts(Call& call);
  Task<http::Response> list_uploads(Call& call);

  // Reads the request body into a temporary file, checking Content-MD5 and a hex
  // x-amz-content-sha256. Errors carry the S3 code in Error::type.
  Task<Result<store::WrittenBody>> receive_body(Call& call);
  Task<Result<store::WrittenBody>> copy_part_body(Call& call);
  // Notification rows for an event on bucket/key, one per matching configuration.
  std::vector<store::OutboxEntry> events_for(Call& call, std::string_view event_name,
                                             std::string_view key, std::uint64_t size,
                                             std::string_view etag);
  const Bucket* find_bucket(std::string_view name) const;

  static Task<void> deliver_loop(S3Service* self);
  Task<bool> deliver(store::OutboxEntry entry);

  store::ObjectStore& store_;
  invoke::Invoker& invoker_;
  store::MessageTargets& targets_;
  asio::any_io_executor executor_;
  S3Options options_;
  std::map<std::string, Bucket, std::less<>> buckets_;
  std::uint64_t last_sequencer_ = 0;
  TaskGroup tasks_;
  Event outbox_ready_;
};

}  // namespace lambent::services::s3
