#include "lambent/services/lambda/lambda_service.h"

#include "lambent/base/crypto.h"
#include "lambent/base/log.h"
#include "lambent/services/lambda/errors.h"
#include "lambent/services/lambda/event_invoke_config.h"
#include "lambent/services/lambda/function_config.h"
#include "lambent/services/lambda/event_source_mapping_api.h"
#include "lambent/services/lambda/function_url_api.h"
#include "lambent/services/lambda/provisioned_api.h"
#include "lambent/services/lambda/service_common.h"
#include "lambent/services/lambda/versions_api.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kFunctionsPrefix = "/2015-03-31/functions";
constexpr std::string_view kAccountSettings = "/2016-08-19/account-settings";
// AWS's request size limits: CreateFunction and UpdateFunctionCode carry a base64 zip of up to
// 50 MB; everything else is capped like a synchronous invoke.
constexpr std::uint64_t kMaxCodeRequestBytes = 70167211;
constexpr std::uint64_t kMaxSyncPayloadBytes = 6291456;
constexpr std::uint64_t kMaxAsyncPayloadBytes = 1048576;

// Describes why a payload is not JSON in the words of AWS's parser (Jackson) for the cases AWS
// has been observed to report: a control character where a value starts, and a byte that
// cannot start a UTF-8 sequence. Other syntax errors get Boost.JSON's description.
std::string describe_invalid_json(std::string_view body, const boost::system::error_code& ec) {
  auto location = [](std::size_t line, std::size_t column) {
    return fmt::format(
        "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` "
        "disabled); line: {}, column: {}]",
        line, column);
  };
  std::size_t start = body.find_first_not_of(" \t\r\n");
  if (start != std::string_view::npos) {
    auto first = static_cast<unsigned char>(body[start]);
    if (first < 0x20 || (first >= 0x7f && first <= 0x9f)) {
      return fmt::format(
                 "Unexpected character ((CTRL-CHAR, code {})): expected a valid value (JSON "
                 "String, Number, Array, Object or token 'null', 'true' or 'false')",
                 first) +
             location(1, start + 1);
    }
  }
  std::size_t line = 1;
  std::size_t column = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    auto byte = static_cast<unsigned char>(body[i]);
    ++column;
    if (byte == '\n') {
      ++line;
      column = 0;
      continue;
    }
    if (byte < 0x80) continue;
    // Continuation bytes a valid lead byte announces: 110xxxxx 1, 1110xxxx 2, 11110xxx 3.
    std::size_t extra = 0;
    if (byte >= 0xf0 && byte < 0xf8) {
      extra = 3;
    } else if (byte >= 0xe0 && byte < 0xf0) {
      extra = 2;
    } else if (byte >= 0xc0 && byte < 0xe0) {
      extra = 1;
    }
    if (extra == 0) {
      // Jackson reports the column after the offending byte.
      return fmt::format("Invalid UTF-8 start byte 0x{:02x}", byte) + location(line, column + 1);
    }
    i += extra;
  }
  return ec.message();
}

// Orders ListFunctions entries for Marker: "NAME" sorts after every version of NAME, and
// "NAME:$LATEST" before "NAME:1", as FunctionVersion=ALL lists them.
std::pair<std::string_view, std::int64_t> listing_position(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos) return {key, INT64_MAX};
  std::string_view version = key.substr(colon + 1);
  std::int64_t rank = 0;
  if (version != "$LATEST") {
    auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), rank);
    if (ec != std::errc() || end != version.data() + version.size()) rank = INT64_MAX;
  }
  return {key.substr(0, colon), rank};
}

}  // namespace

LambdaService::LambdaService(invoke::Invoker& invoker, store::CodeStore& code,
                             store::LogStore& logs, asio::thread_pool& blocking,
                             LambdaServiceOptions options)
    : invoker_(invoker),
      code_(code),
      logs_(logs),
      blocking_(blocking),
      options_(std::move(options)) {}

bool LambdaService::owns(std::string_view path) {
  return path.starts_with("/2015-03-31/") || path.starts_with("/2016-08-19/") ||
         path.starts_with("/2017-03-31/") || path.starts_with("/2017-10-31/") ||
         path.starts_with("/2018-10-31/") || path.starts_with("/2019-09-25/") ||
         path.starts_with("/2019-09-30/") || path.starts_with("/2020-04-22/") ||
         path.starts_with("/2020-06-30/") || path.starts_with("/2021-10-31/") ||
         path.starts_with("/2022-07-21/");
}

