#include "lambent/metrics/alarms.h"

#include "lambent/base/log.h"
#include "lambent/metrics/alarm_codec.h"
#include "lambent/metrics/alarm_evaluation.h"
#include "lambent/metrics/alarm_messages.h"
#include "lambent/store/document_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>

namespace lambent::metrics {

namespace {

constexpr const char* kAlarmCollection = "cloudwatch.alarms";
constexpr const char* kHistoryCollection = "cloudwatch.alarm_history";
// Evaluation times are multiples of 10 s: every period of 10, 20 or 30 s ends on one, and
// alarms of a minute or more are evaluated at each minute boundary.
constexpr std::int64_t kTickMs = 10'000;
constexpr std::int64_t kMinuteMs = 60'000;

// History documents are keyed by a zero-padded sequence number, so their keys sort in the
// order they were written.
std::string history_key(std::uint64_t sequence) { return fmt::format("{:020d}", sequence); }

bool is_lambda_arn(std::string_view arn) {
  // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 6) {
    std::size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  return parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" && start < arn.size();
}

const std::vector<std::string>& actions_of(const MetricAlarm& alarm, AlarmState state) {
  switch (state) {
    case AlarmState::ok:
      return alarm.ok_actions;
    case AlarmState::alarm:
      return alarm.alarm_actions;
    case AlarmState::insufficient_data:
      return alarm.insufficient_data_actions;
  }
  return alarm.ok_actions;
}

Result<Statistic> statistic_of(const MetricAlarm& alarm) {
  return parse_statistic(alarm.extended_statistic.empty() ? alarm.statistic
                                                          : alarm.extended_statistic);
}

Status validate(const MetricAlarm& alarm) {
  auto invalid = [](std::string message) {
    return Status(make_error(Errc::invalid_parameter, std::move(message)));
  };
  if (alarm.name.empty()) return invalid("alarm name must not be empty");
  if (auto statistic = statistic_of(alarm); !statistic.ok()) return statistic.error();
  if (!(alarm.period_s == 10 || alarm.period_s == 20 || alarm.period_s == 30 ||
        (alarm.period_s >= 60 && alarm.period_s % 60 == 0))) {
    return invalid(
        fmt::format("period {} is invalid; use 10, 20, 30 or a multiple of 60", alarm.period_s));
  }
  if (alarm.evaluation_periods < 1) {
    return invalid(
        fmt::format("evaluation periods {} is invalid; use 1 or more", alarm.evaluation_periods));
  }
  if (alarm.datapoints_to_alarm < 0 || alarm.datapoints_to_alarm > alarm.evaluation_periods) {
    return invalid(fmt::format("datapoints to alarm {} is invalid; use 1 to {}",
                               alarm.datapoints_to_alarm, alarm.evaluation_periods));
  }
  const std::string& op = alarm.comparison_operator;
  if (op != "GreaterThanOrEqualToThreshold" && op != "GreaterThanThreshold" &&
      op != "LessThanThreshold" && op != "LessThanOrEqualToThreshold") {
    return invalid(
        fmt::format("comparison operator {} is not supported; use GreaterThanOrEqualToThreshold, "
                    "GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold",
                    op));
  }
  const std::string& treat = alarm.treat_missing_data;
  if (treat != "missing" && treat != "ignore" && treat != "breaching" && treat != "notBreaching") {
    return invalid(fmt::format(
        "treat missing data {} is invalid; use breaching, notBreaching, ignore or missing", treat));
  }
  return ok_status();
}

}  // namespace

std::string_view to_string(AlarmState state) {
  switch (state) {
    case AlarmState::ok:
      return "OK";
    case AlarmState::alarm:
      return "ALARM";
    case AlarmState::insufficient_data:
      return "INSUFFICIENT_DATA";
  }
  return "INSUFFICIENT_DATA";
}

std::optional<AlarmState> parse_alarm_state(std::string_view text) {
  if (text == "OK") return AlarmState::ok;
  if (text == "ALARM") return AlarmState::alarm;
  if (text == "INSUFFICIENT_DATA") return AlarmState::insufficient_data;
  return std::nullopt;
}

struct AlarmEngine::Impl {
  struct Entry {
    MetricAlarm alarm;
    Statistic statistic;
    // Changes with every put and set_state, so an evaluation that started before one of them
    // drops its result.
    std::uint64_t generation = 0;
  };
  struct StoredItem {
    std::string key;
    AlarmHistoryItem item;
  };

