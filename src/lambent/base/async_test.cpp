#include "lambent/base/async.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "lambent/base/crypto.h"

namespace lambent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Upper bound for every io_context run in this file, so a broken wake-up fails the test
// instead of hanging it.
constexpr auto kRunLimit = 5s;

// Routes spdlog's default logger into a string for the lifetime of the object.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::int64_t elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---- TaskGroup ----

TEST(TaskGroup, ExceptionIsLoggedNotPropagated) {
  CapturedLog log;
  asio::io_context ctx;
  TaskGroup group(ctx.get_executor(), "workers");
  bool second_ran = false;

  auto failing = []() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    co_await asio::post(executor, asio::use_awaitable);
    throw std::runtime_error("boom");
  };
  auto healthy = [&second_ran]() -> Task<void> {
    second_ran = true;
    co_return;
  };
  group.spawn(failing(), "explode");
  group.spawn(healthy(), "quiet");
  EXPECT_EQ(group.size(), 2u);

  EXPECT_NO_THROW(ctx.run_for(kRunLimit));

  EXPECT_TRUE(second_ran);
  EXPECT_EQ(group.size(), 0u);
  std::string text = log.text();
  EXPECT_NE(text.find("task failed group=workers task=explode error=\"boom\""), std::string::npos)
      << text;
  EXPECT_EQ(text.find("task=quiet"), std::string::npos) << text;
}

TEST(TaskGroup, DestroyedWhileTaskWaits) {
  CapturedLog log;
  asio::io_context ctx;
  std::optional<boost::system::error_code> wait_result;

  auto sleeper = [&wait_result]() -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(30s);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    wait_result = ec;
  };
  {
    TaskGroup group(ctx.get_executor(), "short-lived");
    group.spawn(sleeper(), "sleep");
    ctx.poll();  // the task starts and waits on its timer
  }
  // The task finishes after its group is gone; its cancellation state must still be valid.
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(wait_result.has_value()) << "the timer wait did not finish";
  EXPECT_EQ(*wait_result, asio::error::operation_aborted);
}

TEST(TaskGroup, StopCancelsTimerWait) {
  CapturedLog log;
  asio::io_context ctx;
  TaskGroup group(ctx.get_executor(), "timers");
  std::optional<boost::system::error_code> wait_result;

  auto sleeper = [&wait_result]() -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(30s);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    wait_result = ec;
  };
  group.spawn(sleeper(), "sleep");

  asio::steady_timer stopper(ctx);
  stopper.expires_after(20ms);
  stopper.async_wait([&group](boost::system::error_code) { group.stop(); });

  auto start = Clock::now();
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(wait_result.has_value()) << "the timer wait did not finish";
  EXPECT_EQ(*wait_result, asio::error::operation_aborted);
  EXPECT_LT(elapsed_ms(start), 2000);
  EXPECT_TRUE(group.stopped());
  EXPECT_EQ(group.size(), 0u);
  // Cancellation is the normal way a task ends, so it is not reported as a failure.
  EXPECT_EQ(log.text().find("task failed"), std::string::npos) << log.text();
}

TEST(TaskGroup, StopCancelsThrowingTimerWait) {
  CapturedLog log;
  asio::io_context ctx;
  TaskGroup group(ctx.get_executor(), "timers");
  bool finished_wait = false;

  auto sleeper = [&finished_wait]() -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(30s);
    co_await timer.async_wait(asio::use_awaitable);  // throws operation_aborted on stop()
    finished_wait = true;
  };
  group.spawn(sleeper(), "sleep");
  asio::post(ctx, [&group] { group.stop(); });

  auto start = Clock::now();
  ctx.run_for(kRunLimit);

  EXPECT_FALSE(finished_wait);
  EXPECT_LT(elapsed_ms(start), 2000);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(log.text().find("task failed"), std::string::npos) << log.text();
}

TEST(TaskGroup, SpawnAfterStopIsIgnored) {
  asio::io_context ctx;
  TaskGroup group(ctx.get_executor(), "late");
  group.stop();
  bool ran = false;
  auto task = [&ran]() -> Task<void> {
    ran = true;
    co_return;
  };
  group.spawn(task(), "late-task");
  EXPECT_EQ(group.size(), 0u);
  ctx.run_for(kRunLimit);
  EXPECT_FALSE(ran);
}

// ---- Event ----

