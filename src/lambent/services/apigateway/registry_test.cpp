#include "lambent/services/apigateway/registry.h"
#include "lambent/services/apigateway/codec.h"
#include "lambent/store/document_store.h"
#include "lambent/store/repository.h"
#include "lambent/store/test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

namespace lambent::services::apigateway {
namespace {

namespace fs = std::filesystem;

HttpApi sample_http_api() {
  HttpApi api;
  api.id = "a1b2c3d4e5";
  api.name = "orders";
  api.description = "Orders, with unicode: caf\xc3\xa9";
  api.version = "1.2";
  api.cors = CorsConfig{.allow_origins = {"https://example.com"},
                        .allow_methods = {"GET", "POST"},
                        .allow_headers = {"content-type"},
                        .expose_headers = {"x-trace"},
                        .allow_credentials = true,
                        .max_age = 300};
  api.created_date = "2026-12-05T02:00:00Z";
  api.tags = {{"team", "payments"}};

  HttpIntegration integration;
  integration.id = "int0001";
  integration.integration_uri = "arn:aws:lambda:us-east-1:000000000000:function:orders:live";
  integration.payload_format_version = "1.0";
  integration.timeout_ms = 12000;
  integration.target = LambdaTarget{"orders", "live"};
  api.live.integrations[integration.id] = integration;

  HttpRoute route;
  route.id = "rt00001";
  route.route_key = "GET /orders/{id}";
  route.target = "integrations/int0001";
  route.operation_name = "GetOrder";
  api.live.routes[route.id] = route;
  HttpRoute fallback;
  fallback.id = "rt00002";
  fallback.route_key = "$default";
  api.live.routes[fallback.id] = fallback;

  HttpDeployment deployment;
  deployment.id = "dep0000001";
  deployment.description = "first";
  deployment.created_date = "2026-12-05T02:01:00Z";
  HttpRouteSet snapshot;
  snapshot.routes[route.id] = route;
  snapshot.integrations[integration.id] = integration;
  deployment.snapshot = std::make_shared<const HttpRouteSet>(snapshot);
  api.deployments[deployment.id] = deployment;

  HttpStage prod;
  prod.name = "prod";
  prod.deployment_id = deployment.id;
  prod.stage_variables = {{"table", "orders-prod"}};
  prod.default_route_throttle = ThrottleSettings{.rate_limit = 2.5, .burst_limit = 5};
  prod.route_throttles["GET /orders/{id}"] = ThrottleSettings{.rate_limit = 1, .burst_limit = {}};
  prod.created_date = "2026-12-05T02:01:00Z";
  prod.last_updated_date = "2026-12-05T02:02:00Z";
  api.stages[prod.name] = prod;
  HttpStage fallback_stage;
  fallback_stage.name = "$default";
  fallback_stage.auto_deploy = true;
  api.stages[fallback_stage.name] = fallback_stage;
  return api;
}

RestApi sample_rest_api() {
  RestApi api;
  api.id = "r1s2t3u4v5";
  api.name = "catalog";
  api.created_date = "2026-12-05T02:00:00Z";
  api.endpoint_types = {"REGIONAL"};
  api.binary_media_types = {"image/png"};
  api.root_resource_id = "root01";

  RestResource root;
  root.id = "root01";
  root.path = "/";
  RestResource proxy;
  proxy.id = "prox01";
  proxy.parent_id = "root01";
  proxy.path_part = "{proxy+}";
  proxy.path = "/{proxy+}";
  RestMethod any;
  any.http_method = "ANY";
  any.request_parameters = {{"method.request.path.proxy", true}};
  any.method_responses["200"] = RestMethodResponse{"200", {}, {{"application/json", "Empty"}}};
  RestIntegration integration;
  integration.uri =
      "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
      "arn:aws:lambda:us-east-1:000000000000:function:catalog/invocations";
  integration.target = LambdaTarget{"catalog", std::nullopt};
  integration.cache_key_parameters = {"method.request.path.proxy"};
  integration.integration_responses["200"] = RestIntegrationResponse{"200", "", {}, {}, ""};
  any.integration = integration;
  proxy.methods["ANY"] = any;
  api.resources[root.id] = root;
  api.resources[proxy.id] = proxy;

  RestDeployment deployment;
  deployment.id = "dpl001";
  deployment.created_date = "2026-12-05T02:01:00Z";
  deployment.snapshot = std::make_shared<const RestResourceTree>(api.resources);
  api.deployments[deployment.id] = deployment;

  RestStage stage;
  stage.name = "dev";
  stage.deployment_id = deployment.id;
  stage.variables = {{"alias", "live"}};
  stage.throttle = ThrottleSettings{.rate_limit = 10, .burst_limit = 20};
  api.stages[stage.name] = stage;
  return api;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lambent-apigw-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    open();
  }

