#include "lambent/services/apigateway/events.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace lambent::services::apigateway {
namespace {

namespace json = boost::json;

// 1589522469693 ms is 15/May/2020:06:01:09.693 UTC, the requestTimeEpoch of AWS's sample event.
constexpr std::int64_t kEpochMs = 1589522469693;

http::Request make_request(std::string method, std::string target, http::HeaderList headers,
                           std::string body = {}) {
  http::Request request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.remote_address = "192.0.2.10";
  request.id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef";
  return request;
}

EventContext http_api_context() {
  EventContext context;
  context.front = Front::http_api;
  context.account_id = "000000000000";
  context.api_id = "a1b2c3d4e5";
  context.domain_name = "a1b2c3d4e5.execute-api.localhost";
  context.stage = "$default";
  context.route_key = "$default";
  context.path = "/";
  context.request_id = "LV7fzho-PHcEJPw=";
  context.source_ip = "192.0.2.10";
  context.time_epoch_ms = kEpochMs;
  return context;
}

EventContext rest_context() {
  EventContext context;
  context.front = Front::rest_api;
  context.account_id = "000000000000";
  context.api_id = "gy415nuibc";
  context.domain_name = "gy415nuibc.execute-api.localhost";
  context.stage = "testStage";
  context.resource_id = "roq9wj";
  context.resource_path = "/{proxy+}";
  context.path = "/hello/world";
  context.stage_path = "/testStage/hello/world";
  context.request_id = "deef4878-7910-11e6-8f14-25afc3e9ae33";
  context.extended_request_id = "TWegAcC4EowCHnA=";
  context.source_ip = "192.0.2.10";
  context.time_epoch_ms = kEpochMs;
  return context;
}

json::object parse_object(const std::string& text) { return json::parse(text).as_object(); }

TEST(EventV2, MatchesHttpApiSampleForPlainGet) {
  auto request = make_request("GET", "/",
                              {{"accept", "*/*"},
                               {"content-length", "0"},
                               {"host", "a1b2c3d4e5.execute-api.localhost:4566"},
                               {"user-agent", "curl/7.58.0"}});
  auto event = json::parse(build_event_v2(request, http_api_context()));
  auto expected = json::parse(R"({
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/",
    "rawQueryString": "",
    "headers": {
      "accept": "*/*",
      "content-length": "0",
      "host": "a1b2c3d4e5.execute-api.localhost:4566",
      "user-agent": "curl/7.58.0",
      "x-forwarded-for": "192.0.2.10",
      "x-forwarded-port": "4566",
      "x-forwarded-proto": "http"
    },
    "requestContext": {
      "accountId": "000000000000",
      "apiId": "a1b2c3d4e5",
      "domainName": "a1b2c3d4e5.execute-api.localhost",
      "domainPrefix": "a1b2c3d4e5",
      "http": {
        "method": "GET",
        "path": "/",
        "protocol": "HTTP/1.1",
        "sourceIp": "192.0.2.10",
        "userAgent": "curl/7.58.0"
      },
      "requestId": "LV7fzho-PHcEJPw=",
      "routeKey": "$default",
      "stage": "$default",
      "time": "15/May/2020:06:01:09 +0000",
      "timeEpoch": 1589522469693
    },
    "isBase64Encoded": false
  })");
  EXPECT_EQ(event, expected) << event;
}

TEST(EventV2, HttpApiAddsMissingContentLength) {
  auto request = make_request("GET", "/", {{"accept", "*/*"}});
  auto context = http_api_context();
  context.source_ip = "";
  auto event = parse_object(build_event_v2(request, context));
  EXPECT_EQ(event["headers"], json::parse(R"({"accept":"*/*","content-length":"0"})"));

  context.front = Front::function_url;
  auto url_event = parse_object(build_event_v2(request, context));
  EXPECT_EQ(url_event["headers"], json::parse(R"({"accept":"*/*"})"));
}

TEST(EventV2, KeepsTheDocumentedFieldOrder) {
  auto request = make_request("POST", "/my/path?a=1", {{"cookie", "c=1"}}, "x");
  std::vector<std::pair<std::string, std::string>> parameters = {{"id", "1"}};
  std::map<std::string, std::string> variables = {{"v", "1"}};
  auto context = http_api_context();
  context.path_parameters = &parameters;
  context.stage_variables = &variables;
  auto event = parse_object(build_event_v2(request, context));
  std::vector<std::string> keys;
  for (const auto& entry : event) keys.emplace_back(entry.key());
  std::vector<std::string> expected = {"version",
                                       "routeKey",
                                       "rawPath",
                                       "rawQueryString",
                                       "cookies",
                                       "headers",
                                       "queryStringParameters",
                                       "requestContext",
                                       "body",
                                       "pathParameters",
                                       "isBase64Encoded",
                                       "stageVariables"};
  EXPECT_EQ(keys, expected);
}

