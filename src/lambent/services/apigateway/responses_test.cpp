#include "lambent/services/apigateway/responses.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

constexpr std::string_view kRequestId = "9f0c3a52-1f4b-4c0e-9a59-3c1b2a6a1e01";

http::Response v2(std::string payload, Front front = Front::http_api) {
  return build_response(front, PayloadFormat::v2, CallStatus::returned, std::move(payload),
                        kRequestId);
}

http::Response v1(std::string payload, Front front = Front::rest_api) {
  return build_response(front, PayloadFormat::v1, CallStatus::returned, std::move(payload),
                        kRequestId);
}

// All values of a header, compared without regard to the name's case.
std::vector<std::string> values(const http::Response& response, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [header_name, value] : response.headers) {
    if (header_name.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(header_name[i])) !=
          std::tolower(static_cast<unsigned char>(name[i]))) {
        same = false;
      }
    }
    if (same) out.push_back(value);
  }
  return out;
}

using Values = std::vector<std::string>;

// Function URL responses recorded from AWS for Python handlers returning these values.
TEST(ResponseV2, InfersRecordedFunctionUrlBodies) {
  struct Case {
    std::string payload;  // as the Python runtime serializes the return value
    std::string body;
  };
  std::vector<Case> cases = {
      {R"({"hello": "world"})", R"({"hello":"world"})"},
      {R"(["hello", 3, true])", R"(["hello",3,true])"},
      {R"("hello")", "hello"},
      {"3", "3"},
      {"3.1", "3.1"},
      {"true", "true"},
  };
  for (const auto& test_case : cases) {
    auto response = v2(test_case.payload, Front::function_url);
    EXPECT_EQ(response.status, 200u) << test_case.payload;
    EXPECT_EQ(response.body, test_case.body) << test_case.payload;
    EXPECT_EQ(values(response, "content-type"), Values{"application/json"}) << test_case.payload;
    EXPECT_EQ(values(response, "x-amzn-requestid"), Values{std::string(kRequestId)});
  }
}

TEST(ResponseV2, StatusCodeResponseDefaultsToJson) {
  auto response = v2(R"({"statusCode": 200, "body": "body123"})", Front::function_url);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "body123");
  EXPECT_EQ(values(response, "content-type"), Values{"application/json"});

  auto json_body = v2(R"({"statusCode": 200, "body": "{\"hello\": \"world\"}"})");
  EXPECT_EQ(json_body.body, R"({"hello": "world"})");
}

TEST(ResponseV2, KeepsStringEscapesWhenCompacting) {
  auto response = v2("{ \"a b\" : \"x \\\" y\" ,\n \"c\": [ 1 , 2.50 ] }\n");
  EXPECT_EQ(response.body, R"({"a b":"x \" y","c":[1,2.50]})");
}

TEST(ResponseV2, ObjectWithoutStatusCodeIsTheBody) {
  auto response = v2(R"({"body": "x", "headers": {"a": "b"}})");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, R"({"body":"x","headers":{"a":"b"}})");
  EXPECT_TRUE(values(response, "a").empty());
}

TEST(ResponseV2, MapsCustomResponse) {
  auto response = v2(R"({
    "statusCode": 201,
    "headers": {"Content-Type": "text/plain", "My-Custom-Header": "Custom Value", "X-N": 5,
                "X-F": 1.5, "X-B": false},
    "body": "{ \"message\": \"Hello, world!\" }",
    "cookies": ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2; Max-Age=78000"],
    "isBase64Encoded": false
  })");
  EXPECT_EQ(response.status, 201u);
  EXPECT_EQ(response.body, R"({ "message": "Hello, world!" })");
  EXPECT_EQ(values(response, "content-type"), Values{"text/plain"});
  EXPECT_EQ(values(response, "my-custom-header"), Values{"Custom Value"});
  EXPECT_EQ(values(response, "x-n"), Values{"5"});
  EXPECT_EQ(values(response, "x-f"), Values{"1.5"});
  EXPECT_EQ(values(response, "x-b"), Values{"false"});
  EXPECT_EQ(
      values(response, "set-cookie"),
      (Values{"Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2; Max-Age=78000"}));
  EXPECT_EQ(values(response, "apigw-requestid"), Values{std::string(kRequestId)});
}

TEST(ResponseV2, AcceptsStringStatusCode) {
  auto response = v2(R"({"statusCode": "418", "body": "i'm a teapot", "isBase64Encoded": false})",
                     Front::function_url);
  EXPECT_EQ(response.status, 418u);
  EXPECT_EQ(response.body, "i'm a teapot");
}

TEST(ResponseV2, DecodesBase64Body) {
  auto response = v2(R"({"statusCode": 200, "body": "iVBORwD/", "isBase64Encoded": true,
                         "headers": {"content-type": "image/png"}})");
  EXPECT_EQ(response.body, std::string("\x89PNG\0\xff", 6));
  EXPECT_EQ(values(response, "content-type"), Values{"image/png"});
}