http::Handler::HeadDecision LambdaService::check_head(const http::Request& head,
                                                      std::optional<std::uint64_t> content_length,
                                                      std::string_view request_id) {
  http::Handler::HeadDecision decision;
  std::string_view path = head.path();
  bool code_upload = (head.method == "POST" && path == kFunctionsPrefix) ||
                     (head.method == "POST" && path == std::string(kFunctionsPrefix) + "/") ||
                     (head.method == "PUT" && path.ends_with("/code"));
  if (code_upload) {
    decision.body_limit = kMaxCodeRequestBytes;
  } else {
    // Event invocations are read up to the synchronous limit too, so the 413 for a payload
    // between 1 MB and 6 MB can state its size as AWS's does.
    decision.body_limit = kMaxSyncPayloadBytes;
  }
  if (content_length && *content_length > decision.body_limit) {
    decision.reject = body_too_large(head, decision.body_limit, request_id);
  }
  return decision;
}

http::Response LambdaService::body_too_large(const http::Request& head, std::uint64_t limit,
                                             std::string_view request_id) {
  std::string_view operation = "InvokeFunction";
  std::string_view path = head.path();
  if (head.method == "POST" && (path == kFunctionsPrefix || path.ends_with("functions/"))) {
    operation = "CreateFunction";
  } else if (head.method == "PUT" && path.ends_with("/code")) {
    operation = "UpdateFunctionCode";
  } else if (!path.ends_with("/invocations")) {
    operation = "this";
  }
  auto response =
      error_response(Error{Errc::too_large,
                           fmt::format("Request must be smaller than {} bytes for the {} operation",
                                       limit, operation)},
                     request_id);
  response.close = true;
  return response;
}

Task<http::Response> LambdaService::handle(http::Request& request, std::string request_id) {
  std::string_view path = request.path();
  const std::string& method = request.method;

  if (path.starts_with(kAccountSettings)) {
    if (method == "GET") co_return account_settings(request_id);
  } else if (path.starts_with(kEventInvokeConfigPrefix)) {
    auto response = co_await handle_event_invoke_config(invoker_, mutations_, request, request_id);
    if (response) co_return std::move(*response);
  } else if (is_provisioned_route(path)) {
    auto response = co_await handle_provisioned(invoker_, mutations_, request, request_id);
    if (response) co_return std::move(*response);
  } else if (function_urls_ && is_function_url_route(path, method)) {
    co_return co_await handle_function_url_config(invoker_, *function_urls_, mutations_, request,
                                                  request_id);
  } else if (policies_ && is_policy_route(path, method)) {
    co_return co_await handle_policy(invoker_, *policies_, mutations_, request, request_id);
  } else if (is_concurrency_route(path, method)) {
    co_return co_await function_concurrency(request, request_id);
  } else if (mappings_ && is_event_source_mapping_route(path)) {
    MappingContext context{invoker_, *mappings_, queues_, mutations_};
    co_return co_await handle_event_source_mapping(context, request, std::move(request_id));
  } else if (path.starts_with(kFunctionsPrefix)) {
    std::string_view rest = path.substr(kFunctionsPrefix.size());
    if (rest.empty() || rest == "/") {
      if (method == "POST") co_return co_await create_function(request, request_id);
      if (method == "GET") co_return co_await list_functions(request, request_id);
    } else if (rest.front() == '/') {
      rest.remove_prefix(1);
      auto slash = rest.find('/');
      std::string name = decode_path_segment(rest.substr(0, slash));
      std::string_view tail = slash == std::string_view::npos ? "" : rest.substr(slash);
      if (tail.empty() || tail == "/") {
        if (method == "GET") co_return co_await get_function(name, request, request_id, false);
        if (method == "DELETE") co_return co_await delete_function(name, request, request_id);
      } else if (tail == "/configuration" || tail == "/configuration/") {
        if (method == "GET") co_return co_await get_function(name, request, request_id, true);
        if (method == "PUT") co_return co_await update_configuration(name, request, request_id);
      } else if (tail == "/code" || tail == "/code/") {
        if (method == "PUT") co_return co_await update_code(name, request, request_id);
      } else if (tail == "/invocations" || tail == "/invocations/") {
        if (method == "POST") co_return co_await invoke(name, request, request_id);
      } else if (tail == "/versions" || tail == "/versions/") {
        if (method == "POST") co_return co_await publish_version(name, request, request_id);
        if (method == "GET") co_return co_await list_versions(name, request, request_id);
      } else if (tail == "/aliases" || tail == "/aliases/") {
        if (method == "POST") co_return co_await create_alias(name, request, request_id);
        if (method == "GET") co_return co_await list_aliases(name, request, request_id);
      } else if (tail.starts_with("/aliases/")) {
        std::string alias = decode_path_segment(tail.substr(std::string_view("/aliases/").size()));
        if (method == "GET") co_return co_await get_alias(name, alias, request_id);
        if (method == "PUT") co_return co_await update_alias(name, alias, request, request_id);
        if (method == "DELETE") co_return co_await delete_alias(name, alias, request_id);
      }
    }
  }
  co_return error_response(
      Error{Errc::not_implemented,
            fmt::format("{} {} is not an operation Lambent supports yet; docs/compat/lambda.md "
                        "lists the supported operations.",
                        method, path)},
      request_id);
}

