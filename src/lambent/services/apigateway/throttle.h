#pragma once

#include "lambent/services/apigateway/model.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

// Request throttling for API traffic, as API Gateway applies it: a token bucket per
// (API, stage, route) filled at the rate limit up to the burst limit, and one bucket for the
// whole account that every request also takes from. A limit left unset falls back to the
// account's default (10,000 requests per second, burst 5,000). Confined to the control-plane
// executor; the clock is injected so tests can move time.
namespace lambent::services::apigateway {

constexpr double kAccountRateLimit = 10000;
constexpr std::int64_t kAccountBurstLimit = 5000;

class Throttle {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // An empty clock reads std::chrono::steady_clock.
  explicit Throttle(Clock clock = {});

  // Takes one token from the route's bucket and one from the account's. Returns false, taking
  // nothing, when either is empty. `settings` are the route's override or else the stage's
  // default; a bucket whose settings changed starts again full at the new burst limit.
  bool try_acquire(std::string_view api_id, std::string_view stage, std::string_view route_key,
                   const ThrottleSettings& settings);

  // Drops buckets unused for longer than `idle`, so deleted routes do not pile up.
  void prune(std::chrono::steady_clock::duration idle);

  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    double rate = 0;   // tokens per second
    double burst = 0;  // capacity
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  static void refill(Bucket& bucket, std::chrono::steady_clock::time_point now);

  Clock clock_;
  Bucket account_;
  std::map<std::tuple<std::string, std::string, std::string>, Bucket, std::less<>> buckets_;
};

// The settings that apply to one route: its override where the stage has one, else the stage
// default, each limit separately.
ThrottleSettings effective_throttle(const ThrottleSettings& stage_default,
                                    const ThrottleSettings* route_override);

}  // namespace lambent::services::apigateway
