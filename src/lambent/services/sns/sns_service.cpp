#include "lambent/services/sns/sns_service.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/http/sigv4.h"
#include "lambent/services/sns/filter.h"
#include "lambent/services/sns/signer.h"

#include <fmt/format.h>

namespace lambent::services::sns {

namespace {

// Form bodies carry a 256 KiB message percent-encoded (up to 3 bytes per byte), plus attributes.
constexpr std::uint64_t kMaxRequestBytes = 4 * 1024 * 1024;

bool is_link_request(const http::Request& head) {
  if (head.method != "GET" || head.path() != "/" || head.has_header("authorization")) return false;
  auto action = http::query_param(head.query(), "Action");
  if (action.value == "ConfirmSubscription") {
    return http::query_param(head.query(), "Token").found &&
           http::query_param(head.query(), "TopicArn").value.starts_with("arn:aws:sns:");
  }
  if (action.value == "Unsubscribe") {
    return http::query_param(head.query(), "SubscriptionArn").value.starts_with("arn:aws:sns:");
  }
  return false;
}

}  // namespace

SnsService::SnsService(store::TopicStore& store, invoke::Invoker& invoker,
                       store::MessageTargets& targets, asio::any_io_executor executor,
                       SnsOptions options)
    : store_(store),
      invoker_(invoker),
      targets_(targets),
      options_(std::move(options)),
      wake_(executor),
      tasks_(executor, "sns") {}

SnsService::~SnsService() = default;

Status SnsService::load() {
  if (auto opened = store_.open(); !opened) return opened;
  auto topics = store_.load_topics();
  if (!topics) return topics.error();
  for (const auto& record : *topics) {
    auto topic = from_record(record);
    if (!topic) return topic.error();
    topics_.emplace(topic->arn, std::move(*topic));
  }
  auto subscriptions = store_.load_subscriptions();
  if (!subscriptions) return subscriptions.error();
  for (const auto& record : *subscriptions) {
    auto subscription = from_record(record);
    if (!subscription) return subscription.error();
    if (auto compiled = compile_filter(*subscription); !compiled) {
      // A policy this version rejects matches nothing, so no message slips through unfiltered.
      LOG_WARN("sns", "filter_policy_invalid", "subscription={} error=\"{}\"", subscription->arn,
               compiled.error().message);
      subscription->filter_rejected = true;
    }
    index_subscription(*subscription);
    subscriptions_.emplace(subscription->arn, std::move(*subscription));
  }
  return ok_status();
}

Status SnsService::load_signing_key(const std::string& dir) {
  auto signer = Signer::load_or_create(dir);
  if (!signer) return signer.error();
  signer_ = std::move(*signer);
  return ok_status();
}

void SnsService::start() { tasks_.spawn(dispatch_loop(), "dispatcher"); }

void SnsService::stop() {
  tasks_.stop();
  wake_.set();
}

bool SnsService::owns(const http::Request& head) const {
  auto authorization = head.header("authorization");
  if (!authorization.empty()) return http::scope_service(authorization) == "sns";
  if (head.method == "GET" && head.path() == kSigningCertPath) return true;
  return is_link_request(head);
}

http::Handler::HeadDecision SnsService::check_head(const http::Request& head,
                                                   std::optional<std::uint64_t> content_length) {
  http::Handler::HeadDecision decision;
  decision.body_limit = kMaxRequestBytes;
  if (content_length && *content_length > kMaxRequestBytes) {
    decision.reject = body_too_large(head, kMaxRequestBytes);
  }
  return decision;
}

http::Response SnsService::body_too_large(const http::Request& head, std::uint64_t limit) {
  auto response =
      error_response(sns_error(Errc::too_large, "RequestEntityTooLarge",
                               fmt::format("Request body is larger than {} bytes", limit)),
                     head.id);
  response.close = true;
  return response;
}

// SubscribeURL, UnsubscribeURL and the signing certificate are fetched without credentials: the
// token or the ARN is the authorization, as on AWS.
bool SnsService::allows_anonymous(const http::Request& request) const {
  return (request.method == "GET" && request.path() == kSigningCertPath) ||
         is_link_request(request);
}

http::Response SnsService::unauthorized(const http::Request& request, const Error& error) {
  Error shaped = error;
  if (shaped.type.empty() || shaped.type == "UnrecognizedClientException") {
    shaped.type = shaped.type.empty() ? "AuthorizationError" : "InvalidClientTokenId";
  }
  if (shaped.type == "MissingAuthenticationTokenException")
    shaped.type = "MissingAuthenticationToken";
  if (shaped.type == "InvalidSignatureException") shaped.type = "SignatureDoesNotMatch";
  if (shaped.type == "IncompleteSignatureException") shaped.type = "IncompleteSignature";
  return error_response(shaped, request.id);
}

Task<std::optional<http::Response>> SnsService::serve_link(const http::Request& request) {
  if (request.method == "GET" && request.path() == kSigningCertPath) {
    http::Response response;
    if (!signer_) {
      response.status = 404;
      co_return response;
    }
    response.header("Content-Type", "application/x-pem-file");
    response.body = signer_->certificate_pem();
    co_return response;
  }
  if (!is_link_request(request)) co_return std::nullopt;
  auto query = request.query();
  std::string action = http::query_param(query, "Action").value;
  if (action == "ConfirmSubscription") {
    std::string topic_arn = http::query_param(query, "TopicArn").value;
    std::string token = http::query_param(query, "Token").value;
    for (auto& [arn, subscription] : subscriptions_) {
      if (subscription.topic_arn != topic_arn || subscription.token != token) continue;
      Subscription confirmed = subscription;
      confirmed.confirmed = true;
      auto saved = co_await store_.put_subscription(to_record(confirmed));
      if (!saved) co_return error_response(saved.error(), request.id);
      // The map may have changed while the write ran, so the entry is looked up again.
      if (auto it = subscriptions_.find(confirmed.arn); it != subscriptions_.end()) {
        it->second.confirmed = true;
      }
      Xml xml;
      xml.leaf("SubscriptionArn", confirmed.arn);
      co_return ok_response("ConfirmSubscription", xml.take(), request.id);
    }
    co_return error_response(invalid_parameter("Invalid parameter: Token"), request.id);
  }
  std::string arn = http::query_param(query, "SubscriptionArn").value;
  if (subscriptions_.contains(arn)) {
    auto deleted = co_await store_.delete_subscription(arn);
    if (!deleted) co_return error_response(deleted.error(), request.id);
    if (subscriptions_.contains(arn)) unindex_subscription(arn);
  }
  co_return ok_response("Unsubscribe", std::nullopt, request.id);
}

Task<http::Response> SnsService::handle(http::Request& request, const http::Identity* identity) {
  if (identity == nullptr) {
    auto served = co_await serve_link(request);
    if (served) co_return std::move(*served);
  }
  auto params = Params::decode(request.query());
  if (!params) co_return error_response(params.error(), request.id);
  if (request.method == "POST") {
    if (auto merged = params->merge(request.body); !merged) {
      co_return error_response(merged.error(), request.id);
    }
  }
  std::string action = params->get("Action");
  co_return co_await dispatch(std::move(action), std::move(*params), request.id);
}

Task<http::Response> SnsService::dispatch(std::string action, Params params,
                                          std::string request_id) {
  std::optional<Output> out;
  if (action == "CreateTopic") {
    out = co_await create_topic(params);
  } else if (action == "DeleteTopic") {
    out = co_await delete_topic(params);
  } else if (action == "ListTopics") {
    out = list_topics(params);
  } else if (action == "GetTopicAttributes") {
    out = get_topic_attributes(params);
  } else if (action == "SetTopicAttributes") {
    out = co_await set_topic_attributes(params);
  } else if (action == "Subscribe") {
    out = co_await subscribe(params);
  } else if (action == "Unsubscribe") {
    out = co_await unsubscribe(params);
  } else if (action == "ConfirmSubscription") {
    out = co_await confirm_subscription(params);
  } else if (action == "ListSubscriptions") {
    out = list_subscriptions(params, false);
  } else if (action == "ListSubscriptionsByTopic") {
    out = list_subscriptions(params, true);
  } else if (action == "GetSubscriptionAttributes") {
    out = get_subscription_attributes(params);
  } else if (action == "SetSubscriptionAttributes") {
    out = co_await set_subscription_attributes(params);
  } else if (action == "Publish") {
    out = co_await publish(params);
  } else if (action == "PublishBatch") {
    out = co_await publish_batch(params);
  } else if (action == "TagResource") {
    out = co_await tag_resource(params);
  } else if (action == "UntagResource") {
    out = co_await untag_resource(params);
  } else if (action == "ListTagsForResource") {
    out = list_tags(params);
  } else {
    Error error = sns_error(Errc::not_implemented, "InvalidAction",
                            action.empty() ? "Missing Action parameter"
                                           : fmt::format("The action {} is not valid for this "
                                                         "web service.",
                                                         action));
    co_return error_response(error, request_id);
  }
  if (!*out) co_return error_response(out->error(), request_id);
  co_return ok_response(action, std::move(out->value()), request_id);
}

}  // namespace lambent::services::sns
