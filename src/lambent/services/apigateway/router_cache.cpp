#include "lambent/services/apigateway/registry.h"
#include "lambent/services/apigateway/router.h"

// Kept apart from router.cpp so the routers link without the registry and its codec.
namespace lambent::services::apigateway {

void RouterCache::check_generation(std::uint64_t generation) {
  if (generation == generation_) return;
  http_.clear();
  rest_.clear();
  generation_ = generation;
}

std::shared_ptr<const HttpRouter> RouterCache::http(std::uint64_t generation,
                                                    const std::shared_ptr<const HttpApi>& api,
                                                    const HttpStage& stage) {
  check_generation(generation);
  auto key = std::make_pair(api->id, stage.name);
  if (auto it = http_.find(key); it != http_.end()) return it->second;
  auto routes = Registry::served_routes(api, stage);
  if (!routes) return nullptr;
  auto router = std::make_shared<const HttpRouter>(std::move(routes));
  http_.emplace(std::move(key), router);
  return router;
}

std::shared_ptr<const RestRouter> RouterCache::rest(std::uint64_t generation, const RestApi& api,
                                                    const RestStage& stage) {
  check_generation(generation);
  auto key = std::make_pair(api.id, stage.name);
  if (auto it = rest_.find(key); it != rest_.end()) return it->second;
  auto resources = Registry::served_resources(api, stage);
  if (!resources) return nullptr;
  auto router = std::make_shared<const RestRouter>(std::move(resources));
  rest_.emplace(std::move(key), router);
  return router;
}

}  // namespace lambent::services::apigateway
