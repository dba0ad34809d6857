// Load generator for the Lambda Invoke API, run against Lambent or serverless-offline. Each mode
// measures one figure of docs/benchmarks.md. Client threads block on keep-alive HTTP/1.1
// connections with one request in flight each, so every latency includes the client's own
// write and read.
//
//   invoke_bench --function NAME --concurrency 1 --seconds 5      warm latency and throughput
//   invoke_bench --function NAME --cold 30                        cold starts (Lambent only)
//   invoke_bench --prefix P --first 128 --concurrency 16          first invokes of P0..P127
//   invoke_bench --prefix P --burst 64 --rounds 3                 64 calls at once into P0, P1, P2
//   invoke_bench --function NAME --async --concurrency 32         Event invokes (HTTP 202)
//   invoke_bench --get /PATH --concurrency 16 --seconds 5         unsigned GETs of an HTTP route
//   invoke_bench --prefix P --create 128 --zip FILE --runtime python3.12 --handler app.handler
//
// --endpoint defaults to http://127.0.0.1:4566. Credentials come from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY. Without them, requests go unsigned. --json prints one JSON object.
#include "bench_client.h"

#include "lambent/base/crypto.h"

#include <CLI/CLI.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <latch>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

namespace {

using namespace lambent::bench;
namespace http = lambent::http;

struct Options {
  std::string endpoint = "http://127.0.0.1:4566";
  std::string function;
  std::string get_target;
  std::string prefix;
  std::string payload = "{}";
  int concurrency = 1;
  double seconds = 5;
  int cold = 0;
  int first = 0;
  int burst = 0;
  int rounds = 1;
  bool async = false;
  int create = 0;
  std::string zip;
  std::string runtime = "python3.12";
  std::string handler = "app.handler";
  bool json = false;
};

bool succeeded(const HttpResponse& response) {
  return response.result_int() == 200 && response.count("X-Amz-Function-Error") == 0;
}

// Returns the Init Duration in ms from the REPORT line of a base64 log tail, when it has one.
std::optional<double> init_duration_ms(std::string_view log_result_base64) {
  static const std::regex init_re("Init Duration: ([0-9.]+) ms");
  auto log = lambent::base64_decode(log_result_base64).value_or("");
  std::smatch match;
  if (!std::regex_search(log, match, init_re)) return std::nullopt;
  return std::stod(match[1].str());
}

// Runs `count` workers on threads of their own and joins them. A worker that throws counts as
// failed in `errors`, so one broken connection does not end the whole run.
template <typename Worker>
void run_threads(int count, std::atomic<long>& errors, Worker worker) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] {
      try {
        worker(i);
      } catch (const std::exception& e) {
        ++errors;
        std::cerr << "invoke_bench: worker " << i << ": " << e.what() << "\n";
      }
    });
  }
  for (auto& thread : threads) thread.join();
}

struct TimedRun {
  std::vector<double> latencies_us;
  long errors = 0;
  double window_seconds = 0;
};

// Sends the same request on `concurrency` connections for `seconds`, one in flight on each: a
// signed Invoke of --function, or an unsigned GET of --get.
// Each connection first sends one request that is not timed, because it may start an
// environment or the async dispatcher. Then the timed window opens. A response for which
// is_success returns false counts as an error.
template <typename IsSuccess>
TimedRun run_timed(const Options& options, const http::Endpoint& endpoint,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   IsSuccess is_success) {
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(options.concurrency));
  std::latch warmed(options.concurrency + 1);
  Clock::time_point window_start;
  std::thread timer([&] {
    warmed.arrive_and_wait();
    window_start = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
    stop = true;
  });
  run_threads(options.concurrency, errors, [&](int index) {
    bool arrived = false;
    try {
      Connection connection(endpoint);
      auto request = options.get_target.empty()
                         ? signed_request(endpoint, "POST", invocations_target(options.function),
                                          options.payload, headers)
                         : plain_get_request(endpoint, options.get_target);
      if (!is_success(connection.exchange(request))) ++errors;
      arrived = true;
      warmed.arrive_and_wait();
      auto& samples = latencies[static_cast<std::size_t>(index)];
      samples.reserve(200000);
      while (!stop.load(std::memory_order_relaxed)) {
        auto begin = Clock::now();
        auto response = connection.exchange(request);
        samples.push_back(elapsed_us(begin, Clock::now()));
        if (!is_success(response)) ++errors;
      }
    } catch (...) {
      if (!arrived) warmed.count_down();
      throw;
    }
  });
  timer.join();

  TimedRun run;
  run.window_seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
  run.errors = errors.load();
  for (const auto& samples : latencies) {
    run.latencies_us.insert(run.latencies_us.end(), samples.begin(), samples.end());
  }
  return run;
}