  void TearDown() override {
    registry_.reset();
    documents_.reset();
    repository_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void open() {
    auto repository = store::Repository::open(dir_);
    ASSERT_TRUE(repository.ok()) << repository.error().message;
    repository_ = std::move(repository).value();
    documents_ = std::make_unique<store::DocumentStore>(repository_->db());
    registry_ = std::make_unique<Registry>(*documents_);
    auto loaded = registry_->load();
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  }

  // Closes the database and loads everything again, as a server restart does.
  void reopen() {
    registry_.reset();
    documents_.reset();
    repository_.reset();
    open();
  }

  void run(Task<Status> task) {
    auto status = store::testing::run_task(std::move(task));
    ASSERT_TRUE(status.ok()) << status.error().message;
  }

  fs::path dir_;
  std::unique_ptr<store::Repository> repository_;
  std::unique_ptr<store::DocumentStore> documents_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, HttpApiSurvivesRestart) {
  run(registry_->put_http_api(sample_http_api()));
  reopen();

  auto api = registry_->http_api("a1b2c3d4e5");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->name, "orders");
  EXPECT_EQ(api->description, "Orders, with unicode: caf\xc3\xa9");
  ASSERT_TRUE(api->cors.has_value());
  EXPECT_EQ(api->cors->allow_methods, (std::vector<std::string>{"GET", "POST"}));
  EXPECT_TRUE(api->cors->allow_credentials);
  EXPECT_EQ(api->cors->max_age, 300);
  EXPECT_EQ(api->tags.at("team"), "payments");

  ASSERT_EQ(api->live.routes.size(), 2u);
  const HttpRoute& route = api->live.routes.at("rt00001");
  EXPECT_EQ(route.route_key, "GET /orders/{id}");
  EXPECT_EQ(route.target, "integrations/int0001");
  EXPECT_EQ(route.operation_name, "GetOrder");
  const HttpIntegration& integration = api->live.integrations.at("int0001");
  EXPECT_EQ(integration.payload_format_version, "1.0");
  EXPECT_EQ(integration.timeout_ms, 12000);
  EXPECT_EQ(integration.target.function_name, "orders");
  EXPECT_EQ(integration.target.qualifier, "live");

  const HttpStage& prod = api->stages.at("prod");
  EXPECT_FALSE(prod.auto_deploy);
  EXPECT_EQ(prod.stage_variables.at("table"), "orders-prod");
  EXPECT_EQ(prod.default_route_throttle.rate_limit, 2.5);
  EXPECT_EQ(prod.default_route_throttle.burst_limit, 5);
  EXPECT_EQ(prod.route_throttles.at("GET /orders/{id}").rate_limit, 1.0);
  EXPECT_FALSE(prod.route_throttles.at("GET /orders/{id}").burst_limit.has_value());
  EXPECT_TRUE(api->stages.at("$default").auto_deploy);

  auto served = Registry::served_routes(api, prod);
  ASSERT_NE(served, nullptr);
  ASSERT_EQ(served->routes.size(), 1u);
  EXPECT_EQ(served->routes.at("rt00001").route_key, "GET /orders/{id}");
  EXPECT_EQ(served->integrations.at("int0001").target.qualifier, "live");
  EXPECT_EQ(Registry::served_routes(api, api->stages.at("$default")).get(), &api->live);

