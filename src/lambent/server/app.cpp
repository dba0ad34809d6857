#include "lambent/server/app.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/async_client.h"
#include "lambent/http/server.h"
#include "lambent/invoke/invoker.h"
#include "lambent/invoke/async_policy.h"
#include "lambent/metrics/alarms.h"
#include "lambent/metrics/cost.h"
#include "lambent/metrics/lambda_metrics.h"
#include "lambent/metrics/metric_store.h"
#include "lambent/metrics/prometheus.h"
#include "lambent/runtime/manager.h"
#include "lambent/sandbox/spawner.h"
#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/function_url.h"
#include "lambent/services/apigateway/gateway.h"
#include "lambent/services/apigateway/registry.h"
#include "lambent/services/cloudwatch/cloudwatch_service.h"
#include "lambent/services/edge/edge.h"
#include "lambent/services/sns/sns_service.h"
#include "lambent/store/topic_store.h"
#include "lambent/services/lambda/lambda_service.h"
#include "lambent/services/lambda/function_urls.h"
#include "lambent/server/message_router.h"
#include "lambent/sources/mapping.h"
#include "lambent/sources/queue_poller.h"
#include "lambent/services/cloudwatch/cloudwatch_service.h"
#include "lambent/services/logs/logs_service.h"
#include "lambent/services/s3/s3_service.h"
#include "lambent/services/sqs/event_source_queues.h"
#include "lambent/services/sqs/sqs_service.h"
#include "lambent/store/object_store.h"
#include "lambent/store/code_store.h"
#include "lambent/store/document_store.h"
#include "lambent/store/log_store.h"
#include "lambent/store/repository.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>

namespace lambent::server {

namespace fs = std::filesystem;

std::filesystem::path default_data_dir() {
  if (const char* dir = std::getenv("LAMBENT_DATA_DIR"); dir && *dir) return dir;
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".lambent";
  return ".lambent";
}

namespace {

// Access key ids look like AWS's ("LKIA" + 16 upper-case letters and digits) and secrets are
// 40 characters, so tools that check their shape accept them.
std::string random_key_id() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string hex = random_hex(16);
  std::string id = "LKIA";
  for (int i = 0; i < 16; ++i) {
    id.push_back(kAlphabet[std::stoi(hex.substr(static_cast<std::size_t>(2 * i), 2), nullptr, 16) % 32]);
  }
  return id;
}

std::string random_secret() {
  std::string hex = random_hex(30);
  std::string raw;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  std::string secret = base64_encode(raw);
  return secret.substr(0, 40);
}

Status prepare_data_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "cannot create data directory " + dir.string() + ": " + ec.message());
  // Function code trees are readable by functions through their bind mount; everything else in
  // the data directory stays private to the server's user.
  ::chmod(dir.c_str(), 0700);
  return ok_status();
}

fs::path default_runtime_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path candidate : {exe.parent_path() / "runtimes", exe.parent_path() / "../runtimes",
                               exe.parent_path() / "../../runtimes",
                               exe.parent_path() / "../share/lambent/runtimes"}) {
      if (fs::exists(candidate / "python" / "bootstrap.py")) return fs::canonical(candidate);
    }
  }
  return "runtimes";
}

}  // namespace

Credentials load_or_create_credentials(const fs::path& data_dir, std::string& error) {
  if (auto prepared = prepare_data_dir(data_dir); !prepared) {
    error = prepared.error().message;
    return {};
  }
  auto repository = store::Repository::open(data_dir);
  if (!repository) {
    error = repository.error().message;
    return {};
  }
  auto keys = (*repository)->load_keys();
  if (!keys) {
    error = keys.error().message;
    return {};
  }
  if (!keys->empty()) return {keys->front().id, keys->front().secret};
  store::AccessKey key{random_key_id(), random_secret()};
  if (auto added = (*repository)->add_key(key); !added) {
    error = added.error().message;
    return {};
  }
  return {key.id, key.secret};
}

namespace {

// How long a stopping server waits for requests in progress.
constexpr std::chrono::seconds kDrainTimeout{10};

Task<void> drain_then(http::Server& server, std::function<void()> finish) {
  co_await server.drain(kDrainTimeout);
  finish();
}

}  // namespace

