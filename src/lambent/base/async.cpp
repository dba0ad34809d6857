#include "lambent/base/async.h"

#include "lambent/base/log.h"

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace lambent {

TaskGroup::TaskGroup(asio::any_io_executor executor, std::string name)
    : executor_(std::move(executor)), name_(std::move(name)) {}

TaskGroup::~TaskGroup() {
  *alive_ = false;
  stop();
}

void TaskGroup::spawn(Task<void> task, std::string task_name) {
  if (stopped_) return;
  auto entry = std::make_shared<Entry>();
  auto it = tasks_.insert(tasks_.end(), entry);
  asio::co_spawn(
      executor_, std::move(task),
      asio::bind_cancellation_slot(
          entry->signal.slot(),
          [this, it, entry, alive = alive_, group = name_, task_name = std::move(task_name)](
              std::exception_ptr error) {
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const boost::system::system_error& e) {
                if (e.code() != asio::error::operation_aborted) {
                  LOG_ERROR("task", "failed", "group={} task={} error=\"{}\"", group, task_name,
                            e.what());
                }
              } catch (const std::exception& e) {
                LOG_ERROR("task", "failed", "group={} task={} error=\"{}\"", group, task_name,
                          e.what());
              }
            }
            if (*alive) tasks_.erase(it);
          }));
}

void TaskGroup::stop() {
  stopped_ = true;
  for (auto& entry : tasks_) entry->signal.emit(asio::cancellation_type::all);
}

Task<bool> Event::wait(std::chrono::steady_clock::duration timeout) {
  co_return co_await wait_until(std::chrono::steady_clock::now() + timeout);
}

Task<bool> Event::wait_until(std::chrono::steady_clock::time_point deadline) {
  if (set_) co_return true;
  asio::steady_timer deadline_timer(co_await asio::this_coro::executor);
  deadline_timer.expires_at(deadline);
  using namespace asio::experimental::awaitable_operators;
  boost::system::error_code ec1, ec2;
  co_await (timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec1)) ||
            deadline_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec2)));
  co_return set_;
}

Task<AsyncMutex::Guard> AsyncMutex::lock() {
  if (!locked_) {
    locked_ = true;
    co_return Guard(this);
  }
  Event turn(co_await asio::this_coro::executor);
  auto position = waiters_.insert(waiters_.end(), &turn);
  // unlock() hands the mutex over by setting `turn`; the wait ends only then (or on
  // cancellation, when the waiter leaves the queue).
  while (!turn.is_set()) {
    if (!co_await turn.wait(std::chrono::hours(24)) && !turn.is_set()) {
      auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        waiters_.erase(position);
        throw boost::system::system_error(asio::error::operation_aborted);
      }
    }
  }
  co_return Guard(this);
}

void AsyncMutex::unlock() {
  if (waiters_.empty()) {
    locked_ = false;
    return;
  }
  Event* next = waiters_.front();
  waiters_.pop_front();
  next->set();  // ownership passes to the waiter; locked_ stays true
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace lambent
