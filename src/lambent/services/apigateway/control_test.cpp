#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/registry.h"
#include "lambent/store/document_store.h"
#include "lambent/store/repository.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>

// The control service against a real Registry and SQLite store: what the operations leave in
// the registry is what the data plane serves.
namespace lambent::services::apigateway {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kFunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:orders";

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-control-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto repository = store::Repository::open(dir_);
    ASSERT_TRUE(repository.ok()) << repository.error().message;
    repository_ = std::move(repository).value();
    documents_ = std::make_unique<store::DocumentStore>(repository_->db());
    registry_ = std::make_unique<Registry>(*documents_);
    ASSERT_TRUE(registry_->load().ok());
    ControlOptions options;
    options.port = 4566;
    options.now = [] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(1796436762));
    };
    control_ = std::make_unique<ControlService>(*registry_, options);
  }

  void TearDown() override {
    control_.reset();
    registry_.reset();
    documents_.reset();
    repository_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Sends one request and returns its status and parsed body (null for an empty body).
  std::pair<unsigned, json::value> call(std::string method, std::string target,
                                        json::object body = {}) {
    http::Request request;
    request.method = std::move(method);
    request.target = std::move(target);
    if (!body.empty()) request.body = json::serialize(body);
    auto run = [](ControlService* control, http::Request request) -> Task<Result<http::Response>> {
      co_return co_await control->handle(request, "req-1");
    };
    Result<http::Response> response = store::testing::run_task(run(control_.get(), request));
    json::value parsed;
    if (!response->body.empty()) parsed = json::parse(response->body);
    return {response->status, parsed};
  }

  std::string create(std::string target, json::object body, std::string_view id_field) {
    auto [status, created] = call("POST", std::move(target), std::move(body));
    EXPECT_EQ(status, 201u) << json::serialize(created);
    if (!created.is_object() || !created.as_object().contains(id_field)) return "";
    return std::string(created.at(id_field).as_string());
  }

  fs::path dir_;
  std::unique_ptr<store::Repository> repository_;
  std::unique_ptr<store::DocumentStore> documents_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ControlService> control_;
};

TEST_F(ControlTest, QuickCreateServesDefaultStage) {
  std::string api_id = create("/v2/apis",
                              {{"name", "quick"},
                               {"protocolType", "HTTP"},
                               {"target", std::string(kFunctionArn) + ":live"}},
                              "apiId");
  auto api = registry_->http_api(api_id);
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->created_date, "2026-12-05T02:12:42Z");
  const HttpStage& stage = api->stages.at("$default");
  EXPECT_TRUE(stage.auto_deploy);
  auto served = Registry::served_routes(api, stage);
  ASSERT_NE(served, nullptr);
  ASSERT_EQ(served->routes.size(), 1u);
  const HttpRoute& route = served->routes.begin()->second;
  EXPECT_EQ(route.route_key, "$default");
  ASSERT_TRUE(route.target.starts_with("integrations/"));
  const HttpIntegration& integration = served->integrations.at(route.target.substr(13));
  EXPECT_EQ(integration.target.function_name, "orders");
  EXPECT_EQ(integration.target.qualifier, "live");
  EXPECT_EQ(integration.payload_format_version, "2.0");
  EXPECT_EQ(integration.timeout_ms, 30000);
}

TEST_F(ControlTest, DeploymentKeepsItsSnapshot) {
  std::string api_id = create("/v2/apis", {{"name", "a"}, {"protocolType", "HTTP"}}, "apiId");
  std::string base = "/v2/apis/" + api_id;
  std::string integration_id = create(base + "/integrations",
                                      {{"integrationType", "AWS_PROXY"},
                                       {"integrationUri", kFunctionArn},
                                       {"payloadFormatVersion", "1.0"}},
                                      "integrationId");
  create(base + "/routes",
         {{"routeKey", "GET /items/{id}"}, {"target", "integrations/" + integration_id}},
         "routeId");
  create(base + "/stages",
         {{"stageName", "prod"},
          {"stageVariables", {{"table", "orders"}}},
          {"defaultRouteSettings", {{"throttlingBurstLimit", 5}, {"throttlingRateLimit", 2.5}}},
          {"routeSettings", {{"GET /items/{id}", {{"throttlingRateLimit", 1}}}}}},
         "stageName");
  std::string deployment_id =
      create(base + "/deployments", {{"stageName", "prod"}}, "deploymentId");
  create(base + "/routes", {{"routeKey", "POST /items"}}, "routeId");

  auto api = registry_->http_api(api_id);
  const HttpStage& stage = api->stages.at("prod");
  EXPECT_EQ(stage.deployment_id, deployment_id);
  EXPECT_EQ(stage.stage_variables.at("table"), "orders");
  EXPECT_EQ(stage.default_route_throttle.burst_limit, 5);
  EXPECT_EQ(stage.default_route_throttle.rate_limit, 2.5);
  EXPECT_EQ(stage.route_throttles.at("GET /items/{id}").rate_limit, 1.0);
  auto served = Registry::served_routes(api, stage);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->routes.size(), 1u);
  EXPECT_EQ(api->live.routes.size(), 2u);
  EXPECT_EQ(served->integrations.at(integration_id).payload_format_version, "1.0");
}

