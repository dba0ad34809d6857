#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/message_targets.h"
#include "lambent/store/queue_store.h"

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// SQS-compatible queues: the state and rules behind the SQS API, callable in process.
//
// The SQS service (sqs_service.h) decodes requests and calls this class. The Lambda event
// source mapping poller calls it directly, without HTTP. It calls receive_messages() with a
// long poll, invokes the function, then calls delete_messages() or change_visibility() with
// the receipt handles. It reads depth() to scale and describe() for VisibilityTimeout and
// RedrivePolicy.
//
// Every queue and message lives in memory and in the QueueStore. Each change (send, receive,
// delete, visibility change, dead-letter move) is committed to SQLite before the call resumes,
// so every change reported as done survives a crash. All methods run on the executor
// given to the constructor (the control-plane thread) and are not thread-safe.
//
// Errors carry the SQS query error code in Error::type (errors.h), for example
// "AWS.SimpleQueueService.NonExistentQueue" for an unknown queue name.
namespace lambent::services::sqs {

inline constexpr std::int64_t kMaxMessageBytes = 262144;
inline constexpr int kMaxReceiveMessages = 10;
inline constexpr int kMaxWaitSeconds = 20;
inline constexpr int kMaxVisibilityTimeout = 43200;
inline constexpr int kMaxDelaySeconds = 900;
inline constexpr std::int64_t kDeduplicationWindowMs = 5 * 60 * 1000;

struct RedrivePolicy {
  std::string dead_letter_target_arn;
  int max_receive_count = 0;
};

// The queue attributes the engine acts on, parsed from the stored attribute strings.
struct QueueConfig {
  bool fifo = false;
  bool content_based_deduplication = false;
  int delay_seconds = 0;
  std::int64_t maximum_message_size = kMaxMessageBytes;
  std::int64_t message_retention_period = 345600;  // seconds
  int receive_message_wait_time_seconds = 0;
  int visibility_timeout = 30;
  std::optional<RedrivePolicy> redrive_policy;
};

struct QueueInfo {
  std::string name;
  std::string arn;
  QueueConfig config;
  std::map<std::string, std::string> attributes;  // settable attributes, as GetQueueAttributes
  std::map<std::string, std::string> tags;
  std::int64_t created_s = 0;
  std::int64_t modified_s = 0;
};

// ApproximateNumberOfMessages, ...NotVisible (received, in flight) and ...Delayed.
struct QueueDepth {
  std::int64_t visible = 0;
  std::int64_t in_flight = 0;
  std::int64_t delayed = 0;
};

struct NewMessage {
  std::string body;
  std::vector<store::MessageAttribute> attributes;
  std::string trace_header;          // AWSTraceHeader system attribute; empty when none
  std::optional<int> delay_seconds;  // the queue's DelaySeconds when unset
  std::string group_id;              // required on FIFO queues
  std::string deduplication_id;      // FIFO; empty uses content-based deduplication
  std::string sender_id;             // SenderId attribute: the caller's access key id
};

struct SendResult {
  std::string message_id;
  std::string md5_body;
  std::string md5_attributes;         // empty when the message has no attributes
  std::string md5_system_attributes;  // empty without AWSTraceHeader
  std::string sequence_number;        // FIFO only
};

struct ReceiveRequest {
  int max_messages = 1;                   // 1..10
  std::optional<int> visibility_timeout;  // 0..43200 s; the queue's VisibilityTimeout when unset
  std::optional<int> wait_seconds;        // 0..20 s; the queue's ReceiveMessageWaitTimeSeconds
};

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string md5_body;
  std::shared_ptr<const std::string> body;
  std::vector<store::MessageAttribute> attributes;  // every message attribute, sorted by name
  std::string trace_header;
  std::string sender_id;
  std::int64_t sent_ms = 0;
  std::int64_t receive_count = 0;  // including this receive
  std::int64_t first_receive_ms = 0;
  std::string group_id;
  std::string deduplication_id;
  std::string sequence_number;
};

struct QueuesOptions {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  // Milliseconds since the Unix epoch for sent times, visibility and retention; the system
  // clock when unset. Long-poll deadlines use the steady clock regardless.
  std::function<std::int64_t()> clock = {};
};

class Queues final : public store::MessageTargets {
 public:
  Queues(store::QueueStore& store, asio::any_io_executor executor, QueuesOptions options);
  ~Queues() override;

  // Loads every queue and message from the store. Blocking; start-up only.
  Status load();
  // Ends every long poll at once (each returns what it has, usually nothing). Later receives
  // do not wait.
  void stop();

  const QueuesOptions& options() const { return options_; }
  std::string arn_of(std::string_view name) const;
  // The queue name of an SQS ARN of this region and account, or nullopt.
  std::optional<std::string> name_of_arn(std::string_view arn) const;

  // --- queues ---

