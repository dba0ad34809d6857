#include "lambent/services/sqs/queues.h"

#include "lambent/services/sqs/event_source_queues.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace lambent::services::sqs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The in-process API as the event source mapping poller uses it: no HTTP, one io_context.
class QueuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-sqs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    queues_.reset();
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    queues_.reset();
    store_.reset();
    db_.reset();
    auto db = store::Sqlite::open(dir_ / "test.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto store = store::QueueStore::open(*db_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    QueuesOptions options;
    options.clock = [this] { return clock_ms_; };
    queues_ = std::make_unique<Queues>(*store_, io_.get_executor(), options);
    ASSERT_TRUE(queues_->load().ok());
  }

  // Runs `task` on the test's io_context until it finishes (20 s at most).
  template <typename T>
  T run(Task<T> task) {
    std::optional<T> out;
    auto wrapper = [](Task<T> inner, std::optional<T>& slot) -> Task<void> {
      slot.emplace(co_await std::move(inner));
    };
    asio::co_spawn(io_, wrapper(std::move(task), out), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!out && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    if (!out) throw std::runtime_error("coroutine did not finish");
    return std::move(*out);
  }

  void create(std::string name, std::map<std::string, std::string> attributes = {}) {
    auto created = run(queues_->create_queue(std::move(name), std::move(attributes), {}));
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  Result<SendResult> send(std::string queue, std::string body, std::string group = {}) {
    NewMessage message;
    message.body = std::move(body);
    message.group_id = std::move(group);
    return run(queues_->send_message(std::move(queue), std::move(message)));
  }

  std::vector<ReceivedMessage> receive(std::string queue, int max = 10,
                                       std::optional<int> wait = 0) {
    ReceiveRequest request;
    request.max_messages = max;
    request.wait_seconds = wait;
    auto received = run(queues_->receive_messages(std::move(queue), request));
    EXPECT_TRUE(received.ok()) << received.error().message;
    return received.ok() ? std::move(*received) : std::vector<ReceivedMessage>{};
  }

  asio::io_context io_;
  std::int64_t clock_ms_ = 1'700'000'000'000;
  fs::path dir_;
  std::unique_ptr<store::Sqlite> db_;
  std::unique_ptr<store::QueueStore> store_;
  std::unique_ptr<Queues> queues_;
};

TEST_F(QueuesTest, AttributeDigestMatchesAwsAlgorithm) {
  // Expected value computed independently with Python's hashlib from the documented layout.
  std::vector<store::MessageAttribute> attributes{{"b", "String", "x", {}},
                                                  {"a", "Number", "1", {}},
                                                  {"c", "Binary", {}, std::string("\0\1", 2)}};
  EXPECT_EQ(md5_of_attributes(attributes), "334b283a6ecd58913beea0095286059a");
  EXPECT_EQ(md5_of_attributes({}), "");
  EXPECT_EQ(md5_hex("hello"), "5d41402abc4b2a76b9719d911017c592");
}

TEST_F(QueuesTest, SendReceiveDeleteAndDepth) {
  create("jobs");
  ASSERT_TRUE(send("jobs", "one").ok());
  ASSERT_TRUE(send("jobs", "two").ok());
  auto depth = queues_->depth("jobs");
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible, 2);

  auto received = receive("jobs");
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(*received[0].body, "one");
  EXPECT_EQ(received[0].receive_count, 1);
  depth = queues_->depth("jobs");
  EXPECT_EQ(depth->visible, 0);
  EXPECT_EQ(depth->in_flight, 2);

  std::vector<std::string> handles{received[0].receipt_handle, received[1].receipt_handle};
  auto deleted = run(queues_->delete_messages("jobs", handles));
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE((*deleted)[0].ok());
  EXPECT_TRUE((*deleted)[1].ok());
  EXPECT_EQ(queues_->depth("jobs")->in_flight, 0);

  auto missing = queues_->depth("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().type, "AWS.SimpleQueueService.NonExistentQueue");
}

TEST_F(QueuesTest, LongPollWakesOnSend) {
  create("wake");
  auto started = std::chrono::steady_clock::now();
  // A sender that runs 200 ms into the receive's 10 s wait.
  auto sender = [](Queues& queues, asio::any_io_executor executor) -> Task<void> {
    asio::steady_timer timer(executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
    NewMessage message;
    message.body = "late";
    auto sent = co_await queues.send_message("wake", std::move(message));
    EXPECT_TRUE(sent.ok());
  };
  asio::co_spawn(io_, sender(*queues_, io_.get_executor()), asio::detached);
  auto received = receive("wake", 1, 10);
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(*received[0].body, "late");
  EXPECT_LT(elapsed, 2s);
}

TEST_F(QueuesTest, VisibilityChangeAndRedelivery) {
  create("vis", {{"VisibilityTimeout", "30"}});
  ASSERT_TRUE(send("vis", "m").ok());
  auto first = receive("vis");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(receive("vis").empty());
  auto changed = run(queues_->change_visibility("vis", first[0].receipt_handle, 0));
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  auto second = receive("vis");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message_id, first[0].message_id);
  EXPECT_EQ(second[0].receive_count, 2);
  auto stale = run(queues_->change_visibility("vis", first[0].receipt_handle, 0));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().type, "ReceiptHandleIsInvalid");
}

