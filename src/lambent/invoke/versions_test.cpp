#include "lambent/invoke/versions.h"

#include "lambent/invoke/invoker.h"
#include "lambent/store/code_store.h"
#include "lambent/store/repository.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace lambent::invoke {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kRunLimit = 20s;
constexpr std::string_view kArn = "arn:aws:lambda:us-east-1:000000000000:function:fn";

store::AliasRecord alias_with_routing(std::string version, std::string extra, double weight) {
  store::AliasRecord alias;
  alias.function_name = "fn";
  alias.name = "live";
  alias.function_version = std::move(version);
  alias.additional_version = std::make_pair(std::move(extra), weight);
  alias.revision_id = "alias-rev";
  return alias;
}

TEST(VersionNumber, AcceptsDigitsOnly) {
  EXPECT_TRUE(is_version_number("1"));
  EXPECT_TRUE(is_version_number("42"));
  EXPECT_FALSE(is_version_number(""));
  EXPECT_FALSE(is_version_number("$LATEST"));
  EXPECT_FALSE(is_version_number("-1"));
  EXPECT_FALSE(is_version_number("1a"));
  EXPECT_FALSE(is_version_number("live"));
}

TEST(AliasRouting, PicksAdditionalBelowWeight) {
  auto alias = alias_with_routing("1", "2", 0.3);
  EXPECT_EQ(pick_alias_version(alias, 0.0), "2");
  EXPECT_EQ(pick_alias_version(alias, 0.2999), "2");
  EXPECT_EQ(pick_alias_version(alias, 0.3), "1");
  EXPECT_EQ(pick_alias_version(alias, 0.9999), "1");
}

TEST(AliasRouting, WeightBoundsAndNoRouting) {
  EXPECT_EQ(pick_alias_version(alias_with_routing("1", "2", 0.0), 0.0), "1");
  EXPECT_EQ(pick_alias_version(alias_with_routing("1", "2", 1.0), 0.9999), "2");
  auto plain = alias_with_routing("3", "2", 0.5);
  plain.additional_version.reset();
  EXPECT_EQ(pick_alias_version(plain, 0.0), "3");
}

store::FunctionRecord function_record(const std::string& revision) {
  store::FunctionRecord r;
  r.name = "fn";
  r.runtime = "python3.12";
  r.handler = "app.handler";
  r.role = "arn:aws:iam::123456789012:role/lambda-role";
  r.code_sha256_hex = std::string(64, 'a');
  r.revision_id = revision;
  return r;
}

// An Invoker started on a data directory that already contains a function with two versions
// and two aliases, as after a restart. No environment is started.
class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-resolve-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto repo = store::Repository::open(dir_);
    ASSERT_TRUE(repo.ok()) << repo.error().message;
    repo_ = std::move(repo).value();
    code_ = std::make_unique<store::CodeStore>(dir_ / "code");

    store::VersionStore versions(repo_->db());
    ASSERT_TRUE(run(repo_->put_function(function_record("latest-0"))).ok());
    store::PublishedVersion first{1, function_record("version-1")};
    ASSERT_TRUE(run(versions.publish(first, function_record("latest-1"))).ok());
    store::PublishedVersion second{2, function_record("version-2")};
    ASSERT_TRUE(run(versions.publish(second, function_record("latest-2"))).ok());
    ASSERT_TRUE(run(versions.put_alias(alias_with_routing("1", "2", 0.3))).ok());
    store::AliasRecord edge;
    edge.function_name = "fn";
    edge.name = "edge";
    edge.function_version = "$LATEST";
    edge.revision_id = "edge-rev";
    ASSERT_TRUE(run(versions.put_alias(edge)).ok());

    runtime::EnvironmentContext context;
    context.executor = ctx_.get_executor();
    manager_ = std::make_unique<runtime::Manager>(context, runtime::ManagerOptions{});
    invoker_ = std::make_unique<Invoker>(*manager_, *repo_, *code_, InvokerOptions{});
    ASSERT_TRUE(invoker_->start().ok());
  }

  void TearDown() override {
    invoker_.reset();
    manager_.reset();
    repo_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  template <typename T>
  T run(Task<T> task) {
    std::optional<T> out;
    auto wrapper = [](Task<T> inner, std::optional<T>& slot) -> Task<void> {
      slot.emplace(co_await std::move(inner));
    };
    ctx_.restart();
    asio::co_spawn(ctx_, wrapper(std::move(task), out), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
    auto deadline = std::chrono::steady_clock::now() + kRunLimit;
    while (!out && std::chrono::steady_clock::now() < deadline) ctx_.run_one_for(100ms);
    if (!out) throw std::runtime_error("coroutine did not finish within the run limit");
    return std::move(*out);
  }

  asio::io_context ctx_;
  fs::path dir_;
  std::unique_ptr<store::Repository> repo_;
  std::unique_ptr<store::CodeStore> code_;
  std::unique_ptr<runtime::Manager> manager_;
  std::unique_ptr<Invoker> invoker_;
};

TEST_F(ResolveTest, LatestAndVersions) {
  auto unqualified = invoker_->resolve("fn", std::nullopt);
  ASSERT_TRUE(unqualified.ok());
  EXPECT_EQ(unqualified->spec->version, "$LATEST");
  EXPECT_EQ(unqualified->invoked_arn, kArn);
  EXPECT_EQ(unqualified->spec->config.revision_id, "latest-2");

  auto latest = invoker_->resolve("fn", "$LATEST");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->invoked_arn, std::string(kArn) + ":$LATEST");

  auto first = invoker_->resolve("fn", "1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->spec->version, "1");
  EXPECT_EQ(first->spec->config.revision_id, "version-1");
  EXPECT_EQ(first->spec->pool_key(), "fn:1");
  EXPECT_EQ(first->invoked_arn, std::string(kArn) + ":1");
  EXPECT_TRUE(first->alias.empty());
}

TEST_F(ResolveTest, NotFoundNamesQualifiedArn) {
  auto missing_version = invoker_->resolve("fn", "9");
  ASSERT_FALSE(missing_version.ok());
  EXPECT_EQ(missing_version.error().code, Errc::not_found);
  EXPECT_EQ(missing_version.error().message, "Function not found: " + std::string(kArn) + ":9");

  auto missing_alias = invoker_->resolve("fn", "nope");
  ASSERT_FALSE(missing_alias.ok());
  EXPECT_EQ(missing_alias.error().message, "Function not found: " + std::string(kArn) + ":nope");

  auto missing_function = invoker_->resolve("other", "$LATEST");
  ASSERT_FALSE(missing_function.ok());
  EXPECT_EQ(missing_function.error().message,
            "Function not found: arn:aws:lambda:us-east-1:000000000000:function:other:$LATEST");

  EXPECT_TRUE(invoker_->qualifier_exists("fn", "$LATEST"));
  EXPECT_TRUE(invoker_->qualifier_exists("fn", "2"));
  EXPECT_TRUE(invoker_->qualifier_exists("fn", "live"));
  EXPECT_FALSE(invoker_->qualifier_exists("fn", "3"));
  EXPECT_FALSE(invoker_->qualifier_exists("other", "$LATEST"));
}

TEST_F(ResolveTest, AliasToLatest) {
  auto edge = invoker_->resolve("fn", "edge");
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->spec->version, "$LATEST");
  EXPECT_EQ(edge->alias, "edge");
  EXPECT_EQ(edge->invoked_arn, std::string(kArn) + ":edge");
}

