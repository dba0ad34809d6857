#include "lambent/services/lambda/function_config.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>
#include <set>
#include <string>

#include "lambent/base/crypto.h"
#include "lambent/runtime/environment.h"
#include "lambent/services/lambda/errors.h"

namespace lambent::services::lambda {
namespace {

namespace json = boost::json;

// AWS's FunctionName pattern for CreateFunction, GetFunction and the other non-invoke
// operations, as quoted in its ValidationException messages.
constexpr std::string_view kAwsNamePattern =
    R"((arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?)";
constexpr std::string_view kAwsRolePattern =
    R"(arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)";
// The runtime list AWS prints in InvalidParameterValueException for an unknown runtime.
constexpr std::string_view kAwsRuntimeList =
    "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]";
constexpr std::string_view kValidRole = "arn:aws:iam::123456789012:role/lambda-role";

std::string name_pattern_error(std::string_view value) {
  return "1 validation error detected: Value '" + std::string(value) +
         "' at 'functionName' failed to satisfy constraint: Member must satisfy regular "
         "expression pattern: " +
         std::string(kAwsNamePattern);
}

// ---- parse_function_name ----

TEST(ParseFunctionName, PlainName) {
  for (auto context : {NameContext::create, NameContext::invoke, NameContext::other}) {
    auto ref = parse_function_name("my-function_1", context);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    EXPECT_EQ(ref->name, "my-function_1");
    EXPECT_FALSE(ref->qualifier.has_value());
  }
}

TEST(ParseFunctionName, PartialArn) {
  auto ref = parse_function_name("123456789012:function:my-function", NameContext::other);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "my-function");
  EXPECT_FALSE(ref->qualifier.has_value());

  ref = parse_function_name("123456789012:function:my-function:7", NameContext::other);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "my-function");
  EXPECT_EQ(ref->qualifier, "7");
}

TEST(ParseFunctionName, FullArnWithoutQualifier) {
  auto ref = parse_function_name("arn:aws:lambda:us-east-1:123456789012:function:my-function",
                                 NameContext::other);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "my-function");
  EXPECT_FALSE(ref->qualifier.has_value());
}

TEST(ParseFunctionName, FullArnWithQualifier) {
  const std::string arn = "arn:aws:lambda:eu-west-2:123456789012:function:my-function";
  for (const char* qualifier : {"$LATEST", "1", "prod-alias_2"}) {
    auto ref = parse_function_name(arn + ":" + qualifier, NameContext::other);
    ASSERT_TRUE(ref.ok()) << qualifier << ": " << ref.error().message;
    EXPECT_EQ(ref->name, "my-function");
    EXPECT_EQ(ref->qualifier, qualifier);
  }
  // Other partitions parse too.
  auto gov = parse_function_name("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:2",
                                 NameContext::other);
  ASSERT_TRUE(gov.ok()) << gov.error().message;
  EXPECT_EQ(gov->name, "f");
  EXPECT_EQ(gov->qualifier, "2");
}

TEST(ParseFunctionName, NameWithQualifier) {
  auto ref = parse_function_name("my-function:$LATEST", NameContext::invoke);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "my-function");
  EXPECT_EQ(ref->qualifier, "$LATEST");
}

TEST(ParseFunctionName, InvalidGivesPatternError) {
  auto ref = parse_function_name("invalid:function:name", NameContext::create);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, Errc::validation);
  EXPECT_EQ(ref.error().message, name_pattern_error("invalid:function:name"));

  // Cases recorded from AWS for CreateFunction, all with the same pattern message.
  for (const char* raw :
       {"*", "my-function!", "my-function:invalid!", "invalid-account:function:my-function",
        "arn:aws:lambda:invalid-region:123456789012:function:my-function",
        "arn:aws:ec2:us-east-1:123456789012:instance:i-1234567890abcdef0",
        "arn:aws:lambda:us-east-1:123456789012:function:my-function:1:2",
        "function:my-function:$LATEST:extra",
        "arn:aws:lambda:us-east-1:123456789012:function:my-function:$latest",
        "arn:aws:lambda::123456789012:function:my-function",
        "arn:aws:lambda:us-east-1::function:my-function",
        "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATES"}) {
    auto bad = parse_function_name(raw, NameContext::create);
    ASSERT_FALSE(bad.ok()) << raw;
    EXPECT_EQ(bad.error().code, Errc::validation) << raw;
    EXPECT_EQ(bad.error().message, name_pattern_error(raw)) << raw;
  }
}

