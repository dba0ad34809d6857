#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/control_v2_shapes.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <regex>

// The apigatewayv2 operations on stages and deployments.
namespace lambent::services::apigateway {

namespace json = boost::json;

namespace v2 {
namespace {

// Reads a RouteSettings object; only the throttling fields are kept, and the logging and
// metrics fields are accepted and ignored.
Status apply_route_settings(const json::object& object, ThrottleSettings& throttle) {
  BodyFields fields(object);
  std::optional<std::int64_t> burst;
  std::optional<double> rate;
  std::optional<bool> flag;
  std::optional<std::string> level;
  for (auto read :
       {fields.integer("throttlingBurstLimit", burst), fields.number("throttlingRateLimit", rate),
        fields.boolean("detailedMetricsEnabled", flag), fields.boolean("dataTraceEnabled", flag),
        fields.text("loggingLevel", level)}) {
    if (!read) return read;
  }
  if (burst) {
    if (*burst < 0) {
      return bad_request(
          fmt::format("Invalid throttlingBurstLimit specified: {}. It must be 0 or more", *burst));
    }
    throttle.burst_limit = *burst;
  }
  if (rate) {
    if (*rate < 0) {
      return bad_request(
          fmt::format("Invalid throttlingRateLimit specified: {}. It must be 0 or more", *rate));
    }
    throttle.rate_limit = *rate;
  }
  return ok_status();
}

// Applies the fields of a CreateStage or UpdateStage body to `stage`.
Status apply_stage_fields(const BodyFields& fields, const HttpApi& api, HttpStage& stage) {
  std::optional<std::string> deployment_id;
  std::optional<std::map<std::string, std::string>> variables;
  for (auto read :
       {fields.text("description", stage.description),
        fields.boolean("autoDeploy", stage.auto_deploy), fields.text("deploymentId", deployment_id),
        fields.string_map("stageVariables", variables)}) {
    if (!read) return read;
  }

  if (deployment_id) {
    if (!api.deployments.contains(*deployment_id)) {
      return not_found("Invalid Deployment identifier specified " + *deployment_id);
    }
    stage.deployment_id = *deployment_id;
  }
  if (variables) {
    if (auto checked = check_stage_variables(*variables); !checked) return checked;
    for (auto& [name, value] : *variables) stage.stage_variables[name] = value;
  }

  auto defaults = fields.object("defaultRouteSettings");
  if (!defaults) return std::move(defaults).error();
  if (*defaults) {
    if (auto applied = apply_route_settings(**defaults, stage.default_route_throttle); !applied) {
      return applied;
    }
  }

  auto per_route = fields.object("routeSettings");
  if (!per_route) return std::move(per_route).error();
  if (*per_route) {
    for (const auto& [key, settings] : **per_route) {
      bool known = false;
      for (const auto& [id, route] : api.live.routes) known = known || route.route_key == key;
      if (!known) {
        return bad_request(fmt::format(
            "Unable to find Route by key {} within the provided RouteSettings", std::string(key)));
      }
      if (!settings.is_object()) {
        return bad_request(fmt::format("Invalid value for routeSettings.{}: expected an object",
                                       std::string(key)));
      }
      ThrottleSettings& throttle = stage.route_throttles[std::string(key)];
      if (auto applied = apply_route_settings(settings.as_object(), throttle); !applied) {
        return applied;
      }
    }
  }
  return ok_status();
}

}  // namespace
}  // namespace v2

using namespace v2;

Task<http::Response> ControlService::v2_stages(const std::string& api_id,
                                               const http::Request& request,
                                               const std::string& request_id,
                                               const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  if (method == "GET" && segments.size() <= 5) {
    auto api = registry_.http_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 4) {
      auto page = parse_v2_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [name, stage] : api->stages) entries.emplace_back(name, stage_json(stage));
      co_return gateway_json(200, page_of(std::move(entries), *page, kV2Page), request_id);
    }
    auto it = api->stages.find(segments[4]);
    if (it == api->stages.end()) co_return gateway_error(stage_not_found(segments[4]), request_id);
    co_return gateway_json(200, stage_json(it->second), request_id);
  }

  bool creating = segments.size() == 4 && method == "POST";
  bool changing = segments.size() == 5 && (method == "PATCH" || method == "DELETE");
  if (!creating && !changing) {
    co_return unsupported_operation(
        method, request.path(), request_id,
        "access log settings and route-level stage operations are not implemented");
  }
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;
  std::string now = now_iso();

  HttpStage stage;
  if (creating) {
    std::optional<std::string> name;
    if (auto read = fields.text("stageName", name); !read) {
      co_return gateway_error(read.error(), request_id);
    }
    static const std::regex kStageName(R"(\$default|[A-Za-z0-9_\-]{1,128})");
    if (!name || !std::regex_match(*name, kStageName)) {
      co_return gateway_error(
          bad_request(fmt::format("Invalid stage name specified: {}. A stage name is $default "
                                  "or up to 128 letters, digits, '-' and '_'",
                                  name.value_or(""))),
          request_id);
    }
    if (api.stages.contains(*name)) {
      co_return gateway_error(conflict(fmt::format("Stage {} already exists", *name)), request_id);
    }
    stage.name = *name;
    stage.created_date = now;
  } else {
    auto it = api.stages.find(segments[4]);
    if (it == api.stages.end()) co_return gateway_error(stage_not_found(segments[4]), request_id);
    if (method == "DELETE") {
      api.stages.erase(it);
      std::erase_if(api.deployments, [&](const auto& entry) {
        if (!entry.second.auto_deployed) return false;
        for (const auto& [name, other] : api.stages) {
          if (other.deployment_id == entry.first) return false;
        }
        return true;
      });
      auto stored = co_await registry_.put_http_api(std::move(api));
      if (!stored) co_return store_failed(stored.error(), api_id, request_id);
      co_return gateway_empty(204, request_id);
    }
    stage = it->second;
  }

  bool was_auto = stage.auto_deploy;
  if (auto applied = apply_stage_fields(fields, api, stage); !applied) {
    co_return gateway_error(applied.error(), request_id);
  }
  stage.last_updated_date = now;
  std::string name = stage.name;
  api.stages[name] = std::move(stage);
  if (api.stages[name].auto_deploy && !was_auto) auto_deploy(api, now);

  json::object response = stage_json(api.stages[name]);
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(creating ? 201 : 200, response, request_id);
}

