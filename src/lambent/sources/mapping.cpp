#include "lambent/sources/mapping.h"

#include "lambent/base/log.h"

#include <boost/json.hpp>

namespace lambent::sources {

namespace json = boost::json;

std::string to_document(const EventSourceMapping& mapping) {
  json::array patterns;
  for (const auto& pattern : mapping.filter_patterns) patterns.emplace_back(pattern);
  json::object document{
      {"uuid", mapping.uuid},
      {"event_source_arn", mapping.event_source_arn},
      {"function_name", mapping.function_name},
      {"qualifier", mapping.qualifier},
      {"function_arn", mapping.function_arn},
      {"batch_size", mapping.batch_size},
      {"maximum_batching_window_seconds", mapping.maximum_batching_window_seconds},
      {"enabled", mapping.enabled},
      {"filter_patterns", std::move(patterns)},
      {"report_batch_item_failures", mapping.report_batch_item_failures},
      {"last_modified", mapping.last_modified},
  };
  if (mapping.maximum_concurrency) document["maximum_concurrency"] = *mapping.maximum_concurrency;
  return json::serialize(document);
}

Result<EventSourceMapping> from_document(std::string_view text) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    return make_error(Errc::invalid_content, "event source mapping document is not a JSON object");
  }
  const auto& object = parsed.as_object();
  EventSourceMapping mapping;
  try {
    mapping.uuid = json::value_to<std::string>(object.at("uuid"));
    mapping.event_source_arn = json::value_to<std::string>(object.at("event_source_arn"));
    mapping.function_name = json::value_to<std::string>(object.at("function_name"));
    mapping.qualifier = json::value_to<std::string>(object.at("qualifier"));
    mapping.function_arn = json::value_to<std::string>(object.at("function_arn"));
    mapping.batch_size = object.at("batch_size").to_number<std::int64_t>();
    mapping.maximum_batching_window_seconds =
        object.at("maximum_batching_window_seconds").to_number<std::int64_t>();
    mapping.enabled = object.at("enabled").as_bool();
    for (const auto& pattern : object.at("filter_patterns").as_array()) {
      mapping.filter_patterns.push_back(json::value_to<std::string>(pattern));
    }
    mapping.report_batch_item_failures = object.at("report_batch_item_failures").as_bool();
    mapping.last_modified = object.at("last_modified").to_number<double>();
    if (const auto* concurrency = object.if_contains("maximum_concurrency")) {
      mapping.maximum_concurrency = concurrency->to_number<std::int64_t>();
    }
  } catch (const std::exception& e) {
    return make_error(Errc::invalid_content,
                      std::string("event source mapping document is incomplete: ") + e.what());
  }
  return mapping;
}

Status MappingCatalog::load() {
  auto documents = documents_.load(std::string(kCollection));
  if (!documents) return documents.error();
  for (const auto& document : *documents) {
    auto mapping = from_document(document.body);
    if (!mapping) {
      LOG_WARN("sources", "mapping_skipped", "uuid={} error=\"{}\"", document.key,
               mapping.error().message);
      continue;
    }
    auto uuid = mapping->uuid;
    mappings_[std::move(uuid)] = std::make_shared<const EventSourceMapping>(std::move(*mapping));
  }
  return ok_status();
}

std::shared_ptr<const EventSourceMapping> MappingCatalog::find(std::string_view uuid) const {
  auto it = mappings_.find(uuid);
  return it == mappings_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const EventSourceMapping>> MappingCatalog::list() const {
  std::vector<std::shared_ptr<const EventSourceMapping>> out;
  out.reserve(mappings_.size());
  for (const auto& [uuid, mapping] : mappings_) out.push_back(mapping);
  return out;
}

Task<Status> MappingCatalog::put(EventSourceMapping mapping) {
  std::string uuid = mapping.uuid;
  auto stored = co_await documents_.put(std::string(kCollection), uuid, to_document(mapping));
  if (!stored) co_return stored;
  mappings_[uuid] = std::make_shared<const EventSourceMapping>(std::move(mapping));
  if (observer_) observer_(uuid);
  co_return ok_status();
}

Task<Status> MappingCatalog::remove(std::string uuid) {
  auto removed = co_await documents_.remove(std::string(kCollection), uuid);
  if (!removed) co_return removed;
  mappings_.erase(uuid);
  if (observer_) observer_(uuid);
  co_return ok_status();
}

}  // namespace lambent::sources
