#include "lambent/services/cloudwatch/protocol.h"

#include "lambent/services/cloudwatch/cbor.h"
#include "lambent/services/cloudwatch/errors.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace lambent::services::cloudwatch {
namespace {

http::Request query_request(std::string body, std::string service = "monitoring") {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.id = "req-1";
  request.headers.emplace_back("content-type", "application/x-www-form-urlencoded; charset=utf-8");
  if (!service.empty()) {
    request.headers.emplace_back(
        "authorization", "AWS4-HMAC-SHA256 Credential=LKIAEXAMPLE/20240501/us-east-1/" + service +
                             "/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
  }
  request.body = std::move(body);
  return request;
}

std::string_view header(const http::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

std::string gzip(std::string_view data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

TEST(QueryFields, BuildListsStructuresAndMaps) {
  Value input = query_fields_to_value({
      {"Namespace", "App"},
      {"MetricData.member.2.MetricName", "Second"},
      {"MetricData.member.1.MetricName", "First"},
      {"MetricData.member.1.Dimensions.member.1.Name", "Stage"},
      {"MetricData.member.1.Dimensions.member.1.Value", "prod"},
      {"MetricData.member.1.StatisticValues.Sum", "10"},
      {"Attributes.entry.1.key", "k"},
      {"Attributes.entry.1.value", "v"},
      {"Empty", ""},
  });
  EXPECT_EQ(input.find("Namespace")->as_string(), "App");
  const Value* data = input.find("MetricData");
  ASSERT_EQ(data->kind(), Value::Kind::list);
  ASSERT_EQ(data->items().size(), 2u);
  // Members are ordered by their index, not by arrival.
  EXPECT_EQ(data->items()[0].find("MetricName")->as_string(), "First");
  EXPECT_EQ(data->items()[1].find("MetricName")->as_string(), "Second");
  EXPECT_EQ(data->items()[0].find("Dimensions")->items()[0].find("Value")->as_string(), "prod");
  EXPECT_EQ(data->items()[0].find("StatisticValues")->find("Sum")->as_string(), "10");
  const Value* attributes = input.find("Attributes");
  ASSERT_EQ(attributes->kind(), Value::Kind::map);
  EXPECT_EQ(attributes->find("k")->as_string(), "v");
  EXPECT_EQ(input.find("Empty")->as_string(), "");
}

TEST(Routing, RecognisesEachProtocol) {
  EXPECT_TRUE(is_cloudwatch_request(query_request("Action=ListMetrics&Version=2010-08-01")));
  // Another query service's scope keeps the request away, whatever its Action.
  EXPECT_FALSE(is_cloudwatch_request(query_request("Action=ListMetrics", "sqs")));
  // Unsigned requests are recognised by their Action.
  EXPECT_TRUE(is_cloudwatch_request(query_request("Version=2010-08-01&Action=GetMetricData", "")));
  EXPECT_FALSE(is_cloudwatch_request(query_request("Action=SendMessage", "")));

  http::Request json;
  json.method = "POST";
  json.target = "/";
  json.headers.emplace_back("x-amz-target", "GraniteServiceVersion20100801.ListMetrics");
  EXPECT_TRUE(is_cloudwatch_request(json));
  EXPECT_EQ(detect_protocol(json), Protocol::json);
  json.headers.back().second = "Logs_20140328.DescribeLogGroups";
  EXPECT_FALSE(is_cloudwatch_request(json));

  http::Request cbor;
  cbor.method = "POST";
  cbor.target = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
  EXPECT_TRUE(is_cloudwatch_request(cbor));
  EXPECT_EQ(detect_protocol(cbor), Protocol::cbor);

  http::Request lambda = query_request("", "lambda");
  lambda.target = "/2015-03-31/functions";
  EXPECT_FALSE(is_cloudwatch_request(lambda));
}

TEST(Routing, ReadsTheCredentialScope) {
  EXPECT_EQ(credential_scope_service(query_request("")), "monitoring");
  http::Request presigned;
  presigned.target = "/?X-Amz-Credential=AK%2F20240501%2Fus-east-1%2Fmonitoring%2Faws4_request";
  EXPECT_EQ(credential_scope_service(presigned), "monitoring");
  EXPECT_EQ(credential_scope_service(http::Request{}), std::nullopt);
}

TEST(DecodeCall, QueryProtocol) {
  auto call =
      decode_call(query_request("Action=PutMetricData&Version=2010-08-01&Namespace=My+App&"
                                "MetricData.member.1.MetricName=Hits&MetricData.member.1.Value=2"),
                  1 << 20);
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->protocol, Protocol::query);
  EXPECT_EQ(call->operation, "PutMetricData");
  EXPECT_EQ(call->input.find("Namespace")->as_string(), "My App");
  EXPECT_EQ(call->input.find("Action"), nullptr);
  EXPECT_EQ(call->input.find("MetricData")->items()[0].find("Value")->as_string(), "2");
}

TEST(DecodeCall, QueryStringParameters) {
  http::Request request = query_request("");
  request.method = "GET";
  request.target = "/?Action=ListMetrics&Version=2010-08-01&Namespace=App%2FWeb";
  auto call = decode_call(request, 1 << 20);
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->operation, "ListMetrics");
  EXPECT_EQ(call->input.find("Namespace")->as_string(), "App/Web");
}

TEST(DecodeCall, QueryProtocolErrors) {
  auto missing = decode_call(query_request("Namespace=x"), 1 << 20);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().type, "MissingParameter");

  auto version = decode_call(query_request("Action=ListMetrics&Version=2009-01-01"), 1 << 20);
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().type, "InvalidAction");
  EXPECT_EQ(version.error().message, "Could not find operation ListMetrics for version 2009-01-01");

