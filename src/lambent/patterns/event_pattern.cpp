#include "lambent/patterns/event_pattern.h"

#include "lambent/patterns/parse.h"

#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <charconv>

namespace lambent::patterns {
namespace json = boost::json;

namespace {

bool is_sns(Dialect d) { return d == Dialect::sns_attributes || d == Dialect::sns_body; }

Error pattern_error(Dialect dialect, const detail::Failure& failure) {
  switch (dialect) {
    case Dialect::eventbridge:
      return Error{Errc::invalid_parameter, "Event pattern is not valid. Reason: " + failure.reason,
                   "InvalidEventPatternException"};
    case Dialect::lambda:
      return Error{Errc::invalid_parameter,
                   "Invalid filter pattern definition. Reason: " + failure.reason};
    case Dialect::sns_attributes:
    case Dialect::sns_body:
      break;
  }
  std::string label = failure.bare ? "" : "FilterPolicy: ";
  return Error{Errc::invalid_parameter, "Invalid parameter: " + label + failure.reason,
               "InvalidParameter"};
}

}  // namespace

EventPattern::EventPattern()
    : root_(std::make_shared<const detail::Node>()), dialect_(Dialect::eventbridge) {}

Result<EventPattern> EventPattern::parse(std::string_view pattern_json, Dialect dialect) {
  if (is_sns(dialect) && pattern_json.size() > kSnsMaxPolicyBytes) {
    return pattern_error(dialect,
                         {"Filter policy must be at most " + std::to_string(kSnsMaxPolicyBytes) +
                          " bytes, got " + std::to_string(pattern_json.size())});
  }
  json::parser parser;
  boost::system::error_code ec;
  std::size_t consumed = parser.write(pattern_json.data(), pattern_json.size(), ec);
  if (ec) {
    return pattern_error(
        dialect, {"Invalid JSON at offset " + std::to_string(consumed) + ": " + ec.message()});
  }
  return compile(parser.release(), dialect);
}

Result<EventPattern> EventPattern::compile(const json::value& pattern, Dialect dialect) {
  auto root = std::make_shared<detail::Node>();
  if (auto failure = detail::compile_pattern(pattern, dialect, *root)) {
    return pattern_error(dialect, *failure);
  }
  return EventPattern(std::move(root), dialect);
}

bool EventPattern::matches(const json::value& event) const {
  return detail::matches_node(*root_, event, dialect_);
}

// ---- Lambda ---------------------------------------------------------------------------------

std::string_view data_key(FilterSource source) {
  switch (source) {
    case FilterSource::sqs:
      return "body";
    case FilterSource::kinesis:
    case FilterSource::mq:
      return "data";
    case FilterSource::dynamodb:
      return "dynamodb";
    case FilterSource::kafka:
      return "value";
  }
  return "body";
}

json::value parse_data_payload(std::string_view payload) {
  boost::system::error_code ec;
  json::value parsed = json::parse(payload, ec);
  if (!ec && (parsed.is_object() || parsed.is_array())) return parsed;
  return json::string(payload);
}

namespace {

Error criteria_error(std::string message) {
  return Error{Errc::invalid_parameter, "Invalid filter pattern definition. Reason: " + message};
}

}  // namespace

Result<FilterCriteria> FilterCriteria::parse(const json::value& criteria, FilterSource source) {
  FilterCriteria out;
  out.data_key_ = data_key(source);
  if (!criteria.is_object()) return criteria_error("FilterCriteria must be an object");
  const json::object& object = criteria.get_object();
  auto filters = object.find("Filters");
  if (filters == object.end() || filters->value().is_null()) return out;
  if (!filters->value().is_array()) return criteria_error("Filters must be a list");

  const json::array& list = filters->value().get_array();
  if (list.size() > kMaxFilters) {
    return criteria_error("at most " + std::to_string(kMaxFilters) + " filters are allowed, got " +
                          std::to_string(list.size()));
  }
  bool plain_allowed =
      source == FilterSource::sqs || source == FilterSource::mq || source == FilterSource::kafka;
  for (const json::value& filter : list) {
    const json::object* entry = filter.if_object();
    const json::value* text = entry ? entry->if_contains("Pattern") : nullptr;
    if (!text || !text->is_string()) {
      return criteria_error("each filter must have a Pattern string");
    }
    if (text->get_string().size() > kMaxPatternLength) {
      return criteria_error("Pattern must be at most " + std::to_string(kMaxPatternLength) +
                            " characters, got " + std::to_string(text->get_string().size()));
    }
    auto pattern = EventPattern::parse(text->get_string(), Dialect::lambda);
    if (!pattern) return std::move(pattern).error();

    // Whether the pattern filters the data field as JSON (an object of rules) or as a plain
    // string (a list of rules).
    DataForm form = DataForm::none;
    boost::system::error_code ec;
    json::value parsed = json::parse(text->get_string(), ec);
    const json::value* data = parsed.get_object().if_contains(out.data_key_);
    if (data && data->is_object()) form = DataForm::json;
    if (data && data->is_array()) form = DataForm::plain;
    if (form == DataForm::plain && !plain_allowed) {
      return criteria_error("the filter pattern for \"" + out.data_key_ +
                            "\" must be a JSON object, because records of this source carry "
                            "JSON data");
    }
    out.filters_.push_back(Filter{std::move(*pattern), form});
  }
  return out;
}

bool FilterCriteria::matches(const json::value& record) const {
  if (filters_.empty()) return true;
  const json::object* object = record.if_object();
  const json::value* data = object ? object->if_contains(data_key_) : nullptr;
  bool data_is_json = data && (data->is_object() || data->is_array());
  for (const Filter& filter : filters_) {
    if (filter.data_form == DataForm::json && !data_is_json) continue;
    if (filter.data_form == DataForm::plain && data_is_json) continue;
    if (filter.pattern.matches(record)) return true;
  }
  return false;
}

// ---- SNS ------------------------------------------------------------------------------------

std::string sns_subscribe_message(std::string_view set_attributes_message) {
  constexpr std::string_view kPrefix = "Invalid parameter: ";
  if (set_attributes_message.substr(0, kPrefix.size()) != kPrefix) {
    return std::string(set_attributes_message);
  }
  return "Invalid parameter: Attributes Reason: " +
         std::string(set_attributes_message.substr(kPrefix.size()));
}

json::object sns_attributes_event(std::span<const MessageAttribute> attributes) {
  json::object event;
  for (const MessageAttribute& attribute : attributes) {
    std::string_view type = attribute.data_type;
    std::string_view base = type.substr(0, type.find('.'));
    if (base == "Binary") continue;
    if (type.starts_with("String.Array") || type.starts_with("Number.Array")) {
      boost::system::error_code ec;
      json::value parsed = json::parse(attribute.value, ec);
      if (!ec && parsed.is_array()) {
        event[attribute.name] = std::move(parsed);
        continue;
      }
    } else if (base == "Number") {
      double number = 0;
      const char* end = attribute.value.data() + attribute.value.size();
      auto [ptr, errc] = std::from_chars(attribute.value.data(), end, number);
      if (errc == std::errc() && ptr == end) {
        event[attribute.name] = number;
        continue;
      }
    }
    event[attribute.name] = attribute.value;
  }
  return event;
}

}  // namespace lambent::patterns
