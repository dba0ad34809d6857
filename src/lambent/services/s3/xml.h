#pragma once

#include "lambent/base/result.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

// The XML S3 speaks: a writer for responses and a small reader for request bodies
// (CreateBucketConfiguration, Delete, CompleteMultipartUpload, NotificationConfiguration).
// The reader keeps element names (namespace prefixes dropped) and text; it skips attributes,
// comments, processing instructions and the declaration, and rejects DOCTYPE. It is written
// here because none of the project's packaged libraries parses XML, and these bodies are small.
namespace lambent::services::s3 {

struct XmlNode {
  std::string name;
  std::string text;  // character data directly inside, entities decoded
  std::vector<XmlNode> children;

  // The first child named `name`, or null.
  const XmlNode* child(std::string_view name) const;
  // Text of the first child named `name`, or empty.
  std::string child_text(std::string_view name) const;
};

// Parses a document into its root element. Fails with Errc::invalid_parameter (S3's
// MalformedXML) on anything not well formed.
Result<XmlNode> parse_xml(std::string_view document);

// Escapes text and attribute values as http::append_xml_escaped does.
std::string xml_escape(std::string_view text);

// Builds a response document: open/close elements and leaf elements with escaped text.
class XmlWriter {
 public:
  // Starts with the XML declaration and the root element in S3's namespace.
  explicit XmlWriter(std::string_view root);
  XmlWriter& open(std::string_view name);
  XmlWriter& close(std::string_view name);
  XmlWriter& leaf(std::string_view name, std::string_view text);
  // Ends the root element and returns the document.
  std::string finish();

 private:
  std::string root_;
  std::string out_;
};

}  // namespace lambent::services::s3
