#include "lambent/sources/queue_poller.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace lambent::sources {
namespace {

namespace json = boost::json;

const std::vector<std::string> kIds = {"m1", "m2", "m3"};

TEST(BatchResponse, CompleteSuccessForEmptyAndNullForms) {
  for (std::string_view payload :
       {"", "  ", "null", "{}", R"({"batchItemFailures":[]})", R"({"batchItemFailures":null})"}) {
    auto verdict = read_batch_response(payload, kIds);
    EXPECT_FALSE(verdict.complete_failure) << payload;
    EXPECT_TRUE(verdict.failed_ids.empty()) << payload;
  }
}

TEST(BatchResponse, ListedIdsFail) {
  auto verdict = read_batch_response(
      R"({"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]})", kIds);
  EXPECT_FALSE(verdict.complete_failure);
  EXPECT_EQ(verdict.failed_ids, (std::vector<std::string>{"m2", "m3"}));
}

TEST(BatchResponse, MalformedResponsesFailTheWholeBatch) {
  for (std::string_view payload : {
           "not json",
           "[1,2]",
           "\"text\"",
           R"({"batchItemFailures":{}})",
           R"({"batchItemFailures":[{"itemIdentifier":""}]})",
           R"({"batchItemFailures":[{"itemIdentifier":null}]})",
           R"({"batchItemFailures":[{"itemId":"m1"}]})",
           R"({"batchItemFailures":[{"itemIdentifier":"unknown"}]})",
           R"({"batchItemFailures":[{"itemIdentifier":7}]})",
           R"({"batchItemFailures":["m1"]})",
       }) {
    auto verdict = read_batch_response(payload, kIds);
    EXPECT_TRUE(verdict.complete_failure) << payload;
    EXPECT_TRUE(verdict.failed_ids.empty()) << payload;
  }
}

TEST(SqsRecord, HasLambdaFieldsAndAttributes) {
  QueueMessage message;
  message.message_id = "id-1";
  message.receipt_handle = "rh";
  message.body = "hello";
  message.md5_of_body = "5d41402abc4b2a76b9719d911017c592";
  message.md5_of_message_attributes = "abc";
  message.attributes.push_back({"text", "String", "value", ""});
  message.attributes.push_back({"blob", "Binary", "", std::string("\x00\x01", 2)});
  message.system_attributes = {{"ApproximateReceiveCount", "1"}, {"SentTimestamp", "1000"}};

  json::object record = sqs_record(message, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1");
  EXPECT_EQ(record.at("messageId"), "id-1");
  EXPECT_EQ(record.at("receiptHandle"), "rh");
  EXPECT_EQ(record.at("body"), "hello");
  EXPECT_EQ(record.at("md5OfBody"), "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(record.at("md5OfMessageAttributes"), "abc");
  EXPECT_EQ(record.at("eventSource"), "aws:sqs");
  EXPECT_EQ(record.at("eventSourceARN"), "arn:aws:sqs:us-east-1:000000000000:q");
  EXPECT_EQ(record.at("awsRegion"), "us-east-1");
  EXPECT_EQ(record.at("attributes").at("ApproximateReceiveCount"), "1");
  const auto& text = record.at("messageAttributes").at("text").as_object();
  EXPECT_EQ(text.at("stringValue"), "value");
  EXPECT_EQ(text.at("dataType"), "String");
  EXPECT_TRUE(text.at("stringListValues").as_array().empty());
  EXPECT_EQ(record.at("messageAttributes").at("blob").at("binaryValue"), "AAE=");

  message.md5_of_message_attributes.clear();
  message.attributes.clear();
  record = sqs_record(message, "arn", "r");
  EXPECT_FALSE(record.contains("md5OfMessageAttributes"));
  EXPECT_TRUE(record.at("messageAttributes").as_object().empty());
}

}  // namespace
}  // namespace lambent::sources
