#include "lambent/services/sqs/protocol.h"

#include "lambent/base/utf8.h"
#include "lambent/services/sqs/errors.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace lambent::services::sqs {

namespace json = boost::json;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_index(std::string_view segment) {
  return !segment.empty() && segment.size() < 9 &&
         std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A tree of query fields before lists are recognized: "A.1.B" = x becomes {A: {1: {B: x}}}.
struct Node {
  std::string value;
  bool has_value = false;
  std::map<std::string, Node> children;
};

json::value to_json(const Node& node);

// Turns {Name, Value} entries into a map; MessageAttribute values stay structures.
json::object entries_to_map(const json::value& list, std::string_view key_name,
                            std::string_view value_name) {
  json::object map;
  if (!list.is_array()) return map;
  for (const auto& item : list.as_array()) {
    if (!item.is_object()) continue;
    const auto* key = item.as_object().if_contains(key_name);
    const auto* value = item.as_object().if_contains(value_name);
    if (key == nullptr || !key->is_string()) continue;
    map[key->as_string()] = value ? *value : json::value("");
  }
  return map;
}

// Renames the flattened query names of the SQS model to the JSON members they stand for.
void normalize(json::object& object) {
  struct Rename {
    std::string_view from;
    std::string_view to;
  };
  static constexpr Rename kLists[] = {{"AttributeName", "AttributeNames"},
                                      {"MessageAttributeName", "MessageAttributeNames"},
                                      {"MessageSystemAttributeName", "MessageSystemAttributeNames"},
                                      {"TagKey", "TagKeys"},
                                      {"SendMessageBatchRequestEntry", "Entries"},
                                      {"DeleteMessageBatchRequestEntry", "Entries"},
                                      {"ChangeMessageVisibilityBatchRequestEntry", "Entries"}};
  for (const auto& rename : kLists) {
    if (auto* value = object.if_contains(rename.from)) {
      json::value moved = std::move(*value);
      object.erase(rename.from);
      object[rename.to] = std::move(moved);
    }
  }
  struct MapRename {
    std::string_view from;
    std::string_view to;
    std::string_view key;
    std::string_view value;
  };
  static constexpr MapRename kMaps[] = {
      {"Attribute", "Attributes", "Name", "Value"},
      {"Attributes", "Attributes", "Name", "Value"},
      {"Tag", "Tags", "Key", "Value"},
      {"Tags", "Tags", "Key", "Value"},
      {"MessageAttribute", "MessageAttributes", "Name", "Value"},
      {"MessageAttributes", "MessageAttributes", "Name", "Value"},
      {"MessageSystemAttribute", "MessageSystemAttributes", "Name", "Value"},
      {"MessageSystemAttributes", "MessageSystemAttributes", "Name", "Value"}};
  for (const auto& rename : kMaps) {
    auto* value = object.if_contains(rename.from);
    if (value == nullptr || !value->is_array()) continue;
    json::object map = entries_to_map(*value, rename.key, rename.value);
    object.erase(rename.from);
    object[rename.to] = std::move(map);
  }
  if (auto* entries = object.if_contains("Entries"); entries && entries->is_array()) {
    for (auto& entry : entries->as_array()) {
      if (entry.is_object()) normalize(entry.as_object());
    }
  }
}

json::value to_json(const Node& node) {
  if (node.children.empty()) return json::value(node.value);
  bool list = std::all_of(node.children.begin(), node.children.end(),
                          [](const auto& child) { return is_index(child.first); });
  if (list) {
    std::vector<std::pair<int, const Node*>> items;
    for (const auto& [key, child] : node.children) items.emplace_back(std::stoi(key), &child);
    std::sort(items.begin(), items.end());
    json::array array;
    for (const auto& [index, child] : items) array.push_back(to_json(*child));
    return array;
  }
  json::object object;
  for (const auto& [key, child] : node.children) object[key] = to_json(child);
  return object;
}

Result<Call> decode_query(const http::Request& request) {
  Node root;
  auto add_fields = [&root](std::string_view text) -> Status {
    while (!text.empty()) {
      auto amp = text.find('&');
      std::string_view part = text.substr(0, amp);
      text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
      if (part.empty()) continue;
      auto eq = part.find('=');
      std::string name;
      std::string value;
      if (!form_decode(part.substr(0, eq), name) ||
          (eq != std::string_view::npos && !form_decode(part.substr(eq + 1), value))) {
        return sqs_error("MalformedQueryString",
                         fmt::format("The form field {} has a malformed percent-encoding.",
                                     to_valid_utf8(utf8_prefix(part, 100))));
      }
      if (!is_valid_utf8(name) || !is_valid_utf8(value)) {
        return sqs_error("MalformedQueryString",
                         fmt::format("The form field {} is not valid UTF-8.",
                                     to_valid_utf8(utf8_prefix(name, 100))));
      }
      Node* node = &root;
      std::string_view rest = name;
      while (true) {
        auto dot = rest.find('.');
        std::string_view segment = rest.substr(0, dot);
        rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
        // "Name.member.N" is the non-flattened list form; the member level carries nothing.
        if (segment == "member" && !rest.empty() && is_index(rest.substr(0, rest.find('.')))) {
          continue;
        }
        node = &node->children[std::string(segment)];
        if (dot == std::string_view::npos) break;
      }
      node->value = std::move(value);
      node->has_value = true;
    }
    return ok_status();
  };
  auto from_query = add_fields(request.query());
  if (!from_query) return std::move(from_query).error();
  if (request.method == "POST") {
    auto from_body = add_fields(request.body);
    if (!from_body) return std::move(from_body).error();
  }
  json::value tree = to_json(root);
  Call call;
  call.protocol = Protocol::query;
  if (tree.is_object()) call.input = std::move(tree.as_object());
  auto* action = call.input.if_contains("Action");
  if (action == nullptr || !action->is_string() || action->as_string().empty()) {
    return sqs_error("MissingAction", "The request must contain the parameter Action.");
  }
  call.operation = std::string(action->as_string());
  auto* version = call.input.if_contains("Version");
  if (version != nullptr && version->is_string() && version->as_string() != kApiVersion) {
    return sqs_error("InvalidParameterValue",
                     fmt::format("An invalid or out-of-range value was supplied for the input "
                                 "parameter Version: {}.",
                                 std::string_view(version->as_string())));
  }
  call.input.erase("Action");
  call.input.erase("Version");
  normalize(call.input);
  return call;
}

void append_escaped(std::string& out, std::string_view raw) {
  for (char c : raw) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\r':
        out += "&#xD;";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_element(std::string& out, std::string_view name, const json::value& value);

void append_scalar(std::string& out, const json::value& value) {
  if (value.is_string()) {
    append_escaped(out, value.as_string());
  } else if (value.is_bool()) {
    out += value.as_bool() ? "true" : "false";
  } else if (value.is_int64()) {
    out += std::to_string(value.as_int64());
  } else if (value.is_uint64()) {
    out += std::to_string(value.as_uint64());
  } else if (value.is_double()) {
    out += fmt::format("{}", value.as_double());
  }
}

// The XML element name of each item of a flattened list or map member, and for maps the names
// of their key and value elements, as the SQS model (query protocol) defines them.
struct Flattened {
  std::string_view member;
  std::string_view item;
  std::string_view key = {};
  std::string_view value = {};
};

constexpr Flattened kFlattened[] = {
    {"QueueUrls", "QueueUrl"},
    {"queueUrls", "QueueUrl"},
    {"Messages", "Message"},
    {"Failed", "BatchResultErrorEntry"},
    {"Attributes", "Attribute", "Name", "Value"},
    {"Tags", "Tag", "Key", "Value"},
    {"MessageAttributes", "MessageAttribute", "Name", "Value"},
};

void append_members(std::string& out, const json::object& object, std::string_view entry_name) {
  for (const auto& [key, value] : object) {
    const Flattened* flattened = nullptr;
    for (const auto& candidate : kFlattened) {
      if (candidate.member == key) flattened = &candidate;
    }
    std::string_view item = flattened ? flattened->item : std::string_view();
    if (key == "Successful") item = entry_name;
    if (value.is_array() && !item.empty()) {
      for (const auto& element : value.as_array()) append_element(out, item, element);
    } else if (value.is_object() && flattened != nullptr && !flattened->key.empty()) {
      for (const auto& [map_key, map_value] : value.as_object()) {
        out += fmt::format("<{}><{}>", item, flattened->key);
        append_escaped(out, map_key);
        out += fmt::format("</{}>", flattened->key);
        append_element(out, flattened->value, map_value);
        out += fmt::format("</{}>", item);
      }
    } else {
      append_element(out, key, value);
    }
  }
}

void append_element(std::string& out, std::string_view name, const json::value& value) {
  out += fmt::format("<{}>", name);
  if (value.is_object()) {
    append_members(out, value.as_object(), {});
  } else {
    append_scalar(out, value);
  }
  out += fmt::format("</{}>", name);
}

// Operations whose model has no output: their query response has no <OpResult> element.
bool has_result(std::string_view operation) {
  static constexpr std::string_view kWithoutOutput[] = {
      "DeleteQueue",   "SetQueueAttributes",     "TagQueue", "UntagQueue", "PurgeQueue",
      "DeleteMessage", "ChangeMessageVisibility"};
  return std::find(std::begin(kWithoutOutput), std::end(kWithoutOutput), operation) ==
         std::end(kWithoutOutput);
}

}  // namespace

bool form_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int high = hex_value(in[i + 1]);
      int low = hex_value(in[i + 2]);
      if (high < 0 || low < 0) return false;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

Protocol detect_protocol(const http::Request& request) {
  return request.header("x-amz-target").starts_with(kTargetPrefix) ? Protocol::json
                                                                   : Protocol::query;
}

Result<Call> decode_call(const http::Request& request) {
  if (detect_protocol(request) == Protocol::query) return decode_query(request);
  Call call;
  call.protocol = Protocol::json;
  call.operation = std::string(request.header("x-amz-target").substr(kTargetPrefix.size()));
  std::string_view body = request.body;
  if (body.empty()) body = "{}";
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return sqs_error("InvalidParameterValue", "The request body is not a valid JSON object.");
  }
  call.input = std::move(parsed.as_object());
  return call;
}

