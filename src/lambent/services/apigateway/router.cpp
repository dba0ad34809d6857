#include "lambent/services/apigateway/router.h"

#include "lambent/http/message.h"

namespace lambent::services::apigateway {

namespace detail {

// A path trie. Each entry is an index into the owning router's compiled patterns, by method.
struct RouteNode {
  std::map<std::string, std::unique_ptr<RouteNode>, std::less<>> literals;
  std::unique_ptr<RouteNode> variable;
  std::map<std::string, std::size_t, std::less<>> ends_here;  // patterns that end at this node
  std::map<std::string, std::size_t, std::less<>> greedy;     // patterns with {x+} next
};

}  // namespace detail

namespace {

using detail::RouteNode;
using Segment = PathPattern::Segment;

constexpr std::string_view kAnyMethod = "ANY";

// Splits a request path into its non-empty segments, still percent-encoded.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return segments;
}

// A malformed escape stays as the client sent it, since API Gateway passes such values on.
std::string decode(std::string_view raw) {
  std::string out;
  if (!http::percent_decode(raw, out)) return std::string(raw);
  return out;
}

void insert(RouteNode& root, const PathPattern& pattern, std::string_view method,
            std::size_t index) {
  RouteNode* node = &root;
  for (const auto& segment : pattern.segments) {
    if (segment.kind == Segment::Kind::greedy) {
      node->greedy.try_emplace(std::string(method), index);
      return;
    }
    std::unique_ptr<RouteNode>* child = nullptr;
    if (segment.kind == Segment::Kind::literal) {
      child = &node->literals[segment.text];
    } else {
      child = &node->variable;
    }
    if (!*child) *child = std::make_unique<RouteNode>();
    node = child->get();
  }
  node->ends_here.try_emplace(std::string(method), index);
}

std::optional<std::size_t> pick_method(
    const std::map<std::string, std::size_t, std::less<>>& entries, std::string_view method) {
  if (auto it = entries.find(method); it != entries.end()) return it->second;
  if (auto it = entries.find(kAnyMethod); it != entries.end()) return it->second;
  return std::nullopt;
}

// Depth-first search in precedence order: literal child, variable child, then a greedy
// variable here. Backtracks when a branch has no pattern for the method.
std::optional<std::size_t> find(const RouteNode& node,
                                const std::vector<std::string_view>& segments,
                                const std::vector<std::string>& decoded, std::size_t position,
                                std::string_view method) {
  if (position == segments.size()) return pick_method(node.ends_here, method);
  if (auto it = node.literals.find(decoded[position]); it != node.literals.end()) {
    auto found = find(*it->second, segments, decoded, position + 1, method);
    if (found) return found;
  }
  if (node.variable) {
    auto found = find(*node.variable, segments, decoded, position + 1, method);
    if (found) return found;
  }
  return pick_method(node.greedy, method);
}

PathParameters extract_parameters(const PathPattern& pattern,
                                  const std::vector<std::string_view>& segments,
                                  const std::vector<std::string>& decoded) {
  PathParameters parameters;
  for (std::size_t i = 0; i < pattern.segments.size(); ++i) {
    const auto& segment = pattern.segments[i];
    if (segment.kind == Segment::Kind::variable) {
      parameters.emplace_back(segment.text, decoded[i]);
    } else if (segment.kind == Segment::Kind::greedy) {
      // The greedy value keeps the slashes between the remaining segments.
      std::string joined;
      for (std::size_t j = i; j < segments.size(); ++j) {
        if (j > i) joined.push_back('/');
        joined.append(segments[j]);
      }
      parameters.emplace_back(segment.text, decode(joined));
    }
  }
  return parameters;
}

struct SplitRequest {
  std::vector<std::string_view> segments;
  std::vector<std::string> decoded;
};

SplitRequest split_request(std::string_view path) {
  SplitRequest split;
  split.segments = split_path(path);
  split.decoded.reserve(split.segments.size());
  for (auto segment : split.segments) split.decoded.push_back(decode(segment));
  return split;
}

}  // namespace

