#include "lambent/services/apigateway/api_address.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

http::Request make_request(std::string host, std::string target) {
  http::Request request;
  request.method = "GET";
  request.target = std::move(target);
  if (!host.empty()) request.headers.emplace_back("host", std::move(host));
  return request;
}

TEST(ApiAddress, RecognisesHostForms) {
  for (const char* host :
       {"abc123.execute-api.localhost:4566", "abc123.execute-api.localhost.localstack.cloud:4566",
        "ABC123.execute-api.us-east-1.amazonaws.com"}) {
    auto address = parse_api_address(make_request(host, "/prod/items?x=1"));
    ASSERT_TRUE(address) << host;
    EXPECT_EQ(address->api_id, "abc123") << host;
    EXPECT_EQ(address->path, "/prod/items") << host;
  }
}

TEST(ApiAddress, HostFormRootPath) {
  auto address = parse_api_address(make_request("abc.execute-api.localhost", "?q=1"));
  ASSERT_TRUE(address);
  EXPECT_EQ(address->path, "/");
}

TEST(ApiAddress, IgnoresOtherHosts) {
  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1:4566", "/2015-03-31/functions")));
  EXPECT_FALSE(parse_api_address(make_request("localhost:4566", "/prod/items")));
  EXPECT_FALSE(parse_api_address(make_request("abc.lambda-url.us-east-1.localhost", "/")));
  EXPECT_FALSE(parse_api_address(make_request("execute-api.localhost", "/")));
  EXPECT_FALSE(parse_api_address(make_request("", "/")));
}

TEST(ApiAddress, RecognisesPathForm) {
  auto address =
      parse_api_address(make_request("127.0.0.1:4566", "/_aws/execute-api/Abc/dev/a%20b?x"));
  ASSERT_TRUE(address);
  EXPECT_EQ(address->api_id, "abc");
  EXPECT_EQ(address->path, "/dev/a%20b");

  auto bare = parse_api_address(make_request("127.0.0.1:4566", "/_aws/execute-api/abc"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");

  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1", "/_aws/execute-api/")));
}

TEST(ApiAddress, RecognisesUserRequestForm) {
  auto address = parse_api_address(
      make_request("127.0.0.1:4566", "/restapis/abc/prod/_user_request_/pets/1?x=2"));
  ASSERT_TRUE(address);
  EXPECT_EQ(address->api_id, "abc");
  EXPECT_EQ(address->path, "/prod/pets/1");

  auto root = parse_api_address(make_request("127.0.0.1", "/restapis/abc/prod/_user_request_"));
  ASSERT_TRUE(root);
  EXPECT_EQ(root->path, "/prod");
}

TEST(ApiAddress, LeavesRestApiControlPathsAlone) {
  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1", "/restapis")));
  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1", "/restapis/abc/resources")));
  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1", "/restapis/abc/stages/prod")));
  EXPECT_FALSE(parse_api_address(make_request("127.0.0.1", "/restapis/abc/prod/_user_request_x")));
}

TEST(ApiAddress, StripsPortFromHost) {
  EXPECT_EQ(host_without_port("a.b:4566"), "a.b");
  EXPECT_EQ(host_without_port("a.b"), "a.b");
  EXPECT_EQ(host_without_port("[::1]:80"), "[::1]");
  EXPECT_EQ(host_without_port("[::1]"), "[::1]");
}

TEST(ApiAddress, SplitsFirstSegment) {
  auto [first, rest] = split_first_segment("/prod/a/b");
  EXPECT_EQ(first, "prod");
  EXPECT_EQ(rest, "/a/b");
  auto [only, empty_rest] = split_first_segment("/prod");
  EXPECT_EQ(only, "prod");
  EXPECT_EQ(empty_rest, "/");
  auto [none, root] = split_first_segment("/");
  EXPECT_EQ(none, "");
  EXPECT_EQ(root, "/");
}

}  // namespace
}  // namespace lambent::services::apigateway
