#include "lambent/services/apigateway/stage_variables.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

const std::map<std::string, std::string> kVariables = {
    {"fn", "orders"}, {"alias", "live"}, {"env", "prod"}, {"pair", "orders:blue"},
    {"bad", "no/slash"}, {"empty", ""}, {"latest", "$LATEST"}};

TEST(StageVariables, LeavesPlainTargetsAlone) {
  LambdaTarget plain{"orders", "7"};
  auto resolved = resolve_stage_variables(plain, {});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->function_name, "orders");
  EXPECT_EQ(resolved->qualifier, "7");
}

TEST(StageVariables, ResolvesNameAndQualifier) {
  auto name = resolve_stage_variables({"${stageVariables.fn}", std::nullopt, true}, kVariables);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(name->function_name, "orders");
  EXPECT_FALSE(name->qualifier.has_value());
  EXPECT_FALSE(name->uses_stage_variables);

  auto alias = resolve_stage_variables({"orders", "${stageVariables.alias}", true}, kVariables);
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(alias->function_name, "orders");
  EXPECT_EQ(alias->qualifier, "live");

  auto mixed = resolve_stage_variables(
      {"app-${stageVariables.env}-${stageVariables.fn}", "${stageVariables.latest}", true},
      kVariables);
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  EXPECT_EQ(mixed->function_name, "app-prod-orders");
  EXPECT_EQ(mixed->qualifier, "$LATEST");

  // A value with a colon fills both parts of FUNCTION_NAME:QUALIFIER.
  auto pair = resolve_stage_variables({"${stageVariables.pair}", std::nullopt, true}, kVariables);
  ASSERT_TRUE(pair.ok()) << pair.error().message;
  EXPECT_EQ(pair->function_name, "orders");
  EXPECT_EQ(pair->qualifier, "blue");
}

TEST(StageVariables, FailsOnMissingVariable) {
  auto missing = resolve_stage_variables({"${stageVariables.nope}", std::nullopt, true}, kVariables);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);

  auto missing_alias =
      resolve_stage_variables({"orders", "${stageVariables.alias}", true}, {{"fn", "x"}});
  EXPECT_FALSE(missing_alias.ok());
}

TEST(StageVariables, FailsOnInvalidResolvedNames) {
  for (const LambdaTarget& target : {
           LambdaTarget{"${stageVariables.bad}", std::nullopt, true},
           LambdaTarget{"${stageVariables.empty}", std::nullopt, true},
           LambdaTarget{"orders", "${stageVariables.empty}", true},
           LambdaTarget{"orders", "${stageVariables.bad}", true},
           LambdaTarget{"${stageVariables.pair}", "${stageVariables.alias}", true},
           LambdaTarget{std::string(60, 'a') + "${stageVariables.fn}", std::nullopt, true},
       }) {
    auto resolved = resolve_stage_variables(target, kVariables);
    ASSERT_FALSE(resolved.ok()) << target.function_name;
    EXPECT_EQ(resolved.error().code, Errc::invalid_parameter);
  }
}

}  // namespace
}  // namespace lambent::services::apigateway
