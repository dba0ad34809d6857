#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/permissions.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <regex>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kFunctionsPrefix = "/2015-03-31/functions/";
constexpr std::string_view kStatementIdPattern = "([a-zA-Z0-9-_]+)";
constexpr std::string_view kActionPattern = "(lambda:[*]|lambda:[a-zA-Z]+|[*])";

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, field, rule);
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Reads an optional string member of the AddPermission body; a non-string is a
// SerializationException.
Result<std::optional<std::string>> string_member(const json::object& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return Error{Errc::validation,
                 fmt::format("Value '{}' for {} has the wrong type",
                             json::serialize(it->value()), key),
                 "SerializationException"};
  }
  return std::optional<std::string>(std::string(it->value().as_string()));
}

// The Principal member of a statement as AWS writes it: "*", {"Service": ...} for a service
// principal, {"AWS": ...} for an account (as its root ARN) or an IAM ARN.
std::optional<json::value> render_principal(std::string_view principal,
                                            std::string_view partition) {
  if (principal == "*") return json::value("*");
  if (all_digits(principal) && principal.size() == 12) {
    return json::value(json::object{
        {"AWS", fmt::format("arn:{}:iam::{}:root", partition, principal)}});
  }
  if (principal.starts_with("arn:")) return json::value(json::object{{"AWS", principal}});
  if (principal.find('.') != std::string_view::npos &&
      principal.find_first_of(":/ ") == std::string_view::npos) {
    return json::value(json::object{{"Service", principal}});
  }
  return std::nullopt;
}

Error policy_revision_mismatch() {
  return Error{Errc::precondition_failed,
               "The Revision Id provided does not match the latest Revision Id. Call the "
               "GetPolicy API to retrieve the latest Revision Id"};
}

Error function_revision_mismatch() {
  return Error{Errc::precondition_failed,
               "The Revision Id provided does not match the latest Revision Id. Call the "
               "GetFunction/GetAlias API to retrieve the latest Revision Id"};
}

std::string qualified_arn(const invoke::Invoker& invoker, std::string_view name,
                          std::string_view qualifier) {
  std::string arn = invoker.function_arn(name);
  if (!qualifier.empty()) arn += ":" + std::string(qualifier);
  return arn;
}

// Checks that the qualifier names an existing version or alias, with AddPermission's and
// RemovePermission's messages. Returns the RevisionId of what it names.
Result<std::string> check_target(const invoke::Invoker& invoker, std::string_view name,
                                 std::string_view qualifier) {
  auto function = invoker.find(name);
  if (qualifier.empty()) return function->config.revision_id;
  std::string arn = qualified_arn(invoker, name, qualifier);
  if (all_digits(qualifier)) {
    auto version = invoker.find_version(name, qualifier);
    if (!version) return function_not_found(arn);
    return version->config.revision_id;
  }
  static const std::regex alias_re{"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"};
  if (!std::regex_match(std::string(qualifier), alias_re)) return function_not_found(arn);
  auto alias = invoker.find_alias(name, qualifier);
  if (!alias) return Error{Errc::not_found, "Cannot find alias arn: " + arn};
  return alias->revision_id;
}

std::string render_policy(const FunctionPolicy& policy) {
  json::array statements;
  for (const auto& [sid, statement] : policy.statements) statements.push_back(json::parse(statement));
  return json::serialize(json::object{
      {"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", std::move(statements)}});
}

