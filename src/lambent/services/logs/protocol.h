#pragma once

#include "lambent/base/result.h"
#include "lambent/http/message.h"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The JSON 1.1 protocol of CloudWatch Logs: responses, AWS's error shapes and the validation
// of request fields with AWS's messages. Every client error is HTTP 400 with
// {"__type": "<Type>", "message": "..."}; ServiceUnavailableException is 500.
namespace lambent::services::logs {

inline constexpr std::string_view kTargetPrefix = "Logs_20140328.";

// True for an operation of the CloudWatch Logs API model (2014-03-28), served or not.
bool is_model_operation(std::string_view name);

http::Response ok_response(std::string body, std::string_view request_id);
// Error types by Errc: invalid_parameter and validation -> InvalidParameterException,
// not_found -> ResourceNotFoundException, conflict -> ResourceAlreadyExistsException,
// invalid_content -> SerializationException, not_implemented -> UnknownOperationException,
// io and internal -> ServiceUnavailableException (500). Error::type overrides the type.
http::Response error_response(const Error& error, std::string_view request_id);

Error unknown_operation(std::string_view target);

// Characters a string field may contain, as the API model's patterns allow.
enum class Charset {
  any,
  log_group_name,        // [\.\-_/#A-Za-z0-9]
  log_group_identifier,  // [\w#+=/:,.@-]
  log_stream_name,       // [^:*]
};

struct StringRule {
  std::size_t min_length = 0;
  std::size_t max_length = std::numeric_limits<std::size_t>::max();
  Charset charset = Charset::any;
};

enum class Presence { optional, required };

// Reads the fields of one request body. A field of the wrong JSON type is a
// SerializationException; a value outside the model's constraints is a validation error
// ("1 validation error detected: Value 'x' at 'limit' failed to satisfy constraint: ...").
// Every getter returns nullopt for an absent or rejected field.
class RequestFields {
 public:
  explicit RequestFields(const boost::json::object& body) : body_(body) {}

  std::optional<std::string> string(std::string_view name, StringRule rule,
                                    Presence presence = Presence::optional);
  std::optional<std::int64_t> integer(std::string_view name,
                                      std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                      std::int64_t max = std::numeric_limits<std::int64_t>::max(),
                                      Presence presence = Presence::optional);
  std::optional<bool> boolean(std::string_view name);
  std::optional<std::vector<std::string>> string_list(std::string_view name, std::size_t min_items,
                                                      std::size_t max_items, StringRule item_rule);
  // A string that must be one of `values`.
  std::optional<std::string> enumeration(std::string_view name,
                                         std::initializer_list<std::string_view> values);

  // Records a violation in AWS's words: "Value <value> at '<name>' failed to satisfy
  // constraint: <constraint>".
  void violation(std::string_view name, std::string_view shown_value, std::string_view constraint);

  // The first type error, else every violation as one validation error, else success.
  Status status() const;

 private:
  const boost::json::value* find(std::string_view name, Presence presence);
  void type_error(std::string_view name, std::string_view expected);

  const boost::json::object& body_;
  std::optional<Error> type_error_;
  std::vector<std::string> violations_;
};

}  // namespace lambent::services::logs