int run_warm(const Options& options, const http::Endpoint& endpoint) {
  auto run = run_timed(options, endpoint, {}, succeeded);
  auto& all = run.latencies_us;
  double count = static_cast<double>(all.size());
  double p50 = percentile(all, 50), p90 = percentile(all, 90), p99 = percentile(all, 99);
  double max = percentile(all, 100);
  if (options.json) {
    fmt::print("{}\n", JsonLine()
                           .add("concurrency", options.concurrency)
                           .add("requests", count)
                           .add("throughput_per_s", count / run.window_seconds)
                           .add("p50_us", p50)
                           .add("p90_us", p90)
                           .add("p99_us", p99)
                           .add("max_us", max)
                           .add("errors", static_cast<double>(run.errors))
                           .str());
  } else {
    fmt::print(
        "warm  concurrency={:<3} requests={:<8} throughput={:>9.0f}/s  p50={:>8.1f} us  "
        "p90={:>8.1f} us  p99={:>8.1f} us  max={:>9.1f} us  errors={}\n",
        options.concurrency, count, count / run.window_seconds, p50, p90, p99, max, run.errors);
  }
  return run.errors == 0 ? 0 : 1;
}

void print_cold(const Options& options, const char* label, std::vector<double>& end_to_end_ms,
                std::vector<double>& init_ms, long errors, double rate_per_s) {
  double end_to_end_p50 = percentile(end_to_end_ms, 50);
  double end_to_end_p99 = percentile(end_to_end_ms, 99);
  double init_p50 = percentile(init_ms, 50), init_p99 = percentile(init_ms, 99);
  if (options.json) {
    fmt::print("{}\n", JsonLine()
                           .add("starts", static_cast<double>(end_to_end_ms.size()))
                           .add("end_to_end_p50_ms", end_to_end_p50)
                           .add("end_to_end_p99_ms", end_to_end_p99)
                           .add("init_p50_ms", init_p50)
                           .add("init_p99_ms", init_p99)
                           .add("init_samples", static_cast<double>(init_ms.size()))
                           .add("errors", static_cast<double>(errors))
                           .add("rate_per_s", rate_per_s)
                           .str());
    return;
  }
  fmt::print(
      "{} starts={:<4} end-to-end p50={:>7.2f} ms p99={:>7.2f} ms   init duration "
      "p50={:>7.2f} ms p99={:>7.2f} ms (n={})  {:.0f}/s  errors={}\n",
      label, end_to_end_ms.size(), end_to_end_p50, end_to_end_p99, init_p50, init_p99,
      init_ms.size(), rate_per_s, errors);
}

// Measures cold starts of one function. A configuration update before each invoke retires the
// warm environment, so the invoke that follows starts a new one. Lambent only.
int run_cold(const Options& options, const http::Endpoint& endpoint) {
  http::ClientCredentials credentials{env_or_empty("AWS_ACCESS_KEY_ID"),
                                      env_or_empty("AWS_SECRET_ACCESS_KEY")};
  std::string base = "/2015-03-31/functions/" + http::percent_encode(options.function);
  std::vector<double> end_to_end;
  std::vector<double> init;
  long errors = 0;
  auto started = Clock::now();
  for (int i = 0; i < options.cold; ++i) {
    http::Request update;
    update.method = "PUT";
    update.target = base + "/configuration";
    update.headers.emplace_back("content-type", "application/json");
    update.body = fmt::format(R"({{"Description":"cold start {}"}})", i);
    auto updated = http::send(endpoint, update, credentials);
    if (!updated || updated->status != 200) {
      std::cerr << "invoke_bench: UpdateFunctionConfiguration of " << options.function
                << " failed: " << (updated ? updated->body : updated.error().message) << "\n";
      return 1;
    }
    Connection connection(endpoint);
    auto request = signed_request(endpoint, "POST", invocations_target(options.function),
                                  options.payload, {{"x-amz-log-type", "Tail"}});
    auto begin = Clock::now();
    auto response = connection.exchange(request);
    end_to_end.push_back(elapsed_us(begin, Clock::now()) / 1000);
    if (!succeeded(response)) ++errors;
    if (auto init_ms = init_duration_ms(response["X-Amz-Log-Result"])) init.push_back(*init_ms);
  }
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  print_cold(options, "cold ", end_to_end, init, errors, options.cold / elapsed);
  return errors == 0 ? 0 : 1;
}