TEST_F(ControlTest, RenamingRouteMovesItsSettings) {
  std::string api_id = create("/v2/apis", {{"name", "a"}, {"protocolType", "HTTP"}}, "apiId");
  std::string base = "/v2/apis/" + api_id;
  std::string route_id = create(base + "/routes", {{"routeKey", "GET /a"}}, "routeId");
  create(base + "/stages",
         {{"stageName", "dev"}, {"routeSettings", {{"GET /a", {{"throttlingBurstLimit", 3}}}}}},
         "stageName");
  auto [status, body] = call("PATCH", base + "/routes/" + route_id, {{"routeKey", "GET /b"}});
  EXPECT_EQ(status, 200u) << json::serialize(body);
  const HttpStage& stage = registry_->http_api(api_id)->stages.at("dev");
  EXPECT_FALSE(stage.route_throttles.contains("GET /a"));
  EXPECT_EQ(stage.route_throttles.at("GET /b").burst_limit, 3);
}

TEST_F(ControlTest, RestDeploymentServesResourceTree) {
  std::string api_id = create("/restapis", {{"name", "shop"}}, "id");
  std::string base = "/restapis/" + api_id;
  std::string root = registry_->rest_api(api_id)->root_resource_id;
  std::string proxy = create(base + "/resources/" + root, {{"pathPart", "{proxy+}"}}, "id");
  std::string method_path = base + "/resources/" + proxy + "/methods/ANY";
  EXPECT_EQ(call("PUT", method_path, {{"authorizationType", "NONE"}}).first, 201u);
  std::string uri = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" +
                    std::string(kFunctionArn) + ":7/invocations";
  auto [status, body] = call(
      "PUT", method_path + "/integration",
      {{"type", "AWS_PROXY"}, {"httpMethod", "POST"}, {"uri", uri}, {"timeoutInMillis", 5000}});
  EXPECT_EQ(status, 201u) << json::serialize(body);
  create(base + "/deployments", {{"stageName", "dev"}, {"variables", {{"alias", "live"}}}}, "id");
  auto [patched, stage_body] =
      call("PATCH", base + "/stages/dev",
           {{"patchOperations",
             {{{"op", "replace"}, {"path", "/*/*/throttling/rateLimit"}, {"value", "10"}},
              {{"op", "replace"}, {"path", "/*/*/throttling/burstLimit"}, {"value", "20"}}}}});
  EXPECT_EQ(patched, 200u) << json::serialize(stage_body);

  auto api = registry_->rest_api(api_id);
  const RestStage& stage = api->stages.at("dev");
  EXPECT_EQ(stage.variables.at("alias"), "live");
  EXPECT_EQ(stage.throttle.rate_limit, 10.0);
  EXPECT_EQ(stage.throttle.burst_limit, 20);
  auto served = Registry::served_resources(*api, stage);
  ASSERT_NE(served, nullptr);
  const RestResource& resource = served->at(proxy);
  EXPECT_EQ(resource.path, "/{proxy+}");
  const RestIntegration& integration = *resource.methods.at("ANY").integration;
  EXPECT_EQ(integration.target.function_name, "orders");
  EXPECT_EQ(integration.target.qualifier, "7");
  EXPECT_EQ(integration.timeout_ms, 5000);
}

TEST_F(ControlTest, UnknownPathIsNotImplemented) {
  auto [status, body] = call("GET", "/v2/apis/x/authorizers");
  EXPECT_EQ(status, 501u);
  auto [rest_status, rest_body] = call("GET", "/restapis/x/authorizers");
  EXPECT_EQ(rest_status, 501u);
  EXPECT_NE(std::string(rest_body.at("message").as_string()).find("docs/compat/apigateway.md"),
            std::string::npos);
  auto [keys_status, keys_body] = call("GET", "/apikeys");
  EXPECT_EQ(keys_status, 501u);
}

}  // namespace
}  // namespace lambent::services::apigateway
