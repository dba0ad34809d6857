#include "lambent/invoke/async_policy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::invoke {
namespace {

namespace json = boost::json;

TEST(AsyncPolicy, FunctionErrorDelaysAreOneThenTwoMinutes) {
  EXPECT_EQ(function_error_delay_ms(1, 1.0), 60'000);
  EXPECT_EQ(function_error_delay_ms(2, 1.0), 120'000);
  EXPECT_EQ(function_error_delay_ms(1, 0.01), 600);
  EXPECT_EQ(function_error_delay_ms(2, 0.01), 1'200);
}

TEST(AsyncPolicy, BackoffDoublesUpToFiveMinutes) {
  EXPECT_EQ(backoff_delay_ms(0, 1.0), 1'000);
  EXPECT_EQ(backoff_delay_ms(1, 1.0), 2'000);
  EXPECT_EQ(backoff_delay_ms(2, 1.0), 4'000);
  EXPECT_EQ(backoff_delay_ms(8, 1.0), 256'000);
  EXPECT_EQ(backoff_delay_ms(9, 1.0), 300'000);
  EXPECT_EQ(backoff_delay_ms(1000, 1.0), 300'000);
  EXPECT_EQ(backoff_delay_ms(3, 0.5), 4'000);
}

TEST(AsyncPolicy, TargetServiceFromArn) {
  EXPECT_EQ(target_service("arn:aws:lambda:us-east-1:000000000000:function:f"),
            TargetService::lambda);
  EXPECT_EQ(target_service("arn:aws:sqs:us-east-1:000000000000:q"), TargetService::sqs);
  EXPECT_EQ(target_service("arn:aws:sns:us-east-1:000000000000:t"), TargetService::sns);
  EXPECT_EQ(target_service("arn:aws:events:us-east-1:000000000000:event-bus/default"),
            TargetService::eventbridge);
  EXPECT_EQ(target_service("arn:aws:iam::000000000000:role/r"), TargetService::other);
  EXPECT_EQ(target_service("not-an-arn"), TargetService::other);
  EXPECT_EQ(target_service("arn:aws"), TargetService::other);
}

TEST(AsyncPolicy, ParseLambdaArn) {
  auto plain = parse_lambda_arn("arn:aws:lambda:us-east-1:000000000000:function:orders");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->name, "orders");
  EXPECT_EQ(plain->qualifier, "$LATEST");

  auto qualified = parse_lambda_arn("arn:aws:lambda:us-east-1:000000000000:function:orders:live");
  ASSERT_TRUE(qualified.has_value());
  EXPECT_EQ(qualified->name, "orders");
  EXPECT_EQ(qualified->qualifier, "live");

  EXPECT_FALSE(parse_lambda_arn("arn:aws:lambda:us-east-1:000000000000:layer:deps:1"));
  EXPECT_FALSE(parse_lambda_arn("arn:aws:lambda:us-east-1:000000000000:function:"));
  EXPECT_FALSE(parse_lambda_arn("arn:aws:sqs:us-east-1:000000000000:q"));
}

TEST(AsyncPolicy, RecordWithResponse) {
  DestinationRecord record;
  record.timestamp_ms = 1'574'632'367'333;
  record.request_id = "8ea123e4-1db7-4aca-ad10-d9ca1234c1fd";
  record.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST";
  record.condition = "RetriesExhausted";
  record.approximate_invoke_count = 3;
  record.request_payload = R"({"Success":false})";
  record.response_payload = R"({"errorMessage":"boom","errorType":"Error"})";
  record.executed_version = "$LATEST";
  record.function_error = true;

  auto value = json::parse(render_destination_record(record));
  json::value expected = json::parse(R"({
    "version": "1.0",
    "timestamp": "2019-11-24T21:52:47.333Z",
    "requestContext": {
      "requestId": "8ea123e4-1db7-4aca-ad10-d9ca1234c1fd",
      "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
      "condition": "RetriesExhausted",
      "approximateInvokeCount": 3
    },
    "requestPayload": {"Success": false},
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                        "functionError": "Unhandled"},
    "responsePayload": {"errorMessage": "boom", "errorType": "Error"}
  })");
  EXPECT_EQ(value, expected);
}

TEST(AsyncPolicy, RecordWithoutResponse) {
  DestinationRecord record;
  record.timestamp_ms = 5;
  record.condition = "EventAgeExceeded";
  record.request_payload = "not json";
  auto value = json::parse(render_destination_record(record));
  const auto& object = value.as_object();
  EXPECT_EQ(object.at("timestamp"), "1970-01-01T00:00:00.005Z");
  EXPECT_EQ(object.at("requestPayload"), "not json");
  EXPECT_FALSE(object.contains("responseContext"));
  EXPECT_FALSE(object.contains("responsePayload"));
}

}  // namespace
}  // namespace lambent::invoke
