#include "lambent/services/s3/notifications.h"
#include "lambent/services/s3/xml.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace lambent::services::s3 {
namespace {

namespace json = boost::json;

std::string lambda_config(std::string_view id, std::string_view event, std::string_view prefix,
                          std::string_view suffix = {}) {
  std::string rules;
  if (!prefix.empty()) {
    rules +=
        "<FilterRule><Name>prefix</Name><Value>" + std::string(prefix) + "</Value></FilterRule>";
  }
  if (!suffix.empty()) {
    rules +=
        "<FilterRule><Name>Suffix</Name><Value>" + std::string(suffix) + "</Value></FilterRule>";
  }
  std::string filter = rules.empty() ? "" : "<Filter><S3Key>" + rules + "</S3Key></Filter>";
  return "<CloudFunctionConfiguration><Id>" + std::string(id) +
         "</Id><CloudFunction>arn:aws:lambda:us-east-1:000000000000:function:f</CloudFunction>"
         "<Event>" +
         std::string(event) + "</Event>" + filter + "</CloudFunctionConfiguration>";
}

std::string document(std::string_view body) {
  return "<?xml version=\"1.0\"?>\n<NotificationConfiguration "
         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" +
         std::string(body) + "</NotificationConfiguration>";
}

TEST(S3Xml, ParsesElementsTextAndEntities) {
  auto root = parse_xml(
      "<?xml version=\"1.0\"?><!-- c --><a:Delete xmlns:a=\"x\"><Object><Key>a &amp; b&#x20;"
      "&#233;</Key></Object><Quiet>true</Quiet><Empty/><![CDATA[<raw>]]></a:Delete>");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->name, "Delete");
  ASSERT_NE(root->child("Object"), nullptr);
  EXPECT_EQ(root->child("Object")->child_text("Key"), "a & b \xC3\xA9");
  EXPECT_EQ(root->child_text("Quiet"), "true");
  EXPECT_NE(root->child("Empty"), nullptr);
  EXPECT_EQ(root->text, "<raw>");
}

TEST(S3Xml, RejectsMalformedDocuments) {
  for (const char* bad : {"", "<a>", "<a></b>", "<a>&bogus;</a>", "<a></a><b></b>",
                          "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "<a x=1></a>"}) {
    auto parsed = parse_xml(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().type, "MalformedXML") << bad;
  }
}

TEST(S3Xml, WriterEscapesText) {
  XmlWriter xml("Root");
  xml.leaf("Key", "<a & 'b'>");
  EXPECT_EQ(xml.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Root "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>&lt;a &amp; "
            "&apos;b&apos;&gt;</Key></Root>");
}

TEST(S3Notifications, ParsesAndRendersConfigurations) {
  auto config =
      parse_notification(document(lambda_config("one", "s3:ObjectCreated:*", "in/", ".jpg") +
                                  "<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:0:q"
                                  "</Queue><Event>s3:ObjectRemoved:Delete</Event>"
                                  "</QueueConfiguration>"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->targets.size(), 2u);
  const auto& function = config->targets[0];
  EXPECT_EQ(function.kind, TargetKind::lambda);
  EXPECT_EQ(function.id, "one");
  EXPECT_EQ(function.prefix, "in/");
  EXPECT_EQ(function.suffix, ".jpg");
  EXPECT_FALSE(config->targets[1].id.empty());
  auto again = parse_notification(render_notification(*config));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->targets.size(), 2u);
  // Rendered as S3 orders them: topics, then queues, then functions.
  EXPECT_EQ(again->targets[0].kind, TargetKind::queue);
  EXPECT_EQ(again->targets[0].id, config->targets[1].id);
  EXPECT_EQ(again->targets[1].kind, TargetKind::lambda);
  EXPECT_EQ(again->targets[1].arn, function.arn);
  EXPECT_EQ(again->targets[1].suffix, ".jpg");
}

TEST(S3Notifications, RejectsUnknownEventsAndBadRules) {
  auto unknown = parse_notification(document(lambda_config("a", "s3:ObjectCreated:Upload", "")));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().type, "InvalidArgument");
  auto two_prefixes = parse_notification(document(
      "<CloudFunctionConfiguration><CloudFunction>arn:f</CloudFunction><Event>s3:ObjectCreated:*"
      "</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>a</Value></FilterRule>"
      "<FilterRule><Name>prefix</Name><Value>b</Value></FilterRule></S3Key></Filter>"
      "</CloudFunctionConfiguration>"));
  ASSERT_FALSE(two_prefixes.ok());
  EXPECT_EQ(two_prefixes.error().type, "InvalidArgument");
}