TEST(EventV2, JoinsRepeatedHeadersAndQueryKeysWithCommas) {
  auto request =
      make_request("GET", "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
                   {{"header1", "value1"}, {"header2", "value1"}, {"header2", "value2"}});
  auto context = http_api_context();
  context.path = "/my/path";
  context.source_ip = "";
  auto event = parse_object(build_event_v2(request, context));
  EXPECT_EQ(event["rawPath"], "/my/path");
  EXPECT_EQ(event["rawQueryString"], "parameter1=value1&parameter1=value2&parameter2=value");
  EXPECT_EQ(event["headers"],
            json::parse(R"({"header1":"value1","header2":"value1,value2","content-length":"0"})"));
  EXPECT_EQ(event["queryStringParameters"],
            json::parse(R"({"parameter1":"value1,value2","parameter2":"value"})"));
}

TEST(EventV2, MovesCookiesOutOfHeaders) {
  auto request =
      make_request("GET", "/", {{"cookie", "cookie1=a; cookie2=b"}, {"cookie", "cookie3=c"}});
  auto event = parse_object(build_event_v2(request, http_api_context()));
  EXPECT_EQ(event["cookies"], json::parse(R"(["cookie1=a","cookie2=b","cookie3=c"])"));
  EXPECT_FALSE(event["headers"].as_object().contains("cookie"));
}

TEST(EventV2, LeavesOutEmptyOptionalFields) {
  auto request = make_request("GET", "/", {});
  std::vector<std::pair<std::string, std::string>> no_parameters;
  std::map<std::string, std::string> no_variables;
  auto context = http_api_context();
  context.path_parameters = &no_parameters;
  context.stage_variables = &no_variables;
  auto event = parse_object(build_event_v2(request, context));
  EXPECT_FALSE(event.contains("cookies"));
  EXPECT_FALSE(event.contains("queryStringParameters"));
  EXPECT_FALSE(event.contains("body"));
  EXPECT_FALSE(event.contains("pathParameters"));
  EXPECT_FALSE(event.contains("stageVariables"));
  EXPECT_EQ(event["isBase64Encoded"], false);
}

TEST(EventV2, CarriesDecodedPathParametersAndStageVariables) {
  auto request = make_request("GET", "/prod/items/a%20b%2Fc", {});
  std::vector<std::pair<std::string, std::string>> parameters = {{"id", "a b/c"}};
  std::map<std::string, std::string> variables = {{"table", "items"}};
  auto context = http_api_context();
  context.stage = "prod";
  context.route_key = "GET /items/{id}";
  context.path = "/items/a%20b%2Fc";
  context.stage_path = "/prod/items/a%20b%2Fc";
  context.path_parameters = &parameters;
  context.stage_variables = &variables;
  auto event = parse_object(build_event_v2(request, context));
  EXPECT_EQ(event["routeKey"], "GET /items/{id}");
  EXPECT_EQ(event["rawPath"], "/prod/items/a%20b%2Fc");
  EXPECT_EQ(event["requestContext"].at("http").at("path"), "/prod/items/a%20b%2Fc");
  EXPECT_EQ(event["requestContext"].at("stage"), "prod");
  EXPECT_EQ(event["pathParameters"], json::parse(R"({"id":"a b/c"})"));
  EXPECT_EQ(event["stageVariables"], json::parse(R"({"table":"items"})"));
}

TEST(EventV2, DecodesQueryValuesAsAForm) {
  auto request = make_request("GET", "/?q=a+b&plus=1%2B1&check=%E2%9C%93&flag&bad=%zz", {});
  auto event = parse_object(build_event_v2(request, http_api_context()));
  EXPECT_EQ(event["queryStringParameters"],
            json::parse(R"({"q":"a b","plus":"1+1","check":"✓","flag":"","bad":"%zz"})"));
  EXPECT_EQ(event["rawQueryString"], "q=a+b&plus=1%2B1&check=%E2%9C%93&flag&bad=%zz");
}

