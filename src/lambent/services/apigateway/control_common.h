#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/services/apigateway/model.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Helpers shared by the API Gateway v1 and v2 control operations: error and JSON responses,
// request body fields, paging, ids, dates, route keys and Lambda integration URIs.
namespace lambent::services::apigateway {

// API Gateway's REST-JSON error: status and x-amzn-ErrorType from the code (not_found:
// NotFoundException 404, invalid_parameter and validation: BadRequestException 400, conflict:
// ConflictException 409, throttled: TooManyRequestsException 429), body {"message": ...}.
http::Response gateway_error(const Error& error, std::string_view request_id);
http::Response gateway_json(unsigned status, const boost::json::value& body,
                            std::string_view request_id);
http::Response gateway_empty(unsigned status, std::string_view request_id);

// Logs a failed store write and returns the 500 the client gets for it.
http::Response store_failed(const Error& error, std::string_view api_id,
                            std::string_view request_id);

Error bad_request(std::string message);

// Returns the 501 NotImplemented response for an operation Lambent does not serve. A detail,
// when given, names what is missing ("UpdateDeployment is not implemented").
http::Response unsupported_operation(std::string_view method, std::string_view path,
                                     std::string_view request_id, std::string_view detail = {});

// Checks stage variables as both APIs accept them: names of letters, digits and '_' up to 64
// characters, values of URL-safe characters up to 2048.
Status check_stage_variables(const std::map<std::string, std::string>& variables);
Error not_found(std::string message);
Error conflict(std::string message);

// Parses a request body as a JSON object; an empty body is an empty object.
Result<boost::json::object> parse_request_body(const std::string& body);

// Typed access to the fields of a request body. Each getter leaves `out` alone when the field
// is absent or null and returns a BadRequestException naming the field when it has the wrong
// type.
class BodyFields {
 public:
  explicit BodyFields(const boost::json::object& body) : body_(body) {}

  bool has(std::string_view key) const;
  Status text(std::string_view key, std::string& out) const;
  Status text(std::string_view key, std::optional<std::string>& out) const;
  Status boolean(std::string_view key, bool& out) const;
  Status boolean(std::string_view key, std::optional<bool>& out) const;
  Status integer(std::string_view key, std::optional<std::int64_t>& out) const;
  Status number(std::string_view key, std::optional<double>& out) const;
  Status strings(std::string_view key, std::optional<std::vector<std::string>>& out) const;
  Status string_map(std::string_view key,
                    std::optional<std::map<std::string, std::string>>& out) const;
  Status bool_map(std::string_view key, std::optional<std::map<std::string, bool>>& out) const;
  // Returns the object at `key`, null when absent; an error when it is not an object.
  Result<const boost::json::object*> object(std::string_view key) const;

 private:
  const boost::json::value* find(std::string_view key) const;
  const boost::json::object& body_;
};

// Splits a path into percent-decoded segments ("/v2/apis/x" -> {"v2", "apis", "x"}). A
// trailing slash adds no empty segment.
std::vector<std::string> split_path(std::string_view path);

// One page of a listing ordered by key: items after `start` (inclusive), at most `limit`.
struct PageRequest {
  std::string start;  // first key to return; empty for the first page
  std::size_t limit = 0;
};
// Returns the page of `entries` (key and JSON item, ordered by key) that `page` selects, as
// {"items": [...], "nextToken": KEY} (v2) or {"item": [...], "position": KEY} (v1 names).
struct PageNames {
  std::string_view items;
  std::string_view next;
};
inline constexpr PageNames kV2Page{"items", "nextToken"};
inline constexpr PageNames kV1Page{"item", "position"};
boost::json::object page_of(std::vector<std::pair<std::string, boost::json::value>> entries,
                            const PageRequest& page, PageNames names);

// v2 (MaxResults, NextToken): no default limit, so the whole list is one page.
Result<PageRequest> parse_v2_page(const http::Request& request);
// v1 (limit, position): 25 items by default, 500 at most, as API Gateway pages.
Result<PageRequest> parse_v1_page(const http::Request& request);

// The current time as ISO 8601 UTC with seconds ("2026-12-05T02:12:42Z").
std::string iso8601(std::chrono::system_clock::time_point time);
// Seconds since the epoch of an ISO 8601 date written by iso8601(); 0 when it does not parse.
std::int64_t epoch_seconds(std::string_view iso_date);

// A random id of `length` characters from [a-z0-9].
std::string random_id(std::size_t length);

// A random id not among the keys of `taken`.
template <typename Map>
std::string unused_id(const Map& taken, std::size_t length) {
  for (;;) {
    std::string id = random_id(length);
    if (taken.find(id) == taken.end()) return id;
  }
}

// Checks an HTTP API route key: "$default", or "METHOD /path" with METHOD one of GET, POST,
// PUT, PATCH, DELETE, HEAD, OPTIONS or ANY, and a path of literal segments and {name}
// variables, where only the last segment may be greedy ({name+}).
Status validate_route_key(std::string_view route_key);

// Checks that a new route path does not give a path variable a different name than an existing
// route uses at the same level ("/items/{id}" against "/items/{itemId}"), which AWS rejects
// with ConflictException. `existing` contains the other routes' keys.
Status check_route_variables(std::string_view route_key, const std::vector<std::string>& existing);

// Parses a Lambda integration URI into its function. `form` selects which URIs are accepted:
// HTTP APIs take a function ARN (optionally qualified) or the API Gateway invocation URI
// arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations; REST
// APIs take only the invocation URI.
enum class UriForm { function_arn_or_invocation, invocation_only };
Result<LambdaTarget> parse_lambda_uri(std::string_view uri, UriForm form);

}  // namespace lambent::services::apigateway