http::Response encode_output(const Call& call, const json::object& output,
                             std::string_view request_id) {
  http::Response response;
  response.header("x-amzn-RequestId", std::string(request_id));
  if (call.protocol == Protocol::json) {
    response.header("Content-Type", "application/x-amz-json-1.0");
    response.body = json::serialize(output);
    return response;
  }
  response.header("Content-Type", "text/xml");
  std::string& out = response.body;
  out += fmt::format("<?xml version=\"1.0\"?><{}Response xmlns=\"{}\">", call.operation,
                     kXmlNamespace);
  if (has_result(call.operation)) {
    out += fmt::format("<{}Result>", call.operation);
    append_members(out, output, fmt::format("{}ResultEntry", call.operation));
    out += fmt::format("</{}Result>", call.operation);
  }
  out += "<ResponseMetadata><RequestId>";
  append_escaped(out, request_id);
  out += fmt::format("</RequestId></ResponseMetadata></{}Response>", call.operation);
  return response;
}

http::Response encode_error(Protocol protocol, const Error& error, std::string_view request_id) {
  ErrorShape shape = error_shape(error);
  http::Response response;
  response.status = shape.status;
  response.header("x-amzn-RequestId", std::string(request_id));
  if (protocol == Protocol::json) {
    response.header("Content-Type", "application/x-amz-json-1.0");
    response.header("x-amzn-query-error",
                    fmt::format("{};{}", shape.code, shape.sender ? "Sender" : "Receiver"));
    response.body = json::serialize(json::object{
        {"__type", fmt::format("com.amazonaws.sqs#{}", shape.shape)}, {"message", error.message}});
    return response;
  }
  response.header("Content-Type", "text/xml");
  std::string& out = response.body;
  out += fmt::format(
      "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{}\"><Error><Type>{}</Type>"
      "<Code>{}</Code><Message>",
      kXmlNamespace, shape.sender ? "Sender" : "Receiver", shape.code);
  append_escaped(out, error.message);
  out += "</Message><Detail/></Error><RequestId>";
  append_escaped(out, request_id);
  out += "</RequestId></ErrorResponse>";
  return response;
}

}  // namespace lambent::services::sqs
