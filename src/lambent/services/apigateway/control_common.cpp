#include "lambent/services/apigateway/control_common.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <regex>
#include <set>

namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

struct ErrorShape {
  unsigned status;
  std::string_view type;
};

ErrorShape shape_for(Errc code) {
  switch (code) {
    case Errc::invalid_parameter:
    case Errc::validation:
    case Errc::invalid_content:
      return {400, "BadRequestException"};
    case Errc::not_found:
      return {404, "NotFoundException"};
    case Errc::conflict:
    case Errc::precondition_failed:
      return {409, "ConflictException"};
    case Errc::too_large:
      return {413, "PayloadTooLargeException"};
    case Errc::throttled:
      return {429, "TooManyRequestsException"};
    case Errc::unauthorized:
      return {403, "UnauthorizedException"};
    case Errc::not_implemented:
      return {501, "NotImplemented"};
    case Errc::io:
    case Errc::internal:
      return {500, "InternalServerErrorException"};
  }
  return {500, "InternalServerErrorException"};
}

constexpr std::string_view kIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

bool is_variable_segment(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

bool is_greedy(std::string_view segment) {
  return is_variable_segment(segment) && segment.size() >= 3 && segment[segment.size() - 2] == '+';
}

std::vector<std::string_view> route_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t at = 1;
  while (at <= path.size()) {
    std::size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    segments.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  return segments;
}

std::optional<LambdaTarget> parse_function_arn(std::string_view arn) {
  // The function ARN pattern of the Lambda API: partition, region, 12-digit account, name and
  // an optional version or alias. The name and the qualifier may also contain
  // ${stageVariables.NAME} references (letters, digits and underscores in NAME, as stage
  // variable names allow); their values are checked when a stage resolves them.
  static const std::regex pattern(
      R"(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:function:)"
      R"(((?:[a-zA-Z0-9\-_]|\$\{stageVariables\.[a-zA-Z0-9_]+\})+))"
      R"((:(\$LATEST|(?:[a-zA-Z0-9\-_]|\$\{stageVariables\.[a-zA-Z0-9_]+\})+))?)");
  // std::regex recurses once per character; a bound keeps a long URI from exhausting the stack.
  if (arn.size() > 1024) return std::nullopt;
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_match(arn.begin(), arn.end(), match, pattern)) {
    return std::nullopt;
  }
  auto has_reference = [](const std::string& text) {
    return text.find("${stageVariables.") != std::string::npos;
  };
  LambdaTarget target;
  target.function_name = match[2].str();
  if (match[4].matched) target.qualifier = match[4].str();
  bool name_reference = has_reference(target.function_name);
  bool qualifier_reference = target.qualifier && has_reference(*target.qualifier);
  if (!name_reference && target.function_name.size() > 64) return std::nullopt;
  if (target.qualifier && !qualifier_reference && target.qualifier->size() > 128) {
    return std::nullopt;
  }
  target.uses_stage_variables = name_reference || qualifier_reference;
  return target;
}

}  // namespace

http::Response gateway_error(const Error& error, std::string_view request_id) {
  ErrorShape shape = shape_for(error.code);
  http::Response response;
  response.status = shape.status;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.header("x-amzn-ErrorType", error.type.empty() ? std::string(shape.type) : error.type);
  response.body = json::serialize(json::object{{"message", error.message}});
  return response;
}

http::Response gateway_json(unsigned status, const json::value& body, std::string_view request_id) {
  http::Response response;
  response.status = status;
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.body = json::serialize(body);
  return response;
}

http::Response gateway_empty(unsigned status, std::string_view request_id) {
  http::Response response;
  response.status = status;
  response.header("x-amzn-RequestId", std::string(request_id));
  return response;
}

http::Response store_failed(const Error& error, std::string_view api_id,
                            std::string_view request_id) {
  LOG_ERROR("apigateway", "store_failed", "api_id={} request_id={} error=\"{}\"", api_id,
            request_id, error.message);
  return gateway_error(Error{Errc::internal,
                             "Internal server error: the change could not be "
                             "stored (" +
                                 error.message + ")"},
                       request_id);
}

Error bad_request(std::string message) {
  return Error{Errc::invalid_parameter, std::move(message)};
}
Error not_found(std::string message) { return Error{Errc::not_found, std::move(message)}; }
Error conflict(std::string message) { return Error{Errc::conflict, std::move(message)}; }

Result<json::object> parse_request_body(const std::string& body) {
  if (body.empty()) return json::object();
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec) return bad_request("Invalid request body: not valid JSON (" + ec.message() + ")");
  if (!value.is_object()) return bad_request("Invalid request body: expected a JSON object");
  return std::move(value.as_object());
}

