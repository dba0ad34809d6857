#pragma once

#include "lambent/base/async.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>

// A helper shared by the store layer's tests: a runner that drives one coroutine to completion
// on an io_context of its own.
namespace lambent::store::testing {

// Runs `task` to completion and returns its result. Throws when it does not finish within 20 s,
// so a lost completion fails the test instead of hanging it.
template <typename T>
T run_task(Task<T> task) {
  asio::io_context ctx;
  std::optional<T> out;
  // Result<T> has no default constructor, which co_spawn needs for a Task<T> completion, so
  // the result travels through `out` and the spawned coroutine returns void.
  auto wrapper = [](Task<T> inner, std::optional<T>& slot) -> Task<void> {
    slot.emplace(co_await std::move(inner));
  };
  asio::co_spawn(ctx, wrapper(std::move(task), out), [](std::exception_ptr error) {
    if (error) std::rethrow_exception(error);
  });
  ctx.run_for(std::chrono::seconds(20));
  if (!out) throw std::runtime_error("coroutine did not finish within the run limit");
  return std::move(*out);
}

}  // namespace lambent::store::testing
