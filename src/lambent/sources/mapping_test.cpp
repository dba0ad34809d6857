#include "lambent/sources/mapping.h"

#include <gtest/gtest.h>

namespace lambent::sources {
namespace {

TEST(MappingDocument, RoundTripsEveryField) {
  EventSourceMapping mapping;
  mapping.uuid = "a1b2c3d4-0000-0000-0000-000000000001";
  mapping.event_source_arn = "arn:aws:sqs:us-east-1:000000000000:jobs";
  mapping.function_name = "worker";
  mapping.qualifier = "live";
  mapping.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:worker:live";
  mapping.batch_size = 100;
  mapping.maximum_batching_window_seconds = 5;
  mapping.enabled = false;
  mapping.filter_patterns = {R"({"body":{"kind":["a"]}})", R"({"body":{"kind":["b"]}})"};
  mapping.report_batch_item_failures = true;
  mapping.maximum_concurrency = 7;
  mapping.last_modified = 1764900000.25;

  auto decoded = from_document(to_document(mapping));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->uuid, mapping.uuid);
  EXPECT_EQ(decoded->event_source_arn, mapping.event_source_arn);
  EXPECT_EQ(decoded->function_name, "worker");
  EXPECT_EQ(decoded->qualifier, "live");
  EXPECT_EQ(decoded->function_arn, mapping.function_arn);
  EXPECT_EQ(decoded->batch_size, 100);
  EXPECT_EQ(decoded->maximum_batching_window_seconds, 5);
  EXPECT_FALSE(decoded->enabled);
  EXPECT_EQ(decoded->filter_patterns, mapping.filter_patterns);
  EXPECT_TRUE(decoded->report_batch_item_failures);
  EXPECT_EQ(decoded->maximum_concurrency, 7);
  EXPECT_DOUBLE_EQ(decoded->last_modified, 1764900000.25);

  mapping.maximum_concurrency.reset();
  decoded = from_document(to_document(mapping));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->maximum_concurrency.has_value());
}

TEST(MappingDocument, RejectsBrokenDocuments) {
  EXPECT_FALSE(from_document("not json").ok());
  EXPECT_FALSE(from_document("[]").ok());
  EXPECT_FALSE(from_document(R"({"uuid":"x"})").ok());
}

}  // namespace
}  // namespace lambent::sources
