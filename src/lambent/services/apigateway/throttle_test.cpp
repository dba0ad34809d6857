#include "lambent/services/apigateway/throttle.h"

#include <gtest/gtest.h>

namespace lambent::services::apigateway {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  Throttle::Clock reader() {
    return [this] { return now; };
  }
};

ThrottleSettings limits(double rate, std::int64_t burst) {
  ThrottleSettings settings;
  settings.rate_limit = rate;
  settings.burst_limit = burst;
  return settings;
}

TEST(Throttle, AllowsBurstThenRejects) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  auto settings = limits(1, 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(throttle.try_acquire("api", "$default", "GET /", settings));
  EXPECT_FALSE(throttle.try_acquire("api", "$default", "GET /", settings));
}

TEST(Throttle, RefillsAtRate) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  auto settings = limits(2, 1);
  EXPECT_TRUE(throttle.try_acquire("api", "prod", "GET /", settings));
  EXPECT_FALSE(throttle.try_acquire("api", "prod", "GET /", settings));
  clock.now += 250ms;  // half a token
  EXPECT_FALSE(throttle.try_acquire("api", "prod", "GET /", settings));
  clock.now += 250ms;
  EXPECT_TRUE(throttle.try_acquire("api", "prod", "GET /", settings));
  EXPECT_FALSE(throttle.try_acquire("api", "prod", "GET /", settings));
}

TEST(Throttle, RefillStopsAtBurst) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  auto settings = limits(100, 2);
  clock.now += 10s;
  EXPECT_TRUE(throttle.try_acquire("api", "s", "r", settings));
  EXPECT_TRUE(throttle.try_acquire("api", "s", "r", settings));
  EXPECT_FALSE(throttle.try_acquire("api", "s", "r", settings));
}

TEST(Throttle, KeepsBucketPerRouteStageAndApi) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  auto settings = limits(1, 1);
  EXPECT_TRUE(throttle.try_acquire("api", "s", "GET /a", settings));
  EXPECT_FALSE(throttle.try_acquire("api", "s", "GET /a", settings));
  EXPECT_TRUE(throttle.try_acquire("api", "s", "GET /b", settings));
  EXPECT_TRUE(throttle.try_acquire("api", "t", "GET /a", settings));
  EXPECT_TRUE(throttle.try_acquire("other", "s", "GET /a", settings));
  EXPECT_EQ(throttle.bucket_count(), 4u);
}

TEST(Throttle, ZeroBurstRejectsEverything) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  EXPECT_FALSE(throttle.try_acquire("api", "s", "r", limits(100, 0)));
  clock.now += 5s;
  EXPECT_FALSE(throttle.try_acquire("api", "s", "r", limits(100, 0)));
}

TEST(Throttle, UnsetLimitsUseAccountDefaults) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  ThrottleSettings unset;
  int allowed = 0;
  for (int i = 0; i < kAccountBurstLimit + 10; ++i) {
    if (throttle.try_acquire("api", "s", "r", unset)) ++allowed;
  }
  EXPECT_EQ(allowed, kAccountBurstLimit);
}

TEST(Throttle, AccountBucketSharedByRoutes) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  auto generous = limits(1e6, 1000000);
  int allowed = 0;
  for (int i = 0; i < kAccountBurstLimit; ++i) {
    if (throttle.try_acquire("api", "s", "route" + std::to_string(i % 7), generous)) ++allowed;
  }
  EXPECT_EQ(allowed, kAccountBurstLimit);
  EXPECT_FALSE(throttle.try_acquire("other", "s", "fresh", generous));
  clock.now += 1ms;  // 10 tokens at 10,000 per second
  EXPECT_TRUE(throttle.try_acquire("other", "s", "fresh", generous));
}

TEST(Throttle, ChangedSettingsRestartBucket) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  EXPECT_TRUE(throttle.try_acquire("api", "s", "r", limits(1, 1)));
  EXPECT_FALSE(throttle.try_acquire("api", "s", "r", limits(1, 1)));
  EXPECT_TRUE(throttle.try_acquire("api", "s", "r", limits(1, 2)));
  EXPECT_TRUE(throttle.try_acquire("api", "s", "r", limits(1, 2)));
  EXPECT_FALSE(throttle.try_acquire("api", "s", "r", limits(1, 2)));
}

TEST(Throttle, PruneDropsIdleBuckets) {
  FakeClock clock;
  Throttle throttle(clock.reader());
  EXPECT_TRUE(throttle.try_acquire("api", "s", "old", limits(1, 1)));
  clock.now += 10min;
  EXPECT_TRUE(throttle.try_acquire("api", "s", "new", limits(1, 1)));
  throttle.prune(5min);
  EXPECT_EQ(throttle.bucket_count(), 1u);
}

TEST(EffectiveThrottle, RouteOverridesEachLimitSeparately) {
  ThrottleSettings stage = limits(50, 100);
  ThrottleSettings route;
  route.burst_limit = 5;
  auto settings = effective_throttle(stage, &route);
  EXPECT_EQ(settings.rate_limit, 50);
  EXPECT_EQ(settings.burst_limit, 5);
  auto without = effective_throttle(stage, nullptr);
  EXPECT_EQ(without.burst_limit, 100);
}

}  // namespace
}  // namespace lambent::services::apigateway