// ---- BodyFields ----

const json::value* BodyFields::find(std::string_view key) const {
  const json::value* value = body_.if_contains(key);
  if (value == nullptr || value->is_null()) return nullptr;
  return value;
}

bool BodyFields::has(std::string_view key) const { return find(key) != nullptr; }

Status BodyFields::text(std::string_view key, std::string& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  if (!value->is_string())
    return bad_request(fmt::format("Invalid value for {}: expected a string", key));
  out = std::string(value->as_string());
  return ok_status();
}

Status BodyFields::text(std::string_view key, std::optional<std::string>& out) const {
  std::string value;
  if (!has(key)) return ok_status();
  auto read = text(key, value);
  if (!read) return read;
  out = std::move(value);
  return ok_status();
}

Status BodyFields::boolean(std::string_view key, bool& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  if (!value->is_bool())
    return bad_request(fmt::format("Invalid value for {}: expected a boolean", key));
  out = value->as_bool();
  return ok_status();
}

Status BodyFields::boolean(std::string_view key, std::optional<bool>& out) const {
  bool value = false;
  if (!has(key)) return ok_status();
  auto read = boolean(key, value);
  if (!read) return read;
  out = value;
  return ok_status();
}

Status BodyFields::integer(std::string_view key, std::optional<std::int64_t>& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  if (value->is_int64()) {
    out = value->as_int64();
  } else if (value->is_uint64() && value->as_uint64() <= INT64_MAX) {
    out = static_cast<std::int64_t>(value->as_uint64());
  } else {
    return bad_request(fmt::format("Invalid value for {}: expected an integer", key));
  }
  return ok_status();
}

Status BodyFields::number(std::string_view key, std::optional<double>& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  if (value->is_double()) {
    out = value->as_double();
  } else if (value->is_int64()) {
    out = static_cast<double>(value->as_int64());
  } else if (value->is_uint64()) {
    out = static_cast<double>(value->as_uint64());
  } else {
    return bad_request(fmt::format("Invalid value for {}: expected a number", key));
  }
  return ok_status();
}

Status BodyFields::strings(std::string_view key,
                           std::optional<std::vector<std::string>>& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  auto invalid = [&] {
    return bad_request(fmt::format("Invalid value for {}: expected a list of strings", key));
  };
  if (!value->is_array()) return invalid();
  std::vector<std::string> items;
  for (const auto& item : value->as_array()) {
    if (!item.is_string()) return invalid();
    items.emplace_back(item.as_string());
  }
  out = std::move(items);
  return ok_status();
}

Status BodyFields::string_map(std::string_view key,
                              std::optional<std::map<std::string, std::string>>& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  auto invalid = [&] {
    return bad_request(fmt::format("Invalid value for {}: expected a map of strings", key));
  };
  if (!value->is_object()) return invalid();
  std::map<std::string, std::string> items;
  for (const auto& [name, item] : value->as_object()) {
    if (!item.is_string()) return invalid();
    items.emplace(std::string(name), std::string(item.as_string()));
  }
  out = std::move(items);
  return ok_status();
}

Status BodyFields::bool_map(std::string_view key,
                            std::optional<std::map<std::string, bool>>& out) const {
  const json::value* value = find(key);
  if (value == nullptr) return ok_status();
  auto invalid = [&] {
    return bad_request(fmt::format("Invalid value for {}: expected a map of booleans", key));
  };
  if (!value->is_object()) return invalid();
  std::map<std::string, bool> items;
  for (const auto& [name, item] : value->as_object()) {
    if (!item.is_bool()) return invalid();
    items.emplace(std::string(name), item.as_bool());
  }
  out = std::move(items);
  return ok_status();
}

Result<const json::object*> BodyFields::object(std::string_view key) const {
  const json::value* value = find(key);
  if (value == nullptr) return static_cast<const json::object*>(nullptr);
  if (!value->is_object()) {
    return bad_request(fmt::format("Invalid value for {}: expected an object", key));
  }
  return &value->as_object();
}

// ---- paths, paging, ids, dates ----

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t at = 0;
  while (at < path.size()) {
    if (path[at] == '/') {
      ++at;
      continue;
    }
    std::size_t slash = path.find('/', at);
    if (slash == std::string_view::npos) slash = path.size();
    std::string decoded;
    std::string_view raw = path.substr(at, slash - at);
    if (!http::percent_decode(raw, decoded)) decoded = std::string(raw);
    segments.push_back(std::move(decoded));
    at = slash;
  }
  return segments;
}

