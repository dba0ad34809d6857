#include "lambent/services/s3/xml.h"

#include "lambent/http/message.h"

#include <cstdint>

namespace lambent::services::s3 {

namespace {

constexpr std::size_t kMaxDepth = 32;

Error malformed() {
  return Error{Errc::invalid_parameter,
               "The XML you provided was not well-formed or did not validate against our "
               "published schema",
               "MalformedXML"};
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Appends `raw` character data with entity and character references decoded.
bool decode_text(std::string_view raw, std::string& out) {
  while (!raw.empty()) {
    auto amp = raw.find('&');
    out.append(raw.substr(0, amp));
    if (amp == std::string_view::npos) return true;
    raw.remove_prefix(amp);
    auto semi = raw.find(';');
    if (semi == std::string_view::npos) return false;
    std::string_view entity = raw.substr(1, semi - 1);
    raw.remove_prefix(semi + 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity.size() > 1 && entity[0] == '#') {
      std::uint32_t cp = 0;
      bool hex = entity[1] == 'x';
      std::string_view digits = entity.substr(hex ? 2 : 1);
      if (digits.empty() || digits.size() > 8) return false;
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9')
          v = c - '0';
        else if (hex && c >= 'a' && c <= 'f')
          v = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F')
          v = c - 'A' + 10;
        else
          return false;
        cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
      }
      if (cp == 0 || cp > 0x10FFFF) return false;
      append_utf8(out, cp);
    } else {
      return false;
    }
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Result<XmlNode> document() {
    if (!skip_misc()) return malformed();
    XmlNode root;
    if (!element(root, 0)) return malformed();
    if (!skip_misc() || pos_ != in_.size()) return malformed();
    return root;
  }

 private:
  void skip_space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\r' || in_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool starts(std::string_view s) const { return in_.substr(pos_).starts_with(s); }
  bool skip_past(std::string_view end) {
    auto at = in_.find(end, pos_);
    if (at == std::string_view::npos) return false;
    pos_ = at + end.size();
    return true;
  }
  // Whitespace, comments and processing instructions outside the root.
  bool skip_misc() {
    while (true) {
      skip_space();
      if (starts("<?")) {
        if (!skip_past("?>")) return false;
      } else if (starts("<!--")) {
        if (!skip_past("-->")) return false;
      } else if (starts("<!")) {
        return false;  // DOCTYPE: entity declarations are not accepted
      } else {
        return true;
      }
    }
  }
  std::string_view name() {
    std::size_t start = pos_;
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' || c == '=')
        break;
      ++pos_;
    }
    return in_.substr(start, pos_ - start);
  }
  static std::string local(std::string_view qualified) {
    auto colon = qualified.find(':');
    return std::string(colon == std::string_view::npos ? qualified : qualified.substr(colon + 1));
  }

  bool element(XmlNode& node, std::size_t depth) {
    if (depth > kMaxDepth || !starts("<")) return false;
    ++pos_;
    std::string_view qualified = name();
    if (qualified.empty()) return false;
    node.name = local(qualified);
    // Attributes (xmlns and the like) are skipped.
    while (true) {
      skip_space();
      if (pos_ >= in_.size()) return false;
      if (starts("/>")) {
        pos_ += 2;
        return true;
      }
      if (in_[pos_] == '>') {
        ++pos_;
        break;
      }
      if (name().empty()) return false;
      skip_space();
      if (pos_ >= in_.size() || in_[pos_] != '=') return false;
      ++pos_;
      skip_space();
      if (pos_ >= in_.size() || (in_[pos_] != '"' && in_[pos_] != '\'')) return false;
      char quote = in_[pos_++];
      auto end = in_.find(quote, pos_);
      if (end == std::string_view::npos) return false;
      pos_ = end + 1;
    }
    while (true) {
      auto lt = in_.find('<', pos_);
      if (lt == std::string_view::npos) return false;
      if (!decode_text(in_.substr(pos_, lt - pos_), node.text)) return false;
      pos_ = lt;
      if (starts("</")) {
        pos_ += 2;
        if (name() != qualified) return false;
        skip_space();
        if (pos_ >= in_.size() || in_[pos_] != '>') return false;
        ++pos_;
        return true;
      }
      if (starts("<!--")) {
        if (!skip_past("-->")) return false;
        continue;
      }
      if (starts("<![CDATA[")) {
        pos_ += 9;
        auto end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return false;
        node.text.append(in_.substr(pos_, end - pos_));
        pos_ = end + 3;
        continue;
      }
      if (starts("<?")) {
        if (!skip_past("?>")) return false;
        continue;
      }
      node.children.emplace_back();
      if (!element(node.children.back(), depth + 1)) return false;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

const XmlNode* XmlNode::child(std::string_view wanted) const {
  for (const auto& c : children) {
    if (c.name == wanted) return &c;
  }
  return nullptr;
}

std::string XmlNode::child_text(std::string_view wanted) const {
  const XmlNode* c = child(wanted);
  return c ? c->text : std::string();
}

Result<XmlNode> parse_xml(std::string_view document) { return Parser(document).document(); }

std::string xml_escape(std::string_view text) {
  std::string out;
  http::append_xml_escaped(out, text);
  return out;
}

XmlWriter::XmlWriter(std::string_view root) : root_(root) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_ += root;
  out_ += " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
}

XmlWriter& XmlWriter::open(std::string_view name) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::close(std::string_view name) {
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::leaf(std::string_view name, std::string_view text) {
  open(name);
  out_ += xml_escape(text);
  return close(name);
}

std::string XmlWriter::finish() {
  close(root_);
  return std::move(out_);
}

}  // namespace lambent::services::s3
