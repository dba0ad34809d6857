#include "lambent/services/cloudwatch/value.h"

namespace lambent::services::cloudwatch {

Value Value::boolean(bool value) {
  Value v;
  v.kind_ = Kind::boolean;
  v.bool_ = value;
  return v;
}

Value Value::integer(std::int64_t value) {
  Value v;
  v.kind_ = Kind::integer;
  v.integer_ = value;
  return v;
}

Value Value::number(double value) {
  Value v;
  v.kind_ = Kind::number;
  v.number_ = value;
  return v;
}

Value Value::string(std::string value) {
  Value v;
  v.kind_ = Kind::string;
  v.string_ = std::move(value);
  return v;
}

Value Value::timestamp(std::int64_t epoch_ms) {
  Value v;
  v.kind_ = Kind::timestamp;
  v.integer_ = epoch_ms;
  return v;
}

Value Value::list() {
  Value v;
  v.kind_ = Kind::list;
  return v;
}

Value Value::structure() {
  Value v;
  v.kind_ = Kind::structure;
  return v;
}

Value Value::map() {
  Value v;
  v.kind_ = Kind::map;
  return v;
}

Value& Value::push_back(Value value) {
  items_.push_back(std::move(value));
  return items_.back();
}

const Value* Value::find(std::string_view name) const {
  for (const auto& [key, value] : members_) {
    if (key == name) return &value;
  }
  return nullptr;
}

Value* Value::find(std::string_view name) {
  for (auto& [key, value] : members_) {
    if (key == name) return &value;
  }
  return nullptr;
}

Value& Value::set(std::string name, Value value) {
  if (Value* existing = find(name)) {
    *existing = std::move(value);
    return *existing;
  }
  members_.emplace_back(std::move(name), std::move(value));
  return members_.back().second;
}

bool Value::operator==(const Value& other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::null:
      return true;
    case Kind::boolean:
      return bool_ == other.bool_;
    case Kind::integer:
    case Kind::timestamp:
      return integer_ == other.integer_;
    case Kind::number:
      return number_ == other.number_;
    case Kind::string:
      return string_ == other.string_;
    case Kind::list:
      return items_ == other.items_;
    case Kind::structure:
    case Kind::map:
      return members_ == other.members_;
  }
  return false;
}

}  // namespace lambent::services::cloudwatch