namespace {

Result<std::size_t> parse_limit(const http::QueryValue& value, std::string_view name,
                                std::size_t max) {
  std::int64_t limit = 0;
  auto [end, ec] =
      std::from_chars(value.value.data(), value.value.data() + value.value.size(), limit);
  if (ec != std::errc() || end != value.value.data() + value.value.size() || limit < 1 ||
      static_cast<std::uint64_t>(limit) > max) {
    return bad_request(fmt::format("Invalid {} specified: {}. It must be an integer from 1 to {}",
                                   name, value.value, max));
  }
  return static_cast<std::size_t>(limit);
}

}  // namespace

json::object page_of(std::vector<std::pair<std::string, json::value>> entries,
                     const PageRequest& page, PageNames names) {
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json::array items;
  json::object out;
  for (auto& [key, item] : entries) {
    if (key < page.start) continue;
    if (page.limit != 0 && items.size() == page.limit) {
      out[names.next] = key;
      break;
    }
    items.push_back(std::move(item));
  }
  out[names.items] = std::move(items);
  return out;
}

Result<PageRequest> parse_v2_page(const http::Request& request) {
  PageRequest page;
  auto max_results = http::query_param(request.query(), "maxResults");
  if (max_results.found) {
    auto limit = parse_limit(max_results, "MaxResults", 1000);
    if (!limit) return std::move(limit).error();
    page.limit = *limit;
  }
  auto token = http::query_param(request.query(), "nextToken");
  if (token.found) page.start = token.value;
  return page;
}

Result<PageRequest> parse_v1_page(const http::Request& request) {
  PageRequest page;
  page.limit = 25;
  auto limit = http::query_param(request.query(), "limit");
  if (limit.found) {
    auto parsed = parse_limit(limit, "limit", 500);
    if (!parsed) return std::move(parsed).error();
    page.limit = *parsed;
  }
  auto position = http::query_param(request.query(), "position");
  if (position.found) page.start = position.value;
  return page;
}

