#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Text helpers shared by the event builders, the response mapping and CORS. Pure functions.
namespace lambent::services::apigateway::text {

std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// Returns `bytes` unchanged when it is valid UTF-8; otherwise a copy with each invalid sequence
// replaced by U+FFFD, so that a JSON serializer never writes invalid UTF-8.
std::string to_valid_utf8(std::string_view bytes);
bool is_valid_utf8(std::string_view bytes);

// "content-type" -> "Content-Type": each dash-separated word capitalized, the rest lower case.
std::string title_case_header(std::string_view lowercase_name);

// The media type of a Content-Type value: lower case, without parameters or spaces
// ("Text/HTML; charset=utf-8" -> "text/html").
std::string media_type(std::string_view content_type);

// Matches `value` against a pattern in which each '*' stands for any run of characters,
// ignoring ASCII case ("image/*", "*/*", "https://*.example.com").
bool wildcard_match(std::string_view pattern, std::string_view value);

// One decoded query parameter, in the order of the query string.
struct QueryParam {
  std::string name;
  std::string value;
};

// Splits a raw query string on '&' and decodes each name and value as a form does ('+' is a
// space, %XX an octet). A piece whose escapes are malformed is kept as written. Empty pieces
// and empty names are skipped.
std::vector<QueryParam> parse_query(std::string_view raw_query);

// "05/Dec/2026:02:14:43 +0000", the form of requestContext.time and requestTime.
std::string format_clf_time(std::int64_t epoch_ms);

// True for an RFC 9110 token (the allowed characters of a header name).
bool is_header_name(std::string_view name);
// True when a header value contains no CR, LF, NUL or other control character except tab.
bool is_header_value(std::string_view value);

}  // namespace lambent::services::apigateway::text
