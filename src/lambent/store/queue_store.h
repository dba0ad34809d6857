#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

// Persistence of SQS-compatible queues: one row per queue (settable attributes, tags, times)
// and one row per stored message, plus the FIFO deduplication records of the last 5 minutes.
// The tables hold the durable state only. services::sqs::Queues keeps the working copy in
// memory and writes every change here before it responds. Writes resume once their group commit
// is durable; SQL runs on the Sqlite writer thread.
namespace lambent::store {

struct QueueRecord {
  std::string name;
  std::map<std::string, std::string> attributes;  // settable attributes as AWS strings
  std::map<std::string, std::string> tags;
  std::int64_t created_s = 0;
  std::int64_t modified_s = 0;
  std::int64_t next_sequence = 1;  // FIFO SequenceNumber counter
};

// A message as stored. `seq` orders the messages of a queue (send order) and is unique per
// queue; receipt_token changes on every receive, so an old receipt handle can be recognised.
struct MessageRecord {
  std::int64_t seq = 0;
  std::string id;
  std::shared_ptr<const std::string> body;
  std::string attributes;    // message attributes, encoded by services::sqs (JSON)
  std::string trace_header;  // AWSTraceHeader system attribute, empty when none
  std::string md5_body;
  std::string md5_attributes;
  std::string md5_system_attributes;
  std::string sender_id;
  std::int64_t sent_ms = 0;
  std::int64_t visible_at_ms = 0;
  std::int64_t receive_count = 0;
  std::int64_t first_receive_ms = 0;
  std::string group_id;
  std::string deduplication_id;
  std::string sequence_number;
  std::string receipt_token;
};

struct DedupRecord {
  std::string deduplication_id;
  std::string message_id;
  std::string sequence_number;
  std::int64_t expires_ms = 0;
};

// A receive or visibility change of one stored message.
struct MessageVisibility {
  std::int64_t seq = 0;
  std::int64_t visible_at_ms = 0;
  std::int64_t receive_count = 0;
  std::int64_t first_receive_ms = 0;
  std::string receipt_token;
};

struct StoredQueue {
  QueueRecord queue;
  std::vector<MessageRecord> messages;  // in seq order
  std::vector<DedupRecord> dedup;
};

class QueueStore {
 public:
  // Creates the tables when they are missing. Blocking; start-up only. Fails with Errc::io.
  static Result<std::unique_ptr<QueueStore>> open(Sqlite& db);

  // Every queue with its messages and unexpired deduplication records. Blocking; start-up only.
  Result<std::vector<StoredQueue>> load(std::int64_t now_ms);

  // Inserts or replaces the queue row (attributes, tags, times, sequence counter).
  Task<Status> put_queue(QueueRecord queue);
  // Deletes the queue with its messages and deduplication records.
  Task<Status> delete_queue(std::string name);

  // Inserts messages and deduplication records and stores the queue's sequence counter, in one
  // transaction.
  Task<Status> insert_messages(std::string queue, std::vector<MessageRecord> messages,
                               std::vector<DedupRecord> dedup, std::int64_t next_sequence);
  // Records receives and visibility changes, and deletes the messages `removed` names (expired
  // ones found while receiving), in one transaction.
  Task<Status> update_messages(std::string queue, std::vector<MessageVisibility> updates,
                               std::vector<std::int64_t> removed);
  Task<Status> delete_messages(std::string queue, std::vector<std::int64_t> seqs);
  // Moves a message to a dead-letter queue: deletes `seq` from `from` and inserts `moved`
  // into `to`, in one transaction.
  Task<Status> move_message(std::string from, std::int64_t seq, std::string to,
                            MessageRecord moved);
  // Deletes every message of the queue.
  Task<Status> purge(std::string queue);

 private:
  explicit QueueStore(Sqlite& db) : db_(db) {}
  Sqlite& db_;
};

}  // namespace lambent::store
