// Checks that matching allocates nothing, by counting calls of the global operator new while
// patterns are matched. The replacement operators apply to this whole test binary.
#include "lambent/patterns/event_pattern.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace lambent::patterns {
namespace {

TEST(EventPatternAllocation, MatchingAllocatesNothing) {
  auto pattern = EventPattern::parse(
      R"({"source": [{"prefix": "aws."}], "detail": {
            "state": [{"anything-but": ["stopped", "pending"]}],
            "count": [{"numeric": [">", 0, "<=", 100]}],
            "ip": [{"cidr": "10.0.0.0/8"}], "path": [{"wildcard": "dir/*.png"}],
            "name": [{"equals-ignore-case": "alice"}], "tag": [{"exists": false}],
            "$or": [{"a.b": ["x"]}, {"c": [null]}]}})",
      Dialect::eventbridge);
  ASSERT_TRUE(pattern.ok()) << pattern.error().message;
  boost::json::value event = boost::json::parse(
      R"({"source": "aws.ec2", "detail": {"state": "running", "count": 7, "ip": "10.1.2.3",
          "path": "dir/a/b.png", "name": "ALICE", "a": [{"b": "y"}, {"b": "x"}]}})");

  // The counter records allocations: parsing an event makes some.
  long start = allocations.load();
  boost::json::value copy = boost::json::parse(R"({"detail": {"state": "running"}})");
  EXPECT_GT(allocations.load(), start);

  long before = allocations.load();
  bool all = true;
  for (int i = 0; i < 1000; ++i) all = all && pattern->matches(event);
  long after = allocations.load();

  EXPECT_TRUE(all);
  EXPECT_EQ(after - before, 0);
}

}  // namespace
}  // namespace lambent::patterns
