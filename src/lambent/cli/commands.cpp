#include "lambent/cli/commands.h"

#include "lambent/base/crypto.h"
#include "lambent/cli/connection.h"
#include "lambent/http/client.h"
#include "lambent/server/app.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <zip.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace lambent::cli {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::move(fallback);
}

}  // namespace

bool connect(const ClientOptions& options, Connection& out) {
  std::string url = options.endpoint;
  if (url.empty()) url = env_or("AWS_ENDPOINT_URL", "");
  if (url.empty()) url = "http://" + env_or("LAMBENT_LISTEN", "127.0.0.1:4566");
  auto endpoint = http::parse_endpoint(url);
  if (!endpoint) {
    std::cerr << "lambent: " << endpoint.error().message << "\n";
    return false;
  }
  out.endpoint = *endpoint;
  out.credentials.region = options.region.empty()
                               ? env_or("AWS_REGION", env_or("AWS_DEFAULT_REGION", "us-east-1"))
                               : options.region;
  out.credentials.access_key_id = env_or("AWS_ACCESS_KEY_ID", "");
  out.credentials.secret_access_key = env_or("AWS_SECRET_ACCESS_KEY", "");
  if (out.credentials.access_key_id.empty()) {
    std::string error;
    fs::path dir = options.data_dir.empty() ? server::default_data_dir() : options.data_dir;
    auto creds = server::load_or_create_credentials(dir, error);
    if (creds.access_key_id.empty()) {
      std::cerr << "lambent: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                   "(see `lambent env`): "
                << error << "\n";
      return false;
    }
    out.credentials.access_key_id = creds.access_key_id;
    out.credentials.secret_access_key = creds.secret_access_key;
  }
  return true;
}

