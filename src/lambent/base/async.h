#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <string>
#include <utility>

// Coroutine plumbing shared by every layer: owned task groups and one-shot events.
// All of it is confined to one executor (the control-plane io_context thread).
namespace lambent {

namespace asio = boost::asio;
template <typename T = void>
using Task = asio::awaitable<T>;

// Owns a set of detached-looking coroutines: each one can be cancelled through stop(), and an
// exception escaping one is logged once with the group and task names, never lost. Not
// thread-safe: spawn and stop on the group's executor.
class TaskGroup {
 public:
  TaskGroup(asio::any_io_executor executor, std::string name);
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void spawn(Task<void> task, std::string task_name);
  // Emits cancellation to every running task; tasks end at their next cancellable wait.
  void stop();
  std::size_t size() const { return tasks_.size(); }
  bool stopped() const { return stopped_; }
  const asio::any_io_executor& executor() const { return executor_; }

 private:
  struct Entry {
    asio::cancellation_signal signal;
  };
  asio::any_io_executor executor_;
  std::string name_;
  // Shared with each task's completion handler: a task's cancellation slot points into its
  // signal, so the signal must outlive the group when the group is destroyed first.
  std::list<std::shared_ptr<Entry>> tasks_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A one-shot or resettable event for coroutines on one executor: wait() suspends until set()
// is called or the deadline passes. Implemented with a steady_timer that set() cancels.
class Event {
 public:
  explicit Event(asio::any_io_executor executor) : timer_(executor) {
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  void set() {
    set_ = true;
    timer_.cancel();
  }
  void reset() {
    set_ = false;
    timer_.expires_at(asio::steady_timer::time_point::max());
  }
  bool is_set() const { return set_; }
  // Returns true when the event is set, false on timeout or cancellation.
  Task<bool> wait(std::chrono::steady_clock::duration timeout);
  Task<bool> wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

// A mutex for coroutines on one executor: lock() suspends until the holder's Guard is
// destroyed. Waiters are served in arrival order. Not thread-safe.
class AsyncMutex {
 public:
  class Guard {
   public:
    explicit Guard(AsyncMutex* mutex) : mutex_(mutex) {}
    Guard(Guard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (mutex_) mutex_->unlock();
    }

   private:
    AsyncMutex* mutex_;
  };

  Task<Guard> lock();

 private:
  void unlock();
  bool locked_ = false;
  std::list<Event*> waiters_;
};

// Runs fn() on `pool` (for blocking work: fork, file extraction) and resumes the awaiting
// coroutine on its own executor with the result. fn must be safe to run on another thread.
// NOTE: the initiation lambdas below are named locals because g++ 12 destroys lambda
// temporaries inside a co_await expression twice.
template <typename Fn>
auto run_blocking(asio::thread_pool& pool, Fn fn) -> Task<decltype(fn())> {
  using R = decltype(fn());
  auto initiation = [&pool, &fn](auto handler) {
    asio::post(pool, [fn = std::move(fn), handler = std::move(handler)]() mutable {
      auto result = fn();
      auto ex = asio::get_associated_executor(handler);
      asio::post(ex, [h = std::move(handler), r = std::move(result)]() mutable {
        std::move(h)(std::move(r));
      });
    });
  };
  R result = co_await asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(
      initiation, asio::use_awaitable);
  co_return result;
}

// Milliseconds since the Unix epoch from the system clock.
std::int64_t epoch_ms();

}  // namespace lambent
