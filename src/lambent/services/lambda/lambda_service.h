#pragma once

#include "lambent/base/async.h"
#include "lambent/http/message.h"
#include "lambent/http/server.h"
#include "lambent/invoke/invoker.h"
#include "lambent/services/lambda/function_urls.h"
#include "lambent/services/lambda/permissions.h"
#include "lambent/sources/mapping.h"
#include "lambent/sources/queue_source.h"
#include "lambent/store/code_store.h"
#include "lambent/store/log_store.h"

#include <boost/asio/thread_pool.hpp>

#include <string>

// The Lambda control and invoke API (REST-JSON, /2015-03-31/...), plus the account settings
// operation. Decodes requests, validates them with AWS's rules and messages, and calls the
// Invoker. Runs on the control-plane executor; zip handling hops to the blocking pool.
namespace lambent::services::lambda {

struct LambdaServiceOptions {
  std::string endpoint_url;  // where clients reach this server, for Code.Location
  std::string code_url_key;  // HMAC key for code download links
};

class LambdaService {
 public:
  LambdaService(invoke::Invoker& invoker, store::CodeStore& code, store::LogStore& logs,
                asio::thread_pool& blocking, LambdaServiceOptions options);

  void set_endpoint_url(std::string url) { options_.endpoint_url = std::move(url); }
  // Enables the function URL operations; DeleteFunction then removes the function's URLs too.
  void set_function_urls(FunctionUrlCatalog* urls) { function_urls_ = urls; }
  // Enables AddPermission, RemovePermission and GetPolicy; DeleteFunction removes the policies.
  void set_policies(PolicyCatalog* policies) { policies_ = policies; }
  // Enables the event source mapping operations over `mappings`; `queues` describes the queues
  // they name (null: no queue exists).
  void set_event_source_mappings(sources::MappingCatalog* mappings,
                                 const sources::QueueSource* queues) {
    mappings_ = mappings;
    queues_ = queues;
  }

  // True when the path belongs to this service.
  static bool owns(std::string_view path);

  // Body limits by operation, checked before the body is read.
  http::Handler::HeadDecision check_head(const http::Request& head,
                                         std::optional<std::uint64_t> content_length,
                                         std::string_view request_id);
  http::Response body_too_large(const http::Request& head, std::uint64_t limit,
                                std::string_view request_id);

  Task<http::Response> handle(http::Request& request, std::string request_id);

  // Serves GET /_lambent/code/<sha256 hex>.zip?token=..., the Code.Location of GetFunction.
  Task<http::Response> download_code(const http::Request& request);

 private:
  Task<http::Response> create_function(http::Request& request, const std::string& request_id);
  Task<http::Response> get_function(std::string_view name, const http::Request& request,
                                    const std::string& request_id, bool configuration_only);
  Task<http::Response> list_functions(const http::Request& request, const std::string& request_id);
  Task<http::Response> update_code(std::string_view name, http::Request& request,
                                   const std::string& request_id);
  Task<http::Response> update_configuration(std::string_view name, http::Request& request,
                                            const std::string& request_id);
  Task<http::Response> delete_function(std::string_view name, const http::Request& request,
                                       const std::string& request_id);
  Task<http::Response> invoke(std::string_view name, http::Request& request,
                              const std::string& request_id);
  http::Response account_settings(const std::string& request_id);

  // Versions and aliases (versions_api.cpp).
  Task<http::Response> publish_version(std::string_view name, const http::Request& request,
                                       const std::string& request_id);
  Task<http::Response> list_versions(std::string_view name, const http::Request& request,
                                     const std::string& request_id);
  Task<http::Response> create_alias(std::string_view name, const http::Request& request,
                                    const std::string& request_id);
  Task<http::Response> get_alias(std::string_view name, std::string_view alias,
                                 const std::string& request_id);
  Task<http::Response> update_alias(std::string_view name, std::string_view alias,
                                    const http::Request& request, const std::string& request_id);
  Task<http::Response> delete_alias(std::string_view name, std::string_view alias,
                                    const std::string& request_id);
  Task<http::Response> list_aliases(std::string_view name, const http::Request& request,
                                    const std::string& request_id);
  // Deletes one published version (DeleteFunction with a version number as Qualifier).
  Task<http::Response> delete_version(const std::string& name, const std::string& version,
                                      const std::string& request_id);
  // Put/Get/DeleteFunctionConcurrency (concurrency_api.cpp).
  static bool is_concurrency_route(std::string_view path, std::string_view method);
  Task<http::Response> function_concurrency(http::Request& request, const std::string& request_id);
  std::string code_location(const std::string& sha256_hex) const;
  // Deletes a stored code package that no function uses any more.
  Task<void> release_code_if_unused(std::string sha256_hex);

  invoke::Invoker& invoker_;
  store::CodeStore& code_;
  store::LogStore& logs_;
  asio::thread_pool& blocking_;
  LambdaServiceOptions options_;
  FunctionUrlCatalog* function_urls_ = nullptr;
  PolicyCatalog* policies_ = nullptr;
  sources::MappingCatalog* mappings_ = nullptr;
  const sources::QueueSource* queues_ = nullptr;
  // Create, update and delete run one at a time, so no other change can come between the
  // check and the write of one (existence, RevisionId, shared code packages).
  AsyncMutex mutations_;
};

}  // namespace lambent::services::lambda
