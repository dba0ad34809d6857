#include "lambent/store/object_store.h"

#include "lambent/base/log.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <unordered_set>

namespace lambent::store {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

Status create_schema(sqlite3* db) {
  return exec(db, R"sql(
CREATE TABLE IF NOT EXISTS s3_buckets (
  name TEXT PRIMARY KEY,
  region TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  notification TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS s3_objects (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  headers TEXT NOT NULL,
  file TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_uploads (
  upload_id TEXT PRIMARY KEY,
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  initiated_ms INTEGER NOT NULL,
  headers TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS s3_uploads_by_key ON s3_uploads (bucket, key, initiated_ms);
CREATE TABLE IF NOT EXISTS s3_parts (
  upload_id TEXT NOT NULL,
  number INTEGER NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  last_modified_ms INTEGER NOT NULL,
  file TEXT NOT NULL,
  PRIMARY KEY (upload_id, number)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS s3_outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target TEXT NOT NULL,
  payload TEXT NOT NULL
);
)sql");
}

std::string encode_headers(const ObjectHeaders& h) {
  json::array metadata;
  for (const auto& [name, value] : h.metadata) metadata.push_back(json::array{name, value});
  return json::serialize(json::object{{"type", h.content_type},
                                      {"encoding", h.content_encoding},
                                      {"disposition", h.content_disposition},
                                      {"language", h.content_language},
                                      {"cache", h.cache_control},
                                      {"expires", h.expires},
                                      {"meta", std::move(metadata)}});
}

ObjectHeaders decode_headers(std::string_view text) {
  ObjectHeaders h;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return h;
  const auto& o = v.get_object();
  auto field = [&o](const char* name) -> std::string {
    auto* value = o.if_contains(name);
    return value && value->is_string() ? std::string(value->get_string()) : std::string();
  };
  h.content_type = field("type");
  h.content_encoding = field("encoding");
  h.content_disposition = field("disposition");
  h.content_language = field("language");
  h.cache_control = field("cache");
  h.expires = field("expires");
  if (auto* meta = o.if_contains("meta"); meta && meta->is_array()) {
    for (const auto& pair : meta->get_array()) {
      if (!pair.is_array() || pair.get_array().size() != 2) continue;
      h.metadata.emplace_back(std::string(pair.get_array()[0].as_string()),
                              std::string(pair.get_array()[1].as_string()));
    }
  }
  return h;
}

Error no_such_bucket(std::string_view bucket) {
  return Error{Errc::not_found, "The specified bucket does not exist", "NoSuchBucket"};
}

Error no_such_upload() {
  return Error{Errc::not_found,
               "The specified upload does not exist. The upload ID may be invalid, or the upload "
               "may have been aborted or completed.",
               "NoSuchUpload"};
}

bool bucket_exists(sqlite3* db, const std::string& bucket) {
  Statement st(db, "SELECT 1 FROM s3_buckets WHERE name = ?1");
  st.bind(1, bucket);
  return st.step();
}

Status insert_events(sqlite3* db, const std::vector<OutboxEntry>& events) {
  for (const auto& event : events) {
    Statement st(db, "INSERT INTO s3_outbox (target, payload) VALUES (?1, ?2)");
    st.bind(1, event.target).bind(2, event.payload);
    st.step();
    if (st.failed()) return st.error();
  }
  return ok_status();
}

constexpr const char* kObjectColumns = "bucket, key, size, etag, last_modified_ms, headers, file";

ObjectRecord read_object(Statement& st) {
  ObjectRecord r;
  r.bucket = st.column_text(0);
  r.key = st.column_text(1);
  r.size = static_cast<std::uint64_t>(st.column_int(2));
  r.etag = st.column_text(3);
  r.last_modified_ms = st.column_int(4);
  r.headers = decode_headers(st.column_text(5));
  r.file = st.column_text(6);
  return r;
}

Result<ObjectRecord> select_object(sqlite3* db, const std::string& bucket, const std::string& key) {
  std::string sql =
      std::string("SELECT ") + kObjectColumns + " FROM s3_objects WHERE bucket = ?1 AND key = ?2";
  Statement st(db, sql.c_str());
  st.bind(1, bucket).bind(2, key);
  if (st.step()) return read_object(st);
  if (st.failed()) return st.error();
  if (!bucket_exists(db, bucket)) return no_such_bucket(bucket);
  return Error{Errc::not_found, "The specified key does not exist.", "NoSuchKey"};
}

// Whether `after` itself is a common prefix, so keys under it were already rolled up.
bool is_common_prefix(const ListQuery& q, const std::string& value) {
  if (q.delimiter.empty() || !value.starts_with(q.prefix)) return false;
  auto pos = value.find(q.delimiter, q.prefix.size());
  return pos != std::string::npos && pos + q.delimiter.size() == value.size();
}

// Every key that starts with `prefix` sorts below prefix + 0xFF, a byte UTF-8 never uses.
std::string past_prefix(const std::string& prefix) { return prefix + '\xff'; }

}  // namespace

ObjectStore::ObjectStore(Sqlite& db, asio::thread_pool& blocking, fs::path dir)
    : db_(db), blocking_(blocking), dir_(std::move(dir)) {}

Status ObjectStore::open() {
  std::error_code ec;
  fs::create_directories(dir_ / "tmp", ec);
  if (ec)
    return make_error(Errc::io, "cannot create " + (dir_ / "tmp").string() + ": " + ec.message());
  auto created = db_.call_blocking(create_schema);
  if (!created) return created;
  // Names committed rows use; anything else in objects/ is left from an interrupted write.
  auto names = db_.call_blocking([](sqlite3* db) -> Result<std::unordered_set<std::string>> {
    std::unordered_set<std::string> out;
    for (const char* sql : {"SELECT file FROM s3_objects", "SELECT file FROM s3_parts"}) {
      Statement st(db, sql);
      while (st.step()) out.emplace(st.column_text(0));
      if (st.failed()) return st.error();
    }
    return out;
  });
  if (!names) return names.error();
  std::size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "tmp", ec)) {
    fs::remove(entry.path(), ec);
    ++removed;
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.is_directory()) continue;
    if (names->contains(entry.path().filename().string())) continue;
    fs::remove(entry.path(), ec);
    ++removed;
  }
  if (removed > 0) LOG_INFO("store", "object_files_removed", "count={}", removed);
  return ok_status();
}