  Impl(MetricStore& metric_store, store::DocumentStore& document_store, asio::any_io_executor ex,
       AlarmOptions opts)
      : metrics(metric_store),
        documents(document_store),
        executor(ex),
        options(std::move(opts)),
        tasks(ex, "alarms") {}

  std::int64_t now_ms() const { return options.clock ? options.clock() : epoch_ms(); }

  Task<Status> add_history(AlarmHistoryItem item);
  Task<void> trim_history(std::string name);
  Task<void> run_actions(MetricAlarm alarm, AlarmStateSnapshot previous);
  Task<Status> change_state(Entry& entry, AlarmState state, std::string reason,
                            std::string reason_data);
  Task<void> evaluate(std::string name, std::int64_t boundary_s);
  Task<void> evaluate_due(std::int64_t boundary_ms, bool high_resolution);
  Task<void> run_timer();

  MetricStore& metrics;
  store::DocumentStore& documents;
  asio::any_io_executor executor;
  AlarmOptions options;
  AlarmActionSink sink;
  AlarmTopicSink topic_sink;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> alarms;
  std::map<std::string, std::deque<StoredItem>, std::less<>> history;
  std::vector<std::string> stale_history_keys;  // trimmed at load, deleted once started
  std::uint64_t next_history_sequence = 1;
  std::uint64_t next_generation = 1;
  // Serializes every change of alarms and history; evaluations read the metric store
  // without it and take it only to apply a new state.
  AsyncMutex mutex;
  TaskGroup tasks;
};

Task<Status> AlarmEngine::Impl::add_history(AlarmHistoryItem item) {
  std::string key = history_key(next_history_sequence++);
  std::string name = item.alarm_name;
  Status stored = co_await documents.put(kHistoryCollection, key, encode_history_item(item));
  if (!stored.ok()) {
    LOG_ERROR("alarms", "history_write_failed", "alarm={} error=\"{}\"", name,
              stored.error().message);
    co_return stored;
  }
  history[name].push_back({std::move(key), std::move(item)});
  co_await trim_history(std::move(name));
  co_return ok_status();
}

Task<void> AlarmEngine::Impl::trim_history(std::string name) {
  const std::int64_t cutoff = now_ms() - options.history_retention_s * 1000;
  for (;;) {
    auto it = history.find(name);
    if (it == history.end()) co_return;
    auto& items = it->second;
    if (items.empty()) {
      history.erase(it);
      co_return;
    }
    if (items.size() <= options.history_per_alarm && items.front().item.timestamp_ms >= cutoff) {
      co_return;
    }
    std::string key = std::move(items.front().key);
    items.pop_front();
    Status removed = co_await documents.remove(kHistoryCollection, key);
    if (!removed.ok()) {
      LOG_WARN("alarms", "history_trim_failed", "alarm={} error=\"{}\"", name,
               removed.error().message);
    }
  }
}

Task<void> AlarmEngine::Impl::run_actions(MetricAlarm alarm, AlarmStateSnapshot previous) {
  for (const std::string& arn : actions_of(alarm, alarm.state)) {
    std::string event;
    Status outcome = ok_status();
    if (arn.starts_with("arn:aws:sns:")) {
      if (!topic_sink) {
        outcome = make_error(Errc::internal, "no topic service is connected to the alarm engine");
      } else {
        auto notification = sns_alarm_notification(alarm, previous, options);
        event = notification.message;
        Status published = co_await topic_sink(arn, std::move(notification.subject),
                                               std::move(notification.message));
        outcome = std::move(published);
      }
    } else if (!is_lambda_arn(arn)) {
      // NOTE: Auto Scaling, EC2 and Systems Manager actions do not exist in Lambent; such an
      // action is recorded as failed.
      outcome = make_error(Errc::not_implemented,
                           fmt::format("action {} is not supported; only Lambda function and "
                                       "SNS topic actions run",
                                       arn));
    } else if (!sink) {
      outcome = make_error(Errc::internal, "no Lambda invoker is connected to the alarm engine");
    } else {
      event = lambda_alarm_event(alarm, previous, options);
      Status invoked = co_await sink(arn, event);
      outcome = std::move(invoked);
    }

    AlarmHistoryItem item;
    item.alarm_name = alarm.name;
    item.timestamp_ms = now_ms();
    item.type = "Action";
    if (outcome.ok()) {
      item.summary = fmt::format("Successfully executed action {}", arn);
      item.data = action_data(true, alarm.state_updated_ms, arn, event, {});
    } else {
      LOG_WARN("alarms", "action_failed", "alarm={} action={} error=\"{}\"", alarm.name, arn,
               outcome.error().message);
      item.summary = fmt::format("Failed to execute action {}", arn);
      item.data = action_data(false, alarm.state_updated_ms, arn, {}, outcome.error().message);
    }
    Status recorded = co_await add_history(std::move(item));
    (void)recorded;  // add_history logs its own failure
  }
}

Task<Status> AlarmEngine::Impl::change_state(Entry& entry, AlarmState state, std::string reason,
                                             std::string reason_data) {
  const std::int64_t now = now_ms();
  MetricAlarm before = entry.alarm;
  MetricAlarm after = entry.alarm;
  after.state = state;
  after.state_reason = std::move(reason);
  after.state_reason_data = std::move(reason_data);
  after.state_updated_ms = now;
  if (state != before.state) after.state_transitioned_ms = now;

  Status stored = co_await documents.put(kAlarmCollection, after.name, encode_alarm(after));
  if (!stored.ok()) {
    LOG_ERROR("alarms", "state_write_failed", "alarm={} error=\"{}\"", after.name,
              stored.error().message);
    co_return stored;
  }
  entry.alarm = after;
  LOG_INFO("alarms", "state_changed", "alarm={} from={} to={}", after.name, to_string(before.state),
           to_string(state));

  AlarmStateSnapshot previous = AlarmStateSnapshot::of(before);
  AlarmHistoryItem item;
  item.alarm_name = after.name;
  item.timestamp_ms = now;
  item.type = "StateUpdate";
  item.summary =
      fmt::format("Alarm updated from {} to {}", to_string(before.state), to_string(state));
  item.data = state_update_data(previous, AlarmStateSnapshot::of(after));
  Status recorded = co_await add_history(std::move(item));
  (void)recorded;  // the new state is stored, and add_history logs its own failure

  // Actions run on a change of state only: an alarm that stays in a state does not repeat them.
  if (state != before.state && after.actions_enabled) {
    co_await run_actions(std::move(after), std::move(previous));
  }
  co_return ok_status();
}

Task<void> AlarmEngine::Impl::evaluate(std::string name, std::int64_t boundary_s) {
  auto found = alarms.find(name);
  if (found == alarms.end()) co_return;
  const MetricAlarm alarm = found->second->alarm;
  const Statistic statistic = found->second->statistic;
  const std::uint64_t generation = found->second->generation;

  const std::int64_t period = alarm.period_s;
  const int range = evaluation_range(alarm);
  const std::int64_t start_s = boundary_s - range * period;
  // Periods of a minute or more slide with the minute boundary, so they are assembled from
  // one-minute points; shorter periods end on multiples of themselves and are read directly.
  const std::int64_t granularity = period < 60 ? period : 60;
  std::optional<std::string> unit;
  if (!alarm.unit.empty()) unit = alarm.unit;
  auto points = co_await metrics.query(alarm.metric, start_s, boundary_s, granularity, unit);
  if (!points.ok()) {
    LOG_WARN("alarms", "query_failed", "alarm={} error=\"{}\"", name, points.error().message);
    co_return;
  }

  std::vector<Aggregate> aggregates(static_cast<std::size_t>(range));
  for (const auto& point : *points) {
    if (point.timestamp_s < start_s || point.timestamp_s >= boundary_s) continue;
    auto index = static_cast<std::size_t>((boundary_s - point.timestamp_s - 1) / period);
    aggregates[index].merge(point.aggregate);
  }
  std::vector<AlarmWindow> windows(static_cast<std::size_t>(range));
  for (std::size_t i = 0; i < windows.size(); ++i) {
    windows[i].start_s = boundary_s - static_cast<std::int64_t>(i + 1) * period;
    if (aggregates[i].empty()) continue;
    windows[i].value = metrics::evaluate(aggregates[i], statistic);
    windows[i].sample_count = aggregates[i].sample_count;
  }

  AlarmDecision decision = decide(alarm, windows, now_ms());
  if (!decision.state || *decision.state == alarm.state) co_return;

  auto guard = co_await mutex.lock();
  found = alarms.find(name);
  if (found == alarms.end() || found->second->generation != generation) co_return;
  if (found->second->alarm.state == *decision.state) co_return;
  Status changed = co_await change_state(
      *found->second, *decision.state, std::move(decision.reason), std::move(decision.reason_data));
  (void)changed;  // change_state logs its own failure, and the next evaluation tries again
}

Task<void> AlarmEngine::Impl::evaluate_due(std::int64_t boundary_ms, bool high_resolution) {
  const std::int64_t boundary_s = boundary_ms / 1000;
  std::vector<std::string> due;
  for (const auto& [name, entry] : alarms) {
    std::int64_t period = entry->alarm.period_s;
    bool due_now = period < 60 ? high_resolution && boundary_s % period == 0
                               : !high_resolution && boundary_ms % kMinuteMs == 0;
    if (due_now) due.push_back(name);
  }
  if (due.empty()) co_return;
  Status flushed = co_await metrics.flush();
  if (!flushed.ok()) {
    LOG_WARN("alarms", "flush_failed", "error=\"{}\"", flushed.error().message);
  }
  for (auto& name : due) co_await evaluate(std::move(name), boundary_s);
}

Task<void> AlarmEngine::Impl::run_timer() {
  asio::steady_timer timer(executor);
  const std::int64_t high_resolution_delay = options.high_resolution_delay.count();
  const std::int64_t standard_delay = options.standard_delay.count();
  for (;;) {
    const std::int64_t now = now_ms();
    // The next boundaries whose evaluation time (boundary + delay) is still ahead.
    std::int64_t next_tick = ((now - high_resolution_delay) / kTickMs + 1) * kTickMs;
    std::int64_t next_minute = ((now - standard_delay) / kMinuteMs + 1) * kMinuteMs;
    std::int64_t tick_at = next_tick + high_resolution_delay;
    std::int64_t minute_at = next_minute + standard_delay;
    std::int64_t wake = std::min(tick_at, minute_at);
    timer.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(wake - now, 0)));
    co_await timer.async_wait(asio::use_awaitable);

