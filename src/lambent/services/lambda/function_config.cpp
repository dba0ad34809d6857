#include "lambent/services/lambda/function_config.h"

#include "lambent/base/crypto.h"
#include "lambent/runtime/runtimes.h"
#include "lambent/services/lambda/errors.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <regex>

namespace lambent::services::lambda {

namespace json = boost::json;

namespace {

constexpr std::string_view kNamePattern =
    R"((arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?)";
constexpr std::string_view kInvokeNamePattern =
    R"((arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?)";
constexpr std::string_view kRolePattern =
    R"(arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)";

constexpr std::string_view kReservedVariables[] = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};

bool is_simple_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string describe_json(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return json::serialize(v);
}

std::string constraint(std::string_view value, std::string_view field, std::string_view rule) {
  return fmt::format("Value '{}' at '{}' failed to satisfy constraint: {}", value, field, rule);
}

// Reads an integer field. A value of another JSON type is a serialization error, which is how
// AWS reports a body that does not match the operation's shape.
Result<std::optional<std::int64_t>> int_field(const json::object& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<std::int64_t>();
  if (it->value().is_int64()) return std::optional<std::int64_t>(it->value().as_int64());
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(it->value().as_uint64()));
  }
  return Error{Errc::validation,
               fmt::format("Value '{}' for {} must be an integer", describe_json(it->value()), key),
               "SerializationException"};
}

Result<std::optional<std::string>> string_field(const json::object& body, std::string_view key) {
  auto it = body.find(key);
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>();
  if (it->value().is_string()) return std::optional<std::string>(std::string(it->value().as_string()));
  return Error{Errc::validation,
               fmt::format("Value '{}' for {} must be a string", describe_json(it->value()), key),
               "SerializationException"};
}

// Applies DeadLetterConfig.TargetArn. AWS accepts an SQS queue or an SNS topic. On update an
// empty TargetArn (or an empty DeadLetterConfig) removes the target.
Status apply_dead_letter_config(const json::object& body, store::FunctionRecord& record,
                                bool creating) {
  auto it = body.find("DeadLetterConfig");
  if (it == body.end() || it->value().is_null()) return ok_status();
  if (!it->value().is_object()) {
    return Error{Errc::validation,
                 fmt::format("Value '{}' for DeadLetterConfig must be an object",
                             describe_json(it->value())),
                 "SerializationException"};
  }
  auto target = string_field(it->value().as_object(), "TargetArn");
  if (!target) return std::move(target).error();
  std::string arn = target->value_or("");
  static const std::regex arn_re{R"((arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|())"};
  if (!std::regex_match(arn, arn_re)) {
    return validation_error({constraint(arn, "deadLetterConfig.targetArn",
                                        "Member must satisfy regular expression pattern: "
                                        "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()")});
  }
  if (arn.empty()) {
    if (creating && *target) {
      return invalid_parameter("Invalid dead letter queue ARN: ARNs must start with 'arn:'");
    }
    record.dead_letter_target_arn.clear();
    return ok_status();
  }
  // arn:PARTITION:SERVICE:...
  auto service_start = arn.find(':', 4) + 1;
  auto service = std::string_view(arn).substr(service_start, arn.find(':', service_start) -
                                                                 service_start);
  if (service != "sqs" && service != "sns") {
    // NOTE: AWS rejects other targets; this wording is Lambent's, not a recorded AWS message.
    return invalid_parameter(fmt::format(
        "Invalid dead letter queue ARN {}: the target must be an Amazon SQS queue or an Amazon "
        "SNS topic.",
        arn));
  }
  record.dead_letter_target_arn = std::move(arn);
  return ok_status();
}

}  // namespace

std::string lambda_timestamp_now() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}+0000", buffer, static_cast<int>(ms % 1000));
}