  EXPECT_EQ(encode_http_api(*api), encode_http_api(sample_http_api()));
}

TEST_F(RegistryTest, RestApiSurvivesRestart) {
  run(registry_->put_rest_api(sample_rest_api()));
  reopen();

  auto api = registry_->rest_api("r1s2t3u4v5");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->name, "catalog");
  EXPECT_EQ(api->endpoint_types, (std::vector<std::string>{"REGIONAL"}));
  EXPECT_EQ(api->binary_media_types, (std::vector<std::string>{"image/png"}));
  EXPECT_EQ(api->root_resource_id, "root01");
  ASSERT_EQ(api->resources.size(), 2u);
  const RestResource& proxy = api->resources.at("prox01");
  EXPECT_EQ(proxy.parent_id, "root01");
  EXPECT_EQ(proxy.path, "/{proxy+}");
  const RestMethod& any = proxy.methods.at("ANY");
  EXPECT_TRUE(any.request_parameters.at("method.request.path.proxy"));
  EXPECT_EQ(any.method_responses.at("200").response_models.at("application/json"), "Empty");
  ASSERT_TRUE(any.integration.has_value());
  EXPECT_EQ(any.integration->target.function_name, "catalog");
  EXPECT_FALSE(any.integration->target.qualifier.has_value());
  EXPECT_EQ(any.integration->timeout_ms, 29000);
  EXPECT_EQ(any.integration->integration_responses.at("200").status_code, "200");

  const RestStage& stage = api->stages.at("dev");
  EXPECT_EQ(stage.variables.at("alias"), "live");
  EXPECT_EQ(stage.throttle.rate_limit, 10.0);
  EXPECT_EQ(stage.throttle.burst_limit, 20);
  auto served = Registry::served_resources(*api, stage);
  ASSERT_NE(served, nullptr);
  EXPECT_EQ(served->at("prox01").methods.at("ANY").integration->target.function_name, "catalog");

  EXPECT_EQ(encode_rest_api(*api), encode_rest_api(sample_rest_api()));
}

TEST_F(RegistryTest, RemoveSurvivesRestart) {
  HttpApi second = sample_http_api();
  second.id = "zzzzzzzzzz";
  run(registry_->put_http_api(sample_http_api()));
  run(registry_->put_http_api(second));
  run(registry_->put_rest_api(sample_rest_api()));
  std::uint64_t before = registry_->generation();
  run(registry_->remove_http_api("a1b2c3d4e5"));
  run(registry_->remove_rest_api("r1s2t3u4v5"));
  EXPECT_EQ(registry_->generation(), before + 2);
  EXPECT_EQ(registry_->http_api("a1b2c3d4e5"), nullptr);

  reopen();
  EXPECT_EQ(registry_->http_api("a1b2c3d4e5"), nullptr);
  EXPECT_EQ(registry_->rest_api("r1s2t3u4v5"), nullptr);
  ASSERT_EQ(registry_->http_apis().size(), 1u);
  EXPECT_EQ(registry_->http_apis().front()->id, "zzzzzzzzzz");
  EXPECT_TRUE(registry_->rest_apis().empty());
}

TEST_F(RegistryTest, PutReplacesWholeApi) {
  run(registry_->put_http_api(sample_http_api()));
  auto old_snapshot = registry_->http_api("a1b2c3d4e5");
  HttpApi changed = *old_snapshot;
  changed.name = "renamed";
  changed.live.routes.erase("rt00002");
  run(registry_->put_http_api(changed));

  // A reader that took the old snapshot keeps it unchanged.
  EXPECT_EQ(old_snapshot->name, "orders");
  EXPECT_EQ(old_snapshot->live.routes.size(), 2u);
  reopen();
  auto api = registry_->http_api("a1b2c3d4e5");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->name, "renamed");
  EXPECT_EQ(api->live.routes.size(), 1u);
}

TEST(ApiCodec, RoundTripKeepsAbsentOptionals) {
  HttpApi api;
  api.id = "abcdefghij";
  HttpStage stage;
  stage.name = "$default";
  api.stages[stage.name] = stage;
  auto decoded = decode_http_api(encode_http_api(api));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(decoded->cors.has_value());
  EXPECT_FALSE(decoded->stages.at("$default").default_route_throttle.rate_limit.has_value());
  EXPECT_FALSE(decoded->stages.at("$default").default_route_throttle.burst_limit.has_value());
  EXPECT_EQ(decoded->protocol_type, "HTTP");
}