TEST(S3Notifications, RejectsOverlapsOfOneEventType) {
  struct Case {
    const char* event_a;
    const char* prefix_a;
    const char* suffix_a;
    const char* event_b;
    const char* prefix_b;
    const char* suffix_b;
    bool overlap;
  };
  const Case cases[] = {
      {"s3:ObjectCreated:*", "a/", "", "s3:ObjectCreated:Put", "a/b/", "", true},
      {"s3:ObjectCreated:*", "a/", "", "s3:ObjectCreated:Put", "b/", "", false},
      {"s3:ObjectCreated:Put", "", "", "s3:ObjectRemoved:*", "", "", false},
      {"s3:ObjectCreated:Put", "", ".jpg", "s3:ObjectCreated:Put", "", ".png", false},
      {"s3:ObjectCreated:Put", "", ".jpg", "s3:ObjectCreated:Put", "", "x.jpg", true},
      {"s3:ObjectCreated:Put", "a", ".jpg", "s3:ObjectCreated:Put", "b", ".jpg", false},
  };
  for (const auto& c : cases) {
    auto config =
        parse_notification(document(lambda_config("a", c.event_a, c.prefix_a, c.suffix_a) +
                                    lambda_config("b", c.event_b, c.prefix_b, c.suffix_b)));
    EXPECT_EQ(config.ok(), !c.overlap) << c.event_a << " " << c.prefix_a << c.suffix_a << " / "
                                       << c.event_b << " " << c.prefix_b << c.suffix_b;
  }
}

TEST(S3Notifications, WantsMatchesWildcardsAndFilters) {
  NotificationTarget target;
  target.events = {"s3:ObjectCreated:*"};
  target.prefix = "in/";
  target.suffix = ".jpg";
  EXPECT_TRUE(wants(target, "s3:ObjectCreated:Put", "in/a.jpg"));
  EXPECT_TRUE(wants(target, "s3:ObjectCreated:CompleteMultipartUpload", "in/a.jpg"));
  EXPECT_FALSE(wants(target, "s3:ObjectRemoved:Delete", "in/a.jpg"));
  EXPECT_FALSE(wants(target, "s3:ObjectCreated:Put", "out/a.jpg"));
  EXPECT_FALSE(wants(target, "s3:ObjectCreated:Put", "in/a.png"));
}

TEST(S3Notifications, EncodesKeysAsS3Does) {
  EXPECT_EQ(event_key("Happy Face.jpg"), "Happy+Face.jpg");
  EXPECT_EQ(event_key("a/b+c%d"), "a/b%2Bc%25d");
  EXPECT_EQ(event_key("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(event_key("x-_.*~"), "x-_.*%7E");
}

TEST(S3Notifications, RecordHasTheDocumentedShape) {
  EventFacts facts;
  facts.region = "us-east-1";
  facts.event_name = "ObjectCreated:Put";
  facts.time_ms = 123;
  facts.bucket = "b";
  facts.key = "a b";
  facts.size = 5;
  facts.etag = "abc";
  facts.sequencer = "00000000000000FF";
  facts.configuration_id = "cfg";
  auto value = json::parse(event_record(facts));
  const auto& record = value.at("Records").at(0);
  EXPECT_EQ(record.at("eventVersion"), "2.1");
  EXPECT_EQ(record.at("eventTime"), "1970-01-01T00:00:00.123Z");
  EXPECT_EQ(record.at("s3").at("object").at("key"), "a+b");
  EXPECT_EQ(record.at("s3").at("object").at("size"), 5);
  EXPECT_EQ(record.at("s3").at("bucket").at("arn"), "arn:aws:s3:::b");
  EXPECT_FALSE(record.at("s3").at("object").as_object().contains("versionId"));
  facts.removed = true;
  auto removed = json::parse(event_record(facts));
  EXPECT_FALSE(removed.at("Records").at(0).at("s3").at("object").as_object().contains("size"));
}

}  // namespace
}  // namespace lambent::services::s3