TEST(EventV2, PassesTextBodiesAsText) {
  for (std::string type :
       {"text/plain", "text/html; charset=utf-8", "application/json", "application/vnd.api+json",
        "application/xml", "application/javascript"}) {
    auto request = make_request("POST", "/", {{"content-type", type}}, "héllo ✓");
    auto event = parse_object(build_event_v2(request, http_api_context()));
    EXPECT_EQ(event["body"], "héllo ✓") << type;
    EXPECT_EQ(event["isBase64Encoded"], false) << type;
  }
}

TEST(EventV2, Base64EncodesOtherBodies) {
  for (std::string type :
       {"image/png", "application/octet-stream", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", ""}) {
    http::HeaderList headers;
    if (!type.empty()) headers.emplace_back("content-type", type);
    auto request = make_request("POST", "/", headers, std::string("\x89PNG\0\xff", 6));
    auto event = parse_object(build_event_v2(request, http_api_context()));
    EXPECT_EQ(event["body"], "iVBORwD/") << type;
    EXPECT_EQ(event["isBase64Encoded"], true) << type;
  }
}

TEST(EventV2, ReplacesInvalidUtf8InTextBodiesAndHeaders) {
  auto request =
      make_request("POST", "/?k=%FF", {{"content-type", "text/plain"}, {"x-raw", "a\xff"}},
                   "ok\xc3(\xed\xa0\x80");
  std::string text = build_event_v2(request, http_api_context());
  auto event = parse_object(text);
  EXPECT_EQ(event["body"], "ok\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(event["headers"].at("x-raw"), "a\xEF\xBF\xBD");
  EXPECT_EQ(event["queryStringParameters"].at("k"), "\xEF\xBF\xBD");
}

TEST(EventV2, AppendsClientAddressToForwardedFor) {
  auto request = make_request("GET", "/",
                              {{"host", "a1b2c3d4e5.execute-api.localhost"},
                               {"x-forwarded-for", "203.0.113.7"},
                               {"x-forwarded-proto", "https"},
                               {"connection", "keep-alive"}});
  auto event = parse_object(build_event_v2(request, http_api_context()));
  auto headers = event["headers"].as_object();
  EXPECT_EQ(headers["x-forwarded-for"], "203.0.113.7, 192.0.2.10");
  EXPECT_EQ(headers["x-forwarded-port"], "80");
  EXPECT_EQ(headers["x-forwarded-proto"], "http");
  EXPECT_FALSE(headers.contains("connection"));
}

TEST(EventV2, FunctionUrlUsesPlaceholdersAndAnonymousAccount) {
  auto request =
      make_request("POST", "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
                   {{"content-type", "text/plain"}, {"user-agent", "agent"}}, "Hello from client!");
  std::vector<std::pair<std::string, std::string>> parameters = {{"ignored", "1"}};
  std::map<std::string, std::string> variables = {{"ignored", "1"}};
  EventContext context;
  context.front = Front::function_url;
  context.account_id = "000000000000";
  context.api_id = "abcdefghijklmnopqrstuvwxyz012345";
  context.domain_name = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost";
  context.path = "/my/path";
  context.request_id = "e1506fd5-9e7b-434f-bd42-4f8fa224b599";
  context.source_ip = "";
  context.time_epoch_ms = kEpochMs;
  context.path_parameters = &parameters;
  context.stage_variables = &variables;
  auto event = json::parse(build_event_v2(request, context));
  auto expected = json::parse(R"({
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/my/path",
    "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
    "headers": {"content-type": "text/plain", "user-agent": "agent"},
    "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
    "requestContext": {
      "accountId": "anonymous",
      "apiId": "abcdefghijklmnopqrstuvwxyz012345",
      "domainName": "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.localhost",
      "domainPrefix": "abcdefghijklmnopqrstuvwxyz012345",
      "http": {
        "method": "POST",
        "path": "/my/path",
        "protocol": "HTTP/1.1",
        "sourceIp": "",
        "userAgent": "agent"
      },
      "requestId": "e1506fd5-9e7b-434f-bd42-4f8fa224b599",
      "routeKey": "$default",
      "stage": "$default",
      "time": "15/May/2020:06:01:09 +0000",
      "timeEpoch": 1589522469693
    },
    "body": "Hello from client!",
    "isBase64Encoded": false
  })");
  EXPECT_EQ(event, expected) << event;
}

TEST(EventV2, FunctionUrlWithIamCallerHasAuthorizer) {
  auto request = make_request("GET", "/", {});
  EventContext context;
  context.front = Front::function_url;
  context.account_id = "000000000000";
  context.api_id = "abcdefghijklmnopqrstuvwxyz012345";
  context.caller_access_key = "AKIAIOSFODNN7EXAMPLE";
  auto event = parse_object(build_event_v2(request, context));
  auto rc = event["requestContext"].as_object();
  EXPECT_EQ(rc["accountId"], "000000000000");
  EXPECT_EQ(rc["authorizer"], json::parse(R"({"iam": {
      "accessKey": "AKIAIOSFODNN7EXAMPLE", "accountId": "000000000000",
      "callerId": "000000000000", "cognitoIdentity": null, "principalOrgId": null,
      "userArn": "arn:aws:iam::000000000000:root", "userId": "000000000000"}})"));
}