Task<http::Response> LambdaService::create_function(http::Request& request,
                                                    const std::string& request_id) {
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);

  auto name_field = body->find("FunctionName");
  if (name_field == body->end() || !name_field->value().is_string()) {
    co_return error_response(
        validation_error({"Value null at 'functionName' failed to satisfy constraint: Member "
                          "must not be null"}),
        request_id);
  }
  auto ref = parse_function_name(std::string(name_field->value().as_string()), NameContext::create);
  if (!ref) co_return error_response(ref.error(), request_id);
  if (ref->qualifier) {
    co_return error_response(invalid_parameter("Function names can't include a qualifier."),
                             request_id);
  }

  if (body->find("Role") == body->end()) {
    co_return error_response(
        validation_error(
            {"Value null at 'role' failed to satisfy constraint: Member must not be null"}),
        request_id);
  }
  if (auto it = body->find("PackageType");
      it != body->end() && it->value().is_string() && it->value().as_string() == "Image") {
    co_return error_response(
        invalid_parameter("PackageType Image is not supported by Lambent yet; upload a zip "
                          "package in Code.ZipFile."),
        request_id);
  }

  store::FunctionRecord record;
  record.name = ref->name;
  if (auto applied = apply_configuration(*body, record, true); !applied) {
    co_return error_response(applied.error(), request_id);
  }
  bool publish = false;
  if (auto it = body->find("Publish"); it != body->end() && it->value().is_bool()) {
    publish = it->value().as_bool();
  }

  auto code = body->find("Code");
  if (code == body->end() || !code->value().is_object()) {
    co_return error_response(
        validation_error({"Value null at 'code' failed to satisfy constraint: Member must not "
                          "be null"}),
        request_id);
  }
  const auto& code_object = code->value().as_object();
  auto zip_field = code_object.find("ZipFile");
  if (zip_field == code_object.end() || !zip_field->value().is_string()) {
    co_return error_response(
        invalid_parameter("Lambent accepts function code in Code.ZipFile only; S3Bucket/S3Key "
                          "and ImageUri are not supported yet."),
        request_id);
  }
  auto guard = co_await mutations_.lock();
  if (invoker_.find(record.name)) {
    co_return error_response(Error{Errc::conflict, "Function already exist: " + record.name},
                             request_id);
  }

  auto zip = base64_decode(std::string_view(zip_field->value().as_string()));
  if (!zip) {
    co_return error_response(
        invalid_parameter("Could not unzip uploaded file. Please check your file, then try to "
                          "upload again."),
        request_id);
  }
  // The JSON body is no longer needed: free it before the zip is extracted.
  body->clear();
  request.body.clear();
  request.body.shrink_to_fit();
  auto* code_store = &code_;
  auto store_zip = [code_store, zip = std::move(*zip)]() { return code_store->put(zip); };
  auto stored = co_await run_blocking(blocking_, std::move(store_zip));
  if (!stored) co_return error_response(stored.error(), request_id);

  record.code_sha256_hex = stored->sha256_hex;
  record.code_sha256_base64 = stored->sha256_base64;
  record.code_size = stored->size;
  record.last_modified = lambda_timestamp_now();
  record.revision_id = random_uuid();
  record.created_ms = epoch_ms();
  std::string name = record.name;
  auto saved = co_await invoker_.put(std::move(record));
  if (!saved) {
    co_return error_response(saved.error(), request_id);
  }
  LOG_INFO("lambda", "function_created", "function={}", name);
  if (publish) {
    std::optional<std::string> keep_description;
    auto published = co_await invoker_.publish(name, std::move(keep_description));
    if (!published) co_return error_response(published.error(), request_id);
    // AWS returns version 1's configuration here, with the unqualified FunctionArn.
    co_return json_response(201, render_configuration(**published, invoker_.options().region),
                            request_id);
  }
  auto spec = invoker_.find(name);
  co_return json_response(201, render_configuration(*spec, invoker_.options().region), request_id);
}

