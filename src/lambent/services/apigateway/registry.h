#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/services/apigateway/model.h"
#include "lambent/store/document_store.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Every HTTP API and REST API, in memory and in the document store (one document per API,
// rewritten whole on each change). The control plane changes an API by building a new value
// and committing it with put_*; readers get immutable snapshots that stay valid while they
// hold them. Confined to the control-plane executor.
namespace lambent::services::apigateway {

class Registry {
 public:
  explicit Registry(store::DocumentStore& documents);

  // Reads every API from the store. Blocking: runs at start-up only.
  Status load();

  std::shared_ptr<const HttpApi> http_api(std::string_view id) const;
  std::shared_ptr<const RestApi> rest_api(std::string_view id) const;
  std::vector<std::shared_ptr<const HttpApi>> http_apis() const;  // ordered by id
  std::vector<std::shared_ptr<const RestApi>> rest_apis() const;  // ordered by id

  // Persist, then replace the in-memory value. On a store error nothing changes.
  Task<Status> put_http_api(HttpApi api);
  Task<Status> remove_http_api(std::string id);
  Task<Status> put_rest_api(RestApi api);
  Task<Status> remove_rest_api(std::string id);

  // Counts every change, so the data plane can rebuild what it derived from older snapshots.
  std::uint64_t generation() const { return generation_; }

  // Returns the routes and integrations an HTTP API stage serves. An AutoDeploy stage serves
  // the live set, any other stage its deployment's snapshot. Null when nothing is deployed.
  static std::shared_ptr<const HttpRouteSet> served_routes(
      const std::shared_ptr<const HttpApi>& api, const HttpStage& stage);
  // The resource tree a REST API stage serves, from its deployment; null when missing.
  static std::shared_ptr<const RestResourceTree> served_resources(const RestApi& api,
                                                                  const RestStage& stage);

  // A new API, resource, route, integration or deployment id: 10 characters of [a-z0-9]
  // (resources and routes use 6 and 7 as AWS does), unused in this registry.
  std::string new_id(std::size_t length) const;

 private:
  store::DocumentStore& documents_;
  std::map<std::string, std::shared_ptr<const HttpApi>, std::less<>> http_apis_;
  std::map<std::string, std::shared_ptr<const RestApi>, std::less<>> rest_apis_;
  std::uint64_t generation_ = 0;
};

}  // namespace lambent::services::apigateway