TEST(ResponseV2, MalformedResponsesGetTheErrorAnswer) {
  std::vector<std::string> payloads = {
      "",
      "not json",
      R"({"statusCode": "abc"})",
      R"({"statusCode": 99})",
      R"({"statusCode": 101})",
      R"({"statusCode": 600})",
      R"({"statusCode": 200.5})",
      R"({"statusCode": null})",
      R"({"statusCode": 200, "headers": "x"})",
      R"({"statusCode": 200, "headers": {"a": {"b": 1}}})",
      R"({"statusCode": 200, "cookies": "a=b"})",
      R"({"statusCode": 200, "cookies": [1]})",
      R"({"statusCode": 200, "body": "!!", "isBase64Encoded": true})",
      R"({"statusCode": 200, "isBase64Encoded": "yes"})",
      R"({"statusCode": 200, "headers": {"X-Bad": "a\r\nSet-Cookie: evil=1"}})",
      R"({"statusCode": 200, "headers": {"Bad Name": "a"}})",
      R"({"statusCode": 200, "headers": {"X-Nul": "a\u0000b"}})",
      R"({"statusCode": 200, "cookies": ["a=b\nX-Injected: 1"]})",
  };
  for (const auto& payload : payloads) {
    auto response = v2(payload);
    EXPECT_EQ(response.status, 500u) << payload;
    EXPECT_EQ(response.body, R"({"message":"Internal Server Error"})") << payload;
    EXPECT_EQ(values(response, "content-type"), Values{"application/json"}) << payload;
    EXPECT_EQ(values(response, "apigw-requestid"), Values{std::string(kRequestId)}) << payload;
    EXPECT_TRUE(values(response, "x-injected").empty()) << payload;
  }
}

TEST(ResponseV2, DropsFramingAndRequestIdHeadersFromFunction) {
  auto response = v2(R"({"statusCode": 200, "headers": {"Content-Length": "999",
      "Transfer-Encoding": "chunked", "Connection": "close", "apigw-requestid": "forged"},
      "body": "ok"})");
  EXPECT_TRUE(values(response, "content-length").empty());
  EXPECT_TRUE(values(response, "transfer-encoding").empty());
  EXPECT_TRUE(values(response, "connection").empty());
  EXPECT_EQ(values(response, "apigw-requestid"), Values{std::string(kRequestId)});
}

TEST(ResponseV1, MergesHeadersAndMultiValueHeaders) {
  auto response = v1(R"({
    "statusCode": 200,
    "headers": {"X-Single": "one", "X-Both": "from-headers", "X-Flag": true},
    "multiValueHeaders": {"x-both": ["m1", "m2"], "Set-Cookie": ["a=1", "b=2"]},
    "body": "hello"
  })");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(values(response, "x-single"), Values{"one"});
  EXPECT_EQ(values(response, "x-flag"), Values{"true"});
  EXPECT_EQ(values(response, "x-both"), (Values{"m1", "m2"}));
  EXPECT_EQ(values(response, "set-cookie"), (Values{"a=1", "b=2"}));
  EXPECT_EQ(values(response, "content-type"), Values{"application/json"});
  EXPECT_EQ(values(response, "x-amzn-requestid"), Values{std::string(kRequestId)});
}

TEST(ResponseV1, DefaultsStatusAndBody) {
  auto response = v1("{}");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "");
  auto with_nulls = v1(R"({"statusCode": "404", "body": null, "headers": null})");
  EXPECT_EQ(with_nulls.status, 404u);
  EXPECT_EQ(with_nulls.body, "");
}

TEST(ResponseV1, DecodesBase64Body) {
  auto response = v1(R"({"statusCode": 200, "body": "UEs=", "isBase64Encoded": true})");
  EXPECT_EQ(response.body, "PK");
}

TEST(ResponseV1, DecodesBase64WithLineBreaks) {
  auto response = v1(R"({"statusCode": 200, "body": "UE\nsx\r\nMg==", "isBase64Encoded": true})");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.body, "PK12");
}

TEST(RestResponse, DecodesBase64OnlyForBinaryMediaTypes) {
  struct Case {
    std::vector<std::string> binary_types;
    std::string accept;
    std::string content_type;
    bool decoded;
  };
  std::vector<Case> cases = {
      {{}, "image/png", "image/png", false},
      {{"image/png"}, "image/png", "text/plain", true},
      {{"image/png"}, "text/html,image/png", "text/plain", false},
      {{"image/png"}, "", "image/png", true},
      {{"image/*"}, "", "image/jpeg", true},
      {{"*/*"}, "text/html", "text/html", true},
      {{"image/png"}, "*/*", "application/json", true},
      {{"application/pdf"}, "text/html", "image/png", false},
  };
  for (const auto& test_case : cases) {
    std::string payload = R"({"statusCode": 200, "isBase64Encoded": true, "body": "UEs=",
        "headers": {"Content-Type": ")" +
                          test_case.content_type + R"("}})";
    RestBinarySupport binary{&test_case.binary_types, test_case.accept};
    auto response = build_rest_response(CallStatus::returned, payload, kRequestId, binary);
    EXPECT_EQ(response.status, 200u);
    EXPECT_EQ(response.body, test_case.decoded ? "PK" : "UEs=")
        << test_case.accept << " " << test_case.content_type;
    EXPECT_EQ(values(response, "x-amzn-requestid"), Values{std::string(kRequestId)});
  }
}

