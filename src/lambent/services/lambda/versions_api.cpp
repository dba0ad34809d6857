// PublishVersion, ListVersionsByFunction, the alias operations, and DeleteFunction of one
// version, with AWS's validation and messages.
#include "lambent/services/lambda/versions_api.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/invoke/versions.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/lambda_service.h"
#include "lambent/services/lambda/service_common.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json.hpp>

#include <cmath>
#include <regex>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kAliasPattern = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
constexpr std::string_view kVersionPattern = R"((\$LATEST(\.PUBLISHED)?|[0-9]+))";
constexpr std::size_t kMaxDescription = 256;

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, field, rule);
}

bool is_alias_name(std::string_view name) {
  static const std::regex re{std::string(kAliasPattern)};
  return std::regex_match(name.begin(), name.end(), re);
}

bool is_version_or_latest(std::string_view version) {
  static const std::regex re{std::string(kVersionPattern)};
  return std::regex_match(version.begin(), version.end(), re);
}

void check_alias_name(std::string_view name, std::vector<std::string>& errors) {
  if (name.size() > 128) {
    errors.push_back(constraint(name, "name", "Member must have length less than or equal to 128"));
  }
  if (!is_alias_name(name)) {
    errors.push_back(constraint(
        name, "name",
        fmt::format("Member must satisfy regular expression pattern: {}", kAliasPattern)));
  }
}

void check_function_version(std::string_view version, std::vector<std::string>& errors) {
  if (version.size() > 1024) {
    errors.push_back(constraint(version, "functionVersion",
                                "Member must have length less than or equal to 1024"));
  }
  if (!is_version_or_latest(version)) {
    errors.push_back(constraint(
        version, "functionVersion",
        fmt::format("Member must satisfy regular expression pattern: {}", kVersionPattern)));
  }
}

// Reads an optional string member; another JSON type is a SerializationException.
Result<std::optional<std::string>> string_member(const json::object& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) {
    return Error{Errc::validation,
                 fmt::format("Could not parse request body: {} must be a string", key),
                 "SerializationException"};
  }
  return std::optional<std::string>(std::string(it->value().as_string()));
}

void check_description(const std::optional<std::string>& description,
                       std::vector<std::string>& errors) {
  if (description && description->size() > kMaxDescription) {
    errors.push_back(constraint(*description, "description",
                                "Member must have length less than or equal to 256"));
  }
}

// A double as Java's Double.toString writes it in AWS's validation messages ("2.0", "-1.0").
std::string java_double(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e7) {
    return fmt::format("{:.1f}", value);
  }
  return fmt::format("{}", value);
}

// RoutingConfig.AdditionalVersionWeights of a request, in request order.
struct RoutingInput {
  bool present = false;
  std::vector<std::pair<std::string, double>> weights;
};

Result<RoutingInput> parse_routing(const json::object& body, std::vector<std::string>& errors) {
  RoutingInput out;
  auto it = body.find("RoutingConfig");
  if (it == body.end() || it->value().is_null()) return out;
  auto serialization = [](std::string_view what) {
    return Error{Errc::validation, fmt::format("Could not parse request body: {}", what),
                 "SerializationException"};
  };
  if (!it->value().is_object()) return serialization("RoutingConfig must be an object");

  out.present = true;
  const auto& routing = it->value().as_object();
  auto weights = routing.find("AdditionalVersionWeights");
  if (weights == routing.end() || weights->value().is_null()) return out;
  if (!weights->value().is_object()) {
    return serialization("AdditionalVersionWeights must be an object");
  }

  std::string map_text;
  bool bad_key = false;
  bool bad_value = false;
  for (const auto& [key, value] : weights->value().as_object()) {
    if (!value.is_number()) return serialization("a version weight must be a number");
    double weight = value.to_number<double>();
    std::string version(key);
    if (version.empty() || version.size() > 1024 || !invoke::is_version_number(version)) {
      bad_key = true;
    }
    if (!(weight >= 0.0 && weight <= 1.0)) bad_value = true;
    if (!map_text.empty()) map_text += ", ";
    map_text += version + "=" + java_double(weight);
    out.weights.emplace_back(std::move(version), weight);
  }

  std::string map = "{" + map_text + "}";
  if (bad_key) {
    errors.push_back(constraint(
        map, "routingConfig.additionalVersionWeights",
        "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, Member must satisfy regular "
        "expression pattern: [0-9]+]"));
  }
  if (bad_value) {
    errors.push_back(constraint(
        map, "routingConfig.additionalVersionWeights",
        "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
        "Member must have value greater than or equal to 0.0, Member must not be null]"));
  }
  return out;
}