TEST(ParseFunctionName, InvokePatternAllowsDots) {
  auto ref = parse_function_name("my.function", NameContext::invoke);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->name, "my.function");
  auto other = parse_function_name("my.function", NameContext::other);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message, name_pattern_error("my.function"));
}

TEST(ParseFunctionName, NameOver64AtCreateIsInvalidParameter) {
  const std::string name(65, 'a');
  auto ref = parse_function_name(name, NameContext::create);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, Errc::invalid_parameter);
  EXPECT_EQ(ref.error().message,
            "1 validation error detected: Value '" + name +
                "' at 'functionName' failed to satisfy constraint: Member must have length "
                "less than or equal to 64");
  // 64 characters is still a valid name.
  EXPECT_TRUE(parse_function_name(std::string(64, 'a'), NameContext::create).ok());
}

TEST(ParseFunctionName, OverlongInputAtCreateIsLengthError) {
  // AWS checks the whole FunctionName value against 140 characters at create.
  const std::string raw = "my-function:" + std::string(129, 'a');
  auto ref = parse_function_name(raw, NameContext::create);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, Errc::validation);
  EXPECT_EQ(ref.error().message,
            "1 validation error detected: Value '" + raw +
                "' at 'functionName' failed to satisfy constraint: Member must have length less "
                "than or equal to 140");
}

TEST(ParseFunctionName, NameOver64OutsideCreateIsLookedUp) {
  // AWS returns ResourceNotFoundException ("Function not found: arn:...:function:<name>") from
  // GetFunction and Invoke for a 65-character name, so parsing must accept the name and let
  // the lookup fail.
  const std::string name(65, 'a');
  for (auto context : {NameContext::other, NameContext::invoke}) {
    auto ref = parse_function_name(name, context);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    EXPECT_EQ(ref->name, name);
  }
}

TEST(ParseFunctionName, QualifierOver128OutsideCreateIsValidationError) {
  // AWS's GetFunction error for "my-function:<129 characters>".
  const std::string qualifier(129, 'a');
  auto ref = parse_function_name("my-function:" + qualifier, NameContext::other);
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.error().code, Errc::validation);
  EXPECT_EQ(ref.error().message,
            "1 validation error detected: Value '" + qualifier +
                "' at 'qualifier' failed to satisfy constraint: Member must have length less "
                "than or equal to 128");
}

// ---- apply_configuration ----

Status apply(std::string_view body_json, store::FunctionRecord& record, bool creating) {
  json::value body = json::parse(body_json);
  return apply_configuration(body.as_object(), record, creating);
}

// Applies body_json to a fresh record as an update and returns the error it must produce.
Error update_error(std::string_view body_json) {
  store::FunctionRecord record;
  Status status = apply(body_json, record, false);
  if (status.ok()) {
    ADD_FAILURE() << "accepted: " << body_json;
    return Error{Errc::internal, "accepted"};
  }
  return status.error();
}

std::string one_violation(std::string_view text) {
  return "1 validation error detected: " + std::string(text);
}

TEST(ApplyConfiguration, AppliesEveryField) {
  store::FunctionRecord record;
  Status status = apply(R"({
      "Role": "arn:aws:iam::123456789012:role/lambda-role",
      "Handler": "app.handler",
      "Runtime": "python3.12",
      "Description": "orders",
      "Timeout": 900,
      "MemorySize": 10240,
      "EphemeralStorage": {"Size": 10240},
      "Architectures": ["arm64"],
      "Environment": {"Variables": {"BB": "2", "AA": "1"}},
      "Layers": [],
      "VpcConfig": {"SubnetIds": [], "SecurityGroupIds": []}
  })",
                        record, true);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(record.role, kValidRole);
  EXPECT_EQ(record.handler, "app.handler");
  EXPECT_EQ(record.runtime, "python3.12");
  EXPECT_EQ(record.description, "orders");
  EXPECT_EQ(record.timeout_seconds, 900);
  EXPECT_EQ(record.memory_mb, 10240);
  EXPECT_EQ(record.ephemeral_storage_mb, 10240);
  EXPECT_EQ(record.architecture, "arm64");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(record.environment, (Pairs{{"BB", "2"}, {"AA", "1"}}));
  EXPECT_TRUE(record.environment_set);
}

