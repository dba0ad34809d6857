#include "lambent/sources/queue_poller.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/patterns/event_pattern.h"

#include <boost/json.hpp>

#include <algorithm>
#include <unordered_set>

namespace lambent::sources {

namespace json = boost::json;

namespace {

// A batch stops growing once its bodies pass this size, so the event stays under the 6 MB
// limit of a synchronous invocation with room for ten more messages of 256 KiB.
constexpr std::size_t kBatchBodyBytes = 3 * 1024 * 1024;

json::object message_attributes(const QueueMessage& message) {
  json::object out;
  for (const auto& attribute : message.attributes) {
    json::object value;
    if (attribute.data_type.starts_with("Binary")) {
      value["binaryValue"] = base64_encode(attribute.binary_value);
    } else {
      value["stringValue"] = attribute.string_value;
    }
    value["stringListValues"] = json::array();
    value["binaryListValues"] = json::array();
    value["dataType"] = attribute.data_type;
    out[attribute.name] = std::move(value);
  }
  return out;
}

}  // namespace

Result<patterns::FilterCriteria> compile_filters(const std::vector<std::string>& filter_patterns) {
  json::array filters;
  for (const auto& pattern : filter_patterns) filters.push_back(json::object{{"Pattern", pattern}});
  return patterns::FilterCriteria::parse(json::object{{"Filters", std::move(filters)}},
                                         patterns::FilterSource::sqs);
}

json::object sqs_record(const QueueMessage& message, std::string_view queue_arn,
                        std::string_view region) {
  json::object attributes;
  for (const auto& [name, value] : message.system_attributes) attributes[name] = value;
  json::object record;
  record["messageId"] = message.message_id;
  record["receiptHandle"] = message.receipt_handle;
  record["body"] = message.body;
  record["attributes"] = std::move(attributes);
  record["messageAttributes"] = message_attributes(message);
  record["md5OfBody"] = message.md5_of_body;
  if (!message.md5_of_message_attributes.empty()) {
    record["md5OfMessageAttributes"] = message.md5_of_message_attributes;
  }
  record["eventSource"] = "aws:sqs";
  record["eventSourceARN"] = queue_arn;
  record["awsRegion"] = region;
  return record;
}

BatchVerdict read_batch_response(std::string_view payload, const std::vector<std::string>& ids) {
  BatchVerdict verdict;
  auto first = payload.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return verdict;  // an empty response
  boost::system::error_code ec;
  json::value parsed = json::parse(payload, ec);
  if (ec) {
    verdict.complete_failure = true;
    return verdict;
  }
  if (parsed.is_null()) return verdict;
  if (!parsed.is_object()) {
    verdict.complete_failure = true;
    return verdict;
  }
  const auto* failures = parsed.as_object().if_contains("batchItemFailures");
  if (failures == nullptr || failures->is_null()) return verdict;
  if (!failures->is_array()) {
    verdict.complete_failure = true;
    return verdict;
  }
  std::unordered_set<std::string_view> known(ids.begin(), ids.end());
  for (const auto& failure : failures->as_array()) {
    const json::value* id = failure.is_object() ? failure.as_object().if_contains("itemIdentifier")
                                                : nullptr;
    if (id == nullptr || !id->is_string() || id->as_string().empty() ||
        !known.contains(std::string_view(id->as_string()))) {
      verdict.complete_failure = true;
      verdict.failed_ids.clear();
      return verdict;
    }
    verdict.failed_ids.emplace_back(id->as_string());
  }
  return verdict;
}

// One enabled mapping as its pollers see it. A catalog change stops the run; a new run with the
// new configuration takes its place.
struct QueuePoller::Run {
  std::shared_ptr<const EventSourceMapping> mapping;
  patterns::FilterCriteria filter;  // empty when the mapping has no filters
  bool stopped = false;
  std::size_t pollers = 0;
  std::size_t limit = 0;
  bool receive_failing = false;  // set after a failed receive, so the warning is logged once
};

QueuePoller::QueuePoller(asio::any_io_executor executor, MappingCatalog& catalog,
                         QueueSource& queues, invoke::Invoker& invoker, PollerOptions options)
    : executor_(executor),
      catalog_(catalog),
      queues_(queues),
      invoker_(invoker),
      options_(options),
      tasks_(executor, "queue-pollers") {}

QueuePoller::~QueuePoller() { stop(); }

void QueuePoller::start() {
  started_ = true;
  catalog_.set_observer([this](const std::string& uuid) { reconcile(uuid); });
  for (const auto& mapping : catalog_.list()) reconcile(mapping->uuid);
}

void QueuePoller::stop() {
  if (!started_) return;
  started_ = false;
  catalog_.set_observer(nullptr);
  for (auto& [uuid, run] : runs_) run->stopped = true;
  runs_.clear();
  tasks_.stop();
}

std::size_t QueuePoller::pollers(std::string_view uuid) const {
  auto it = runs_.find(uuid);
  return it == runs_.end() ? 0 : it->second->pollers;
}

void QueuePoller::reconcile(const std::string& uuid) {
  if (auto it = runs_.find(uuid); it != runs_.end()) {
    it->second->stopped = true;
    runs_.erase(it);
  }
  auto mapping = catalog_.find(uuid);
  if (!mapping || !mapping->enabled || !started_) return;
  auto run = std::make_shared<Run>();
  run->mapping = mapping;
  if (!mapping->filter_patterns.empty()) {
    auto filter = compile_filters(mapping->filter_patterns);
    if (!filter) {
      LOG_ERROR("sources", "mapping_filters_invalid", "uuid={} error=\"{}\"", uuid,
                filter.error().message);
      return;
    }
    run->filter = std::move(*filter);
  }
  run->limit = mapping->maximum_concurrency
                   ? static_cast<std::size_t>(*mapping->maximum_concurrency)
                   : options_.maximum_pollers;
  runs_[uuid] = run;
  LOG_INFO("sources", "mapping_started", "uuid={} source={} function={}", uuid,
           mapping->event_source_arn, mapping->function_arn);
  tasks_.spawn(supervise(this, run), "supervise");
}

void QueuePoller::spawn_poller(const std::shared_ptr<Run>& run) {
  ++run->pollers;
  tasks_.spawn(poll(this, run), "poll");
}

Task<void> QueuePoller::supervise(QueuePoller* self, std::shared_ptr<Run> run) {
  asio::steady_timer timer(self->executor_);
  while (!run->stopped) {
    std::size_t floor = std::min(self->options_.minimum_pollers, run->limit);
    while (run->pollers < floor) self->spawn_poller(run);
    auto facts = self->queues_.describe(run->mapping->event_source_arn);
    if (facts && facts->visible_messages > 0 && run->pollers < run->limit) {
      auto per_batch = static_cast<std::size_t>(std::max<std::int64_t>(
          1, std::min<std::int64_t>(run->mapping->batch_size, 10)));
      std::size_t wanted =
          (static_cast<std::size_t>(facts->visible_messages) + per_batch - 1) / per_batch;
      std::size_t added = std::min({self->options_.scale_up_per_second, run->limit - run->pollers,
                                    wanted > run->pollers ? wanted - run->pollers : 0});
      for (std::size_t i = 0; i < added; ++i) self->spawn_poller(run);
    }
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

Task<void> QueuePoller::poll(QueuePoller* self, std::shared_ptr<Run> run) {
  struct Count {
    Run& run;
    ~Count() { --run.pollers; }
  } counted{*run};
  const auto& mapping = *run->mapping;
  const std::string arn = mapping.event_source_arn;
  const int per_receive = static_cast<int>(std::min<std::int64_t>(mapping.batch_size, 10));
  asio::steady_timer pause(self->executor_);
  // After a failed receive (the queue was deleted) the poller waits 1 s, then twice as long
  // after each further failure, up to 30 s.
  std::chrono::seconds backoff{1};
  while (!run->stopped) {
    auto received = co_await self->queues_.receive(arn, per_receive, self->options_.receive_wait);
    if (run->stopped) co_return;
    if (!received) {
      if (!run->receive_failing) {
        run->receive_failing = true;
        LOG_WARN("sources", "receive_failed", "uuid={} source={} error=\"{}\"", mapping.uuid,
                 arn, received.error().message);
      }
      pause.expires_after(backoff);
      backoff = std::min(backoff * 2, std::chrono::seconds(30));
      boost::system::error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      continue;
    }
    backoff = std::chrono::seconds(1);
    if (run->receive_failing) {
      run->receive_failing = false;
      LOG_INFO("sources", "receive_recovered", "uuid={} source={}", mapping.uuid, arn);
    }
    std::vector<QueueMessage> batch = std::move(*received);
    if (batch.empty()) {
      // Idle pollers beyond the floor end, which scales a mapping down.
      if (run->pollers > std::min(self->options_.minimum_pollers, run->limit)) co_return;
      continue;
    }
    // The batching window: keep receiving until the batch is full or the window has passed.
    if (mapping.maximum_batching_window_seconds > 0) {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::seconds(mapping.maximum_batching_window_seconds);
      std::size_t bytes = 0;
      for (const auto& message : batch) bytes += message.body.size();
      while (static_cast<std::int64_t>(batch.size()) < mapping.batch_size &&
             bytes < kBatchBodyBytes && !run->stopped) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        int want = static_cast<int>(std::min<std::int64_t>(
            10, mapping.batch_size - static_cast<std::int64_t>(batch.size())));
        auto more = co_await self->queues_.receive(arn, want, std::min(left, std::chrono::seconds(20)));
        if (!more) break;
        for (auto& message : *more) {
          bytes += message.body.size();
          batch.push_back(std::move(message));
        }
      }
    }
    co_await self->process(run, std::move(batch));
  }
}

Task<void> QueuePoller::process(std::shared_ptr<Run> run, std::vector<QueueMessage> messages) {
  const auto& mapping = *run->mapping;
  const std::string& region = invoker_.options().region;
  json::array records;
  std::vector<std::string> ids;
  std::vector<std::string> receipts;
  std::vector<std::string> filtered_out;
  for (const auto& message : messages) {
    json::object record = sqs_record(message, mapping.event_source_arn, region);
    if (!run->filter.empty()) {
      // Filters see the body parsed when it is a JSON object or array.
      json::value view = record;
      view.as_object()["body"] = patterns::parse_data_payload(message.body);
      if (!run->filter.matches(view)) {
        filtered_out.push_back(message.receipt_handle);
        continue;
      }
    }
    ids.push_back(message.message_id);
    receipts.push_back(message.receipt_handle);
    records.push_back(std::move(record));
  }
  // Messages that no filter matches are deleted, as Lambda does for queues.
  if (!filtered_out.empty()) {
    auto removed = co_await queues_.remove(mapping.event_source_arn, std::move(filtered_out));
    if (!removed) {
      LOG_WARN("sources", "delete_failed", "uuid={} error=\"{}\"", mapping.uuid,
               removed.error().message);
    }
  }
  if (records.empty()) co_return;

  std::optional<std::string_view> qualifier;
  if (!mapping.qualifier.empty()) qualifier = mapping.qualifier;
  auto resolved = invoker_.resolve(mapping.function_name, qualifier);
  if (!resolved) {
    LOG_WARN("sources", "function_unavailable", "uuid={} function={} error=\"{}\"", mapping.uuid,
             mapping.function_arn, resolved.error().message);
    co_return;
  }
  runtime::InvokeRequest request;
  request.request_id = random_uuid();
  request.invoked_function_arn = resolved->invoked_arn;
  request.payload = json::serialize(json::object{{"Records", std::move(records)}});
  auto result = co_await invoker_.invoke(resolved->spec, std::move(request));
  if (!result) {
    // Throttled or not started: the messages come back after their visibility timeout.
    LOG_DEBUG("sources", "batch_not_invoked", "uuid={} error=\"{}\"", mapping.uuid,
              result.error().message);
    co_return;
  }
  if (result->outcome != runtime::Outcome::success) co_return;
  if (mapping.report_batch_item_failures) {
    auto verdict = read_batch_response(result->payload, ids);
    if (verdict.complete_failure) co_return;
    if (!verdict.failed_ids.empty()) {
      std::unordered_set<std::string> failed(verdict.failed_ids.begin(), verdict.failed_ids.end());
      std::vector<std::string> done;
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!failed.contains(ids[i])) done.push_back(std::move(receipts[i]));
      }
      receipts = std::move(done);
    }
  }
  if (receipts.empty()) co_return;
  auto removed = co_await queues_.remove(mapping.event_source_arn, std::move(receipts));
  if (!removed) {
    LOG_WARN("sources", "delete_failed", "uuid={} error=\"{}\"", mapping.uuid,
             removed.error().message);
  }
}

}  // namespace lambent::sources
