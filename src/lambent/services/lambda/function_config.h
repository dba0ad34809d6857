#pragma once

#include "lambent/base/result.h"
#include "lambent/runtime/environment.h"
#include "lambent/store/records.h"

#include <boost/json/fwd.hpp>

#include <optional>
#include <string>
#include <string_view>

// Request validation and response rendering for function configurations, with AWS's rules
// and messages.
namespace lambent::services::lambda {

struct FunctionRef {
  std::string name;
  std::optional<std::string> qualifier;
};

enum class NameContext { create, invoke, other };

// Parses a FunctionName path parameter (already percent-decoded): a name, a partial ARN
// ("123456789012:function:name") or a full ARN, each with an optional ":qualifier".
Result<FunctionRef> parse_function_name(std::string_view raw, NameContext context);

// Applies the configuration fields of a CreateFunction or UpdateFunctionConfiguration body to
// `record`, checking every value. `creating` makes Role, Runtime and Handler mandatory.
Status apply_configuration(const boost::json::object& body, store::FunctionRecord& record,
                           bool creating);

enum class ConfigurationView { full, listing };

// Renders FunctionConfiguration as AWS returns it from Get/Create/Update (full) or in
// ListFunctions entries (listing).
boost::json::object render_configuration(const runtime::FunctionSpec& spec,
                                         std::string_view region,
                                         ConfigurationView view = ConfigurationView::full);

// "2024-01-02T03:04:05.678+0000"
std::string lambda_timestamp_now();

}  // namespace lambent::services::lambda
