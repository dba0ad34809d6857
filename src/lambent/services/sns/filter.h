#pragma once

#include "lambent/base/result.h"
#include "lambent/services/sns/model.h"

#include <string_view>

// Subscription filter policies: which publishes reach a subscription. Policies are compiled
// with the SNS dialects of the event pattern matcher.
namespace lambent::services::sns {

// The wording of a policy error, by operation: SetSubscriptionAttributes words them
// "Invalid parameter: FilterPolicy: ...", Subscribe "Invalid parameter: Attributes Reason:
// FilterPolicy: ...".
enum class PolicyWording { set_attributes, subscribe };

// Checks the FilterPolicy of `attributes` under their FilterPolicyScope (MessageAttributes
// when unset). Succeeds when there is no policy.
Status check_filter_policy(const AttributeMap& attributes, PolicyWording wording);

// Compiles the subscription's FilterPolicy into subscription.filter, or clears it when the
// subscription has none. Fails like check_filter_policy.
Status compile_filter(Subscription& subscription);

// True when the subscription has no filter, or its filter matches the message: the message
// attributes with FilterPolicyScope MessageAttributes, or `message` (the body this
// subscription gets) with MessageBody, which must then be a JSON object.
bool filter_matches(const Subscription& subscription, const PublishInput& input,
                    std::string_view message);

}  // namespace lambent::services::sns
