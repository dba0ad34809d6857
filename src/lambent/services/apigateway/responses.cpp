#include "lambent/services/apigateway/responses.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/apigateway/http_text.h"

#include <boost/json.hpp>

#include <charconv>
#include <optional>

namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

// The reason a call produced no usable response, which selects the front door's error response.
enum class Failure { malformed, function_error, timeout, throttled, not_found, platform };

std::string_view request_id_header(Front front) {
  return front == Front::http_api ? "apigw-requestid" : "x-amzn-RequestId";
}

http::Response error_response(Front front, Failure failure, std::string_view request_id) {
  http::Response response;
  switch (front) {
    case Front::http_api:
      // HTTP APIs return 500 Internal Server Error for every integration failure except the
      // integration timeout, which returns 503 Service Unavailable (bodies as AWS sends them).
      if (failure == Failure::timeout) {
        response.status = 503;
        response.body = R"({"message":"Service Unavailable"})";
      } else {
        response.status = 500;
        response.body = R"({"message":"Internal Server Error"})";
      }
      response.header("Content-Type", "application/json");
      break;

    case Front::rest_api:
      // REST APIs: a function error or a malformed proxy response is 502, a call Lambda
      // rejects (throttled, not found, no permission) is 500, both with the body
      // {"message": "Internal server error"}; the integration timeout is 504.
      if (failure == Failure::timeout) {
        response.status = 504;
        response.body = R"({"message": "Endpoint request timed out"})";
        response.header("Content-Type", "application/json");
        break;
      }
      response.status =
          (failure == Failure::malformed || failure == Failure::function_error) ? 502 : 500;
      response.body = R"({"message": "Internal server error"})";
      response.header("Content-Type", "application/json");
      response.header("x-amzn-ErrorType", "InternalServerErrorException");
      break;

    case Front::function_url:
      // Function URLs return 502 with the text "Internal Server Error" for a function error
      // (recorded from AWS). A function URL has no integration timeout of its own, so a timeout
      // is the function's and fails the same way.
      // NOTE: the Content-Type of this response and the whole throttling response are unverified.
      if (failure == Failure::throttled) {
        response.status = 429;
        response.body = R"({"message":"Rate Exceeded."})";
        response.header("Content-Type", "application/json");
        response.header("x-amzn-ErrorType", "TooManyRequestsException");
        break;
      }
      response.status = 502;
      response.body = "Internal Server Error";
      response.header("Content-Type", "application/json");
      break;
  }
  response.header(std::string(request_id_header(front)), std::string(request_id));
  return response;
}

// The result of mapping a function's return value, or nullopt when it is malformed.
using Mapped = std::optional<http::Response>;

// Returns the HTTP status of a statusCode value: an integer or a string of digits (AWS accepts
// "418"), within 200 to 599. A 1xx status is informational only in HTTP/1.1 and cannot end an
// exchange, so a function that returns one has returned a malformed response.
std::optional<unsigned> parse_status(const json::value& value) {
  std::int64_t code = -1;
  if (value.is_int64()) {
    code = value.get_int64();
  } else if (value.is_uint64()) {
    code = value.get_uint64() > 999 ? -1 : static_cast<std::int64_t>(value.get_uint64());
  } else if (value.is_double()) {
    double number = value.get_double();
    if (number >= 0 && number <= 999 && number == static_cast<double>(static_cast<int>(number))) {
      code = static_cast<std::int64_t>(number);
    }
  } else if (value.is_string()) {
    std::string_view digits = value.get_string();
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    code = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      code = code * 10 + (c - '0');
    }
  }
  if (code < 200 || code > 599) return std::nullopt;
  return static_cast<unsigned>(code);
}

// Returns a header value as text: strings as they are, booleans as "true"/"false", and with
// `allow_numbers` numbers in JSON form. Any other type is malformed.
std::optional<std::string> header_text(const json::value& value, bool allow_numbers) {
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_bool()) return std::string(value.get_bool() ? "true" : "false");
  if (!allow_numbers) return std::nullopt;
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (value.is_uint64()) return std::to_string(value.get_uint64());
  if (value.is_double()) {
    // Shortest round-trip form ("1.5"); Boost.JSON would write "1.5E0".
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value.get_double());
    return std::string(buffer, result.ptr);
  }
  return std::nullopt;
}

// Collects the function's headers into `response`. Names and values that are not valid HTTP
// make the response malformed, because a CR or LF would split it. The framing headers the server
// sets itself and the front door's request id header are dropped.
class HeaderCollector {
 public:
  HeaderCollector(http::Response& response, Front front)
      : response_(response), request_id_name_(request_id_header(front)) {}

  bool add(std::string_view name, std::string value) {
    if (!text::is_header_name(name) || !text::is_header_value(value)) return false;
    if (text::iequals(name, "content-length") || text::iequals(name, "transfer-encoding") ||
        text::iequals(name, "connection") || text::iequals(name, request_id_name_)) {
      return true;
    }
    response_.header(std::string(name), std::move(value));
    return true;
  }

