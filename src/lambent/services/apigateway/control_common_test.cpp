#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/control.h"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

namespace lambent::services::apigateway {
namespace {

TEST(RouteKey, AcceptsAwsForms) {
  for (const char* key :
       {"$default", "GET /", "GET /items", "ANY /{proxy+}", "POST /items/{id}/parts/{part}",
        "DELETE /a.b/c-d/{x_y}", "OPTIONS /files/{path+}", "PATCH /caf%C3%A9"}) {
    auto checked = validate_route_key(key);
    EXPECT_TRUE(checked.ok()) << key << ": " << checked.error().message;
  }
}

TEST(RouteKey, RejectsMalformedKeys) {
  struct Case {
    const char* key;
    const char* reason;
  };
  for (const Case& c : {
           Case{"/items", "It has no method."},
           Case{"FETCH /items", "The method FETCH is not one of"},
           Case{"get /items", "The method get is not one of"},
           Case{"GET items", "The path must start with /."},
           Case{"GET /items//x", "The path has an empty segment."},
           Case{"GET /items/", "The path has an empty segment."},
           Case{"GET /{proxy+}/x", "The greedy path variable {proxy+} must be the last segment."},
           Case{"GET /a{id}", "must be a whole {name} variable"},
           Case{"GET /{}", "must be named with letters"},
           Case{"GET /{a}/{a}", "The path variable {a} appears more than once."},
           Case{"GET /a b", "contains a character"},
       }) {
    auto checked = validate_route_key(c.key);
    ASSERT_FALSE(checked.ok()) << c.key;
    EXPECT_EQ(checked.error().code, Errc::invalid_parameter) << c.key;
    EXPECT_NE(checked.error().message.find(c.reason), std::string::npos)
        << c.key << ": " << checked.error().message;
    EXPECT_NE(checked.error().message.find(std::string("Invalid route key specified: ") + c.key),
              std::string::npos)
        << checked.error().message;
  }
}

TEST(RouteKey, ConflictingVariableNames) {
  std::vector<std::string> existing = {"GET /items/{id}", "ANY /{proxy+}", "$default"};
  auto renamed = check_route_variables("GET /items/{itemId}/parts", existing);
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().code, Errc::conflict);
  EXPECT_EQ(renamed.error().message,
            "The provided route key \"GET /items/{itemId}/parts\" has a conflicting variable on "
            "the same hierarchical level as \"GET /items/{id}\"");

  EXPECT_TRUE(check_route_variables("GET /items/{id}/parts", existing).ok());
  EXPECT_TRUE(check_route_variables("GET /orders/{orderId}", existing).ok());
  EXPECT_TRUE(check_route_variables("GET /{thing}", existing).ok());
  EXPECT_TRUE(check_route_variables("$default", existing).ok());
}

TEST(LambdaUri, ParsesFunctionArns) {
  auto plain = parse_lambda_uri("arn:aws:lambda:us-east-1:000000000000:function:orders",
                                UriForm::function_arn_or_invocation);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->function_name, "orders");
  EXPECT_FALSE(plain->qualifier.has_value());

  auto alias = parse_lambda_uri("arn:aws:lambda:eu-west-2:123456789012:function:my_fn-2:live",
                                UriForm::function_arn_or_invocation);
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(alias->function_name, "my_fn-2");
  EXPECT_EQ(alias->qualifier, "live");

  auto latest = parse_lambda_uri("arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
                                 UriForm::function_arn_or_invocation);
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(latest->qualifier, "$LATEST");
}

TEST(LambdaUri, ParsesInvocationUris) {
  std::string uri =
      "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
      "arn:aws:lambda:us-east-1:000000000000:function:catalog:7/invocations";
  for (UriForm form : {UriForm::function_arn_or_invocation, UriForm::invocation_only}) {
    auto target = parse_lambda_uri(uri, form);
    ASSERT_TRUE(target.ok()) << target.error().message;
    EXPECT_EQ(target->function_name, "catalog");
    EXPECT_EQ(target->qualifier, "7");
  }
}

TEST(LambdaUri, RejectsOtherUris) {
  auto http = parse_lambda_uri("https://example.com/x", UriForm::function_arn_or_invocation);
  ASSERT_FALSE(http.ok());
  EXPECT_EQ(http.error().code, Errc::invalid_parameter);
  EXPECT_NE(http.error().message.find("Invalid integration URI specified: https://example.com/x"),
            std::string::npos)
      << http.error().message;

  auto arn_for_rest = parse_lambda_uri("arn:aws:lambda:us-east-1:000000000000:function:f",
                                       UriForm::invocation_only);
  ASSERT_FALSE(arn_for_rest.ok());
  EXPECT_NE(arn_for_rest.error().message.find("Invalid ARN specified in the request"),
            std::string::npos);

  auto no_path = parse_lambda_uri("arn:aws:apigateway:us-east-1:lambda:functions/x/invocations",
                                  UriForm::invocation_only);
  ASSERT_FALSE(no_path.ok());
  EXPECT_EQ(no_path.error().message, "AWS ARN for integration must contain path or action");

  auto bad_account = parse_lambda_uri("arn:aws:lambda:us-east-1:123:function:f",
                                      UriForm::function_arn_or_invocation);
  EXPECT_FALSE(bad_account.ok());
}

