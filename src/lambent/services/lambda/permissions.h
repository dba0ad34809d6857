#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/http/message.h"
#include "lambent/invoke/invoker.h"
#include "lambent/store/document_store.h"

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Resource-based policies of functions (AddPermission, RemovePermission, GetPolicy under
// /2015-03-31/functions/NAME/policy). Statements are stored and returned as AWS renders them,
// but Lambent does not evaluate them: every caller with a valid key may invoke every function.
namespace lambent::services::lambda {

// The policy of one function or qualifier: its statements in the order they were added.
struct FunctionPolicy {
  std::string function_name;
  std::string qualifier;  // version or alias, empty for the unqualified function
  std::string revision_id;
  std::vector<std::pair<std::string, std::string>> statements;  // Sid -> statement JSON text
};

// Every policy, in memory and in the document store (collection "function_policies", keyed
// "NAME:QUALIFIER"). Confined to the control-plane executor.
class PolicyCatalog {
 public:
  explicit PolicyCatalog(store::DocumentStore& documents);

  // Reads every policy from the store. Blocking: runs at start-up only.
  Status load();

  // nullptr when the function or qualifier has no statement.
  const FunctionPolicy* find(std::string_view function_name, std::string_view qualifier) const;
  // Persist, then replace; a policy without statements is removed.
  Task<Status> put(FunctionPolicy policy);
  // Removes the policies of the function and of all its versions and aliases.
  Task<Status> remove_function(std::string function_name);

 private:
  static constexpr std::string_view kCollection = "function_policies";

  store::DocumentStore& documents_;
  std::map<std::pair<std::string, std::string>, FunctionPolicy, std::less<>> policies_;
};

// True when the path and method name AddPermission, GetPolicy or RemovePermission.
bool is_policy_route(std::string_view path, std::string_view method);

// Serves one request for which is_policy_route() is true. `mutations` is the service's lock for
// function changes.
Task<http::Response> handle_policy(invoke::Invoker& invoker, PolicyCatalog& policies,
                                   AsyncMutex& mutations, http::Request& request,
                                   std::string request_id);

}  // namespace lambent::services::lambda
