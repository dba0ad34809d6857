#include "lambent/store/repository.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Upper bound for each io_context run, so a lost completion fails the test instead of hanging.
constexpr auto kRunLimit = 20s;

class RepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-repo-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    repo_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto repo = Repository::open(dir_);
    ASSERT_TRUE(repo.ok()) << repo.error().message;
    repo_ = std::move(repo).value();
  }

  // Closes the database (the writer thread finishes queued jobs) and opens it again, as a
  // server restart does.
  void reopen() {
    repo_.reset();
    open();
  }

  template <typename T>
  T run(Task<T> task) {
    return testing::run_task(std::move(task));
  }

  std::int64_t enqueue(const std::string& request_id, const std::string& payload = "{}") {
    AsyncEvent event;
    event.function_name = "fn";
    event.qualifier = "$LATEST";
    event.request_id = request_id;
    event.payload = payload;
    event.enqueued_ms = 1700000000000;
    auto seq = run(repo_->enqueue(event));
    EXPECT_TRUE(seq.ok()) << seq.error().message;
    return seq.ok() ? *seq : -1;
  }

  std::vector<AsyncEvent> lease(int limit, std::int64_t lease_ms) {
    auto leased = run(repo_->lease(limit, lease_ms));
    EXPECT_TRUE(leased.ok()) << leased.error().message;
    return leased.ok() ? std::move(leased).value() : std::vector<AsyncEvent>{};
  }

  std::int64_t count() {
    auto n = repo_->count_queued();
    EXPECT_TRUE(n.ok()) << n.error().message;
    return n.ok() ? *n : -1;
  }

  fs::path dir_;
  std::unique_ptr<Repository> repo_;
};

std::vector<std::int64_t> seqs_of(const std::vector<AsyncEvent>& events) {
  std::vector<std::int64_t> out;
  for (const auto& e : events) out.push_back(e.seq);
  return out;
}

FunctionRecord sample_record(const std::string& name) {
  FunctionRecord r;
  r.name = name;
  r.runtime = "python3.12";
  r.handler = "app.handler";
  r.role = "arn:aws:iam::123456789012:role/lambda-role";
  r.description = "quotes \" backslash \\ newline \n unicode \xc3\xa9";
  r.timeout_seconds = 900;
  r.memory_mb = 10240;
  r.ephemeral_storage_mb = 4096;
  // Order matters: environment variables keep the order they were given in.
  r.environment = {{"ZETA", "last-first"}, {"ALPHA", "a=b;c"}, {"EMPTY", ""}};
  r.environment_set = true;
  r.architecture = "arm64";
  r.code_sha256_hex = "111bd6f29fb1846ba134ba3f09fca72fe8b9b637bca7bd1db2ce32b63425b640";
  r.code_sha256_base64 = "ERvW8p+xhGuhNLo/CfynL+i5tje8p70dss4ytjQltkA=";
  r.code_size = 5'000'000'000ull;  // larger than 32 bits
  r.last_modified = "2024-01-02T03:04:05.678+0000";
  r.revision_id = "0a1b2c3d-0000-4000-8000-000000000000";
  r.created_ms = 1'704'164'645'678;
  return r;
}

void expect_same_record(const FunctionRecord& a, const FunctionRecord& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.runtime, b.runtime);
  EXPECT_EQ(a.handler, b.handler);
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.timeout_seconds, b.timeout_seconds);
  EXPECT_EQ(a.memory_mb, b.memory_mb);
  EXPECT_EQ(a.ephemeral_storage_mb, b.ephemeral_storage_mb);
  EXPECT_EQ(a.environment, b.environment);
  EXPECT_EQ(a.environment_set, b.environment_set);
  EXPECT_EQ(a.architecture, b.architecture);
  EXPECT_EQ(a.code_sha256_hex, b.code_sha256_hex);
  EXPECT_EQ(a.code_sha256_base64, b.code_sha256_base64);
  EXPECT_EQ(a.code_size, b.code_size);
  EXPECT_EQ(a.last_modified, b.last_modified);
  EXPECT_EQ(a.revision_id, b.revision_id);
  EXPECT_EQ(a.created_ms, b.created_ms);
}

// ---- function records ----

TEST(FunctionRecordCodec, RoundTripsEveryField) {
  FunctionRecord original = sample_record("codec");
  auto decoded = decode_function(encode_function(original));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_same_record(*decoded, original);
}