// NOTE: an environment still finishing an invocation with the old code keeps its mount of the
// tree, but files deleted here disappear from it too. A handler importing lazily at that
// moment can fail.
Task<void> LambdaService::release_code_if_unused(std::string sha256_hex) {
  if (invoker_.code_in_use(sha256_hex)) co_return;
  auto* code_store = &code_;
  auto remove_package = [code_store, sha256_hex]() { return code_store->remove(sha256_hex); };
  auto removed = co_await run_blocking(blocking_, std::move(remove_package));
  if (!removed) {
    LOG_WARN("lambda", "code_remove_failed", "sha256={} error=\"{}\"", sha256_hex,
             removed.error().message);
  }
}

std::string LambdaService::code_location(const std::string& sha256_hex) const {
  auto mac = hmac_sha256(options_.code_url_key, sha256_hex);
  return fmt::format("{}/_lambent/code/{}.zip?token={}", options_.endpoint_url, sha256_hex,
                     to_hex(mac));
}

Task<http::Response> LambdaService::get_function(std::string_view raw_name,
                                                 const http::Request& request,
                                                 const std::string& request_id,
                                                 bool configuration_only) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto resolved = resolve_qualifier(*ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::optional<std::string> version = *resolved;

  std::optional<std::string_view> qualifier;
  if (version) qualifier = *version;
  auto found = invoker_.describe(ref->name, qualifier);
  if (!found) co_return error_response(found.error(), request_id);
  const auto& spec = found->spec;
  auto configuration = render_with_arn(*spec, found->invoked_arn, invoker_.options().region);
  if (configuration_only) co_return json_response(200, configuration, request_id);
  json::object out{
      {"Configuration", std::move(configuration)},
      {"Code", json::object{{"RepositoryType", "S3"},
                            {"Location", code_location(spec->config.code_sha256_hex)}}},
  };
  if (auto reserved = invoker_.concurrency().reserved(ref->name)) {
    out["Concurrency"] = json::object{{"ReservedConcurrentExecutions", *reserved}};
  }
  co_return json_response(200, out, request_id);
}

Task<http::Response> LambdaService::list_functions(const http::Request& request,
                                                   const std::string& request_id) {
  auto max_items = parse_max_items(request, 10000, 50);
  if (!max_items) co_return error_response(max_items.error(), request_id);
  // The marker is the base64 of the last name returned; names sort in byte order.
  auto after = parse_marker(request);
  if (!after) co_return error_response(after.error(), request_id);
  auto version_param = http::query_param(request.query(), "FunctionVersion");
  if (version_param.found && version_param.value != "ALL") {
    co_return error_response(
        validation_error({fmt::format("Value '{}' at 'functionVersion' failed to satisfy "
                                      "constraint: Member must satisfy enum value set: [ALL]",
                                      version_param.value)}),
        request_id);
  }
  // FunctionVersion=ALL lists $LATEST and every published version, each with a qualified ARN.
  bool all_versions = version_param.found;
  json::array functions;
  std::string last;
  bool more = false;
  for (const auto& function : invoker_.list()) {
    std::vector<std::shared_ptr<const runtime::FunctionSpec>> entries{function};
    if (all_versions) {
      auto versions = invoker_.list_versions(function->config.name);
      entries.insert(entries.end(), versions.begin(), versions.end());
    }
    for (const auto& spec : entries) {
      std::string key = spec->config.name;
      if (all_versions) key += ":" + spec->version;
      if (!after->empty() && listing_position(key) <= listing_position(*after)) continue;
      if (static_cast<std::int64_t>(functions.size()) == *max_items) {
        more = true;
        break;
      }
      if (all_versions) {
        functions.push_back(render_with_arn(*spec, spec->function_arn + ":" + spec->version,
                                            invoker_.options().region, ConfigurationView::listing));
      } else {
        functions.push_back(
            render_configuration(*spec, invoker_.options().region, ConfigurationView::listing));
      }
      last = std::move(key);
    }
    if (more) break;
  }
  json::object out{{"Functions", std::move(functions)}};
  if (more) out["NextMarker"] = base64_encode(last);
  co_return json_response(200, out, request_id);
}