TEST(LambdaUri, AcceptsStageVariablesInNameAndQualifier) {
  auto name = parse_lambda_uri(
      "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
      "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn}/invocations",
      UriForm::invocation_only);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(name->function_name, "${stageVariables.fn}");
  EXPECT_FALSE(name->qualifier.has_value());
  EXPECT_TRUE(name->uses_stage_variables);

  auto alias = parse_lambda_uri(
      "arn:aws:lambda:us-east-1:000000000000:function:orders:${stageVariables.alias}",
      UriForm::function_arn_or_invocation);
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(alias->function_name, "orders");
  EXPECT_EQ(alias->qualifier, "${stageVariables.alias}");
  EXPECT_TRUE(alias->uses_stage_variables);

  auto both = parse_lambda_uri(
      "arn:aws:lambda:us-east-1:000000000000:function:app-${stageVariables.env_1}:"
      "${stageVariables.Version}",
      UriForm::function_arn_or_invocation);
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->function_name, "app-${stageVariables.env_1}");
  EXPECT_EQ(both->qualifier, "${stageVariables.Version}");

  auto plain = parse_lambda_uri("arn:aws:lambda:us-east-1:000000000000:function:orders:live",
                                UriForm::function_arn_or_invocation);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->uses_stage_variables);
}

TEST(LambdaUri, RejectsMalformedStageVariableReferences) {
  for (const char* arn : {
           "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.}",
           "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.a-b}",
           "arn:aws:lambda:us-east-1:000000000000:function:${stageVariables.fn",
           "arn:aws:lambda:us-east-1:000000000000:function:${stagevariables.fn}",
           "arn:aws:lambda:us-east-1:000000000000:function:${fn}",
           "arn:aws:lambda:us-east-1:000000000000:function:$stageVariables.fn",
           "arn:aws:lambda:us-east-1:${stageVariables.account}:function:f",
       }) {
    EXPECT_FALSE(parse_lambda_uri(arn, UriForm::function_arn_or_invocation).ok()) << arn;
  }
  std::string long_name(65, 'a');
  EXPECT_FALSE(parse_lambda_uri("arn:aws:lambda:us-east-1:000000000000:function:" + long_name,
                                UriForm::function_arn_or_invocation)
                   .ok());
}

TEST(ControlPaths, OwnsControlButNotUserTraffic) {
  EXPECT_TRUE(ControlService::owns("/v2/apis"));
  EXPECT_TRUE(ControlService::owns("/v2/apis/abc/routes"));
  EXPECT_TRUE(ControlService::owns("/v2/tags/arn%3Aaws"));
  EXPECT_TRUE(ControlService::owns("/tags/arn%3Aaws%3Aapigateway"));
  EXPECT_TRUE(ControlService::owns("/restapis"));
  EXPECT_TRUE(ControlService::owns("/restapis/abc/resources"));
  EXPECT_FALSE(ControlService::owns("/restapis/abc/prod/_user_request_/items"));
  EXPECT_FALSE(ControlService::owns("/restapis/abc/prod/_user_request_"));
  EXPECT_TRUE(ControlService::owns("/apikeys"));
  EXPECT_TRUE(ControlService::owns("/v2/domainnames/example.com"));
  EXPECT_FALSE(ControlService::owns("/apikeysx"));
  EXPECT_FALSE(ControlService::owns("/v2/apisx"));
  EXPECT_FALSE(ControlService::owns("/restapisx"));
  EXPECT_FALSE(ControlService::owns("/2015-03-31/functions"));
}

TEST(Dates, EpochSecondsOfIso8601) {
  EXPECT_EQ(epoch_seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(epoch_seconds("2026-12-05T02:12:42Z"), 1796436762);
  EXPECT_EQ(iso8601(std::chrono::system_clock::time_point(std::chrono::seconds(1796436762))),
            "2026-12-05T02:12:42Z");
  EXPECT_EQ(epoch_seconds("garbage"), 0);
}

TEST(Paging, SplitsByKey) {
  std::vector<std::pair<std::string, boost::json::value>> entries;
  for (const char* key : {"c", "a", "d", "b"}) entries.emplace_back(key, key);
  PageRequest first{"", 2};
  auto page = page_of(entries, first, kV2Page);
  EXPECT_EQ(boost::json::serialize(page), R"({"nextToken":"c","items":["a","b"]})");
  PageRequest second{"c", 2};
  EXPECT_EQ(boost::json::serialize(page_of(entries, second, kV1Page)), R"({"item":["c","d"]})");
}

}  // namespace
}  // namespace lambent::services::apigateway
