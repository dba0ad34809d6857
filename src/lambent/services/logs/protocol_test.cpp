#include "lambent/services/logs/protocol.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace lambent::services::logs {
namespace {

namespace json = boost::json;

json::object parse(std::string_view text) { return json::parse(text).as_object(); }

TEST(LogsProtocol, ModelOperations) {
  EXPECT_TRUE(is_model_operation("FilterLogEvents"));
  EXPECT_TRUE(is_model_operation("PutLogEvents"));
  EXPECT_TRUE(is_model_operation("UpdateScheduledQuery"));
  EXPECT_FALSE(is_model_operation("filterlogevents"));
  EXPECT_FALSE(is_model_operation(""));
}

TEST(LogsProtocol, ErrorResponseShape) {
  auto response = error_response(
      make_error(Errc::not_found, "The specified log group does not exist."), "req-1");
  EXPECT_EQ(response.status, 400u);
  EXPECT_EQ(json::parse(response.body),
            json::parse(R"({"__type":"ResourceNotFoundException",)"
                        R"("message":"The specified log group does not exist."})"));
  bool content_type = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "Content-Type") content_type = value == "application/x-amz-json-1.1";
  }
  EXPECT_TRUE(content_type);
  EXPECT_EQ(error_response(make_error(Errc::io, "disk"), "r").status, 500u);
}

TEST(LogsProtocol, FieldsAcceptValidValues) {
  auto body = parse(R"({"logGroupName":"/aws/lambda/fn","limit":5,"descending":true,
                        "names":["a","b"],"orderBy":"LastEventTime"})");
  RequestFields fields(body);
  EXPECT_EQ(fields.string("logGroupName", StringRule{1, 512, Charset::log_group_name}),
            "/aws/lambda/fn");
  EXPECT_EQ(fields.integer("limit", 1, 50), 5);
  EXPECT_EQ(fields.boolean("descending"), true);
  EXPECT_EQ(fields.string_list("names", 1, 3, StringRule{1, 10, Charset::log_stream_name}),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fields.enumeration("orderBy", {"LogStreamName", "LastEventTime"}), "LastEventTime");
  EXPECT_FALSE(fields.string("absent", StringRule{}).has_value());
  EXPECT_TRUE(fields.status().ok());
}

TEST(LogsProtocol, FieldsCollectViolations) {
  auto body = parse(R"({"logGroupName":"bad name","limit":0,"orderBy":"Size"})");
  RequestFields fields(body);
  fields.string("logGroupName", StringRule{1, 512, Charset::log_group_name});
  fields.integer("limit", 1, 50);
  fields.enumeration("orderBy", {"LogStreamName", "LastEventTime"});
  fields.string("logStreamName", StringRule{1, 512, Charset::log_stream_name}, Presence::required);

  auto status = fields.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::validation);
  EXPECT_EQ(status.error().message,
            "4 validation errors detected: "
            "Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [\\.\\-_/#A-Za-z0-9]+; "
            "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater "
            "than or equal to 1; "
            "Value 'Size' at 'orderBy' failed to satisfy constraint: Member must satisfy enum "
            "value set: [LogStreamName, LastEventTime]; "
            "Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
}

TEST(LogsProtocol, WrongTypeIsSerializationError) {
  auto body = parse(R"({"limit":"ten","descending":1,"names":"a"})");
  RequestFields fields(body);
  EXPECT_FALSE(fields.integer("limit").has_value());
  EXPECT_FALSE(fields.boolean("descending").has_value());
  EXPECT_FALSE(fields.string_list("names", 0, 5, StringRule{}).has_value());

  auto status = fields.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, Errc::invalid_content);
  EXPECT_EQ(status.error().message, "The value of 'limit' must be an integer.");
}

TEST(LogsProtocol, UnknownOperationMessages) {
  EXPECT_EQ(unknown_operation("Logs_20140328.PutLogEvents").message,
            "Lambent does not implement the CloudWatch Logs operation PutLogEvents; "
            "docs/compat/logs.md lists the operations it serves.");
  EXPECT_EQ(unknown_operation("Logs_20140328.Nope").message,
            "Logs_20140328.Nope is not an operation of the CloudWatch Logs API (X-Amz-Target must "
            "be Logs_20140328.<Operation>).");
  EXPECT_EQ(unknown_operation("Logs_20140328.Nope").code, Errc::not_implemented);
}

}  // namespace
}  // namespace lambent::services::logs
