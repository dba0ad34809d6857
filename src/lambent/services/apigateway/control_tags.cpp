#include "lambent/services/apigateway/control.h"
#include "lambent/services/apigateway/control_common.h"

#include <fmt/format.h>
#include <boost/json.hpp>

// TagResource, GetTags and UntagResource: apigatewayv2 under /v2/tags/{arn} (tag with POST,
// 201) and apigateway under /tags/{arn} (tag with PUT, 204). Either path takes the ARN of an
// HTTP API (arn:aws:apigateway:REGION::/apis/ID) or a REST API (.../restapis/ID).
namespace lambent::services::apigateway {

namespace json = boost::json;

namespace {

using TagMap = std::map<std::string, std::string>;

// Applies a TagResource or UntagResource request to `tags`.
Status change_tags(const http::Request& request, const json::object& body, TagMap& tags) {
  if (request.method == "DELETE") {
    // tagKeys repeats in the query string, once per key.
    std::string_view query = request.query();
    while (!query.empty()) {
      std::size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      constexpr std::string_view kKey = "tagKeys=";
      if (!pair.starts_with(kKey)) continue;
      std::string key;
      if (http::percent_decode(pair.substr(kKey.size()), key)) tags.erase(key);
    }
    return ok_status();
  }
  std::optional<TagMap> added;
  if (auto read = BodyFields(body).string_map("tags", added); !read) return read;
  for (auto& [key, value] : added.value_or(TagMap{})) tags[key] = value;
  return ok_status();
}

}  // namespace

Task<http::Response> ControlService::handle_tags(const http::Request& request,
                                                 const std::string& request_id) {
  bool v2 = request.path().starts_with("/v2/");
  std::string_view raw = request.path().substr(v2 ? 9 : 6);  // after "/v2/tags/" or "/tags/"
  std::string arn;
  if (!http::percent_decode(raw, arn)) arn = std::string(raw);

  std::string prefix = fmt::format("arn:aws:apigateway:{}::/", options_.region);
  std::string_view resource =
      arn.starts_with(prefix) ? std::string_view(arn).substr(prefix.size()) : std::string_view();
  bool http_api = resource.starts_with("apis/");
  bool rest_api = resource.starts_with("restapis/");
  std::string api_id(resource.substr(resource.find('/') + 1));
  if ((!http_api && !rest_api) || api_id.empty() || api_id.find('/') != std::string::npos) {
    co_return gateway_error(
        not_found(fmt::format("Invalid resource ARN specified: {}. Lambent tags HTTP APIs "
                              "({}apis/API_ID) and REST APIs ({}restapis/API_ID)",
                              arn, prefix, prefix)),
        request_id);
  }
  auto missing =
      not_found(fmt::format("Invalid API identifier specified {}:{}", options_.account_id, api_id));

  const std::string& method = request.method;
  bool tagging = (v2 && method == "POST") || (!v2 && method == "PUT");
  if (method != "GET" && method != "DELETE" && !tagging) {
    co_return gateway_error(
        Error{Errc::not_implemented,
              fmt::format("{} {} is not an API Gateway operation", method, request.path())},
        request_id);
  }
  if (method == "GET") {
    TagMap tags;
    if (http_api) {
      auto api = registry_.http_api(api_id);
      if (!api) co_return gateway_error(missing, request_id);
      tags = api->tags;
    } else {
      auto api = registry_.rest_api(api_id);
      if (!api) co_return gateway_error(missing, request_id);
      tags = api->tags;
    }
    json::object out;
    for (const auto& [key, value] : tags) out[key] = value;
    co_return gateway_json(200, json::object{{"tags", std::move(out)}}, request_id);
  }

  auto body = parse_request_body(request.body);
  if (!body) co_return gateway_error(body.error(), request_id);
  auto guard = co_await mutations_.lock();
  Status stored = ok_status();
  if (http_api) {
    auto current = registry_.http_api(api_id);
    if (!current) co_return gateway_error(missing, request_id);
    HttpApi api = *current;
    if (auto changed = change_tags(request, *body, api.tags); !changed) {
      co_return gateway_error(changed.error(), request_id);
    }
    stored = co_await registry_.put_http_api(std::move(api));
  } else {
    auto current = registry_.rest_api(api_id);
    if (!current) co_return gateway_error(missing, request_id);
    RestApi api = *current;
    if (auto changed = change_tags(request, *body, api.tags); !changed) {
      co_return gateway_error(changed.error(), request_id);
    }
    stored = co_await registry_.put_rest_api(std::move(api));
  }
  if (!stored) co_return store_failed(stored.error(), api_id, request_id);
  if (v2 && tagging) co_return gateway_json(201, json::object(), request_id);
  co_return gateway_empty(204, request_id);
}

}  // namespace lambent::services::apigateway