  // Creates a queue, or returns the existing one when every given attribute has the same value
  // (QueueAlreadyExists otherwise). Validates the name and each attribute against AWS's rules.
  Task<Result<QueueInfo>> create_queue(std::string name,
                                       std::map<std::string, std::string> attributes,
                                       std::map<std::string, std::string> tags);
  // The queue's attributes and tags, or NonExistentQueue.
  Result<QueueInfo> describe(std::string_view name) const;
  Result<QueueDepth> depth(std::string_view name) const;
  // Queue names in lexicographic order, all of them or those starting with `prefix`.
  std::vector<std::string> list_queues(std::string_view prefix) const;
  // Names of the queues whose RedrivePolicy names `name` as dead-letter queue, sorted.
  std::vector<std::string> dead_letter_sources(std::string_view name) const;
  Task<Status> delete_queue(std::string name);
  Task<Status> set_attributes(std::string name, std::map<std::string, std::string> attributes);
  Task<Status> tag_queue(std::string name, std::map<std::string, std::string> tags);
  Task<Status> untag_queue(std::string name, std::vector<std::string> keys);
  // Deletes every message; PurgeQueueInProgress within 60 s of the previous purge.
  Task<Status> purge(std::string name);

  // --- messages ---

  // Validates and stores one message and resumes once it is durable. Long polls of the queue
  // wake at once. On a FIFO queue, a deduplication id seen in the last 5 minutes returns the
  // first message's id and sequence number and stores nothing.
  Task<Result<SendResult>> send_message(std::string queue, NewMessage message);
  // Sends several messages in one transaction; the API allows 10 per batch, this method sets no
  // limit. The outer Result fails for the queue or the commit. Each entry has its own result,
  // so an invalid entry does not stop the others.
  Task<Result<std::vector<Result<SendResult>>>> send_messages(std::string queue,
                                                              std::vector<NewMessage> messages);

  // Receives up to max_messages visible messages, hides each for the visibility timeout and
  // counts the receive, durably. When none is visible it waits up to wait_seconds. It returns
  // as soon as a send, an expired visibility timeout or an ended delay makes one visible, and
  // the wait uses timers, not polling. Expired messages (MessageRetentionPeriod) are deleted on
  // the way. A message already received maxReceiveCount times moves to the RedrivePolicy's
  // dead-letter queue with its id, body, attributes and sent time instead of being returned.
  // On a FIFO queue, messages come in send order per group, and a group with a message in
  // flight returns none of its later messages. Cancelling the awaiting coroutine ends a wait
  // with an empty result.
  Task<Result<std::vector<ReceivedMessage>>> receive_messages(std::string queue,
                                                              ReceiveRequest request);

  // Deletes the message of a receipt handle. A handle of a message already deleted succeeds; a
  // malformed one fails with ReceiptHandleIsInvalid. On a standard queue, an old handle of a
  // message received again since is accepted without deleting it, as AWS does. On a FIFO queue
  // it fails with ReceiptHandleIsInvalid.
  Task<Status> delete_message(std::string queue, std::string receipt_handle);
  // Deletes several messages in one transaction; one Status per handle, in order.
  Task<Result<std::vector<Status>>> delete_messages(std::string queue,
                                                    std::vector<std::string> receipt_handles);
  // Makes an in-flight message visible again after `seconds` (0..43200) from now.
  // MessageNotInflight when it is not in flight; ReceiptHandleIsInvalid for a malformed or
  // stale handle.
  Task<Status> change_visibility(std::string queue, std::string receipt_handle, int seconds);
  Task<Result<std::vector<Status>>> change_visibilities(
      std::string queue, std::vector<std::pair<std::string, int>> handles_and_seconds);

  // store::MessageTargets: sends to the queue an SQS ARN names (async destinations, bucket
  // notifications, topic subscriptions).
  Task<Result<std::string>> send(std::string_view arn, store::OutboundMessage message) override;

 private:
  struct Message {
    store::MessageRecord record;
    std::vector<store::MessageAttribute> attributes;
  };
  struct Queue {
    store::QueueRecord record;
    QueueConfig config;
    std::map<std::int64_t, Message> messages;  // by seq, so in send order
    std::unordered_map<std::string, store::DedupRecord> dedup;
    std::list<Event*> waiters;  // long polls parked on this queue
    std::int64_t next_seq = 1;
    std::int64_t last_purge_ms = 0;
    bool deleted = false;
  };
  struct Prepared;
  struct ReceivePlan;

  std::int64_t now_ms() const;
  std::shared_ptr<Queue> find(std::string_view name) const;
  Result<QueueConfig> check_attributes(const std::map<std::string, std::string>& attributes,
                                       bool fifo, bool creating,
                                       std::map<std::string, std::string>* normalized) const;
  Result<Prepared> prepare(Queue& queue, NewMessage message, std::int64_t now_ms);
  ReceivePlan take(Queue& queue, const ReceiveRequest& request, int visibility,
                   std::int64_t now_ms);
  Task<Status> commit_taken(std::shared_ptr<Queue> queue, ReceivePlan& taken);
  Task<Result<std::vector<Status>>> commit_deletes(std::shared_ptr<Queue> queue,
                                                   std::vector<std::string> handles);
  static void wake(Queue& queue);

  store::QueueStore& store_;
  asio::any_io_executor executor_;
  QueuesOptions options_;
  std::map<std::string, std::shared_ptr<Queue>, std::less<>> queues_;
  bool stopped_ = false;
};

// Computes MD5OfMessageAttributes as AWS documents it. For each attribute in name order, the
// digest covers the 4-byte big-endian length and bytes of the name and of the data type. Then
// come one transport byte (1 for String and Number, 2 for Binary) and the length and bytes of
// the value. Returns lowercase hex, or empty for no attributes.
std::string md5_of_attributes(const std::vector<store::MessageAttribute>& attributes);
std::string md5_hex(std::string_view data);

}  // namespace lambent::services::sqs
