#include "lambent/services/apigateway/cors.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

using Values = std::vector<std::string>;

http::Request preflight(std::string origin, std::string method = "POST") {
  http::Request request;
  request.method = "OPTIONS";
  request.target = "/items";
  if (!origin.empty()) request.headers.emplace_back("origin", std::move(origin));
  if (!method.empty()) {
    request.headers.emplace_back("access-control-request-method", std::move(method));
  }
  request.headers.emplace_back("access-control-request-headers", "content-type,x-api-key");
  return request;
}

http::Request get_from(std::string origin) {
  http::Request request;
  request.method = "GET";
  request.target = "/items";
  if (!origin.empty()) request.headers.emplace_back("origin", std::move(origin));
  return request;
}

Values values(const http::Response& response, std::string_view name) {
  Values out;
  for (const auto& [header_name, value] : response.headers) {
    if (header_name == name) out.push_back(value);
  }
  return out;
}

CorsConfig full_config() {
  CorsConfig cors;
  cors.allow_origins = {"https://www.example.com"};
  cors.allow_methods = {"GET", "POST"};
  cors.allow_headers = {"content-type", "x-api-key"};
  cors.expose_headers = {"x-request-id"};
  cors.allow_credentials = true;
  cors.max_age = 300;
  return cors;
}

TEST(CorsPreflight, AnswersAllowedOriginWithConfiguredHeaders) {
  auto response = cors_preflight(full_config(), preflight("https://www.example.com"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 204u);
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(values(*response, "access-control-allow-origin"), Values{"https://www.example.com"});
  EXPECT_EQ(values(*response, "access-control-allow-methods"), Values{"GET,POST"});
  EXPECT_EQ(values(*response, "access-control-allow-headers"), Values{"content-type,x-api-key"});
  EXPECT_EQ(values(*response, "access-control-expose-headers"), Values{"x-request-id"});
  EXPECT_EQ(values(*response, "access-control-allow-credentials"), Values{"true"});
  EXPECT_EQ(values(*response, "access-control-max-age"), Values{"300"});
}

TEST(CorsPreflight, AnswersOtherOriginWithoutCorsHeaders) {
  auto response = cors_preflight(full_config(), preflight("https://evil.example.net"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 204u);
  EXPECT_TRUE(response->headers.empty());
}

TEST(CorsPreflight, IgnoresRequestsThatAreNotPreflights) {
  EXPECT_FALSE(cors_preflight(full_config(), get_from("https://www.example.com")).has_value());
  EXPECT_FALSE(cors_preflight(full_config(), preflight("")).has_value());
  EXPECT_FALSE(cors_preflight(full_config(), preflight("https://www.example.com", "")));
}

TEST(CorsPreflight, WildcardOriginAllowsAny) {
  CorsConfig cors;
  cors.allow_origins = {"*"};
  auto response = cors_preflight(cors, preflight("http://localhost:3000"));
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(values(*response, "access-control-allow-origin"), Values{"*"});
  EXPECT_TRUE(values(*response, "access-control-allow-methods").empty());
  EXPECT_TRUE(values(*response, "access-control-max-age").empty());
  EXPECT_TRUE(values(*response, "access-control-allow-credentials").empty());
}

TEST(CorsOrigin, MatchesExactAndPatternOrigins) {
  CorsConfig cors;
  cors.allow_origins = {"https://www.example.com", "http://*", "https://*.example.org"};
  EXPECT_TRUE(cors_origin_allowed(cors, "https://www.example.com"));
  EXPECT_TRUE(cors_origin_allowed(cors, "HTTPS://WWW.EXAMPLE.COM"));
  EXPECT_TRUE(cors_origin_allowed(cors, "http://localhost:8080"));
  EXPECT_TRUE(cors_origin_allowed(cors, "https://api.example.org"));
  EXPECT_FALSE(cors_origin_allowed(cors, "https://example.com"));
  EXPECT_FALSE(cors_origin_allowed(cors, "https://www.example.com.evil.net"));
  EXPECT_FALSE(cors_origin_allowed(cors, ""));
}

TEST(ApplyCors, ReplacesFunctionCorsHeadersForAllowedOrigin) {
  http::Response response;
  response.header("Access-Control-Allow-Origin", "*");
  response.header("access-control-max-age", "1");
  response.header("Content-Type", "application/json");
  apply_cors(full_config(), get_from("https://www.example.com"), response);
  EXPECT_EQ(response.headers, (http::HeaderList{
                                  {"Content-Type", "application/json"},
                                  {"access-control-allow-origin", "https://www.example.com"},
                                  {"access-control-allow-credentials", "true"},
                                  {"access-control-expose-headers", "x-request-id"},
                              }));
}

TEST(ApplyCors, StripsFunctionCorsHeadersForOtherOrigins) {
  for (std::string origin : {"https://evil.example.net", ""}) {
    http::Response response;
    response.header("Access-Control-Allow-Origin", "*");
    response.header("X-Other", "kept");
    apply_cors(full_config(), get_from(origin), response);
    EXPECT_EQ(response.headers, (http::HeaderList{{"X-Other", "kept"}})) << origin;
  }
}

TEST(ApplyCors, CredentialsEchoOriginEvenForWildcard) {
  CorsConfig cors;
  cors.allow_origins = {"*"};
  cors.allow_credentials = true;
  http::Response response;
  apply_cors(cors, get_from("https://app.example.com"), response);
  EXPECT_EQ(values(response, "access-control-allow-origin"), Values{"https://app.example.com"});
}

}  // namespace
}  // namespace lambent::services::apigateway