Task<http::Response> add_permission(invoke::Invoker& invoker, PolicyCatalog& policies,
                                    AsyncMutex& mutations, const http::Request& request,
                                    FunctionRef ref, std::string request_id) {
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto sid = string_member(*body, "StatementId");
  auto action = string_member(*body, "Action");
  auto principal = string_member(*body, "Principal");
  auto source_arn = string_member(*body, "SourceArn");
  auto source_account = string_member(*body, "SourceAccount");
  auto event_source_token = string_member(*body, "EventSourceToken");
  auto org_id = string_member(*body, "PrincipalOrgID");
  auto url_auth_type = string_member(*body, "FunctionUrlAuthType");
  auto revision = string_member(*body, "RevisionId");
  for (const auto* field : {&sid, &action, &principal, &source_arn, &source_account,
                            &event_source_token, &org_id, &url_auth_type, &revision}) {
    if (!*field) co_return error_response(field->error(), request_id);
  }

  std::vector<std::string> violations;
  static const std::regex sid_re{std::string(kStatementIdPattern)};
  static const std::regex action_re{std::string(kActionPattern)};
  if (!*sid) {
    violations.push_back("Value null at 'statementId' failed to satisfy constraint: Member must "
                         "not be null");
  } else if ((*sid)->size() > 100) {
    violations.push_back(
        constraint(**sid, "statementId", "Member must have length less than or equal to 100"));
  } else if (!std::regex_match(**sid, sid_re)) {
    violations.push_back(constraint(
        **sid, "statementId",
        fmt::format("Member must satisfy regular expression pattern: {}", kStatementIdPattern)));
  }
  if (!*action) {
    violations.push_back("Value null at 'action' failed to satisfy constraint: Member must not "
                         "be null");
  } else if (!std::regex_match(**action, action_re)) {
    violations.push_back(constraint(
        **action, "action",
        fmt::format("Member must satisfy regular expression pattern: {}", kActionPattern)));
  }
  if (!*principal) {
    violations.push_back("Value null at 'principal' failed to satisfy constraint: Member must "
                         "not be null");
  }
  if (*url_auth_type && **url_auth_type != "NONE" && **url_auth_type != "AWS_IAM") {
    violations.push_back(constraint(**url_auth_type, "functionUrlAuthType",
                                    "Member must satisfy enum value set: [AWS_IAM, NONE]"));
  }
  if (!violations.empty()) {
    co_return error_response(validation_error(std::move(violations)), request_id);
  }
  auto resolved = resolve_qualifier(ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::string qualifier = resolved->value_or("");
  if (qualifier == "$LATEST") {
    co_return error_response(
        invalid_parameter("We currently do not support adding policies for $LATEST."),
        request_id);
  }

  auto guard = co_await mutations.lock();
  if (!invoker.find(ref.name)) {
    co_return error_response(function_not_found(invoker.function_arn(ref.name)), request_id);
  }
  auto target_revision = check_target(invoker, ref.name, qualifier);
  if (!target_revision) co_return error_response(target_revision.error(), request_id);

  const auto* existing = policies.find(ref.name, qualifier);
  FunctionPolicy policy;
  if (existing) policy = *existing;
  policy.function_name = ref.name;
  policy.qualifier = qualifier;
  if (*revision) {
    if (existing && **revision != existing->revision_id) {
      co_return error_response(policy_revision_mismatch(), request_id);
    }
    if (!existing && **revision != *target_revision) {
      co_return error_response(function_revision_mismatch(), request_id);
    }
  }
  for (const auto& [existing_sid, statement] : policy.statements) {
    if (existing_sid == **sid) {
      co_return error_response(
          Error{Errc::conflict,
                fmt::format("The statement id ({}) provided already exists. Please provide a "
                            "new statement id, or remove the existing statement.",
                            **sid)},
          request_id);
    }
  }
  std::string partition = "aws";
  auto rendered_principal = render_principal(**principal, partition);
  if (!rendered_principal) {
    co_return error_response(
        invalid_parameter(
            "The provided principal was invalid. Please check the principal and try again."),
        request_id);
  }

  json::object statement{
      {"Sid", **sid},
      {"Effect", "Allow"},
      {"Principal", std::move(*rendered_principal)},
      {"Action", **action},
      {"Resource", qualified_arn(invoker, ref.name, qualifier)},
  };
  json::object string_equals;
  if (*source_account) string_equals["AWS:SourceAccount"] = **source_account;
  if (*event_source_token) string_equals["lambda:EventSourceToken"] = **event_source_token;
  if (*url_auth_type) string_equals["lambda:FunctionUrlAuthType"] = **url_auth_type;
  if (*org_id) string_equals["aws:PrincipalOrgID"] = **org_id;
  json::object condition;
  if (!string_equals.empty()) condition["StringEquals"] = std::move(string_equals);
  if (*source_arn) condition["ArnLike"] = json::object{{"AWS:SourceArn", **source_arn}};
  if (auto via = body->find("InvokedViaFunctionUrl");
      via != body->end() && via->value().is_bool() && via->value().as_bool()) {
    condition["Bool"] = json::object{{"lambda:InvokedViaFunctionUrl", "true"}};
  }
  if (!condition.empty()) statement["Condition"] = std::move(condition);

  std::string statement_text = json::serialize(statement);
  policy.statements.emplace_back(**sid, statement_text);
  policy.revision_id = random_uuid();
  auto saved = co_await policies.put(std::move(policy));
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "permission_added", "function={} qualifier={} sid={}", ref.name, qualifier,
           **sid);
  co_return json_response(201, json::object{{"Statement", statement_text}}, request_id);
}