TEST(ApplyConfiguration, UpdateChangesOnlyGivenFields) {
  store::FunctionRecord record;
  record.runtime = "nodejs20.x";
  record.handler = "index.handler";
  record.memory_mb = 256;
  Status status = apply(R"({"Timeout": 1})", record, false);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(record.timeout_seconds, 1);
  EXPECT_EQ(record.memory_mb, 256);
  EXPECT_EQ(record.runtime, "nodejs20.x");
  EXPECT_EQ(record.handler, "index.handler");
  EXPECT_FALSE(record.environment_set);
}

TEST(ApplyConfiguration, EmptyEnvironmentCountsAsSet) {
  store::FunctionRecord record;
  record.environment = {{"OLD", "1"}};
  Status status = apply(R"({"Environment": {"Variables": {}}})", record, false);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(record.environment.empty());
  EXPECT_TRUE(record.environment_set);
}

TEST(ApplyConfiguration, UnknownRuntime) {
  for (const char* runtime : {"non-existent-runtime", "PYTHON3.9"}) {
    Error error = update_error(std::string(R"({"Runtime": ")") + runtime + "\"}");
    EXPECT_EQ(error.code, Errc::invalid_parameter) << runtime;
    EXPECT_EQ(error.message, "Value " + std::string(runtime) +
                                 " at 'runtime' failed to satisfy constraint: Member must "
                                 "satisfy enum value set: " +
                                 std::string(kAwsRuntimeList) + " or be a valid ARN")
        << runtime;
  }
}

TEST(ApplyConfiguration, AwsRuntimeLambentCannotRun) {
  Error error = update_error(R"({"Runtime": "java21"})");
  EXPECT_EQ(error.code, Errc::invalid_parameter);
  EXPECT_EQ(error.message,
            "Runtime java21 is not available on this Lambent server. Supported runtimes: "
            "python3.8 to python3.14, nodejs16.x to nodejs24.x, provided, provided.al2, "
            "provided.al2023.");
}

TEST(ApplyConfiguration, TimeoutOutOfRange) {
  Error low = update_error(R"({"Timeout": 0})");
  EXPECT_EQ(low.code, Errc::validation);
  EXPECT_EQ(low.message, one_violation("Value '0' at 'timeout' failed to satisfy constraint: "
                                       "Member must have value greater than or equal to 1"));
  Error high = update_error(R"({"Timeout": 901})");
  EXPECT_EQ(high.code, Errc::validation);
  EXPECT_EQ(high.message, one_violation("Value '901' at 'timeout' failed to satisfy "
                                        "constraint: Member must have value less than or equal "
                                        "to 900"));
}

TEST(ApplyConfiguration, MemoryOutOfRange) {
  Error low = update_error(R"({"MemorySize": 64})");
  EXPECT_EQ(low.code, Errc::validation);
  EXPECT_EQ(low.message, one_violation("Value '64' at 'memorySize' failed to satisfy "
                                       "constraint: Member must have value greater than or "
                                       "equal to 128"));
  Error high = update_error(R"({"MemorySize": 10241})");
  EXPECT_EQ(high.code, Errc::validation);
  EXPECT_EQ(high.message, one_violation("Value '10241' at 'memorySize' failed to satisfy "
                                        "constraint: Member must have value less than or equal "
                                        "to 10240"));
}

TEST(ApplyConfiguration, EphemeralStorageTooSmall) {
  Error error = update_error(R"({"EphemeralStorage": {"Size": 100}})");
  EXPECT_EQ(error.code, Errc::validation);
  EXPECT_EQ(error.message, one_violation("Value '100' at 'ephemeralStorage.size' failed to "
                                         "satisfy constraint: Member must have value greater "
                                         "than or equal to 512"));
}

TEST(ApplyConfiguration, HandlerWithSpace) {
  Error error = update_error(R"({"Handler": "app handler"})");
  EXPECT_EQ(error.code, Errc::validation);
  EXPECT_EQ(error.message, one_violation("Value 'app handler' at 'handler' failed to satisfy "
                                         "constraint: Member must satisfy regular expression "
                                         "pattern: [^\\s]+"));
}