 private:
  http::Response& response_;
  std::string_view request_id_name_;
};

bool has_header(const http::Response& response, std::string_view name) {
  for (const auto& [header_name, value] : response.headers) {
    if (text::iequals(header_name, name)) return true;
  }
  return false;
}

std::string_view header_value(const http::Response& response, std::string_view name) {
  for (const auto& [header_name, value] : response.headers) {
    if (text::iequals(header_name, name)) return value;
  }
  return {};
}

bool matches_any(const std::vector<std::string>& patterns, std::string_view media_type) {
  if (media_type.empty()) return false;
  for (const auto& pattern : patterns) {
    std::string normalized = text::media_type(pattern);
    // Either side may carry the wildcard: a binary type "image/*", or an Accept of "*/*".
    if (text::wildcard_match(normalized, media_type) ||
        text::wildcard_match(media_type, normalized)) {
      return true;
    }
  }
  return false;
}

// True when a REST API converts a base64 response body to binary: the first Accept media type
// (the only one API Gateway honors) or the response's Content-Type is a binary media type.
// NOTE: AWS documents only the Accept rule; the Content-Type and "*/*" matches are unverified.
bool rest_decodes_base64(const RestBinarySupport& binary, const http::Response& response) {
  if (binary.binary_media_types == nullptr) return false;
  std::string_view accept = binary.accept.substr(0, binary.accept.find(','));
  return matches_any(*binary.binary_media_types, text::media_type(accept)) ||
         matches_any(*binary.binary_media_types,
                     text::media_type(header_value(response, "content-type")));
}

// Sets the body, decoding it when isBase64Encoded is true (for REST APIs, only when `binary`
// allows it). False when the flag has the wrong type or the base64 text is invalid.
bool set_body(http::Response& response, std::string body, const json::value* base64_flag,
              const RestBinarySupport* binary = nullptr) {
  bool base64 = false;
  if (base64_flag != nullptr && !base64_flag->is_null()) {
    if (!base64_flag->is_bool()) return false;
    base64 = base64_flag->get_bool();
  }
  if (base64 && binary != nullptr && !rest_decodes_base64(*binary, response)) base64 = false;
  if (!base64) {
    response.body = std::move(body);
    return true;
  }
  // Line breaks are dropped first: encoders such as Python's base64.encodebytes insert them.
  std::erase_if(body, [](char c) { return c == '\r' || c == '\n'; });
  auto decoded = base64_decode(body);
  if (!decoded) return false;
  response.body = std::move(*decoded);
  return true;
}

// Payload format 1.0: the return value must be an object with only the documented keys.
Mapped map_v1(const json::value& result, Front front, const RestBinarySupport* binary) {
  if (!result.is_object()) return std::nullopt;
  const json::object& object = result.get_object();
  for (const auto& entry : object) {
    std::string_view key = entry.key();
    if (key != "statusCode" && key != "headers" && key != "multiValueHeaders" && key != "body" &&
        key != "isBase64Encoded") {
      return std::nullopt;
    }
  }

  http::Response response;
  const json::value* status = object.if_contains("statusCode");
  if (status != nullptr && !status->is_null()) {
    auto code = parse_status(*status);
    if (!code) return std::nullopt;
    response.status = *code;
  }

  HeaderCollector collector(response, front);
  const json::value* multi = object.if_contains("multiValueHeaders");
  if (multi != nullptr && !multi->is_null() && !multi->is_object()) return std::nullopt;
  const json::value* headers = object.if_contains("headers");
  if (headers != nullptr && !headers->is_null()) {
    if (!headers->is_object()) return std::nullopt;
    for (const auto& entry : headers->get_object()) {
      auto value = header_text(entry.value(), /*allow_numbers=*/false);
      if (!value) return std::nullopt;
      // A name present in both maps takes only its multiValueHeaders values, as AWS merges them.
      bool overridden = false;
      if (multi != nullptr && multi->is_object()) {
        for (const auto& multi_entry : multi->get_object()) {
          if (text::iequals(multi_entry.key(), entry.key())) overridden = true;
        }
      }
      if (!overridden && !collector.add(entry.key(), std::move(*value))) return std::nullopt;
    }
  }
  if (multi != nullptr && multi->is_object()) {
    for (const auto& entry : multi->get_object()) {
      if (entry.value().is_null()) continue;
      if (!entry.value().is_array()) {
        auto value = header_text(entry.value(), /*allow_numbers=*/false);
        if (!value || !collector.add(entry.key(), std::move(*value))) return std::nullopt;
        continue;
      }
      for (const auto& item : entry.value().get_array()) {
        auto value = header_text(item, /*allow_numbers=*/false);
        if (!value || !collector.add(entry.key(), std::move(*value))) return std::nullopt;
      }
    }
  }

  std::string body;
  const json::value* body_value = object.if_contains("body");
  if (body_value != nullptr && !body_value->is_null()) {
    // A body that is not a string (an object, say) is the classic malformed proxy response.
    if (!body_value->is_string()) return std::nullopt;
    body = std::string(body_value->get_string());
  }
  if (!set_body(response, std::move(body), object.if_contains("isBase64Encoded"), binary)) {
    return std::nullopt;
  }
  return response;
}

