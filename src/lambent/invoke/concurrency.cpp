#include "lambent/invoke/concurrency.h"

#include <algorithm>
#include <fmt/format.h>

namespace lambent::invoke {

// Shared with every Slot, so a slot that outlives the limiter (an invocation still unwinding
// at shutdown) releases into live memory.
struct LimiterState {
  std::int64_t account_limit = 0;
  std::int64_t reserved_total = 0;
  std::int64_t unreserved_running = 0;
  std::map<std::string, std::int64_t, std::less<>> reserved;
  std::map<std::string, std::int64_t, std::less<>> running;
};

ConcurrencyLimiter::Slot::Slot(std::shared_ptr<LimiterState> state, std::string function_name,
                               bool reserved)
    : state_(std::move(state)), function_name_(std::move(function_name)), reserved_(reserved) {}

ConcurrencyLimiter::Slot::Slot(Slot&& other) noexcept
    : state_(std::move(other.state_)),
      function_name_(std::move(other.function_name_)),
      reserved_(other.reserved_) {}

ConcurrencyLimiter::Slot& ConcurrencyLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
    function_name_ = std::move(other.function_name_);
    reserved_ = other.reserved_;
  }
  return *this;
}

ConcurrencyLimiter::Slot::~Slot() { release(); }

void ConcurrencyLimiter::Slot::release() {
  if (!state_) return;
  auto it = state_->running.find(function_name_);
  if (it != state_->running.end() && --it->second == 0) state_->running.erase(it);
  if (!reserved_) --state_->unreserved_running;
  state_.reset();
}

ConcurrencyLimiter::ConcurrencyLimiter(std::int64_t account_limit)
    : state_(std::make_shared<LimiterState>()) {
  state_->account_limit = account_limit;
}

Result<ConcurrencyLimiter::Slot> ConcurrencyLimiter::acquire(std::string_view function_name) {
  auto& state = *state_;
  auto running = state.running.find(function_name);
  std::int64_t function_running = running == state.running.end() ? 0 : running->second;

  auto reservation = state.reserved.find(function_name);
  bool reserved = reservation != state.reserved.end();
  if (reserved && function_running >= reservation->second) {
    return Error{Errc::throttled, "Rate Exceeded.", std::string(kReservedLimitExceeded)};
  }
  if (!reserved && state.unreserved_running >= unreserved_limit()) {
    return Error{Errc::throttled, "Rate Exceeded.", std::string(kAccountLimitExceeded)};
  }

  if (running == state.running.end()) {
    state.running.emplace(std::string(function_name), 1);
  } else {
    ++running->second;
  }
  if (!reserved) ++state.unreserved_running;
  return Slot(state_, std::string(function_name), reserved);
}

Status ConcurrencyLimiter::validate_reserved(std::string_view function_name,
                                             std::int64_t reserved) const {
  std::int64_t others = state_->reserved_total - this->reserved(function_name).value_or(0);
  if (state_->account_limit - others - reserved < min_unreserved()) {
    return make_error(Errc::invalid_parameter,
                      fmt::format("Specified ReservedConcurrentExecutions for function decreases "
                                  "account's UnreservedConcurrentExecution below its minimum "
                                  "value of [{}].",
                                  min_unreserved()));
  }
  return ok_status();
}

void ConcurrencyLimiter::set_reserved(std::string function_name, std::int64_t reserved) {
  clear_reserved(function_name);
  state_->reserved_total += reserved;
  state_->reserved[std::move(function_name)] = reserved;
}

void ConcurrencyLimiter::clear_reserved(std::string_view function_name) {
  auto it = state_->reserved.find(function_name);
  if (it == state_->reserved.end()) return;
  state_->reserved_total -= it->second;
  state_->reserved.erase(it);
}

std::optional<std::int64_t> ConcurrencyLimiter::reserved(std::string_view function_name) const {
  auto it = state_->reserved.find(function_name);
  if (it == state_->reserved.end()) return std::nullopt;
  return it->second;
}

std::int64_t ConcurrencyLimiter::account_limit() const { return state_->account_limit; }

std::int64_t ConcurrencyLimiter::unreserved_limit() const {
  return std::max<std::int64_t>(0, state_->account_limit - state_->reserved_total);
}

std::int64_t ConcurrencyLimiter::min_unreserved() const {
  return std::min(kMinUnreservedConcurrency, state_->account_limit);
}

std::int64_t ConcurrencyLimiter::running(std::string_view function_name) const {
  auto it = state_->running.find(function_name);
  return it == state_->running.end() ? 0 : it->second;
}

std::int64_t ConcurrencyLimiter::unreserved_running() const {
  return state_->unreserved_running;
}

}  // namespace lambent::invoke