Result<FunctionRef> parse_function_name(std::string_view raw, NameContext context) {
  if (is_simple_name(raw)) return FunctionRef{std::string(raw), std::nullopt};

  std::size_t max_length = context == NameContext::create ? 140 : 170;
  if (raw.size() > max_length) {
    return validation_error({constraint(raw, "functionName",
                                        fmt::format("Member must have length less than or equal "
                                                    "to {}",
                                                    max_length))});
  }
  static const std::regex name_re{std::string(kNamePattern)};
  static const std::regex invoke_re{std::string(kInvokeNamePattern)};
  const std::regex& re = context == NameContext::invoke ? invoke_re : name_re;
  std::string text(raw);
  std::smatch match;
  if (raw.empty() || !std::regex_match(text, match, re)) {
    return validation_error({constraint(
        raw, "functionName",
        fmt::format("Member must satisfy regular expression pattern: {}",
                    context == NameContext::invoke ? kInvokeNamePattern : kNamePattern))});
  }
  FunctionRef ref;
  ref.name = match[11].str();
  if (match[12].matched) ref.qualifier = match[13].str();
  if (ref.qualifier && ref.qualifier->size() > 128) {
    return validation_error({constraint(*ref.qualifier, "qualifier",
                                        "Member must have length less than or equal to 128")});
  }
  // Only CreateFunction rejects a long name; other operations look it up and report it as not
  // found, as AWS does.
  if (context == NameContext::create && ref.name.size() > 64) {
    Error error = validation_error(
        {constraint(ref.name, "functionName", "Member must have length less than or equal to 64")});
    error.code = Errc::invalid_parameter;
    return error;
  }
  return ref;
}

