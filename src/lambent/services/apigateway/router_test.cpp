#include "lambent/services/apigateway/router.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

std::shared_ptr<const HttpRouteSet> make_routes(const std::vector<std::string>& keys) {
  auto routes = std::make_shared<HttpRouteSet>();
  int n = 0;
  for (const auto& key : keys) {
    HttpRoute route;
    route.id = "r" + std::to_string(n++);
    route.route_key = key;
    routes->routes[route.id] = route;
  }
  return routes;
}

// Returns the matched route key, or "" when nothing matches.
std::string key_of(const HttpRouter& router, std::string_view method, std::string_view path) {
  auto match = router.match(method, path);
  return match ? match->route->route_key : "";
}

TEST(HttpRouter, FollowsDocumentedPrecedence) {
  // The example routes and requests of API Gateway's "Routing API requests" section.
  HttpRouter router(make_routes({"GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}",
                                 "ANY /{proxy+}", "$default"}));
  EXPECT_EQ(key_of(router, "GET", "/pets/dog/1"), "GET /pets/dog/1");
  EXPECT_EQ(key_of(router, "GET", "/pets/dog/2"), "GET /pets/dog/{id}");
  EXPECT_EQ(key_of(router, "GET", "/pets/cat/1"), "GET /pets/{proxy+}");
  EXPECT_EQ(key_of(router, "POST", "/pets/dog/1"), "ANY /{proxy+}");
  EXPECT_EQ(key_of(router, "GET", "/"), "$default");
}

TEST(HttpRouter, ConcreteMethodBeatsAny) {
  HttpRouter router(make_routes({"ANY /items", "GET /items"}));
  EXPECT_EQ(key_of(router, "GET", "/items"), "GET /items");
  EXPECT_EQ(key_of(router, "DELETE", "/items"), "ANY /items");
}

TEST(HttpRouter, LiteralSegmentBeatsVariableAtFirstDifference) {
  HttpRouter router(make_routes({"GET /{a}/dog/toys", "GET /pets/{b}/toys"}));
  EXPECT_EQ(key_of(router, "GET", "/pets/dog/toys"), "GET /pets/{b}/toys");
  EXPECT_EQ(key_of(router, "GET", "/cats/dog/toys"), "GET /{a}/dog/toys");
}

TEST(HttpRouter, BacktracksWhenSpecificBranchLacksMethod) {
  HttpRouter router(make_routes({"GET /pets/dog", "POST /pets/{id}"}));
  EXPECT_EQ(key_of(router, "POST", "/pets/dog"), "POST /pets/{id}");
}

TEST(HttpRouter, NoMatchWithoutDefaultRoute) {
  HttpRouter router(make_routes({"GET /pets"}));
  EXPECT_FALSE(router.match("GET", "/dogs"));
  EXPECT_FALSE(router.match("POST", "/pets"));
  EXPECT_FALSE(router.match("GET", "/pets/1"));
}

TEST(HttpRouter, GreedyNeedsOneSegment) {
  HttpRouter router(make_routes({"ANY /files/{path+}"}));
  EXPECT_FALSE(router.match("GET", "/files"));
  EXPECT_FALSE(router.match("GET", "/files/"));
  EXPECT_EQ(key_of(router, "GET", "/files/a"), "ANY /files/{path+}");
}

TEST(HttpRouter, IgnoresTrailingAndRepeatedSlashes) {
  HttpRouter router(make_routes({"GET /pets/{id}", "GET /"}));
  EXPECT_EQ(key_of(router, "GET", "/pets/1/"), "GET /pets/{id}");
  EXPECT_EQ(key_of(router, "GET", "//pets//1"), "GET /pets/{id}");
  EXPECT_EQ(key_of(router, "GET", "/"), "GET /");
  EXPECT_EQ(key_of(router, "GET", ""), "GET /");
}

TEST(HttpRouter, MatchesCaseSensitively) {
  HttpRouter router(make_routes({"GET /Pets"}));
  EXPECT_FALSE(router.match("GET", "/pets"));
  EXPECT_FALSE(router.match("get", "/Pets"));
  EXPECT_TRUE(router.match("GET", "/Pets"));
}

