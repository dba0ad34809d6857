#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/control_v1_shapes.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>
#include <regex>

// The apigateway operations on REST API deployments and stages.
namespace lambent::services::apigateway {

namespace json = boost::json;

namespace v1 {

json::object deployment_json(const RestDeployment& deployment) {
  json::object out{{"id", deployment.id}, {"createdDate", epoch_seconds(deployment.created_date)}};
  if (!deployment.description.empty()) out["description"] = deployment.description;
  return out;
}

json::object stage_json(const RestStage& stage) {
  json::object out{{"deploymentId", stage.deployment_id},
                   {"stageName", stage.name},
                   {"cacheClusterEnabled", false},
                   {"cacheClusterStatus", "NOT_AVAILABLE"},
                   {"tracingEnabled", false},
                   {"createdDate", epoch_seconds(stage.created_date)},
                   {"lastUpdatedDate", epoch_seconds(stage.last_updated_date)}};
  if (!stage.description.empty()) out["description"] = stage.description;
  if (!stage.variables.empty()) {
    json::object variables;
    for (const auto& [name, value] : stage.variables) variables[name] = value;
    out["variables"] = std::move(variables);
  }
  if (stage.throttle.rate_limit || stage.throttle.burst_limit) {
    // Stage-wide method settings, as UpdateStage with /*/*/throttling/... sets them.
    json::object settings{
        {"metricsEnabled", false},
        {"loggingLevel", "OFF"},
        {"dataTraceEnabled", false},
        {"cachingEnabled", false},
        {"cacheTtlInSeconds", 300},
        {"cacheDataEncrypted", false},
        {"requireAuthorizationForCacheControl", true},
        {"unauthorizedCacheControlHeaderStrategy", "SUCCEED_WITH_RESPONSE_HEADER"}};
    if (stage.throttle.burst_limit) settings["throttlingBurstLimit"] = *stage.throttle.burst_limit;
    if (stage.throttle.rate_limit) settings["throttlingRateLimit"] = *stage.throttle.rate_limit;
    out["methodSettings"] = json::object{{"*/*", std::move(settings)}};
  } else {
    out["methodSettings"] = json::object();
  }
  return out;
}

namespace {

Error deployment_not_found() { return not_found("Invalid Deployment identifier specified"); }
Error stage_not_found() { return not_found("Invalid Stage identifier specified"); }

Status check_stage_name(const std::string& name) {
  static const std::regex kName("[A-Za-z0-9_\\-]{1,128}");
  if (!std::regex_match(name, kName)) {
    return bad_request(fmt::format(
        "Stage name only allows a-zA-Z0-9_ and '-', up to 128 characters. Invalid stage name: {}",
        name));
  }
  return ok_status();
}

// Returns an error unless every method of the API has an integration, as a deployment
// requires.
Status check_deployable(const RestApi& api) {
  bool any_method = false;
  for (const auto& [id, resource] : api.resources) {
    for (const auto& [name, method] : resource.methods) {
      any_method = true;
      if (!method.integration) {
        return bad_request(fmt::format("No integration defined for method {} on resource {}", name,
                                       resource.path));
      }
    }
  }
  if (!any_method) return bad_request("The REST API doesn't contain any methods");
  return ok_status();
}

// Applies one UpdateStage patch operation.
Status apply_stage_patch(const PatchOperation& operation, const RestApi& api, RestStage& stage) {
  const std::string& path = operation.path;
  constexpr std::string_view kVariables = "/variables/";
  auto parse_number = [&](double& out) {
    const std::string& text = operation.value;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc() || end != text.data() + text.size() || out < 0) {
      return false;
    }
    return true;
  };
  if (path == "/description" && operation.op == "replace") {
    stage.description = operation.value;
  } else if (path == "/deploymentId" && operation.op == "replace") {
    if (!api.deployments.contains(operation.value)) return deployment_not_found();
    stage.deployment_id = operation.value;
  } else if (path.starts_with(kVariables)) {
    std::string name = path.substr(kVariables.size());
    if (operation.op == "remove") {
      stage.variables.erase(name);
    } else if (operation.op == "replace" || operation.op == "add") {
      std::map<std::string, std::string> one{{name, operation.value}};
      if (auto checked = check_stage_variables(one); !checked) return checked;
      stage.variables[name] = operation.value;
    } else {
      return bad_request(fmt::format("Invalid patch operation {} for path {}", operation.op, path));
    }
  } else if ((path == "/*/*/throttling/rateLimit" || path == "/*/*/throttling/burstLimit") &&
             (operation.op == "replace" || operation.op == "add" || operation.op == "remove")) {
    bool rate = path.ends_with("rateLimit");
    if (operation.op == "remove") {
      if (rate) stage.throttle.rate_limit.reset();
      if (!rate) stage.throttle.burst_limit.reset();
      return ok_status();
    }
    double value = 0;
    if (!parse_number(value)) {
      return bad_request(fmt::format("Invalid value for {}: {}. It must be a number of 0 or more",
                                     path, operation.value));
    }
    if (rate) {
      stage.throttle.rate_limit = value;
    } else {
      stage.throttle.burst_limit = static_cast<std::int64_t>(value);
    }
  } else {
    return bad_request(
        fmt::format("Invalid patch path {} specified for op '{}'. Lambent supports /description, "
                    "/deploymentId, /variables/NAME, /*/*/throttling/rateLimit and "
                    "/*/*/throttling/burstLimit",
                    path, operation.op));
  }
  return ok_status();
}

}  // namespace
}  // namespace v1

