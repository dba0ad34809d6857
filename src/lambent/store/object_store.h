#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/sqlite.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The object store behind the S3 service: buckets, objects, multipart uploads and a
// notification outbox in SQLite, object bodies as files under <data-dir>/objects/.
//
// A body is written to a temporary file in objects/tmp/ (hashed and written on the blocking
// pool), fsynced, renamed into objects/ and only then named by a committed row, so an object
// becomes visible whole or not at all. A replaced or deleted object's file is removed after the
// commit; a reader holding an ObjectFile keeps reading the old bytes. open() removes temporary
// files and files no row names, which is what a crash leaves behind.
//
// Coroutines run on the control-plane executor; SQL runs on the Sqlite writer thread and file
// work on the blocking pool.
namespace lambent::store {

// Headers stored with an object and returned by GetObject and HeadObject.
struct ObjectHeaders {
  std::string content_type;
  std::string content_encoding;
  std::string content_disposition;
  std::string content_language;
  std::string cache_control;
  std::string expires;
  // x-amz-meta-* names without the prefix, lowercase, in the order received.
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct ObjectRecord {
  std::string bucket;
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // hex MD5, or MD5 of the part MD5s + "-N"; without quotes
  std::int64_t last_modified_ms = 0;
  ObjectHeaders headers;
  std::string file;  // name under objects/
};

struct BucketRecord {
  std::string name;
  std::string region;
  std::int64_t created_ms = 0;
  std::string notification;  // the service's encoding of the configuration; empty when none
};

struct UploadRecord {
  std::string upload_id;
  std::string bucket;
  std::string key;
  std::int64_t initiated_ms = 0;
  ObjectHeaders headers;
};

struct PartRecord {
  int number = 0;
  std::uint64_t size = 0;
  std::string etag;  // hex MD5
  std::int64_t last_modified_ms = 0;
  std::string file;
};

// A notification waiting for delivery: `target` is a function, queue or topic ARN.
struct OutboxEntry {
  std::int64_t id = 0;
  std::string target;
  std::string payload;
};

// A body written to a temporary file and not yet part of any object.
struct WrittenBody {
  std::string temp_name;
  std::uint64_t size = 0;
  std::string md5;         // 16 raw bytes
  std::string sha256_hex;  // empty unless asked for
};

// An open object body. The descriptor keeps the bytes readable after the object is replaced.
class ObjectFile {
 public:
  explicit ObjectFile(int fd) : fd_(fd) {}
  ~ObjectFile();
  ObjectFile(const ObjectFile&) = delete;
  ObjectFile& operator=(const ObjectFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct OpenObject {
  ObjectRecord record;
  std::shared_ptr<ObjectFile> file;
};

struct ListQuery {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string after;  // keys and common prefixes up to and including this are skipped
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectRecord> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned
};

struct UploadListQuery {
  std::string bucket;
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  int max_uploads = 1000;
};

class ObjectStore;

// Streams one body into a temporary file. Not thread-safe; one write at a time. Destroying an
// unfinished writer removes its file.
class ObjectWriter {
 public:
  ~ObjectWriter();
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Appends `data`, which must stay valid until the write resumes. Fails with Errc::io.
  Task<Status> write(std::string_view data);
  // Fsyncs and closes the file; the body is then ready for a commit.
  Task<Result<WrittenBody>> finish();

 private:
  friend class ObjectStore;
  struct State;
  ObjectWriter(asio::thread_pool& pool, std::unique_ptr<State> state);
  asio::thread_pool& pool_;
  std::unique_ptr<State> state_;
};

class ObjectStore {
 public:
  ObjectStore(Sqlite& db, asio::thread_pool& blocking, std::filesystem::path dir);

  // Creates the tables and folders and removes what an interrupted write left. Blocking, so it
  // runs at start-up only.
  Status open();
  Result<std::vector<BucketRecord>> load_buckets();

  // Fails with Errc::conflict when the bucket exists.
  Task<Status> create_bucket(BucketRecord bucket);
  // Fails with Errc::not_found when there is no such bucket and Errc::conflict when it contains
  // objects. Its multipart uploads are aborted.
  Task<Status> delete_bucket(std::string name);
  // Stores a notification configuration and queues `events` in the same transaction.
  Task<Status> set_notification(std::string bucket, std::string config,
                                std::vector<OutboxEntry> events);

  // A writer for a new body. `sha256`: also compute the body's SHA-256.
  Task<Result<std::unique_ptr<ObjectWriter>>> writer(bool sha256);
  // Copies `size` bytes of an open object, from `offset`, into a new temporary body.
  Task<Result<WrittenBody>> copy_body(std::shared_ptr<ObjectFile> source, std::uint64_t offset,
                                      std::uint64_t size);
  // Concatenates parts into a new temporary body.
  Task<Result<WrittenBody>> concatenate(std::vector<PartRecord> parts);
  // Discards a body that will not be committed.
  Task<void> discard(WrittenBody body);

  // Makes `body` the object record.bucket/record.key (record.file is set here) and queues
  // `events`, all in one transaction. With `upload_id`, that upload and its parts end in the
  // same transaction. Fails with Errc::not_found (type NoSuchBucket or NoSuchUpload).
  Task<Status> commit_object(ObjectRecord record, WrittenBody body, std::vector<OutboxEntry> events,
                             std::string upload_id = {});
  // Deletes an object; queues `events` only when it existed. Returns whether it existed.
  Task<Result<bool>> delete_object(std::string bucket, std::string key,
                                   std::vector<OutboxEntry> events);
  // Fails with Errc::not_found (type NoSuchKey) when there is no such object.
  Task<Result<ObjectRecord>> find_object(std::string bucket, std::string key);
  Task<Result<OpenObject>> open_object(std::string bucket, std::string key);
  // Reads up to buffer.size() bytes at `offset` on the blocking pool.
  Task<Result<std::size_t>> read(std::shared_ptr<ObjectFile> file, std::uint64_t offset,
                                 std::span<char> buffer);
  Task<Result<ListPage>> list(ListQuery query);

  // Multipart uploads. Missing uploads fail with Errc::not_found, type NoSuchUpload.
  Task<Status> create_upload(UploadRecord upload);
  Task<Result<UploadRecord>> find_upload(std::string upload_id);
  Task<Status> put_part(std::string upload_id, PartRecord part, WrittenBody body);
  // Parts with a number above `after`, in order; at most `limit` (0: all).
  Task<Result<std::vector<PartRecord>>> list_parts(std::string upload_id, int after, int limit);
  Task<Status> abort_upload(std::string upload_id);
  // Uploads ordered by key and then initiation; at most max_uploads + 1, so the caller can see
  // whether the list is truncated.
  Task<Result<std::vector<UploadRecord>>> list_uploads(UploadListQuery query);

  // The oldest `limit` notifications waiting; and removal of one once delivered.
  Task<Result<std::vector<OutboxEntry>>> outbox(int limit);
  Task<Status> outbox_done(std::int64_t id);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  Task<Status> remove_files(std::vector<std::string> names);
  Task<Result<std::string>> place(WrittenBody body, std::string prefix);

  Sqlite& db_;
  asio::thread_pool& blocking_;
  std::filesystem::path dir_;
};

}  // namespace lambent::store
