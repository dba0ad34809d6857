#include "lambent/services/apigateway/router.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

std::shared_ptr<const HttpApi> make_api(const std::string& route_key) {
  auto api = std::make_shared<HttpApi>();
  api->id = "api1";
  HttpRoute route;
  route.id = "r1";
  route.route_key = route_key;
  api->live.routes[route.id] = route;
  HttpStage stage;
  stage.name = "$default";
  stage.auto_deploy = true;
  api->stages[stage.name] = stage;
  return api;
}

TEST(RouterCache, ReusesRouterWithinGeneration) {
  RouterCache cache;
  auto api = make_api("GET /a");
  auto first = cache.http(1, api, api->stages.at("$default"));
  auto second = cache.http(1, api, api->stages.at("$default"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first.get(), second.get());
}

TEST(RouterCache, RebuildsWhenGenerationMoves) {
  RouterCache cache;
  auto old_api = make_api("GET /a");
  auto old_router = cache.http(1, old_api, old_api->stages.at("$default"));
  ASSERT_TRUE(old_router->match("GET", "/a"));

  auto new_api = make_api("GET /b");
  auto new_router = cache.http(2, new_api, new_api->stages.at("$default"));
  EXPECT_NE(old_router.get(), new_router.get());
  EXPECT_FALSE(new_router->match("GET", "/a"));
  EXPECT_TRUE(new_router->match("GET", "/b"));
  // A router handed out earlier keeps working on the configuration it was built from.
  EXPECT_TRUE(old_router->match("GET", "/a"));
}

TEST(RouterCache, NullForStageWithoutDeployment) {
  RouterCache cache;
  auto api = std::const_pointer_cast<HttpApi>(make_api("GET /a"));
  HttpStage manual;
  manual.name = "manual";
  api->stages[manual.name] = manual;
  EXPECT_FALSE(cache.http(1, api, api->stages.at("manual")));
}

TEST(RouterCache, RestRouterFromDeployment) {
  RouterCache cache;
  RestApi api;
  api.id = "rest1";
  auto tree = std::make_shared<RestResourceTree>();
  RestResource root;
  root.id = "root";
  root.path = "/";
  root.methods["GET"].http_method = "GET";
  (*tree)[root.id] = root;
  RestDeployment deployment;
  deployment.id = "d1";
  deployment.snapshot = tree;
  api.deployments[deployment.id] = deployment;
  RestStage stage;
  stage.name = "prod";
  stage.deployment_id = "d1";
  api.stages[stage.name] = stage;

  auto router = cache.rest(1, api, api.stages.at("prod"));
  ASSERT_TRUE(router);
  EXPECT_TRUE(router->match("GET", "/"));
  RestStage orphan = stage;
  orphan.name = "orphan";
  orphan.deployment_id = "missing";
  EXPECT_FALSE(cache.rest(1, api, orphan));
}

}  // namespace
}  // namespace lambent::services::apigateway
