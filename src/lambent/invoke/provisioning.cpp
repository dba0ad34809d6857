// Provisioned concurrency settings: persisted per version or alias, and applied to the runtime
// Manager's pools, which keep that many environments initialized ahead of traffic.
#include "lambent/base/log.h"
#include "lambent/invoke/invoker.h"

#include <set>

namespace lambent::invoke {

const store::ProvisionedRecord* Invoker::provisioned(std::string_view name,
                                                     std::string_view qualifier) const {
  auto it = provisioned_.find(std::make_pair(std::string(name), std::string(qualifier)));
  return it == provisioned_.end() ? nullptr : &it->second;
}

std::vector<store::ProvisionedRecord> Invoker::list_provisioned(std::string_view name) const {
  std::vector<store::ProvisionedRecord> out;
  for (const auto& [key, record] : provisioned_) {
    if (key.first == name) out.push_back(record);
  }
  return out;
}

std::int64_t Invoker::total_provisioned(std::string_view name,
                                        std::string_view except_qualifier) const {
  std::int64_t total = 0;
  for (const auto& [key, record] : provisioned_) {
    if (key.first == name && key.second != except_qualifier) total += record.requested;
  }
  return total;
}

std::int64_t Invoker::unreserved_provisioned(std::string_view except_name) const {
  std::int64_t total = 0;
  for (const auto& [key, record] : provisioned_) {
    if (key.first == except_name || limiter_.reserved(key.first)) continue;
    total += record.requested;
  }
  return total;
}

std::shared_ptr<const runtime::FunctionSpec> Invoker::provisioned_target(
    std::string_view name, std::string_view qualifier) const {
  std::string version(qualifier);
  if (auto alias = find_alias(name, qualifier)) version = alias->function_version;
  if (version == "$LATEST") return nullptr;
  return find_version(name, version);
}

std::uint64_t Invoker::provisioned_memory_mb(std::string_view except_name,
                                             std::string_view except_qualifier) const {
  std::uint64_t total = 0;
  for (const auto& [key, record] : provisioned_) {
    if (key.first == except_name && key.second == except_qualifier) continue;
    auto spec = provisioned_target(key.first, key.second);
    if (!spec) continue;
    total += static_cast<std::uint64_t>(record.requested) *
             static_cast<std::uint64_t>(spec->config.memory_mb);
  }
  return total;
}

runtime::ProvisionedStatus Invoker::provisioned_status(std::string_view name,
                                                       std::string_view qualifier) const {
  auto spec = provisioned_target(name, qualifier);
  if (!spec) return {};
  return manager_.provisioned_status(spec->pool_key());
}

void Invoker::apply_provisioned(const std::string& name) {
  std::map<std::string, std::pair<std::shared_ptr<const runtime::FunctionSpec>, std::size_t>>
      target_counts;
  for (const auto& record : list_provisioned(name)) {
    auto spec = provisioned_target(name, record.qualifier);
    if (!spec) {
      LOG_WARN("invoke", "provisioned_target_missing", "function={} qualifier={}", name,
               record.qualifier);
      continue;
    }
    auto& entry = target_counts[spec->pool_key()];
    entry.first = spec;
    entry.second += static_cast<std::size_t>(record.requested);
  }
  auto& applied = provisioned_pools_[name];
  for (const auto& [key, spec] : applied) {
    if (!target_counts.contains(key)) manager_.set_provisioned(spec, 0);
  }
  applied.clear();
  for (auto& [key, entry] : target_counts) {
    auto status = manager_.provisioned_status(key);
    // An unchanged, healthy target keeps its environments, and a failed one starts over.
    if (status.requested != entry.second || status.status == "FAILED") {
      manager_.set_provisioned(entry.first, entry.second);
    }
    applied[key] = entry.first;
  }
  if (applied.empty()) provisioned_pools_.erase(name);
}

Status Invoker::load_provisioned() {
  auto records = provisioned_store_->load();
  if (!records) return std::move(records).error();
  std::set<std::string> names;
  for (auto& record : *records) {
    if (!functions_.contains(record.function_name)) continue;
    names.insert(record.function_name);
    auto key = std::make_pair(record.function_name, record.qualifier);
    provisioned_[std::move(key)] = std::move(record);
  }
  for (const auto& name : names) apply_provisioned(name);
  return ok_status();
}

Task<Status> Invoker::put_provisioned(store::ProvisionedRecord record) {
  auto saved = co_await provisioned_store_->put(record);
  if (!saved) co_return saved;
  std::string name = record.function_name;
  auto key = std::make_pair(record.function_name, record.qualifier);
  provisioned_[std::move(key)] = std::move(record);
  apply_provisioned(name);
  LOG_INFO("invoke", "provisioned_concurrency_set", "function={}", name);
  co_return ok_status();
}

Task<Status> Invoker::delete_provisioned(std::string name, std::string qualifier) {
  auto key = std::make_pair(name, qualifier);
  if (!provisioned_.contains(key)) co_return ok_status();
  auto removed = co_await provisioned_store_->remove(name, qualifier);
  if (!removed) co_return removed;
  provisioned_.erase(key);
  apply_provisioned(name);
  LOG_INFO("invoke", "provisioned_concurrency_deleted", "function={} qualifier={}", name,
           qualifier);
  co_return ok_status();
}

}  // namespace lambent::invoke
