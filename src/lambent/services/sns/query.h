#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The AWS query protocol as SNS speaks it: form-encoded parameters in, XML out.
namespace lambent::services::sns {

inline constexpr std::string_view kXmlNamespace = "http://sns.amazonaws.com/doc/2010-03-31/";

// The decoded parameters of one request, by their flattened names ("Tags.member.1.Key").
class Params {
 public:
  // Decodes an application/x-www-form-urlencoded string ('+' is a space). Fails with
  // Errc::invalid_parameter on a malformed escape.
  static Result<Params> decode(std::string_view form);
  // Adds the parameters of `form` to these; later values replace earlier ones.
  Status merge(std::string_view form);

  const std::string* find(std::string_view name) const;
  std::string get(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // The entries of a map parameter in index order, "NAME.entry.N.KEY_NAME" with
  // "NAME.entry.N.VALUE_NAME"; entries without a key are skipped.
  std::vector<std::pair<std::string, std::string>> map(std::string_view name,
                                                       std::string_view key_name = "key",
                                                       std::string_view value_name = "value") const;
  // The indexes N (ascending) for which some parameter starts with "PREFIX.N." or is
  // "PREFIX.N" exactly.
  std::vector<int> indexes(std::string_view prefix) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Builds an XML document with escaping; elements are opened and closed in order.
class Xml {
 public:
  Xml& open(std::string_view name);
  Xml& close(std::string_view name);
  // <name>escaped text</name>
  Xml& leaf(std::string_view name, std::string_view text);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string xml_escape(std::string_view text);

// An error with the SNS error code in Error::type ("NotFound", "InvalidParameter").
Error sns_error(Errc code, std::string type, std::string message);
Error not_found(std::string message);
Error invalid_parameter(std::string message);

// The HTTP status and Sender/Receiver type of an error code.
unsigned error_status(const Error& error);

// An <ErrorResponse> document with the request id.
http::Response error_response(const Error& error, std::string_view request_id);
// A <{action}Response> with an optional <{action}Result> body (already XML) and the request id.
http::Response ok_response(std::string_view action, std::optional<std::string> result,
                           std::string_view request_id);

}  // namespace lambent::services::sns