  auto escape = decode_call(query_request("Action=ListMetrics&Namespace=%G1"), 1 << 20);
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().type, "MalformedInput");
}

TEST(DecodeCall, JsonProtocol) {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.headers.emplace_back("x-amz-target", "GraniteServiceVersion20100801.GetMetricData");
  request.body = R"({"StartTime": 1714564800.5, "MetricDataQueries": [{"Id": "a"}]})";
  auto call = decode_call(request, 1 << 20);
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->protocol, Protocol::json);
  EXPECT_EQ(call->operation, "GetMetricData");
  EXPECT_EQ(call->input.find("StartTime")->as_number(), 1714564800.5);

  request.body = "[1]";
  auto array = decode_call(request, 1 << 20);
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().type, "SerializationException");
  request.body = "{";
  EXPECT_FALSE(decode_call(request, 1 << 20).ok());
}

TEST(DecodeCall, CborProtocolWithGzipBody) {
  Value input = Value::structure();
  input.set("Namespace", Value::string("App"));
  http::Request request;
  request.method = "POST";
  request.target = "/service/GraniteServiceVersion20100801/operation/ListMetrics";
  request.headers.emplace_back("content-encoding", "gzip");
  request.body = gzip(encode_cbor(input));
  auto call = decode_call(request, 1 << 20);
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->operation, "ListMetrics");
  EXPECT_EQ(call->input, input);

  auto too_large = decode_call(request, 4);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().type, "RequestEntityTooLarge");

  request.body = "not gzip";
  auto corrupt = decode_call(request, 1 << 20);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().type, "MalformedInput");
}

TEST(EncodeOutput, QueryProtocolWrapsResultInXml) {
  Call call;
  call.operation = "GetMetricStatistics";
  Value output = Value::structure();
  output.set("Label", Value::string("a<b"));
  Value datapoint = Value::structure();
  datapoint.set("Timestamp", Value::timestamp(1714564800000));
  datapoint.set("Sum", Value::number(10.5));
  Value extended = Value::map();
  extended.set("p99", Value::number(2));
  datapoint.set("ExtendedStatistics", std::move(extended));
  Value list = Value::list();
  list.push_back(std::move(datapoint));
  output.set("Datapoints", std::move(list));

  http::Response response = encode_output(call, &output, "req-1");
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(header(response, "Content-Type"), "text/xml");
  EXPECT_EQ(
      response.body,
      "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
      "<GetMetricStatisticsResult><Label>a&lt;b</Label><Datapoints><member>"
      "<Timestamp>2024-05-01T12:00:00.000Z</Timestamp><Sum>10.5</Sum>"
      "<ExtendedStatistics><entry><key>p99</key><value>2</value></entry>"
      "</ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult>"
      "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
      "</GetMetricStatisticsResponse>");

  // An operation without output has only the metadata.
  call.operation = "PutMetricData";
  EXPECT_EQ(encode_output(call, nullptr, "req-2").body,
            "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
            "<ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>"
            "</PutMetricDataResponse>");
}

TEST(EncodeOutput, JsonAndCbor) {
  Value output = Value::structure();
  output.set("Timestamps", Value::list());
  output.find("Timestamps")->push_back(Value::timestamp(1714564800000));
  output.find("Timestamps")->push_back(Value::timestamp(1714564800500));

  Call call;
  call.operation = "GetMetricData";
  call.protocol = Protocol::json;
  http::Response json = encode_output(call, &output, "req-1");
  EXPECT_EQ(header(json, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(json.body, R"({"Timestamps":[1714564800,1.7145648005E9]})");

  call.protocol = Protocol::cbor;
  http::Response cbor = encode_output(call, &output, "req-1");
  EXPECT_EQ(header(cbor, "smithy-protocol"), "rpc-v2-cbor");
  EXPECT_EQ(header(cbor, "Content-Type"), "application/cbor");
  auto decoded = decode_cbor(cbor.body);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, output);

  EXPECT_EQ(encode_output(call, nullptr, "req-1").body, "");
}

TEST(EncodeError, EachProtocolCarriesTheQueryCode) {
  Error error = invalid_value("The value x for parameter Namespace is invalid.");

  http::Response query = encode_error(Protocol::query, error, "req-1");
  EXPECT_EQ(query.status, 400u);
  EXPECT_EQ(query.body,
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error>"
            "<Type>Sender</Type><Code>InvalidParameterValue</Code>"
            "<Message>The value x for parameter Namespace is invalid.</Message></Error>"
            "<RequestId>req-1</RequestId></ErrorResponse>");

  http::Response json = encode_error(Protocol::json, error, "req-1");
  EXPECT_EQ(json.status, 400u);
  EXPECT_EQ(header(json, "x-amzn-query-error"), "InvalidParameterValue;Sender");
  EXPECT_EQ(json.body, R"({"__type":"com.amazonaws.cloudwatch#InvalidParameterValueException",)"
                       R"("message":"The value x for parameter Namespace is invalid."})");

  http::Response cbor = encode_error(Protocol::cbor, resource_not_found("gone"), "req-1");
  EXPECT_EQ(cbor.status, 404u);
  EXPECT_EQ(header(cbor, "x-amzn-query-error"), "ResourceNotFound;Sender");
  auto body = decode_cbor(cbor.body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->find("__type")->as_string(), "com.amazonaws.cloudwatch#ResourceNotFound");
  EXPECT_EQ(body->find("message")->as_string(), "gone");

  EXPECT_EQ(encode_error(Protocol::query, not_implemented("PutDashboard"), "r").status, 501u);
  EXPECT_EQ(encode_error(Protocol::query, Error{Errc::io, "disk"}, "r").status, 500u);
}

}  // namespace
}  // namespace lambent::services::cloudwatch