std::optional<PathPattern> parse_path_pattern(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  PathPattern pattern;
  for (auto text : split_path(path)) {
    Segment segment;
    if (text.size() >= 2 && text.front() == '{' && text.back() == '}') {
      std::string_view name = text.substr(1, text.size() - 2);
      if (name.ends_with('+')) {
        segment.kind = Segment::Kind::greedy;
        name.remove_suffix(1);
      } else {
        segment.kind = Segment::Kind::variable;
      }
      if (name.empty()) return std::nullopt;
      segment.text = std::string(name);
    } else {
      segment.text = std::string(text);
    }
    if (!pattern.segments.empty() && pattern.segments.back().kind == Segment::Kind::greedy) {
      return std::nullopt;
    }
    pattern.segments.push_back(std::move(segment));
  }
  return pattern;
}

// ---- HTTP APIs ----

struct HttpRouter::Compiled {
  const HttpRoute* route = nullptr;
  PathPattern pattern;
};

HttpRouter::HttpRouter(std::shared_ptr<const HttpRouteSet> routes)
    : routes_(std::move(routes)), root_(std::make_unique<detail::RouteNode>()) {
  for (const auto& [id, route] : routes_->routes) {
    if (route.route_key == "$default") {
      default_route_ = &route;
      continue;
    }
    auto space = route.route_key.find(' ');
    if (space == std::string::npos) continue;
    auto pattern = parse_path_pattern(std::string_view(route.route_key).substr(space + 1));
    if (!pattern) continue;
    auto compiled = std::make_unique<Compiled>();
    compiled->route = &route;
    compiled->pattern = std::move(*pattern);
    insert(*root_, compiled->pattern, std::string_view(route.route_key).substr(0, space),
           compiled_.size());
    compiled_.push_back(std::move(compiled));
  }
}

HttpRouter::~HttpRouter() = default;

std::optional<HttpRouteMatch> HttpRouter::match(std::string_view method,
                                                std::string_view path) const {
  auto request = split_request(path);
  auto found = find(*root_, request.segments, request.decoded, 0, method);
  if (found) {
    const Compiled& compiled = *compiled_[*found];
    return HttpRouteMatch{compiled.route,
                          extract_parameters(compiled.pattern, request.segments, request.decoded)};
  }
  if (default_route_) return HttpRouteMatch{default_route_, {}};
  return std::nullopt;
}

// ---- REST APIs ----

struct RestRouter::Compiled {
  const RestResource* resource = nullptr;
  const RestMethod* method = nullptr;
  PathPattern pattern;
};

RestRouter::RestRouter(std::shared_ptr<const RestResourceTree> resources)
    : resources_(std::move(resources)), root_(std::make_unique<detail::RouteNode>()) {
  for (const auto& [id, resource] : *resources_) {
    auto pattern = parse_path_pattern(resource.path);
    if (!pattern) continue;
    for (const auto& [http_method, method] : resource.methods) {
      auto compiled = std::make_unique<Compiled>();
      compiled->resource = &resource;
      compiled->method = &method;
      compiled->pattern = *pattern;
      insert(*root_, compiled->pattern, http_method, compiled_.size());
      compiled_.push_back(std::move(compiled));
    }
  }
}

RestRouter::~RestRouter() = default;

std::optional<RestMatch> RestRouter::match(std::string_view method, std::string_view path) const {
  auto request = split_request(path);
  auto found = find(*root_, request.segments, request.decoded, 0, method);
  if (!found) return std::nullopt;
  const Compiled& compiled = *compiled_[*found];
  return RestMatch{compiled.resource, compiled.method,
                   extract_parameters(compiled.pattern, request.segments, request.decoded)};
}

}  // namespace lambent::services::apigateway