// Sends the first invoke of each of the functions PREFIX0..PREFIX{first-1} from `concurrency`
// connections, so each invoke starts a new environment. At concurrency 1 this measures cold
// starts without retiring anything, and above 1 the rate at which new environments start.
int run_first(const Options& options, const http::Endpoint& endpoint) {
  std::atomic<int> next{0};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(options.concurrency));
  std::vector<std::vector<double>> inits(static_cast<std::size_t>(options.concurrency));
  auto started = Clock::now();
  run_threads(options.concurrency, errors, [&](int index) {
    Connection connection(endpoint);
    for (int i = next++; i < options.first; i = next++) {
      auto request =
          signed_request(endpoint, "POST", invocations_target(options.prefix + std::to_string(i)),
                         options.payload, {{"x-amz-log-type", "Tail"}});
      auto begin = Clock::now();
      auto response = connection.exchange(request);
      latencies[static_cast<std::size_t>(index)].push_back(elapsed_us(begin, Clock::now()) / 1000);
      if (!succeeded(response)) ++errors;
      if (auto init_ms = init_duration_ms(response["X-Amz-Log-Result"])) {
        inits[static_cast<std::size_t>(index)].push_back(*init_ms);
      }
    }
  });
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> end_to_end;
  std::vector<double> init;
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    end_to_end.insert(end_to_end.end(), latencies[i].begin(), latencies[i].end());
    init.insert(init.end(), inits[i].begin(), inits[i].end());
  }
  print_cold(options, "first", end_to_end, init, errors.load(),
             static_cast<double>(end_to_end.size()) / elapsed);
  return errors.load() == 0 ? 0 : 1;
}

// Sends bursts of `burst` simultaneous calls, each round into a function never invoked before
// (PREFIX0, PREFIX1, ...), so every round starts from an empty pool. Connections are open and
// requests signed before the burst, so the figures leave out connection setup.
int run_burst(const Options& options, const http::Endpoint& endpoint) {
  std::vector<double> all_ms;
  long succeeded_count = 0;
  long total = 0;
  for (int round = 0; round < options.rounds; ++round) {
    std::string function = options.prefix + std::to_string(round);
    std::latch ready(options.burst);
    std::atomic<long> errors{0};
    std::vector<double> latencies(static_cast<std::size_t>(options.burst), -1);
    run_threads(options.burst, errors, [&](int index) {
      std::optional<Connection> connection;
      std::optional<HttpRequest> request;
      try {
        connection.emplace(endpoint);
        request =
            signed_request(endpoint, "POST", invocations_target(function), options.payload, {});
      } catch (...) {
        ready.count_down();
        throw;
      }
      ready.arrive_and_wait();
      auto begin = Clock::now();
      auto response = connection->exchange(*request);
      latencies[static_cast<std::size_t>(index)] = elapsed_us(begin, Clock::now()) / 1000;
      if (!succeeded(response)) {
        // The first failure of a round is printed, so a failed burst shows its cause.
        if (errors.fetch_add(1) == 0) {
          std::cerr << "invoke_bench: " << function << " answered " << response.result_int() << ": "
                    << response.body().substr(0, 300) << "\n";
        }
      }
    });
    for (double latency : latencies) {
      if (latency >= 0) all_ms.push_back(latency);
    }
    total += options.burst;
    succeeded_count += options.burst - errors.load();
  }
  double p50 = percentile(all_ms, 50), p99 = percentile(all_ms, 99), max = percentile(all_ms, 100);
  if (options.json) {
    fmt::print("{}\n", JsonLine()
                           .add("burst", options.burst)
                           .add("rounds", options.rounds)
                           .add("calls", static_cast<double>(total))
                           .add("succeeded", static_cast<double>(succeeded_count))
                           .add("p50_ms", p50)
                           .add("p99_ms", p99)
                           .add("max_ms", max)
                           .str());
  } else {
    fmt::print(
        "burst size={} rounds={} succeeded={}/{}  p50={:.2f} ms p99={:.2f} ms "
        "max={:.2f} ms\n",
        options.burst, options.rounds, succeeded_count, total, p50, p99, max);
  }
  return succeeded_count == total ? 0 : 1;
}

// Sends asynchronous (Event) invokes for a fixed time. The server returns 202 for each once it
// has stored the event durably.
int run_async(const Options& options, const http::Endpoint& endpoint) {
  auto accepted_by_server = [](const HttpResponse& response) {
    return response.result_int() == 202;
  };
  auto run = run_timed(options, endpoint, {{"x-amz-invocation-type", "Event"}}, accepted_by_server);
  auto& all = run.latencies_us;
  double accepted = static_cast<double>(all.size()) - static_cast<double>(run.errors);
  double p50 = percentile(all, 50), p99 = percentile(all, 99);
  if (options.json) {
    fmt::print("{}\n", JsonLine()
                           .add("concurrency", options.concurrency)
                           .add("accepted", accepted)
                           .add("rate_per_s", accepted / run.window_seconds)
                           .add("p50_us", p50)
                           .add("p99_us", p99)
                           .add("errors", static_cast<double>(run.errors))
                           .str());
  } else {
    fmt::print(
        "async concurrency={:<3} accepted={:<8} rate={:>9.0f}/s  p50={:>8.1f} us  "
        "p99={:>8.1f} us  errors={}\n",
        options.concurrency, accepted, accepted / run.window_seconds, p50, p99, run.errors);
  }
  return run.errors == 0 ? 0 : 1;
}

