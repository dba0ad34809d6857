#pragma once

#include "lambent/base/result.h"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

// Concurrency accounting as AWS Lambda does it: every running invocation, sync or async, takes a
// slot. A function with reserved concurrency R runs at most R invocations at once, and R = 0
// throttles every invocation. Functions without a reservation share the unreserved pool, which
// is the account limit minus the sum of all reservations. Over a limit, acquire() fails with
// Errc::throttled and Error::type set to AWS's throttle Reason.
//
// Owned by the Invoker; confined to the control-plane executor (no locking).
namespace lambent::invoke {

struct LimiterState;

// AWS's throttle reasons (ThrottleReason in the Lambda API model).
inline constexpr std::string_view kReservedLimitExceeded =
    "ReservedFunctionConcurrentInvocationLimitExceeded";
inline constexpr std::string_view kAccountLimitExceeded = "ConcurrentInvocationLimitExceeded";

// AWS keeps at least 100 executions unreserved. NOTE: for an account limit below 100, the
// minimum here is the whole limit, so nothing can be reserved; AWS's figure there is unconfirmed.
inline constexpr std::int64_t kMinUnreservedConcurrency = 100;

class ConcurrencyLimiter {
 public:
  // One running invocation. Releases its slot when destroyed; move-only.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();

   private:
    friend class ConcurrencyLimiter;
    Slot(std::shared_ptr<LimiterState> state, std::string function_name, bool reserved);
    void release();
    std::shared_ptr<LimiterState> state_;
    std::string function_name_;
    bool reserved_ = false;  // counted against the function's reservation, not the pool
  };

  explicit ConcurrencyLimiter(std::int64_t account_limit);

  // Takes a slot for one invocation of `function_name`, or fails with Errc::throttled.
  Result<Slot> acquire(std::string_view function_name);

  // Reservations. validate_reserved() checks a PutFunctionConcurrency value against the
  // minimum unreserved concurrency, counting the function's current reservation as released.
  Status validate_reserved(std::string_view function_name, std::int64_t reserved) const;
  void set_reserved(std::string function_name, std::int64_t reserved);
  void clear_reserved(std::string_view function_name);
  std::optional<std::int64_t> reserved(std::string_view function_name) const;

  std::int64_t account_limit() const;
  // The account limit minus every reservation: GetAccountSettings' UnreservedConcurrentExecutions.
  std::int64_t unreserved_limit() const;
  std::int64_t min_unreserved() const;
  // Invocations running now: of one function, and in the unreserved pool.
  std::int64_t running(std::string_view function_name) const;
  std::int64_t unreserved_running() const;

 private:
  std::shared_ptr<LimiterState> state_;
};

}  // namespace lambent::invoke
