#include "lambent/services/cloudwatch/protocol.h"

#include "lambent/services/cloudwatch/cbor.h"
#include "lambent/services/cloudwatch/errors.h"
#include "lambent/services/cloudwatch/timestamps.h"

#include "lambent/base/utf8.h"

#include <fmt/format.h>
#include <zlib.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <unordered_map>

namespace lambent::services::cloudwatch {

namespace json = boost::json;

namespace {

constexpr std::string_view kCborPathPrefix = "/service/GraniteServiceVersion20100801/operation/";
// Shape names in __type are qualified with the Smithy namespace of the CloudWatch model.
constexpr std::string_view kShapeNamespace = "com.amazonaws.cloudwatch#";

// Every operation of the CloudWatch model (botocore 1.43), sorted for binary search.
constexpr std::array<std::string_view, 46> kOperations = {
    "DeleteAlarmMuteRule",
    "DeleteAlarms",
    "DeleteAnomalyDetector",
    "DeleteDashboards",
    "DeleteInsightRules",
    "DeleteMetricStream",
    "DescribeAlarmContributors",
    "DescribeAlarmHistory",
    "DescribeAlarms",
    "DescribeAlarmsForMetric",
    "DescribeAnomalyDetectors",
    "DescribeInsightRules",
    "DisableAlarmActions",
    "DisableInsightRules",
    "EnableAlarmActions",
    "EnableInsightRules",
    "GetAlarmMuteRule",
    "GetDashboard",
    "GetInsightRuleReport",
    "GetMetricData",
    "GetMetricStatistics",
    "GetMetricStream",
    "GetMetricWidgetImage",
    "GetOTelEnrichment",
    "ListAlarmMuteRules",
    "ListDashboards",
    "ListManagedInsightRules",
    "ListMetricStreams",
    "ListMetrics",
    "ListTagsForResource",
    "PutAlarmMuteRule",
    "PutAnomalyDetector",
    "PutCompositeAlarm",
    "PutDashboard",
    "PutInsightRule",
    "PutManagedInsightRules",
    "PutMetricAlarm",
    "PutMetricData",
    "PutMetricStream",
    "SetAlarmState",
    "StartMetricStreams",
    "StartOTelEnrichment",
    "StopMetricStreams",
    "StopOTelEnrichment",
    "TagResource",
    "UntagResource",
};

bool is_form(std::string_view content_type) {
  return content_type.empty() || content_type.starts_with("application/x-www-form-urlencoded");
}


// Splits a form or query string into decoded name/value pairs; an empty name is skipped.
Result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view part = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string name, value;
    if (!http::form_decode(part.substr(0, eq), name) ||
        (eq != std::string_view::npos && !http::form_decode(part.substr(eq + 1), value))) {
      return malformed_input(fmt::format("The form field {} has a malformed percent-encoding.",
                                         part.substr(0, std::min<std::size_t>(part.size(), 100))));
    }
    if (!is_valid_utf8(name) || !is_valid_utf8(value)) {
      return malformed_input(fmt::format(
          "The form field {} is not valid UTF-8 once percent-decoded.",
          to_valid_utf8(utf8_prefix(name, 100))));
    }
    if (name.empty()) continue;
    fields.emplace_back(std::move(name), std::move(value));
  }
  return fields;
}

// Inflates a gzip (or zlib) body, failing once the output passes `limit` bytes.
Result<std::string> gunzip(std::string_view compressed, std::size_t limit) {
  z_stream stream{};
  // 15 + 32: the largest window, with gzip or zlib headers detected automatically.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) {
    return Error{Errc::internal, "cannot initialize zlib"};
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  std::array<char, 16384> chunk{};
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      inflateEnd(&stream);
      return malformed_input("The request body is not valid gzip data.");
    }
    out.append(chunk.data(), chunk.size() - stream.avail_out);
    if (out.size() > limit) {
      inflateEnd(&stream);
      return request_too_large(
          fmt::format("The decompressed request body exceeds {} bytes.", limit));
    }
    if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
      inflateEnd(&stream);
      return malformed_input("The gzip request body is truncated.");
    }
  }
  inflateEnd(&stream);
  return out;
}

// ---- query fields to Value ----

struct FieldNode {
  std::optional<std::string> text;
  std::vector<std::pair<std::string, FieldNode>> children;  // in arrival order
  // Positions in `children` by name, because a list of 1,000 members has 1,000 children.
  std::unordered_map<std::string, std::size_t> positions;

  FieldNode& child(std::string_view name) {
    auto [it, added] = positions.try_emplace(std::string(name), children.size());
    if (added) children.emplace_back(std::string(name), FieldNode{});
    return children[it->second].second;
  }
};

