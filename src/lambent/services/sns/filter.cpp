#include "lambent/services/sns/filter.h"

#include <boost/json.hpp>

namespace lambent::services::sns {

namespace json = boost::json;

Status check_filter_policy(std::string_view policy) {
  boost::system::error_code ec;
  auto value = json::parse(policy, ec);
  if (ec || !value.is_object()) {
    return invalid_parameter("Invalid parameter: FilterPolicy: failed to parse JSON.");
  }
  return ok_status();
}

bool filter_matches(const Subscription& subscription, const PublishInput& input,
                    std::string_view message) {
  // TODO: evaluate the policy; every publish matches until then.
  return true;
}

}  // namespace lambent::services::sns