TEST(ApiCodec, RoundTripKeepsStageVariableTargets) {
  HttpApi api;
  api.id = "abcdefghij";
  HttpIntegration integration;
  integration.id = "int0002";
  integration.integration_uri =
      "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}:${stageVariables.v}";
  integration.target = LambdaTarget{"${stageVariables.fn}", "${stageVariables.v}", true};
  api.live.integrations[integration.id] = integration;
  auto decoded = decode_http_api(encode_http_api(api));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const LambdaTarget& target = decoded->live.integrations.at("int0002").target;
  EXPECT_EQ(target.function_name, "${stageVariables.fn}");
  EXPECT_EQ(target.qualifier, "${stageVariables.v}");
  EXPECT_TRUE(target.uses_stage_variables);

  RestApi rest = sample_rest_api();
  for (auto& [id, resource] : rest.resources) {
    for (auto& [verb, method] : resource.methods) {
      if (method.integration) {
        method.integration->target = LambdaTarget{"${stageVariables.fn}", std::nullopt, true};
      }
    }
  }
  auto decoded_rest = decode_rest_api(encode_rest_api(rest));
  ASSERT_TRUE(decoded_rest.ok()) << decoded_rest.error().message;
  EXPECT_EQ(encode_rest_api(*decoded_rest), encode_rest_api(rest));
}

TEST(ApiCodec, ReadsTargetsWrittenBeforeStageVariables) {
  // A document as the codec wrote it before targets had uses_stage_variables.
  HttpApi api;
  api.id = "abcdefghij";
  HttpIntegration integration;
  integration.id = "int0003";
  integration.target = LambdaTarget{"orders", "live"};
  api.live.integrations[integration.id] = integration;
  std::string document = encode_http_api(api);
  EXPECT_EQ(document.find("uses_stage_variables"), std::string::npos);
  auto decoded = decode_http_api(document);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_FALSE(decoded->live.integrations.at("int0003").target.uses_stage_variables);
  EXPECT_EQ(decoded->live.integrations.at("int0003").target.function_name, "orders");
}

TEST(ApiCodec, RejectsInvalidJson) {
  auto decoded = decode_http_api("{not json");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::internal);
  EXPECT_NE(decoded.error().message.find("not valid JSON"), std::string::npos)
      << decoded.error().message;
}

TEST(ApiCodec, RejectsUnknownFormat) {
  auto decoded = decode_rest_api(R"({"format": 99, "id": "x"})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "REST API document has an unknown format (expected format 1)");
}

TEST(ApiCodec, NamesWrongFieldType) {
  std::string document = encode_http_api(sample_http_api());
  std::string bad = document;
  std::string needle = "\"timeout_ms\":12000";
  auto at = bad.find(needle);
  ASSERT_NE(at, std::string::npos);
  bad.replace(at, needle.size(), "\"timeout_ms\":\"slow\"");
  auto decoded = decode_http_api(bad);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::internal);
  EXPECT_EQ(decoded.error().message,
            "HTTP API document: live.integrations[0].timeout_ms must be an integer");
}

TEST(ApiCodec, NamesMissingRequiredField) {
  auto decoded = decode_rest_api(R"({"format": 1, "id": "x", "resources": []})");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "REST API document: root_resource_id must be present");

  auto stage = decode_http_api(R"({"format": 1, "id": "x", "stages": [{"auto_deploy": true}]})");
  ASSERT_FALSE(stage.ok());
  EXPECT_EQ(stage.error().message, "HTTP API document: stages[0].name must be present");

  auto not_object = decode_http_api(R"({"format": 1, "id": "x", "stages": [7]})");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().message, "HTTP API document: stages[0] must be an object");
}

TEST_F(RegistryTest, LoadFailsOnCorruptDocument) {
  run(documents_->put("apigatewayv2.apis", "brokenbrok", "[1, 2]"));
  registry_.reset();
  registry_ = std::make_unique<Registry>(*documents_);
  auto loaded = registry_->load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().message,
            "stored HTTP API brokenbrok cannot be read: HTTP API document must be a JSON object");
}

}  // namespace
}  // namespace lambent::services::apigateway