TEST(FunctionRecordCodec, EnvironmentSetDefaultsToFalse) {
  FunctionRecord original = sample_record("older");
  original.environment.clear();
  original.environment_set = false;
  auto decoded = decode_function(encode_function(original));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(decoded->environment_set);

  // Records written before the field existed decode with it unset.
  std::string text = encode_function(original);
  auto at = text.find(",\"environment_set\":false");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, std::string(",\"environment_set\":false").size());
  auto older = decode_function(text);
  ASSERT_TRUE(older.ok()) << older.error().message;
  EXPECT_FALSE(older->environment_set);
}

TEST(FunctionRecordCodec, RejectsCorruptText) {
  for (const char* text : {"", "not json", "[]", "{}", R"({"name": "x"})"}) {
    auto decoded = decode_function(text);
    ASSERT_FALSE(decoded.ok()) << "input " << text;
    EXPECT_EQ(decoded.error().code, Errc::io);
    EXPECT_TRUE(decoded.error().message.starts_with("corrupt function record"))
        << decoded.error().message;
  }
  // A field of the wrong JSON type is corrupt too.
  std::string text = encode_function(sample_record("typed"));
  auto at = text.find("\"timeout\":900");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 13, "\"timeout\":\"900\"");
  EXPECT_FALSE(decode_function(text).ok());
}

TEST_F(RepositoryTest, PutLoadDeleteFunction) {
  FunctionRecord first = sample_record("first");
  FunctionRecord second = sample_record("second");
  second.environment.clear();
  second.description.clear();
  ASSERT_TRUE(run(repo_->put_function(second)).ok());
  ASSERT_TRUE(run(repo_->put_function(first)).ok());

  auto loaded = repo_->load_functions();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  expect_same_record((*loaded)[0], first);  // ordered by name
  expect_same_record((*loaded)[1], second);

  // A second put of the same name replaces the record.
  first.memory_mb = 256;
  first.environment = {{"ONLY", "one"}};
  ASSERT_TRUE(run(repo_->put_function(first)).ok());
  loaded = repo_->load_functions();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);
  expect_same_record((*loaded)[0], first);

  ASSERT_TRUE(run(repo_->delete_function("first")).ok());
  loaded = repo_->load_functions();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].name, "second");

  // Deleting a missing name is not an error.
  EXPECT_TRUE(run(repo_->delete_function("never-existed")).ok());

  reopen();
  loaded = repo_->load_functions();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  expect_same_record((*loaded)[0], second);
}

TEST_F(RepositoryTest, ReservedConcurrencyPersists) {
  ASSERT_TRUE(run(repo_->put_function(sample_record("reserved"))).ok());
  ASSERT_TRUE(run(repo_->put_function(sample_record("other"))).ok());
  ASSERT_TRUE(run(repo_->concurrency().put_reserved("reserved", 5)).ok());
  ASSERT_TRUE(run(repo_->concurrency().put_reserved("other", 0)).ok());
  // A second put replaces the value.
  ASSERT_TRUE(run(repo_->concurrency().put_reserved("reserved", 7)).ok());

  reopen();
  auto loaded = repo_->concurrency().load_reserved();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(*loaded, (std::map<std::string, std::int64_t>{{"other", 0}, {"reserved", 7}}));

  ASSERT_TRUE(run(repo_->concurrency().delete_reserved("other")).ok());
  // Deleting a function without a reservation is not an error.
  EXPECT_TRUE(run(repo_->concurrency().delete_reserved("never-reserved")).ok());
  loaded = repo_->concurrency().load_reserved();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, (std::map<std::string, std::int64_t>{{"reserved", 7}}));
}

TEST_F(RepositoryTest, DeleteFunctionDeletesReservation) {
  ASSERT_TRUE(run(repo_->put_function(sample_record("gone"))).ok());
  ASSERT_TRUE(run(repo_->concurrency().put_reserved("gone", 3)).ok());
  ASSERT_TRUE(run(repo_->delete_function("gone")).ok());

  auto loaded = repo_->concurrency().load_reserved();
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->empty());
}

TEST_F(RepositoryTest, CorruptStoredRecordFailsLoad) {
  Status inserted = repo_->db().call_blocking([](sqlite3* h) {
    return exec(h, "INSERT INTO functions (name, config) VALUES ('bad', '{\"name\":1}')");
  });
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  auto loaded = repo_->load_functions();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::io);
}

// ---- access keys ----

