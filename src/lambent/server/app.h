#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// The composition root of `lambent serve`: builds every layer, runs the control-plane
// io_context on the calling thread until SIGINT or SIGTERM, then stops in reverse order.
namespace lambent::server {

struct Config {
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 4566;
  std::filesystem::path data_dir;
  bool auth = true;
  std::string region = "us-east-1";
  std::string account_id = "000000000000";
  std::chrono::seconds keep_alive{300};
  std::size_t max_environments = 256;
  // Multiplies async retry delays, backoff and maximum event ages; a testing knob.
  double async_retry_scale = 1.0;
  std::chrono::seconds max_lifetime{4 * 3600};
  std::int64_t account_concurrency = 1000;
  std::uint64_t host_memory_mb = 0;  // 0: half of physical memory
  std::size_t max_starting = 0;      // 0: twice the CPUs, at least 4
  double max_start_rate = 100;
  // Metric retention: one-minute points for 15 days, one-second points for 3 hours, as
  // CloudWatch keeps them.
  std::int64_t metrics_retention_days = 15;
  std::int64_t metrics_high_resolution_hours = 3;
  std::filesystem::path python = "/usr/bin/python3";
  std::filesystem::path node = "/usr/bin/node";
  std::filesystem::path runtime_dir;  // empty: next to the executable
  // "zygote": fork Python environments from a pre-started interpreter; "exec": start every
  // environment by exec'ing its interpreter.
  std::string cold_start = "zygote";
  std::string log_level = "info";
  // Prices of `lambent cost` in US dollars; the defaults are AWS's x86 prices.
  double price_per_request = 0.20 / 1'000'000;
  double price_per_gb_second = 0.0000166667;
  // Extra CA certificate files (PEM) trusted by https topic subscriptions, besides the system
  // store.
  std::vector<std::string> sns_https_ca;
  std::string ready_file;  // written with the bound port once listening (tests use it)
};

// Runs the server; returns the process exit code.
int serve(Config config);

// Default data directory: $LAMBENT_DATA_DIR, else $HOME/.lambent.
std::filesystem::path default_data_dir();

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Returns the data directory's access key, creating the directory, database and key on first
// use. Fails with a message on stderr and nullopt-like empty id.
Credentials load_or_create_credentials(const std::filesystem::path& data_dir, std::string& error);

}  // namespace lambent::server