using namespace v1;

Task<http::Response> ControlService::v1_deployments(const std::string& api_id,
                                                    const http::Request& request,
                                                    const std::string& request_id,
                                                    const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (method == "GET" && segments.size() <= 4) {
    auto api = registry_.rest_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 3) {
      auto page = parse_v1_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [id, deployment] : api->deployments) {
        entries.emplace_back(id, deployment_json(deployment));
      }
      co_return gateway_json(200, page_of(std::move(entries), *page, kV1Page), request_id);
    }
    auto it = api->deployments.find(segments[3]);
    if (it == api->deployments.end()) co_return gateway_error(deployment_not_found(), request_id);
    co_return gateway_json(200, deployment_json(it->second), request_id);
  }
  bool creating = segments.size() == 3 && method == "POST";
  bool deleting = segments.size() == 4 && method == "DELETE";
  if (!creating && !deleting) {
    co_return unsupported_operation(method, request.path(), request_id,
                                    "UpdateDeployment is not implemented");
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.rest_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  RestApi api = *current;

  if (deleting) {
    auto it = api.deployments.find(segments[3]);
    if (it == api.deployments.end()) co_return gateway_error(deployment_not_found(), request_id);
    for (const auto& [name, stage] : api.stages) {
      if (stage.deployment_id == it->first) {
        co_return gateway_error(
            bad_request("Active stages pointing to this deployment must be moved or deleted"),
            request_id);
      }
    }
    api.deployments.erase(it);
    auto stored = co_await registry_.put_rest_api(std::move(api));
    if (!stored) co_return store_failed(stored.error(), api_id, request_id);
    co_return gateway_empty(202, request_id);
  }

  RestDeployment deployment;
  std::optional<std::string> stage_name, stage_description;
  std::optional<std::map<std::string, std::string>> variables;
  for (auto read :
       {fields.text("description", deployment.description), fields.text("stageName", stage_name),
        fields.text("stageDescription", stage_description),
        fields.string_map("variables", variables)}) {
    if (!read) co_return gateway_error(read.error(), request_id);
  }
  if (auto deployable = check_deployable(api); !deployable) {
    co_return gateway_error(deployable.error(), request_id);
  }
  if (stage_name) {
    if (auto checked = check_stage_name(*stage_name); !checked) {
      co_return gateway_error(checked.error(), request_id);
    }
  }
  if (variables) {
    if (auto checked = check_stage_variables(*variables); !checked) {
      co_return gateway_error(checked.error(), request_id);
    }
  }
  std::string now = now_iso();
  deployment.id = unused_id(api.deployments, 6);
  deployment.created_date = now;
  deployment.snapshot = std::make_shared<const RestResourceTree>(api.resources);
  if (stage_name) {
    // CreateDeployment with stageName creates that stage, or points it at the new deployment.
    auto [it, created] = api.stages.try_emplace(*stage_name);
    RestStage& stage = it->second;
    if (created) {
      stage.name = *stage_name;
      stage.created_date = now;
      if (stage_description) stage.description = *stage_description;
    }
    stage.deployment_id = deployment.id;
    stage.last_updated_date = now;
    for (auto& [name, value] : variables.value_or(std::map<std::string, std::string>{})) {
      stage.variables[name] = value;
    }
  }
  json::object response = deployment_json(deployment);
  api.deployments[deployment.id] = std::move(deployment);
  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(201, response, request_id);
}

