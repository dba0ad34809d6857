#include "lambent/services/sns/model.h"
#include "lambent/services/sns/query.h"

#include <gtest/gtest.h>

namespace lambent::services::sns {
namespace {

Params params_of(std::string_view form) {
  auto params = Params::decode(form);
  EXPECT_TRUE(params.ok());
  return std::move(params).value();
}

TEST(Params, DecodesFormFieldsMapsAndLists) {
  auto params = params_of(
      "Action=Publish&Message=a+b%21&Attributes.entry.2.key=K2&Attributes.entry.2.value=V2&"
      "Attributes.entry.1.key=K1&Attributes.entry.1.value=&Tags.member.10.Key=x&"
      "Tags.member.2.Key=y");
  EXPECT_EQ(params.get("Message"), "a b!");
  auto map = params.map("Attributes");
  ASSERT_EQ(map.size(), 2u);
  EXPECT_EQ(map[0], (std::pair<std::string, std::string>{"K1", ""}));
  EXPECT_EQ(map[1], (std::pair<std::string, std::string>{"K2", "V2"}));
  EXPECT_EQ(params.indexes("Tags.member"), (std::vector<int>{2, 10}));
  EXPECT_FALSE(Params::decode("Message=%zz").ok());
  EXPECT_FALSE(Params::decode("Message=%ff%fe").ok());
}

TEST(Xml, EscapesText) {
  Xml xml;
  xml.leaf("M", "<a & 'b'>");
  EXPECT_EQ(xml.take(), "<M>&lt;a &amp; &apos;b&apos;&gt;</M>");
  Xml control;
  control.leaf("M", std::string_view("a\x01", 2));
  EXPECT_EQ(control.take(), "<M>a\xEF\xBF\xBD</M>");
}

TEST(ErrorResponse, UsesTheSnsCodeAndStatus) {
  auto response = error_response(not_found("Topic does not exist"), "req-1");
  EXPECT_EQ(response.status, 404u);
  EXPECT_NE(response.body.find("<Type>Sender</Type><Code>NotFound</Code>"), std::string::npos);
  EXPECT_NE(response.body.find("<RequestId>req-1</RequestId>"), std::string::npos);
}

TEST(MessageAttributes, ReadsEachDataType) {
  auto params = params_of(
      "MessageAttributes.entry.1.Name=s&MessageAttributes.entry.1.Value.DataType=String&"
      "MessageAttributes.entry.1.Value.StringValue=v&"
      "MessageAttributes.entry.2.Name=n&MessageAttributes.entry.2.Value.DataType=Number.int&"
      "MessageAttributes.entry.2.Value.StringValue=-1.5e3&"
      "MessageAttributes.entry.3.Name=b&MessageAttributes.entry.3.Value.DataType=Binary&"
      "MessageAttributes.entry.3.Value.BinaryValue=AAE%3D&"
      "MessageAttributes.entry.4.Name=a&MessageAttributes.entry.4.Value.DataType=String.Array&"
      "MessageAttributes.entry.4.Value.StringValue=%5B%22x%22%2C1%5D");
  auto attributes = read_message_attributes(params, "MessageAttributes");
  ASSERT_TRUE(attributes.ok()) << attributes.error().message;
  ASSERT_EQ(attributes->size(), 4u);
  EXPECT_EQ((*attributes)[1].data_type, "Number.int");
  EXPECT_EQ((*attributes)[2].binary_value, std::string("\x00\x01", 2));
}

TEST(MessageAttributes, RejectsBadValues) {
  auto bad_number =
      params_of("M.entry.1.Name=n&M.entry.1.Value.DataType=Number&M.entry.1.Value.StringValue=1x");
  auto result = read_message_attributes(bad_number, "M");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "Could not cast message attribute 'n' value to number.");
  EXPECT_EQ(result.error().type, "ParameterValueInvalid");
  auto bad_array = params_of(
      "M.entry.1.Name=a&M.entry.1.Value.DataType=String.Array&M.entry.1.Value.StringValue=x");
  EXPECT_FALSE(read_message_attributes(bad_array, "M").ok());
  auto no_value = params_of("M.entry.1.Name=a&M.entry.1.Value.DataType=String");
  EXPECT_FALSE(read_message_attributes(no_value, "M").ok());
}

TEST(MessageStructure, SplitsDefaultAndProtocols) {
  PublishInput input;
  input.message = R"({"default":"d","sqs":"q","lambda":"l"})";
  ASSERT_TRUE(read_message_structure(input).ok());
  EXPECT_EQ(input.message, "d");
  EXPECT_EQ(input.per_protocol.at("sqs"), "q");
  PublishInput missing;
  missing.message = R"({"sqs":"q"})";
  EXPECT_EQ(read_message_structure(missing).error().message,
            "Invalid parameter: Message Structure - No default entry in JSON message body");
}

TEST(Notification, SurvivesEncoding) {
  Notification n;
  n.message_id = "id";
  n.message = "body \"quoted\"";
  n.attributes.push_back({"b", "Binary", "", std::string("\0\xff", 2)});
  n.sequence_number = "00000000000000000001";
  auto decoded = decode_notification(encode_notification(n));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->message, n.message);
  EXPECT_EQ(decoded->attributes[0].binary_value, n.attributes[0].binary_value);
  EXPECT_EQ(decoded->sequence_number, n.sequence_number);
}