    // An evaluation that throws is logged and the timer goes on with the next boundary.
    try {
      if (tick_at == wake) co_await evaluate_due(next_tick, true);
      if (minute_at == wake) co_await evaluate_due(next_minute, false);
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted) throw;
      LOG_ERROR("alarms", "evaluation_failed", "error=\"{}\"", e.what());
    } catch (const std::exception& e) {
      LOG_ERROR("alarms", "evaluation_failed", "error=\"{}\"", e.what());
    }
  }
}

AlarmEngine::AlarmEngine(MetricStore& metrics, store::DocumentStore& documents,
                         asio::any_io_executor executor, AlarmOptions options)
    : impl_(std::make_unique<Impl>(metrics, documents, std::move(executor), std::move(options))) {}

AlarmEngine::~AlarmEngine() { stop(); }

Status AlarmEngine::load() {
  auto stored_alarms = impl_->documents.load(kAlarmCollection);
  if (!stored_alarms.ok()) return stored_alarms.error();
  for (const auto& document : *stored_alarms) {
    auto alarm = decode_alarm(document.body);
    Result<Statistic> statistic =
        alarm.ok() ? statistic_of(*alarm) : Result<Statistic>(alarm.error());
    if (!statistic.ok()) {
      LOG_WARN("alarms", "skipped_stored_alarm", "key={} error=\"{}\"", document.key,
               statistic.error().message);
      continue;
    }
    auto entry = std::make_unique<Impl::Entry>();
    entry->alarm = std::move(alarm).value();
    entry->statistic = std::move(statistic).value();
    entry->generation = impl_->next_generation++;
    impl_->alarms[entry->alarm.name] = std::move(entry);
  }

  auto stored_history = impl_->documents.load(kHistoryCollection);
  if (!stored_history.ok()) return stored_history.error();
  for (auto& document : *stored_history) {
    std::uint64_t sequence = std::strtoull(document.key.c_str(), nullptr, 10);
    impl_->next_history_sequence = std::max(impl_->next_history_sequence, sequence + 1);
    auto item = decode_history_item(document.body);
    if (!item.ok()) {
      LOG_WARN("alarms", "skipped_stored_history", "key={} error=\"{}\"", document.key,
               item.error().message);
      impl_->stale_history_keys.push_back(std::move(document.key));
      continue;
    }
    std::string name = item->alarm_name;
    impl_->history[name].push_back({std::move(document.key), std::move(item).value()});
  }

  // Trim in memory now; the documents of trimmed items are deleted once the engine starts.
  const std::int64_t cutoff = impl_->now_ms() - impl_->options.history_retention_s * 1000;
  for (auto it = impl_->history.begin(); it != impl_->history.end();) {
    auto& items = it->second;
    while (!items.empty() && (items.size() > impl_->options.history_per_alarm ||
                              items.front().item.timestamp_ms < cutoff)) {
      impl_->stale_history_keys.push_back(std::move(items.front().key));
      items.pop_front();
    }
    it = items.empty() ? impl_->history.erase(it) : std::next(it);
  }
  LOG_INFO("alarms", "loaded", "alarms={} history_items={}", impl_->alarms.size(),
           stored_history->size() - impl_->stale_history_keys.size());
  return ok_status();
}

