#include "lambent/services/apigateway/registry.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/apigateway/codec.h"

namespace lambent::services::apigateway {

namespace {

constexpr const char* kHttpApis = "apigatewayv2.apis";
constexpr const char* kRestApis = "apigateway.restapis";

}  // namespace

Registry::Registry(store::DocumentStore& documents) : documents_(documents) {}

Status Registry::load() {
  auto http = documents_.load(kHttpApis);
  if (!http) return std::move(http).error();
  for (const auto& document : *http) {
    auto api = decode_http_api(document.body);
    if (!api) {
      return make_error(Errc::internal, "stored HTTP API " + document.key +
                                            " cannot be read: " + api.error().message);
    }
    http_apis_[document.key] = std::make_shared<const HttpApi>(std::move(api).value());
  }
  auto rest = documents_.load(kRestApis);
  if (!rest) return std::move(rest).error();
  for (const auto& document : *rest) {
    auto api = decode_rest_api(document.body);
    if (!api) {
      return make_error(Errc::internal, "stored REST API " + document.key +
                                            " cannot be read: " + api.error().message);
    }
    rest_apis_[document.key] = std::make_shared<const RestApi>(std::move(api).value());
  }
  ++generation_;
  return ok_status();
}

std::shared_ptr<const HttpApi> Registry::http_api(std::string_view id) const {
  auto it = http_apis_.find(id);
  return it == http_apis_.end() ? nullptr : it->second;
}

std::shared_ptr<const RestApi> Registry::rest_api(std::string_view id) const {
  auto it = rest_apis_.find(id);
  return it == rest_apis_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const HttpApi>> Registry::http_apis() const {
  std::vector<std::shared_ptr<const HttpApi>> out;
  out.reserve(http_apis_.size());
  for (const auto& [id, api] : http_apis_) out.push_back(api);
  return out;
}

std::vector<std::shared_ptr<const RestApi>> Registry::rest_apis() const {
  std::vector<std::shared_ptr<const RestApi>> out;
  out.reserve(rest_apis_.size());
  for (const auto& [id, api] : rest_apis_) out.push_back(api);
  return out;
}

Task<Status> Registry::put_http_api(HttpApi api) {
  std::string id = api.id;
  auto stored = co_await documents_.put(kHttpApis, id, encode_http_api(api));
  if (!stored) co_return stored;
  http_apis_[id] = std::make_shared<const HttpApi>(std::move(api));
  ++generation_;
  co_return ok_status();
}

Task<Status> Registry::remove_http_api(std::string id) {
  auto removed = co_await documents_.remove(kHttpApis, id);
  if (!removed) co_return removed;
  http_apis_.erase(id);
  ++generation_;
  co_return ok_status();
}

Task<Status> Registry::put_rest_api(RestApi api) {
  std::string id = api.id;
  auto stored = co_await documents_.put(kRestApis, id, encode_rest_api(api));
  if (!stored) co_return stored;
  rest_apis_[id] = std::make_shared<const RestApi>(std::move(api));
  ++generation_;
  co_return ok_status();
}

Task<Status> Registry::remove_rest_api(std::string id) {
  auto removed = co_await documents_.remove(kRestApis, id);
  if (!removed) co_return removed;
  rest_apis_.erase(id);
  ++generation_;
  co_return ok_status();
}

std::shared_ptr<const HttpRouteSet> Registry::served_routes(
    const std::shared_ptr<const HttpApi>& api, const HttpStage& stage) {
  if (stage.auto_deploy) return std::shared_ptr<const HttpRouteSet>(api, &api->live);
  auto it = api->deployments.find(stage.deployment_id);
  if (it == api->deployments.end()) return nullptr;
  return it->second.snapshot;
}

std::shared_ptr<const RestResourceTree> Registry::served_resources(const RestApi& api,
                                                                  const RestStage& stage) {
  auto it = api.deployments.find(stage.deployment_id);
  if (it == api.deployments.end()) return nullptr;
  return it->second.snapshot;
}

std::string Registry::new_id(std::size_t length) const {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (;;) {
    std::string hex = random_hex(length);
    std::string id;
    id.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
      id.push_back(kAlphabet[std::stoi(hex.substr(2 * i, 2), nullptr, 16) % 36]);
    }
    if (!http_apis_.contains(id) && !rest_apis_.contains(id)) return id;
  }
}

}  // namespace lambent::services::apigateway
