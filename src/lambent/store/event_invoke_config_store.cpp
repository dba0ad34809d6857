#include "lambent/store/event_invoke_config_store.h"

#include <boost/json.hpp>
#include <sqlite3.h>

namespace lambent::store {

namespace json = boost::json;

namespace {
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS event_invoke_configs (
  function_name TEXT NOT NULL,
  qualifier TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (function_name, qualifier)
);
)sql";
}  // namespace

Status EventInvokeConfigStore::create_schema(sqlite3* h) { return exec(h, kSchema); }

Status EventInvokeConfigStore::delete_function_configs(sqlite3* h,
                                                       std::string_view function_name) {
  Statement st(h, "DELETE FROM event_invoke_configs WHERE function_name = ?1");
  st.bind(1, function_name);
  st.step();
  if (st.failed()) return st.error();
  return ok_status();
}

std::string encode_event_invoke_config(const EventInvokeConfig& config) {
  json::object o{
      {"on_success", config.on_success},
      {"on_failure", config.on_failure},
      {"last_modified_ms", config.last_modified_ms},
  };
  if (config.maximum_retry_attempts) {
    o["maximum_retry_attempts"] = *config.maximum_retry_attempts;
  }
  if (config.maximum_event_age_seconds) {
    o["maximum_event_age_seconds"] = *config.maximum_event_age_seconds;
  }
  return json::serialize(o);
}

Result<EventInvokeConfig> decode_event_invoke_config(std::string_view function_name,
                                                     std::string_view qualifier,
                                                     std::string_view text) {
  boost::system::error_code ec;
  auto value = json::parse(text, ec);
  if (ec || !value.is_object()) return make_error(Errc::io, "corrupt event invoke config");
  const auto& o = value.as_object();
  EventInvokeConfig config;
  config.function_name = function_name;
  config.qualifier = qualifier;
  try {
    config.on_success = json::value_to<std::string>(o.at("on_success"));
    config.on_failure = json::value_to<std::string>(o.at("on_failure"));
    config.last_modified_ms = json::value_to<std::int64_t>(o.at("last_modified_ms"));
    if (const auto* retries = o.if_contains("maximum_retry_attempts")) {
      config.maximum_retry_attempts = json::value_to<int>(*retries);
    }
    if (const auto* age = o.if_contains("maximum_event_age_seconds")) {
      config.maximum_event_age_seconds = json::value_to<int>(*age);
    }
  } catch (const std::exception& e) {
    return make_error(Errc::io, std::string("corrupt event invoke config: ") + e.what());
  }
  return config;
}

Result<std::vector<EventInvokeConfig>> EventInvokeConfigStore::load_all() {
  return db_.call_blocking([](sqlite3* h) -> Result<std::vector<EventInvokeConfig>> {
    Statement st(h,
                 "SELECT function_name, qualifier, config FROM event_invoke_configs "
                 "ORDER BY function_name, qualifier");
    std::vector<EventInvokeConfig> out;
    while (st.step()) {
      auto config = decode_event_invoke_config(st.column_text(0), st.column_text(1),
                                               st.column_text(2));
      if (!config) return std::move(config).error();
      out.push_back(std::move(config).value());
    }
    if (st.failed()) return st.error();
    return out;
  });
}

Task<Status> EventInvokeConfigStore::put(EventInvokeConfig config) {
  std::string text = encode_event_invoke_config(config);
  auto job = [name = std::move(config.function_name), qualifier = std::move(config.qualifier),
              text = std::move(text)](sqlite3* h) -> Status {
    Statement st(h,
                 "INSERT INTO event_invoke_configs (function_name, qualifier, config) "
                 "VALUES (?1, ?2, ?3) ON CONFLICT(function_name, qualifier) "
                 "DO UPDATE SET config = excluded.config");
    st.bind(1, name).bind(2, qualifier).bind(3, text);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

Task<Status> EventInvokeConfigStore::remove(std::string function_name, std::string qualifier) {
  auto job = [name = std::move(function_name),
              qualifier = std::move(qualifier)](sqlite3* h) -> Status {
    Statement st(h,
                 "DELETE FROM event_invoke_configs WHERE function_name = ?1 AND qualifier = ?2");
    st.bind(1, name).bind(2, qualifier);
    st.step();
    if (st.failed()) return st.error();
    return ok_status();
  };
  co_return co_await db_.call<Unit>(std::move(job));
}

}  // namespace lambent::store