Task<http::Response> ControlService::v1_stages(const std::string& api_id,
                                               const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (method == "GET" && segments.size() <= 4) {
    auto api = registry_.rest_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 3) {
      auto deployment = http::query_param(request.query(), "deploymentId");
      json::array items;
      for (const auto& [name, stage] : api->stages) {
        if (deployment.found && stage.deployment_id != deployment.value) continue;
        items.push_back(stage_json(stage));
      }
      co_return gateway_json(200, json::object{{"item", std::move(items)}}, request_id);
    }
    auto it = api->stages.find(segments[3]);
    if (it == api->stages.end()) co_return gateway_error(stage_not_found(), request_id);
    co_return gateway_json(200, stage_json(it->second), request_id);
  }
  bool creating = segments.size() == 3 && method == "POST";
  bool changing = segments.size() == 4 && (method == "PATCH" || method == "DELETE");
  if (!creating && !changing) {
    co_return unsupported_operation(method, request.path(), request_id);
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.rest_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  RestApi api = *current;
  std::string now = now_iso();
  RestStage stage;

  if (creating) {
    std::optional<std::string> name, deployment_id;
    std::optional<std::map<std::string, std::string>> variables;
    for (auto read : {fields.text("stageName", name), fields.text("deploymentId", deployment_id),
                      fields.text("description", stage.description),
                      fields.string_map("variables", variables)}) {
      if (!read) co_return gateway_error(read.error(), request_id);
    }
    if (!name) co_return gateway_error(bad_request("Stage name is required"), request_id);
    if (auto checked = check_stage_name(*name); !checked) {
      co_return gateway_error(checked.error(), request_id);
    }
    if (!deployment_id)
      co_return gateway_error(bad_request("Deployment id is required"), request_id);
    if (!api.deployments.contains(*deployment_id)) {
      co_return gateway_error(deployment_not_found(), request_id);
    }
    if (api.stages.contains(*name)) {
      co_return gateway_error(conflict("Stage already exists"), request_id);
    }
    if (variables) {
      if (auto checked = check_stage_variables(*variables); !checked) {
        co_return gateway_error(checked.error(), request_id);
      }
      stage.variables = *variables;
    }
    stage.name = *name;
    stage.deployment_id = *deployment_id;
    stage.created_date = now;
  } else {
    auto it = api.stages.find(segments[3]);
    if (it == api.stages.end()) co_return gateway_error(stage_not_found(), request_id);
    if (method == "DELETE") {
      api.stages.erase(it);
      auto stored = co_await registry_.put_rest_api(std::move(api));
      if (!stored) co_return store_failed(stored.error(), api_id, request_id);
      co_return gateway_empty(202, request_id);
    }
    stage = it->second;
    auto operations = parse_patch_operations(*body);
    if (!operations) co_return gateway_error(operations.error(), request_id);
    for (const auto& operation : *operations) {
      if (auto applied = apply_stage_patch(operation, api, stage); !applied) {
        co_return gateway_error(applied.error(), request_id);
      }
    }
  }

  stage.last_updated_date = now;
  json::object response = stage_json(stage);
  api.stages[stage.name] = std::move(stage);
  auto stored = co_await registry_.put_rest_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(creating ? 201 : 200, response, request_id);
}

}  // namespace lambent::services::apigateway
