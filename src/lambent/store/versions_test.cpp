#include "lambent/store/versions.h"
#include "lambent/store/test_support.h"

#include "lambent/store/repository.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

namespace lambent::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Upper bound for each io_context run, so a lost completion fails the test instead of hanging.

FunctionRecord function_record(const std::string& name, const std::string& revision) {
  FunctionRecord r;
  r.name = name;
  r.runtime = "python3.12";
  r.handler = "app.handler";
  r.role = "arn:aws:iam::123456789012:role/lambda-role";
  r.code_sha256_hex = std::string(64, 'a');
  r.code_sha256_base64 = "qqqq";
  r.code_size = 10;
  r.last_modified = "2024-01-02T03:04:05.678+0000";
  r.revision_id = revision;
  return r;
}

class VersionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-versions-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    versions_.reset();
    repo_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto repo = Repository::open(dir_);
    ASSERT_TRUE(repo.ok()) << repo.error().message;
    repo_ = std::move(repo).value();
    versions_ = std::make_unique<VersionStore>(repo_->db());
  }

  // Closes the database and opens it again, as a server restart does.
  void reopen() {
    versions_.reset();
    repo_.reset();
    open();
  }

  Status run(Task<Status> task) { return testing::run_task(std::move(task)); }

  void publish(const std::string& name, int number, const std::string& latest_revision) {
    PublishedVersion version{number, function_record(name, "version-" + std::to_string(number))};
    version.config.description = "version " + std::to_string(number);
    auto published = run(versions_->publish(version, function_record(name, latest_revision)));
    ASSERT_TRUE(published.ok()) << published.error().message;
  }

  LoadedVersions load() {
    auto loaded = versions_->load();
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? std::move(loaded).value() : LoadedVersions{};
  }

  fs::path dir_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<VersionStore> versions_;
};

TEST_F(VersionStoreTest, PublishSurvivesReopen) {
  ASSERT_TRUE(run(repo_->put_function(function_record("fn", "latest-0"))).ok());
  publish("fn", 1, "latest-1");
  publish("fn", 2, "latest-2");
  reopen();

  auto loaded = load();
  ASSERT_EQ(loaded.versions.size(), 2u);
  EXPECT_EQ(loaded.versions[0].number, 1);
  EXPECT_EQ(loaded.versions[0].config.description, "version 1");
  EXPECT_EQ(loaded.versions[0].config.revision_id, "version-1");
  EXPECT_EQ(loaded.versions[1].number, 2);
  ASSERT_EQ(loaded.states.size(), 1u);
  EXPECT_EQ(loaded.states[0].function_name, "fn");
  EXPECT_EQ(loaded.states[0].last_version, 2);
  EXPECT_EQ(loaded.states[0].published_revision, "latest-2");

  // Publishing stores $LATEST's new RevisionId in the functions table in the same transaction.
  auto functions = repo_->load_functions();
  ASSERT_TRUE(functions.ok());
  ASSERT_EQ(functions->size(), 1u);
  EXPECT_EQ((*functions)[0].revision_id, "latest-2");
}

TEST_F(VersionStoreTest, DuplicateVersionNumberFails) {
  ASSERT_TRUE(run(repo_->put_function(function_record("fn", "latest-0"))).ok());
  publish("fn", 1, "latest-1");
  PublishedVersion duplicate{1, function_record("fn", "other")};
  auto published = run(versions_->publish(duplicate, function_record("fn", "latest-9")));
  EXPECT_FALSE(published.ok());
  // The failed job rolled back its savepoint, so $LATEST keeps the earlier RevisionId.
  auto functions = repo_->load_functions();
  ASSERT_TRUE(functions.ok());
  EXPECT_EQ((*functions)[0].revision_id, "latest-1");
}

TEST_F(VersionStoreTest, AliasRoundTrip) {
  AliasRecord alias;
  alias.function_name = "fn";
  alias.name = "live";
  alias.function_version = "1";
  alias.description = "canary";
  alias.additional_version = std::make_pair(std::string("2"), 0.3);
  alias.revision_id = "alias-rev-1";
  ASSERT_TRUE(run(versions_->put_alias(alias)).ok());
  AliasRecord plain = alias;
  plain.name = "stable";
  plain.additional_version.reset();
  ASSERT_TRUE(run(versions_->put_alias(plain)).ok());

  alias.function_version = "2";
  alias.additional_version = std::make_pair(std::string("3"), 0.125);
  alias.revision_id = "alias-rev-2";
  ASSERT_TRUE(run(versions_->put_alias(alias)).ok());
  reopen();

  auto loaded = load();
  ASSERT_EQ(loaded.aliases.size(), 2u);
  const auto& live = loaded.aliases[0];
  EXPECT_EQ(live.name, "live");
  EXPECT_EQ(live.function_version, "2");
  EXPECT_EQ(live.description, "canary");
  EXPECT_EQ(live.revision_id, "alias-rev-2");
  ASSERT_TRUE(live.additional_version.has_value());
  EXPECT_EQ(live.additional_version->first, "3");
  EXPECT_DOUBLE_EQ(live.additional_version->second, 0.125);
  EXPECT_EQ(loaded.aliases[1].name, "stable");
  EXPECT_FALSE(loaded.aliases[1].additional_version.has_value());

  ASSERT_TRUE(run(versions_->delete_alias("fn", "live")).ok());
  loaded = load();
  ASSERT_EQ(loaded.aliases.size(), 1u);
  EXPECT_EQ(loaded.aliases[0].name, "stable");
}

TEST_F(VersionStoreTest, DeleteVersionKeepsOthers) {
  ASSERT_TRUE(run(repo_->put_function(function_record("fn", "latest-0"))).ok());
  publish("fn", 1, "latest-1");
  publish("fn", 2, "latest-2");
  ASSERT_TRUE(run(versions_->delete_version("fn", 1)).ok());
  auto loaded = load();
  ASSERT_EQ(loaded.versions.size(), 1u);
  EXPECT_EQ(loaded.versions[0].number, 2);
  // The counter is kept, so a later publish does not reuse number 1 or 2.
  ASSERT_EQ(loaded.states.size(), 1u);
  EXPECT_EQ(loaded.states[0].last_version, 2);
}

TEST_F(VersionStoreTest, DeleteFunctionRemovesEverything) {
  ASSERT_TRUE(run(repo_->put_function(function_record("fn", "latest-0"))).ok());
  ASSERT_TRUE(run(repo_->put_function(function_record("other", "other-0"))).ok());
  publish("fn", 1, "latest-1");
  publish("other", 1, "other-1");
  AliasRecord alias;
  alias.function_name = "fn";
  alias.name = "live";
  alias.function_version = "1";
  alias.revision_id = "alias-rev";
  ASSERT_TRUE(run(versions_->put_alias(alias)).ok());

  ASSERT_TRUE(run(versions_->delete_function("fn")).ok());
  reopen();
  auto loaded = load();
  ASSERT_EQ(loaded.versions.size(), 1u);
  EXPECT_EQ(loaded.versions[0].config.name, "other");
  EXPECT_TRUE(loaded.aliases.empty());
  ASSERT_EQ(loaded.states.size(), 1u);
  EXPECT_EQ(loaded.states[0].function_name, "other");
  auto functions = repo_->load_functions();
  ASSERT_TRUE(functions.ok());
  ASSERT_EQ(functions->size(), 1u);
  EXPECT_EQ((*functions)[0].name, "other");
}

}  // namespace
}  // namespace lambent::store
