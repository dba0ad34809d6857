#include "lambent/store/topic_store.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using testing::run_task;

class TopicStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-topics-XXXXXX").string();
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
    store_ = std::make_unique<TopicStore>(*db_);
    auto opened = store_->open();
    ASSERT_TRUE(opened.ok()) << opened.error().message;
  }

  fs::path dir_;
  std::unique_ptr<Sqlite> db_;
  std::unique_ptr<TopicStore> store_;
};

TEST_F(TopicStoreTest, TopicsAndSubscriptionsSurviveReopen) {
  ASSERT_TRUE(run_task(store_->put_topic({"arn:t", "t", "{}", R"({"k":"v"})"})).ok());
  SubscriptionRecord sub{.arn = "arn:t:1",
                         .topic_arn = "arn:t",
                         .protocol = "sqs",
                         .endpoint = "arn:q",
                         .owner = "0",
                         .confirmed = true,
                         .token = "",
                         .attributes = "{}"};
  ASSERT_TRUE(run_task(store_->put_subscription(sub)).ok());
  reopen();
  auto topics = store_->load_topics();
  ASSERT_TRUE(topics.ok());
  ASSERT_EQ(topics->size(), 1u);
  EXPECT_EQ((*topics)[0].tags, R"({"k":"v"})");
  auto subs = store_->load_subscriptions();
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_TRUE((*subs)[0].confirmed);
  EXPECT_EQ((*subs)[0].endpoint, "arn:q");
}

TEST_F(TopicStoreTest, LeasedDeliveryIsHiddenUntilRetryOrRestart) {
  ASSERT_TRUE(run_task(store_->enqueue({{"arn:t:1", "m1"}, {"arn:t:1", "m2"}}, 1000)).ok());
  auto first = run_task(store_->lease(1000, 10, 60000));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].message, "m1");
  EXPECT_TRUE(run_task(store_->lease(2000, 10, 60000))->empty());

  ASSERT_TRUE(run_task(store_->retry_later((*first)[0].id, 1, 5000)).ok());
  ASSERT_TRUE(run_task(store_->remove_delivery((*first)[1].id)).ok());
  EXPECT_TRUE(run_task(store_->lease(4999, 10, 60000))->empty());
  auto retried = run_task(store_->lease(5000, 10, 60000));
  ASSERT_EQ(retried->size(), 1u);
  EXPECT_EQ((*retried)[0].attempts, 1);

  // A restart releases the lease: the delivery is due again at once.
  reopen();
  auto after = run_task(store_->lease(5000, 10, 60000));
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ(*run_task(store_->delivery_count()), 1);
}

TEST_F(TopicStoreTest, DeletingATopicDeletesItsSubscriptionsAndDeliveries) {
  ASSERT_TRUE(run_task(store_->put_topic({"arn:t", "t", "{}", "{}"})).ok());
  SubscriptionRecord sub{.arn = "arn:t:1",
                         .topic_arn = "arn:t",
                         .protocol = "lambda",
                         .endpoint = "arn:f",
                         .owner = "0",
                         .confirmed = true,
                         .token = "",
                         .attributes = "{}"};
  ASSERT_TRUE(run_task(store_->put_subscription(sub)).ok());
  ASSERT_TRUE(run_task(store_->enqueue({{"arn:t:1", "m"}}, 0)).ok());
  ASSERT_TRUE(run_task(store_->delete_topic("arn:t")).ok());
  EXPECT_TRUE(store_->load_topics()->empty());
  EXPECT_TRUE(store_->load_subscriptions()->empty());
  EXPECT_EQ(*run_task(store_->delivery_count()), 0);
  EXPECT_FALSE(run_task(store_->next_due_ms())->has_value());
}

}  // namespace
}  // namespace lambent::store
