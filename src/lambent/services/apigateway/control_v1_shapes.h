#pragma once

#include "lambent/base/result.h"
#include "lambent/services/apigateway/control_common.h"
#include "lambent/services/apigateway/model.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

// The apigateway (REST API) wire shapes, camelCase as the botocore model names them, with
// dates as epoch seconds, plus the errors control_v1.cpp and control_v1_stages.cpp share.
namespace lambent::services::apigateway::v1 {

boost::json::object rest_api_json(const RestApi& api);
boost::json::object deployment_json(const RestDeployment& deployment);
boost::json::object stage_json(const RestStage& stage);

Error api_not_found(std::string_view account_id, std::string_view api_id);

// Reads the patchOperations list of an Update* body.
struct PatchOperation {
  std::string op;
  std::string path;
  std::string value;
};
Result<std::vector<PatchOperation>> parse_patch_operations(const boost::json::object& body);

}  // namespace lambent::services::apigateway::v1