TEST(RestResponse, ErrorsMatchBuildResponse) {
  RestBinarySupport binary;
  auto response = build_rest_response(CallStatus::timeout, "", kRequestId, binary);
  EXPECT_EQ(response.status, 504u);
  EXPECT_EQ(response.body, R"({"message": "Endpoint request timed out"})");
  auto malformed = build_rest_response(CallStatus::returned, "[]", kRequestId, binary);
  EXPECT_EQ(malformed.status, 502u);
}

TEST(ResponseV1, RestMalformedIs502) {
  std::vector<std::string> payloads = {
      R"("hello")",
      R"([1, 2])",
      "3",
      "{",
      R"({"statusCode": 200, "body": {"a": 1}})",
      R"({"statusCode": 200, "cookies": ["a=b"]})",
      R"({"statusCode": 200, "extra": 1})",
      R"({"statusCode": 200, "headers": {"X-N": 5}})",
      R"({"statusCode": 200, "multiValueHeaders": {"X-A": [{"b": 1}]}})",
      R"({"statusCode": 200, "multiValueHeaders": ["x"]})",
      R"({"statusCode": 200, "headers": {"X-A": "1\r\n"}})",
      R"({"statusCode": "2OO"})",
  };
  for (const auto& payload : payloads) {
    auto response = v1(payload);
    EXPECT_EQ(response.status, 502u) << payload;
    EXPECT_EQ(response.body, R"({"message": "Internal server error"})") << payload;
    EXPECT_EQ(values(response, "x-amzn-errortype"), Values{"InternalServerErrorException"});
    EXPECT_EQ(values(response, "x-amzn-requestid"), Values{std::string(kRequestId)});
  }
}

TEST(ResponseV1, HttpApiMalformedIs500) {
  auto response = v1(R"("hello")", Front::http_api);
  EXPECT_EQ(response.status, 500u);
  EXPECT_EQ(response.body, R"({"message":"Internal Server Error"})");
  EXPECT_EQ(values(response, "apigw-requestid"), Values{std::string(kRequestId)});
}

TEST(ResponseErrors, StatusPerFrontDoorAndFailure) {
  struct Case {
    Front front;
    CallStatus status;
    unsigned code;
    std::string body;
  };
  std::vector<Case> cases = {
      {Front::http_api, CallStatus::function_error, 500, R"({"message":"Internal Server Error"})"},
      {Front::http_api, CallStatus::timeout, 503, R"({"message":"Service Unavailable"})"},
      {Front::http_api, CallStatus::throttled, 500, R"({"message":"Internal Server Error"})"},
      {Front::http_api, CallStatus::not_found, 500, R"({"message":"Internal Server Error"})"},
      {Front::http_api, CallStatus::failure, 500, R"({"message":"Internal Server Error"})"},
      {Front::rest_api, CallStatus::function_error, 502, R"({"message": "Internal server error"})"},
      {Front::rest_api, CallStatus::timeout, 504, R"({"message": "Endpoint request timed out"})"},
      {Front::rest_api, CallStatus::throttled, 500, R"({"message": "Internal server error"})"},
      {Front::rest_api, CallStatus::not_found, 500, R"({"message": "Internal server error"})"},
      {Front::rest_api, CallStatus::failure, 500, R"({"message": "Internal server error"})"},
      {Front::function_url, CallStatus::function_error, 502, "Internal Server Error"},
      {Front::function_url, CallStatus::timeout, 502, "Internal Server Error"},
      {Front::function_url, CallStatus::throttled, 429, R"({"message":"Rate Exceeded."})"},
      {Front::function_url, CallStatus::failure, 502, "Internal Server Error"},
  };
  for (const auto& test_case : cases) {
    for (auto format : {PayloadFormat::v1, PayloadFormat::v2}) {
      auto response = build_response(test_case.front, format, test_case.status,
                                     R"({"statusCode":200})", kRequestId);
      std::string id_header =
          test_case.front == Front::http_api ? "apigw-requestid" : "x-amzn-requestid";
      EXPECT_EQ(response.status, test_case.code) << test_case.body;
      EXPECT_EQ(response.body, test_case.body);
      EXPECT_EQ(values(response, id_header), Values{std::string(kRequestId)}) << test_case.body;
    }
  }
}

TEST(ResponseErrors, FunctionUrlMalformedIs502) {
  auto response = v2(R"({"statusCode": "x"})", Front::function_url);
  EXPECT_EQ(response.status, 502u);
  EXPECT_EQ(response.body, "Internal Server Error");
}

}  // namespace
}  // namespace lambent::services::apigateway