TEST_F(ResolveTest, AliasRoutingSplitsByWeight) {
  constexpr int kCalls = 4000;
  int additional = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto resolved = invoker_->resolve("fn", "live");
    ASSERT_TRUE(resolved.ok());
    EXPECT_EQ(resolved->alias, "live");
    EXPECT_EQ(resolved->invoked_arn, std::string(kArn) + ":live");
    if (resolved->spec->version == "2") {
      ++additional;
    } else {
      ASSERT_EQ(resolved->spec->version, "1");
    }
  }
  // Binomial(4000, 0.3) has mean 1200 and standard deviation 29. Allow 5 deviations.
  double sigma = std::sqrt(kCalls * 0.3 * 0.7);
  EXPECT_LE(std::abs(additional - 1200), 5 * sigma) << additional;

  // describe() ignores routing: an alias shows its primary version.
  for (int i = 0; i < 50; ++i) {
    auto described = invoker_->describe("fn", "live");
    ASSERT_TRUE(described.ok());
    EXPECT_EQ(described->spec->version, "1");
  }
}

TEST_F(ResolveTest, PublishUnchangedReturnsNewest) {
  auto again = run(invoker_->publish("fn", std::nullopt));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->version, "2");
  EXPECT_EQ((*again)->config.revision_id, "version-2");
}

TEST_F(ResolveTest, PublishAfterChangeNumbersNext) {
  store::FunctionRecord changed = function_record("latest-3");
  changed.description = "changed";
  ASSERT_TRUE(run(invoker_->put(changed)).ok());
  std::optional<std::string> description = "third";
  auto third = run(invoker_->publish("fn", description));
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ((*third)->version, "3");
  EXPECT_EQ((*third)->config.description, "third");
  // $LATEST got a new RevisionId and kept its own description.
  auto latest = invoker_->find("fn");
  EXPECT_NE(latest->config.revision_id, "latest-3");
  EXPECT_EQ(latest->config.description, "changed");
  EXPECT_EQ(invoker_->list_versions("fn").size(), 3u);
}

TEST_F(ResolveTest, CodeInUseCountsVersions) {
  EXPECT_TRUE(invoker_->code_in_use(std::string(64, 'a')));
  store::FunctionRecord moved = function_record("latest-4");
  moved.code_sha256_hex = std::string(64, 'b');
  ASSERT_TRUE(run(invoker_->put(moved)).ok());
  // $LATEST moved to other code, but versions 1 and 2 still use the first package.
  EXPECT_TRUE(invoker_->code_in_use(std::string(64, 'a')));
  EXPECT_TRUE(invoker_->code_in_use(std::string(64, 'b')));
  EXPECT_FALSE(invoker_->code_in_use(std::string(64, 'c')));
}

}  // namespace
}  // namespace lambent::invoke
