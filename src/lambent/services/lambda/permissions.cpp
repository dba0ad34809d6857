#include "lambent/services/lambda/permissions.h"

#include "lambent/base/log.h"

#include <boost/json.hpp>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

std::string document_key(std::string_view function_name, std::string_view qualifier) {
  return std::string(function_name) + ":" + std::string(qualifier);
}

std::string encode(const FunctionPolicy& policy) {
  json::array statements;
  for (const auto& [sid, statement] : policy.statements) {
    statements.push_back(json::object{{"sid", sid}, {"statement", statement}});
  }
  return json::serialize(json::object{{"function_name", policy.function_name},
                                      {"qualifier", policy.qualifier},
                                      {"revision_id", policy.revision_id},
                                      {"statements", std::move(statements)}});
}

Result<FunctionPolicy> decode(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return Error{Errc::internal, "not a JSON object"};
  const auto* object = value.if_object();
  const auto* name = object->if_contains("function_name");
  const auto* qualifier = object->if_contains("qualifier");
  const auto* revision = object->if_contains("revision_id");
  const auto* statements = object->if_contains("statements");
  if (!name || !name->is_string() || !qualifier || !qualifier->is_string() || !revision ||
      !revision->is_string() || !statements || !statements->is_array()) {
    return Error{Errc::internal, "function_name, qualifier, revision_id or statements missing"};
  }
  FunctionPolicy policy;
  policy.function_name = std::string(name->as_string());
  policy.qualifier = std::string(qualifier->as_string());
  policy.revision_id = std::string(revision->as_string());
  for (const auto& item : statements->as_array()) {
    const auto* entry = item.if_object();
    if (!entry) continue;
    const auto* sid = entry->if_contains("sid");
    const auto* statement = entry->if_contains("statement");
    if (!sid || !sid->is_string() || !statement || !statement->is_string()) continue;
    policy.statements.emplace_back(std::string(sid->as_string()),
                                   std::string(statement->as_string()));
  }
  return policy;
}

}  // namespace

PolicyCatalog::PolicyCatalog(store::DocumentStore& documents) : documents_(documents) {}

Status PolicyCatalog::load() {
  auto documents = documents_.load(std::string(kCollection));
  if (!documents) return documents.error();
  for (const auto& document : *documents) {
    auto policy = decode(document.body);
    if (!policy) {
      LOG_WARN("lambda", "function_policy_skipped", "key={} error=\"{}\"", document.key,
               policy.error().message);
      continue;
    }
    auto key = std::make_pair(policy->function_name, policy->qualifier);
    policies_[std::move(key)] = std::move(*policy);
  }
  return ok_status();
}

const FunctionPolicy* PolicyCatalog::find(std::string_view function_name,
                                          std::string_view qualifier) const {
  auto it = policies_.find(std::make_pair(std::string(function_name), std::string(qualifier)));
  return it == policies_.end() ? nullptr : &it->second;
}

Task<Status> PolicyCatalog::put(FunctionPolicy policy) {
  std::string key = document_key(policy.function_name, policy.qualifier);
  auto map_key = std::make_pair(policy.function_name, policy.qualifier);
  if (policy.statements.empty()) {
    auto removed = co_await documents_.remove(std::string(kCollection), std::move(key));
    if (!removed) co_return removed;
    policies_.erase(map_key);
    co_return ok_status();
  }
  auto saved = co_await documents_.put(std::string(kCollection), std::move(key), encode(policy));
  if (!saved) co_return saved;
  policies_[std::move(map_key)] = std::move(policy);
  co_return ok_status();
}

Task<Status> PolicyCatalog::remove_function(std::string function_name) {
  std::vector<std::string> qualifiers;
  for (auto it = policies_.lower_bound(std::make_pair(function_name, std::string()));
       it != policies_.end() && it->first.first == function_name; ++it) {
    qualifiers.push_back(it->first.second);
  }
  for (const auto& qualifier : qualifiers) {
    auto removed =
        co_await documents_.remove(std::string(kCollection), document_key(function_name, qualifier));
    if (!removed) co_return removed;
    policies_.erase(std::make_pair(function_name, qualifier));
  }
  co_return ok_status();
}

}  // namespace lambent::services::lambda
