#include "lambent/services/sns/filter.h"

#include "lambent/patterns/event_pattern.h"

#include <boost/json.hpp>

#include <vector>

namespace lambent::services::sns {

namespace json = boost::json;

namespace {

patterns::Dialect dialect_of(const AttributeMap& attributes) {
  auto scope = attributes.find("FilterPolicyScope");
  bool body = scope != attributes.end() && scope->second == "MessageBody";
  return body ? patterns::Dialect::sns_body : patterns::Dialect::sns_attributes;
}

Result<std::optional<patterns::EventPattern>> parse_policy(const AttributeMap& attributes,
                                                           PolicyWording wording) {
  auto policy = attributes.find("FilterPolicy");
  if (policy == attributes.end() || policy->second.empty()) {
    return std::optional<patterns::EventPattern>();
  }
  auto parsed = patterns::EventPattern::parse(policy->second, dialect_of(attributes));
  if (!parsed) {
    std::string message = parsed.error().message;
    if (wording == PolicyWording::subscribe) message = patterns::sns_subscribe_message(message);
    return invalid_parameter(std::move(message));
  }
  return std::optional<patterns::EventPattern>(std::move(*parsed));
}

}  // namespace

Status check_filter_policy(const AttributeMap& attributes, PolicyWording wording) {
  auto parsed = parse_policy(attributes, wording);
  if (!parsed) return parsed.error();
  return ok_status();
}

Status compile_filter(Subscription& subscription) {
  auto parsed = parse_policy(subscription.attributes, PolicyWording::set_attributes);
  if (!parsed) return parsed.error();
  subscription.filter = std::move(*parsed);
  subscription.filter_rejected = false;
  return ok_status();
}

bool filter_matches(const Subscription& subscription, const PublishInput& input,
                    std::string_view message) {
  if (subscription.filter_rejected) return false;
  if (!subscription.filter) return true;
  if (subscription.filter->dialect() == patterns::Dialect::sns_body) {
    // A body that is not a JSON object matches no body policy, as on AWS.
    boost::system::error_code ec;
    json::value body = json::parse(message, ec);
    if (ec || !body.is_object()) return false;
    return subscription.filter->matches(body);
  }
  std::vector<patterns::MessageAttribute> attributes;
  attributes.reserve(input.attributes.size());
  for (const auto& a : input.attributes) {
    attributes.push_back({a.name, a.data_type, a.string_value});
  }
  json::value event = patterns::sns_attributes_event(attributes);
  return subscription.filter->matches(event);
}

}  // namespace lambent::services::sns
