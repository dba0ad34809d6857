#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

// The two wire protocols of SQS (2012-11-05), decoded into one Call whose input has the JSON
// protocol's shape, and encoded back in the caller's protocol:
//   query  form-encoded Action=Op&Version=2012-11-05 in the body (or the query string), POSTed
//          to / or to a queue URL; flattened lists ("AttributeName.1", "Attribute.1.Name");
//          XML responses <OpResponse><OpResult>...</OpResult><ResponseMetadata>...
//   json   JSON 1.0, X-Amz-Target: AmazonSQS.Op
// JSON errors carry the shape in __type and the query code in x-amzn-query-error, because the
// service is awsQueryCompatible, so clients of either protocol see the same error code.
namespace lambent::services::sqs {

enum class Protocol { query, json };

inline constexpr std::string_view kTargetPrefix = "AmazonSQS.";
inline constexpr std::string_view kApiVersion = "2012-11-05";
inline constexpr std::string_view kXmlNamespace = "http://queue.amazonaws.com/doc/2012-11-05/";

struct Call {
  Protocol protocol = Protocol::query;
  std::string operation;
  boost::json::object input;
};

Protocol detect_protocol(const http::Request& request);

// Decodes the request. Query fields become the JSON shape: "Attribute.N.Name/Value" an
// Attributes map, "MessageAttribute.N.Name/Value.*" a MessageAttributes map,
// "<Op>RequestEntry.N.*" Entries, "AttributeName.N" AttributeNames, and so on; numbers stay
// strings. Fails with MalformedQueryString, InvalidAction (no Action) or a JSON
// SerializationException-style InvalidParameterValue.
Result<Call> decode_call(const http::Request& request);

// The response of a successful call; `output` in the JSON shape.
http::Response encode_output(const Call& call, const boost::json::object& output,
                             std::string_view request_id);
http::Response encode_error(Protocol protocol, const Error& error, std::string_view request_id);

// Decodes application/x-www-form-urlencoded text ('+' is a space). False on a bad escape.
bool form_decode(std::string_view in, std::string& out);

}  // namespace lambent::services::sqs