http::Response no_content(const std::string& request_id) {
  http::Response response;
  response.status = 204;
  response.header("x-amzn-RequestId", request_id);
  return response;
}

}  // namespace

json::object render_with_arn(const runtime::FunctionSpec& spec, std::string arn,
                             std::string_view region, ConfigurationView view) {
  json::object out = render_configuration(spec, region, view);
  out["FunctionArn"] = std::move(arn);
  return out;
}

json::object render_alias(const store::AliasRecord& alias, std::string_view function_arn) {
  json::object out{
      {"AliasArn", std::string(function_arn) + ":" + alias.name},
      {"Name", alias.name},
      {"FunctionVersion", alias.function_version},
      {"Description", alias.description},
      {"RevisionId", alias.revision_id},
  };
  if (alias.additional_version) {
    json::object weights;
    weights[alias.additional_version->first] = alias.additional_version->second;
    out["RoutingConfig"] = json::object{{"AdditionalVersionWeights", std::move(weights)}};
  }
  return out;
}

Error only_latest_supported() {
  return invalid_parameter(
      "Current operation does not support versions other than $LATEST. Please set the version "
      "to $LATEST or do not set a version in your request.");
}

Task<http::Response> LambdaService::publish_version(std::string_view raw_name,
                                                    const http::Request& request,
                                                    const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto description = string_member(*body, "Description");
  if (!description) co_return error_response(description.error(), request_id);
  auto code_sha = string_member(*body, "CodeSha256");
  if (!code_sha) co_return error_response(code_sha.error(), request_id);
  std::vector<std::string> errors;
  check_description(*description, errors);
  if (!errors.empty()) co_return error_response(validation_error(errors), request_id);

  auto guard = co_await mutations_.lock();
  auto latest = invoker_.find(ref->name);
  if (!latest) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }
  if (auto revision_ok = check_revision(*body, latest->config); !revision_ok) {
    co_return error_response(revision_ok.error(), request_id);
  }
  if (*code_sha && **code_sha != latest->config.code_sha256_base64) {
    co_return error_response(
        invalid_parameter(fmt::format("CodeSHA256 ({}) is different from current CodeSHA256 in "
                                      "$LATEST ({}). Please try again with the CodeSHA256 in "
                                      "$LATEST.",
                                      **code_sha, latest->config.code_sha256_base64)),
        request_id);
  }
  std::optional<std::string> version_description = *description;
  auto published = co_await invoker_.publish(ref->name, std::move(version_description));
  if (!published) co_return error_response(published.error(), request_id);
  const auto& spec = **published;
  co_return json_response(
      201, render_with_arn(spec, spec.function_arn + ":" + spec.version, invoker_.options().region),
      request_id);
}

Task<http::Response> LambdaService::list_versions(std::string_view raw_name,
                                                  const http::Request& request,
                                                  const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto max_items = parse_max_items(request, 10000, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  auto marker = parse_marker(request);
  if (!marker) co_return error_response(marker.error(), request_id);
  auto latest = invoker_.find(ref->name);
  if (!latest) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }

  // $LATEST first, then the published versions in ascending order.
  auto specs = invoker_.list_versions(ref->name);
  specs.insert(specs.begin(), latest);
  std::size_t start = 0;
  if (!marker->empty()) {
    start = specs.size();
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i]->version == *marker) start = i + 1;
    }
  }
  auto limit = static_cast<std::size_t>(*max_items);
  json::array versions;
  std::optional<std::string> next;
  for (std::size_t i = start; i < specs.size(); ++i) {
    if (versions.size() == limit) {
      next = specs[i - 1]->version;
      break;
    }
    const auto& spec = *specs[i];
    versions.push_back(render_with_arn(spec, spec.function_arn + ":" + spec.version,
                                       invoker_.options().region, ConfigurationView::listing));
  }
  json::object out{{"Versions", std::move(versions)}};
  if (next) out["NextMarker"] = base64_encode(*next);
  co_return json_response(200, out, request_id);
}

Task<http::Response> LambdaService::delete_version(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& request_id) {
  if (!invoke::is_version_number(version)) {
    co_return error_response(invalid_parameter("Deletion of aliases is not currently supported."),
                             request_id);
  }
  auto spec = invoker_.find_version(name, version);
  // AWS returns 204 for a version number that does not exist.
  if (!spec) co_return no_content(request_id);
  std::vector<std::string> referencing;
  for (const auto& alias : invoker_.list_aliases(name)) {
    bool routes_here = alias.additional_version && alias.additional_version->first == version;
    if (alias.function_version == version || routes_here) referencing.push_back(alias.name);
  }
  if (!referencing.empty()) {
    co_return error_response(
        Error{Errc::conflict,
              fmt::format("Unable to delete version because the following aliases reference it: "
                          "[{}]",
                          fmt::join(referencing, ", "))},
        request_id);
  }
  std::string sha = spec->config.code_sha256_hex;
  auto removed = co_await invoker_.delete_version(name, version);
  if (!removed) co_return error_response(removed.error(), request_id);
  co_await release_code_if_unused(sha);
  co_return no_content(request_id);
}