TEST(Event, SetBeforeWaitReturnsAtOnce) {
  asio::io_context ctx;
  Event event(ctx.get_executor());
  event.set();
  EXPECT_TRUE(event.is_set());
  std::optional<bool> result;
  std::int64_t waited_ms = -1;

  auto waiter = [&]() -> Task<void> {
    auto start = Clock::now();
    result = co_await event.wait(10s);
    waited_ms = elapsed_ms(start);
  };
  asio::co_spawn(ctx, waiter(), asio::detached);
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_GE(waited_ms, 0);
  EXPECT_LT(waited_ms, 100);
}

TEST(Event, WaitTimesOutWithFalse) {
  asio::io_context ctx;
  Event event(ctx.get_executor());
  std::optional<bool> result;
  std::int64_t waited_ms = -1;

  auto waiter = [&]() -> Task<void> {
    auto start = Clock::now();
    result = co_await event.wait(50ms);
    waited_ms = elapsed_ms(start);
  };
  asio::co_spawn(ctx, waiter(), asio::detached);
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
  EXPECT_FALSE(event.is_set());
  EXPECT_GE(waited_ms, 50);
  EXPECT_LT(waited_ms, 2000);
}

TEST(Event, SetWakesWaiter) {
  asio::io_context ctx;
  Event event(ctx.get_executor());
  std::optional<bool> result;
  std::int64_t waited_ms = -1;

  auto waiter = [&]() -> Task<void> {
    auto start = Clock::now();
    result = co_await event.wait(10s);
    waited_ms = elapsed_ms(start);
  };
  asio::co_spawn(ctx, waiter(), asio::detached);
  asio::steady_timer setter(ctx);
  setter.expires_after(20ms);
  setter.async_wait([&event](boost::system::error_code) { event.set(); });
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(*result);
  EXPECT_GE(waited_ms, 20);
  EXPECT_LT(waited_ms, 2000);
}

TEST(Event, ResetMakesWaitBlockAgain) {
  asio::io_context ctx;
  Event event(ctx.get_executor());
  event.set();
  event.reset();
  EXPECT_FALSE(event.is_set());
  std::optional<bool> result;

  auto waiter = [&]() -> Task<void> { result = co_await event.wait(30ms); };
  asio::co_spawn(ctx, waiter(), asio::detached);
  ctx.run_for(kRunLimit);

  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(*result);
}

// ---- run_blocking ----

TEST(RunBlocking, RunsOnPoolAndResumesOnCaller) {
  asio::io_context ctx;
  asio::thread_pool pool(1);
  const auto io_thread = std::this_thread::get_id();  // ctx.run() below runs on this thread
  std::thread::id fn_thread;
  std::thread::id resumed_thread;
  std::optional<std::string> value;

  auto caller = [&]() -> Task<void> {
    auto fn = [&fn_thread] {
      fn_thread = std::this_thread::get_id();
      return std::string("computed on the pool");
    };
    std::string result = co_await run_blocking(pool, fn);
    resumed_thread = std::this_thread::get_id();
    value = result;
  };
  asio::co_spawn(ctx, caller(), asio::detached);
  ctx.run_for(kRunLimit);
  pool.join();

  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "computed on the pool");
  EXPECT_NE(fn_thread, std::thread::id());
  EXPECT_NE(fn_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
}

TEST(RunBlocking, CallerKeepsRunningOtherWorkMeanwhile) {
  asio::io_context ctx;
  asio::thread_pool pool(1);
  std::atomic<bool> release{false};
  bool ticked_while_blocked = false;
  std::optional<int> value;

  auto caller = [&]() -> Task<void> {
    auto fn = [&release] {
      auto deadline = Clock::now() + 3s;
      while (!release.load() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
      return 7;
    };
    value = co_await run_blocking(pool, fn);
  };
  // This coroutine runs on the io_context while the pool thread is busy, then releases it.
  auto ticker = [&]() -> Task<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(10ms);
    co_await timer.async_wait(asio::use_awaitable);
    ticked_while_blocked = !value.has_value();
    release = true;
  };
  asio::co_spawn(ctx, caller(), asio::detached);
  asio::co_spawn(ctx, ticker(), asio::detached);
  ctx.run_for(kRunLimit);
  pool.join();

  EXPECT_TRUE(ticked_while_blocked);
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, 7);
}

// ---- crypto: base64, hex, SHA-256 ----