TEST_F(QueuesTest, DeadLetterMoveKeepsIdentity) {
  create("dlq");
  create("src", {{"VisibilityTimeout", "0"},
                 {"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:)"
                                   R"(000000000000:dlq","maxReceiveCount":1})"}});
  auto info = queues_->describe("src");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->config.redrive_policy.has_value());
  EXPECT_EQ(info->config.redrive_policy->max_receive_count, 1);
  auto sent = send("src", "poison");
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(receive("src").size(), 1u);
  EXPECT_TRUE(receive("src").empty());
  auto moved = receive("dlq");
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].message_id, sent->message_id);
  EXPECT_EQ(*moved[0].body, "poison");
}

TEST_F(QueuesTest, FifoGroupInFlightBlocksLaterMessages) {
  create("f.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  ASSERT_TRUE(send("f.fifo", "a1", "A").ok());
  ASSERT_TRUE(send("f.fifo", "a2", "A").ok());
  ASSERT_TRUE(send("f.fifo", "b1", "B").ok());
  auto first = receive("f.fifo", 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(*first[0].body, "a1");
  auto next = receive("f.fifo", 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(*next[0].body, "b1");
  auto missing_group = send("f.fifo", "x");
  ASSERT_FALSE(missing_group.ok());
  EXPECT_EQ(missing_group.error().type, "MissingParameter");
}

TEST_F(QueuesTest, RetentionPeriodDropsOldMessages) {
  create("short", {{"MessageRetentionPeriod", "60"}});
  ASSERT_TRUE(send("short", "old").ok());
  clock_ms_ += 30'000;
  ASSERT_TRUE(send("short", "new").ok());
  EXPECT_EQ(queues_->depth("short")->visible, 2);
  clock_ms_ += 31'000;
  EXPECT_EQ(queues_->depth("short")->visible, 1);
  auto received = receive("short");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(*received[0].body, "new");
  open();
  EXPECT_EQ(queues_->depth("short")->in_flight, 1);
  EXPECT_EQ(queues_->depth("short")->visible, 0);
}

TEST_F(QueuesTest, DelayAndVisibilityUseTheClock) {
  create("later", {{"DelaySeconds", "5"}, {"VisibilityTimeout", "10"}});
  ASSERT_TRUE(send("later", "m").ok());
  EXPECT_EQ(queues_->depth("later")->delayed, 1);
  EXPECT_TRUE(receive("later").empty());
  clock_ms_ += 5'000;
  auto first = receive("later");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].sent_ms, clock_ms_ - 5'000);
  EXPECT_EQ(first[0].first_receive_ms, clock_ms_);
  clock_ms_ += 9'999;
  EXPECT_TRUE(receive("later").empty());
  clock_ms_ += 1;
  auto again = receive("later");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].receive_count, 2);
  EXPECT_EQ(again[0].first_receive_ms, first[0].first_receive_ms);
}

TEST_F(QueuesTest, EventSourceViewByArn) {
  create("src.fifo", {{"FifoQueue", "true"}, {"VisibilityTimeout", "90"}});
  NewMessage message;
  message.body = "m";
  message.group_id = "g";
  message.deduplication_id = "d";
  message.attributes = {{"k", "String", "v", {}}};
  ASSERT_TRUE(run(queues_->send_message("src.fifo", message)).ok());
  EventSourceQueues source(*queues_);
  std::string arn = "arn:aws:sqs:us-east-1:000000000000:src.fifo";
  auto facts = source.describe(arn);
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->visibility_timeout_seconds, 90);
  EXPECT_TRUE(facts->fifo);
  EXPECT_EQ(facts->visible_messages, 1);
  EXPECT_FALSE(source.describe("arn:aws:sqs:us-east-1:000000000000:none").has_value());

  auto received = run(source.receive(arn, 10, 0s));
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  const auto& got = (*received)[0];
  EXPECT_EQ(got.body, "m");
  EXPECT_EQ(got.md5_of_message_attributes, md5_of_attributes(message.attributes));
  std::vector<std::string> names;
  for (const auto& [name, value] : got.system_attributes) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                             "ApproximateFirstReceiveTimestamp", "SequenceNumber",
                                             "MessageGroupId", "MessageDeduplicationId"}));
  auto removed = run(source.remove(arn, {got.receipt_handle, "stale"}));
  EXPECT_TRUE(removed.ok());
  EXPECT_EQ(queues_->depth("src.fifo")->in_flight, 0);
  auto missing = run(source.receive("arn:aws:sqs:us-east-1:000000000000:none", 1, 0s));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST_F(QueuesTest, StateSurvivesReload) {
  create("keep", {{"VisibilityTimeout", "100"}});
  ASSERT_TRUE(send("keep", "a").ok());
  ASSERT_TRUE(send("keep", "b").ok());
  ASSERT_EQ(receive("keep", 1).size(), 1u);
  open();
  auto depth = queues_->depth("keep");
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth->visible, 1);
  EXPECT_EQ(depth->in_flight, 1);
  EXPECT_EQ(queues_->describe("keep")->config.visibility_timeout, 100);
}

}  // namespace
}  // namespace lambent::services::sqs