TEST(ApplyConfiguration, BadRole) {
  Error error = update_error(R"({"Role": "r1"})");
  EXPECT_EQ(error.code, Errc::validation);
  EXPECT_EQ(error.message,
            one_violation("Value 'r1' at 'role' failed to satisfy constraint: Member must "
                          "satisfy regular expression pattern: " +
                          std::string(kAwsRolePattern)));
}

TEST(ApplyConfiguration, TwoViolationsJoined) {
  Error error = update_error(R"({"Role": "r1", "Timeout": 0})");
  EXPECT_EQ(error.code, Errc::validation);
  EXPECT_EQ(error.message,
            "2 validation errors detected: Value 'r1' at 'role' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: " +
                std::string(kAwsRolePattern) +
                "; Value '0' at 'timeout' failed to satisfy constraint: Member must have value "
                "greater than or equal to 1");
}

TEST(ApplyConfiguration, Architectures) {
  Error many = update_error(R"({"Architectures": ["x86_64", "arm64"]})");
  EXPECT_EQ(many.code, Errc::validation);
  EXPECT_EQ(many.message, one_violation("Value '[x86_64, arm64]' at 'architectures' failed to "
                                        "satisfy constraint: Member must have length less than "
                                        "or equal to 1"));
  Error upper = update_error(R"({"Architectures": ["X86_64"]})");
  EXPECT_EQ(upper.code, Errc::validation);
  EXPECT_EQ(upper.message,
            one_violation("Value '[X86_64]' at 'architectures' failed to satisfy constraint: "
                          "Member must satisfy constraint: [Member must satisfy enum value set: "
                          "[x86_64, arm64], Member must not be null]"));
}

TEST(ApplyConfiguration, ReservedEnvironmentKeys) {
  Error single = update_error(R"({"Environment": {"Variables": {"AWS_REGION": "x", "OK": "y"}}})");
  EXPECT_EQ(single.code, Errc::invalid_parameter);
  EXPECT_EQ(single.message,
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            "supported for modification. Reserved keys used in this request: AWS_REGION");

  Error pair = update_error(
      R"({"Environment": {"Variables": {"AWS_ACCESS_KEY_ID": "x", "LAMBDA_TASK_ROOT": "y"}}})");
  EXPECT_EQ(pair.code, Errc::invalid_parameter);
  EXPECT_TRUE(pair.message.ends_with(
      "Reserved keys used in this request: AWS_ACCESS_KEY_ID, LAMBDA_TASK_ROOT"))
      << pair.message;
}

TEST(ApplyConfiguration, EnvironmentKeyPattern) {
  // Lambda's key pattern [a-zA-Z]([a-zA-Z0-9_])+ needs at least two characters.
  for (const char* key : {"A", "1AB", "_AB", "AB-C"}) {
    Error error =
        update_error(std::string(R"({"Environment": {"Variables": {")") + key + R"(": "v"}}})");
    EXPECT_EQ(error.code, Errc::validation) << key;
  }
}

TEST(ApplyConfiguration, EnvironmentAtExactly4KbAccepted) {
  // AWS measures the compact JSON of the variables: {"LARGE_VAR":"<4080 x>"} is 4096 bytes
  // and is accepted.
  store::FunctionRecord record;
  std::string body =
      R"({"Environment": {"Variables": {"LARGE_VAR": ")" + std::string(4080, 'x') + "\"}}}";
  Status status = apply(body, record, false);
  EXPECT_TRUE(status.ok()) << status.error().message;
}

TEST(ApplyConfiguration, EnvironmentOver4KbRejected) {
  // One byte more than the accepted case: AWS rejects it and quotes the measured JSON.
  const std::string value(4081, 'x');
  Error error = update_error(R"({"Environment": {"Variables": {"LARGE_VAR": ")" + value + "\"}}}");
  EXPECT_EQ(error.code, Errc::invalid_parameter);
  EXPECT_EQ(error.message,
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: "
            "{\"LARGE_VAR\":\"" +
                value + "\"}");
}

