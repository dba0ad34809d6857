#include "lambent/services/lambda/function_urls.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <ctime>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

json::array to_array(const std::vector<std::string>& values) {
  json::array out;
  for (const auto& value : values) out.emplace_back(value);
  return out;
}

json::object encode(const FunctionUrlConfig& config) {
  json::object out{
      {"url_id", config.url_id},
      {"function_name", config.function_name},
      {"qualifier", config.qualifier},
      {"auth_type", config.auth_type},
      {"creation_time", config.creation_time},
      {"last_modified_time", config.last_modified_time},
  };
  if (config.invoke_mode) out["invoke_mode"] = *config.invoke_mode;
  if (config.cors) {
    const auto& cors = *config.cors;
    json::object stored;
    if (cors.allow_credentials) stored["allow_credentials"] = *cors.allow_credentials;
    if (cors.allow_headers) stored["allow_headers"] = to_array(*cors.allow_headers);
    if (cors.allow_methods) stored["allow_methods"] = to_array(*cors.allow_methods);
    if (cors.allow_origins) stored["allow_origins"] = to_array(*cors.allow_origins);
    if (cors.expose_headers) stored["expose_headers"] = to_array(*cors.expose_headers);
    if (cors.max_age) stored["max_age"] = *cors.max_age;
    out["cors"] = std::move(stored);
  }
  return out;
}

std::optional<std::vector<std::string>> string_list(const json::object& object,
                                                    std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : it->value().as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string string_member(const json::object& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

Result<FunctionUrlConfig> decode(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return Error{Errc::internal, "not a JSON object"};
  const auto& object = value.as_object();

  FunctionUrlConfig config;
  config.url_id = string_member(object, "url_id");
  config.function_name = string_member(object, "function_name");
  config.qualifier = string_member(object, "qualifier");
  config.auth_type = string_member(object, "auth_type");
  config.creation_time = string_member(object, "creation_time");
  config.last_modified_time = string_member(object, "last_modified_time");
  if (config.url_id.empty() || config.function_name.empty() || config.auth_type.empty()) {
    return Error{Errc::internal, "url_id, function_name or auth_type missing"};
  }
  if (auto mode = string_member(object, "invoke_mode"); !mode.empty()) config.invoke_mode = mode;

  if (auto it = object.find("cors"); it != object.end() && it->value().is_object()) {
    const auto& stored = it->value().as_object();
    FunctionUrlCors cors;
    if (auto c = stored.find("allow_credentials"); c != stored.end() && c->value().is_bool()) {
      cors.allow_credentials = c->value().as_bool();
    }
    cors.allow_headers = string_list(stored, "allow_headers");
    cors.allow_methods = string_list(stored, "allow_methods");
    cors.allow_origins = string_list(stored, "allow_origins");
    cors.expose_headers = string_list(stored, "expose_headers");
    if (auto m = stored.find("max_age"); m != stored.end() && m->value().is_int64()) {
      cors.max_age = m->value().as_int64();
    }
    config.cors = std::move(cors);
  }
  return config;
}

}  // namespace

std::string function_url_timestamp_now() {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     micros % 1000000);
}

FunctionUrlCatalog::FunctionUrlCatalog(store::DocumentStore& documents) : documents_(documents) {}

Status FunctionUrlCatalog::load() {
  auto documents = documents_.load(std::string(kCollection));
  if (!documents) return documents.error();
  for (const auto& document : *documents) {
    auto config = decode(document.body);
    if (!config) {
      LOG_WARN("lambda", "function_url_skipped", "url_id={} error=\"{}\"", document.key,
               config.error().message);
      continue;
    }
    auto shared = std::make_shared<const FunctionUrlConfig>(std::move(*config));
    by_function_[{shared->function_name, shared->qualifier}] = shared;
    by_url_id_[shared->url_id] = shared;
  }
  return ok_status();
}

void FunctionUrlCatalog::set_endpoint(std::string region, std::uint16_t port) {
  region_ = std::move(region);
  port_ = port;
}

std::string FunctionUrlCatalog::function_url(const FunctionUrlConfig& config) const {
  return fmt::format("http://{}.lambda-url.{}.localhost:{}/", config.url_id, region_, port_);
}

std::shared_ptr<const FunctionUrlConfig> FunctionUrlCatalog::find(
    std::string_view function_name, std::string_view qualifier) const {
  auto it = by_function_.find(std::make_pair(std::string(function_name), std::string(qualifier)));
  return it == by_function_.end() ? nullptr : it->second;
}

std::shared_ptr<const FunctionUrlConfig> FunctionUrlCatalog::find_by_url_id(
    std::string_view url_id) const {
  auto it = by_url_id_.find(url_id);
  return it == by_url_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const FunctionUrlConfig>> FunctionUrlCatalog::list(
    std::string_view function_name) const {
  std::vector<std::shared_ptr<const FunctionUrlConfig>> out;
  // Keys sort by name, then qualifier, and the unqualified config's empty qualifier first.
  for (auto it = by_function_.lower_bound(std::make_pair(std::string(function_name), std::string()));
       it != by_function_.end() && it->first.first == function_name; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Task<Status> FunctionUrlCatalog::put(FunctionUrlConfig config) {
  std::string body = json::serialize(encode(config));
  auto saved = co_await documents_.put(std::string(kCollection), config.url_id, std::move(body));
  if (!saved) co_return saved;
  auto shared = std::make_shared<const FunctionUrlConfig>(std::move(config));
  by_function_[{shared->function_name, shared->qualifier}] = shared;
  by_url_id_[shared->url_id] = shared;
  co_return ok_status();
}

Task<Status> FunctionUrlCatalog::remove(std::string function_name, std::string qualifier) {
  auto existing = find(function_name, qualifier);
  if (!existing) co_return ok_status();
  auto removed = co_await documents_.remove(std::string(kCollection), existing->url_id);
  if (!removed) co_return removed;
  by_function_.erase(std::make_pair(function_name, qualifier));
  by_url_id_.erase(existing->url_id);
  co_return ok_status();
}

Task<Status> FunctionUrlCatalog::remove_function(std::string function_name) {
  for (const auto& config : list(function_name)) {
    auto removed = co_await remove(config->function_name, config->qualifier);
    if (!removed) co_return removed;
  }
  co_return ok_status();
}

std::string FunctionUrlCatalog::new_url_id() const {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  while (true) {
    std::string hex = random_hex(32);
    std::string id;
    id.reserve(32);
    for (std::size_t i = 0; i < 32; ++i) {
      auto byte = std::stoi(hex.substr(2 * i, 2), nullptr, 16);
      id.push_back(kAlphabet[static_cast<std::size_t>(byte) % kAlphabet.size()]);
    }
    if (!by_url_id_.contains(id)) return id;
  }
}

}  // namespace lambent::services::lambda
