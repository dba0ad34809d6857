#include "lambent/invoke/concurrency.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace lambent::invoke {
namespace {

using Slot = ConcurrencyLimiter::Slot;

TEST(ConcurrencyLimiter, ReservedLimitThrottlesExcess) {
  ConcurrencyLimiter limiter(1000);
  limiter.set_reserved("f", 2);
  auto first = limiter.acquire("f");
  auto second = limiter.acquire("f");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());

  auto third = limiter.acquire("f");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, Errc::throttled);
  EXPECT_EQ(third.error().type, "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_EQ(third.error().message, "Rate Exceeded.");
  EXPECT_EQ(limiter.running("f"), 2);
  // Reserved invocations do not use the unreserved pool.
  EXPECT_EQ(limiter.unreserved_running(), 0);
}

TEST(ConcurrencyLimiter, ReleasedSlotIsReusable) {
  ConcurrencyLimiter limiter(1000);
  limiter.set_reserved("f", 1);
  {
    auto slot = limiter.acquire("f");
    ASSERT_TRUE(slot.ok());
    EXPECT_FALSE(limiter.acquire("f").ok());
  }
  EXPECT_EQ(limiter.running("f"), 0);
  EXPECT_TRUE(limiter.acquire("f").ok());
}

TEST(ConcurrencyLimiter, ZeroReservationThrottlesAll) {
  ConcurrencyLimiter limiter(1000);
  limiter.set_reserved("off", 0);
  auto slot = limiter.acquire("off");
  ASSERT_FALSE(slot.ok());
  EXPECT_EQ(slot.error().type, "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_TRUE(limiter.acquire("other").ok());
}

TEST(ConcurrencyLimiter, UnreservedPoolIsSharedAndShrunk) {
  ConcurrencyLimiter limiter(5);
  limiter.set_reserved("reserved", 2);
  EXPECT_EQ(limiter.unreserved_limit(), 3);

  std::vector<Slot> slots;
  for (const char* name : {"a", "b", "a"}) {
    auto slot = limiter.acquire(name);
    ASSERT_TRUE(slot.ok()) << name;
    slots.push_back(std::move(slot).value());
  }
  auto over = limiter.acquire("c");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::throttled);
  EXPECT_EQ(over.error().type, "ConcurrentInvocationLimitExceeded");
  // The reservation stays available to its function while the pool is full.
  EXPECT_TRUE(limiter.acquire("reserved").ok());

  slots.pop_back();
  EXPECT_EQ(limiter.unreserved_running(), 2);
  EXPECT_TRUE(limiter.acquire("c").ok());
}

TEST(ConcurrencyLimiter, MovedSlotReleasesOnce) {
  ConcurrencyLimiter limiter(1);
  auto slot = limiter.acquire("f");
  ASSERT_TRUE(slot.ok());
  Slot moved = std::move(slot).value();
  Slot target;
  target = std::move(moved);
  EXPECT_EQ(limiter.unreserved_running(), 1);
  target = Slot();
  EXPECT_EQ(limiter.unreserved_running(), 0);
  EXPECT_EQ(limiter.running("f"), 0);
}

TEST(ConcurrencyLimiter, SlotOutlivesLimiter) {
  std::optional<Slot> slot;
  {
    ConcurrencyLimiter limiter(1);
    auto acquired = limiter.acquire("f");
    ASSERT_TRUE(acquired.ok());
    slot.emplace(std::move(acquired).value());
  }
  slot.reset();  // must not touch freed memory (checked by ASan on the dev preset)
}

TEST(ConcurrencyLimiter, ReservationChangeKeepsRunningCounts) {
  ConcurrencyLimiter limiter(1000);
  auto unreserved = limiter.acquire("f");
  ASSERT_TRUE(unreserved.ok());
  limiter.set_reserved("f", 1);
  // The running invocation counts against the new reservation, but returns its slot to the
  // pool it came from.
  EXPECT_FALSE(limiter.acquire("f").ok());
  unreserved = Error{Errc::internal, "released"};
  EXPECT_EQ(limiter.unreserved_running(), 0);
  EXPECT_EQ(limiter.running("f"), 0);
  EXPECT_TRUE(limiter.acquire("f").ok());
}

TEST(ConcurrencyLimiter, ValidateKeepsMinimumUnreserved) {
  ConcurrencyLimiter limiter(1000);
  EXPECT_TRUE(limiter.validate_reserved("f", 900).ok());
  auto too_many = limiter.validate_reserved("f", 901);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Errc::invalid_parameter);
  EXPECT_EQ(too_many.error().message,
            "Specified ReservedConcurrentExecutions for function decreases account's "
            "UnreservedConcurrentExecution below its minimum value of [100].");

  limiter.set_reserved("f", 600);
  EXPECT_EQ(limiter.unreserved_limit(), 400);
  EXPECT_FALSE(limiter.validate_reserved("g", 301).ok());
  EXPECT_TRUE(limiter.validate_reserved("g", 300).ok());
  // A function's own reservation is replaced, not added to.
  EXPECT_TRUE(limiter.validate_reserved("f", 900).ok());

  limiter.clear_reserved("f");
  EXPECT_EQ(limiter.unreserved_limit(), 1000);
  EXPECT_FALSE(limiter.reserved("f").has_value());
}

TEST(ConcurrencyLimiter, SmallAccountCannotReserve) {
  ConcurrencyLimiter limiter(10);
  EXPECT_EQ(limiter.min_unreserved(), 10);
  auto rejected = limiter.validate_reserved("f", 1);
  ASSERT_FALSE(rejected.ok());
  EXPECT_NE(rejected.error().message.find("minimum value of [10]"), std::string::npos);
  EXPECT_TRUE(limiter.validate_reserved("f", 0).ok());
}

}  // namespace
}  // namespace lambent::invoke