TEST(EventV1, MatchesRestSampleShape) {
  auto request = make_request("POST", "/testStage/hello/world?name=me",
                              {{"accept", "*/*"},
                               {"content-type", "application/json"},
                               {"content-length", "14"},
                               {"headername", "headerValue"},
                               {"host", "gy415nuibc.execute-api.localhost:4566"},
                               {"user-agent", "PostmanRuntime/2.4.5"}},
                              "{\r\n\t\"a\": 1\r\n}");
  std::vector<std::pair<std::string, std::string>> parameters = {{"proxy", "hello/world"}};
  std::map<std::string, std::string> variables = {{"stageVariableName", "stageVariableValue"}};
  auto context = rest_context();
  context.path_parameters = &parameters;
  context.stage_variables = &variables;
  auto event = json::parse(build_event_v1(request, context));
  auto expected = json::parse(R"({
    "resource": "/{proxy+}",
    "path": "/hello/world",
    "httpMethod": "POST",
    "headers": {
      "Accept": "*/*",
      "Content-Type": "application/json",
      "Headername": "headerValue",
      "Host": "gy415nuibc.execute-api.localhost:4566",
      "User-Agent": "PostmanRuntime/2.4.5",
      "X-Forwarded-For": "192.0.2.10",
      "X-Forwarded-Port": "4566",
      "X-Forwarded-Proto": "http"
    },
    "multiValueHeaders": {
      "Accept": ["*/*"],
      "Content-Type": ["application/json"],
      "Headername": ["headerValue"],
      "Host": ["gy415nuibc.execute-api.localhost:4566"],
      "User-Agent": ["PostmanRuntime/2.4.5"],
      "X-Forwarded-For": ["192.0.2.10"],
      "X-Forwarded-Port": ["4566"],
      "X-Forwarded-Proto": ["http"]
    },
    "queryStringParameters": {"name": "me"},
    "multiValueQueryStringParameters": {"name": ["me"]},
    "pathParameters": {"proxy": "hello/world"},
    "stageVariables": {"stageVariableName": "stageVariableValue"},
    "requestContext": {
      "accountId": "000000000000",
      "resourceId": "roq9wj",
      "path": "/testStage/hello/world",
      "stage": "testStage",
      "domainName": "gy415nuibc.execute-api.localhost",
      "domainPrefix": "gy415nuibc",
      "requestId": "deef4878-7910-11e6-8f14-25afc3e9ae33",
      "extendedRequestId": "TWegAcC4EowCHnA=",
      "protocol": "HTTP/1.1",
      "identity": {
        "cognitoIdentityPoolId": null,
        "accountId": null,
        "cognitoIdentityId": null,
        "caller": null,
        "sourceIp": "192.0.2.10",
        "principalOrgId": null,
        "accessKey": null,
        "cognitoAuthenticationType": null,
        "cognitoAuthenticationProvider": null,
        "userArn": null,
        "userAgent": "PostmanRuntime/2.4.5",
        "user": null
      },
      "resourcePath": "/{proxy+}",
      "httpMethod": "POST",
      "requestTime": "15/May/2020:06:01:09 +0000",
      "requestTimeEpoch": 1589522469693,
      "apiId": "gy415nuibc"
    },
    "body": "{\r\n\t\"a\": 1\r\n}",
    "isBase64Encoded": false
  })");
  EXPECT_EQ(event, expected) << event;
}

