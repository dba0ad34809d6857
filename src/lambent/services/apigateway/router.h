#pragma once

#include "lambent/services/apigateway/model.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Request matching for HTTP API routes and REST API resources, with API Gateway's precedence.
// At each path segment a literal beats a path variable, which beats a greedy `{name+}`
// variable. At the matched path a concrete method beats ANY. An HTTP API's `$default` route
// takes what nothing else matches. Empty segments are ignored, so `/pets/`, `//pets` and `/pets`
// match the same route, as API Gateway matches them. Literals and methods compare case-sensitively.
// A compiled router is immutable and keeps the configuration it was built from alive.
namespace lambent::services::apigateway {

using PathParameters = std::vector<std::pair<std::string, std::string>>;

namespace detail {
struct RouteNode;
}  // namespace detail

// One compiled path pattern: "/items/{id}/{rest+}".
struct PathPattern {
  struct Segment {
    enum class Kind { literal, variable, greedy };
    Kind kind = Kind::literal;
    std::string text;  // the literal, or the variable name without braces and '+'
  };
  std::vector<Segment> segments;
};

// Parses a route or resource path; nullopt when it is not "/" followed by segments, or a
// greedy variable is not last.
std::optional<PathPattern> parse_path_pattern(std::string_view path);

struct HttpRouteMatch {
  const HttpRoute* route = nullptr;  // points into the router's route set
  PathParameters path_parameters;    // percent-decoded, in route order
};

class HttpRouter {
 public:
  // Routes whose key cannot be parsed are left out; the control plane validates keys.
  explicit HttpRouter(std::shared_ptr<const HttpRouteSet> routes);
  ~HttpRouter();
  HttpRouter(const HttpRouter&) = delete;
  HttpRouter& operator=(const HttpRouter&) = delete;

  // `path` is the request path after the stage, still percent-encoded, without the query.
  std::optional<HttpRouteMatch> match(std::string_view method, std::string_view path) const;

  const HttpRouteSet& routes() const { return *routes_; }

 private:
  struct Compiled;
  std::shared_ptr<const HttpRouteSet> routes_;
  std::vector<std::unique_ptr<Compiled>> compiled_;
  std::unique_ptr<detail::RouteNode> root_;
  const HttpRoute* default_route_ = nullptr;
};

struct RestMatch {
  const RestResource* resource = nullptr;  // points into the router's resource tree
  const RestMethod* method = nullptr;      // the method itself, or the resource's ANY
  PathParameters path_parameters;          // percent-decoded, in path order
};

class RestRouter {
 public:
  explicit RestRouter(std::shared_ptr<const RestResourceTree> resources);
  ~RestRouter();
  RestRouter(const RestRouter&) = delete;
  RestRouter& operator=(const RestRouter&) = delete;

  std::optional<RestMatch> match(std::string_view method, std::string_view path) const;

 private:
  struct Compiled;
  std::shared_ptr<const RestResourceTree> resources_;
  std::vector<std::unique_ptr<Compiled>> compiled_;
  std::unique_ptr<detail::RouteNode> root_;
};

// Compiled routers per (API id, stage), rebuilt after the registry changes. Confined to the
// control-plane executor.
class RouterCache {
 public:
  // `generation` is Registry::generation(): when it differs from the last call's, every cached
  // router is dropped. Null when the stage serves nothing (no deployment yet).
  std::shared_ptr<const HttpRouter> http(std::uint64_t generation,
                                         const std::shared_ptr<const HttpApi>& api,
                                         const HttpStage& stage);
  std::shared_ptr<const RestRouter> rest(std::uint64_t generation, const RestApi& api,
                                         const RestStage& stage);

 private:
  void check_generation(std::uint64_t generation);

  std::uint64_t generation_ = 0;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const HttpRouter>> http_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const RestRouter>> rest_;
};

}  // namespace lambent::services::apigateway
