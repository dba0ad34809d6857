#include "lambent/store/queue_store.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using testing::run_task;

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-queues-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void reopen() {
    store_.reset();
    db_.reset();
    auto db = Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto store = QueueStore::open(*db_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }

  static QueueRecord named(std::string name) {
    QueueRecord queue;
    queue.name = std::move(name);
    return queue;
  }

  static MessageRecord message(std::int64_t seq, std::string body) {
    MessageRecord m;
    m.seq = seq;
    m.id = "id-" + std::to_string(seq);
    m.body = std::make_shared<const std::string>(std::move(body));
    m.sent_ms = 1000 + seq;
    m.visible_at_ms = 1000 + seq;
    return m;
  }

  fs::path dir_;
  std::unique_ptr<Sqlite> db_;
  std::unique_ptr<QueueStore> store_;
};

TEST_F(QueueStoreTest, MessagesSurviveReopen) {
  QueueRecord queue = named("jobs");
  queue.attributes = {{"VisibilityTimeout", "45"}};
  queue.tags = {{"team", "a"}};
  ASSERT_TRUE(run_task(store_->put_queue(queue)).ok());
  std::vector<MessageRecord> sent{message(1, std::string("a\0b", 3)), message(2, "second")};
  ASSERT_TRUE(run_task(store_->insert_messages("jobs", sent, {}, 1)).ok());
  MessageVisibility received{.seq = 2,
                             .visible_at_ms = 9000,
                             .receive_count = 1,
                             .first_receive_ms = 5000,
                             .receipt_token = "t1"};
  ASSERT_TRUE(run_task(store_->update_messages("jobs", {received}, {})).ok());

  reopen();
  auto loaded = store_->load(0);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 1u);
  const auto& q = (*loaded)[0];
  EXPECT_EQ(q.queue.attributes.at("VisibilityTimeout"), "45");
  EXPECT_EQ(q.queue.tags.at("team"), "a");
  ASSERT_EQ(q.messages.size(), 2u);
  EXPECT_EQ(*q.messages[0].body, std::string("a\0b", 3));
  EXPECT_EQ(q.messages[1].receive_count, 1);
  EXPECT_EQ(q.messages[1].visible_at_ms, 9000);
  EXPECT_EQ(q.messages[1].receipt_token, "t1");
}

TEST_F(QueueStoreTest, DedupRecordsExpire) {
  ASSERT_TRUE(run_task(store_->put_queue(named("f.fifo"))).ok());
  std::vector<DedupRecord> dedup{{"d1", "m1", "1", 5000}, {"d2", "m2", "2", 20000}};
  ASSERT_TRUE(run_task(store_->insert_messages("f.fifo", {message(1, "x")}, dedup, 3)).ok());
  auto loaded = store_->load(10000);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ((*loaded)[0].dedup.size(), 1u);
  EXPECT_EQ((*loaded)[0].dedup[0].deduplication_id, "d2");
  EXPECT_EQ((*loaded)[0].queue.next_sequence, 3);
}

TEST_F(QueueStoreTest, MoveAndDeleteQueue) {
  ASSERT_TRUE(run_task(store_->put_queue(named("src"))).ok());
  ASSERT_TRUE(run_task(store_->put_queue(named("dlq"))).ok());
  ASSERT_TRUE(run_task(store_->insert_messages("src", {message(1, "x")}, {}, 1)).ok());
  auto moved = message(7, "x");
  moved.id = "id-1";
  ASSERT_TRUE(run_task(store_->move_message("src", 1, "dlq", moved)).ok());
  auto loaded = store_->load(0);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)[0].queue.name, "dlq");
  ASSERT_EQ((*loaded)[0].messages.size(), 1u);
  EXPECT_EQ((*loaded)[0].messages[0].id, "id-1");
  EXPECT_TRUE((*loaded)[1].messages.empty());

  ASSERT_TRUE(run_task(store_->delete_queue("dlq")).ok());
  loaded = store_->load(0);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].queue.name, "src");
}

}  // namespace
}  // namespace lambent::store
