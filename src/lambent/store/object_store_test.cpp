#include "lambent/store/object_store.h"
#include "lambent/base/crypto.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/thread_pool.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using testing::run_task;

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-objects-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
    ASSERT_TRUE(run_task(store_->create_bucket({"bucket", "us-east-1", 1, ""})).ok());
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto db = Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<ObjectStore>(*db_, pool_, dir_ / "objects");
    auto opened = store_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
  }

  void reopen() {
    store_.reset();
    db_.reset();
    open();
  }

  static Task<Result<WrittenBody>> write_body(ObjectStore* store, std::string data) {
    auto writer = co_await store->writer(true);
    if (!writer) co_return writer.error();
    auto written = co_await (*writer)->write(data);
    if (!written) co_return written.error();
    co_return co_await (*writer)->finish();
  }

  Status put(const std::string& key, const std::string& data,
             std::vector<OutboxEntry> events = {}) {
    auto body = run_task(write_body(store_.get(), data));
    if (!body) return body.error();
    ObjectRecord record;
    record.bucket = "bucket";
    record.key = key;
    record.size = body->size;
    record.etag = "etag-" + key;
    record.last_modified_ms = 1000;
    return run_task(store_->commit_object(record, std::move(*body), std::move(events)));
  }

  std::string read_all(std::shared_ptr<ObjectFile> file, std::size_t size) {
    std::string out(size, '\0');
    auto read = run_task(store_->read(std::move(file), 0, std::span<char>(out.data(), out.size())));
    EXPECT_TRUE(read.ok());
    out.resize(read.ok() ? *read : 0);
    return out;
  }

  std::size_t file_count() {
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(dir_ / "objects"))
      count += entry.is_regular_file();
    return count;
  }

  fs::path dir_;
  asio::thread_pool pool_{2};
  std::unique_ptr<Sqlite> db_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ObjectStoreTest, CommitMakesTheObjectVisible) {
  auto body = run_task(write_body(store_.get(), "hello"));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->size, 5u);
  // MD5 and SHA-256 of "hello".
  EXPECT_EQ(to_hex(body->md5), "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(body->sha256_hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_FALSE(run_task(store_->find_object("bucket", "k")).ok());

  ObjectRecord record{"bucket", "k", 5, "etag-k", 1000, {}, ""};
  ASSERT_TRUE(run_task(store_->commit_object(record, std::move(*body), {})).ok());
  auto found = run_task(store_->find_object("bucket", "k"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size, 5u);
  EXPECT_EQ(found->etag, "etag-k");
  EXPECT_EQ(file_count(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "objects" / "tmp"));
}

TEST_F(ObjectStoreTest, MissingKeyAndBucketHaveTheirTypes) {
  auto key = run_task(store_->find_object("bucket", "nope"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.error().type, "NoSuchKey");
  auto bucket = run_task(store_->find_object("other", "k"));
  ASSERT_FALSE(bucket.ok());
  EXPECT_EQ(bucket.error().type, "NoSuchBucket");
}

TEST_F(ObjectStoreTest, ReplacedObjectStaysReadableThroughAnOpenFile) {
  ASSERT_TRUE(put("k", "first").ok());
  auto opened = run_task(store_->open_object("bucket", "k"));
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(put("k", "second!").ok());
  EXPECT_EQ(file_count(), 1u);  // the first body's file is gone from the folder
  EXPECT_EQ(read_all(opened->file, 100), "first");
  auto again = run_task(store_->open_object("bucket", "k"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(read_all(again->file, 100), "second!");
}

TEST_F(ObjectStoreTest, OpenRemovesFilesNoRowNames) {
  ASSERT_TRUE(put("kept", "data").ok());
  std::ofstream(dir_ / "objects" / "o-orphan") << "left by a crash";
  std::ofstream(dir_ / "objects" / "tmp" / "partial") << "half";
  reopen();
  EXPECT_EQ(file_count(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "objects" / "tmp"));
  auto opened = run_task(store_->open_object("bucket", "kept"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(read_all(opened->file, 100), "data");
}

TEST_F(ObjectStoreTest, UnfinishedWriterRemovesItsFile) {
  {
    auto writer = run_task(store_->writer(false));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(run_task((*writer)->write("partial")).ok());
  }
  pool_.wait();
  EXPECT_TRUE(fs::is_empty(dir_ / "objects" / "tmp"));
}

TEST_F(ObjectStoreTest, ListRollsUpCommonPrefixes) {
  for (const char* key : {"a/1", "a/2", "b", "c/x/1", "c/y", "d"}) ASSERT_TRUE(put(key, "1").ok());
  ListQuery query{"bucket", "", "/", "", 1000};
  auto page = run_task(store_->list(query));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "b");
  EXPECT_EQ(page->objects[1].key, "d");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"a/", "c/"}));
  EXPECT_FALSE(page->truncated);

  query.max_keys = 2;
  page = run_task(store_->list(query));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->last, "b");
  // Continuing after a common prefix skips every key under it.
  query.after = "a/";
  query.max_keys = 1000;
  page = run_task(store_->list(query));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"c/"}));
  ASSERT_EQ(page->objects.size(), 2u);

  ListQuery prefixed{"bucket", "c/", "/", "", 1000};
  page = run_task(store_->list(prefixed));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "c/y");
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"c/x/"}));
}

