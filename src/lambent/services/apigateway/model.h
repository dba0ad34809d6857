#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// The configuration of HTTP APIs (API Gateway v2) and REST APIs (API Gateway v1) as the control
// plane keeps it and the data plane reads it. Plain values: the Registry hands out immutable
// snapshots, so a request in flight keeps the configuration it started with.
namespace lambent::services::apigateway {

struct CorsConfig {
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  std::optional<std::int64_t> max_age;  // seconds
};

struct ThrottleSettings {
  std::optional<double> rate_limit;         // steady requests per second
  std::optional<std::int64_t> burst_limit;  // bucket size
};

// The function a Lambda proxy integration calls, parsed from its URI (a function ARN, or an
// arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations URI).
// function_name and qualifier may contain ${stageVariables.NAME} references, which each stage
// resolves with its own variables when a request arrives (see stage_variables.h).
struct LambdaTarget {
  std::string function_name;
  std::optional<std::string> qualifier;  // version or alias from a qualified ARN
  bool uses_stage_variables = false;     // function_name or qualifier contains a reference
};

// ---- HTTP APIs (apigatewayv2) ----

struct HttpIntegration {
  std::string id;
  std::string integration_type = "AWS_PROXY";
  std::string integration_uri;  // as the client gave it
  std::string integration_method = "POST";
  std::string payload_format_version = "2.0";  // "1.0" or "2.0"
  std::int64_t timeout_ms = 30000;             // 50 to 30000
  std::string connection_type = "INTERNET";
  std::string description;
  bool api_gateway_managed = false;  // created by quick create (CreateApi with Target)
  LambdaTarget target;
};

struct HttpRoute {
  std::string id;
  std::string route_key;  // "GET /items/{id}", "ANY /{proxy+}", "$default"
  std::string target;     // "integrations/<integration id>", or empty
  std::string authorization_type = "NONE";
  bool api_key_required = false;
  std::string operation_name;
  bool api_gateway_managed = false;  // created by quick create (CreateApi with Target)
};

// The routes and integrations one stage serves.
struct HttpRouteSet {
  std::map<std::string, HttpRoute> routes;  // by route id
  std::map<std::string, HttpIntegration> integrations;  // by integration id
};

struct HttpDeployment {
  std::string id;
  std::string description;
  std::string created_date;  // ISO 8601, as AWS formats it
  bool auto_deployed = false;
  std::shared_ptr<const HttpRouteSet> snapshot;
};

struct HttpStage {
  std::string name;  // "$default" or a name
  std::string description;
  bool auto_deploy = false;
  std::string deployment_id;  // empty until a deployment exists
  std::map<std::string, std::string> stage_variables;
  ThrottleSettings default_route_throttle;
  std::map<std::string, ThrottleSettings> route_throttles;  // by route key
  std::string created_date;
  std::string last_updated_date;
  bool api_gateway_managed = false;  // created by quick create (CreateApi with Target)
};

struct HttpApi {
  std::string id;  // 10 lower-case letters and digits, as AWS makes them
  std::string name;
  std::string description;
  std::string version;
  std::string protocol_type = "HTTP";
  std::string route_selection_expression = "$request.method $request.path";
  std::string api_key_selection_expression = "$request.header.x-api-key";
  std::optional<CorsConfig> cors;
  bool disable_execute_api_endpoint = false;
  std::string created_date;
  std::map<std::string, std::string> tags;
  HttpRouteSet live;  // current routes and integrations; AutoDeploy stages serve these
  std::map<std::string, HttpStage> stages;  // by stage name
  std::map<std::string, HttpDeployment> deployments;  // by deployment id
};

// ---- REST APIs (apigateway) ----

// PutIntegrationResponse: stored and returned; a Lambda proxy integration does not use it.
struct RestIntegrationResponse {
  std::string status_code;
  std::string selection_pattern;
  std::map<std::string, std::string> response_parameters;
  std::map<std::string, std::string> response_templates;
  std::string content_handling;
};

// PutMethodResponse: stored and returned; a Lambda proxy integration does not use it.
struct RestMethodResponse {
  std::string status_code;
  std::map<std::string, bool> response_parameters;
  std::map<std::string, std::string> response_models;
};

struct RestIntegration {
  std::string type = "AWS_PROXY";
  std::string http_method = "POST";  // integrationHttpMethod
  std::string uri;
  std::int64_t timeout_ms = 29000;  // 50 to 29000
  std::string passthrough_behavior = "WHEN_NO_MATCH";
  std::string connection_type = "INTERNET";
  std::string cache_namespace;
  std::vector<std::string> cache_key_parameters;
  std::map<std::string, std::string> request_parameters;
  std::map<std::string, std::string> request_templates;
  std::string content_handling;
  std::map<std::string, RestIntegrationResponse> integration_responses;  // by status code
  LambdaTarget target;
};

struct RestMethod {
  std::string http_method;  // GET, POST, ..., or ANY
  std::string authorization_type = "NONE";
  bool api_key_required = false;
  std::string operation_name;
  std::map<std::string, bool> request_parameters;  // "method.request.path.id" -> required
  std::map<std::string, std::string> request_models;
  std::map<std::string, RestMethodResponse> method_responses;  // by status code
  std::optional<RestIntegration> integration;
};

struct RestResource {
  std::string id;
  std::string parent_id;  // empty for the root resource
  std::string path_part;  // empty for the root resource
  std::string path;       // "/", "/items", "/items/{id}", "/{proxy+}"
  std::map<std::string, RestMethod> methods;  // by HTTP method
};

using RestResourceTree = std::map<std::string, RestResource>;  // by resource id

struct RestDeployment {
  std::string id;
  std::string description;
  std::string created_date;
  std::shared_ptr<const RestResourceTree> snapshot;
};

struct RestStage {
  std::string name;
  std::string deployment_id;
  std::string description;
  std::map<std::string, std::string> variables;
  ThrottleSettings throttle;  // methodSettings "*/*"
  std::string created_date;
  std::string last_updated_date;
};

struct RestApi {
  std::string id;
  std::string name;
  std::string description;
  std::string version;
  std::string created_date;
  std::string api_key_source = "HEADER";
  std::vector<std::string> endpoint_types = {"EDGE"};
  std::vector<std::string> binary_media_types;
  bool disable_execute_api_endpoint = false;
  std::map<std::string, std::string> tags;
  std::string root_resource_id;
  RestResourceTree resources;
  std::map<std::string, RestDeployment> deployments;  // by deployment id
  std::map<std::string, RestStage> stages;            // by stage name
};

}  // namespace lambent::services::apigateway
