#include "lambent/services/sqs/protocol.h"

#include "lambent/services/sqs/errors.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::services::sqs {
namespace {

namespace json = boost::json;

http::Request form_request(std::string body) {
  http::Request request;
  request.method = "POST";
  request.target = "/";
  request.body = std::move(body);
  return request;
}

TEST(SqsProtocol, QueryBatchBecomesJsonShape) {
  auto call = decode_call(form_request(
      "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=u"
      "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=two"
      "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one+%26"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v"));
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->operation, "SendMessageBatch");
  EXPECT_EQ(call->protocol, Protocol::query);
  auto expected = json::parse(R"({"QueueUrl":"u","Entries":[
      {"Id":"a","MessageBody":"one &",
       "MessageAttributes":{"k":{"DataType":"String","StringValue":"v"}}},
      {"Id":"b","MessageBody":"two"}]})");
  EXPECT_EQ(json::value(call->input), expected) << json::serialize(call->input);
}

TEST(SqsProtocol, QueryListsAndMaps) {
  auto call = decode_call(form_request(
      "Action=GetQueueAttributes&AttributeName.2=QueueArn&AttributeName.1=All"
      "&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=team&Tag.1.Value=x"));
  ASSERT_TRUE(call.ok()) << call.error().message;
  const auto& input = call->input;
  EXPECT_EQ(json::value(input.at("AttributeNames")), json::parse(R"(["All","QueueArn"])"));
  EXPECT_EQ(json::value(input.at("Attributes")), json::parse(R"({"DelaySeconds":"5"})"));
  EXPECT_EQ(json::value(input.at("Tags")), json::parse(R"({"team":"x"})"));
}

TEST(SqsProtocol, QueryMemberListForm) {
  auto call = decode_call(
      form_request("Action=UntagQueue&TagKeys.member.1=a&TagKeys.member.2=b&QueueUrl=u"));
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(json::value(call->input.at("TagKeys")), json::parse(R"(["a","b"])"))
      << json::serialize(call->input);
}

TEST(SqsProtocol, QueryRejectsBadRequests) {
  auto missing = decode_call(form_request("QueueUrl=u"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().type, "MissingAction");
  auto escape = decode_call(form_request("Action=ListQueues&QueueNamePrefix=%zz"));
  ASSERT_FALSE(escape.ok());
  EXPECT_EQ(escape.error().type, "MalformedQueryString");
  auto version = decode_call(form_request("Action=ListQueues&Version=2008-01-01"));
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().type, "InvalidParameterValue");
}

TEST(SqsProtocol, XmlFlattensListsAndMaps) {
  Call call;
  call.operation = "ReceiveMessage";
  json::object output{
      {"Messages",
       json::array{json::object{
           {"Body", "a<b\r"},
           {"Attributes", json::object{{"SentTimestamp", "1"}}},
           {"MessageAttributes",
            json::object{{"k", json::object{{"DataType", "String"}, {"StringValue", "v"}}}}}}}}};
  auto response = encode_output(call, output, "rid");
  EXPECT_EQ(response.body,
            "<?xml version=\"1.0\"?><ReceiveMessageResponse "
            "xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><ReceiveMessageResult>"
            "<Message><Body>a&lt;b&#xD;</Body><Attribute><Name>SentTimestamp</Name>"
            "<Value>1</Value></Attribute><MessageAttribute><Name>k</Name><Value>"
            "<DataType>String</DataType><StringValue>v</StringValue></Value>"
            "</MessageAttribute></Message></ReceiveMessageResult><ResponseMetadata>"
            "<RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>");
}

TEST(SqsProtocol, JsonErrorCarriesQueryCode) {
  auto response = encode_error(Protocol::json, queue_not_found(), "rid");
  EXPECT_EQ(response.status, 400u);
  bool found = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "x-amzn-query-error") {
      found = true;
      EXPECT_EQ(value, "AWS.SimpleQueueService.NonExistentQueue;Sender");
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist",)"
                        R"("message":"The specified queue does not exist."})"));
}

}  // namespace
}  // namespace lambent::services::sqs
