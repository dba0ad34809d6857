#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/store/records.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Request and response helpers shared by the Lambda API operations.
namespace lambent::services::lambda {

http::Response json_response(unsigned status, const boost::json::value& body,
                             std::string_view request_id);

// An empty body is an empty object; anything but a JSON object is a SerializationException.
Result<boost::json::object> parse_body(const std::string& body);

// Percent-decodes one path segment; a segment that does not decode is kept as it is.
std::string decode_path_segment(std::string_view segment);

// Combines the qualifier in a function ARN with the Qualifier query parameter; the two must
// agree when both are given.
Result<std::optional<std::string>> resolve_qualifier(const FunctionRef& ref,
                                                     const http::Request& request);

// Rejects a request whose RevisionId is not the function's current one.
Status check_revision(const boost::json::object& body, const store::FunctionRecord& record);

// Reads the MaxItems query parameter: 1 to `upper`, or `fallback` when it is absent.
Result<std::int64_t> parse_max_items(const http::Request& request, std::int64_t upper,
                                     std::int64_t fallback);

// Decodes the Marker query parameter (the base64 of the last key returned); empty when absent.
Result<std::string> parse_marker(const http::Request& request);

// An X-Ray style trace header for a new invocation.
std::string make_trace_id();

// "Value 'V' at 'field' failed to satisfy constraint: rule", AWS's validation wording.
std::string constraint(std::string_view value, std::string_view field, std::string_view rule);

// SerializationException for a field of the wrong JSON type.
Error serialization_error(std::string_view field, const boost::json::value& value);

// Reads an integer field and checks it against [min, max]. An absent or null field gives
// nullopt; a value out of range adds AWS's message to `violations` and gives nullopt.
Result<std::optional<int>> bounded_int(const boost::json::object& body, std::string_view key,
                                       std::string_view field, std::int64_t min, std::int64_t max,
                                       std::vector<std::string>& violations);

}  // namespace lambent::services::lambda