namespace {

// Checks the version targets of an alias against the function's versions, in AWS's order.
Status check_alias_targets(const invoke::Invoker& invoker, const std::string& name,
                           const std::string& function_version,
                           const std::vector<std::pair<std::string, double>>& weights) {
  std::string arn = invoker.function_arn(name);
  if (weights.size() > 1) {
    return invalid_parameter(
        "Number of items in AdditionalVersionWeights cannot be greater than 1");
  }
  if (function_version == "$LATEST" && !weights.empty()) {
    return invalid_parameter(
        "$LATEST is not supported for an alias pointing to more than 1 version");
  }
  if (function_version != "$LATEST" && !invoker.find_version(name, function_version)) {
    return function_not_found(arn + ":" + function_version);
  }
  for (const auto& [version, weight] : weights) {
    if (version == function_version) {
      return invalid_parameter(fmt::format(
          "Invalid function version {0}. Function version {0} is already included in routing "
          "configuration.",
          version));
    }
    if (!invoker.find_version(name, version)) return function_not_found(arn + ":" + version);
  }
  return ok_status();
}

std::optional<std::pair<std::string, double>> additional_from(const RoutingInput& routing) {
  if (routing.weights.empty()) return std::nullopt;
  return routing.weights.front();
}

}  // namespace

Task<http::Response> LambdaService::create_alias(std::string_view raw_name,
                                                 const http::Request& request,
                                                 const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto alias_name = string_member(*body, "Name");
  if (!alias_name) co_return error_response(alias_name.error(), request_id);
  auto function_version = string_member(*body, "FunctionVersion");
  if (!function_version) co_return error_response(function_version.error(), request_id);
  auto description = string_member(*body, "Description");
  if (!description) co_return error_response(description.error(), request_id);

  std::vector<std::string> errors;
  if (!*alias_name) {
    errors.push_back("Value null at 'name' failed to satisfy constraint: Member must not be null");
  } else {
    check_alias_name(**alias_name, errors);
  }
  if (!*function_version) {
    errors.push_back(
        "Value null at 'functionVersion' failed to satisfy constraint: Member must not be null");
  } else {
    check_function_version(**function_version, errors);
  }
  check_description(*description, errors);
  auto routing = parse_routing(*body, errors);
  if (!routing) co_return error_response(routing.error(), request_id);
  if (!errors.empty()) co_return error_response(validation_error(errors), request_id);

  auto guard = co_await mutations_.lock();
  if (!invoker_.find(ref->name)) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }
  auto targets_ok = check_alias_targets(invoker_, ref->name, **function_version, routing->weights);
  if (!targets_ok) co_return error_response(targets_ok.error(), request_id);
  if (invoker_.find_alias(ref->name, **alias_name)) {
    co_return error_response(
        Error{Errc::conflict,
              "Alias already exists: " + invoker_.function_arn(ref->name) + ":" + **alias_name},
        request_id);
  }

  store::AliasRecord alias;
  alias.function_name = ref->name;
  alias.name = **alias_name;
  alias.function_version = **function_version;
  alias.description = description->value_or("");
  alias.additional_version = additional_from(*routing);
  alias.revision_id = random_uuid();
  auto saved = co_await invoker_.put_alias(alias);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "alias_created", "function={} alias={} version={}", alias.function_name,
           alias.name, alias.function_version);
  co_return json_response(201, render_alias(alias, invoker_.function_arn(ref->name)), request_id);
}

Task<http::Response> LambdaService::get_alias(std::string_view raw_name, std::string_view alias,
                                              const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  std::vector<std::string> errors;
  check_alias_name(alias, errors);
  if (!errors.empty()) co_return error_response(validation_error(errors), request_id);
  auto found = invoker_.find_alias(ref->name, alias);
  if (!found) {
    co_return error_response(
        Error{Errc::not_found, "Cannot find alias arn: " + invoker_.function_arn(ref->name) + ":" +
                                   std::string(alias)},
        request_id);
  }
  co_return json_response(200, render_alias(*found, invoker_.function_arn(ref->name)), request_id);
}

