#pragma once

#include "lambent/base/result.h"
#include "lambent/store/message_targets.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Typed reads of request members in the JSON shape that both protocols decode to. Query
// requests carry numbers and booleans as strings, so the readers accept either form. Each
// failure is the SQS error a client gets (MissingParameter, InvalidParameterValue).
namespace lambent::services::sqs {

Result<std::optional<std::string>> optional_string(const boost::json::object& input,
                                                   std::string_view name);
Result<std::string> required_string(const boost::json::object& input, std::string_view name);
Result<std::optional<std::int64_t>> optional_int(const boost::json::object& input,
                                                 std::string_view name);
Result<std::map<std::string, std::string>> string_map(const boost::json::object& input,
                                                      std::string_view name);
Result<std::vector<std::string>> string_list(const boost::json::object& input,
                                             std::string_view name);
// MessageAttributes or MessageSystemAttributes: name -> {DataType, StringValue, BinaryValue}
// with BinaryValue in base64.
Result<std::vector<store::MessageAttribute>> message_attributes(const boost::json::object& input,
                                                                std::string_view name);

}  // namespace lambent::services::sqs