Task<http::Response> LambdaService::update_code(std::string_view raw_name, http::Request& request,
                                                const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto guard = co_await mutations_.lock();
  auto spec = invoker_.find(ref->name);
  if (!spec) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }
  if (ref->qualifier && *ref->qualifier != "$LATEST") {
    co_return error_response(only_latest_supported(), request_id);
  }
  auto revision_ok = check_revision(*body, spec->config);
  if (!revision_ok) co_return error_response(revision_ok.error(), request_id);
  auto zip_field = body->find("ZipFile");
  if (zip_field == body->end() || !zip_field->value().is_string()) {
    co_return error_response(
        invalid_parameter("Lambent accepts function code in ZipFile only; S3Bucket/S3Key and "
                          "ImageUri are not supported yet."),
        request_id);
  }
  bool publish = false;
  if (auto it = body->find("Publish"); it != body->end() && it->value().is_bool()) {
    publish = it->value().as_bool();
  }
  auto zip = base64_decode(std::string_view(zip_field->value().as_string()));
  if (!zip) {
    co_return error_response(
        invalid_parameter("Could not unzip uploaded file. Please check your file, then try to "
                          "upload again."),
        request_id);
  }
  bool dry_run = false;
  if (auto it = body->find("DryRun"); it != body->end() && it->value().is_bool()) {
    dry_run = it->value().as_bool();
  }
  body->clear();
  request.body.clear();
  request.body.shrink_to_fit();
  auto* code_store = &code_;
  auto store_zip = [code_store, zip = std::move(*zip)]() { return code_store->put(zip); };
  auto stored = co_await run_blocking(blocking_, std::move(store_zip));
  if (!stored) co_return error_response(stored.error(), request_id);

  store::FunctionRecord record = spec->config;
  std::string previous_sha = record.code_sha256_hex;
  record.code_sha256_hex = stored->sha256_hex;
  record.code_sha256_base64 = stored->sha256_base64;
  record.code_size = stored->size;
  if (dry_run) {
    runtime::FunctionSpec preview = *spec;
    preview.config = std::move(record);
    co_await release_code_if_unused(stored->sha256_hex);
    co_return json_response(200, render_configuration(preview, invoker_.options().region),
                            request_id);
  }
  record.last_modified = lambda_timestamp_now();
  record.revision_id = random_uuid();
  auto saved = co_await invoker_.put(std::move(record));
  if (!saved) {
    co_return error_response(saved.error(), request_id);
  }
  if (previous_sha != stored->sha256_hex) co_await release_code_if_unused(previous_sha);
  LOG_INFO("lambda", "function_code_updated", "function={}", ref->name);
  if (publish) {
    std::optional<std::string> keep_description;
    auto published = co_await invoker_.publish(ref->name, std::move(keep_description));
    if (!published) co_return error_response(published.error(), request_id);
    const auto& version = **published;
    co_return json_response(200,
                            render_with_arn(version, version.function_arn + ":" + version.version,
                                            invoker_.options().region),
                            request_id);
  }
  co_return json_response(
      200, render_configuration(*invoker_.find(ref->name), invoker_.options().region), request_id);
}

Task<http::Response> LambdaService::update_configuration(std::string_view raw_name,
                                                         http::Request& request,
                                                         const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto body = parse_body(request.body);
  if (!body) co_return error_response(body.error(), request_id);
  auto guard = co_await mutations_.lock();
  auto spec = invoker_.find(ref->name);
  if (!spec) {
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }
  if (ref->qualifier && *ref->qualifier != "$LATEST") {
    co_return error_response(only_latest_supported(), request_id);
  }
  auto revision_ok = check_revision(*body, spec->config);
  if (!revision_ok) co_return error_response(revision_ok.error(), request_id);
  store::FunctionRecord record = spec->config;
  if (auto applied = apply_configuration(*body, record, false); !applied) {
    co_return error_response(applied.error(), request_id);
  }
  record.last_modified = lambda_timestamp_now();
  record.revision_id = random_uuid();
  auto saved = co_await invoker_.put(std::move(record));
  if (!saved) {
    co_return error_response(saved.error(), request_id);
  }
  LOG_INFO("lambda", "function_configuration_updated", "function={}", ref->name);
  co_return json_response(
      200, render_configuration(*invoker_.find(ref->name), invoker_.options().region), request_id);
}

