#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/services/cloudwatch/value.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// The three wire protocols of CloudWatch (monitoring 2010-08-01), decoded into one Call and
// encoded back in the caller's protocol:
//   query  POST / with a form body (Action, Version, X.member.N lists, X.entry.N.key maps);
//          XML responses <OpResponse><OpResult>...</OpResult><ResponseMetadata>...
//   json   JSON 1.0, X-Amz-Target: GraniteServiceVersion20100801.Op
//   cbor   Smithy RPC v2 CBOR, POST /service/GraniteServiceVersion20100801/operation/Op
// JSON and CBOR errors carry the Smithy shape in __type and the query code in
// x-amzn-query-error, because the service is awsQueryCompatible; clients then report the same
// error code whichever protocol they speak. Pure functions, safe on any thread.
namespace lambent::services::cloudwatch {

enum class Protocol { query, json, cbor };

inline constexpr std::string_view kTargetPrefix = "GraniteServiceVersion20100801";
inline constexpr std::string_view kApiVersion = "2010-08-01";
inline constexpr std::string_view kXmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/";

// A decoded request: the operation name and its input structure. Members keep the protocol's
// representation: the query protocol gives strings, lists and structures only.
struct Call {
  Protocol protocol = Protocol::query;
  std::string operation;
  Value input = Value::structure();
};

// True for an operation name in the CloudWatch model, served by Lambent or not.
bool is_cloudwatch_operation(std::string_view operation);

// The service of the request's SigV4 credential scope (Authorization header or
// X-Amz-Credential query parameter), or nullopt when it carries none.
std::optional<std::string> credential_scope_service(const http::Request& request);

// True when the request is for CloudWatch: the RPC v2 path, a GraniteServiceVersion20100801
// target, or a query-protocol call to / whose credential scope names `monitoring`. An unsigned
// query call (auth off) belongs to CloudWatch when its Action is a CloudWatch operation.
bool is_cloudwatch_request(const http::Request& request);

// The protocol of a CloudWatch request, by path and headers.
Protocol detect_protocol(const http::Request& request);

// Decodes the request (gunzipping a Content-Encoding: gzip body) into a Call. A body larger
// than max_body_bytes once decompressed gives RequestEntityTooLarge. Fails with the protocol's
// error for a malformed body (MalformedInput, SerializationException), a missing Action or an
// unsupported Version.
Result<Call> decode_call(const http::Request& request, std::size_t max_body_bytes);

// The response of a successful call. `output` is null for operations that have no output.
http::Response encode_output(const Call& call, const Value* output, std::string_view request_id);

// An error response in the protocol's shape; the status comes from error_shape().
http::Response encode_error(Protocol protocol, const Error& error, std::string_view request_id);


// Builds the input structure of query-protocol fields ("A.member.1.B" = "x" becomes
// {A: [{B: "x"}]}, "M.entry.1.key"/".value" becomes a map).
Value query_fields_to_value(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace lambent::services::cloudwatch
