// Invoker's asynchronous delivery: the dispatcher's wait, one attempt of a leased event, its
// retry schedule, destination records and dead-letter handling, and the event invoke configs
// that steer them.
#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/base/utf8.h"
#include "lambent/invoke/async_policy.h"
#include "lambent/invoke/invoker.h"

#include <algorithm>

namespace lambent::invoke {

namespace {

// Upper bound of one dispatcher sleep when no event is scheduled; enqueues wake it earlier.
constexpr auto kIdleWait = std::chrono::minutes(10);

// An X-Ray style trace header derived from the request id, so every attempt shares it.
std::string trace_id_for(const std::string& request_id) {
  if (request_id.size() < 36) return "Root=1-00000000-000000000000000000000000;Sampled=0";
  return "Root=1-" + request_id.substr(0, 8) + "-" + request_id.substr(9, 4) +
         request_id.substr(14, 4) + request_id.substr(19, 4) + request_id.substr(24, 12) +
         ";Sampled=0";
}

}  // namespace

const store::EventInvokeConfig* Invoker::event_invoke_config(std::string_view name,
                                                             std::string_view qualifier) const {
  auto it = event_invoke_configs_.find(std::make_pair(std::string(name), std::string(qualifier)));
  return it == event_invoke_configs_.end() ? nullptr : &it->second;
}

std::vector<store::EventInvokeConfig> Invoker::event_invoke_configs(std::string_view name) const {
  std::vector<store::EventInvokeConfig> out;
  for (const auto& [key, config] : event_invoke_configs_) {
    if (key.first == name) out.push_back(config);
  }
  return out;
}

Task<Status> Invoker::put_event_invoke_config(store::EventInvokeConfig config) {
  auto saved = co_await repository_.event_invoke_configs().put(config);
  if (!saved) co_return saved;
  auto key = std::make_pair(config.function_name, config.qualifier);
  event_invoke_configs_[std::move(key)] = std::move(config);
  co_return ok_status();
}

Task<Status> Invoker::delete_event_invoke_config(std::string name, std::string qualifier) {
  auto removed = co_await repository_.event_invoke_configs().remove(name, qualifier);
  if (!removed) co_return removed;
  event_invoke_configs_.erase(std::make_pair(std::move(name), std::move(qualifier)));
  co_return ok_status();
}

Task<void> Invoker::wait_for_due_event() {
  auto next = co_await repository_.next_visible_ms();
  if (!next) {
    LOG_ERROR("invoke", "async_schedule_read_failed", "error=\"{}\"", next.error().message);
    co_await work_->wait(std::chrono::seconds(1));
    co_return;
  }
  if (!next->has_value()) {
    co_await work_->wait(kIdleWait);
    co_return;
  }
  std::int64_t delay_ms = **next - epoch_ms();
  if (delay_ms <= 0) co_return;
  co_await work_->wait(std::chrono::milliseconds(delay_ms));
}

Task<void> Invoker::deliver_event(store::AsyncEvent event) {
  const auto* config = event_invoke_config(event.function_name, event.qualifier);
  int max_retries = kDefaultMaximumRetryAttempts;
  int max_age_seconds = kDefaultMaximumEventAgeSeconds;
  if (config && config->maximum_retry_attempts) max_retries = *config->maximum_retry_attempts;
  if (config && config->maximum_event_age_seconds) {
    max_age_seconds = *config->maximum_event_age_seconds;
  }
  const double scale = options_.async_retry_scale;
  const std::int64_t expires_ms =
      event.enqueued_ms + static_cast<std::int64_t>(max_age_seconds * 1000.0 * scale);

  // An alias with routing picks its version again at each attempt.
  std::shared_ptr<const runtime::FunctionSpec> spec;
  std::string invoked_arn;
  auto resolved = resolve(event.function_name, std::string_view(event.qualifier));
  if (resolved) {
    spec = resolved->spec;
    invoked_arn = std::move(resolved->invoked_arn);
  }
  if (!spec) {
    if (metrics_ != nullptr) {
      metrics_->async_dropped(metrics_->target(event.function_name, {}, false, {}), epoch_ms());
    }
    LOG_WARN("invoke", "async_event_dropped",
             "request_id={} function={} qualifier={} reason=function_not_found", event.request_id,
             event.function_name, event.qualifier);
    auto acked = co_await repository_.ack(event.seq);
    if (!acked) {
      LOG_ERROR("invoke", "async_ack_failed", "request_id={} error=\"{}\"", event.request_id,
                acked.error().message);
    }
    co_return;
  }

  if (epoch_ms() >= expires_ms) {
    co_await finish_event(std::move(event), "EventAgeExceeded", spec, nullptr);
    co_return;
  }

  if (metrics_ != nullptr) {
    std::int64_t now = epoch_ms();
    metrics_->async_event_age(metrics_->target_for_arn(invoked_arn, spec->version),
                              static_cast<double>(now - event.enqueued_ms), now);
  }
  runtime::InvokeRequest request;
  request.request_id = event.request_id;
  request.payload = event.payload;
  request.invoked_function_arn = std::move(invoked_arn);
  request.trace_id = trace_id_for(event.request_id);
  auto result = co_await invoke(spec, std::move(request));

  if (!result) {
    // A throttle or a system error uses up no attempt: the event waits with exponential
    // backoff until it passes its maximum age.
    std::int64_t delay = backoff_delay_ms(event.delayed_retries, scale);
    ++event.delayed_retries;
    std::string reason = result.error().code == Errc::throttled ? "throttled" : "system_error";
    LOG_WARN("invoke", "async_invoke_failed", "request_id={} function={} reason={} error=\"{}\"",
             event.request_id, event.function_name, reason, result.error().message);
    if (epoch_ms() + delay >= expires_ms) {
      co_await finish_event(std::move(event), "EventAgeExceeded", spec, nullptr);
    } else {
      co_await retry_event(std::move(event), delay, std::move(reason));
    }
    co_return;
  }

  ++event.attempts;
  if (result->outcome == runtime::Outcome::success) {
    co_await finish_event(std::move(event), "Success", spec, &*result);
    co_return;
  }
  ++event.failed_attempts;
  if (event.failed_attempts > max_retries) {
    co_await finish_event(std::move(event), "RetriesExhausted", spec, &*result);
    co_return;
  }
  std::int64_t delay = function_error_delay_ms(event.failed_attempts, scale);
  if (epoch_ms() + delay >= expires_ms) {
    co_await finish_event(std::move(event), "EventAgeExceeded", spec, &*result);
  } else {
    co_await retry_event(std::move(event), delay, "function_error");
  }
}

Task<void> Invoker::retry_event(store::AsyncEvent event, std::int64_t delay_ms,
                                std::string reason) {
  ++async_stats_.retries_scheduled;
  LOG_INFO("invoke", "async_retry_scheduled",
           "request_id={} function={} reason={} attempts={} delay_ms={}", event.request_id,
           event.function_name, reason, event.attempts, delay_ms);
  std::string request_id = event.request_id;
  auto saved = co_await repository_.reschedule(std::move(event), epoch_ms() + delay_ms);
  if (!saved) {
    // The lease still hides the event; the next start-up makes it visible again.
    LOG_ERROR("invoke", "async_reschedule_failed", "request_id={} error=\"{}\"", request_id,
              saved.error().message);
  }
}

// Sends a failed event to the function's dead-letter queue or topic: the event as the body,
// with the RequestID, ErrorCode and ErrorMessage attributes AWS adds.
Task<Result<std::string>> Invoker::send_dead_letter(const store::AsyncEvent& event,
                                                    const std::string& target,
                                                    const runtime::InvokeResult* result) {
  if (message_targets_ == nullptr) {
    co_return make_error(Errc::not_found, "no queue or topic service runs");
  }
  store::OutboundMessage message;
  message.body = event.payload;
  message.attributes.push_back({"RequestID", "String", event.request_id, ""});
  // NOTE: 200 when the function ran and failed; 429 when no attempt ran (throttled until the
  // event expired).
  message.attributes.push_back({"ErrorCode", "Number", result ? "200" : "429", ""});
  std::string error_message = result ? result->payload : "The event expired before it ran.";
  if (error_message.size() > 1024) error_message = std::string(utf8_prefix(error_message, 1024));
  if (!error_message.empty()) {
    message.attributes.push_back({"ErrorMessage", "String", std::move(error_message), ""});
  }
  co_return co_await message_targets_->send(target, std::move(message));
}

Task<void> Invoker::finish_event(store::AsyncEvent event, std::string condition,
                                 std::shared_ptr<const runtime::FunctionSpec> spec,
                                 const runtime::InvokeResult* result) {
  bool success = condition == "Success";
  const auto* config = event_invoke_config(event.function_name, event.qualifier);
  std::string destination;
  if (config) destination = success ? config->on_success : config->on_failure;

  metrics::LambdaMetrics::Target* metric_target = nullptr;
  if (metrics_ != nullptr) {
    metric_target = metrics_->target(event.function_name, event.qualifier,
                              metrics::is_alias_qualifier(event.qualifier), {});
    if (!success) metrics_->async_dropped(metric_target, epoch_ms());
  }
  if (condition == "EventAgeExceeded") {
    ++async_stats_.events_expired;
    LOG_WARN("invoke", "async_event_expired",
             "request_id={} function={} attempts={} events_expired_total={}", event.request_id,
             event.function_name, event.attempts, async_stats_.events_expired);
  } else if (condition == "RetriesExhausted") {
    ++async_stats_.retries_exhausted;
    LOG_WARN("invoke", "async_retries_exhausted", "request_id={} function={} attempts={}",
             event.request_id, event.function_name, event.attempts);
  }

  if (!success && !spec->config.dead_letter_target_arn.empty()) {
    const std::string& target = spec->config.dead_letter_target_arn;
    auto sent = co_await send_dead_letter(event, target, result);
    if (sent) {
      LOG_INFO("invoke", "dead_letter_sent", "request_id={} function={} target={} message_id={}",
               event.request_id, event.function_name, target, *sent);
    } else {
      ++async_stats_.dead_letter_errors;
      if (metric_target != nullptr) metrics_->dead_letter_error(metric_target, epoch_ms());
      LOG_WARN("invoke", "dead_letter_failed",
               "request_id={} function={} target={} error=\"{}\" dead_letter_errors_total={}",
               event.request_id, event.function_name, target, sent.error().message,
               async_stats_.dead_letter_errors);
    }
  }

  std::optional<store::AsyncEvent> record_event;
  if (!destination.empty()) {
    DestinationRecord record;
    record.timestamp_ms = epoch_ms();
    record.request_id = event.request_id;
    record.function_arn = spec->function_arn + ":" + spec->version;
    record.condition = condition;
    record.approximate_invoke_count = event.attempts;
    record.request_payload = event.payload;
    if (result) {
      record.response_payload = result->payload;
      record.executed_version = spec->version;
      record.function_error = result->outcome != runtime::Outcome::success;
    }
    auto target = parse_lambda_arn(destination);
    if (target) {
      store::AsyncEvent next;
      next.function_name = target->name;
      next.qualifier = target->qualifier;
      next.request_id = random_uuid();
      next.payload = render_destination_record(record);
      next.enqueued_ms = record.timestamp_ms;
      record_event = std::move(next);
    } else {
      Result<std::string> sent = make_error(
          Errc::invalid_parameter, "Lambent delivers destination records to Lambda functions, "
                                   "SQS queues and SNS topics only");
      if (message_targets_ != nullptr && (destination.starts_with("arn:aws:sqs:") ||
                                          destination.starts_with("arn:aws:sns:"))) {
        store::OutboundMessage message;
        message.body = render_destination_record(record);
        sent = co_await message_targets_->send(destination, std::move(message));
      }
      if (sent) {
        ++async_stats_.destination_records;
        LOG_INFO("invoke", "destination_record_sent",
                 "request_id={} function={} destination={} condition={} message_id={}",
                 event.request_id, event.function_name, destination, condition, *sent);
      } else {
        ++async_stats_.destination_failures;
        if (metric_target != nullptr) metrics_->destination_failure(metric_target, epoch_ms());
        LOG_WARN("invoke", "destination_delivery_failed",
                 "request_id={} function={} destination={} condition={} error=\"{}\" "
                 "destination_failures_total={}",
                 event.request_id, event.function_name, destination, condition,
                 sent.error().message, async_stats_.destination_failures);
      }
    }
  }

  Status acked = ok_status();
  if (record_event) {
    std::string destination_request_id = record_event->request_id;
    acked = co_await repository_.ack_and_enqueue(event.seq, std::move(*record_event));
    if (acked) {
      ++async_stats_.destination_records;
      LOG_INFO("invoke", "destination_record_enqueued",
               "request_id={} function={} destination={} condition={} destination_request_id={}",
               event.request_id, event.function_name, destination, condition,
               destination_request_id);
      work_->set();
    }
  } else {
    acked = co_await repository_.ack(event.seq);
  }
  if (!acked) {
    LOG_ERROR("invoke", "async_ack_failed", "request_id={} error=\"{}\"", event.request_id,
              acked.error().message);
  }
}

}  // namespace lambent::invoke