Task<http::Response> LambdaService::delete_function(std::string_view raw_name,
                                                    const http::Request& request,
                                                    const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::other);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto resolved = resolve_qualifier(*ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::optional<std::string> version = *resolved;
  if (version && *version == "$LATEST") {
    co_return error_response(
        invalid_parameter("$LATEST version cannot be deleted without deleting the function."),
        request_id);
  }
  auto guard = co_await mutations_.lock();
  auto spec = invoker_.find(ref->name);
  if (!spec) {
    // AWS names the unqualified function here, even when a Qualifier was given.
    co_return error_response(function_not_found(invoker_.function_arn(ref->name)), request_id);
  }
  if (version) co_return co_await delete_version(ref->name, *version, request_id);
  std::vector<std::string> packages{spec->config.code_sha256_hex};
  for (const auto& published : invoker_.list_versions(ref->name)) {
    packages.push_back(published->config.code_sha256_hex);
  }
  auto removed = co_await invoker_.remove(ref->name);
  if (!removed) {
    co_return error_response(removed.error(), request_id);
  }
  if (function_urls_) {
    auto urls_removed = co_await function_urls_->remove_function(ref->name);
    if (!urls_removed) co_return error_response(urls_removed.error(), request_id);
  }
  if (policies_) {
    auto policies_removed = co_await policies_->remove_function(ref->name);
    if (!policies_removed) co_return error_response(policies_removed.error(), request_id);
  }
  std::sort(packages.begin(), packages.end());
  packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
  for (auto& sha : packages) co_await release_code_if_unused(sha);
  auto* logs = &logs_;
  std::string name = ref->name;
  auto remove_logs = [logs, name]() {
    logs->remove_function(name);
    return 0;
  };
  co_await run_blocking(blocking_, std::move(remove_logs));
  LOG_INFO("lambda", "function_deleted", "function={}", ref->name);
  http::Response response;
  response.status = 204;
  response.header("x-amzn-RequestId", request_id);
  co_return response;
}

http::Response LambdaService::account_settings(const std::string& request_id) {
  std::uint64_t total_code = 0;
  auto functions = invoker_.list();
  for (const auto& spec : functions) {
    total_code += spec->config.code_size;
    // AWS counts the code of every published version too.
    for (const auto& version : invoker_.list_versions(spec->config.name)) {
      total_code += version->config.code_size;
    }
  }
  json::object out{
      {"AccountLimit",
       json::object{{"TotalCodeSize", 80530636800ull},
                    {"CodeSizeUnzipped", 262144000},
                    {"CodeSizeZipped", 52428800},
                    {"ConcurrentExecutions", invoker_.concurrency().account_limit()},
                    {"UnreservedConcurrentExecutions", invoker_.concurrency().unreserved_limit()}}},
      {"AccountUsage",
       json::object{{"TotalCodeSize", total_code}, {"FunctionCount", functions.size()}}},
  };
  return json_response(200, out, request_id);
}

