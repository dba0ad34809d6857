// The `lambent` binary: `serve` runs the platform; the other subcommands are clients of a
// running server.
#include "lambent/cli/commands.h"
#include "lambent/sandbox/spawner.h"
#include "lambent/server/app.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

bool split_listen(const std::string& listen, lambent::server::Config& config) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  config.listen_address = listen.substr(0, colon);
  try {
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) return false;
    config.listen_port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    return false;
  }
  return !config.listen_address.empty();
}

}  // namespace

int main(int argc, char** argv) {
  lambent::sandbox::set_command_line_area(argc, argv);
  CLI::App app{"Lambent: AWS Lambda and its event glue, self-hosted"};
  app.require_subcommand(1);

  lambent::cli::ClientOptions client;
  std::string data_dir;
  auto add_client_options = [&](CLI::App* sub) {
    sub->add_option("--endpoint", client.endpoint,
                    "Server URL (default: $AWS_ENDPOINT_URL, else http://$LAMBENT_LISTEN, else "
                    "http://127.0.0.1:4566)");
    sub->add_option("--data-dir", data_dir,
                    "Data directory whose credentials to use when AWS_ACCESS_KEY_ID is unset "
                    "(default: $LAMBENT_DATA_DIR, else ~/.lambent)");
    sub->add_option("--region", client.region, "Region (default: $AWS_REGION, else us-east-1)");
  };

  // serve
  lambent::server::Config config;
  std::string listen = env_or("LAMBENT_LISTEN", "127.0.0.1:4566");
  int keep_alive = 300;
  int max_lifetime = 4 * 3600;
  auto* serve = app.add_subcommand("serve", "Run the platform");
  serve->add_option("--listen", listen, "Edge address HOST:PORT for every AWS API (default "
                                        "$LAMBENT_LISTEN, else 127.0.0.1:4566)");
  serve->add_option("--data-dir", data_dir,
                    "Data directory (default: $LAMBENT_DATA_DIR, else ~/.lambent)");
  bool no_auth = false;
  serve->add_flag("--no-auth", no_auth, "Accept unsigned requests (throwaway local use only)");
  serve->add_option("--region", config.region, "Region in ARNs and given to functions")
      ->capture_default_str();
  serve->add_option("--account-id", config.account_id, "Account id in ARNs")
      ->capture_default_str();
  serve->add_option("--keep-alive", keep_alive,
                    "Seconds an idle execution environment stays warm before it is stopped")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  serve->add_option("--max-environments", config.max_environments,
                    "Execution environments allowed at once on this host")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  serve->add_option("--async-retry-scale", config.async_retry_scale,
                    "Testing knob: multiplies async retry delays (60 s, 120 s, backoff from 1 s "
                    "to 300 s) and maximum event ages; 1 keeps AWS's timing")
      ->capture_default_str()
      ->check(CLI::Range(0.0001, 1000.0));
  serve->add_option("--account-concurrency", config.account_concurrency,
                    "Concurrent executions allowed across all functions (the account limit)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  serve->add_option("--host-memory-mb", config.host_memory_mb,
                    "Cap in MB on the sum of MemorySize of live environments (default: half of "
                    "physical memory)")
      ->check(CLI::Range(128, 100000000));
  serve->add_option("--max-starting", config.max_starting,
                    "Environments starting at once on this host (default: twice the CPUs, at "
                    "least 4)")
      ->check(CLI::Range(1, 10000));
  serve->add_option("--max-start-rate", config.max_start_rate,
                    "Environment starts per second on this host")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 100000.0));
  serve->add_option("--metrics-retention-days", config.metrics_retention_days,
                    "Days one-minute metric points are kept")
      ->check(CLI::Range(1, 455))
      ->capture_default_str();
  serve->add_option("--metrics-high-resolution-hours", config.metrics_high_resolution_hours,
                    "Hours one-second metric points are kept")
      ->check(CLI::Range(1, 72))
      ->capture_default_str();
  serve->add_option("--max-lifetime", max_lifetime,
                    "Seconds after which an environment is stopped once it is idle")
      ->capture_default_str()
      ->check(CLI::Range(1, 604800));
  serve->add_option("--python", config.python, "Python interpreter for python3.x runtimes")
      ->capture_default_str();
  serve->add_option("--node", config.node, "Node.js interpreter for nodejs runtimes")
      ->capture_default_str();
  serve->add_option("--runtime-dir", config.runtime_dir,
                    "Folder with the runtime bootstraps (default: next to the binary)");
  serve->add_option("--cold-start", config.cold_start,
                    "How Python environments start: zygote (fork a pre-started interpreter; "
                    "exec when it cannot run) or exec")
      ->capture_default_str()
      ->check(CLI::IsMember({"zygote", "exec"}));
  serve->add_option("--log-level", config.log_level, "debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  serve->add_option("--sns-https-ca", config.sns_https_ca,
                    "PEM file of CA certificates that https topic subscriptions trust besides "
                    "the system store (repeatable)")
      ->check(CLI::ExistingFile);
  serve->add_option("--ready-file", config.ready_file,
                    "Write the bound port to this file once listening");
  serve->add_option("--price-per-request", config.price_per_request,
                    "US dollars per request in `lambent cost` (default 0.0000002: AWS's $0.20 "
                    "per million requests)")
      ->check(CLI::Range(0.0, 1000.0));
  serve->add_option("--price-per-gb-second", config.price_per_gb_second,
                    "US dollars per GB-second of billed duration in `lambent cost` (default "
                    "0.0000166667, AWS's x86 price)")
      ->check(CLI::Range(0.0, 1000.0));

  // env
  auto* env = app.add_subcommand("env", "Print shell exports for the AWS CLI and SDKs");
  add_client_options(env);
  std::string env_listen = env_or("LAMBENT_LISTEN", "127.0.0.1:4566");
  env->add_option("--listen", env_listen, "The server's edge address HOST:PORT");

  // deploy
  lambent::cli::DeployOptions deploy;
  auto* deploy_cmd = app.add_subcommand("deploy", "Create or update a function from a folder or zip");
  add_client_options(deploy_cmd);
  deploy_cmd->add_option("name", deploy.name, "Function name")->required();
  deploy_cmd->add_option("source", deploy.source, "Folder or .zip file with the code")
      ->required()
      ->check(CLI::ExistingPath);
  deploy_cmd->add_option("--runtime", deploy.runtime, "Lambda runtime")->capture_default_str();
  deploy_cmd->add_option("--handler", deploy.handler,
                         "Handler (default: app.handler, or index.handler for Node.js)");
  deploy_cmd->add_option("--env", deploy.environment, "Environment variable KEY=VALUE (repeatable)");
  deploy_cmd->add_option("--timeout", deploy.timeout_seconds, "Timeout in seconds (1-900)")
      ->check(CLI::Range(1, 900));
  deploy_cmd->add_option("--memory", deploy.memory_mb, "Memory in MB (128-10240)")
      ->check(CLI::Range(128, 10240));

  // invoke
  std::string invoke_name;
  std::string payload = "{}";
  bool async = false;
  bool show_log = false;
  auto* invoke_cmd = app.add_subcommand("invoke", "Invoke a function and print its result");
  add_client_options(invoke_cmd);
  invoke_cmd->add_option("name", invoke_name, "Function name or ARN")->required();
  invoke_cmd->add_option("--payload,-p", payload, "Event JSON")->capture_default_str();
  invoke_cmd->add_flag("--async", async, "Queue the event (InvocationType Event)");
  invoke_cmd->add_flag("--log", show_log, "Print the invocation's log tail to stderr");

  auto* list_cmd = app.add_subcommand("functions", "List functions");
  add_client_options(list_cmd);

  std::string delete_name;
  auto* delete_cmd = app.add_subcommand("delete", "Delete a function");
  add_client_options(delete_cmd);
  delete_cmd->add_option("name", delete_name, "Function name")->required();

  std::string logs_name;
  lambent::cli::LogsCommandOptions logs_options;
  auto* logs_cmd = app.add_subcommand("logs", "Print a function's logs");
  add_client_options(logs_cmd);
  logs_cmd->add_option("name", logs_name, "Function name")->required();
  logs_cmd->add_flag("--follow,-f", logs_options.follow, "Keep printing new log lines");
  logs_cmd->add_option("--since", logs_options.since,
                       "Only lines from this long ago on: seconds, or a number with a unit s, "
                       "m, h, d or w (10m, 2h)");
  logs_cmd->add_option("--filter", logs_options.filter,
                       "Only lines that match this CloudWatch Logs filter pattern: terms, "
                       "\"quoted phrases\", -term to exclude, ?term for alternatives");
  logs_cmd->add_option("--request-id", logs_options.request_id,
                       "Only the lines of this invocation, from its START line to its REPORT "
                       "line; with --follow, wait until it finishes");

  std::string cost_since = "24h";
  auto* cost_cmd = app.add_subcommand(
      "cost", "Print requests, GB-seconds, CPU-seconds and their cost per function version");
  add_client_options(cost_cmd);
  cost_cmd->add_option("--since", cost_since,
                       "Window to count: a duration such as 90s, 30m, 24h or 7d, or all")
      ->capture_default_str();

  std::string metrics_name;
  std::string metrics_since = "1h";
  int metrics_period = 60;
  auto* metrics_cmd = app.add_subcommand(
      "metrics", "Chart a function's invocations, errors, throttles, duration, concurrency and "
                 "iterator age");
  add_client_options(metrics_cmd);
  metrics_cmd->add_option("name", metrics_name, "Function name")->required();
  metrics_cmd->add_option("--since", metrics_since,
                          "Window to chart: a duration such as 30m, 1h or 7d")
      ->capture_default_str();
  metrics_cmd->add_option("--period", metrics_period,
                          "Seconds per data point: 1, 5, 10, 20, 30 or a multiple of 60")
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  client.data_dir = data_dir;

  if (serve->parsed()) {
    if (!split_listen(listen, config)) {
      std::cerr << "lambent: invalid --listen '" << listen << "': expected HOST:PORT\n";
      return 2;
    }
    // CLI::Range lets NaN through, because every comparison with it is false.
    if (!std::isfinite(config.price_per_request) || !std::isfinite(config.price_per_gb_second)) {
      std::cerr << "lambent: invalid price: --price-per-request and --price-per-gb-second must "
                   "be numbers from 0 to 1000\n";
      return 2;
    }
    config.data_dir = data_dir;
    config.auth = !no_auth;
    config.keep_alive = std::chrono::seconds(keep_alive);
    config.max_lifetime = std::chrono::seconds(max_lifetime);
    return lambent::server::serve(config);
  }
  if (env->parsed()) return lambent::cli::print_env(client, env_listen);
  if (deploy_cmd->parsed()) return lambent::cli::deploy(client, deploy);
  if (invoke_cmd->parsed()) return lambent::cli::invoke(client, invoke_name, payload, async, show_log);
  if (list_cmd->parsed()) return lambent::cli::list_functions(client);
  if (delete_cmd->parsed()) return lambent::cli::delete_function(client, delete_name);
  if (logs_cmd->parsed()) return lambent::cli::logs(client, logs_name, logs_options);
  if (cost_cmd->parsed()) return lambent::cli::cost(client, cost_since);
  if (metrics_cmd->parsed()) {
    return lambent::cli::metrics(client, metrics_name, metrics_since, metrics_period);
  }
  return 2;
}