TEST(HttpRouter, DecodesPathParameters) {
  HttpRouter router(make_routes({"GET /users/{user}/files/{path+}"}));
  auto match = router.match("GET", "/users/j%C3%B6rg%20k/files/a%2Fb/c%20d/e.txt");
  ASSERT_TRUE(match);
  ASSERT_EQ(match->path_parameters.size(), 2u);
  EXPECT_EQ(match->path_parameters[0].first, "user");
  EXPECT_EQ(match->path_parameters[0].second, "j\xC3\xB6rg k");
  EXPECT_EQ(match->path_parameters[1].first, "path");
  EXPECT_EQ(match->path_parameters[1].second, "a/b/c d/e.txt");
}

TEST(HttpRouter, EncodedSlashStaysInOneSegment) {
  HttpRouter router(make_routes({"GET /items/{id}"}));
  auto match = router.match("GET", "/items/a%2Fb");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->path_parameters[0].second, "a/b");
}

TEST(HttpRouter, LiteralComparesDecodedSegment) {
  HttpRouter router(make_routes({"GET /caf\xC3\xA9"}));
  EXPECT_TRUE(router.match("GET", "/caf%C3%A9"));
}

TEST(HttpRouter, MalformedEscapeKeptRaw) {
  HttpRouter router(make_routes({"GET /items/{id}"}));
  auto match = router.match("GET", "/items/100%zz");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->path_parameters[0].second, "100%zz");
}

TEST(HttpRouter, DefaultRouteHasNoParameters) {
  HttpRouter router(make_routes({"$default"}));
  auto match = router.match("PATCH", "/any/thing");
  ASSERT_TRUE(match);
  EXPECT_EQ(match->route->route_key, "$default");
  EXPECT_TRUE(match->path_parameters.empty());
}

TEST(PathPattern, RejectsGreedyBeforeLastSegment) {
  EXPECT_FALSE(parse_path_pattern("/{proxy+}/x"));
  EXPECT_FALSE(parse_path_pattern("pets"));
  EXPECT_FALSE(parse_path_pattern("/{}"));
  auto pattern = parse_path_pattern("/a/{b}/{c+}");
  ASSERT_TRUE(pattern);
  EXPECT_EQ(pattern->segments.size(), 3u);
}

std::shared_ptr<const RestResourceTree> make_tree(
    const std::vector<std::pair<std::string, std::vector<std::string>>>& resources) {
  auto tree = std::make_shared<RestResourceTree>();
  int n = 0;
  for (const auto& [path, methods] : resources) {
    RestResource resource;
    resource.id = "res" + std::to_string(n++);
    resource.path = path;
    for (const auto& method : methods) {
      RestMethod m;
      m.http_method = method;
      resource.methods[method] = m;
    }
    (*tree)[resource.id] = resource;
  }
  return tree;
}

TEST(RestRouter, PicksMostSpecificResource) {
  RestRouter router(make_tree({{"/", {"GET"}},
                               {"/pets", {"GET", "POST"}},
                               {"/pets/{petId}", {"GET"}},
                               {"/{proxy+}", {"ANY"}}}));
  auto root = router.match("GET", "/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->resource->path, "/");

  auto pets = router.match("POST", "/pets/");
  ASSERT_TRUE(pets);
  EXPECT_EQ(pets->resource->path, "/pets");
  EXPECT_EQ(pets->method->http_method, "POST");

  auto pet = router.match("GET", "/pets/7");
  ASSERT_TRUE(pet);
  EXPECT_EQ(pet->resource->path, "/pets/{petId}");
  ASSERT_EQ(pet->path_parameters.size(), 1u);
  EXPECT_EQ(pet->path_parameters[0].first, "petId");
  EXPECT_EQ(pet->path_parameters[0].second, "7");

  auto other = router.match("DELETE", "/pets/7");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->resource->path, "/{proxy+}");
  EXPECT_EQ(other->method->http_method, "ANY");
  EXPECT_EQ(other->path_parameters[0].second, "pets/7");
}

TEST(RestRouter, NoMatchWithoutMethod) {
  RestRouter router(make_tree({{"/", {}}, {"/pets", {"GET"}}}));
  EXPECT_FALSE(router.match("GET", "/"));
  EXPECT_FALSE(router.match("PUT", "/pets"));
  EXPECT_FALSE(router.match("GET", "/pets/1"));
}

}  // namespace
}  // namespace lambent::services::apigateway