void AlarmEngine::set_action_sink(AlarmActionSink sink) { impl_->sink = std::move(sink); }
void AlarmEngine::set_topic_sink(AlarmTopicSink sink) { impl_->topic_sink = std::move(sink); }

void AlarmEngine::start() {
  Impl* impl = impl_.get();
  if (!impl->stale_history_keys.empty()) {
    auto delete_stale = [](Impl* self, std::vector<std::string> keys) -> Task<void> {
      for (const auto& key : keys) {
        Status removed = co_await self->documents.remove(kHistoryCollection, key);
        (void)removed;  // a leftover document is trimmed again at the next load
      }
    };
    impl->tasks.spawn(delete_stale(impl, std::move(impl->stale_history_keys)), "trim_history");
    impl->stale_history_keys.clear();
  }
  impl->tasks.spawn(impl->run_timer(), "evaluation_timer");
}

void AlarmEngine::stop() { impl_->tasks.stop(); }

Task<Status> AlarmEngine::put(MetricAlarm alarm) {
  if (alarm.treat_missing_data.empty()) alarm.treat_missing_data = "missing";
  Status valid = validate(alarm);
  if (!valid.ok()) co_return valid;
  Statistic statistic = statistic_of(alarm).value();
  normalize(alarm.metric.dimensions);

  auto guard = co_await impl_->mutex.lock();
  const std::int64_t now = impl_->now_ms();
  alarm.arn = fmt::format("arn:aws:cloudwatch:{}:{}:alarm:{}", impl_->options.region,
                          impl_->options.account_id, alarm.name);
  alarm.configuration_updated_ms = now;

  auto found = impl_->alarms.find(alarm.name);
  std::optional<MetricAlarm> original;
  if (found == impl_->alarms.end()) {
    alarm.state = AlarmState::insufficient_data;
    alarm.state_reason = "Unchecked: Initial alarm creation";
    alarm.state_reason_data.clear();
    alarm.state_updated_ms = now;
    alarm.state_transitioned_ms = now;
  } else {
    // A replaced alarm keeps its state; the configuration is overwritten whole.
    original = found->second->alarm;
    alarm.state = original->state;
    alarm.state_reason = original->state_reason;
    alarm.state_reason_data = original->state_reason_data;
    alarm.state_updated_ms = original->state_updated_ms;
    alarm.state_transitioned_ms = original->state_transitioned_ms;
  }

  Status stored = co_await impl_->documents.put(kAlarmCollection, alarm.name, encode_alarm(alarm));
  if (!stored.ok()) co_return stored;

  auto& entry = impl_->alarms[alarm.name];
  if (!entry) entry = std::make_unique<Impl::Entry>();
  entry->alarm = alarm;
  entry->statistic = std::move(statistic);
  entry->generation = impl_->next_generation++;

  AlarmHistoryItem item;
  item.alarm_name = alarm.name;
  item.timestamp_ms = now;
  item.type = "ConfigurationUpdate";
  item.summary = fmt::format("Alarm \"{}\" {}", alarm.name, original ? "updated" : "created");
  item.data =
      configuration_data(original ? "Update" : "Create", alarm, original ? &*original : nullptr);
  Status recorded = co_await impl_->add_history(std::move(item));
  (void)recorded;  // the alarm is stored, and add_history logs its own failure
  co_return ok_status();
}

