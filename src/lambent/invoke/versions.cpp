// Invoker members for published versions and aliases, and qualifier resolution.
#include "lambent/invoke/versions.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/invoke/invoker.h"

#include <fmt/format.h>

#include <charconv>

namespace lambent::invoke {

bool is_version_number(std::string_view qualifier) {
  if (qualifier.empty()) return false;
  for (char c : qualifier) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view pick_alias_version(const store::AliasRecord& alias, double draw) {
  if (alias.additional_version && draw < alias.additional_version->second) {
    return alias.additional_version->first;
  }
  return alias.function_version;
}

namespace {

std::optional<int> parse_version(std::string_view text) {
  // Version numbers have no leading zeros: "01" names no version, so it cannot reach version 1
  // past the checks that use the canonical "1".
  if (!is_version_number(text) || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

}  // namespace

std::shared_ptr<runtime::FunctionSpec> Invoker::make_version_spec(int number,
                                                                  store::FunctionRecord config) {
  auto family = runtime::runtime_family(config.runtime);
  auto spec = std::make_shared<runtime::FunctionSpec>();
  spec->function_arn = function_arn(config.name);
  spec->version = std::to_string(number);
  spec->code_dir = code_.tree_path(config.code_sha256_hex);
  spec->family = family ? *family : runtime::RuntimeFamily::python;
  // A version never changes, so its pool keeps one generation for its lifetime.
  spec->generation = next_generation_++;
  spec->config = std::move(config);
  return spec;
}

Status Invoker::load_versions() {
  auto loaded = version_store_->load();
  if (!loaded) return std::move(loaded).error();
  std::size_t version_count = 0;
  for (auto& version : loaded->versions) {
    std::string name = version.config.name;
    if (!functions_.contains(name)) continue;  // skipped at load, as its $LATEST was
    if (auto tree = code_.ensure_tree(version.config.code_sha256_hex); !tree) {
      LOG_ERROR("invoke", "code_missing", "function={} version={} sha256={} error=\"{}\"", name,
                version.number, version.config.code_sha256_hex, tree.error().message);
    }
    published_[name].versions[version.number] =
        make_version_spec(version.number, std::move(version.config));
    ++version_count;
  }
  for (auto& alias : loaded->aliases) {
    if (!functions_.contains(alias.function_name)) continue;
    std::string name = alias.function_name;
    std::string alias_name = alias.name;
    published_[name].aliases[alias_name] = std::move(alias);
  }
  for (auto& state : loaded->states) {
    if (!functions_.contains(state.function_name)) continue;
    auto& published = published_[state.function_name];
    published.last_version = state.last_version;
    published.published_revision = std::move(state.published_revision);
  }
  LOG_INFO("invoke", "versions_loaded", "versions={} aliases={}", version_count,
           loaded->aliases.size());
  return ok_status();
}

Result<Resolved> Invoker::lookup(std::string_view name, std::optional<std::string_view> qualifier,
                                 bool route) const {
  std::string arn = function_arn(name);
  if (qualifier) arn += ":" + std::string(*qualifier);
  auto not_found = [&arn]() { return make_error(Errc::not_found, "Function not found: " + arn); };

  auto latest = find(name);
  if (!latest) return not_found();
  if (!qualifier || *qualifier == "$LATEST") return Resolved{latest, arn, ""};

  auto published = published_.find(name);
  if (auto number = parse_version(*qualifier)) {
    if (published == published_.end()) return not_found();
    auto version = published->second.versions.find(*number);
    if (version == published->second.versions.end()) return not_found();
    return Resolved{version->second, arn, ""};
  }
  if (published == published_.end()) return not_found();
  auto alias = published->second.aliases.find(*qualifier);
  if (alias == published->second.aliases.end()) return not_found();

  std::string_view target = alias->second.function_version;
  if (route && alias->second.additional_version) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    target = pick_alias_version(alias->second, uniform(routing_random_));
  }
  auto spec = target == "$LATEST" ? latest : find_version(name, target);
  if (!spec) {
    // Deleting a version an alias points at is rejected, so this means a damaged store.
    LOG_ERROR("invoke", "alias_target_missing", "function={} alias={} version={}", name,
              alias->first, target);
    return not_found();
  }
  return Resolved{spec, arn, alias->first};
}

Result<Resolved> Invoker::resolve(std::string_view name,
                                  std::optional<std::string_view> qualifier) const {
  return lookup(name, qualifier, true);
}

Result<Resolved> Invoker::describe(std::string_view name,
                                   std::optional<std::string_view> qualifier) const {
  return lookup(name, qualifier, false);
}

bool Invoker::qualifier_exists(std::string_view name, std::string_view qualifier) const {
  return lookup(name, qualifier, false).ok();
}

std::shared_ptr<const runtime::FunctionSpec> Invoker::find_version(std::string_view name,
                                                                   std::string_view version) const {
  auto number = parse_version(version);
  auto published = published_.find(name);
  if (!number || published == published_.end()) return nullptr;
  auto it = published->second.versions.find(*number);
  return it == published->second.versions.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const runtime::FunctionSpec>> Invoker::list_versions(
    std::string_view name) const {
  std::vector<std::shared_ptr<const runtime::FunctionSpec>> out;
  auto published = published_.find(name);
  if (published == published_.end()) return out;
  for (const auto& [number, spec] : published->second.versions) out.push_back(spec);
  return out;
}

Task<Result<std::shared_ptr<const runtime::FunctionSpec>>> Invoker::publish(
    std::string name, std::optional<std::string> description) {
  auto latest = find(name);
  if (!latest) co_return make_error(Errc::not_found, "Function not found: " + function_arn(name));
  auto& published = published_[name];
  // Publishing an unchanged $LATEST again returns the version it was published as.
  if (!published.versions.empty() && published.published_revision == latest->config.revision_id) {
    auto newest = published.versions.rbegin();
    if (newest->first == published.last_version) co_return newest->second;
  }

  int number = published.last_version + 1;
  store::FunctionRecord version_config = latest->config;
  version_config.revision_id = random_uuid();
  if (description) version_config.description = std::move(*description);
  store::FunctionRecord latest_config = latest->config;
  latest_config.revision_id = random_uuid();

  std::string latest_revision = latest_config.revision_id;
  store::PublishedVersion version{number, version_config};
  auto saved = co_await version_store_->publish(std::move(version), latest_config);
  if (!saved) co_return std::move(saved).error();

  // $LATEST keeps its generation: only its RevisionId changed, so its environments stay.
  auto updated_latest = std::make_shared<runtime::FunctionSpec>(*latest);
  updated_latest->config = std::move(latest_config);
  functions_[name] = updated_latest;

  auto& state = published_[name];
  auto spec = make_version_spec(number, std::move(version_config));
  state.versions[number] = spec;
  state.last_version = number;
  state.published_revision = std::move(latest_revision);
  LOG_INFO("invoke", "version_published", "function={} version={}", name, number);
  co_return std::shared_ptr<const runtime::FunctionSpec>(spec);
}

Task<Status> Invoker::delete_version(std::string name, std::string version) {
  auto number = parse_version(version);
  if (!number) co_return make_error(Errc::invalid_parameter, "invalid version " + version);
  auto removed = co_await version_store_->delete_version(name, *number);
  if (!removed) co_return removed;
  if (auto published = published_.find(name); published != published_.end()) {
    published->second.versions.erase(*number);
  }
  // A version's provisioned setting and event invoke config go with it.
  if (auto dropped = co_await delete_provisioned(name, version); !dropped) co_return dropped;
  if (auto dropped = co_await delete_event_invoke_config(name, version); !dropped) {
    co_return dropped;
  }
  manager_.retire(name, version);
  LOG_INFO("invoke", "version_deleted", "function={} version={}", name, version);
  co_return ok_status();
}

std::optional<store::AliasRecord> Invoker::find_alias(std::string_view name,
                                                      std::string_view alias) const {
  auto published = published_.find(name);
  if (published == published_.end()) return std::nullopt;
  auto it = published->second.aliases.find(alias);
  if (it == published->second.aliases.end()) return std::nullopt;
  return it->second;
}

std::vector<store::AliasRecord> Invoker::list_aliases(std::string_view name) const {
  std::vector<store::AliasRecord> out;
  auto published = published_.find(name);
  if (published == published_.end()) return out;
  for (const auto& [alias_name, alias] : published->second.aliases) out.push_back(alias);
  return out;
}

Task<Status> Invoker::put_alias(store::AliasRecord alias) {
  auto saved = co_await version_store_->put_alias(alias);
  if (!saved) co_return saved;
  std::string name = alias.function_name;
  std::string alias_name = alias.name;
  published_[name].aliases[alias_name] = std::move(alias);
  // Provisioned environments of the alias move to its new version.
  if (provisioned(name, alias_name)) apply_provisioned(name);
  co_return ok_status();
}

Task<Status> Invoker::delete_alias(std::string name, std::string alias) {
  auto removed = co_await version_store_->delete_alias(name, alias);
  if (!removed) co_return removed;
  if (auto published = published_.find(name); published != published_.end()) {
    published->second.aliases.erase(alias);
  }
  // An alias's provisioned setting and event invoke config go with it.
  if (auto dropped = co_await delete_event_invoke_config(name, alias); !dropped) {
    co_return dropped;
  }
  co_return co_await delete_provisioned(std::move(name), std::move(alias));
}

bool Invoker::code_in_use(std::string_view sha256_hex) const {
  for (const auto& [name, spec] : functions_) {
    if (spec->config.code_sha256_hex == sha256_hex) return true;
  }
  for (const auto& [name, published] : published_) {
    for (const auto& [number, spec] : published.versions) {
      if (spec->config.code_sha256_hex == sha256_hex) return true;
    }
  }
  return false;
}

}  // namespace lambent::invoke
