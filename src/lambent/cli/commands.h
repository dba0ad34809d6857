#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Client commands of the `lambent` binary. Each talks to a running server over its HTTP API,
// signs with the credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or
// of the local data directory, prints its result, and returns a process exit code.
namespace lambent::cli {

struct ClientOptions {
  std::string endpoint;  // empty: $AWS_ENDPOINT_URL, else http://127.0.0.1:4566
  std::filesystem::path data_dir;
  std::string region;    // empty: $AWS_REGION / $AWS_DEFAULT_REGION, else us-east-1
};

struct DeployOptions {
  std::string name;
  std::filesystem::path source;  // a folder or a .zip file
  std::string runtime = "python3.12";
  std::string handler;           // empty: app.handler for Python, index.handler for Node.js
  std::vector<std::string> environment;  // KEY=VALUE
  int timeout_seconds = 0;       // 0: leave unchanged (3 on create)
  int memory_mb = 0;             // 0: leave unchanged (128 on create)
};

int deploy(const ClientOptions& client, const DeployOptions& options);
int invoke(const ClientOptions& client, const std::string& name, const std::string& payload,
           bool async, bool show_log);
int list_functions(const ClientOptions& client);
int delete_function(const ClientOptions& client, const std::string& name);
struct LogsCommandOptions {
  bool follow = false;     // keep polling and print new lines as they arrive
  std::string since;       // "90", "90s", "10m", "2h", "1d", "1w"; empty: every line kept
  std::string filter;      // a CloudWatch Logs filter pattern
  std::string request_id;  // print only this invocation's lines, START through REPORT
};

// Prints a function's log lines through the CloudWatch Logs API (FilterLogEvents; with a
// request id also GetLogEvents).
int logs(const ClientOptions& client, const std::string& name, const LogsCommandOptions& options);

int print_env(const ClientOptions& client, const std::string& listen);
// Prints requests, GB-seconds, CPU-seconds and costs per function version since `since` ago
// (a duration such as "24h", or "all"), with totals.
int cost(const ClientOptions& client, const std::string& since);
// Charts the function's Lambda metrics over the last `since` (a duration such as "1h") in
// periods of `period_s` seconds, one sparkline per metric.
int metrics(const ClientOptions& client, const std::string& name, const std::string& since,
            int period_s);

// Builds a zip archive of a folder in memory (file modes kept). Throws std::runtime_error.
std::string zip_folder(const std::filesystem::path& folder);

}  // namespace lambent::cli