Task<Status> AlarmEngine::remove(std::vector<std::string> names) {
  auto guard = co_await impl_->mutex.lock();
  for (const auto& name : names) {
    if (!impl_->alarms.contains(name)) {
      co_return make_error(Errc::not_found, fmt::format("alarm {} does not exist", name));
    }
  }
  for (const auto& name : names) {
    auto found = impl_->alarms.find(name);
    if (found == impl_->alarms.end()) continue;  // named twice
    Status removed = co_await impl_->documents.remove(kAlarmCollection, name);
    if (!removed.ok()) co_return removed;
    MetricAlarm alarm = std::move(found->second->alarm);
    impl_->alarms.erase(found);

    // The history of a deleted alarm stays readable until it is trimmed, as on CloudWatch.
    AlarmHistoryItem item;
    item.alarm_name = name;
    item.timestamp_ms = impl_->now_ms();
    item.type = "ConfigurationUpdate";
    item.summary = fmt::format("Alarm \"{}\" deleted", name);
    item.data = configuration_data("Delete", alarm, nullptr);
    Status recorded = co_await impl_->add_history(std::move(item));
    (void)recorded;
  }
  co_return ok_status();
}

Task<Status> AlarmEngine::set_state(std::string name, AlarmState state, std::string reason,
                                    std::string reason_data) {
  auto guard = co_await impl_->mutex.lock();
  auto found = impl_->alarms.find(name);
  if (found == impl_->alarms.end()) {
    co_return make_error(Errc::not_found, fmt::format("alarm {} does not exist", name));
  }
  Impl::Entry& entry = *found->second;
  entry.generation = impl_->next_generation++;
  co_return co_await impl_->change_state(entry, state, std::move(reason), std::move(reason_data));
}