TEST(ApplyConfiguration, EnvironmentSizeMessageQuotesJson) {
  // Two variables whose compact JSON is 4097 bytes, as in AWS's recorded multi-key case.
  const std::string value(4064, 'x');
  Error error = update_error(R"({"Environment": {"Variables": {"SMALL_VAR": "ok", "LARGE_VAR": ")" +
                             value + "\"}}}");
  EXPECT_EQ(error.code, Errc::invalid_parameter);
  EXPECT_EQ(error.message,
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: "
            "{\"SMALL_VAR\":\"ok\",\"LARGE_VAR\":\"" +
                value + "\"}");
}

TEST(ApplyConfiguration, UnsupportedFeaturesRejected) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {R"({"Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:deps:1"]})",
       "Layers is not supported by Lambent yet."},
      {R"({"FileSystemConfigs": [{"Arn": "a", "LocalMountPath": "/mnt/x"}]})",
       "FileSystemConfigs is not supported by Lambent yet."},
      {R"({"VpcConfig": {"SubnetIds": ["subnet-1"]}})",
       "VpcConfig with subnets is not supported by Lambent yet."},
      {R"({"ImageConfig": {"Command": ["x"]}})", "ImageConfig is not supported by Lambent yet."},
  };
  for (const auto& c : cases) {
    Error error = update_error(c.body);
    EXPECT_EQ(error.code, Errc::invalid_parameter) << c.body;
    EXPECT_EQ(error.message, c.message) << c.body;
  }
  // Empty values of the same fields are accepted, as SDKs send them.
  store::FunctionRecord record;
  Status empty = apply(R"({"Layers": [], "FileSystemConfigs": [], "DeadLetterConfig": {},
                           "ImageConfig": {}, "VpcConfig": {"SubnetIds": []}})",
                       record, false);
  EXPECT_TRUE(empty.ok()) << empty.error().message;
}

TEST(ApplyConfiguration, DeadLetterTargetStoredAndCleared) {
  store::FunctionRecord record;
  Status set = apply(R"({"DeadLetterConfig": {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:dlq"}})",
                     record, false);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(record.dead_letter_target_arn, "arn:aws:sqs:us-east-1:123456789012:dlq");

  Status topic = apply(R"({"DeadLetterConfig": {"TargetArn": "arn:aws:sns:us-east-1:123456789012:t"}})",
                       record, false);
  ASSERT_TRUE(topic.ok()) << topic.error().message;
  EXPECT_EQ(record.dead_letter_target_arn, "arn:aws:sns:us-east-1:123456789012:t");

  // Other fields leave the target alone; an empty DeadLetterConfig removes it.
  ASSERT_TRUE(apply(R"({"Timeout": 5})", record, false).ok());
  EXPECT_EQ(record.dead_letter_target_arn, "arn:aws:sns:us-east-1:123456789012:t");
  ASSERT_TRUE(apply(R"({"DeadLetterConfig": {}})", record, false).ok());
  EXPECT_EQ(record.dead_letter_target_arn, "");
}

TEST(ApplyConfiguration, DeadLetterTargetValidated) {
  Error pattern = update_error(R"({"DeadLetterConfig": {"TargetArn": "queue"}})");
  EXPECT_EQ(pattern.code, Errc::validation);
  EXPECT_EQ(pattern.message,
            "1 validation error detected: Value 'queue' at 'deadLetterConfig.targetArn' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()");

  Error service = update_error(
      R"({"DeadLetterConfig": {"TargetArn": "arn:aws:lambda:us-east-1:123456789012:function:f"}})");
  EXPECT_EQ(service.code, Errc::invalid_parameter);

  store::FunctionRecord record;
  Status empty_on_create = apply(R"({"DeadLetterConfig": {"TargetArn": ""}})", record, true);
  ASSERT_FALSE(empty_on_create.ok());
  EXPECT_EQ(empty_on_create.error().message,
            "Invalid dead letter queue ARN: ARNs must start with 'arn:'");
}

TEST(ApplyConfiguration, CreateRequiresRuntimeAndHandler) {
  const std::string expected =
      "Runtime and Handler are mandatory parameters for functions created with deployment "
      "packages.";
  for (const char* body : {R"({"Role": "arn:aws:iam::123456789012:role/r"})",
                           R"({"Role": "arn:aws:iam::123456789012:role/r", "Runtime": "python3.12"})",
                           R"({"Role": "arn:aws:iam::123456789012:role/r", "Handler": "a.b"})"}) {
    store::FunctionRecord record;
    Status status = apply(body, record, true);
    ASSERT_FALSE(status.ok()) << body;
    EXPECT_EQ(status.error().code, Errc::invalid_parameter) << body;
    EXPECT_EQ(status.error().message, expected) << body;
  }
}