bool call(const Connection& c, const std::string& method, const std::string& target,
          std::string body, http::Response& response, http::HeaderList headers,
          unsigned quiet_status) {
  http::Request request;
  request.method = method;
  request.target = target;
  request.headers = std::move(headers);
  bool typed = std::any_of(request.headers.begin(), request.headers.end(),
                           [](const auto& header) { return header.first == "content-type"; });
  if (!body.empty() && !typed) request.headers.emplace_back("content-type", "application/json");
  request.body = std::move(body);
  auto result = http::send(c.endpoint, request, c.credentials);
  if (!result) {
    std::cerr << "lambent: " << result.error().message << "\n";
    return false;
  }
  response = std::move(*result);
  if (response.status >= 200 && response.status < 300) return true;
  if (response.status == quiet_status) return false;
  std::string type;
  for (const auto& [name, value] : response.headers) {
    if (name == "x-amzn-errortype") type = value;
  }
  std::string message = response.body;
  boost::system::error_code ec;
  auto parsed = json::parse(response.body, ec);
  if (!ec && parsed.is_object()) {
    // JSON 1.0 and 1.1 services name the error type in the body.
    if (auto* t = parsed.as_object().if_contains("__type"); t && t->is_string() && type.empty()) {
      type = std::string(t->as_string());
      if (auto hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
    }
    for (const char* key : {"message", "Message"}) {
      if (auto* m = parsed.as_object().if_contains(key); m && m->is_string()) {
        message = std::string(m->as_string());
      }
    }
  }
  std::cerr << "lambent: " << (type.empty() ? "error" : type) << " (HTTP " << response.status
            << "): " << message << "\n";
  return false;
}

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string zip_folder(const fs::path& folder) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!buffer) throw std::runtime_error("cannot create zip buffer");
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!archive) {
    zip_source_free(buffer);
    throw std::runtime_error("cannot create zip archive");
  }
  zip_source_keep(buffer);
  std::vector<std::string> contents;  // kept alive until zip_close reads them
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  contents.reserve(files.size());
  for (const auto& path : files) {
    std::string name = fs::relative(path, folder).generic_string();
    contents.push_back(read_file(path));
    auto& data = contents.back();
    zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
    zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      zip_discard(archive);
      zip_source_free(buffer);
      throw std::runtime_error("cannot add " + name + " to the zip");
    }
    struct stat st {};
    ::stat(path.c_str(), &st);
    // The file's own mtime, not the time of zipping, so unchanged files zip to the same bytes
    // and keep their CodeSha256.
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), st.st_mtime, 0);
    zip_file_set_external_attributes(archive, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX,
                                     static_cast<zip_uint32_t>((S_IFREG | (st.st_mode & 0777)) << 16));
  }
  if (zip_close(archive) != 0) {
    zip_source_free(buffer);
    throw std::runtime_error("cannot write the zip");
  }
  std::string out;
  zip_source_open(buffer);
  zip_source_seek(buffer, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(buffer);
  zip_source_seek(buffer, 0, SEEK_SET);
  out.resize(static_cast<std::size_t>(size));
  zip_source_read(buffer, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(buffer);
  zip_source_free(buffer);
  return out;
}

int deploy(const ClientOptions& client, const DeployOptions& options) {
  Connection c;
  if (!connect(client, c)) return 1;
  std::string zip;
  try {
    zip = fs::is_directory(options.source) ? zip_folder(options.source) : read_file(options.source);
  } catch (const std::exception& e) {
    std::cerr << "lambent: " << e.what() << "\n";
    return 1;
  }
  std::string handler = options.handler;
  if (handler.empty()) handler = options.runtime.starts_with("nodejs") ? "index.handler" : "app.handler";
  json::object variables;
  for (const auto& kv : options.environment) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::cerr << "lambent: invalid --env '" << kv << "': expected KEY=VALUE\n";
      return 2;
    }
    variables[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::string path = "/2015-03-31/functions/" + http::percent_encode(options.name);
  http::Response response;
  http::Request probe;
  bool exists = false;
  {
    http::Request get;
    get.method = "GET";
    get.target = path + "/configuration";
    auto r = http::send(c.endpoint, get, c.credentials);
    if (!r) {
      std::cerr << "lambent: " << r.error().message << "\n";
      return 1;
    }
    exists = r->status == 200;
  }
  json::object config{{"Runtime", options.runtime}, {"Handler", handler}};
  if (options.timeout_seconds > 0) config["Timeout"] = options.timeout_seconds;
  if (options.memory_mb > 0) config["MemorySize"] = options.memory_mb;
  if (!options.environment.empty()) config["Environment"] = json::object{{"Variables", variables}};
  if (!exists) {
    config["FunctionName"] = options.name;
    config["Role"] = "arn:aws:iam::000000000000:role/lambent-function";
    config["Code"] = json::object{{"ZipFile", base64_encode(zip)}};
    if (!call(c, "POST", "/2015-03-31/functions", json::serialize(config), response)) return 1;
    std::cout << "created " << options.name << "\n";
    return 0;
  }
  json::object code{{"ZipFile", base64_encode(zip)}};
  if (!call(c, "PUT", path + "/code", json::serialize(code), response)) return 1;
  if (!call(c, "PUT", path + "/configuration", json::serialize(config), response)) return 1;
  std::cout << "updated " << options.name << "\n";
  return 0;
}

int invoke(const ClientOptions& client, const std::string& name, const std::string& payload,
           bool async, bool show_log) {
  Connection c;
  if (!connect(client, c)) return 1;
  http::HeaderList headers;
  headers.emplace_back("x-amz-invocation-type", async ? "Event" : "RequestResponse");
  if (show_log && !async) headers.emplace_back("x-amz-log-type", "Tail");
  http::Response response;
  std::string target = "/2015-03-31/functions/" + http::percent_encode(name) + "/invocations";
  if (!call(c, "POST", target, payload, response, std::move(headers))) return 1;
  if (async) {
    std::cout << "queued, request id "
              << [&] {
                   for (const auto& [k, v] : response.headers) {
                     if (k == "x-amzn-requestid") return v;
                   }
                   return std::string();
                 }()
              << "\n";
    return 0;
  }
  bool function_error = false;
  for (const auto& [k, v] : response.headers) {
    if (k == "x-amz-log-result") {
      if (auto decoded = base64_decode(v)) std::cerr << *decoded;
    }
    if (k == "x-amz-function-error") function_error = true;
  }
  std::cout << response.body << "\n";
  return function_error ? 3 : 0;
}

int list_functions(const ClientOptions& client) {
  Connection c;
  if (!connect(client, c)) return 1;
  std::string marker;
  std::cout << fmt::format("{:<40} {:<16} {:<24} {:>7} {:>8}\n", "NAME", "RUNTIME", "HANDLER",
                           "MEMORY", "TIMEOUT");
  do {
    http::Response response;
    std::string target = "/2015-03-31/functions/";
    if (!marker.empty()) target += "?Marker=" + http::percent_encode(marker);
    if (!call(c, "GET", target, "", response)) return 1;
    auto parsed = json::parse(response.body).as_object();
    for (const auto& f : parsed["Functions"].as_array()) {
      const auto& o = f.as_object();
      std::cout << fmt::format("{:<40} {:<16} {:<24} {:>7} {:>8}\n",
                               std::string(o.at("FunctionName").as_string()),
                               std::string(o.at("Runtime").as_string()),
                               std::string(o.at("Handler").as_string()),
                               o.at("MemorySize").as_int64(), o.at("Timeout").as_int64());
    }
    marker = parsed.contains("NextMarker") ? std::string(parsed["NextMarker"].as_string()) : "";
  } while (!marker.empty());
  return 0;
}

int delete_function(const ClientOptions& client, const std::string& name) {
  Connection c;
  if (!connect(client, c)) return 1;
  http::Response response;
  if (!call(c, "DELETE", "/2015-03-31/functions/" + http::percent_encode(name), "", response)) {
    return 1;
  }
  std::cout << "deleted " << name << "\n";
  return 0;
}

int print_env(const ClientOptions& client, const std::string& listen) {
  std::string error;
  fs::path dir = client.data_dir.empty() ? server::default_data_dir() : client.data_dir;
  auto creds = server::load_or_create_credentials(dir, error);
  if (creds.access_key_id.empty()) {
    std::cerr << "lambent: cannot read credentials from " << dir << ": " << error << "\n";
    return 1;
  }
  std::string region = client.region.empty() ? "us-east-1" : client.region;
  std::string endpoint = client.endpoint.empty() ? "http://" + listen : client.endpoint;
  std::cout << "export AWS_ENDPOINT_URL=" << endpoint << "\n"
            << "export AWS_ACCESS_KEY_ID=" << creds.access_key_id << "\n"
            << "export AWS_SECRET_ACCESS_KEY=" << creds.secret_access_key << "\n"
            << "export AWS_DEFAULT_REGION=" << region << "\n"
            << "export AWS_REGION=" << region << "\n";
  return 0;
}

}  // namespace lambent::cli