Task<http::Response> ControlService::v2_deployments(const std::string& api_id,
                                                    const http::Request& request,
                                                    const std::string& request_id,
                                                    const std::vector<std::string>& segments) {
  const std::string& method = request.method;
  auto deployment_not_found = [](const std::string& id) {
    return not_found("Invalid Deployment identifier specified " + id);
  };
  if (method == "GET" && segments.size() <= 5) {
    auto api = registry_.http_api(api_id);
    if (!api) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
    if (segments.size() == 4) {
      auto page = parse_v2_page(request);
      if (!page) co_return gateway_error(page.error(), request_id);
      std::vector<std::pair<std::string, json::value>> entries;
      for (const auto& [id, deployment] : api->deployments) {
        entries.emplace_back(id, deployment_json(deployment));
      }
      co_return gateway_json(200, page_of(std::move(entries), *page, kV2Page), request_id);
    }
    auto it = api->deployments.find(segments[4]);
    if (it == api->deployments.end()) {
      co_return gateway_error(deployment_not_found(segments[4]), request_id);
    }
    co_return gateway_json(200, deployment_json(it->second), request_id);
  }

  bool creating = segments.size() == 4 && method == "POST";
  bool deleting = segments.size() == 5 && method == "DELETE";
  if (!creating && !deleting) {
    co_return unsupported_operation(method, request.path(), request_id,
                                    "UpdateDeployment is not implemented");
  }
  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  BodyFields fields(*body);
  auto guard = co_await mutations_.lock();
  auto current = registry_.http_api(api_id);
  if (!current) co_return gateway_error(api_not_found(options_.account_id, api_id), request_id);
  HttpApi api = *current;

  if (deleting) {
    auto it = api.deployments.find(segments[4]);
    if (it == api.deployments.end()) {
      co_return gateway_error(deployment_not_found(segments[4]), request_id);
    }
    for (const auto& [name, stage] : api.stages) {
      if (stage.deployment_id == it->first) {
        co_return gateway_error(
            bad_request(fmt::format("Deployment {} cannot be deleted because stage {} uses it; "
                                    "point the stage at another deployment or delete it first",
                                    it->first, name)),
            request_id);
      }
    }
    api.deployments.erase(it);
    auto stored = co_await registry_.put_http_api(std::move(api));
    if (!stored) co_return store_failed(stored.error(), api_id, request_id);
    co_return gateway_empty(204, request_id);
  }

  HttpDeployment deployment;
  std::optional<std::string> stage_name;
  for (auto read :
       {fields.text("description", deployment.description), fields.text("stageName", stage_name)}) {
    if (!read) co_return gateway_error(read.error(), request_id);
  }
  if (api.live.routes.empty()) {
    co_return gateway_error(bad_request("Unable to deploy API because no routes exist in this API"),
                            request_id);
  }
  HttpStage* stage = nullptr;
  if (stage_name) {
    auto it = api.stages.find(*stage_name);
    if (it == api.stages.end()) co_return gateway_error(stage_not_found(*stage_name), request_id);
    if (it->second.auto_deploy) {
      co_return gateway_error(
          bad_request(fmt::format("Stage {} has AutoDeploy enabled, so it is deployed "
                                  "automatically; disable AutoDeploy to deploy it by hand",
                                  *stage_name)),
          request_id);
    }
    stage = &it->second;
  }
  std::string now = now_iso();
  deployment.id = unused_id(api.deployments, 6);
  deployment.created_date = now;
  deployment.snapshot = std::make_shared<const HttpRouteSet>(api.live);
  if (stage != nullptr) {
    stage->deployment_id = deployment.id;
    stage->last_updated_date = now;
  }
  json::object response = deployment_json(deployment);
  api.deployments[deployment.id] = std::move(deployment);
  auto stored = co_await registry_.put_http_api(std::move(api));
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  co_return gateway_json(201, response, request_id);
}

}  // namespace lambent::services::apigateway