TEST(ApplyConfiguration, WrongJsonTypeIsSerializationError) {
  Error error = update_error(R"({"Timeout": "30"})");
  EXPECT_EQ(error.code, Errc::validation);
  EXPECT_EQ(error.type, "SerializationException");
  Error role = update_error(R"({"Role": 5})");
  EXPECT_EQ(role.type, "SerializationException");
}

// ---- render_configuration ----

runtime::FunctionSpec sample_spec() {
  runtime::FunctionSpec spec;
  auto& r = spec.config;
  r.name = "orders";
  r.runtime = "python3.12";
  r.handler = "app.handler";
  r.role = std::string(kValidRole);
  r.description = "order intake";
  r.timeout_seconds = 5;
  r.memory_mb = 256;
  r.ephemeral_storage_mb = 1024;
  r.environment = {{"STAGE", "prod"}};
  r.architecture = "arm64";
  r.code_sha256_base64 = "ERvW8p+xhGuhNLo/CfynL+i5tje8p70dss4ytjQltkA=";
  r.code_size = 1234;
  r.last_modified = "2024-01-02T03:04:05.678+0000";
  r.revision_id = "0a1b2c3d-0000-4000-8000-000000000000";
  spec.function_arn = "arn:aws:lambda:us-east-1:000000000000:function:orders";
  return spec;
}

// The string value of a JSON value, or a marker naming its type, so a mismatch prints both.
std::string str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "<not a string: " + json::serialize(v) + ">";
}

std::set<std::string> keys_of(const json::object& o) {
  std::set<std::string> keys;
  for (const auto& [key, value] : o) keys.insert(std::string(key));
  return keys;
}

TEST(RenderConfiguration, HasEveryFieldAwsReturns) {
  // Configuration keys of AWS's GetFunction response recorded in LocalStack's
  // tests/aws/services/lambda_/test_lambda_api.snapshot.json (test_function_lifecycle).
  const std::set<std::string> aws_keys = {
      "Architectures", "CodeSha256",     "CodeSize",         "Description",
      "Environment",   "EphemeralStorage", "FunctionArn",    "FunctionName",
      "Handler",       "LastModified",   "LastUpdateStatus", "LoggingConfig",
      "MemorySize",    "PackageType",    "RevisionId",       "Role",
      "Runtime",       "RuntimeVersionConfig", "SnapStart",  "State",
      "Timeout",       "TracingConfig",  "Version"};
  // Fields AWS returns that Lambent does not report: none at present.
  const std::set<std::string> not_reported = {};
  std::set<std::string> expected;
  for (const auto& key : aws_keys) {
    if (!not_reported.contains(key)) expected.insert(key);
  }

  json::object rendered = render_configuration(sample_spec(), "us-east-1");
  EXPECT_EQ(keys_of(rendered), expected);

  // Nested objects carry the same keys as AWS's.
  EXPECT_EQ(keys_of(rendered.at("Environment").as_object()), std::set<std::string>{"Variables"});
  EXPECT_EQ(keys_of(rendered.at("EphemeralStorage").as_object()), std::set<std::string>{"Size"});
  EXPECT_EQ(keys_of(rendered.at("LoggingConfig").as_object()),
            (std::set<std::string>{"LogFormat", "LogGroup"}));
  EXPECT_EQ(keys_of(rendered.at("RuntimeVersionConfig").as_object()),
            std::set<std::string>{"RuntimeVersionArn"});
  EXPECT_EQ(keys_of(rendered.at("SnapStart").as_object()),
            (std::set<std::string>{"ApplyOn", "OptimizationStatus"}));
  EXPECT_EQ(keys_of(rendered.at("TracingConfig").as_object()), std::set<std::string>{"Mode"});
}

