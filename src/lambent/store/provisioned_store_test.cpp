#include "lambent/store/provisioned_store.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ProvisionedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-provisioned-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
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
    store_ = std::make_unique<ProvisionedStore>(*db_);
    auto schema = db_->call_blocking(ProvisionedStore::create_schema);
    ASSERT_TRUE(schema.ok()) << schema.error().message;
  }

  // Closes and opens the database again, as a server restart does.
  void reopen() {
    store_.reset();
    db_.reset();
    open();
  }

  void run(Task<Status> task) {
    auto status = testing::run_task(std::move(task));
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  std::vector<ProvisionedRecord> load() {
    auto rows = store_->load();
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() ? std::move(rows).value() : std::vector<ProvisionedRecord>{};
  }

  fs::path dir_;
  std::unique_ptr<Sqlite> db_;
  std::unique_ptr<ProvisionedStore> store_;
};

TEST_F(ProvisionedStoreTest, PutReplacesAndSurvivesReopen) {
  run(store_->put({"fn", "live", 3, "2024-01-01T00:00:00+0000"}));
  run(store_->put({"fn", "live", 5, "2024-01-02T00:00:00+0000"}));
  run(store_->put({"fn", "1", 1, "2024-01-03T00:00:00+0000"}));
  reopen();
  auto rows = load();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].qualifier, "1");
  EXPECT_EQ(rows[0].requested, 1);
  EXPECT_EQ(rows[1].qualifier, "live");
  EXPECT_EQ(rows[1].requested, 5);
  EXPECT_EQ(rows[1].last_modified, "2024-01-02T00:00:00+0000");
}

TEST_F(ProvisionedStoreTest, RemoveDeletesOneOrAll) {
  run(store_->put({"fn", "1", 1, "t"}));
  run(store_->put({"fn", "2", 2, "t"}));
  run(store_->put({"other", "1", 4, "t"}));
  run(store_->remove("fn", "1"));
  auto rows = load();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].function_name, "fn");
  EXPECT_EQ(rows[0].qualifier, "2");
  run(store_->remove_function("fn"));
  rows = load();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].function_name, "other");
}

}  // namespace
}  // namespace lambent::store
