#include "lambent/services/apigateway/function_url.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

constexpr std::string_view kUrlId = "abcdefghijklmnopqrstuvwxyz012345";

http::Request request_to(std::string target, std::string host) {
  http::Request request;
  request.method = "GET";
  request.target = std::move(target);
  request.headers.emplace_back("host", std::move(host));
  return request;
}

TEST(FunctionUrlMatch, HostFormKeepsPathAndDropsPort) {
  auto target = match_function_url(
      request_to("/my/path?x=1", std::string(kUrlId) + ".lambda-url.us-east-1.localhost:4566"),
      "us-east-1");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->url_id, kUrlId);
  EXPECT_EQ(target->path, "/my/path");
  EXPECT_EQ(target->domain_name, std::string(kUrlId) + ".lambda-url.us-east-1.localhost");
}

TEST(FunctionUrlMatch, HostFormAcceptsAnyDomainAfterLambdaUrl) {
  auto target = match_function_url(
      request_to("/", std::string(kUrlId) + ".lambda-url.eu-west-1.on.aws"), "us-east-1");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->url_id, kUrlId);
  EXPECT_EQ(target->domain_name, std::string(kUrlId) + ".lambda-url.eu-west-1.on.aws");
}

TEST(FunctionUrlMatch, PathFormStripsPrefix) {
  auto target = match_function_url(
      request_to("/_aws/lambda-url/" + std::string(kUrlId) + "/a/b%2Fc?q=1", "127.0.0.1:4566"),
      "eu-west-1");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->url_id, kUrlId);
  EXPECT_EQ(target->path, "/a/b%2Fc");
  EXPECT_EQ(target->domain_name, std::string(kUrlId) + ".lambda-url.eu-west-1.localhost");
}

TEST(FunctionUrlMatch, PathFormWithoutRestIsRoot) {
  auto target =
      match_function_url(request_to("/_aws/lambda-url/" + std::string(kUrlId), "127.0.0.1"),
                         "us-east-1");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->path, "/");
}

TEST(FunctionUrlMatch, OtherRequestsDoNotMatch) {
  EXPECT_FALSE(match_function_url(request_to("/2015-03-31/functions", "127.0.0.1:4566"),
                                  "us-east-1"));
  EXPECT_FALSE(match_function_url(request_to("/", "abc.execute-api.localhost:4566"), "us-east-1"));
  EXPECT_FALSE(match_function_url(request_to("/", "lambda-url.localhost"), "us-east-1"));
  EXPECT_FALSE(match_function_url(request_to("/_aws/lambda-url/", "127.0.0.1"), "us-east-1"));
}

}  // namespace
}  // namespace lambent::services::apigateway