Task<http::Response> LambdaService::update_alias(std::string_view raw_name,
                                                 std::string_view alias_name,
                                                 const http::Request& request,
                                                 const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto function_version = string_member(*body, "FunctionVersion");
  if (!function_version) co_return error_response(function_version.error(), request_id);
  auto description = string_member(*body, "Description");
  if (!description) co_return error_response(description.error(), request_id);

  std::vector<std::string> errors;
  check_alias_name(alias_name, errors);
  if (*function_version) check_function_version(**function_version, errors);
  check_description(*description, errors);
  auto routing = parse_routing(*body, errors);
  if (!routing) co_return error_response(routing.error(), request_id);
  if (!errors.empty()) co_return error_response(validation_error(errors), request_id);

  auto guard = co_await mutations_.lock();
  auto found = invoker_.find_alias(ref->name, alias_name);
  if (!found) {
    co_return error_response(
        Error{Errc::not_found, "Alias not found: " + invoker_.function_arn(ref->name) + ":" +
                                   std::string(alias_name)},
        request_id);
  }
  auto revision = body->find("RevisionId");
  if (revision != body->end() && revision->value().is_string() &&
      revision->value().as_string() != found->revision_id) {
    co_return error_response(
        Error{Errc::precondition_failed,
              "The Revision Id provided does not match the latest Revision Id. Call the "
              "GetFunction/GetAlias API to retrieve the latest Revision Id"},
        request_id);
  }

  store::AliasRecord alias = *found;
  if (*function_version) alias.function_version = **function_version;
  if (*description) alias.description = **description;
  // A RoutingConfig in the request replaces the alias's. One without weights removes it.
  if (routing->present) alias.additional_version = additional_from(*routing);
  std::vector<std::pair<std::string, double>> weights;
  if (alias.additional_version) weights.push_back(*alias.additional_version);
  if (routing->weights.size() > 1) weights = routing->weights;
  auto targets_ok = check_alias_targets(invoker_, ref->name, alias.function_version, weights);
  if (!targets_ok) co_return error_response(targets_ok.error(), request_id);

  alias.revision_id = random_uuid();
  auto saved = co_await invoker_.put_alias(alias);
  if (!saved) co_return error_response(saved.error(), request_id);
  LOG_INFO("lambda", "alias_updated", "function={} alias={} version={}", alias.function_name,
           alias.name, alias.function_version);
  co_return json_response(200, render_alias(alias, invoker_.function_arn(ref->name)), request_id);
}

Task<http::Response> LambdaService::delete_alias(std::string_view raw_name,
                                                 std::string_view alias_name,
                                                 const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  std::vector<std::string> errors;
  check_alias_name(alias_name, errors);
  if (!errors.empty()) co_return error_response(validation_error(errors), request_id);
  auto guard = co_await mutations_.lock();
  // AWS returns 204 when the alias or the function does not exist.
  if (invoker_.find_alias(ref->name, alias_name)) {
    std::string alias(alias_name);
    auto removed = co_await invoker_.delete_alias(ref->name, std::move(alias));
    if (!removed) co_return error_response(removed.error(), request_id);
    LOG_INFO("lambda", "alias_deleted", "function={} alias={}", ref->name, alias_name);
  }
  co_return no_content(request_id);
}

Task<http::Response> LambdaService::list_aliases(std::string_view raw_name,
                                                 const http::Request& request,
                                                 const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto max_items = parse_max_items(request, 10000, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  auto marker = parse_marker(request);
  if (!marker) co_return error_response(marker.error(), request_id);
  auto version_filter = http::query_param(request.query(), "FunctionVersion");
  if (version_filter.found) {
    std::vector<std::string> errors;
    check_function_version(version_filter.value, errors);
    if (!errors.empty()) co_return error_response(validation_error(errors), request_id);
  }
  if (!invoker_.find(ref->name)) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }

  auto limit = static_cast<std::size_t>(*max_items);
  std::string arn = invoker_.function_arn(ref->name);
  json::array aliases;
  std::optional<std::string> next;
  std::string last;
  for (const auto& alias : invoker_.list_aliases(ref->name)) {
    if (!marker->empty() && alias.name <= *marker) continue;
    if (version_filter.found && alias.function_version != version_filter.value) continue;
    if (aliases.size() == limit) {
      next = last;
      break;
    }
    aliases.push_back(render_alias(alias, arn));
    last = alias.name;
  }
  json::object out{{"Aliases", std::move(aliases)}};
  if (next) out["NextMarker"] = base64_encode(*next);
  co_return json_response(200, out, request_id);
}

}  // namespace lambent::services::lambda
