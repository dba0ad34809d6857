#include "lambent/services/s3/notifications.h"

#include "lambent/base/crypto.h"
#include "lambent/services/s3/xml.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <ctime>

namespace lambent::services::s3 {

namespace json = boost::json;

namespace {

// The Event enum of the S3 API model.
constexpr std::array<std::string_view, 27> kEvents = {
    "s3:ReducedRedundancyLostObject",
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete",
    "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post",
    "s3:ObjectRestore:Completed",
    "s3:Replication:*",
    "s3:Replication:OperationFailedReplication",
    "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:ObjectRestore:Delete",
    "s3:LifecycleTransition",
    "s3:IntelligentTiering",
    "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*",
    "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put",
    "s3:ObjectTagging:Delete",
};

Error invalid_argument(std::string message) {
  return Error{Errc::invalid_parameter, std::move(message), "InvalidArgument"};
}

// "s3:ObjectCreated:*" covers every "s3:ObjectCreated:..." event.
bool event_covers(std::string_view pattern, std::string_view event) {
  if (pattern == event) return true;
  if (pattern.ends_with(":*")) return event.starts_with(pattern.substr(0, pattern.size() - 1));
  return false;
}

bool events_overlap(std::string_view a, std::string_view b) {
  return event_covers(a, b) || event_covers(b, a);
}

bool filters_overlap(const NotificationTarget& a, const NotificationTarget& b) {
  bool prefixes = a.prefix.starts_with(b.prefix) || b.prefix.starts_with(a.prefix);
  bool suffixes = a.suffix.ends_with(b.suffix) || b.suffix.ends_with(a.suffix);
  return prefixes && suffixes;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Status parse_target(const XmlNode& node, TargetKind kind, std::string_view arn_element,
                    NotificationTarget& target) {
  target.kind = kind;
  target.id = node.child_text("Id");
  if (target.id.empty()) target.id = base64_encode(random_uuid());
  target.arn = node.child_text(arn_element);
  if (target.arn.empty()) {
    return Error{Errc::invalid_parameter,
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema",
                 "MalformedXML"};
  }
  // Each configuration names its own kind of target.
  std::string_view service = kind == TargetKind::lambda  ? "arn:aws:lambda:"
                             : kind == TargetKind::queue ? "arn:aws:sqs:"
                                                         : "arn:aws:sns:";
  if (!target.arn.starts_with(service)) {
    return invalid_argument("The ARN '" + target.arn + "' is not a valid " +
                            std::string(arn_element == "CloudFunction" ? "function"
                                        : arn_element == "Queue"       ? "queue"
                                                                       : "topic") +
                            " ARN: it must start with " + std::string(service));
  }
  for (const auto& child : node.children) {
    if (child.name != "Event") continue;
    if (std::find(kEvents.begin(), kEvents.end(), child.text) == kEvents.end()) {
      return invalid_argument("The event '" + child.text + "' is not supported for notifications");
    }
    target.events.push_back(child.text);
  }
  if (target.events.empty()) {
    return invalid_argument("A notification configuration must name at least one Event");
  }
  const XmlNode* filter = node.child("Filter");
  const XmlNode* key = filter ? filter->child("S3Key") : nullptr;
  if (key == nullptr) return ok_status();
  for (const auto& rule : key->children) {
    if (rule.name != "FilterRule") continue;
    std::string name = lowercase(rule.child_text("Name"));
    std::string value = rule.child_text("Value");
    if (name == "prefix") {
      if (target.has_prefix)
        return invalid_argument("Cannot specify more than one prefix rule in a filter.");
      target.has_prefix = true;
      target.prefix = value;
    } else if (name == "suffix") {
      if (target.has_suffix)
        return invalid_argument("Cannot specify more than one suffix rule in a filter.");
      target.has_suffix = true;
      target.suffix = value;
    } else {
      return invalid_argument("filter rule name must be either prefix or suffix");
    }
  }
  return ok_status();
}

void civil(std::int64_t epoch_ms, std::tm& out) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  gmtime_r(&seconds, &out);
}

}  // namespace

Result<NotificationConfig> parse_notification(std::string_view document) {
  NotificationConfig config;
  if (document.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  auto root = parse_xml(document);
  if (!root) return root.error();
  struct Kind {
    std::string_view element;
    std::string_view arn;
    TargetKind kind;
  };
  for (const auto& child : root->children) {
    for (const Kind& k : {Kind{"CloudFunctionConfiguration", "CloudFunction", TargetKind::lambda},
                          Kind{"LambdaFunctionConfiguration", "CloudFunction", TargetKind::lambda},
                          Kind{"QueueConfiguration", "Queue", TargetKind::queue},
                          Kind{"TopicConfiguration", "Topic", TargetKind::topic}}) {
      if (child.name != k.element) continue;
      NotificationTarget target;
      if (auto parsed = parse_target(child, k.kind, k.arn, target); !parsed) return parsed.error();
      config.targets.push_back(std::move(target));
    }
  }
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    for (std::size_t j = i + 1; j < config.targets.size(); ++j) {
      const auto& a = config.targets[i];
      const auto& b = config.targets[j];
      if (a.id == b.id) return invalid_argument("Configuration Id must be unique: " + a.id);
      bool shared = false;
      for (const auto& ea : a.events) {
        for (const auto& eb : b.events) shared = shared || events_overlap(ea, eb);
      }
      if (shared && filters_overlap(a, b)) {
        return invalid_argument(
            "Configurations overlap. Configurations on the same bucket cannot share a common "
            "event type.");
      }
    }
  }
  return config;
}

std::string render_notification(const NotificationConfig& config) {
  XmlWriter xml("NotificationConfiguration");
  for (TargetKind kind : {TargetKind::topic, TargetKind::queue, TargetKind::lambda}) {
    for (const auto& t : config.targets) {
      if (t.kind != kind) continue;
      std::string_view element = kind == TargetKind::topic   ? "TopicConfiguration"
                                 : kind == TargetKind::queue ? "QueueConfiguration"
                                                             : "CloudFunctionConfiguration";
      std::string_view arn = kind == TargetKind::topic   ? "Topic"
                             : kind == TargetKind::queue ? "Queue"
                                                         : "CloudFunction";
      xml.open(element).leaf("Id", t.id).leaf(arn, t.arn);
      for (const auto& event : t.events) xml.leaf("Event", event);
      if (t.has_prefix || t.has_suffix) {
        xml.open("Filter").open("S3Key");
        if (t.has_prefix)
          xml.open("FilterRule").leaf("Name", "Prefix").leaf("Value", t.prefix).close("FilterRule");
        if (t.has_suffix)
          xml.open("FilterRule").leaf("Name", "Suffix").leaf("Value", t.suffix).close("FilterRule");
        xml.close("S3Key").close("Filter");
      }
      xml.close(element);
    }
  }
  return xml.finish();
}

bool wants(const NotificationTarget& target, std::string_view event, std::string_view key) {
  if (!key.starts_with(target.prefix) || !key.ends_with(target.suffix)) return false;
  return std::any_of(target.events.begin(), target.events.end(),
                     [event](const std::string& pattern) { return event_covers(pattern, event); });
}

std::string event_key(std::string_view key) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(key.size());
  for (unsigned char c : key) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '*' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string iso8601_ms(std::int64_t epoch_ms) {
  std::tm tm{};
  civil(epoch_ms, tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, epoch_ms % 1000);
}

std::string event_record(const EventFacts& f) {
  json::object object{{"key", event_key(f.key)}};
  if (!f.removed) {
    object["size"] = f.size;
    object["eTag"] = f.etag;
  }
  object["sequencer"] = f.sequencer;
  json::object record{
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", f.region},
      {"eventTime", iso8601_ms(f.time_ms)},
      {"eventName", f.event_name},
      {"userIdentity", json::object{{"principalId", f.principal_id}}},
      {"requestParameters", json::object{{"sourceIPAddress", f.source_ip}}},
      {"responseElements",
       json::object{{"x-amz-request-id", f.request_id}, {"x-amz-id-2", f.host_id}}},
      {"s3", json::object{{"s3SchemaVersion", "1.0"},
                          {"configurationId", f.configuration_id},
                          {"bucket", json::object{{"name", f.bucket},
                                                  {"ownerIdentity",
                                                   json::object{{"principalId", f.owner_id}}},
                                                  {"arn", "arn:aws:s3:::" + f.bucket}}},
                          {"object", std::move(object)}}}};
  return json::serialize(json::object{{"Records", json::array{std::move(record)}}});
}

std::string test_event(std::string_view bucket, std::int64_t time_ms, std::string_view request_id,
                       std::string_view host_id) {
  return json::serialize(json::object{{"Service", "Amazon S3"},
                                      {"Event", "s3:TestEvent"},
                                      {"Time", iso8601_ms(time_ms)},
                                      {"Bucket", bucket},
                                      {"RequestId", request_id},
                                      {"HostId", host_id}});
}

}  // namespace lambent::services::s3