bool is_index(std::string_view text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The numbered children of a "member" or "entry" node, in index order.
std::vector<const FieldNode*> indexed(const FieldNode& node) {
  std::vector<std::pair<long, const FieldNode*>> numbered;
  for (const auto& [key, child] : node.children) {
    if (is_index(key)) numbered.emplace_back(std::stol(key), &child);
  }
  std::sort(numbered.begin(), numbered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const FieldNode*> out;
  for (const auto& [index, child] : numbered) out.push_back(child);
  return out;
}

bool only_child_is(const FieldNode& node, std::string_view name) {
  return node.children.size() == 1 && node.children.front().first == name;
}

Value to_value(const FieldNode& node) {
  if (node.children.empty()) return Value::string(node.text.value_or(""));
  if (only_child_is(node, "member")) {
    Value list = Value::list();
    for (const FieldNode* element : indexed(node.children.front().second)) {
      list.push_back(to_value(*element));
    }
    return list;
  }
  if (only_child_is(node, "entry")) {
    Value map = Value::map();
    for (const FieldNode* entry : indexed(node.children.front().second)) {
      std::string key;
      Value value = Value::string("");
      for (const auto& [name, part] : entry->children) {
        if (name == "key") key = part.text.value_or("");
        if (name == "value") value = to_value(part);
      }
      map.set(std::move(key), std::move(value));
    }
    return map;
  }
  Value structure = Value::structure();
  for (const auto& [name, child] : node.children) structure.set(name, to_value(child));
  return structure;
}

// ---- JSON ----

Value from_json(const json::value& in) {
  switch (in.kind()) {
    case json::kind::null:
      return Value();
    case json::kind::bool_:
      return Value::boolean(in.get_bool());
    case json::kind::int64:
      return Value::integer(in.get_int64());
    case json::kind::uint64: {
      std::uint64_t n = in.get_uint64();
      if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Value::number(static_cast<double>(n));
      }
      return Value::integer(static_cast<std::int64_t>(n));
    }
    case json::kind::double_:
      return Value::number(in.get_double());
    case json::kind::string:
      return Value::string(std::string(in.get_string()));
    case json::kind::array: {
      Value list = Value::list();
      for (const auto& element : in.get_array()) list.push_back(from_json(element));
      return list;
    }
    case json::kind::object: {
      Value structure = Value::structure();
      for (const auto& member : in.get_object()) {
        structure.members().emplace_back(std::string(member.key()), from_json(member.value()));
      }
      return structure;
    }
  }
  return Value();
}

json::value to_json(const Value& in) {
  switch (in.kind()) {
    case Value::Kind::null:
      return nullptr;
    case Value::Kind::boolean:
      return in.as_bool();
    case Value::Kind::integer:
      return in.as_integer();
    case Value::Kind::number:
      return in.as_number();
    case Value::Kind::string:
      return json::string(to_valid_utf8(in.as_string()));
    case Value::Kind::timestamp: {
      std::int64_t ms = in.as_timestamp_ms();
      if (ms % 1000 == 0) return ms / 1000;
      return static_cast<double>(ms) / 1000.0;
    }
    case Value::Kind::list: {
      json::array array;
      array.reserve(in.items().size());
      for (const auto& item : in.items()) array.push_back(to_json(item));
      return array;
    }
    case Value::Kind::structure:
    case Value::Kind::map: {
      json::object object;
      for (const auto& [key, member] : in.members()) {
        if (!member.is_null()) object[key] = to_json(member);
      }
      return object;
    }
  }
  return nullptr;
}

// ---- XML ----


std::string format_number(double value) { return fmt::format("{}", value); }

void append_xml(std::string& out, std::string_view name, const Value& value) {
  if (value.is_null()) return;
  out += '<';
  out += name;
  out += '>';
  switch (value.kind()) {
    case Value::Kind::null:
      break;
    case Value::Kind::boolean:
      out += value.as_bool() ? "true" : "false";
      break;
    case Value::Kind::integer:
      out += std::to_string(value.as_integer());
      break;
    case Value::Kind::number:
      out += format_number(value.as_number());
      break;
    case Value::Kind::string:
      http::append_xml_escaped(out, value.as_string());
      break;
    case Value::Kind::timestamp:
      out += format_iso8601_ms(value.as_timestamp_ms());
      break;
    case Value::Kind::list:
      for (const auto& item : value.items()) append_xml(out, "member", item);
      break;
    case Value::Kind::structure:
      for (const auto& [key, member] : value.members()) append_xml(out, key, member);
      break;
    case Value::Kind::map:
      for (const auto& [key, member] : value.members()) {
        out += "<entry><key>";
        http::append_xml_escaped(out, key);
        out += "</key>";
        append_xml(out, "value", member);
        out += "</entry>";
      }
      break;
  }
  out += "</";
  out += name;
  out += '>';
}

std::string xml_output(std::string_view operation, const Value* output,
                       std::string_view request_id) {
  std::string out = fmt::format("<{}Response xmlns=\"{}\">", operation, kXmlNamespace);
  if (output != nullptr) append_xml(out, fmt::format("{}Result", operation), *output);
  out += "<ResponseMetadata><RequestId>";
  http::append_xml_escaped(out, request_id);
  out += fmt::format("</RequestId></ResponseMetadata></{}Response>", operation);
  return out;
}

Result<Call> decode_query(const http::Request& request, std::string_view body) {
  Call call;
  call.protocol = Protocol::query;
  std::vector<std::pair<std::string, std::string>> fields;
  auto from_query = parse_form(request.query());
  if (!from_query) return std::move(from_query).error();
  fields = std::move(*from_query);
  if (!body.empty()) {
    if (!is_form(request.header("content-type"))) {
      return malformed_input(
          fmt::format("The query protocol takes an application/x-www-form-urlencoded body, not {}.",
                      request.header("content-type")));
    }
    auto from_body = parse_form(body);
    if (!from_body) return std::move(from_body).error();
    for (auto& field : *from_body) fields.push_back(std::move(field));
  }

  std::optional<std::string> version;
  std::vector<std::pair<std::string, std::string>> parameters;
  for (auto& [name, value] : fields) {
    if (name == "Action") {
      call.operation = value;
    } else if (name == "Version") {
      version = value;
    } else if (!name.starts_with("X-Amz-")) {
      // Presigned requests carry their signature in X-Amz-* fields, which are no parameters.
      parameters.emplace_back(std::move(name), std::move(value));
    }
  }
  if (call.operation.empty()) return missing_parameter("Action");
  if (version && *version != kApiVersion) {
    return Error{
        Errc::invalid_parameter,
        fmt::format("Could not find operation {} for version {}", call.operation, *version),
        "InvalidAction"};
  }
  call.input = query_fields_to_value(parameters);
  return call;
}

Error serialization_error(std::string message) {
  return Error{Errc::invalid_content, std::move(message), "SerializationException"};
}

}  // namespace

