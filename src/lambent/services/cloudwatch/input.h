#pragma once

#include "lambent/base/result.h"
#include "lambent/services/cloudwatch/value.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Typed reading of a decoded CloudWatch input, whichever protocol it came in. Every member
// has its query-protocol path ("MetricData.member.1.Value"), which error messages name for
// every protocol, as AWS does.
namespace lambent::services::cloudwatch {

// A member of the input: its value (null when absent) and its path.
struct Field {
  const Value* value = nullptr;
  std::string path;

  bool present() const { return value != nullptr && !value->is_null(); }
};

// Reads members and converts them: strings from the query protocol to numbers, booleans and
// timestamps; numbers from JSON and CBOR as they are. Each accessor returns nullopt when the
// member is absent or does not convert, and the first failure is kept in error(). Operations
// read a group of members, then check ok().
class Reader {
 public:
  // The top-level input structure.
  static Field root(const Value& input) { return Field{&input, ""}; }
  // A member of a structure; absent when the parent is absent or not a structure.
  static Field member(const Field& parent, std::string_view name);

  // The elements of a list, with paths "P.member.N". An absent list is empty. More than `max`
  // elements fails with InvalidParameterValue naming the limit.
  std::vector<Field> list(const Field& field, std::size_t max);

  std::optional<std::string> string(const Field& field);
  // A string that must be present: MissingParameter otherwise.
  std::optional<std::string> required_string(const Field& field);
  // A double; NaN and infinities are returned as they are, for the caller to reject.
  std::optional<double> number(const Field& field);
  std::optional<std::int64_t> integer(const Field& field);
  std::optional<bool> boolean(const Field& field);
  // Epoch milliseconds from an ISO 8601 string, epoch seconds, or a CBOR timestamp.
  std::optional<std::int64_t> timestamp_ms(const Field& field);

  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }
  // Keeps the first failure.
  void fail(Error error);

 private:
  std::optional<Error> error_;
};

// Checks a string's length in UTF-8 code points against the model's min and max, failing with
// AWS's ValidationError constraint message.
Status check_length(std::string_view value, std::string_view path, std::size_t min,
                    std::size_t max);

}  // namespace lambent::services::cloudwatch