int serve(Config config) {
  log::init(log::parse_level(config.log_level, log::Level::info));
  if (config.data_dir.empty()) config.data_dir = default_data_dir();
  if (config.runtime_dir.empty()) config.runtime_dir = default_runtime_dir();
  ::signal(SIGPIPE, SIG_IGN);

  std::string error;
  Credentials credentials = load_or_create_credentials(config.data_dir, error);
  if (credentials.access_key_id.empty()) {
    LOG_ERROR("server", "start_failed", "data_dir={} error=\"{}\"", config.data_dir.string(), error);
    return 1;
  }
  auto repository = store::Repository::open(config.data_dir);
  if (!repository) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", repository.error().message);
    return 1;
  }
  auto keys = (*repository)->load_keys();
  if (!keys) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", keys.error().message);
    return 1;
  }

  store::DocumentStore documents((*repository)->db());
  services::apigateway::Registry apis(documents);
  if (auto loaded = apis.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"API Gateway APIs cannot be loaded: {}\"",
              loaded.error().message);
    return 1;
  }

  store::CodeStore code(config.data_dir / "code");
  if (auto cleaned = code.remove_temp_files(); !cleaned) {
    LOG_WARN("server", "code_cleanup_failed", "error=\"{}\"", cleaned.error().message);
  }
  store::LogStore logs(config.data_dir / "logs");

  asio::io_context io(1);
  asio::thread_pool blocking(2);

  metrics::CostLedger cost(
      (*repository)->db(), io.get_executor(),
      metrics::CostOptions{.prices = {.per_request = config.price_per_request,
                                      .per_gb_second = config.price_per_gb_second},
                           .retention_ms = config.metrics_retention_days * 86400 * 1000});
  if (auto opened = cost.open(); !opened) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", opened.error().message);
    return 1;
  }

  sandbox::SpawnerOptions spawner_options;
  spawner_options.state_dir = config.data_dir / "sandbox";
  sandbox::Spawner spawner(spawner_options);
  std::string isolation = spawner.probe();
  if (spawner.isolation() != sandbox::Isolation::full || !spawner.memory_limits()) {
    LOG_WARN("server", "isolation_reduced", "{}", isolation);
  } else {
    LOG_INFO("server", "isolation", "{}", isolation);
  }

  std::string connect_host = config.listen_address == "0.0.0.0" || config.listen_address == "::"
                                 ? "127.0.0.1"
                                 : config.listen_address;
  runtime::EnvironmentContext context;
  context.executor = io.get_executor();
  context.blocking = &blocking;
  context.spawner = &spawner;
  context.logs = &logs;
  context.paths.python = config.python;
  context.paths.node = config.node;
  context.paths.bootstraps = config.runtime_dir;
  context.region = config.region;
  context.access_key_id = credentials.access_key_id;
  context.secret_access_key = credentials.secret_access_key;
  context.cold_start =
      config.cold_start == "exec" ? runtime::ColdStart::exec : runtime::ColdStart::zygote;
  context.report_cpu = [&cost](const runtime::FunctionSpec& spec, std::int64_t cpu_us) {
    cost.record_cpu(spec.config.name, spec.version, cpu_us, epoch_ms());
  };
  if (context.cold_start == runtime::ColdStart::zygote) {
    // Started now, so the first cold start does not wait for the interpreter. When it cannot
    // start, each spawn tries again and falls back to exec.
    auto zygote = runtime::zygote_command(runtime::RuntimeFamily::python, context.paths);
    if (auto started = spawner.start_zygote(zygote); !started) {
      LOG_WARN("server", "zygote_start_failed", "runtime=python error=\"{}\" effect=\"Python "
               "environments start by exec\"", started.error().message);
    }
  }

  runtime::Manager manager(context,
                           runtime::ManagerOptions{.keep_alive = config.keep_alive,
                                                   .max_lifetime = config.max_lifetime,
                                                   .max_environments = config.max_environments,
                                                   .host_memory_mb = config.host_memory_mb,
                                                   .max_starting = config.max_starting,
                                                   .max_start_rate = config.max_start_rate});
  invoke::Invoker invoker(manager, **repository, code,
                          invoke::InvokerOptions{.region = config.region,
                                                 .account_id = config.account_id,
                                                 .account_concurrency = config.account_concurrency,
                                                 .async_retry_scale = config.async_retry_scale});
  invoker.set_cost_ledger(&cost);

  metrics::MetricStore metric_store(
      (*repository)->db(), io.get_executor(),
      metrics::MetricStoreOptions{
          .high_resolution_retention_s = config.metrics_high_resolution_hours * 3600,
          .retention_s = config.metrics_retention_days * 86400});
  if (auto opened = metric_store.open(); !opened) {
    LOG_ERROR("server", "start_failed", "error=\"metric store: {}\"", opened.error().message);
    return 1;
  }
  metrics::LambdaMetrics lambda_metrics(metric_store);
  invoker.set_metrics(&lambda_metrics);
  metrics::AlarmEngine alarm_engine(
      metric_store, documents, io.get_executor(),
      metrics::AlarmOptions{.region = config.region, .account_id = config.account_id});
  if (auto loaded = alarm_engine.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"alarms: {}\"", loaded.error().message);
    return 1;
  }
  // An alarm action naming a Lambda function queues an asynchronous invocation with the
  // alarm event. A function or qualifier that does not exist fails the action.
  auto run_alarm_action = [&invoker](std::string arn, std::string event) -> Task<Status> {
    auto target = invoke::parse_lambda_arn(arn);
    if (!target) {
      co_return make_error(Errc::invalid_parameter, "not a Lambda function ARN: " + arn);
    }
    auto resolved = invoker.resolve(target->name, std::string_view(target->qualifier));
    if (!resolved) co_return resolved.error();
    co_return co_await invoker.enqueue(target->name, target->qualifier, random_uuid(),
                                       std::move(event));
  };
  alarm_engine.set_action_sink(std::move(run_alarm_action));
  // Queues and topics are reached by ARN through the router: async destinations, dead-letter
  // targets, alarm actions, bucket notifications and topic subscriptions all send through it.
  MessageRouter message_router;
  invoker.set_message_targets(&message_router);
  // SQS queues: the target of sends to arn:aws:sqs:... ARNs, the source of event source
  // mappings, and (below) the SQS API on the edge port.
  auto queue_store = store::QueueStore::open((*repository)->db());
  if (!queue_store) {
    LOG_ERROR("server", "start_failed", "error=\"queue store: {}\"", queue_store.error().message);
    return 1;
  }
  services::sqs::Queues queues(**queue_store, io.get_executor(),
                               services::sqs::QueuesOptions{.region = config.region,
                                                            .account_id = config.account_id});
  if (auto loaded = queues.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"queues: {}\"", loaded.error().message);
    return 1;
  }
  message_router.set_queues(&queues);
  services::sqs::EventSourceQueues event_source_queues(queues);
  auto publish_alarm = [&message_router](std::string arn, std::string subject,
                                         std::string message) -> Task<Status> {
    store::OutboundMessage outbound;
    outbound.subject = std::move(subject);
    outbound.body = std::move(message);
    auto sent = co_await message_router.send(arn, std::move(outbound));
    if (!sent) co_return sent.error();
    co_return ok_status();
  };
  alarm_engine.set_topic_sink(std::move(publish_alarm));

  services::EdgeOptions edge_options;
  edge_options.auth = config.auth;
  for (const auto& key : *keys) edge_options.keys[key.id] = key.secret;

  services::lambda::LambdaServiceOptions lambda_options;
  lambda_options.code_url_key = credentials.secret_access_key;
  auto lambda_service = std::make_unique<services::lambda::LambdaService>(
      invoker, code, logs, blocking, lambda_options);
  services::lambda::FunctionUrlCatalog function_urls(documents);
  if (auto loaded = function_urls.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", loaded.error().message);
    return 1;
  }
  lambda_service->set_function_urls(&function_urls);
  services::lambda::PolicyCatalog policies(documents);
  if (auto loaded = policies.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", loaded.error().message);
    return 1;
  }
  lambda_service->set_policies(&policies);
  sources::MappingCatalog event_source_mappings(documents);
  if (auto loaded = event_source_mappings.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", loaded.error().message);
    return 1;
  }
  lambda_service->set_event_source_mappings(&event_source_mappings, &event_source_queues);
  sources::QueuePoller queue_poller(io.get_executor(), event_source_mappings, event_source_queues,
                                    invoker);
  auto edge = std::make_shared<services::Edge>(*lambda_service, logs, blocking, edge_options);
  auto check_signature = [edge = edge.get()](const http::Request& request) {
    return edge->verify_signature(request);
  };
  services::apigateway::FunctionUrlGateway function_url_gateway(
      function_urls, invoker, std::move(check_signature),
      services::apigateway::FunctionUrlOptions{
          .region = config.region, .account_id = config.account_id, .auth = config.auth});
  edge->set_function_urls(&function_url_gateway);
  services::apigateway::ControlService apigateway_control(
      apis, services::apigateway::ControlOptions{.region = config.region,
                                                 .account_id = config.account_id});
  edge->set_apigateway_control(apigateway_control);
  services::apigateway::Gateway api_gateway(
      apis, invoker, io.get_executor(),
      services::apigateway::GatewayOptions{.account_id = config.account_id,
                                           .region = config.region});
  edge->set_api_gateway(&api_gateway);
  services::logs::LogsService logs_service(
      logs, documents, blocking, io.get_executor(),
      services::logs::LogsOptions{.region = config.region, .account_id = config.account_id});
  if (auto loaded = logs_service.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"log groups cannot be loaded: {}\"",
              loaded.error().message);
    return 1;
  }
  edge->set_logs(&logs_service);
  services::cloudwatch::CloudWatchService cloudwatch(
      metric_store, &alarm_engine,
      services::cloudwatch::CloudWatchOptions{.region = config.region,
                                              .account_id = config.account_id});
  edge->set_cloudwatch(&cloudwatch);
  services::sqs::SqsService sqs_service(queues);
  edge->add_service(&sqs_service);
  edge->set_cost_ledger(&cost);
  // Topics: the SNS API on the edge, and fan-out to functions, queues and HTTP endpoints.
  store::TopicStore topic_store((*repository)->db());
  auto https_trust = http::load_tls_trust(config.sns_https_ca);
  if (!https_trust) {
    LOG_ERROR("server", "start_failed", "error=\"--sns-https-ca: {}\"",
              https_trust.error().message);
    return 1;
  }
  services::sns::SnsService sns(topic_store, invoker, message_router, io.get_executor(),
                                services::sns::SnsOptions{.region = config.region,
                                                          .account_id = config.account_id,
                                                          .https_trust = *https_trust});
  if (auto loaded = sns.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"topics cannot be loaded: {}\"",
              loaded.error().message);
    return 1;
  }
  if (auto loaded = sns.load_signing_key((config.data_dir / "sns").string()); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", loaded.error().message);
    return 1;
  }
  message_router.set_topics(&sns);
  edge->add_service(&sns);
  // S3: buckets and objects in the data directory; notifications go to functions through the
  // invoker and to queues and topics through the router.
  store::ObjectStore objects((*repository)->db(), blocking, config.data_dir / "objects");
  services::s3::S3Service s3(objects, invoker, message_router, io.get_executor(),
                             services::s3::S3Options{.region = config.region,
                                                     .account_id = config.account_id});
  if (auto opened = objects.open(); !opened) {
    LOG_ERROR("server", "start_failed", "error=\"object store: {}\"", opened.error().message);
    return 1;
  }
  if (auto loaded = s3.load(); !loaded) {
    LOG_ERROR("server", "start_failed", "error=\"buckets: {}\"", loaded.error().message);
    return 1;
  }
  edge->add_service(&s3);
  s3.start();
  const auto started_at = std::chrono::steady_clock::now();
  auto* repository_ptr = repository->get();
  auto render_metrics = [&metric_store, &lambda_metrics, &manager, &invoker, repository_ptr,
                         started_at]() -> Task<std::string> {
    metrics::ServerHealth health;
    auto states = manager.count_by_state();
    health.environments_starting = states[0];
    health.environments_idle = states[1];
    health.environments_busy = states[2];
    health.environments_stopping = states[3];
    auto stored = co_await repository_ptr->async_event_count();
    health.async_events_stored = stored ? *stored : -1;
    health.async_events_in_flight = invoker.async_in_flight();
    health.store_commits = repository_ptr->db().commits();
    health.store_commit_seconds = repository_ptr->db().commit_seconds();
    health.metric_flushes = metric_store.flush_count();
    health.metric_flush_seconds = metric_store.flush_seconds_total();
    health.uptime_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
    co_return metrics::render_prometheus(metric_store, lambda_metrics, health);
  };
  edge->set_prometheus(std::move(render_metrics));

  http::Server server(io.get_executor(),
                      http::ServerOptions{.address = config.listen_address,
                                          .port = config.listen_port,
                                          .name = "edge"},
                      edge);
  auto port = server.listen();
  if (!port) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", port.error().message);
    return 1;
  }
  std::string endpoint = fmt::format("http://{}:{}", connect_host, *port);
  // Functions reach the edge port with the SDK inside their handlers.
  manager.context().endpoint_url = endpoint;
  // Download links in GetFunction name the bound port, known only now.
  lambda_service->set_endpoint_url(endpoint);
  function_urls.set_endpoint(config.region, *port);
  // apiEndpoint in CreateApi and GetApi names the bound port too.
  apigateway_control.set_port(*port);
  sns.set_endpoint_url(endpoint);

  if (auto started = invoker.start(); !started) {
    LOG_ERROR("server", "start_failed", "error=\"{}\"", started.error().message);
    return 1;
  }
  manager.start();
  sns.start();
  queue_poller.start();
  logs_service.start();
  metric_store.start();
  alarm_engine.start();
  cost.start();
  server.start();
  LOG_INFO("server", "limits",
           "account_concurrency={} max_environments={} host_memory_mb={} max_starting={} "
           "max_start_rate={} keep_alive_s={} max_lifetime_s={}",
           config.account_concurrency, manager.options().max_environments,
           manager.options().host_memory_mb, manager.options().max_starting,
           manager.options().max_start_rate, manager.options().keep_alive.count(),
           manager.options().max_lifetime.count());
  LOG_INFO("server", "listening", "endpoint={} data_dir={} auth={} region={} cold_start={}",
           endpoint, config.data_dir.string(), config.auth ? "sigv4" : "off", config.region,
           config.cold_start);
  if (!config.ready_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial port number.
    std::string temporary = config.ready_file + ".tmp";
    std::ofstream(temporary) << *port << "\n";
    std::error_code ec;
    fs::rename(temporary, config.ready_file, ec);
    if (ec) {
      LOG_WARN("server", "ready_file_failed", "path={} error=\"{}\"", config.ready_file,
               ec.message());
    }
  }

  // The first SIGINT or SIGTERM lets the requests in progress finish for up to kDrainTimeout.
  // A second signal stops everything at once.
  bool stopped = false;
  auto stop_everything = [&] {
    if (stopped) return;
    stopped = true;
    server.stop();
    s3.stop();
    api_gateway.stop();
    queue_poller.stop();
    logs_service.stop();
    sns.stop();
    invoker.stop();
    manager.stop();
    alarm_engine.stop();
    metric_store.stop();
    cost.stop();
    io.stop();
  };
  TaskGroup shutdown(io.get_executor(), "shutdown");
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (shutdown.size() > 0) {
          LOG_INFO("server", "stopping_now", "signal={}", sig);
          stop_everything();
          return;
        }
        LOG_INFO("server", "stopping", "signal={} drain_timeout_s={}", sig,
                 std::chrono::duration_cast<std::chrono::seconds>(kDrainTimeout).count());
        // Long polls return at once with no messages, so they do not hold up the drain.
        queues.stop();
        shutdown.spawn(drain_then(server, stop_everything), "drain");
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  io.run();
  blocking.join();
  (*repository)->db().close();
  if (auto written = metric_store.write_pending_blocking(); !written) {
    LOG_WARN("server", "metrics_not_written", "error=\"{}\"", written.error().message);
  }
  // Counts since the last flush, with the CPU time the stopped environments reported.
  if (auto written = cost.write_pending_blocking(); !written) {
    LOG_WARN("server", "cost_write_failed", "error=\"{}\"", written.error().message);
  }
  LOG_INFO("server", "stopped", "");
  return 0;
}

}  // namespace lambent::server
