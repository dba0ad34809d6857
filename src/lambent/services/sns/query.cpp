#include "lambent/services/sns/query.h"

#include "lambent/base/utf8.h"

#include <fmt/format.h>

#include <charconv>
#include <set>

namespace lambent::services::sns {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool form_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

}  // namespace

Result<Params> Params::decode(std::string_view form) {
  Params params;
  if (auto merged = params.merge(form); !merged) return merged.error();
  return params;
}

Status Params::merge(std::string_view form) {
  while (!form.empty()) {
    auto amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name;
    std::string value;
    if (!form_decode(pair.substr(0, eq), name) ||
        (eq != std::string_view::npos && !form_decode(pair.substr(eq + 1), value))) {
      return invalid_parameter(fmt::format("Invalid parameter: malformed form field '{}'", pair));
    }
    // Every stored attribute and message is JSON text, so bytes that are not UTF-8 are
    // rejected here, before anything can store them.
    if (!is_valid_utf8(name) || !is_valid_utf8(value)) {
      return invalid_parameter(fmt::format(
          "Invalid parameter: {} Reason: the value is not valid UTF-8", to_valid_utf8(name)));
    }
    values_[std::move(name)] = std::move(value);
  }
  return ok_status();
}

const std::string* Params::find(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

std::string Params::get(std::string_view name) const {
  const auto* value = find(name);
  return value ? *value : std::string();
}

std::vector<int> Params::indexes(std::string_view prefix) const {
  std::string start = std::string(prefix) + ".";
  std::set<int> found;
  for (auto it = values_.lower_bound(start); it != values_.end(); ++it) {
    std::string_view name = it->first;
    if (!name.starts_with(start)) break;
    std::string_view rest = name.substr(start.size());
    int index = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
    if (ec != std::errc() || end == rest.data()) continue;
    if (end != rest.data() + rest.size() && *end != '.') continue;
    found.insert(index);
  }
  return {found.begin(), found.end()};
}

std::vector<std::pair<std::string, std::string>> Params::map(std::string_view name,
                                                             std::string_view key_name,
                                                             std::string_view value_name) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = std::string(name) + ".entry";
  for (int index : indexes(prefix)) {
    std::string base = fmt::format("{}.{}.", prefix, index);
    const auto* key = find(base + std::string(key_name));
    if (!key) continue;
    out.emplace_back(*key, get(base + std::string(value_name)));
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  // Characters XML 1.0 forbids (C0 controls other than tab and line ends) become U+FFFD.
  std::string valid;
  append_valid_utf8(valid, text, true);
  std::string out;
  out.reserve(valid.size());
  for (char c : valid) {
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
  return out;
}

Xml& Xml::open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  return *this;
}

Xml& Xml::close(std::string_view name) {
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

Xml& Xml::leaf(std::string_view name, std::string_view text) {
  open(name);
  out_ += xml_escape(text);
  return close(name);
}

Error sns_error(Errc code, std::string type, std::string message) {
  return Error{code, std::move(message), std::move(type)};
}

Error not_found(std::string message) {
  return sns_error(Errc::not_found, "NotFound", std::move(message));
}

Error invalid_parameter(std::string message) {
  return sns_error(Errc::invalid_parameter, "InvalidParameter", std::move(message));
}

unsigned error_status(const Error& error) {
  switch (error.code) {
    case Errc::not_found:
      return 404;
    case Errc::unauthorized:
      return 403;
    case Errc::too_large:
      return 413;
    case Errc::throttled:
      return 429;
    case Errc::not_implemented:
      return 400;
    case Errc::io:
    case Errc::internal:
      return 500;
    default:
      return 400;
  }
}

namespace {

std::string error_code(const Error& error) {
  if (!error.type.empty()) return error.type;
  switch (error.code) {
    case Errc::not_found:
      return "NotFound";
    case Errc::unauthorized:
      return "AuthorizationError";
    case Errc::throttled:
      return "Throttling";
    case Errc::io:
    case Errc::internal:
      return "InternalError";
    default:
      return "InvalidParameter";
  }
}

}  // namespace

http::Response error_response(const Error& error, std::string_view request_id) {
  unsigned status = error_status(error);
  Xml xml;
  std::string body = fmt::format("<ErrorResponse xmlns=\"{}\">", kXmlNamespace);
  xml.open("Error")
      .leaf("Type", status >= 500 ? "Receiver" : "Sender")
      .leaf("Code", error_code(error))
      .leaf("Message", error.message)
      .close("Error")
      .leaf("RequestId", request_id);
  body += xml.take();
  body += "</ErrorResponse>";
  http::Response response;
  response.status = status;
  response.header("Content-Type", "text/xml");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.body = std::move(body);
  return response;
}

http::Response ok_response(std::string_view action, std::optional<std::string> result,
                           std::string_view request_id) {
  std::string body = fmt::format("<{}Response xmlns=\"{}\">", action, kXmlNamespace);
  if (result) body += fmt::format("<{0}Result>{1}</{0}Result>", action, *result);
  body += fmt::format("<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{}Response>",
                      request_id, action);
  http::Response response;
  response.header("Content-Type", "text/xml");
  response.header("x-amzn-RequestId", std::string(request_id));
  response.body = std::move(body);
  return response;
}

}  // namespace lambent::services::sns