std::vector<const MetricAlarm*> AlarmEngine::alarms() const {
  std::vector<const MetricAlarm*> out;
  out.reserve(impl_->alarms.size());
  for (const auto& [name, entry] : impl_->alarms) out.push_back(&entry->alarm);
  return out;
}

const MetricAlarm* AlarmEngine::find(std::string_view name) const {
  auto found = impl_->alarms.find(name);
  return found == impl_->alarms.end() ? nullptr : &found->second->alarm;
}

std::vector<AlarmHistoryItem> AlarmEngine::history(std::string_view name) const {
  std::vector<const Impl::StoredItem*> selected;
  for (const auto& [alarm_name, items] : impl_->history) {
    if (!name.empty() && alarm_name != name) continue;
    for (const auto& stored : items) selected.push_back(&stored);
  }
  // Newest first; keys break ties between items of the same millisecond by write order.
  std::sort(selected.begin(), selected.end(), [](const auto* a, const auto* b) {
    if (a->item.timestamp_ms != b->item.timestamp_ms) {
      return a->item.timestamp_ms > b->item.timestamp_ms;
    }
    return a->key > b->key;
  });
  std::vector<AlarmHistoryItem> out;
  out.reserve(selected.size());
  for (const auto* stored : selected) out.push_back(stored->item);
  return out;
}

Task<void> AlarmEngine::evaluate_all() {
  Status flushed = co_await impl_->metrics.flush();
  if (!flushed.ok()) {
    LOG_WARN("alarms", "flush_failed", "error=\"{}\"", flushed.error().message);
  }
  const std::int64_t now_s = impl_->now_ms() / 1000;
  std::vector<std::pair<std::string, std::int64_t>> due;
  for (const auto& [name, entry] : impl_->alarms) {
    std::int64_t step = entry->alarm.period_s < 60 ? entry->alarm.period_s : 60;
    due.emplace_back(name, now_s / step * step);
  }
  for (auto& [name, boundary_s] : due) co_await impl_->evaluate(std::move(name), boundary_s);
}

}  // namespace lambent::metrics
