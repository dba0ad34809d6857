#pragma once

#include "lambent/base/result.h"
#include "lambent/services/sns/model.h"

#include <string_view>

// Subscription filter policies: which publishes reach a subscription.
namespace lambent::services::sns {

// Checks a FilterPolicy document. Fails with InvalidParameter naming the problem.
Status check_filter_policy(std::string_view policy);

// True when the subscription's FilterPolicy (if any) matches the message: its attributes
// with FilterPolicyScope MessageAttributes (the default), or `message`, the body the
// subscription gets, with MessageBody.
bool filter_matches(const Subscription& subscription, const PublishInput& input,
                    std::string_view message);

}  // namespace lambent::services::sns