TEST_F(RepositoryTest, AddAndLoadKeys) {
  auto empty = repo_->load_keys();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());

  ASSERT_TRUE(repo_->add_key({"AKIAFIRST", "secret-one"}).ok());
  std::this_thread::sleep_for(2ms);  // keys are ordered by creation time in milliseconds
  ASSERT_TRUE(repo_->add_key({"AKIASECOND", "secret-two"}).ok());

  // The id is the primary key: adding it again fails and leaves the first secret.
  Status duplicate = repo_->add_key({"AKIAFIRST", "other"});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, Errc::io);

  reopen();
  auto keys = repo_->load_keys();
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].id, "AKIAFIRST");
  EXPECT_EQ((*keys)[0].secret, "secret-one");
  EXPECT_EQ((*keys)[1].id, "AKIASECOND");
  EXPECT_EQ((*keys)[1].secret, "secret-two");
}

// ---- async queue ----

TEST_F(RepositoryTest, EnqueueAssignsIncreasingSeq) {
  std::int64_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    std::int64_t seq = enqueue("req-" + std::to_string(i));
    EXPECT_GT(seq, previous);
    previous = seq;
  }
  EXPECT_EQ(count(), 5);
}

TEST_F(RepositoryTest, LeaseReturnsOldestFirstUpToLimit) {
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(enqueue("req-" + std::to_string(i)));

  auto first = lease(3, 60'000);
  EXPECT_EQ(seqs_of(first), (std::vector<std::int64_t>{seqs[0], seqs[1], seqs[2]}));
  // Leased events stay hidden, so the next lease continues with the rest.
  auto second = lease(10, 60'000);
  EXPECT_EQ(seqs_of(second), (std::vector<std::int64_t>{seqs[3], seqs[4]}));
  EXPECT_TRUE(lease(10, 60'000).empty());
  // Leasing does not remove anything.
  EXPECT_EQ(count(), 5);
}

TEST_F(RepositoryTest, LeaseCarriesEveryField) {
  AsyncEvent event;
  event.function_name = "orders";
  event.qualifier = "prod";
  event.request_id = "2d1f8a3e-1111-4222-8333-444455556666";
  event.payload = std::string("{\"k\":\"v\"}\0binary\xff", 17);
  event.enqueued_ms = 1'700'000'123'456;
  auto seq = run(repo_->enqueue(event));
  ASSERT_TRUE(seq.ok());

  auto leased = lease(1, 60'000);
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0].seq, *seq);
  EXPECT_EQ(leased[0].function_name, "orders");
  EXPECT_EQ(leased[0].qualifier, "prod");
  EXPECT_EQ(leased[0].request_id, event.request_id);
  EXPECT_EQ(leased[0].payload, event.payload);
  EXPECT_EQ(leased[0].enqueued_ms, 1'700'000'123'456);
  EXPECT_EQ(leased[0].attempts, 0);  // leases before this one
}

TEST_F(RepositoryTest, LeaseExpiryMakesEventVisibleAgain) {
  std::int64_t seq = enqueue("req-expiry");

  auto first = lease(10, 150);
  ASSERT_EQ(seqs_of(first), std::vector<std::int64_t>{seq});
  EXPECT_TRUE(lease(10, 150).empty()) << "event visible while leased";

  std::this_thread::sleep_for(200ms);
  auto again = lease(10, 60'000);
  ASSERT_EQ(seqs_of(again), std::vector<std::int64_t>{seq});
  EXPECT_EQ(again[0].attempts, 1);
}

TEST_F(RepositoryTest, ZeroLeaseLeavesEventVisible) {
  std::int64_t seq = enqueue("req-zero");
  auto first = lease(10, 0);
  ASSERT_EQ(seqs_of(first), std::vector<std::int64_t>{seq});
  std::this_thread::sleep_for(2ms);  // visible_ms = now + 0 must lie in the past
  auto second = lease(10, 0);
  ASSERT_EQ(seqs_of(second), std::vector<std::int64_t>{seq});
  EXPECT_EQ(second[0].attempts, 1);
}

TEST_F(RepositoryTest, AckDeletesEvent) {
  std::int64_t a = enqueue("req-a");
  std::int64_t b = enqueue("req-b");
  ASSERT_EQ(lease(10, 60'000).size(), 2u);

  ASSERT_TRUE(run(repo_->ack(a)).ok());
  EXPECT_EQ(count(), 1);
  // Acking an unknown seq is a no-op.
  ASSERT_TRUE(run(repo_->ack(a)).ok());
  EXPECT_EQ(count(), 1);

  ASSERT_TRUE(repo_->release_all_leases().ok());
  EXPECT_EQ(seqs_of(lease(10, 60'000)), std::vector<std::int64_t>{b});
}

TEST_F(RepositoryTest, ReleaseAllLeasesShowsLeasedEvents) {
  std::int64_t a = enqueue("req-a");
  std::int64_t b = enqueue("req-b");
  ASSERT_EQ(lease(1, 60'000).size(), 1u);

  ASSERT_TRUE(repo_->release_all_leases().ok());
  EXPECT_EQ(seqs_of(lease(10, 60'000)), (std::vector<std::int64_t>{a, b}));
}

TEST_F(RepositoryTest, EventsSurviveRestart) {
  std::int64_t a = enqueue("req-a", "payload-a");
  std::int64_t b = enqueue("req-b", "payload-b");
  std::int64_t c = enqueue("req-c", "payload-c");
  ASSERT_EQ(seqs_of(lease(1, 60'000)), std::vector<std::int64_t>{a});

  reopen();
  EXPECT_EQ(count(), 3);
  // The lease is stored too: before release only b and c are visible.
  auto visible = lease(10, 0);
  EXPECT_EQ(seqs_of(visible), (std::vector<std::int64_t>{b, c}));

  ASSERT_TRUE(repo_->release_all_leases().ok());
  auto all = lease(10, 60'000);
  ASSERT_EQ(seqs_of(all), (std::vector<std::int64_t>{a, b, c}));
  EXPECT_EQ(all[0].payload, "payload-a");
  EXPECT_EQ(all[2].payload, "payload-c");

  // New events continue after the highest seq ever assigned, even after the newest is acked.
  ASSERT_TRUE(run(repo_->ack(c)).ok());
  reopen();
  EXPECT_GT(enqueue("req-d"), c);
}

TEST_F(RepositoryTest, ConcurrentEnqueuesAllCommit) {
  constexpr int kEvents = 2000;
  std::atomic<int> commits{0};
  repo_->db().call_blocking([&commits](sqlite3* h) {
    sqlite3_commit_hook(
        h,
        [](void* counter) {
          static_cast<std::atomic<int>*>(counter)->fetch_add(1);
          return 0;
        },
        &commits);
    return 0;
  });

  asio::io_context ctx;
  std::vector<std::int64_t> seqs;
  int failures = 0;
  auto enqueue_one = [&](int i) -> Task<void> {
    AsyncEvent event;
    event.function_name = "fn";
    event.qualifier = "$LATEST";
    event.request_id = "req-" + std::to_string(i);
    event.payload = std::string(200, 'x');
    event.enqueued_ms = epoch_ms();
    auto seq = co_await repo_->enqueue(std::move(event));
    if (seq.ok()) {
      seqs.push_back(*seq);
    } else {
      ++failures;
    }
  };
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) asio::co_spawn(ctx, enqueue_one(i), asio::detached);
  ctx.run_for(kRunLimit);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_EQ(failures, 0);
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kEvents));
  std::set<std::int64_t> unique(seqs.begin(), seqs.end());
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kEvents));
  EXPECT_EQ(count(), kEvents);
  // Group commit batches every job queued while a transaction runs, so far fewer commits than
  // jobs run.
  EXPECT_GE(commits.load(), 1);
  EXPECT_LT(commits.load(), kEvents);
  std::printf("[ measure  ] %d enqueues in %.3f s: %.0f enqueues/s, %d commits\n", kEvents, seconds,
              kEvents / seconds, commits.load());

  repo_->db().call_blocking([](sqlite3* h) {
    sqlite3_commit_hook(h, nullptr, nullptr);
    return 0;
  });
}

// A failing job in a group commit rolls back only its own savepoint, and the rest of the batch
// commits. A first job keeps the writer thread busy until the four jobs under test are queued,
// so they run as one batch, which a commit hook checks.
TEST_F(RepositoryTest, FailingJobRollsBackOnlyItself) {
  std::atomic<int> commits{0};
  repo_->db().call_blocking([&commits](sqlite3* h) {
    sqlite3_commit_hook(
        h,
        [](void* counter) {
          static_cast<std::atomic<int>*>(counter)->fetch_add(1);
          return 0;
        },
        &commits);
    return 0;
  });

  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto insert = [](const char* name) {
    return [name](sqlite3* h) -> Status {
      Statement st(h, "INSERT INTO functions (name, config) VALUES (?1, '{}')");
      st.bind(1, std::string_view(name));
      st.step();
      if (st.failed()) return st.error();
      return ok_status();
    };
  };
  std::promise<void> blocker_started;
  std::future<void> blocker_started_future = blocker_started.get_future();
  auto blocker = [released, &blocker_started](sqlite3*) -> Status {
    blocker_started.set_value();
    released.wait_for(5s);
    return ok_status();
  };
  auto good_before = insert("kept-before");
  auto good_after = insert("kept-after");
  // Inserts a row, then fails: its row must disappear with its savepoint.
  auto failing = [](sqlite3* h) -> Status {
    Statement st(h, "INSERT INTO functions (name, config) VALUES ('rolled-back', '{}')");
    st.step();
    if (st.failed()) return st.error();
    return make_error(Errc::invalid_parameter, "deliberate failure after insert");
  };
  // A statement that SQLite itself rejects (a primary key conflict with the first job).
  auto conflicting = [](sqlite3* h) -> Status {
    Statement st(h, "INSERT INTO functions (name, config) VALUES ('kept-before', 'dup')");
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };

  asio::io_context ctx;
  std::optional<Status> blocker_result, before_result, failing_result, conflict_result,
      after_result;
  auto run_job = [&](auto job, std::optional<Status>& slot) -> Task<void> {
    auto job_copy = job;
    slot = co_await repo_->db().call<Unit>(std::move(job_copy));
  };
  auto releaser = [&]() -> Task<void> {
    release.set_value();
    co_return;
  };
  // Coroutines start in spawn order and each submits its job before suspending. The gate
  // blocks the io_context thread until the writer thread has taken the blocker as a batch of
  // its own. The releaser then runs after the four jobs under test are queued behind it.
  auto gate = [&]() -> Task<void> {
    blocker_started_future.wait_for(5s);
    co_return;
  };
  asio::co_spawn(ctx, run_job(blocker, blocker_result), asio::detached);
  asio::co_spawn(ctx, gate(), asio::detached);
  asio::co_spawn(ctx, run_job(good_before, before_result), asio::detached);
  asio::co_spawn(ctx, run_job(failing, failing_result), asio::detached);
  asio::co_spawn(ctx, run_job(conflicting, conflict_result), asio::detached);
  asio::co_spawn(ctx, run_job(good_after, after_result), asio::detached);
  asio::co_spawn(ctx, releaser(), asio::detached);
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(blocker_result.has_value());
  ASSERT_TRUE(before_result.has_value());
  ASSERT_TRUE(failing_result.has_value());
  ASSERT_TRUE(conflict_result.has_value());
  ASSERT_TRUE(after_result.has_value());
  EXPECT_TRUE(blocker_result->ok());
  EXPECT_TRUE(before_result->ok()) << before_result->error().message;
  ASSERT_FALSE(failing_result->ok());
  EXPECT_EQ(failing_result->error().code, Errc::invalid_parameter);
  EXPECT_EQ(failing_result->error().message, "deliberate failure after insert");
  ASSERT_FALSE(conflict_result->ok());
  EXPECT_EQ(conflict_result->error().code, Errc::io);
  EXPECT_NE(conflict_result->error().message.find("UNIQUE constraint failed"), std::string::npos)
      << conflict_result->error().message;
  EXPECT_TRUE(after_result->ok()) << after_result->error().message;
  // One commit for the blocker's batch, one for the four jobs under test.
  EXPECT_EQ(commits.load(), 2);

  repo_->db().call_blocking([](sqlite3* h) {
    sqlite3_commit_hook(h, nullptr, nullptr);
    return 0;
  });
  auto names = repo_->db().call_blocking([](sqlite3* h) {
    std::vector<std::string> out;
    Statement st(h, "SELECT name, config FROM functions ORDER BY name");
    while (st.step())
      out.push_back(std::string(st.column_text(0)) + "=" + std::string(st.column_text(1)));
    return out;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"kept-after={}", "kept-before={}"}));
}

TEST(RepositoryOpen, FailsForUnwritableDirectory) {
  auto repo = Repository::open("/nonexistent-lambent-dir/sub");
  ASSERT_FALSE(repo.ok());
  EXPECT_EQ(repo.error().code, Errc::io);
  EXPECT_NE(repo.error().message.find("/nonexistent-lambent-dir/sub/lambent.db"), std::string::npos)
      << repo.error().message;
}

}  // namespace
}  // namespace lambent::store