Status apply_configuration(const json::object& body, store::FunctionRecord& record,
                           bool creating) {
  std::vector<std::string> violations;

  auto role = string_field(body, "Role");
  if (!role) return std::move(role).error();
  if (*role) {
    static const std::regex role_re{std::string(kRolePattern)};
    if (!std::regex_match(**role, role_re)) {
      violations.push_back(constraint(**role, "role",
                                      fmt::format("Member must satisfy regular expression "
                                                  "pattern: {}",
                                                  kRolePattern)));
    } else {
      record.role = **role;
    }
  }

  auto handler = string_field(body, "Handler");
  if (!handler) return std::move(handler).error();
  if (*handler) {
    const std::string& h = **handler;
    bool has_space = std::any_of(h.begin(), h.end(),
                                 [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (h.size() > 128) {
      violations.push_back(
          constraint(h, "handler", "Member must have length less than or equal to 128"));
    } else if (h.empty() || has_space) {
      violations.push_back(
          constraint(h, "handler", "Member must satisfy regular expression pattern: [^\\s]+"));
    } else {
      record.handler = h;
    }
  }

  auto description = string_field(body, "Description");
  if (!description) return std::move(description).error();
  if (*description) {
    if ((*description)->size() > 256) {
      violations.push_back(constraint(**description, "description",
                                      "Member must have length less than or equal to 256"));
    } else {
      record.description = **description;
    }
  }

  auto timeout = int_field(body, "Timeout");
  if (!timeout) return std::move(timeout).error();
  if (*timeout) {
    auto t = **timeout;
    if (t < 1) {
      violations.push_back(constraint(std::to_string(t), "timeout",
                                      "Member must have value greater than or equal to 1"));
    } else if (t > 900) {
      violations.push_back(constraint(std::to_string(t), "timeout",
                                      "Member must have value less than or equal to 900"));
    } else {
      record.timeout_seconds = static_cast<int>(t);
    }
  }

  auto memory = int_field(body, "MemorySize");
  if (!memory) return std::move(memory).error();
  if (*memory) {
    auto m = **memory;
    if (m < 128) {
      violations.push_back(constraint(std::to_string(m), "memorySize",
                                      "Member must have value greater than or equal to 128"));
    } else if (m > 10240) {
      violations.push_back(constraint(std::to_string(m), "memorySize",
                                      "Member must have value less than or equal to 10240"));
    } else {
      record.memory_mb = static_cast<int>(m);
    }
  }

  if (auto it = body.find("EphemeralStorage"); it != body.end() && it->value().is_object()) {
    auto size = int_field(it->value().as_object(), "Size");
    if (!size) return std::move(size).error();
    if (*size) {
      auto s = **size;
      if (s < 512) {
        violations.push_back(constraint(std::to_string(s), "ephemeralStorage.size",
                                        "Member must have value greater than or equal to 512"));
      } else if (s > 10240) {
        violations.push_back(constraint(std::to_string(s), "ephemeralStorage.size",
                                        "Member must have value less than or equal to 10240"));
      } else {
        record.ephemeral_storage_mb = static_cast<int>(s);
      }
    }
  }

  if (auto it = body.find("Architectures"); it != body.end() && it->value().is_array()) {
    const auto& list = it->value().as_array();
    std::string listed = "[";
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i) listed += ", ";
      listed += describe_json(list[i]);
    }
    listed += "]";
    if (list.size() > 1) {
      violations.push_back(
          constraint(listed, "architectures", "Member must have length less than or equal to 1"));
    } else if (list.size() == 1) {
      std::string arch = describe_json(list[0]);
      if (arch != "x86_64" && arch != "arm64") {
        violations.push_back(constraint(listed, "architectures",
                                        "Member must satisfy constraint: [Member must satisfy "
                                        "enum value set: [x86_64, arm64], Member must not be "
                                        "null]"));
      } else {
        record.architecture = arch;
      }
    }
  }

  if (!violations.empty()) return validation_error(std::move(violations));

  auto runtime = string_field(body, "Runtime");
  if (!runtime) return std::move(runtime).error();
  if (*runtime) {
    const std::string& r = **runtime;
    const auto& names = runtime::aws_runtime_names();
    bool known = r == "provided" || std::find(names.begin(), names.end(), r) != names.end();
    if (!known) {
      std::string list;
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (i) list += ", ";
        list += names[i];
      }
      return invalid_parameter(fmt::format(
          "Value {} at 'runtime' failed to satisfy constraint: Member must satisfy enum value "
          "set: [{}] or be a valid ARN",
          r, list));
    }
    if (!runtime::runtime_family(r)) {
      return invalid_parameter(fmt::format(
          "Runtime {} is not available on this Lambent server. Supported runtimes: python3.8 "
          "to python3.14, nodejs16.x to nodejs24.x, provided, provided.al2, provided.al2023.",
          r));
    }
    record.runtime = r;
  }

  if (auto it = body.find("Environment"); it != body.end() && it->value().is_object()) {
    const auto& environment = it->value().as_object();
    std::vector<std::pair<std::string, std::string>> variables;
    std::vector<std::string> reserved;
    json::object measured;
    if (auto vars = environment.find("Variables");
        vars != environment.end() && vars->value().is_object()) {
      static const std::regex key_re{"[a-zA-Z]([a-zA-Z0-9_])+"};
      for (const auto& [key, value] : vars->value().as_object()) {
        std::string k(key);
        if (!std::regex_match(k, key_re)) {
          violations.push_back(constraint(
              k, "environment.variables",
              "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+"));
          continue;
        }
        if (std::find(std::begin(kReservedVariables), std::end(kReservedVariables), k) !=
            std::end(kReservedVariables)) {
          reserved.push_back(k);
        }
        std::string v = value.is_string() ? std::string(value.as_string()) : describe_json(value);
        measured[k] = v;
        variables.emplace_back(std::move(k), std::move(v));
      }
    }
    if (!violations.empty()) return validation_error(std::move(violations));
    if (!reserved.empty()) {
      std::string names;
      for (std::size_t i = 0; i < reserved.size(); ++i) {
        if (i) names += ", ";
        names += reserved[i];
      }
      return invalid_parameter(
          "Lambda was unable to configure your environment variables because the environment "
          "variables you have provided contains reserved keys that are currently not supported "
          "for modification. Reserved keys used in this request: " +
          names);
    }
    // AWS measures the compact JSON of the variables and quotes it in the error.
    std::string serialized = json::serialize(measured);
    if (serialized.size() > 4096) {
      return invalid_parameter(
          "Lambda was unable to configure your environment variables because the environment "
          "variables you have provided exceeded the 4KB limit. String measured: " +
          serialized);
    }
    record.environment = std::move(variables);
    record.environment_set = true;
  }

  if (auto dead_letter = apply_dead_letter_config(body, record, creating); !dead_letter) {
    return dead_letter;
  }

  auto reject_nonempty = [&](std::string_view key, std::string_view what) -> Status {
    auto it = body.find(key);
    if (it == body.end() || it->value().is_null()) return ok_status();
    const auto& v = it->value();
    bool empty = (v.is_array() && v.as_array().empty()) ||
                 (v.is_object() && v.as_object().empty()) || (v.is_string() && v.as_string().empty());
    if (key == "VpcConfig" && v.is_object()) {
      auto subnets = v.as_object().find("SubnetIds");
      empty = subnets == v.as_object().end() || !subnets->value().is_array() ||
              subnets->value().as_array().empty();
    }
    if (empty) return ok_status();
    return invalid_parameter(fmt::format("{} is not supported by Lambent yet.", what));
  };
  for (auto [key, what] : {std::pair<std::string_view, std::string_view>{"Layers", "Layers"},
                           {"FileSystemConfigs", "FileSystemConfigs"},
                           {"VpcConfig", "VpcConfig with subnets"},
                           {"ImageConfig", "ImageConfig"}}) {
    if (auto s = reject_nonempty(key, what); !s) return s;
  }

  if (creating && (record.runtime.empty() || record.handler.empty())) {
    return invalid_parameter(
        "Runtime and Handler are mandatory parameters for functions created with deployment "
        "packages.");
  }
  return ok_status();
}

