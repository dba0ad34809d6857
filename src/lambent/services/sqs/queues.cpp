#include "lambent/services/sqs/queues.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/base/utf8.h"
#include "lambent/services/sqs/errors.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace lambent::services::sqs {

namespace json = boost::json;

namespace {

constexpr std::int64_t kPurgeIntervalMs = 60 * 1000;

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void append_length_prefixed(std::string& out, std::string_view bytes) {
  auto size = static_cast<std::uint32_t>(bytes.size());
  out.push_back(static_cast<char>((size >> 24) & 0xff));
  out.push_back(static_cast<char>((size >> 16) & 0xff));
  out.push_back(static_cast<char>((size >> 8) & 0xff));
  out.push_back(static_cast<char>(size & 0xff));
  out.append(bytes);
}

bool is_binary_type(std::string_view data_type) { return data_type.starts_with("Binary"); }

bool valid_queue_name(std::string_view name, bool fifo) {
  std::string_view base = name;
  if (fifo) {
    if (!name.ends_with(".fifo")) return false;
    base = name.substr(0, name.size() - 5);
  }
  if (name.empty() || name.size() > 80 || base.empty()) return false;
  return std::all_of(base.begin(), base.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// Characters AWS allows in a message body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
// #xFFFD | #x10000 to #x10FFFF. Valid UTF-8 already excludes surrogates and values above
// U+10FFFF, so what remains is C0 controls and U+FFFE, U+FFFF.
bool valid_message_text(std::string_view text) {
  if (!is_valid_utf8(text)) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return false;
    if (c == 0xef && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xbf &&
        (static_cast<unsigned char>(text[i + 2]) & 0xfe) == 0xbe) {
      return false;
    }
  }
  return true;
}

// Group and deduplication ids: up to 128 characters of a-z, A-Z, 0-9 and punctuation
// (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~).
bool valid_fifo_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

std::string encode_attributes(const std::vector<store::MessageAttribute>& attributes) {
  if (attributes.empty()) return {};
  json::array out;
  for (const auto& a : attributes) {
    json::object item{{"n", a.name}, {"t", a.data_type}};
    if (is_binary_type(a.data_type)) {
      item["b"] = base64_encode(a.binary_value);
    } else {
      item["s"] = a.string_value;
    }
    out.push_back(std::move(item));
  }
  return json::serialize(out);
}

std::vector<store::MessageAttribute> decode_attributes(std::string_view text) {
  std::vector<store::MessageAttribute> out;
  if (text.empty()) return out;
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_array()) return out;
  for (const auto& item : value.as_array()) {
    if (!item.is_object()) continue;
    const auto& object = item.as_object();
    store::MessageAttribute a;
    if (auto* n = object.if_contains("n"); n && n->is_string()) a.name = n->as_string();
    if (auto* t = object.if_contains("t"); t && t->is_string()) a.data_type = t->as_string();
    if (auto* s = object.if_contains("s"); s && s->is_string()) a.string_value = s->as_string();
    if (auto* b = object.if_contains("b"); b && b->is_string()) {
      a.binary_value = base64_decode(std::string_view(b->as_string())).value_or("");
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string md5_of_trace_header(std::string_view trace_header) {
  if (trace_header.empty()) return {};
  return md5_of_attributes(
      {store::MessageAttribute{"AWSTraceHeader", "String", std::string(trace_header), {}}});
}

// Receipt handles are base64 of "seq:token:message id", opaque to clients.
std::string make_receipt_handle(std::int64_t seq, std::string_view token,
                                std::string_view message_id) {
  return base64_encode(fmt::format("{}:{}:{}", seq, token, message_id));
}

struct ParsedHandle {
  std::int64_t seq = 0;
  std::string token;
};

std::optional<ParsedHandle> parse_receipt_handle(std::string_view handle) {
  auto decoded = base64_decode(handle);
  if (!decoded) return std::nullopt;
  std::string_view text = *decoded;
  auto first = text.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  auto second = text.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto seq = parse_int(text.substr(0, first));
  if (!seq) return std::nullopt;
  return ParsedHandle{*seq, std::string(text.substr(first + 1, second - first - 1))};
}

// Default values of the settable attributes, as GetQueueAttributes returns them.
std::map<std::string, std::string> default_attributes(bool fifo) {
  std::map<std::string, std::string> out{{"DelaySeconds", "0"},
                                         {"MaximumMessageSize", std::to_string(kMaxMessageBytes)},
                                         {"MessageRetentionPeriod", "345600"},
                                         {"ReceiveMessageWaitTimeSeconds", "0"},
                                         {"VisibilityTimeout", "30"},
                                         {"SqsManagedSseEnabled", "true"}};
  if (fifo) {
    out["FifoQueue"] = "true";
    out["ContentBasedDeduplication"] = "false";
    out["DeduplicationScope"] = "queue";
    out["FifoThroughputLimit"] = "perQueue";
  }
  return out;
}

struct IntRange {
  std::string_view name;
  std::int64_t min;
  std::int64_t max;
};

constexpr IntRange kIntAttributes[] = {
    {"DelaySeconds", 0, kMaxDelaySeconds},
    {"MaximumMessageSize", 1024, kMaxMessageBytes},
    {"MessageRetentionPeriod", 60, 1209600},
    {"ReceiveMessageWaitTimeSeconds", 0, kMaxWaitSeconds},
    {"VisibilityTimeout", 0, kMaxVisibilityTimeout},
    {"KmsDataKeyReusePeriodSeconds", 60, 86400},
};

}  // namespace

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_md5(), nullptr);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

std::string md5_of_attributes(const std::vector<store::MessageAttribute>& attributes) {
  if (attributes.empty()) return {};
  std::vector<const store::MessageAttribute*> sorted;
  for (const auto& a : attributes) sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  std::string buffer;
  for (const auto* a : sorted) {
    append_length_prefixed(buffer, a->name);
    append_length_prefixed(buffer, a->data_type);
    if (is_binary_type(a->data_type)) {
      buffer.push_back(2);
      append_length_prefixed(buffer, a->binary_value);
    } else {
      buffer.push_back(1);
      append_length_prefixed(buffer, a->string_value);
    }
  }
  return md5_hex(buffer);
}

struct Queues::Prepared {
  store::MessageRecord record;
  std::vector<store::MessageAttribute> attributes;
  SendResult result;
  bool duplicate = false;
};

struct Queues::ReceivePlan {
  std::vector<ReceivedMessage> messages;
  std::vector<store::MessageVisibility> updates;
  std::vector<std::int64_t> removed;
  std::vector<std::int64_t> moved;  // seqs moved to the dead-letter queue
  std::shared_ptr<Queue> dead_letter;
  std::vector<store::MessageRecord> moved_records;
};

Queues::Queues(store::QueueStore& store, asio::any_io_executor executor, QueuesOptions options)
    : store_(store), executor_(std::move(executor)), options_(std::move(options)) {}

Queues::~Queues() { stop(); }

std::int64_t Queues::now_ms() const { return options_.clock ? options_.clock() : epoch_ms(); }

std::string Queues::arn_of(std::string_view name) const {
  return fmt::format("arn:aws:sqs:{}:{}:{}", options_.region, options_.account_id, name);
}

std::optional<std::string> Queues::name_of_arn(std::string_view arn) const {
  std::string prefix = fmt::format("arn:aws:sqs:{}:{}:", options_.region, options_.account_id);
  if (!arn.starts_with(prefix)) return std::nullopt;
  return std::string(arn.substr(prefix.size()));
}

std::shared_ptr<Queues::Queue> Queues::find(std::string_view name) const {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second;
}

Status Queues::load() {
  auto loaded = store_.load(now_ms());
  if (!loaded) return std::move(loaded).error();
  std::size_t messages = 0;
  for (auto& stored : *loaded) {
    auto queue = std::make_shared<Queue>();
    bool fifo = stored.queue.name.ends_with(".fifo");
    auto config = check_attributes(stored.queue.attributes, fifo, false, nullptr);
    if (config) {
      queue->config = *config;
    } else {
      LOG_WARN("sqs", "queue_attributes_invalid", "queue={} error=\"{}\"", stored.queue.name,
               config.error().message);
      queue->config.fifo = fifo;
    }
    queue->record = std::move(stored.queue);
    for (auto& record : stored.messages) {
      queue->next_seq = std::max(queue->next_seq, record.seq + 1);
      Message message{std::move(record), {}};
      message.attributes = decode_attributes(message.record.attributes);
      queue->messages.emplace(message.record.seq, std::move(message));
      ++messages;
    }
    for (auto& dedup : stored.dedup) queue->dedup.emplace(dedup.deduplication_id, dedup);
    queues_.emplace(queue->record.name, std::move(queue));
  }
  LOG_INFO("sqs", "loaded", "queues={} messages={}", queues_.size(), messages);
  return ok_status();
}

void Queues::stop() {
  stopped_ = true;
  for (auto& [name, queue] : queues_) wake(*queue);
}

void Queues::wake(Queue& queue) {
  for (Event* waiter : queue.waiters) waiter->set();
}

Result<QueueConfig> Queues::check_attributes(const std::map<std::string, std::string>& attributes,
                                             bool fifo, bool creating,
                                             std::map<std::string, std::string>* normalized) const {
  QueueConfig config;
  config.fifo = fifo;
  for (const auto& [name, value] : attributes) {
    const IntRange* range = nullptr;
    for (const auto& candidate : kIntAttributes) {
      if (candidate.name == name) range = &candidate;
    }
    std::string stored = value;
    if (range != nullptr) {
      auto number = parse_int(value);
      if (!number || *number < range->min || *number > range->max) {
        return invalid_attribute_value(name);
      }
      stored = std::to_string(*number);
      if (name == "DelaySeconds") config.delay_seconds = static_cast<int>(*number);
      if (name == "MaximumMessageSize") config.maximum_message_size = *number;
      if (name == "MessageRetentionPeriod") config.message_retention_period = *number;
      if (name == "ReceiveMessageWaitTimeSeconds") {
        config.receive_message_wait_time_seconds = static_cast<int>(*number);
      }
      if (name == "VisibilityTimeout") config.visibility_timeout = static_cast<int>(*number);
    } else if (name == "FifoQueue") {
      if (!creating && value != (fifo ? "true" : "false")) return invalid_attribute_name(name);
      if (value != "true" && value != "false") return invalid_attribute_value(name);
    } else if (name == "ContentBasedDeduplication") {
      if (!fifo) return invalid_attribute_name(name);
      if (value != "true" && value != "false") return invalid_attribute_value(name);
      config.content_based_deduplication = value == "true";
    } else if (name == "DeduplicationScope") {
      if (!fifo) return invalid_attribute_name(name);
      if (value != "queue" && value != "messageGroup") return invalid_attribute_value(name);
    } else if (name == "FifoThroughputLimit") {
      if (!fifo) return invalid_attribute_name(name);
      if (value != "perQueue" && value != "perMessageGroupId") {
        return invalid_attribute_value(name);
      }
    } else if (name == "SqsManagedSseEnabled") {
      if (value != "true" && value != "false") return invalid_attribute_value(name);
    } else if (name == "RedrivePolicy") {
      if (value.empty()) {
        config.redrive_policy.reset();
      } else {
        boost::system::error_code ec;
        auto parsed = json::parse(value, ec);
        const json::object* object = !ec && parsed.is_object() ? &parsed.as_object() : nullptr;
        const json::value* target = object ? object->if_contains("deadLetterTargetArn") : nullptr;
        const json::value* count = object ? object->if_contains("maxReceiveCount") : nullptr;
        std::optional<std::int64_t> max_receive;
        if (count && count->is_int64()) max_receive = count->as_int64();
        if (count && count->is_string()) max_receive = parse_int(count->as_string());
        if (!target || !target->is_string() || !max_receive) {
          return invalid_parameter_value(value, "RedrivePolicy",
                                         "Redrive policy is not a valid JSON map with "
                                         "deadLetterTargetArn and maxReceiveCount.");
        }
        if (*max_receive < 1 || *max_receive > 1000) {
          return invalid_parameter_value(
              value, "RedrivePolicy",
              "Invalid value for maxReceiveCount: " + std::to_string(*max_receive) +
                  ", valid values are from 1 to 1000 both inclusive.");
        }
        std::string arn(target->as_string());
        auto target_name = name_of_arn(arn);
        auto target_queue = target_name ? find(*target_name) : nullptr;
        if (!target_queue) {
          return invalid_parameter_value(value, "RedrivePolicy",
                                         "Dead letter target does not exist.");
        }
        if (target_queue->config.fifo != fifo) {
          return invalid_parameter_value(
              value, "RedrivePolicy",
              "Dead-letter queue must be same type of queue as the source.");
        }
        config.redrive_policy = RedrivePolicy{arn, static_cast<int>(*max_receive)};
        stored = json::serialize(
            json::object{{"deadLetterTargetArn", arn}, {"maxReceiveCount", *max_receive}});
      }
    } else if (name == "Policy" || name == "RedriveAllowPolicy" || name == "KmsMasterKeyId") {
      if (name != "KmsMasterKeyId" && !value.empty()) {
        boost::system::error_code ec;
        auto parsed = json::parse(value, ec);
        if (ec || !parsed.is_object()) {
          return invalid_parameter_value(value, name, "The value is not a valid JSON document.");
        }
      }
    } else {
      return invalid_attribute_name(name);
    }
    if (normalized != nullptr) (*normalized)[name] = stored;
  }
  return config;
}

Task<Result<QueueInfo>> Queues::create_queue(std::string name,
                                             std::map<std::string, std::string> attributes,
                                             std::map<std::string, std::string> tags) {
  auto fifo_attribute = attributes.find("FifoQueue");
  bool fifo = fifo_attribute != attributes.end() && fifo_attribute->second == "true";
  if (fifo_attribute != attributes.end() && fifo_attribute->second != "true" &&
      fifo_attribute->second != "false") {
    co_return invalid_attribute_value("FifoQueue");
  }
  if (!valid_queue_name(name, fifo)) {
    if (fifo) {
      co_return invalid_parameter(
          "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
          "underscores, must end with .fifo suffix and be 1 to 80 in length.");
    }
    co_return invalid_parameter(
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
  }
  if (fifo_attribute != attributes.end() && !fifo) attributes.erase(fifo_attribute);
  std::map<std::string, std::string> normalized;
  auto config = check_attributes(attributes, fifo, true, &normalized);
  if (!config) co_return config.error();
  if (tags.size() > 50) co_return invalid_parameter("Too many tags added for queue " + name + ".");

  if (auto existing = find(name)) {
    for (const auto& [key, value] : normalized) {
      auto it = existing->record.attributes.find(key);
      std::string current = it == existing->record.attributes.end() ? "" : it->second;
      if (current != value) {
        co_return sqs_error("QueueAlreadyExists",
                            fmt::format("A queue already exists with the same name and a "
                                        "different value for attribute {}",
                                        key));
      }
    }
    co_return describe(name);
  }

  auto queue = std::make_shared<Queue>();
  queue->record.name = name;
  queue->record.attributes = default_attributes(fifo);
  for (auto& [key, value] : normalized) queue->record.attributes[key] = value;
  auto effective = check_attributes(queue->record.attributes, fifo, true, nullptr);
  if (!effective) co_return effective.error();
  queue->config = *effective;
  queue->record.tags = std::move(tags);
  queue->record.created_s = now_ms() / 1000;
  queue->record.modified_s = queue->record.created_s;
  queues_.emplace(name, queue);
  auto stored = co_await store_.put_queue(queue->record);
  if (!stored) {
    queues_.erase(name);
    co_return std::move(stored).error();
  }
  LOG_INFO("sqs", "queue_created", "queue={} fifo={}", name, fifo);
  co_return describe(name);
}

Result<QueueInfo> Queues::describe(std::string_view name) const {
  auto queue = find(name);
  if (!queue) return queue_not_found();
  QueueInfo info;
  info.name = queue->record.name;
  info.arn = arn_of(info.name);
  info.config = queue->config;
  info.attributes = queue->record.attributes;
  info.tags = queue->record.tags;
  info.created_s = queue->record.created_s;
  info.modified_s = queue->record.modified_s;
  return info;
}

Result<QueueDepth> Queues::depth(std::string_view name) const {
  auto queue = find(name);
  if (!queue) return queue_not_found();
  QueueDepth depth;
  std::int64_t now = now_ms();
  std::int64_t retention_ms = queue->config.message_retention_period * 1000;
  for (const auto& [seq, message] : queue->messages) {
    const auto& r = message.record;
    if (r.sent_ms + retention_ms <= now) continue;
    if (r.visible_at_ms <= now) {
      ++depth.visible;
    } else if (r.receive_count == 0) {
      ++depth.delayed;
    } else {
      ++depth.in_flight;
    }
  }
  return depth;
}

std::vector<std::string> Queues::list_queues(std::string_view prefix) const {
  std::vector<std::string> names;
  for (auto it = queues_.lower_bound(prefix); it != queues_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    names.push_back(it->first);
  }
  return names;
}

std::vector<std::string> Queues::dead_letter_sources(std::string_view name) const {
  std::vector<std::string> names;
  std::string arn = arn_of(name);
  for (const auto& [source, queue] : queues_) {
    if (queue->config.redrive_policy &&
        queue->config.redrive_policy->dead_letter_target_arn == arn) {
      names.push_back(source);
    }
  }
  return names;
}

Task<Status> Queues::delete_queue(std::string name) {
  auto queue = find(name);
  if (!queue) co_return queue_not_found();
  queue->deleted = true;
  queues_.erase(name);
  wake(*queue);
  auto deleted = co_await store_.delete_queue(name);
  if (!deleted) co_return deleted;
  LOG_INFO("sqs", "queue_deleted", "queue={} messages={}", name, queue->messages.size());
  co_return ok_status();
}

Task<Status> Queues::set_attributes(std::string name,
                                    std::map<std::string, std::string> attributes) {
  auto queue = find(name);
  if (!queue) co_return queue_not_found();
  std::map<std::string, std::string> normalized;
  auto checked = check_attributes(attributes, queue->config.fifo, false, &normalized);
  if (!checked) co_return checked.error();
  auto merged = queue->record.attributes;
  for (auto& [key, value] : normalized) {
    if (value.empty() && (key == "RedrivePolicy" || key == "Policy" ||
                          key == "RedriveAllowPolicy" || key == "KmsMasterKeyId")) {
      merged.erase(key);
    } else {
      merged[key] = value;
    }
  }
  auto config = check_attributes(merged, queue->config.fifo, false, nullptr);
  if (!config) co_return config.error();
  queue->record.attributes = std::move(merged);
  queue->config = *config;
  queue->record.modified_s = now_ms() / 1000;
  // A shorter wait or visibility may make messages visible sooner: let long polls recheck.
  wake(*queue);
  co_return co_await store_.put_queue(queue->record);
}

Task<Status> Queues::tag_queue(std::string name, std::map<std::string, std::string> tags) {
  auto queue = find(name);
  if (!queue) co_return queue_not_found();
  auto merged = queue->record.tags;
  for (auto& [key, value] : tags) merged[key] = value;
  if (merged.size() > 50)
    co_return invalid_parameter("Too many tags added for queue " + name + ".");
  queue->record.tags = std::move(merged);
  co_return co_await store_.put_queue(queue->record);
}

Task<Status> Queues::untag_queue(std::string name, std::vector<std::string> keys) {
  auto queue = find(name);
  if (!queue) co_return queue_not_found();
  for (const auto& key : keys) queue->record.tags.erase(key);
  co_return co_await store_.put_queue(queue->record);
}

Task<Status> Queues::purge(std::string name) {
  auto queue = find(name);
  if (!queue) co_return queue_not_found();
  std::int64_t now = now_ms();
  if (queue->last_purge_ms != 0 && now - queue->last_purge_ms < kPurgeIntervalMs) {
    co_return sqs_error("AWS.SimpleQueueService.PurgeQueueInProgress",
                        fmt::format("Only one PurgeQueue operation on {} is allowed every 60 "
                                    "seconds.",
                                    name));
  }
  queue->last_purge_ms = now;
  queue->messages.clear();
  co_return co_await store_.purge(name);
}

Result<Queues::Prepared> Queues::prepare(Queue& queue, NewMessage message, std::int64_t now_ms) {
  const QueueConfig& config = queue.config;
  if (message.body.empty()) return missing_parameter("MessageBody");
  if (!valid_message_text(message.body)) {
    return sqs_error("InvalidMessageContents",
                     "Invalid binary character was found in the message body, the set of "
                     "allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD "
                     "| #x10000 to #x10FFFF");
  }
  if (message.attributes.size() > 10) {
    return invalid_parameter(
        fmt::format("Number of message attributes [{}] exceeds the allowed maximum [10].",
                    message.attributes.size()));
  }
  std::int64_t size = static_cast<std::int64_t>(message.body.size());
  std::vector<std::string_view> names;
  for (const auto& a : message.attributes) {
    std::string_view name = a.name;
    bool name_ok =
        !name.empty() && name.size() <= 256 && !name.starts_with('.') && !name.ends_with('.') &&
        name.find("..") == std::string_view::npos &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    std::string lowered(name.substr(0, 7));
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ::tolower);
    if (!name_ok || lowered.starts_with("aws.") || lowered.starts_with("amazon.")) {
      return invalid_parameter(fmt::format("Message attribute name '{}' is invalid.", name));
    }
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return invalid_parameter(fmt::format("Message attribute name '{}' already exists.", name));
    }
    names.push_back(name);
    std::string_view type = a.data_type;
    std::string_view base = type.substr(0, type.find('.'));
    if (type.empty()) {
      return invalid_parameter(
          fmt::format("The message attribute '{}' must contain a non-empty attribute type.", name));
    }
    if ((base != "String" && base != "Number" && base != "Binary") || type.size() > 256 ||
        type.ends_with('.')) {
      return invalid_parameter(
          fmt::format("The type of message (user) attribute '{}' is invalid. You must use only the "
                      "following supported type prefixes: Binary, Number, String.",
                      name));
    }
    std::string_view value =
        base == "Binary" ? std::string_view(a.binary_value) : std::string_view(a.string_value);
    if (value.empty()) {
      return invalid_parameter(fmt::format(
          "The message attribute '{}' must contain a non-empty message attribute value for "
          "message attribute type '{}'.",
          name, type));
    }
    if (base != "Binary" && !valid_message_text(value)) {
      return sqs_error(
          "InvalidMessageContents",
          fmt::format("Invalid characters found in the message attribute '{}'.", name));
    }
    if (base == "Number") {
      double parsed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return invalid_parameter(fmt::format(
            "Can't cast the value of message (user) attribute '{}' to a number.", name));
      }
    }
    size += static_cast<std::int64_t>(name.size() + type.size() + value.size());
  }
  if (size > config.maximum_message_size) {
    return invalid_parameter(fmt::format(
        "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
        config.maximum_message_size));
  }
  if (message.delay_seconds) {
    if (*message.delay_seconds < 0 || *message.delay_seconds > kMaxDelaySeconds) {
      return invalid_parameter_value(std::to_string(*message.delay_seconds), "DelaySeconds",
                                     "DelaySeconds must be >= 0 and <= 900.");
    }
    if (config.fifo) {
      return invalid_parameter_value(
          std::to_string(*message.delay_seconds), "DelaySeconds",
          "The request include parameter that is not valid for this queue type.");
    }
  }
  if (!message.group_id.empty() && !valid_fifo_id(message.group_id)) {
    return invalid_parameter_value(message.group_id, "MessageGroupId",
                                   "MessageGroupId can only include alphanumeric and punctuation "
                                   "characters. 1 to 128 in length.");
  }
  if (config.fifo) {
    if (message.group_id.empty()) return missing_parameter("MessageGroupId");
    if (message.deduplication_id.empty()) {
      if (!config.content_based_deduplication) {
        return invalid_parameter(
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly");
      }
      message.deduplication_id = to_hex(sha256(message.body));
    } else if (!valid_fifo_id(message.deduplication_id)) {
      return invalid_parameter_value(message.deduplication_id, "MessageDeduplicationId",
                                     "MessageDeduplicationId can only include alphanumeric and "
                                     "punctuation characters. 1 to 128 in length.");
    }
  } else if (!message.deduplication_id.empty()) {
    return invalid_parameter_value(
        message.deduplication_id, "MessageDeduplicationId",
        "The request include parameter that is not valid for this queue type.");
  }

  Prepared prepared;
  prepared.result.md5_body = md5_hex(message.body);
  prepared.result.md5_attributes = md5_of_attributes(message.attributes);
  prepared.result.md5_system_attributes = md5_of_trace_header(message.trace_header);
  if (config.fifo) {
    auto seen = queue.dedup.find(message.deduplication_id);
    if (seen != queue.dedup.end() && seen->second.expires_ms > now_ms) {
      prepared.duplicate = true;
      prepared.result.message_id = seen->second.message_id;
      prepared.result.sequence_number = seen->second.sequence_number;
      return prepared;
    }
    prepared.result.sequence_number = fmt::format("{:020}", queue.record.next_sequence++);
  }
  prepared.result.message_id = random_uuid();

  auto& r = prepared.record;
  r.seq = queue.next_seq++;
  r.id = prepared.result.message_id;
  r.body = std::make_shared<const std::string>(std::move(message.body));
  r.attributes = encode_attributes(message.attributes);
  r.trace_header = std::move(message.trace_header);
  r.md5_body = prepared.result.md5_body;
  r.md5_attributes = prepared.result.md5_attributes;
  r.md5_system_attributes = prepared.result.md5_system_attributes;
  r.sender_id = message.sender_id.empty() ? options_.account_id : std::move(message.sender_id);
  r.sent_ms = now_ms;
  r.visible_at_ms = now_ms + 1000LL * message.delay_seconds.value_or(config.delay_seconds);
  r.group_id = std::move(message.group_id);
  r.deduplication_id = std::move(message.deduplication_id);
  r.sequence_number = prepared.result.sequence_number;
  prepared.attributes = std::move(message.attributes);
  return prepared;
}

Task<Result<SendResult>> Queues::send_message(std::string queue_name, NewMessage message) {
  std::vector<NewMessage> one;
  one.push_back(std::move(message));
  auto sent = co_await send_messages(std::move(queue_name), std::move(one));
  if (!sent) co_return std::move(sent).error();
  co_return std::move((*sent)[0]);
}

Task<Result<std::vector<Result<SendResult>>>> Queues::send_messages(
    std::string queue_name, std::vector<NewMessage> messages) {
  auto queue = find(queue_name);
  if (!queue) co_return queue_not_found();
  std::int64_t now = now_ms();
  std::vector<Result<SendResult>> results;
  std::vector<store::MessageRecord> records;
  std::vector<store::DedupRecord> dedup;
  for (auto& message : messages) {
    auto prepared = prepare(*queue, std::move(message), now);
    if (!prepared) {
      results.emplace_back(std::move(prepared).error());
      continue;
    }
    results.emplace_back(prepared->result);
    if (prepared->duplicate) continue;
    if (queue->config.fifo) {
      store::DedupRecord record{prepared->record.deduplication_id, prepared->record.id,
                                prepared->record.sequence_number, now + kDeduplicationWindowMs};
      queue->dedup[record.deduplication_id] = record;
      dedup.push_back(std::move(record));
    }
    records.push_back(prepared->record);
    queue->messages.emplace(prepared->record.seq,
                            Message{std::move(prepared->record), std::move(prepared->attributes)});
  }
  if (records.empty()) co_return results;
  // Expired deduplication records are dropped here, so the map stays within the window.
  if (queue->config.fifo) {
    std::erase_if(queue->dedup,
                  [now](const auto& entry) { return entry.second.expires_ms <= now; });
  }
  std::vector<std::int64_t> seqs;
  for (const auto& record : records) seqs.push_back(record.seq);
  auto stored = co_await store_.insert_messages(queue_name, std::move(records), std::move(dedup),
                                                queue->record.next_sequence);
  if (!stored) {
    for (auto seq : seqs) queue->messages.erase(seq);
    co_return std::move(stored).error();
  }
  wake(*queue);
  co_return results;
}

Queues::ReceivePlan Queues::take(Queue& queue, const ReceiveRequest& request, int visibility,
                                 std::int64_t now) {
  ReceivePlan taken;
  const QueueConfig& config = queue.config;
  std::int64_t retention_ms = config.message_retention_period * 1000;
  std::shared_ptr<Queue> dead_letter;
  if (config.redrive_policy) {
    auto name = name_of_arn(config.redrive_policy->dead_letter_target_arn);
    if (name) dead_letter = find(*name);
    if (dead_letter.get() == &queue) dead_letter.reset();
  }
  std::vector<std::string_view> blocked_groups;
  auto blocked = [&](std::string_view group) {
    return std::find(blocked_groups.begin(), blocked_groups.end(), group) != blocked_groups.end();
  };
  // NOTE: the scan starts at the oldest message on every receive, so its cost grows with the
  // number of in-flight and delayed messages ahead of the first visible one.
  for (auto& [seq, message] : queue.messages) {
    auto& r = message.record;
    if (r.sent_ms + retention_ms <= now) {
      taken.removed.push_back(seq);
      continue;
    }
    if (config.fifo && blocked(r.group_id)) continue;
    if (r.visible_at_ms > now) {
      if (config.fifo) blocked_groups.push_back(r.group_id);
      continue;
    }
    if (dead_letter && r.receive_count >= config.redrive_policy->max_receive_count) {
      taken.moved.push_back(seq);
      continue;
    }
    if (static_cast<int>(taken.messages.size()) >= request.max_messages) break;
    r.receive_count += 1;
    if (r.first_receive_ms == 0) r.first_receive_ms = now;
    r.visible_at_ms = now + 1000LL * visibility;
    r.receipt_token = random_hex(8);
    taken.updates.push_back(store::MessageVisibility{r.seq, r.visible_at_ms, r.receive_count,
                                                     r.first_receive_ms, r.receipt_token});
    ReceivedMessage out;
    out.message_id = r.id;
    out.receipt_handle = make_receipt_handle(r.seq, r.receipt_token, r.id);
    out.md5_body = r.md5_body;
    out.body = r.body;
    out.attributes = message.attributes;
    std::sort(out.attributes.begin(), out.attributes.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    out.trace_header = r.trace_header;
    out.sender_id = r.sender_id;
    out.sent_ms = r.sent_ms;
    out.receive_count = r.receive_count;
    out.first_receive_ms = r.first_receive_ms;
    out.group_id = r.group_id;
    out.deduplication_id = r.deduplication_id;
    out.sequence_number = r.sequence_number;
    taken.messages.push_back(std::move(out));
    // A group's later messages may follow in the same batch, but none while this one is in
    // flight in a later receive.
  }
  for (auto seq : taken.removed) queue.messages.erase(seq);
  if (!taken.moved.empty()) {
    taken.dead_letter = dead_letter;
    for (auto seq : taken.moved) {
      auto node = queue.messages.extract(seq);
      Message message = std::move(node.mapped());
      message.record.seq = dead_letter->next_seq++;
      message.record.visible_at_ms = now;
      message.record.receipt_token.clear();
      taken.moved_records.push_back(message.record);
      dead_letter->messages.emplace(message.record.seq, std::move(message));
    }
  }
  return taken;
}

Task<Status> Queues::commit_taken(std::shared_ptr<Queue> queue, ReceivePlan& taken) {
  if (!taken.updates.empty() || !taken.removed.empty()) {
    auto updated = co_await store_.update_messages(queue->record.name, std::move(taken.updates),
                                                   std::move(taken.removed));
    if (!updated) co_return updated;
  }
  for (std::size_t i = 0; i < taken.moved.size(); ++i) {
    const auto& record = taken.moved_records[i];
    auto moved = co_await store_.move_message(queue->record.name, taken.moved[i],
                                              taken.dead_letter->record.name, record);
    if (!moved) co_return moved;
    LOG_INFO("sqs", "dead_lettered", "queue={} dead_letter_queue={} message_id={}",
             queue->record.name, taken.dead_letter->record.name, record.id);
  }
  if (taken.dead_letter && !taken.moved.empty()) wake(*taken.dead_letter);
  co_return ok_status();
}

Task<Result<std::vector<ReceivedMessage>>> Queues::receive_messages(std::string queue_name,
                                                                    ReceiveRequest request) {
  auto queue = find(queue_name);
  if (!queue) co_return queue_not_found();
  if (request.max_messages < 1 || request.max_messages > kMaxReceiveMessages) {
    co_return invalid_parameter_value(std::to_string(request.max_messages), "MaxNumberOfMessages",
                                      "Must be between 1 and 10, if provided.");
  }
  if (request.visibility_timeout &&
      (*request.visibility_timeout < 0 || *request.visibility_timeout > kMaxVisibilityTimeout)) {
    co_return invalid_parameter_value(std::to_string(*request.visibility_timeout),
                                      "VisibilityTimeout",
                                      "Must be >= 0 and <= 43200, if provided.");
  }
  if (request.wait_seconds &&
      (*request.wait_seconds < 0 || *request.wait_seconds > kMaxWaitSeconds)) {
    co_return invalid_parameter_value(std::to_string(*request.wait_seconds), "WaitTimeSeconds",
                                      "Must be >= 0 and <= 20, if provided.");
  }
  int wait = request.wait_seconds.value_or(queue->config.receive_message_wait_time_seconds);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  while (true) {
    std::int64_t now = now_ms();
    int visibility = request.visibility_timeout.value_or(queue->config.visibility_timeout);
    ReceivePlan taken = take(*queue, request, visibility, now);
    auto committed = co_await commit_taken(queue, taken);
    if (!committed) co_return committed.error();
    if (!taken.messages.empty() || queue->deleted || stopped_) co_return std::move(taken.messages);
    auto steady_now = std::chrono::steady_clock::now();
    if (steady_now >= deadline) co_return std::move(taken.messages);

    // Sleep until the deadline, a wake() from a send or a change, or the earliest time a
    // hidden message becomes visible, whichever comes first.
    auto wake_at = deadline;
    std::int64_t now_after = now_ms();
    for (const auto& [seq, message] : queue->messages) {
      if (message.record.visible_at_ms > now_after) {
        auto at = steady_now + std::chrono::milliseconds(message.record.visible_at_ms - now_after);
        wake_at = std::min(wake_at, at);
      }
    }
    Event event(executor_);
    // Unregisters the event even when the coroutine frame is destroyed while suspended.
    struct Registration {
      std::list<Event*>& waiters;
      std::list<Event*>::iterator position;
      ~Registration() { waiters.erase(position); }
    };
    Registration registration{queue->waiters, queue->waiters.insert(queue->waiters.end(), &event)};
    co_await event.wait_until(wake_at);
    if (!event.is_set() && std::chrono::steady_clock::now() < wake_at) {
      co_return std::vector<ReceivedMessage>{};  // cancelled: the connection went away
    }
  }
}

Task<Result<std::vector<Status>>> Queues::commit_deletes(std::shared_ptr<Queue> queue,
                                                         std::vector<std::string> handles) {
  std::vector<Status> results;
  std::vector<std::int64_t> seqs;
  std::int64_t now = now_ms();
  for (const auto& handle : handles) {
    auto parsed = parse_receipt_handle(handle);
    if (!parsed) {
      results.emplace_back(receipt_handle_invalid(handle));
      continue;
    }
    auto it = queue->messages.find(parsed->seq);
    if (it == queue->messages.end()) {
      results.emplace_back(ok_status());
      continue;
    }
    auto& r = it->second.record;
    bool current = r.receipt_token == parsed->token;
    if (queue->config.fifo && (!current || r.visible_at_ms <= now)) {
      results.emplace_back(receipt_handle_invalid(handle, "The receipt handle has expired."));
      continue;
    }
    // Standard queues: a stale handle of a message that another receive has in flight is
    // accepted without deleting the message.
    if (!current && r.visible_at_ms > now) {
      results.emplace_back(ok_status());
      continue;
    }
    seqs.push_back(parsed->seq);
    queue->messages.erase(it);
    results.emplace_back(ok_status());
  }
  if (!seqs.empty()) {
    auto deleted = co_await store_.delete_messages(queue->record.name, std::move(seqs));
    if (!deleted) co_return std::move(deleted).error();
  }
  co_return results;
}

Task<Status> Queues::delete_message(std::string queue_name, std::string receipt_handle) {
  std::vector<std::string> one{std::move(receipt_handle)};
  auto results = co_await delete_messages(std::move(queue_name), std::move(one));
  if (!results) co_return std::move(results).error();
  co_return std::move((*results)[0]);
}

Task<Result<std::vector<Status>>> Queues::delete_messages(std::string queue_name,
                                                          std::vector<std::string> handles) {
  auto queue = find(queue_name);
  if (!queue) co_return queue_not_found();
  // A FIFO group's next message becomes available once its in-flight one is deleted.
  auto results = co_await commit_deletes(queue, std::move(handles));
  if (queue->config.fifo) wake(*queue);
  co_return results;
}

Task<Status> Queues::change_visibility(std::string queue_name, std::string receipt_handle,
                                       int seconds) {
  std::vector<std::pair<std::string, int>> one{{std::move(receipt_handle), seconds}};
  auto results = co_await change_visibilities(std::move(queue_name), std::move(one));
  if (!results) co_return std::move(results).error();
  co_return std::move((*results)[0]);
}

Task<Result<std::vector<Status>>> Queues::change_visibilities(
    std::string queue_name, std::vector<std::pair<std::string, int>> handles_and_seconds) {
  auto queue = find(queue_name);
  if (!queue) co_return queue_not_found();
  std::int64_t now = now_ms();
  std::vector<Status> results;
  std::vector<store::MessageVisibility> updates;
  for (const auto& [handle, seconds] : handles_and_seconds) {
    if (seconds < 0 || seconds > kMaxVisibilityTimeout) {
      results.emplace_back(invalid_parameter_value(
          std::to_string(seconds), "VisibilityTimeout",
          "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"));
      continue;
    }
    auto parsed = parse_receipt_handle(handle);
    if (!parsed) {
      results.emplace_back(receipt_handle_invalid(handle));
      continue;
    }
    auto it = queue->messages.find(parsed->seq);
    if (it == queue->messages.end() || it->second.record.receipt_token != parsed->token) {
      results.emplace_back(receipt_handle_invalid(handle));
      continue;
    }
    auto& r = it->second.record;
    if (r.receive_count == 0 || r.visible_at_ms <= now) {
      results.emplace_back(sqs_error("AWS.SimpleQueueService.MessageNotInflight",
                                     "Message does not exist or is not available for visibility "
                                     "timeout change."));
      continue;
    }
    r.visible_at_ms = now + 1000LL * seconds;
    updates.push_back(store::MessageVisibility{r.seq, r.visible_at_ms, r.receive_count,
                                               r.first_receive_ms, r.receipt_token});
    results.emplace_back(ok_status());
  }
  if (!updates.empty()) {
    auto stored = co_await store_.update_messages(queue_name, std::move(updates), {});
    if (!stored) co_return std::move(stored).error();
    wake(*queue);
  }
  co_return results;
}

Task<Result<std::string>> Queues::send(std::string_view arn, store::OutboundMessage message) {
  auto name = name_of_arn(arn);
  auto queue = name ? find(*name) : nullptr;
  if (!queue) {
    co_return make_error(Errc::not_found, fmt::format("queue '{}' does not exist", arn));
  }
  NewMessage outgoing;
  outgoing.body = std::move(message.body);
  outgoing.attributes = std::move(message.attributes);
  // A standard queue subscribed to a FIFO topic gets the messages without their FIFO fields,
  // as SNS delivers them.
  if (queue->config.fifo) {
    outgoing.group_id = std::move(message.group_id);
    outgoing.deduplication_id = std::move(message.deduplication_id);
  }
  auto sent = co_await send_message(std::move(*name), std::move(outgoing));
  if (!sent) {
    Error error = std::move(sent).error();
    if (error.code != Errc::io) error.code = Errc::invalid_parameter;
    co_return error;
  }
  co_return std::move(sent->message_id);
}

}  // namespace lambent::services::sqs