// Returns JSON text without the whitespace between tokens, keeping every token (numbers and
// string escapes included) exactly as written. `text` must be valid JSON.
std::string compact_json(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '"') in_string = true;
    out.push_back(c);
  }
  return out;
}

// Payload format 2.0: an object with a statusCode is a response description; anything else
// is the body of a 200 response, inferred as AWS documents.
Mapped map_v2(const json::value& result, std::string_view payload, Front front) {
  const json::object* object = result.if_object();
  if (object == nullptr || !object->contains("statusCode")) {
    http::Response response;
    // A JSON string becomes the body as its bare text: for a handler returning "hello", AWS
    // sends a function URL client the 5-byte body hello. Other values become their JSON text
    // without whitespace, so a returned {"hello": "world"} arrives as {"hello":"world"}.
    // NOTE: the compact form is recorded from function URLs; HTTP APIs are assumed to match.
    if (result.is_string()) {
      response.body = std::string(result.get_string());
    } else {
      response.body = compact_json(payload);
    }
    response.header("Content-Type", "application/json");
    return response;
  }

  http::Response response;
  auto code = parse_status(object->at("statusCode"));
  if (!code) return std::nullopt;
  response.status = *code;

  HeaderCollector collector(response, front);
  const json::value* headers = object->if_contains("headers");
  if (headers != nullptr && !headers->is_null()) {
    if (!headers->is_object()) return std::nullopt;
    for (const auto& entry : headers->get_object()) {
      auto value = header_text(entry.value(), /*allow_numbers=*/true);
      if (!value || !collector.add(entry.key(), std::move(*value))) return std::nullopt;
    }
  }

  // Each entry of `cookies` becomes one Set-Cookie header.
  const json::value* cookies = object->if_contains("cookies");
  if (cookies != nullptr && !cookies->is_null()) {
    if (!cookies->is_array()) return std::nullopt;
    for (const auto& cookie : cookies->get_array()) {
      if (!cookie.is_string() || !collector.add("Set-Cookie", std::string(cookie.get_string()))) {
        return std::nullopt;
      }
    }
  }

  std::string body;
  const json::value* body_value = object->if_contains("body");
  if (body_value != nullptr && !body_value->is_null()) {
    // NOTE: a non-string body is sent as its JSON text; whether AWS rejects it is unverified.
    body = body_value->is_string() ? std::string(body_value->get_string())
                                   : json::serialize(*body_value);
  }
  if (!set_body(response, std::move(body), object->if_contains("isBase64Encoded"))) {
    return std::nullopt;
  }
  return response;
}

// Implements build_response and build_rest_response; `binary` is null except for the latter.
http::Response respond(Front front, PayloadFormat format, CallStatus status, std::string payload,
                       std::string_view request_id, const RestBinarySupport* binary) {
  switch (status) {
    case CallStatus::returned:
      break;
    case CallStatus::function_error:
      return error_response(front, Failure::function_error, request_id);
    case CallStatus::timeout:
      return error_response(front, Failure::timeout, request_id);
    case CallStatus::throttled:
      return error_response(front, Failure::throttled, request_id);
    case CallStatus::not_found:
      return error_response(front, Failure::not_found, request_id);
    case CallStatus::failure:
      return error_response(front, Failure::platform, request_id);
  }

  boost::system::error_code error;
  json::value result = json::parse(payload, error);
  if (error) {
    LOG_WARN("apigateway", "malformed_response", "request_id={} reason=\"the function's result "
             "is not JSON\"", request_id);
    return error_response(front, Failure::malformed, request_id);
  }

  Mapped mapped =
      format == PayloadFormat::v1 ? map_v1(result, front, binary) : map_v2(result, payload, front);
  if (!mapped) {
    // The same check AWS reports as "Malformed Lambda proxy response" in its execution logs.
    LOG_WARN("apigateway", "malformed_response", "request_id={} format={} reason=\"statusCode, "
             "headers, multiValueHeaders, cookies, body or isBase64Encoded has a value a proxy "
             "response cannot carry\"", request_id, format == PayloadFormat::v1 ? "1.0" : "2.0");
    return error_response(front, Failure::malformed, request_id);
  }

  // Both formats default the Content-Type to application/json when the function sets none.
  if (!has_header(*mapped, "content-type")) mapped->header("Content-Type", "application/json");
  mapped->header(std::string(request_id_header(front)), std::string(request_id));
  return std::move(*mapped);
}

}  // namespace

http::Response build_response(Front front, PayloadFormat format, CallStatus status,
                              std::string payload, std::string_view request_id) {
  return respond(front, format, status, std::move(payload), request_id, nullptr);
}

http::Response build_rest_response(CallStatus status, std::string payload,
                                   std::string_view request_id, const RestBinarySupport& binary) {
  return respond(Front::rest_api, PayloadFormat::v1, status, std::move(payload), request_id,
                 &binary);
}

}  // namespace lambent::services::apigateway
