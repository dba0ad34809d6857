// Load generator for Lambent's Invoke API: warm latency at a given concurrency, throughput,
// and cold starts. Talks HTTP/1.1 with keep-alive to a running server and signs with SigV4.
//
//   invoke_bench --endpoint http://127.0.0.1:4566 --function NAME --concurrency 1 --seconds 5
//   invoke_bench --endpoint ... --function NAME --cold 50
//
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. A request is signed once per
// connection and replayed: the body never changes, and SigV4 signatures stay valid for 15 min.
#include "lambent/base/crypto.h"
#include "lambent/http/client.h"
#include "lambent/http/sigv4.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <regex>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string endpoint = "http://127.0.0.1:4566";
  std::string function;
  std::string payload = "{}";
  int concurrency = 1;
  double seconds = 5;
  int cold = 0;
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

bhttp::request<bhttp::string_body> signed_request(const lambent::http::Endpoint& endpoint,
                                                  const std::string& method,
                                                  const std::string& target,
                                                  const std::string& body,
                                                  const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string host = endpoint.host + ":" + endpoint.port;
  bhttp::request<bhttp::string_body> request{bhttp::string_to_verb(method), target, 11};
  request.set(bhttp::field::host, host);
  std::vector<lambent::http::Header> headers{{"host", host}};
  for (const auto& [k, v] : extra) {
    request.set(k, v);
    headers.push_back({k, v});
  }
  std::string key = env("AWS_ACCESS_KEY_ID");
  std::string secret = env("AWS_SECRET_ACCESS_KEY");
  if (!key.empty()) {
    lambent::http::SigningInput input{method, target, headers, body, key, secret,
                                      "us-east-1", "lambda", std::chrono::system_clock::now()};
    for (const auto& [k, v] : lambent::http::sign_sigv4(input)) request.set(k, v);
  }
  request.body() = body;
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
  return values[index];
}

int run_warm(const Options& options, const lambent::http::Endpoint& endpoint) {
  std::string target =
      "/2015-03-31/functions/" + lambent::http::percent_encode(options.function) + "/invocations";
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(options.concurrency));
  std::vector<std::thread> threads;
  auto worker = [&](int index) {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(endpoint.host, endpoint.port));
    stream.socket().set_option(asio::ip::tcp::no_delay(true));
    auto request = signed_request(endpoint, "POST", target, options.payload, {});
    beast::flat_buffer buffer;
    auto& samples = latencies[static_cast<std::size_t>(index)];
    samples.reserve(200000);
    while (!stop.load(std::memory_order_relaxed)) {
      auto begin = Clock::now();
      bhttp::write(stream, request);
      bhttp::response<bhttp::string_body> response;
      bhttp::read(stream, buffer, response);
      auto end = Clock::now();
      if (response.result_int() != 200 || response.count("X-Amz-Function-Error")) {
        ++errors;
      }
      samples.push_back(std::chrono::duration<double, std::micro>(end - begin).count());
    }
  };
  // One request per connection before timing, so every worker starts on a warm environment.
  auto started = Clock::now();
  for (int i = 0; i < options.concurrency; ++i) threads.emplace_back(worker, i);
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();

  std::vector<double> all;
  for (auto& l : latencies) {
    // Drop each connection's first request: it may have started an environment.
    if (!l.empty()) l.erase(l.begin());
    all.insert(all.end(), l.begin(), l.end());
  }
  std::size_t count = all.size();
  fmt::print("warm  concurrency={:<3} requests={:<8} throughput={:>9.0f}/s  p50={:>8.1f} us  "
             "p90={:>8.1f} us  p99={:>8.1f} us  max={:>9.1f} us  errors={}\n",
             options.concurrency, count, static_cast<double>(count) / elapsed,
             percentile(all, 50), percentile(all, 90), percentile(all, 99),
             percentile(all, 100), errors.load());
  return errors.load() == 0 ? 0 : 1;
}

int run_cold(const Options& options, const lambent::http::Endpoint& endpoint) {
  lambent::http::ClientCredentials credentials{env("AWS_ACCESS_KEY_ID"),
                                               env("AWS_SECRET_ACCESS_KEY")};
  std::string base = "/2015-03-31/functions/" + lambent::http::percent_encode(options.function);
  std::vector<double> end_to_end;
  std::vector<double> init;
  std::regex init_re("Init Duration: ([0-9.]+) ms");
  for (int i = 0; i < options.cold; ++i) {
    // A configuration change retires the warm environment, so the next invoke is a cold start.
    lambent::http::Request update;
    update.method = "PUT";
    update.target = base + "/configuration";
    update.headers.emplace_back("content-type", "application/json");
    update.body = fmt::format(R"({{"Description":"cold start {}"}})", i);
    auto updated = lambent::http::send(endpoint, update, credentials);
    if (!updated || updated->status != 200) {
      std::cerr << "update failed\n";
      return 1;
    }
    lambent::http::Request invoke;
    invoke.method = "POST";
    invoke.target = base + "/invocations";
    invoke.headers.emplace_back("x-amz-log-type", "Tail");
    invoke.body = options.payload;
    auto begin = Clock::now();
    auto response = lambent::http::send(endpoint, invoke, credentials);
    auto end = Clock::now();
    if (!response || response->status != 200) {
      std::cerr << "invoke failed\n";
      return 1;
    }
    end_to_end.push_back(std::chrono::duration<double, std::milli>(end - begin).count());
    for (const auto& [k, v] : response->headers) {
      if (k != "x-amz-log-result") continue;
      auto log = lambent::base64_decode(v).value_or("");
      std::smatch match;
      if (std::regex_search(log, match, init_re)) init.push_back(std::stod(match[1].str()));
    }
  }
  fmt::print("cold  starts={:<4} end-to-end p50={:>7.2f} ms p99={:>7.2f} ms   init duration "
             "p50={:>7.2f} ms p99={:>7.2f} ms (n={})\n",
             options.cold, percentile(end_to_end, 50), percentile(end_to_end, 99),
             percentile(init, 50), percentile(init, 99), init.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Invoke load generator for Lambent"};
  app.add_option("--endpoint", options.endpoint, "Server URL")->capture_default_str();
  app.add_option("--function", options.function, "Function to invoke")->required();
  app.add_option("--payload", options.payload, "Event JSON")->capture_default_str();
  app.add_option("--concurrency", options.concurrency, "Connections, one request in flight each")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", options.seconds, "Duration of the warm run")->capture_default_str();
  app.add_option("--cold", options.cold, "Measure this many cold starts instead");
  CLI11_PARSE(app, argc, argv);
  auto endpoint = lambent::http::parse_endpoint(options.endpoint);
  if (!endpoint) {
    std::cerr << endpoint.error().message << "\n";
    return 2;
  }
  try {
    return options.cold > 0 ? run_cold(options, *endpoint) : run_warm(options, *endpoint);
  } catch (const std::exception& e) {
    std::cerr << "invoke_bench: " << e.what() << "\n";
    return 1;
  }
}