TEST(FormatTimestamp, WritesMillisecondsInUtc) {
  EXPECT_EQ(format_timestamp(1602173174656), "2020-10-08T16:06:14.656Z");
}

TEST(RetryPolicy, ManagedEndpointsFollowAwsPhases) {
  RetryPolicy policy = managed_endpoint_policy();
  EXPECT_EQ(*policy.delay_ms(1), 0);
  EXPECT_EQ(*policy.delay_ms(3), 0);
  EXPECT_EQ(*policy.delay_ms(4), 1000);
  EXPECT_EQ(*policy.delay_ms(5), 1000);
  EXPECT_EQ(*policy.delay_ms(6), 1000);    // backoff starts at the minimum
  EXPECT_EQ(*policy.delay_ms(15), 20000);  // and ends at the maximum
  EXPECT_LT(*policy.delay_ms(10), 20000);
  EXPECT_EQ(*policy.delay_ms(100015), 20000);
  EXPECT_FALSE(policy.delay_ms(100016).has_value());
}

TEST(RetryPolicy, DefaultHttpPolicyRetriesThreeTimes) {
  RetryPolicy policy = default_http_policy();
  EXPECT_EQ(*policy.delay_ms(1), 20000);
  EXPECT_EQ(*policy.delay_ms(3), 20000);
  EXPECT_FALSE(policy.delay_ms(4).has_value());
}

TEST(RetryPolicy, ReadsSubscriptionAndTopicPolicies) {
  auto policy = read_retry_policy(
      R"({"healthyRetryPolicy":{"numRetries":5,"numNoDelayRetries":1,"minDelayTarget":2,
          "maxDelayTarget":10,"backoffFunction":"exponential"}})",
      default_http_policy());
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(*policy->delay_ms(1), 0);
  EXPECT_EQ(*policy->delay_ms(2), 2000);
  EXPECT_EQ(*policy->delay_ms(5), 10000);
  auto topic = read_retry_policy(R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":1}}})",
                                 default_http_policy());
  ASSERT_TRUE(topic.ok());
  EXPECT_EQ(topic->num_retries, 1);
  EXPECT_FALSE(check_delivery_policy(R"({"healthyRetryPolicy":{"minDelayTarget":30,
      "maxDelayTarget":20}})")
                   .ok());
  EXPECT_FALSE(check_delivery_policy("not json").ok());
}

TEST(RedrivePolicy, NeedsAnSqsArn) {
  EXPECT_EQ(*read_redrive_policy(R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:dlq"})"),
            "arn:aws:sqs:us-east-1:1:dlq");
  EXPECT_FALSE(read_redrive_policy(R"({"deadLetterTargetArn":"arn:aws:sns:x"})").ok());
}

}  // namespace
}  // namespace lambent::services::sns