Task<http::Response> get_policy(invoke::Invoker& invoker, PolicyCatalog& policies,
                                const http::Request& request, FunctionRef ref,
                                std::string request_id) {
  auto resolved = resolve_qualifier(ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::string qualifier = resolved->value_or("");
  if (qualifier == "$LATEST") qualifier.clear();
  const auto* policy = invoker.find(ref.name) ? policies.find(ref.name, qualifier) : nullptr;
  if (!policy) {
    co_return error_response(Error{Errc::not_found, "The resource you requested does not exist."},
                             request_id);
  }
  co_return json_response(
      200, json::object{{"Policy", render_policy(*policy)}, {"RevisionId", policy->revision_id}},
      request_id);
}

Task<http::Response> remove_permission(invoke::Invoker& invoker, PolicyCatalog& policies,
                                       AsyncMutex& mutations, const http::Request& request,
                                       FunctionRef ref, std::string sid, std::string request_id) {
  auto resolved = resolve_qualifier(ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::string qualifier = resolved->value_or("");
  if (qualifier == "$LATEST") qualifier.clear();

  auto guard = co_await mutations.lock();
  if (!invoker.find(ref.name)) {
    co_return error_response(
        Error{Errc::not_found, "No policy found for: " + invoker.function_arn(ref.name)},
        request_id);
  }
  auto target_revision = check_target(invoker, ref.name, qualifier);
  if (!target_revision) co_return error_response(target_revision.error(), request_id);
  const auto* existing = policies.find(ref.name, qualifier);
  if (!existing) {
    co_return error_response(
        Error{Errc::not_found, "No policy is associated with the given resource."}, request_id);
  }
  auto revision = http::query_param(request.query(), "RevisionId");
  if (revision.found && revision.value != existing->revision_id) {
    co_return error_response(function_revision_mismatch(), request_id);
  }
  FunctionPolicy policy = *existing;
  auto it = std::find_if(policy.statements.begin(), policy.statements.end(),
                         [&sid](const auto& entry) { return entry.first == sid; });
  if (it == policy.statements.end()) {
    co_return error_response(
        Error{Errc::not_found, fmt::format("Statement {} is not found in resource policy.", sid)},
        request_id);
  }
  policy.statements.erase(it);
  policy.revision_id = random_uuid();
  auto saved = co_await policies.put(std::move(policy));
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "permission_removed", "function={} qualifier={} sid={}", ref.name,
           qualifier, sid);
  http::Response response;
  response.status = 204;
  response.header("x-amzn-RequestId", request_id);
  co_return response;
}

}  // namespace

bool is_policy_route(std::string_view path, std::string_view method) {
  if (!path.starts_with(kFunctionsPrefix)) return false;
  std::string_view rest = path.substr(kFunctionsPrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  std::string_view tail = rest.substr(slash);
  if (tail == "/policy" || tail == "/policy/") return method == "POST" || method == "GET";
  if (tail.starts_with("/policy/")) {
    std::string_view sid = tail.substr(std::string_view("/policy/").size());
    return method == "DELETE" && !sid.empty() && sid.find('/') == std::string_view::npos;
  }
  return false;
}

Task<http::Response> handle_policy(invoke::Invoker& invoker, PolicyCatalog& policies,
                                   AsyncMutex& mutations, http::Request& request,
                                   std::string request_id) {
  std::string_view rest = request.path().substr(kFunctionsPrefix.size());
  auto slash = rest.find('/');
  std::string raw_name = decode_path_segment(rest.substr(0, slash));
  std::string_view tail = rest.substr(slash);
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (request.method == "POST") {
    co_return co_await add_permission(invoker, policies, mutations, request, *ref, request_id);
  }
  if (request.method == "GET") {
    co_return co_await get_policy(invoker, policies, request, *ref, request_id);
  }
  std::string sid = decode_path_segment(tail.substr(std::string_view("/policy/").size()));
  co_return co_await remove_permission(invoker, policies, mutations, request, *ref, std::move(sid),
                                       request_id);
}

}  // namespace lambent::services::lambda
