#include "lambent/services/logs/log_groups.h"

#include "lambent/base/log.h"
#include "lambent/store/log_store.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace lambent::services::logs {

namespace json = boost::json;

namespace {

constexpr std::string_view kCollection = "log_groups";

// The values of the Days shape of the CloudWatch Logs API (botocore model 2014-03-28).
constexpr std::array<int, 22> kAllowedRetention = {1,    3,    5,    7,    14,   30,  60,  90,
                                                   120,  150,  180,  365,  400,  545, 731, 1096,
                                                   1827, 2192, 2557, 2922, 3288, 3653};

}  // namespace

std::string_view function_of_group(std::string_view group_name) {
  if (!group_name.starts_with(kLambdaGroupPrefix)) return {};
  std::string_view function = group_name.substr(kLambdaGroupPrefix.size());
  if (!store::LogStore::valid_function_name(function)) return {};
  return function;
}

bool is_allowed_retention(std::int64_t days) {
  return std::find(kAllowedRetention.begin(), kAllowedRetention.end(), days) !=
         kAllowedRetention.end();
}

std::string_view allowed_retention_list() {
  return "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, "
         "2557, 2922, 3288, 3653]";
}

Status LogGroupCatalog::load() {
  auto documents = documents_.load(std::string(kCollection));
  if (!documents) return std::move(documents).error();
  for (const auto& document : *documents) {
    boost::system::error_code ec;
    json::value parsed = json::parse(document.body, ec);
    if (ec || !parsed.is_object()) {
      LOG_WARN("logs", "log_group_unreadable", "log_group={} effect=\"settings ignored\"",
               document.key);
      continue;
    }
    const auto& object = parsed.as_object();
    LogGroupSettings settings;
    if (auto* v = object.if_contains("creationTime"); v && v->is_int64()) {
      settings.creation_time_ms = v->as_int64();
    }
    if (auto* v = object.if_contains("retentionInDays"); v && v->is_int64()) {
      settings.retention_days = static_cast<int>(v->as_int64());
    }
    if (auto* v = object.if_contains("created"); v && v->is_bool()) settings.created = v->as_bool();
    groups_[document.key] = settings;
  }
  return ok_status();
}

const LogGroupSettings* LogGroupCatalog::find(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

Task<Status> LogGroupCatalog::put(std::string name, LogGroupSettings settings) {
  json::object body;
  body["creationTime"] = settings.creation_time_ms;
  if (settings.retention_days) body["retentionInDays"] = *settings.retention_days;
  body["created"] = settings.created;
  auto stored = co_await documents_.put(std::string(kCollection), name, json::serialize(body));
  if (!stored) co_return stored;
  groups_[std::move(name)] = settings;
  co_return ok_status();
}

Task<Status> LogGroupCatalog::remove(std::string name) {
  auto removed = co_await documents_.remove(std::string(kCollection), name);
  if (!removed) co_return removed;
  groups_.erase(name);
  co_return ok_status();
}

}  // namespace lambent::services::logs