std::string iso8601(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::int64_t epoch_seconds(std::string_view iso_date) {
  std::tm tm{};
  std::string text(iso_date);
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string random_id(std::size_t length) {
  std::string hex = random_hex(length);
  std::string id;
  id.reserve(length);
  for (std::size_t i = 0; i < length; ++i) {
    unsigned byte = static_cast<unsigned>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
    id.push_back(kIdAlphabet[byte % kIdAlphabet.size()]);
  }
  return id;
}

// ---- route keys ----

Status validate_route_key(std::string_view route_key) {
  if (route_key == "$default") return ok_status();
  auto invalid = [&](std::string_view reason) {
    return bad_request(fmt::format(
        "Invalid route key specified: {}. {} A route key is $default or METHOD /path, for "
        "example GET /items/{{id}} or ANY /{{proxy+}}.",
        route_key, reason));
  };
  std::size_t space = route_key.find(' ');
  if (space == std::string_view::npos) return invalid("It has no method.");
  std::string_view method = route_key.substr(0, space);
  std::string_view path = route_key.substr(space + 1);
  static const std::set<std::string_view> kMethods = {"GET",    "POST", "PUT",     "PATCH",
                                                      "DELETE", "HEAD", "OPTIONS", "ANY"};
  if (!kMethods.contains(method)) {
    return invalid(fmt::format(
        "The method {} is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY.",
        method));
  }
  if (path.empty() || path.front() != '/') return invalid("The path must start with /.");
  if (path == "/") return ok_status();

  std::vector<std::string_view> segments = route_segments(path);
  std::set<std::string_view> variables;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    std::string_view segment = segments[i];
    if (segment.empty()) return invalid("The path has an empty segment.");
    for (char c : segment) {
      if (static_cast<unsigned char>(c) <= ' ' || c == '?' || c == '#' || c == '\\') {
        return invalid(
            fmt::format("The path segment {} contains a character that is not "
                        "allowed in a path.",
                        segment));
      }
    }
    bool has_brace = segment.find_first_of("{}") != std::string_view::npos;
    if (!has_brace) continue;
    if (!is_variable_segment(segment)) {
      return invalid(fmt::format(
          "The path segment {} must be a whole {{name}} variable or contain no braces.", segment));
    }
    bool greedy = is_greedy(segment);
    std::string_view name = segment.substr(1, segment.size() - (greedy ? 3 : 2));
    static const std::regex kName("[a-zA-Z0-9._-]+");
    if (name.empty() || !std::regex_match(name.begin(), name.end(), kName)) {
      return invalid(
          fmt::format("The path variable {} must be named with letters, digits, "
                      "'.', '_' or '-'.",
                      segment));
    }
    if (greedy && i + 1 != segments.size()) {
      return invalid(fmt::format("The greedy path variable {} must be the last segment.", segment));
    }
    if (!variables.insert(name).second) {
      return invalid(fmt::format("The path variable {{{}}} appears more than once.", name));
    }
  }
  return ok_status();
}

Status check_route_variables(std::string_view route_key, const std::vector<std::string>& existing) {
  auto space = route_key.find(' ');
  if (space == std::string_view::npos) return ok_status();
  std::vector<std::string_view> segments = route_segments(route_key.substr(space + 1));
  for (const std::string& other_key : existing) {
    auto other_space = other_key.find(' ');
    if (other_space == std::string::npos) continue;
    std::string_view other_path = std::string_view(other_key).substr(other_space + 1);
    std::vector<std::string_view> other = route_segments(other_path);
    for (std::size_t i = 0; i < segments.size() && i < other.size(); ++i) {
      if (segments[i] == other[i]) continue;
      bool both_variables = is_variable_segment(segments[i]) && is_variable_segment(other[i]) &&
                            !is_greedy(segments[i]) && !is_greedy(other[i]);
      if (both_variables) {
        return conflict(fmt::format(
            "The provided route key \"{}\" has a conflicting variable on the same hierarchical "
            "level as \"{}\"",
            route_key, other_key));
      }
      break;
    }
  }
  return ok_status();
}

// ---- Lambda integration URIs ----

Result<LambdaTarget> parse_lambda_uri(std::string_view uri, UriForm form) {
  constexpr std::string_view kFunctionsPath = ":lambda:path/2015-03-31/functions/";
  constexpr std::string_view kInvocations = "/invocations";
  if (uri.starts_with("arn:aws:apigateway:")) {
    std::size_t functions = uri.find(kFunctionsPath);
    if (functions != std::string_view::npos && uri.ends_with(kInvocations)) {
      std::size_t start = functions + kFunctionsPath.size();
      std::string_view arn = uri.substr(start, uri.size() - kInvocations.size() - start);
      auto target = parse_function_arn(arn);
      if (target) return *target;
    }
    if (form == UriForm::invocation_only && uri.find(":lambda:") != std::string_view::npos &&
        uri.find(":lambda:path/") == std::string_view::npos &&
        uri.find(":lambda:action/") == std::string_view::npos) {
      return bad_request("AWS ARN for integration must contain path or action");
    }
    return bad_request(fmt::format(
        "Invalid integration URI specified: {}. Lambent supports Lambda proxy integrations to "
        "arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations",
        uri));
  }
  if (form == UriForm::function_arn_or_invocation) {
    auto target = parse_function_arn(uri);
    if (target) return *target;
    return bad_request(fmt::format(
        "Invalid integration URI specified: {}. Lambent supports Lambda proxy integrations whose "
        "URI is a function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME, optionally with "
        ":VERSION or :ALIAS) or "
        "arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations",
        uri));
  }
  if (uri.starts_with("arn:")) {
    return bad_request(
        "Invalid ARN specified in the request. A REST API Lambda proxy integration takes "
        "arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations");
  }
  return bad_request(fmt::format(
      "Invalid integration URI specified: {}. Lambent supports Lambda proxy integrations to "
      "arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations",
      uri));
}

Status check_stage_variables(const std::map<std::string, std::string>& variables) {
  static const std::regex kName("[A-Za-z0-9_]{1,64}");
  static const std::regex kValue(R"([A-Za-z0-9\-._~:/?#&=,]*)");
  for (const auto& [name, value] : variables) {
    if (!std::regex_match(name, kName)) {
      return bad_request(fmt::format(
          "Invalid stage variable name specified: {}. Names use letters, digits and '_', up to "
          "64 characters",
          name));
    }
    if (value.size() > 2048 || !std::regex_match(value, kValue)) {
      return bad_request(fmt::format(
          "Invalid value for stage variable {}. Values use letters, digits and -._~:/?#&=, and "
          "are at most 2048 characters",
          name));
    }
  }
  return ok_status();
}

http::Response unsupported_operation(std::string_view method, std::string_view path,
                                     std::string_view request_id, std::string_view detail) {
  std::string because = detail.empty() ? std::string() : fmt::format(" ({})", detail);
  return gateway_error(
      Error{Errc::not_implemented,
            fmt::format("{} {} is not an API Gateway operation Lambent supports{}; "
                        "docs/compat/apigateway.md lists the supported operations.",
                        method, path, because)},
      request_id);
}

}  // namespace lambent::services::apigateway
