#pragma once

#include "lambent/base/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// Bucket notification configurations (PutBucketNotificationConfiguration) and the event
// records S3 sends ("Event message structure", eventVersion 2.1). No I/O.
namespace lambent::services::s3 {

enum class TargetKind { lambda, queue, topic };

struct NotificationTarget {
  TargetKind kind = TargetKind::lambda;
  std::string id;
  std::string arn;
  std::vector<std::string> events;  // "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", ...
  std::string prefix;
  std::string suffix;
  bool has_prefix = false;
  bool has_suffix = false;
};

struct NotificationConfig {
  std::vector<NotificationTarget> targets;
};

// Parses and validates a NotificationConfiguration document: known event names, at most one
// prefix and one suffix rule per filter, and no two configurations sharing an event type with
// overlapping prefixes and suffixes. Errors carry S3's type (MalformedXML, InvalidArgument).
// A configuration without an Id gets a generated one.
Result<NotificationConfig> parse_notification(std::string_view document);
// The NotificationConfiguration document GetBucketNotificationConfiguration returns.
std::string render_notification(const NotificationConfig& config);

// Whether `target` wants `event` ("s3:ObjectCreated:Put") for `key`.
bool wants(const NotificationTarget& target, std::string_view event, std::string_view key);

// The object key as S3 writes it in event records: form-encoded UTF-8, a space as '+', '/'
// kept.
std::string event_key(std::string_view key);

struct EventFacts {
  std::string region;
  std::string event_name;  // without the "s3:" prefix
  std::int64_t time_ms = 0;
  std::string principal_id;
  std::string source_ip;
  std::string request_id;
  std::string host_id;
  std::string configuration_id;
  std::string bucket;
  std::string owner_id;
  std::string key;  // raw; encoded here
  std::uint64_t size = 0;
  std::string etag;  // without quotes
  std::string sequencer;
  bool removed = false;  // ObjectRemoved records carry no size or eTag
};

// {"Records":[...]} for one event.
std::string event_record(const EventFacts& facts);
// The s3:TestEvent message S3 sends to queues and topics when a configuration is put.
std::string test_event(std::string_view bucket, std::int64_t time_ms, std::string_view request_id,
                       std::string_view host_id);

// "2024-01-02T03:04:05.678Z".
std::string iso8601_ms(std::int64_t epoch_ms);

}  // namespace lambent::services::s3