TEST(RenderConfiguration, ListingLeavesOutStateFields) {
  // Function keys of AWS's ListFunctions response in the same recording (test_list_functions).
  const std::set<std::string> aws_listing_keys = {
      "Architectures", "CodeSha256",   "CodeSize",     "Description", "Environment",
      "EphemeralStorage", "FunctionArn", "FunctionName", "Handler",   "LastModified",
      "LoggingConfig", "MemorySize",   "PackageType",  "RevisionId",  "Role",
      "Runtime",       "SnapStart",    "Timeout",      "TracingConfig", "Version"};
  json::object listed =
      render_configuration(sample_spec(), "us-east-1", ConfigurationView::listing);
  EXPECT_EQ(keys_of(listed), aws_listing_keys);
}

TEST(RenderConfiguration, EnvironmentOnlyOnceSet) {
  runtime::FunctionSpec spec = sample_spec();
  spec.config.environment.clear();
  spec.config.environment_set = false;
  EXPECT_FALSE(render_configuration(spec, "us-east-1").contains("Environment"));

  // Once a request set Environment, even to no variables, AWS reports it.
  spec.config.environment_set = true;
  json::object rendered = render_configuration(spec, "us-east-1");
  ASSERT_TRUE(rendered.contains("Environment"));
  EXPECT_EQ(rendered.at("Environment"), (json::object{{"Variables", json::object{}}}));
}

TEST(RenderConfiguration, RendersRecordValues) {
  json::object c = render_configuration(sample_spec(), "eu-west-1");
  EXPECT_EQ(str(c.at("FunctionName")), "orders");
  EXPECT_EQ(str(c.at("FunctionArn")), "arn:aws:lambda:us-east-1:000000000000:function:orders");
  EXPECT_EQ(str(c.at("Runtime")), "python3.12");
  EXPECT_EQ(str(c.at("Role")), kValidRole);
  EXPECT_EQ(str(c.at("Handler")), "app.handler");
  EXPECT_EQ(c.at("CodeSize").to_number<std::int64_t>(), 1234);
  EXPECT_EQ(str(c.at("Description")), "order intake");
  EXPECT_EQ(c.at("Timeout").to_number<std::int64_t>(), 5);
  EXPECT_EQ(c.at("MemorySize").to_number<std::int64_t>(), 256);
  EXPECT_EQ(str(c.at("LastModified")), "2024-01-02T03:04:05.678+0000");
  EXPECT_EQ(str(c.at("CodeSha256")), "ERvW8p+xhGuhNLo/CfynL+i5tje8p70dss4ytjQltkA=");
  EXPECT_EQ(str(c.at("Version")), "$LATEST");
  EXPECT_EQ(str(c.at("RevisionId")), "0a1b2c3d-0000-4000-8000-000000000000");
  EXPECT_EQ(str(c.at("State")), "Active");
  EXPECT_EQ(str(c.at("LastUpdateStatus")), "Successful");
  EXPECT_EQ(str(c.at("PackageType")), "Zip");
  EXPECT_EQ(c.at("Architectures"), (json::array{"arm64"}));
  EXPECT_EQ(c.at("EphemeralStorage").at("Size").to_number<std::int64_t>(), 1024);
  EXPECT_EQ(c.at("Environment").at("Variables"), (json::object{{"STAGE", "prod"}}));
  EXPECT_EQ(str(c.at("TracingConfig").at("Mode")), "PassThrough");
  EXPECT_EQ(str(c.at("LoggingConfig").at("LogFormat")), "Text");
  EXPECT_EQ(str(c.at("LoggingConfig").at("LogGroup")), "/aws/lambda/orders");
  EXPECT_EQ(str(c.at("SnapStart").at("ApplyOn")), "None");
  EXPECT_EQ(str(c.at("SnapStart").at("OptimizationStatus")), "Off");
  EXPECT_EQ(str(c.at("RuntimeVersionConfig").at("RuntimeVersionArn")),
            "arn:aws:lambda:eu-west-1::runtime:" + to_hex(sha256("python3.12")));
}

TEST(LambdaTimestamp, HasAwsFormat) {
  std::string ts = lambda_timestamp_now();
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000)")))
      << ts;
}

// ---- error responses ----

std::string header_of(const http::Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "<missing>";
}

