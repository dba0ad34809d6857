#pragma once

#include "lambent/base/result.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/model.h"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

// The apigatewayv2 wire shapes (camelCase names of the botocore model) and the request checks
// that control_v2.cpp and control_v2_stages.cpp share.
namespace lambent::services::apigateway::v2 {

boost::json::object cors_json(const CorsConfig& cors);
boost::json::object api_json(const HttpApi& api, const std::string& endpoint);
boost::json::object route_json(const HttpRoute& route);
boost::json::object integration_json(const HttpIntegration& integration);
boost::json::object stage_json(const HttpStage& stage);
boost::json::object deployment_json(const HttpDeployment& deployment);

Error api_not_found(std::string_view account_id, std::string_view api_id);
Error stage_not_found(std::string_view stage_name);

// Creates a deployment of the live routes for the stages with AutoDeploy, as API Gateway does
// after every change, and drops automatic deployments that no stage uses any more. Does
// nothing while the API has no routes.
void auto_deploy(HttpApi& api, const std::string& now);

}  // namespace lambent::services::apigateway::v2
