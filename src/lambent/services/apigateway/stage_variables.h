#pragma once

#include "lambent/base/result.h"
#include "lambent/services/apigateway/model.h"

#include <map>
#include <string>

// Stage variables in Lambda integration URIs: an integration whose function ARN names
// ${stageVariables.NAME} in its function name or qualifier calls, on each stage, the function
// that stage's variables name.
namespace lambent::services::apigateway {

// Replaces every ${stageVariables.NAME} in target's function name and qualifier with the
// stage's value of NAME. A target without references comes back unchanged. Fails with
// Errc::not_found when a referenced variable is not set on the stage. Fails with
// Errc::invalid_parameter when the result is not a function name with an optional version or
// alias. A value of "orders:live" in the name position resolves to function orders, alias live.
Result<LambdaTarget> resolve_stage_variables(const LambdaTarget& target,
                                             const std::map<std::string, std::string>& variables);

}  // namespace lambent::services::apigateway