TEST(ErrorResponse, ResourceNotFoundHasTypeAndCapitalMessage) {
  auto response = error_response(function_not_found("arn:aws:lambda:us-east-1:1:function:x"),
                                 "req-1");
  EXPECT_EQ(response.status, 404u);
  EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(header_of(response, "x-amzn-RequestId"), "req-1");
  EXPECT_EQ(header_of(response, "Content-Type"), "application/json");
  json::object body = json::parse(response.body).as_object();
  EXPECT_EQ(keys_of(body), (std::set<std::string>{"Type", "Message"}));
  EXPECT_EQ(str(body.at("Type")), "User");
  EXPECT_EQ(str(body.at("Message")), "Function not found: arn:aws:lambda:us-east-1:1:function:x");
}

TEST(ErrorResponse, InvalidParameterHasTypeAndLowercaseMessage) {
  auto response = error_response(invalid_parameter("bad value"), "req-2");
  EXPECT_EQ(response.status, 400u);
  EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), "InvalidParameterValueException");
  json::object body = json::parse(response.body).as_object();
  EXPECT_EQ(keys_of(body), (std::set<std::string>{"Type", "message"}));
  EXPECT_EQ(str(body.at("Type")), "User");
  EXPECT_EQ(str(body.at("message")), "bad value");
}

TEST(ErrorResponse, ValidationHasOnlyMessage) {
  auto response = error_response(validation_error({"A"}), "req-3");
  EXPECT_EQ(response.status, 400u);
  EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), "ValidationException");
  json::object body = json::parse(response.body).as_object();
  EXPECT_EQ(keys_of(body), std::set<std::string>{"message"});
  EXPECT_EQ(str(body.at("message")), "1 validation error detected: A");
}

TEST(ErrorResponse, TooManyRequestsHasReason) {
  auto response = error_response(
      Error{Errc::throttled, "Rate Exceeded.", "ReservedFunctionConcurrentInvocationLimitExceeded"},
      "req-4");
  EXPECT_EQ(response.status, 429u);
  EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), "TooManyRequestsException");
  json::object body = json::parse(response.body).as_object();
  EXPECT_EQ(keys_of(body), (std::set<std::string>{"Reason", "Type", "message"}));
  EXPECT_EQ(str(body.at("Reason")), "ReservedFunctionConcurrentInvocationLimitExceeded");
  EXPECT_EQ(str(body.at("Type")), "User");
  EXPECT_EQ(str(body.at("message")), "Rate Exceeded.");

  auto plain = error_response(Error{Errc::throttled, "Rate Exceeded."}, "req-5");
  json::object plain_body = json::parse(plain.body).as_object();
  EXPECT_EQ(str(plain_body.at("Reason")), "ConcurrentInvocationLimitExceeded");
}

TEST(ErrorResponse, StatusForEveryCode) {
  struct Case {
    Errc code;
    unsigned status;
    const char* type;
  };
  const Case cases[] = {
      {Errc::conflict, 409, "ResourceConflictException"},
      {Errc::too_large, 413, "RequestEntityTooLargeException"},
      {Errc::invalid_content, 400, "InvalidRequestContentException"},
      {Errc::unauthorized, 403, "UnrecognizedClientException"},
      {Errc::not_implemented, 501, "NotImplemented"},
      {Errc::io, 500, "ServiceException"},
      {Errc::internal, 500, "ServiceException"},
  };
  for (const auto& c : cases) {
    auto response = error_response(Error{c.code, "m"}, "r");
    EXPECT_EQ(response.status, c.status) << c.type;
    EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), c.type);
  }
}

TEST(ErrorResponse, ErrorTypeOverridesHeader) {
  auto response =
      error_response(Error{Errc::unauthorized, "The security token included in the request is "
                                               "invalid.", "InvalidSignatureException"},
                     "req-6");
  EXPECT_EQ(response.status, 403u);
  EXPECT_EQ(header_of(response, "x-amzn-ErrorType"), "InvalidSignatureException");
}

TEST(JoinValidationErrors, CountsAndJoins) {
  EXPECT_EQ(join_validation_errors({"A"}), "1 validation error detected: A");
  EXPECT_EQ(join_validation_errors({"A", "B"}), "2 validation errors detected: A; B");
  EXPECT_EQ(join_validation_errors({"A", "B", "C"}), "3 validation errors detected: A; B; C");
}

}  // namespace
}  // namespace lambent::services::lambda