json::object render_configuration(const runtime::FunctionSpec& spec, std::string_view region,
                                  ConfigurationView view) {
  const auto& r = spec.config;
  json::object variables;
  for (const auto& [k, v] : r.environment) variables[k] = v;
  std::string runtime_hash = to_hex(sha256(r.runtime));
  json::object out{
      {"FunctionName", r.name},
      {"FunctionArn", spec.function_arn},
      {"Runtime", r.runtime},
      {"Role", r.role},
      {"Handler", r.handler},
      {"CodeSize", r.code_size},
      {"Description", r.description},
      {"Timeout", r.timeout_seconds},
      {"MemorySize", r.memory_mb},
      {"LastModified", r.last_modified},
      {"CodeSha256", r.code_sha256_base64},
      {"Version", spec.version},
      {"TracingConfig", json::object{{"Mode", "PassThrough"}}},
      {"RevisionId", r.revision_id},
      {"PackageType", "Zip"},
      {"Architectures", json::array{json::string(r.architecture)}},
      {"EphemeralStorage", json::object{{"Size", r.ephemeral_storage_mb}}},
      {"SnapStart", json::object{{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
      {"LoggingConfig",
       json::object{{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + r.name}}},
  };
  if (r.environment_set || !r.environment.empty()) {
    out["Environment"] = json::object{{"Variables", std::move(variables)}};
  }
  if (!r.dead_letter_target_arn.empty()) {
    out["DeadLetterConfig"] = json::object{{"TargetArn", r.dead_letter_target_arn}};
  }
  // ListFunctions entries leave out the state fields and the runtime version, as AWS does.
  if (view == ConfigurationView::full) {
    out["State"] = "Active";
    out["LastUpdateStatus"] = "Successful";
    out["RuntimeVersionConfig"] = json::object{
        {"RuntimeVersionArn", fmt::format("arn:aws:lambda:{}::runtime:{}", region, runtime_hash)}};
  }
  return out;
}

}  // namespace lambent::services::lambda