Result<std::vector<BucketRecord>> ObjectStore::load_buckets() {
  return db_.call_blocking([](sqlite3* db) -> Result<std::vector<BucketRecord>> {
    Statement st(db, "SELECT name, region, created_ms, notification FROM s3_buckets ORDER BY name");
    std::vector<BucketRecord> out;
    while (st.step()) {
      out.push_back({std::string(st.column_text(0)), std::string(st.column_text(1)),
                     st.column_int(2), std::string(st.column_text(3))});
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> ObjectStore::create_bucket(BucketRecord bucket) {
  auto job = [bucket = std::move(bucket)](sqlite3* db) -> Status {
    if (bucket_exists(db, bucket.name)) {
      return Error{Errc::conflict,
                   "Your previous request to create the named bucket succeeded "
                   "and you already own it.",
                   "BucketAlreadyOwnedByYou"};
    }
    Statement st(db, "INSERT INTO s3_buckets (name, region, created_ms) VALUES (?1, ?2, ?3)");
    st.bind(1, bucket.name).bind(2, bucket.region).bind(3, bucket.created_ms);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> ObjectStore::delete_bucket(std::string name) {
  auto job = [name](sqlite3* db) -> Result<std::vector<std::string>> {
    if (!bucket_exists(db, name)) return no_such_bucket(name);
    Statement any(db, "SELECT 1 FROM s3_objects WHERE bucket = ?1 LIMIT 1");
    any.bind(1, name);
    if (any.step()) {
      return Error{Errc::conflict, "The bucket you tried to delete is not empty", "BucketNotEmpty"};
    }
    std::vector<std::string> files;
    Statement parts(db,
                    "SELECT file FROM s3_parts WHERE upload_id IN "
                    "(SELECT upload_id FROM s3_uploads WHERE bucket = ?1)");
    parts.bind(1, name);
    while (parts.step()) files.emplace_back(parts.column_text(0));
    for (const char* sql :
         {"DELETE FROM s3_parts WHERE upload_id IN (SELECT upload_id FROM s3_uploads WHERE "
          "bucket = ?1)",
          "DELETE FROM s3_uploads WHERE bucket = ?1", "DELETE FROM s3_buckets WHERE name = ?1"}) {
      Statement st(db, sql);
      st.bind(1, name);
      st.step();
      if (st.failed()) return st.error();
    }
    return files;
  };
  auto files = co_await db_.call<std::vector<std::string>>(std::move(job));
  if (!files) co_return files.error();
  co_return co_await remove_files(std::move(*files));
}

Task<Status> ObjectStore::set_notification(std::string bucket, std::string config,
                                           std::vector<OutboxEntry> events) {
  auto job = [bucket = std::move(bucket), config = std::move(config),
              events = std::move(events)](sqlite3* db) -> Status {
    if (!bucket_exists(db, bucket)) return no_such_bucket(bucket);
    Statement st(db, "UPDATE s3_buckets SET notification = ?2 WHERE name = ?1");
    st.bind(1, bucket).bind(2, config);
    st.step();
    if (st.failed()) return st.error();
    return insert_events(db, events);
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> ObjectStore::commit_object(ObjectRecord record, WrittenBody body,
                                        std::vector<OutboxEntry> events, std::string upload_id) {
  auto placed = co_await place(std::move(body), "o-");
  if (!placed) co_return placed.error();
  record.file = *placed;
  auto job = [record = std::move(record), events = std::move(events),
              upload_id = std::move(upload_id)](sqlite3* db) -> Result<std::vector<std::string>> {
    if (!bucket_exists(db, record.bucket)) return no_such_bucket(record.bucket);
    std::vector<std::string> old_files;
    if (!upload_id.empty()) {
      Statement upload(db, "SELECT 1 FROM s3_uploads WHERE upload_id = ?1");
      upload.bind(1, upload_id);
      if (!upload.step()) return no_such_upload();
      Statement parts(db, "SELECT file FROM s3_parts WHERE upload_id = ?1");
      parts.bind(1, upload_id);
      while (parts.step()) old_files.emplace_back(parts.column_text(0));
      for (const char* sql : {"DELETE FROM s3_parts WHERE upload_id = ?1",
                              "DELETE FROM s3_uploads WHERE upload_id = ?1"}) {
        Statement st(db, sql);
        st.bind(1, upload_id);
        st.step();
        if (st.failed()) return st.error();
      }
    }
    Statement old(db, "SELECT file FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    old.bind(1, record.bucket).bind(2, record.key);
    if (old.step()) old_files.emplace_back(old.column_text(0));
    Statement st(db,
                 "INSERT OR REPLACE INTO s3_objects (bucket, key, size, etag, last_modified_ms, "
                 "headers, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    st.bind(1, record.bucket)
        .bind(2, record.key)
        .bind(3, static_cast<std::int64_t>(record.size))
        .bind(4, record.etag)
        .bind(5, record.last_modified_ms)
        .bind(6, encode_headers(record.headers))
        .bind(7, record.file);
    st.step();
    if (st.failed()) return st.error();
    if (auto inserted = insert_events(db, events); !inserted) return inserted.error();
    return old_files;
  };
  auto old_files = co_await db_.call<std::vector<std::string>>(std::move(job));
  if (!old_files) {
    std::vector<std::string> placed_files{*placed};
    co_await remove_files(std::move(placed_files));
    co_return old_files.error();
  }
  co_return co_await remove_files(std::move(*old_files));
}

Task<Result<bool>> ObjectStore::delete_object(std::string bucket, std::string key,
                                              std::vector<OutboxEntry> events) {
  auto job = [bucket = std::move(bucket), key = std::move(key),
              events = std::move(events)](sqlite3* db) -> Result<std::string> {
    if (!bucket_exists(db, bucket)) return no_such_bucket(bucket);
    Statement old(db, "SELECT file FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    old.bind(1, bucket).bind(2, key);
    if (!old.step()) return std::string();
    std::string file(old.column_text(0));
    Statement st(db, "DELETE FROM s3_objects WHERE bucket = ?1 AND key = ?2");
    st.bind(1, bucket).bind(2, key);
    st.step();
    if (st.failed()) return st.error();
    if (auto inserted = insert_events(db, events); !inserted) return inserted.error();
    return file;
  };
  auto file = co_await db_.call<std::string>(std::move(job));
  if (!file) co_return file.error();
  if (file->empty()) co_return false;
  std::vector<std::string> removed{*file};
  co_await remove_files(std::move(removed));
  co_return true;
}

Task<Result<ObjectRecord>> ObjectStore::find_object(std::string bucket, std::string key) {
  auto job = [bucket = std::move(bucket), key = std::move(key)](sqlite3* db) {
    return select_object(db, bucket, key);
  };
  co_return co_await db_.call<ObjectRecord>(std::move(job));
}

Task<Result<OpenObject>> ObjectStore::open_object(std::string bucket, std::string key) {
  // A replace between the lookup and the open removes the file the row named; the next lookup
  // finds the new one.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto record = co_await find_object(bucket, key);
    if (!record) co_return record.error();
    fs::path path = dir_ / record->file;
    // Returns the descriptor, or -errno.
    auto open_file = [path]() -> int {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      return fd >= 0 ? fd : -errno;
    };
    int fd = co_await run_blocking(blocking_, std::move(open_file));
    if (fd >= 0) co_return OpenObject{std::move(*record), std::make_shared<ObjectFile>(fd)};
    if (fd != -ENOENT) break;
  }
  co_return make_error(Errc::io, "cannot open the body of " + key);
}

Task<Result<ListPage>> ObjectStore::list(ListQuery query) {
  auto job = [q = std::move(query)](sqlite3* db) -> Result<ListPage> {
    if (!bucket_exists(db, q.bucket)) return no_such_bucket(q.bucket);
    ListPage page;
    std::string cursor = is_common_prefix(q, q.after) ? past_prefix(q.after) : q.after;
    if (cursor < q.prefix) cursor = q.prefix;
    bool inclusive = cursor == q.prefix && q.after < q.prefix;
    int count = 0;
    constexpr int kBatch = 1000;
    std::string sql = std::string("SELECT ") + kObjectColumns +
                      " FROM s3_objects WHERE bucket = ?1 AND " +
                      "(key > ?2 OR (?3 AND key = ?2)) ORDER BY key LIMIT ?4";
    while (true) {
      Statement st(db, sql.c_str());
      st.bind(1, q.bucket)
          .bind(2, cursor)
          .bind(3, std::int64_t{inclusive})
          .bind(4, std::int64_t{kBatch});
      inclusive = false;
      int rows = 0;
      bool jumped = false;
      while (st.step()) {
        ++rows;
        ObjectRecord record = read_object(st);
        if (!record.key.starts_with(q.prefix)) return page;
        std::size_t pos =
            q.delimiter.empty() ? std::string::npos : record.key.find(q.delimiter, q.prefix.size());
        if (count >= q.max_keys) {
          page.truncated = true;
          return page;
        }
        ++count;
        if (pos != std::string::npos) {
          std::string common = record.key.substr(0, pos + q.delimiter.size());
          page.last = common;
          cursor = past_prefix(common);
          page.common_prefixes.push_back(std::move(common));
          jumped = true;
          break;
        }
        page.last = record.key;
        cursor = record.key;
        page.objects.push_back(std::move(record));
      }
      if (st.failed()) return st.error();
      if (!jumped && rows < kBatch) return page;
    }
  };
  co_return co_await db_.call<ListPage>(std::move(job));
}

Task<Status> ObjectStore::create_upload(UploadRecord upload) {
  auto job = [u = std::move(upload)](sqlite3* db) -> Status {
    if (!bucket_exists(db, u.bucket)) return no_such_bucket(u.bucket);
    Statement st(db,
                 "INSERT INTO s3_uploads (upload_id, bucket, key, initiated_ms, headers) VALUES "
                 "(?1, ?2, ?3, ?4, ?5)");
    st.bind(1, u.upload_id)
        .bind(2, u.bucket)
        .bind(3, u.key)
        .bind(4, u.initiated_ms)
        .bind(5, encode_headers(u.headers));
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Result<UploadRecord>> ObjectStore::find_upload(std::string upload_id) {
  auto job = [id = std::move(upload_id)](sqlite3* db) -> Result<UploadRecord> {
    Statement st(db,
                 "SELECT upload_id, bucket, key, initiated_ms, headers FROM s3_uploads WHERE "
                 "upload_id = ?1");
    st.bind(1, id);
    if (!st.step()) return st.failed() ? st.error() : no_such_upload();
    return UploadRecord{std::string(st.column_text(0)), std::string(st.column_text(1)),
                        std::string(st.column_text(2)), st.column_int(3),
                        decode_headers(st.column_text(4))};
  };
  co_return co_await db_.call<UploadRecord>(std::move(job));
}

Task<Status> ObjectStore::put_part(std::string upload_id, PartRecord part, WrittenBody body) {
  auto placed = co_await place(std::move(body), "p-");
  if (!placed) co_return placed.error();
  part.file = *placed;
  auto job = [id = std::move(upload_id),
              part = std::move(part)](sqlite3* db) -> Result<std::string> {
    Statement upload(db, "SELECT 1 FROM s3_uploads WHERE upload_id = ?1");
    upload.bind(1, id);
    if (!upload.step()) return no_such_upload();
    std::string old_file;
    Statement old(db, "SELECT file FROM s3_parts WHERE upload_id = ?1 AND number = ?2");
    old.bind(1, id).bind(2, std::int64_t{part.number});
    if (old.step()) old_file = old.column_text(0);
    Statement st(db,
                 "INSERT OR REPLACE INTO s3_parts (upload_id, number, size, etag, "
                 "last_modified_ms, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st.bind(1, id)
        .bind(2, std::int64_t{part.number})
        .bind(3, static_cast<std::int64_t>(part.size))
        .bind(4, part.etag)
        .bind(5, part.last_modified_ms)
        .bind(6, part.file);
    st.step();
    if (st.failed()) return st.error();
    return old_file;
  };
  auto old_file = co_await db_.call<std::string>(std::move(job));
  if (!old_file) {
    std::vector<std::string> placed_files{*placed};
    co_await remove_files(std::move(placed_files));
    co_return old_file.error();
  }
  if (old_file->empty()) co_return ok_status();
  std::vector<std::string> replaced{*old_file};
  co_return co_await remove_files(std::move(replaced));
}

Task<Result<std::vector<PartRecord>>> ObjectStore::list_parts(std::string upload_id, int after,
                                                              int limit) {
  auto job = [id = std::move(upload_id), after,
              limit](sqlite3* db) -> Result<std::vector<PartRecord>> {
    Statement upload(db, "SELECT 1 FROM s3_uploads WHERE upload_id = ?1");
    upload.bind(1, id);
    if (!upload.step()) return no_such_upload();
    Statement st(db,
                 "SELECT number, size, etag, last_modified_ms, file FROM s3_parts WHERE "
                 "upload_id = ?1 AND number > ?2 ORDER BY number LIMIT ?3");
    st.bind(1, id).bind(2, std::int64_t{after}).bind(3, std::int64_t{limit > 0 ? limit : -1});
    std::vector<PartRecord> out;
    while (st.step()) {
      out.push_back({static_cast<int>(st.column_int(0)),
                     static_cast<std::uint64_t>(st.column_int(1)), std::string(st.column_text(2)),
                     st.column_int(3), std::string(st.column_text(4))});
    }
    if (st.failed()) return st.error();
    return out;
  };
  co_return co_await db_.call<std::vector<PartRecord>>(std::move(job));
}

Task<Status> ObjectStore::abort_upload(std::string upload_id) {
  auto job = [id = std::move(upload_id)](sqlite3* db) -> Result<std::vector<std::string>> {
    Statement upload(db, "SELECT 1 FROM s3_uploads WHERE upload_id = ?1");
    upload.bind(1, id);
    if (!upload.step()) return no_such_upload();
    std::vector<std::string> files;
    Statement parts(db, "SELECT file FROM s3_parts WHERE upload_id = ?1");
    parts.bind(1, id);
    while (parts.step()) files.emplace_back(parts.column_text(0));
    for (const char* sql : {"DELETE FROM s3_parts WHERE upload_id = ?1",
                            "DELETE FROM s3_uploads WHERE upload_id = ?1"}) {
      Statement st(db, sql);
      st.bind(1, id);
      st.step();
      if (st.failed()) return st.error();
    }
    return files;
  };
  auto files = co_await db_.call<std::vector<std::string>>(std::move(job));
  if (!files) co_return files.error();
  co_return co_await remove_files(std::move(*files));
}

Task<Result<std::vector<UploadRecord>>> ObjectStore::list_uploads(UploadListQuery query) {
  auto job = [q = std::move(query)](sqlite3* db) -> Result<std::vector<UploadRecord>> {
    if (!bucket_exists(db, q.bucket)) return no_such_bucket(q.bucket);
    Statement st(db,
                 "SELECT upload_id, bucket, key, initiated_ms, headers FROM s3_uploads WHERE "
                 "bucket = ?1 AND substr(key, 1, length(?2)) = ?2 AND (key > ?3 OR (key = ?3 AND "
                 "?4 != '' AND upload_id > ?4)) ORDER BY key, initiated_ms, upload_id LIMIT ?5");
    st.bind(1, q.bucket)
        .bind(2, q.prefix)
        .bind(3, q.key_marker)
        .bind(4, q.upload_id_marker)
        .bind(5, std::int64_t{q.max_uploads + 1});
    std::vector<UploadRecord> out;
    while (st.step()) {
      out.push_back({std::string(st.column_text(0)), std::string(st.column_text(1)),
                     std::string(st.column_text(2)), st.column_int(3),
                     decode_headers(st.column_text(4))});
    }
    if (st.failed()) return st.error();
    return out;
  };
  co_return co_await db_.call<std::vector<UploadRecord>>(std::move(job));
}

Task<Result<std::vector<OutboxEntry>>> ObjectStore::outbox(int limit) {
  auto job = [limit](sqlite3* db) -> Result<std::vector<OutboxEntry>> {
    Statement st(db, "SELECT id, target, payload FROM s3_outbox ORDER BY id LIMIT ?1");
    st.bind(1, std::int64_t{limit});
    std::vector<OutboxEntry> out;
    while (st.step()) {
      out.push_back(
          {st.column_int(0), std::string(st.column_text(1)), std::string(st.column_text(2))});
    }
    if (st.failed()) return st.error();
    return out;
  };
  co_return co_await db_.call<std::vector<OutboxEntry>>(std::move(job));
}

Task<Status> ObjectStore::outbox_done(std::int64_t id) {
  auto job = [id](sqlite3* db) -> Status {
    Statement st(db, "DELETE FROM s3_outbox WHERE id = ?1");
    st.bind(1, id);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

}  // namespace lambent::store