Task<http::Response> LambdaService::download_code(const http::Request& request) {
  std::string_view path = request.path();
  constexpr std::string_view prefix = "/_lambent/code/";
  http::Response not_found;
  not_found.status = 404;
  not_found.header("Content-Type", "text/plain");
  not_found.body = "code package not found\n";
  if (!path.starts_with(prefix) || !path.ends_with(".zip")) co_return not_found;
  std::string sha(path.substr(prefix.size(), path.size() - prefix.size() - 4));
  auto token = http::query_param(request.query(), "token");
  std::string expected = to_hex(hmac_sha256(options_.code_url_key, sha));
  if (!token.found || token.value != expected || sha.size() != 64) co_return not_found;
  auto file = code_.zip_path(sha);
  auto read_zip = [file]() -> std::optional<std::string> {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  auto bytes = co_await run_blocking(blocking_, std::move(read_zip));
  if (!bytes) co_return not_found;
  http::Response response;
  response.header("Content-Type", "application/zip");
  response.body = std::move(*bytes);
  co_return response;
}

Task<http::Response> LambdaService::invoke(std::string_view raw_name, http::Request& request,
                                           const std::string& request_id) {
  auto ref = parse_function_name(raw_name, NameContext::invoke);
  if (!ref) co_return error_response(ref.error(), request_id);
  auto resolved = resolve_qualifier(*ref, request);
  if (!resolved) co_return error_response(resolved.error(), request_id);
  std::optional<std::string> version = *resolved;

  std::string_view invocation_type = request.header("x-amz-invocation-type");
  if (invocation_type.empty()) invocation_type = "RequestResponse";
  if (invocation_type != "RequestResponse" && invocation_type != "Event" &&
      invocation_type != "DryRun") {
    co_return error_response(
        validation_error({fmt::format("Value '{}' at 'invocationType' failed to satisfy "
                                      "constraint: Member must satisfy enum value set: [Event, "
                                      "RequestResponse, DryRun]",
                                      invocation_type)}),
        request_id);
  }
  std::string_view log_type = request.header("x-amz-log-type");
  if (!log_type.empty() && log_type != "None" && log_type != "Tail") {
    co_return error_response(
        validation_error({fmt::format("Value '{}' at 'logType' failed to satisfy constraint: "
                                      "Member must satisfy enum value set: [None, Tail]",
                                      log_type)}),
        request_id);
  }

  std::optional<std::string_view> qualifier;
  if (version) qualifier = *version;
  auto target = invoker_.resolve(ref->name, qualifier);
  if (!target) co_return error_response(target.error(), request_id);
  auto spec = target->spec;

  // The payload must be JSON; an empty body is delivered as an empty object.
  if (request.body.empty()) {
    request.body = "{}";
  } else {
    boost::system::error_code ec;
    json::stream_parser parser;
    parser.write(request.body, ec);
    if (!ec) parser.finish(ec);
    if (ec) {
      co_return error_response(
          Error{Errc::invalid_content,
                "Could not parse request body into json: Could not parse payload into json: " +
                    describe_invalid_json(request.body, ec)},
          request_id);
    }
  }

  if (invocation_type == "DryRun") {
    http::Response response;
    response.status = 204;
    response.header("x-amzn-RequestId", request_id);
    co_return response;
  }

  if (invocation_type == "Event") {
    if (request.body.size() > kMaxAsyncPayloadBytes) {
      co_return error_response(
          Error{Errc::too_large,
                fmt::format("{} byte payload is too large for the Event invocation type (limit "
                            "{} bytes)",
                            request.body.size(), kMaxAsyncPayloadBytes)},
          request_id);
    }
    // The event keeps the qualifier as called, so an alias picks its version at each attempt.
    auto queued = co_await invoker_.enqueue(ref->name, version.value_or("$LATEST"), request_id,
                                            std::move(request.body));
    if (!queued) co_return error_response(queued.error(), request_id);
    http::Response response;
    response.status = 202;
    response.header("x-amzn-RequestId", request_id);
    co_return response;
  }

  runtime::InvokeRequest invocation;
  invocation.request_id = request_id;
  invocation.payload = std::move(request.body);
  invocation.invoked_function_arn = target->invoked_arn;
  invocation.trace_id = make_trace_id();
  invocation.want_log_tail = log_type == "Tail";
  if (auto context = request.header("x-amz-client-context"); !context.empty()) {
    auto decoded = base64_decode(context);
    if (!decoded) {
      co_return error_response(
          invalid_parameter("Client context must be a valid Base64-encoded JSON object."),
          request_id);
    }
    if (decoded->size() > 3583) {
      co_return error_response(invalid_parameter("Client context must be smaller than 3583 bytes."),
                               request_id);
    }
    invocation.client_context = std::move(*decoded);
  }

  auto result = co_await invoker_.invoke(spec, std::move(invocation));
  if (!result) co_return error_response(result.error(), request_id);

  http::Response response;
  response.status = 200;
  response.headers.reserve(5);
  response.header("Content-Type", "application/json");
  response.header("x-amzn-RequestId", request_id);
  response.header("X-Amz-Executed-Version", spec->version);
  if (result->outcome != runtime::Outcome::success) {
    response.header("X-Amz-Function-Error", "Unhandled");
  }
  if (log_type == "Tail") response.header("X-Amz-Log-Result", base64_encode(result->log_tail));
  response.body = std::move(result->payload);
  co_return response;
}

}  // namespace lambent::services::lambda