TEST(EventV1, SendsNullsWhenThereIsNothingToSend) {
  auto request = make_request("GET", "/testStage/hello/world", {});
  auto context = rest_context();
  context.source_ip = "";
  auto event = parse_object(build_event_v1(request, context));
  EXPECT_TRUE(event["queryStringParameters"].is_null());
  EXPECT_TRUE(event["multiValueQueryStringParameters"].is_null());
  EXPECT_TRUE(event["pathParameters"].is_null());
  EXPECT_TRUE(event["stageVariables"].is_null());
  EXPECT_TRUE(event["body"].is_null());
  EXPECT_EQ(event["isBase64Encoded"], false);
  EXPECT_EQ(event["headers"], json::object());
  EXPECT_EQ(event["multiValueHeaders"], json::object());
  EXPECT_FALSE(event.contains("version"));
}

TEST(EventV1, KeepsRepeatedValues) {
  auto request = make_request("GET", "/s/?multivalueName=you&multivalueName=me&name=me",
                              {{"x-tag", "a"}, {"x-tag", "b"}, {"cookie", "a=1; b=2"}});
  auto context = rest_context();
  context.source_ip = "";
  auto event = parse_object(build_event_v1(request, context));
  EXPECT_EQ(event["headers"], json::parse(R"({"X-Tag":"b","Cookie":"a=1; b=2"})"));
  EXPECT_EQ(event["multiValueHeaders"],
            json::parse(R"({"X-Tag":["a","b"],"Cookie":["a=1; b=2"]})"));
  EXPECT_EQ(event["queryStringParameters"], json::parse(R"({"multivalueName":"me","name":"me"})"));
  EXPECT_EQ(event["multiValueQueryStringParameters"],
            json::parse(R"({"multivalueName":["you","me"],"name":["me"]})"));
}

TEST(EventV1, RestEncodesOnlyBinaryMediaTypes) {
  struct Case {
    std::vector<std::string> binary_types;
    std::string content_type;
    bool base64;
  };
  std::vector<Case> cases = {
      {{}, "image/png", false},
      {{"image/png"}, "image/png", true},
      {{"image/*"}, "image/jpeg", true},
      {{"image/*"}, "application/octet-stream", false},
      {{"*/*"}, "application/json", true},
      {{"application~1octet-stream"}, "application/octet-stream", true},
      {{"IMAGE/PNG"}, "image/png; q=1", true},
  };
  for (const auto& test_case : cases) {
    auto request = make_request("POST", "/s/", {{"content-type", test_case.content_type}}, "hi");
    auto context = rest_context();
    context.binary_media_types = &test_case.binary_types;
    auto event = parse_object(build_event_v1(request, context));
    EXPECT_EQ(event["isBase64Encoded"], test_case.base64) << test_case.content_type;
    EXPECT_EQ(event["body"], test_case.base64 ? "aGk=" : "hi") << test_case.content_type;
  }
}

TEST(EventV1, HttpApiFormat) {
  auto request = make_request("GET", "/my/path", {{"content-type", "application/json"}}, "{}");
  auto context = http_api_context();
  context.route_key = "GET /my/path";
  context.resource_path = "/my/path";
  context.path = "/my/path";
  context.source_ip = "";
  auto event = parse_object(build_event_v1(request, context));
  EXPECT_EQ(event["version"], "1.0");
  EXPECT_EQ(event["resource"], "/my/path");
  EXPECT_EQ(event["path"], "/my/path");
  EXPECT_EQ(event["headers"], json::parse(R"({"content-type":"application/json"})"));
  EXPECT_EQ(event["requestContext"].at("resourceId"), "GET /my/path");
  EXPECT_EQ(event["requestContext"].at("stage"), "$default");
  EXPECT_EQ(event["requestContext"].at("extendedRequestId"), "LV7fzho-PHcEJPw=");
  EXPECT_EQ(event["body"], "{}");
}

TEST(EventV1, HttpApiBase64EncodesBinaryBodies) {
  auto request = make_request("PUT", "/", {{"content-type", "application/zip"}}, "PK");
  auto event = parse_object(build_event_v1(request, http_api_context()));
  EXPECT_EQ(event["body"], "UEs=");
  EXPECT_EQ(event["isBase64Encoded"], true);
}

TEST(TextContentType, RecognizesTextTypes) {
  EXPECT_TRUE(is_text_content_type("text/csv"));
  EXPECT_TRUE(is_text_content_type("Application/JSON; charset=UTF-8"));
  EXPECT_TRUE(is_text_content_type("application/problem+json"));
  EXPECT_FALSE(is_text_content_type(""));
  EXPECT_FALSE(is_text_content_type("application/x-www-form-urlencoded"));
  EXPECT_FALSE(is_text_content_type("image/png"));
  EXPECT_FALSE(is_text_content_type("json"));
}

}  // namespace
}  // namespace lambent::services::apigateway
