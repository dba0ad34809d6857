#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The document that every CloudWatch wire protocol decodes into and encodes from: the query
// protocol's form fields, JSON 1.0 bodies and Smithy RPC v2 CBOR bodies. Kinds follow the
// Smithy shapes the protocols carry. A query-protocol request arrives as strings only, so
// readers convert strings where a number, boolean or timestamp is expected (input.h).
namespace lambent::services::cloudwatch {

class Value {
 public:
  enum class Kind {
    null,
    boolean,
    integer,
    number,     // double
    string,     // UTF-8 text; CBOR byte strings decode here too
    timestamp,  // epoch milliseconds
    list,
    structure,  // members in insertion order
    map,        // like structure, but the query protocol's XML writes it as <entry> pairs
  };
  using Member = std::pair<std::string, Value>;

  Value() = default;
  static Value boolean(bool value);
  static Value integer(std::int64_t value);
  static Value number(double value);
  static Value string(std::string value);
  static Value timestamp(std::int64_t epoch_ms);
  static Value list();
  static Value structure();
  static Value map();

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::null; }
  bool is_object() const { return kind_ == Kind::structure || kind_ == Kind::map; }

  bool as_bool() const { return bool_; }
  std::int64_t as_integer() const { return integer_; }
  double as_number() const { return number_; }
  const std::string& as_string() const { return string_; }
  std::int64_t as_timestamp_ms() const { return integer_; }

  // Elements of a list.
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  Value& push_back(Value value);

  // Members of a structure or map.
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }
  // The member with this name, or nullptr. Linear: structures here have few members.
  const Value* find(std::string_view name) const;
  Value* find(std::string_view name);
  // Appends a member (or replaces the one with this name) and returns it.
  Value& set(std::string name, Value value);

  bool operator==(const Value& other) const;

 private:
  Kind kind_ = Kind::null;
  bool bool_ = false;
  std::int64_t integer_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

}  // namespace lambent::services::cloudwatch
