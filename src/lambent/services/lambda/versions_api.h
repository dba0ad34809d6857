#pragma once

#include "lambent/runtime/environment.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/store/versions.h"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

// Rendering and validation shared by the version and alias operations and the function
// operations that take a qualifier.
namespace lambent::services::lambda {

// FunctionConfiguration with `arn` as FunctionArn. AWS qualifies the ARN by how the function
// was addressed ("NAME:1", "NAME:$LATEST", "NAME:alias"), not only by the version shown.
boost::json::object render_with_arn(const runtime::FunctionSpec& spec, std::string arn,
                                    std::string_view region,
                                    ConfigurationView view = ConfigurationView::full);

// AliasConfiguration as AWS returns it; RoutingConfig only when the alias has one.
boost::json::object render_alias(const store::AliasRecord& alias, std::string_view function_arn);

// AWS's refusal of UpdateFunctionCode and UpdateFunctionConfiguration on a version or alias.
Error only_latest_supported();

}  // namespace lambent::services::lambda