// Creates PREFIX0..PREFIX{create-1} from one zip with CreateFunction. A function that already
// exists (409) is left as it is.
int run_create(const Options& options, const http::Endpoint& endpoint) {
  std::ifstream file(options.zip, std::ios::binary);
  if (!file) {
    std::cerr << "invoke_bench: cannot read --zip " << options.zip << "\n";
    return 2;
  }
  std::stringstream bytes;
  bytes << file.rdbuf();
  std::string zip_base64 = lambent::base64_encode(bytes.str());
  http::ClientCredentials credentials{env_or_empty("AWS_ACCESS_KEY_ID"),
                                      env_or_empty("AWS_SECRET_ACCESS_KEY")};
  for (int i = 0; i < options.create; ++i) {
    http::Request create;
    create.method = "POST";
    create.target = "/2015-03-31/functions";
    create.headers.emplace_back("content-type", "application/json");
    create.body =
        fmt::format(R"({{"FunctionName":"{}{}","Runtime":"{}","Handler":"{}",)"
                    R"("Role":"arn:aws:iam::000000000000:role/bench","Code":{{"ZipFile":"{}"}}}})",
                    options.prefix, i, options.runtime, options.handler, zip_base64);
    auto response = http::send(endpoint, create, credentials);
    if (!response || (response->status != 201 && response->status != 409)) {
      std::cerr << "invoke_bench: CreateFunction " << options.prefix << i
                << " failed: " << (response ? response->body : response.error().message) << "\n";
      return 1;
    }
  }
  if (options.json) fmt::print("{}\n", JsonLine().add("created", options.create).str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Invoke load generator for the Lambda API"};
  app.add_option("--endpoint", options.endpoint, "Server URL")->capture_default_str();
  app.add_option("--function", options.function, "Function to invoke (warm, cold, async)");
  app.add_option("--get", options.get_target,
                 "Instead of invoking --function, send unsigned GETs of this path and query "
                 "(warm mode), e.g. an HTTP API route; a 200 response counts as success");
  app.add_option("--prefix", options.prefix,
                 "Name prefix of the functions PREFIX0, PREFIX1, ... (first, burst, create)");
  app.add_option("--payload", options.payload, "Event JSON")->capture_default_str();
  app.add_option("--concurrency", options.concurrency, "Connections, one request in flight each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", options.seconds, "Duration of a warm or async run, in seconds")
      ->capture_default_str();
  app.add_option("--cold", options.cold, "Measure this many cold starts of --function");
  app.add_option("--first", options.first, "Invoke PREFIX0..PREFIX{N-1} once each");
  app.add_option("--burst", options.burst, "Send this many calls at once into a new function")
      ->check(CLI::Range(1, 1024));
  app.add_option("--rounds", options.rounds, "Bursts, one function each")->capture_default_str();
  app.add_flag("--async", options.async, "Send Event invokes (InvocationType Event)");
  app.add_option("--create", options.create, "Create PREFIX0..PREFIX{N-1} from --zip");
  app.add_option("--zip", options.zip, "Code package for --create");
  app.add_option("--runtime", options.runtime, "Runtime for --create")->capture_default_str();
  app.add_option("--handler", options.handler, "Handler for --create")->capture_default_str();
  app.add_flag("--json", options.json, "Print the result as one JSON object");
  CLI11_PARSE(app, argc, argv);
  auto endpoint = http::parse_endpoint(options.endpoint);
  if (!endpoint) {
    std::cerr << endpoint.error().message << "\n";
    return 2;
  }
  bool by_prefix = options.first > 0 || options.burst > 0 || options.create > 0;
  bool get_mode = !options.get_target.empty();
  if (get_mode && (by_prefix || options.cold > 0 || options.async)) {
    std::cerr << "invoke_bench: --get works in warm mode only (--concurrency, --seconds)\n";
    return 2;
  }
  if (!get_mode && (by_prefix ? options.prefix.empty() : options.function.empty())) {
    std::cerr << "invoke_bench: " << (by_prefix ? "--prefix" : "--function")
              << " is required for this mode\n";
    return 2;
  }
  try {
    if (options.create > 0) return run_create(options, *endpoint);
    if (options.cold > 0) return run_cold(options, *endpoint);
    if (options.first > 0) return run_first(options, *endpoint);
    if (options.burst > 0) return run_burst(options, *endpoint);
    if (options.async) return run_async(options, *endpoint);
    return run_warm(options, *endpoint);
  } catch (const std::exception& e) {
    std::cerr << "invoke_bench: " << e.what() << "\n";
    return 1;
  }
}