struct Rfc4648Vector {
  const char* plain;
  const char* base64;
  const char* base16;
};

// RFC 4648 section 10 test vectors; base16 is lowercase because to_hex emits lowercase.
constexpr Rfc4648Vector kRfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "66"},
    {"fo", "Zm8=", "666f"},
    {"foo", "Zm9v", "666f6f"},
    {"foob", "Zm9vYg==", "666f6f62"},
    {"fooba", "Zm9vYmE=", "666f6f6261"},
    {"foobar", "Zm9vYmFy", "666f6f626172"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(base64_encode(v.plain), v.base64) << "input '" << v.plain << "'";
  }
}

TEST(Base64, DecodesRfc4648Vectors) {
  for (const auto& v : kRfc4648) {
    auto decoded = base64_decode(v.base64);
    ASSERT_TRUE(decoded.has_value()) << "input '" << v.base64 << "'";
    EXPECT_EQ(*decoded, v.plain) << "input '" << v.base64 << "'";
  }
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t length = 0; length <= all.size(); length += 37) {
    std::string input = all.substr(0, length);
    auto decoded = base64_decode(base64_encode(input));
    ASSERT_TRUE(decoded.has_value()) << "length " << length;
    EXPECT_EQ(*decoded, input) << "length " << length;
  }
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\xfd", 3)), "//79");
  EXPECT_EQ(base64_encode(std::string("\xfb\xef", 2)), "++8=");
}

TEST(Base64, RejectsBadLength) {
  for (const char* text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYg="}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << "input '" << text << "'";
  }
}

TEST(Base64, RejectsCharacterOutsideAlphabet) {
  for (const char* text : {"Zm9*", "Zm9v!mFy", "Zm9v\xc3\xa9xx", "Zm.v"}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << "input '" << text << "'";
  }
  EXPECT_FALSE(base64_decode(std::string_view("Zm9v\0\0\0\0", 8)).has_value());
  // URL-safe alphabet characters are not part of standard base64.
  EXPECT_FALSE(base64_decode("-_-_").has_value());
}

TEST(Base64, RejectsWhitespace) {
  for (const char* text : {"Zm9v\n", "Zm9v YmFy", " Zm9", "Zm9\t"}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << "input '" << text << "'";
  }
}

TEST(Base64, RejectsMisplacedPadding) {
  for (const char* text : {"Zg==Zm9v", "Zm8=Zm9v", "=Zm9", "Z=m9", "Zm=v", "Z===", "====",
                           "Zm9vYmFy===="}) {
    EXPECT_FALSE(base64_decode(text).has_value()) << "input '" << text << "'";
  }
}

TEST(Hex, EncodesLowercase) {
  for (const auto& v : kRfc4648) {
    EXPECT_EQ(to_hex(std::string_view(v.plain)), v.base16) << "input '" << v.plain << "'";
  }
  EXPECT_EQ(to_hex(std::string_view("\x00\x0f\xf0\xff", 4)), "000ff0ff");
}

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(to_hex(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalMatchesOneShot) {
  const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 hasher;
  for (std::size_t i = 0; i < text.size(); i += 5) hasher.update(std::string_view(text).substr(i, 5));
  EXPECT_EQ(to_hex(hasher.finish()), to_hex(sha256(text)));
}

TEST(Sha256, Base64OfDigestMatchesKnownValue) {
  // AWS reports CodeSha256 as the base64 of the raw digest.
  EXPECT_EQ(base64_encode(sha256("abc")), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// ---- random ids ----

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(RandomUuid, HasVersion4Format) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string id = random_uuid();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t k = 0; k < id.size(); ++k) {
      if (k == 8 || k == 13 || k == 18 || k == 23) {
        ASSERT_EQ(id[k], '-') << id;
      } else {
        ASSERT_TRUE(is_lower_hex(id[k])) << id << " position " << k;
      }
    }
    EXPECT_EQ(id[14], '4') << id;  // version nibble
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(RandomHex, HasRequestedLength) {
  std::string a = random_hex(16);
  std::string b = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  for (char c : a) EXPECT_TRUE(is_lower_hex(c)) << a;
  EXPECT_NE(a, b);
  EXPECT_EQ(random_hex(0), "");
}

TEST(EpochMs, FollowsSystemClock) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto now = epoch_ms();
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  EXPECT_GE(now, before);
  EXPECT_LE(now, after);
}

}  // namespace
}  // namespace lambent