bool is_cloudwatch_operation(std::string_view operation) {
  return std::binary_search(kOperations.begin(), kOperations.end(), operation);
}


Value query_fields_to_value(const std::vector<std::pair<std::string, std::string>>& fields) {
  FieldNode root;
  for (const auto& [name, value] : fields) {
    FieldNode* node = &root;
    std::string_view rest = name;
    while (true) {
      auto dot = rest.find('.');
      node = &node->child(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest = rest.substr(dot + 1);
    }
    node->text = value;
  }
  Value input = to_value(root);
  // A request without parameters still has an input structure.
  if (input.kind() != Value::Kind::structure) return Value::structure();
  return input;
}

std::optional<std::string> credential_scope_service(const http::Request& request) {
  std::string credential;
  std::string_view authorization = request.header("authorization");
  auto at = authorization.find("Credential=");
  if (at != std::string_view::npos) {
    std::string_view rest = authorization.substr(at + 11);
    credential = std::string(rest.substr(0, rest.find_first_of(", ")));
  } else {
    auto query = http::query_param(request.query(), "X-Amz-Credential");
    if (!query.found) return std::nullopt;
    credential = query.value;
  }
  // AKID/YYYYMMDD/region/service/aws4_request
  std::size_t slash = 0;
  for (int i = 0; i < 3; ++i) {
    slash = credential.find('/', slash);
    if (slash == std::string::npos) return std::nullopt;
    ++slash;
  }
  auto end = credential.find('/', slash);
  if (end == std::string::npos) return std::nullopt;
  return credential.substr(slash, end - slash);
}

bool is_cloudwatch_request(const http::Request& request) {
  std::string_view path = request.path();
  if (path.starts_with(kCborPathPrefix)) return true;
  std::string_view target = request.header("x-amz-target");
  if (!target.empty()) {
    return target.size() > kTargetPrefix.size() && target.starts_with(kTargetPrefix) &&
           target[kTargetPrefix.size()] == '.';
  }
  if (path != "/" && !path.empty()) return false;
  if (request.method != "POST" && request.method != "GET") return false;
  if (auto service = credential_scope_service(request)) return *service == "monitoring";

  // Unsigned: the Action decides. It usually comes first in the body, so only its field is
  // decoded.
  std::string action;
  for (std::string_view text : {request.query(), std::string_view(request.body)}) {
    while (!text.empty()) {
      auto amp = text.find('&');
      std::string_view part = text.substr(0, amp);
      text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
      if (part.starts_with("Action=") && http::form_decode(part.substr(7), action)) {
        return is_cloudwatch_operation(action);
      }
    }
  }
  return false;
}

Protocol detect_protocol(const http::Request& request) {
  if (request.path().starts_with(kCborPathPrefix)) return Protocol::cbor;
  if (!request.header("x-amz-target").empty()) return Protocol::json;
  return Protocol::query;
}

Result<Call> decode_call(const http::Request& request, std::size_t max_body_bytes) {
  Protocol protocol = detect_protocol(request);
  std::string inflated;
  std::string_view body = request.body;
  std::string_view encoding = request.header("content-encoding");
  if (encoding == "gzip" || encoding == "x-gzip") {
    auto decompressed = gunzip(body, max_body_bytes);
    if (!decompressed) return std::move(decompressed).error();
    inflated = std::move(*decompressed);
    body = inflated;
  } else if (!encoding.empty() && encoding != "identity") {
    return malformed_input(fmt::format(
        "The Content-Encoding {} is not supported; send gzip or an uncompressed body.", encoding));
  }
  if (body.size() > max_body_bytes) {
    return request_too_large(
        fmt::format("The request body of {} bytes exceeds {} bytes.", body.size(), max_body_bytes));
  }

  if (protocol == Protocol::query) return decode_query(request, body);

  Call call;
  call.protocol = protocol;
  if (protocol == Protocol::json) {
    call.operation = std::string(request.header("x-amz-target").substr(kTargetPrefix.size() + 1));
    if (body.empty()) return call;
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    if (ec)
      return serialization_error(
          fmt::format("The request body is not valid JSON: {}", ec.message()));
    if (!parsed.is_object()) return serialization_error("The request body must be a JSON object.");
    call.input = from_json(parsed);
    return call;
  }

  call.operation = std::string(request.path().substr(kCborPathPrefix.size()));
  if (body.empty()) return call;
  auto decoded = decode_cbor(body);
  if (!decoded) return serialization_error(decoded.error().message);
  if (decoded->kind() != Value::Kind::structure) {
    return serialization_error("The request body must be a CBOR map.");
  }
  call.input = std::move(*decoded);
  return call;
}

http::Response encode_output(const Call& call, const Value* output, std::string_view request_id) {
  http::Response response;
  response.header("x-amzn-RequestId", std::string(request_id));
  switch (call.protocol) {
    case Protocol::query:
      response.header("Content-Type", "text/xml");
      response.body = xml_output(call.operation, output, request_id);
      break;
    case Protocol::json:
      response.header("Content-Type", "application/x-amz-json-1.0");
      response.body = output != nullptr ? json::serialize(to_json(*output)) : "{}";
      break;
    case Protocol::cbor:
      response.header("smithy-protocol", "rpc-v2-cbor");
      response.header("Content-Type", "application/cbor");
      // An operation without output has an empty body.
      if (output != nullptr) response.body = encode_cbor(*output);
      break;
  }
  return response;
}

http::Response encode_error(Protocol protocol, const Error& error, std::string_view request_id) {
  ErrorShape shape = error_shape(error);
  http::Response response;
  response.status = shape.status;
  response.header("x-amzn-RequestId", std::string(request_id));
  std::string_view fault = shape.sender ? "Sender" : "Receiver";

  if (protocol == Protocol::query) {
    response.header("Content-Type", "text/xml");
    std::string body =
        fmt::format("<ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type><Code>{}</Code><Message>",
                    kXmlNamespace, fault, shape.code);
    http::append_xml_escaped(body, error.message);
    body += "</Message></Error><RequestId>";
    http::append_xml_escaped(body, request_id);
    body += "</RequestId></ErrorResponse>";
    response.body = std::move(body);
    return response;
  }

  response.header("x-amzn-query-error", fmt::format("{};{}", shape.code, fault));
  Value body = Value::structure();
  body.set("__type", Value::string(fmt::format("{}{}", kShapeNamespace, shape.shape)));
  body.set("message", Value::string(error.message));
  if (protocol == Protocol::json) {
    response.header("Content-Type", "application/x-amz-json-1.0");
    response.body = json::serialize(to_json(body));
  } else {
    response.header("smithy-protocol", "rpc-v2-cbor");
    response.header("Content-Type", "application/cbor");
    response.body = encode_cbor(body);
  }
  return response;
}

}  // namespace lambent::services::cloudwatch