TEST_F(ObjectStoreTest, EventsCommitWithTheChange) {
  ASSERT_TRUE(put("k", "1", {{0, "arn:target", "created"}}).ok());
  auto deleted = run_task(store_->delete_object("bucket", "k", {{0, "arn:target", "removed"}}));
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  // Deleting a missing key queues nothing.
  deleted = run_task(store_->delete_object("bucket", "k", {{0, "arn:target", "again"}}));
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(*deleted);
  auto outbox = run_task(store_->outbox(10));
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 2u);
  EXPECT_EQ((*outbox)[0].payload, "created");
  EXPECT_EQ((*outbox)[1].payload, "removed");
  ASSERT_TRUE(run_task(store_->outbox_done((*outbox)[0].id)).ok());
  outbox = run_task(store_->outbox(10));
  ASSERT_TRUE(outbox.ok());
  EXPECT_EQ(outbox->size(), 1u);
  EXPECT_EQ(file_count(), 0u);
}

TEST_F(ObjectStoreTest, CompletedUploadReplacesItsParts) {
  ASSERT_TRUE(run_task(store_->create_upload({"u1", "bucket", "big", 1, {}})).ok());
  for (int number : {1, 2}) {
    auto body =
        run_task(write_body(store_.get(), std::string(10, static_cast<char>('a' + number))));
    ASSERT_TRUE(body.ok());
    PartRecord part{number, body->size, "e", 1, ""};
    ASSERT_TRUE(run_task(store_->put_part("u1", part, std::move(*body))).ok());
  }
  auto parts = run_task(store_->list_parts("u1", 0, 0));
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ(file_count(), 2u);
  auto joined = run_task(store_->concatenate(*parts));
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->size, 20u);
  ObjectRecord record{"bucket", "big", 20, "x-2", 1, {}, ""};
  ASSERT_TRUE(run_task(store_->commit_object(record, std::move(*joined), {}, "u1")).ok());
  EXPECT_EQ(file_count(), 1u);
  auto gone = run_task(store_->find_upload("u1"));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().type, "NoSuchUpload");
  auto opened = run_task(store_->open_object("bucket", "big"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(read_all(opened->file, 100), std::string(10, 'b') + std::string(10, 'c'));
}

TEST_F(ObjectStoreTest, BucketWithObjectsCannotBeDeleted) {
  ASSERT_TRUE(put("k", "1").ok());
  auto refused = run_task(store_->delete_bucket("bucket"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().type, "BucketNotEmpty");
  ASSERT_TRUE(run_task(store_->delete_object("bucket", "k", {})).ok());
  EXPECT_TRUE(run_task(store_->delete_bucket("bucket")).ok());
  auto missing = run_task(store_->delete_bucket("bucket"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().type, "NoSuchBucket");
}

}  // namespace
}  // namespace lambent::store
