#include "lambent/services/apigateway/throttle.h"

#include <algorithm>

namespace lambent::services::apigateway {

Throttle::Throttle(Clock clock) : clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
  account_.rate = kAccountRateLimit;
  account_.burst = static_cast<double>(kAccountBurstLimit);
  account_.tokens = account_.burst;
  account_.updated = clock_();
}

void Throttle::refill(Bucket& bucket, std::chrono::steady_clock::time_point now) {
  if (now <= bucket.updated) return;
  double seconds = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(bucket.burst, bucket.tokens + seconds * bucket.rate);
  bucket.updated = now;
}

bool Throttle::try_acquire(std::string_view api_id, std::string_view stage,
                           std::string_view route_key, const ThrottleSettings& settings) {
  auto now = clock_();
  double rate = std::max(0.0, settings.rate_limit.value_or(kAccountRateLimit));
  double burst = static_cast<double>(
      std::max<std::int64_t>(0, settings.burst_limit.value_or(kAccountBurstLimit)));

  auto key = std::make_tuple(api_id, stage, route_key);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    Bucket fresh;
    fresh.rate = rate;
    fresh.burst = burst;
    fresh.tokens = burst;
    fresh.updated = now;
    it = buckets_
             .emplace(
                 std::make_tuple(std::string(api_id), std::string(stage), std::string(route_key)),
                 fresh)
             .first;
  } else if (it->second.rate != rate || it->second.burst != burst) {
    it->second = Bucket{rate, burst, burst, now};
  }
  Bucket& route = it->second;
  refill(route, now);
  refill(account_, now);
  // A bucket contains fractional tokens between refills, but a request needs a whole one.
  if (route.tokens < 1.0 || account_.tokens < 1.0) return false;
  route.tokens -= 1.0;
  account_.tokens -= 1.0;
  return true;
}

void Throttle::prune(std::chrono::steady_clock::duration idle) {
  auto now = clock_();
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.updated > idle; });
}

ThrottleSettings effective_throttle(const ThrottleSettings& stage_default,
                                    const ThrottleSettings* route_override) {
  ThrottleSettings settings = stage_default;
  if (route_override) {
    if (route_override->rate_limit) settings.rate_limit = route_override->rate_limit;
    if (route_override->burst_limit) settings.burst_limit = route_override->burst_limit;
  }
  return settings;
}

}  // namespace lambent::services::apigateway
