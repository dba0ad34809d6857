#pragma once

#include "lambent/base/async.h"
#include "lambent/base/result.h"
#include "lambent/store/document_store.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Function URL configurations: at most one per function and alias, each with its own URL id.
// Kept in memory and in the document store (collection "function_urls", one document per URL,
// keyed by URL id). The control API changes them; the function URL data plane reads snapshots
// by URL id. Confined to the control-plane executor.
namespace lambent::services::lambda {

// The Cors member of a function URL config. Absent members stay unset, so responses show only
// what the client set, as AWS's do.
struct FunctionUrlCors {
  std::optional<bool> allow_credentials;
  std::optional<std::vector<std::string>> allow_headers;
  std::optional<std::vector<std::string>> allow_methods;
  std::optional<std::vector<std::string>> allow_origins;
  std::optional<std::vector<std::string>> expose_headers;
  std::optional<std::int64_t> max_age;  // seconds, 0 to 86400
};

struct FunctionUrlConfig {
  std::string url_id;         // 32 characters of [a-z0-9]
  std::string function_name;  // unqualified
  std::string qualifier;      // alias name, empty for the unqualified function
  std::string auth_type = "NONE";  // "NONE" or "AWS_IAM"
  std::optional<FunctionUrlCors> cors;
  // "BUFFERED" or "RESPONSE_STREAM" when the client set it. Create and Update responses show
  // it only then; Get and List show "BUFFERED" when it is unset.
  std::optional<std::string> invoke_mode;
  std::string creation_time;       // ISO 8601 with microseconds, "2024-01-02T03:04:05.123456Z"
  std::string last_modified_time;  // same format
};

class FunctionUrlCatalog {
 public:
  explicit FunctionUrlCatalog(store::DocumentStore& documents);

  // Reads every config from the store. Blocking: runs at start-up only. A document that does
  // not decode is skipped with a warning.
  Status load();

  // Sets where function URLs are served: FunctionUrl becomes
  // http://{url-id}.lambda-url.{region}.localhost:{port}/.
  void set_endpoint(std::string region, std::uint16_t port);
  std::string function_url(const FunctionUrlConfig& config) const;

  // nullptr when the function (qualifier empty for the unqualified one) has no URL.
  std::shared_ptr<const FunctionUrlConfig> find(std::string_view function_name,
                                                std::string_view qualifier) const;
  std::shared_ptr<const FunctionUrlConfig> find_by_url_id(std::string_view url_id) const;
  // The function's configs, the unqualified one first, then by alias name.
  std::vector<std::shared_ptr<const FunctionUrlConfig>> list(std::string_view function_name) const;

  // Persist, then replace the in-memory value. On a store error nothing changes.
  Task<Status> put(FunctionUrlConfig config);
  Task<Status> remove(std::string function_name, std::string qualifier);
  // Removes every config of a function (DeleteFunction).
  Task<Status> remove_function(std::string function_name);

  // A new URL id: 32 random characters of [a-z0-9], unused in this catalog.
  std::string new_url_id() const;

 private:
  static constexpr std::string_view kCollection = "function_urls";

  store::DocumentStore& documents_;
  std::string region_ = "us-east-1";
  std::uint16_t port_ = 4566;
  // By (function name, qualifier), and the same configs by URL id.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const FunctionUrlConfig>,
           std::less<>>
      by_function_;
  std::map<std::string, std::shared_ptr<const FunctionUrlConfig>, std::less<>> by_url_id_;
};

// The current time as function URL configs show it, "2024-01-02T03:04:05.123456Z".
std::string function_url_timestamp_now();

}  // namespace lambent::services::lambda
