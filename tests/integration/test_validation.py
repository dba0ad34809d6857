"""Request errors of the Lambda API: unknown functions, conflicts, invalid parameters,
invalid code packages, oversized requests and invalid payloads.

Expected status codes, error codes and messages are AWS's, taken from LocalStack's recordings
against AWS (`test_lambda_api.snapshot.json`, `test_lambda.snapshot.json`) where they exist.
The extra fields checked are the ones botocore's Lambda model exposes beside `Error`: `Type`
and `message` for InvalidParameterValueException and the like, `Type` and `Message` for
ResourceNotFoundException, and none for ValidationException, which the model does not define.
Every test ends by checking that the server still serves a function created before it.
"""

import base64
import hashlib
import json
import os

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROLE, create_function, invoke_json, make_zip, unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"

# AWS's runtime list in its error message, in AWS's order, as recorded in 2025-11.
RUNTIME_ENUM = (
    "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, "
    "java8.al2]"
)
ECHO = 'def handler(event, context):\n    return {"echo": event}\n'
LENGTH = 'def handler(event, context):\n    return {"length": len(event)}\n'


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def error_of(call, **kwargs):
    """Calls a client method that must fail and returns the parsed error response."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response


def extra_fields(response):
    return {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}


def assert_error(response, status, code, message, extras):
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"] == message
    assert extra_fields(response) == extras


def assert_user_error(response, status, code, message):
    """An error whose model has Type and message members, such as InvalidParameterValue."""
    assert_error(response, status, code, message, {"Type": "User", "message": message})


def assert_validation_error(response, message):
    assert_error(response, 400, "ValidationException", message, {})


@pytest.fixture(scope="module")
def raw_lam(server):
    """A client that sends parameters botocore would reject before sending."""
    return server.client(config=Config(parameter_validation=False,
                                       retries={"max_attempts": 0},
                                       read_timeout=120, connect_timeout=10))


@pytest.fixture(scope="module")
def witness(server):
    """A function created first, whose state every test checks at its end."""
    lam = server.client()
    name = create_function(lam, {"app.py": ECHO}, name=unique_name("witness"))
    configuration = lam.get_function(FunctionName=name)["Configuration"]
    return name, configuration


@pytest.fixture(autouse=True)
def witness_intact(witness, lam):
    yield
    name, before = witness
    after = lam.get_function(FunctionName=name)["Configuration"]
    assert after["CodeSha256"] == before["CodeSha256"]
    assert after["RevisionId"] == before["RevisionId"]
    response, body = invoke_json(lam, name, {"still": "up"})
    assert "FunctionError" not in response, body
    assert body == {"echo": {"still": "up"}}


def assert_absent(lam, name):
    response = error_of(lam.get_function, FunctionName=name)
    assert response["Error"]["Code"] == "ResourceNotFoundException"


def create_kwargs(name, **overrides):
    kwargs = dict(FunctionName=name, Runtime="python3.12", Handler="app.handler", Role=ROLE,
                  Code={"ZipFile": make_zip({"app.py": ECHO})})
    kwargs.update(overrides)
    return kwargs


# ---- unknown functions ----

@pytest.mark.parametrize("operation", ["get_function", "get_function_configuration",
                                       "invoke", "delete_function", "update_function_code",
                                       "update_function_configuration"])
def test_unknown_function_not_found(lam, operation):
    name = unique_name("missing")
    kwargs = {"FunctionName": name}
    if operation == "update_function_code":
        kwargs["ZipFile"] = make_zip({"app.py": ECHO})
    if operation == "update_function_configuration":
        kwargs["Timeout"] = 10

    response = error_of(getattr(lam, operation), **kwargs)

    message = f"Function not found: {function_arn(name)}"
    assert_error(response, 404, "ResourceNotFoundException", message,
                 {"Type": "User", "Message": message})


def test_unknown_function_by_arn_not_found(lam):
    name = unique_name("missing")

    response = error_of(lam.get_function, FunctionName=function_arn(name))

    message = f"Function not found: {function_arn(name)}"
    assert_error(response, 404, "ResourceNotFoundException", message,
                 {"Type": "User", "Message": message})


def test_unknown_version_not_found(lam, witness):
    name, _ = witness

    response = error_of(lam.get_function, FunctionName=name, Qualifier="1221")

    message = f"Function not found: {function_arn(name)}:1221"
    assert_error(response, 404, "ResourceNotFoundException", message,
                 {"Type": "User", "Message": message})


def test_deleted_function_not_found(lam):
    name = create_function(lam, {"app.py": ECHO})
    lam.delete_function(FunctionName=name)

    response = error_of(lam.invoke, FunctionName=name, Payload=b"{}")

    message = f"Function not found: {function_arn(name)}"
    assert_error(response, 404, "ResourceNotFoundException", message,
                 {"Type": "User", "Message": message})


# ---- conflicts ----

def test_create_duplicate_conflict(lam):
    name = create_function(lam, {"app.py": ECHO})
    before = lam.get_function(FunctionName=name)["Configuration"]

    response = error_of(lam.create_function,
                        **create_kwargs(name, Code={"ZipFile": make_zip({"app.py": LENGTH})},
                                        Timeout=9))

    assert_user_error(response, 409, "ResourceConflictException",
                      f"Function already exist: {name}")
    after = lam.get_function(FunctionName=name)["Configuration"]
    assert after == before


# ---- invalid parameters at create ----

def test_create_invalid_runtime(raw_lam, lam):
    name = unique_name("bad")

    response = error_of(raw_lam.create_function,
                        **create_kwargs(name, Runtime="non-existent-runtime"))

    assert_user_error(response, 400, "InvalidParameterValueException",
                      "Value non-existent-runtime at 'runtime' failed to satisfy constraint: "
                      f"Member must satisfy enum value set: {RUNTIME_ENUM} or be a valid ARN")
    assert_absent(lam, name)


def test_create_uppercase_runtime(raw_lam, lam):
    name = unique_name("bad")

    response = error_of(raw_lam.create_function, **create_kwargs(name, Runtime="PYTHON3.9"))

    assert_user_error(response, 400, "InvalidParameterValueException",
                      "Value PYTHON3.9 at 'runtime' failed to satisfy constraint: "
                      f"Member must satisfy enum value set: {RUNTIME_ENUM} or be a valid ARN")
    assert_absent(lam, name)


# (parameters, expected constraint text) for single violations reported as ValidationException.
SINGLE_VIOLATIONS = [
    pytest.param({"Handler": "app handler"},
                 "Value 'app handler' at 'handler' failed to satisfy constraint: Member must "
                 "satisfy regular expression pattern: [^\\s]+", id="handler-space"),
    pytest.param({"Timeout": 0},
                 "Value '0' at 'timeout' failed to satisfy constraint: Member must have value "
                 "greater than or equal to 1", id="timeout-0"),
    pytest.param({"Timeout": 901},
                 "Value '901' at 'timeout' failed to satisfy constraint: Member must have value "
                 "less than or equal to 900", id="timeout-901"),
    pytest.param({"MemorySize": 64},
                 "Value '64' at 'memorySize' failed to satisfy constraint: Member must have "
                 "value greater than or equal to 128", id="memory-64"),
    pytest.param({"MemorySize": 10241},
                 "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have "
                 "value less than or equal to 10240", id="memory-10241"),
    pytest.param({"EphemeralStorage": {"Size": 100}},
                 "Value '100' at 'ephemeralStorage.size' failed to satisfy constraint: Member "
                 "must have value greater than or equal to 512", id="ephemeral-100"),
    pytest.param({"EphemeralStorage": {"Size": 10241}},
                 "Value '10241' at 'ephemeralStorage.size' failed to satisfy constraint: Member "
                 "must have value less than or equal to 10240", id="ephemeral-10241"),
    pytest.param({"Role": "r1"},
                 "Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular "
                 "expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?"
                 "[a-zA-Z_0-9+=,.@\\-_/]+", id="role"),
    pytest.param({"Architectures": ["x86_64", "arm64"]},
                 "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
                 "Member must have length less than or equal to 1", id="two-architectures"),
    pytest.param({"Architectures": ["X86_64"]},
                 "Value '[X86_64]' at 'architectures' failed to satisfy constraint: Member must "
                 "satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
                 "Member must not be null]", id="uppercase-architecture"),
]


@pytest.mark.parametrize("overrides, constraint", SINGLE_VIOLATIONS)
def test_create_single_violation(raw_lam, lam, overrides, constraint):
    name = unique_name("bad")

    response = error_of(raw_lam.create_function, **create_kwargs(name, **overrides))

    assert_validation_error(response, f"1 validation error detected: {constraint}")
    assert_absent(lam, name)


def test_create_two_violations(raw_lam, lam):
    name = unique_name("bad")

    response = error_of(raw_lam.create_function,
                        **create_kwargs(name, Timeout=0, MemorySize=64))

    # AWS lists each violation once, separated by "; ". The order follows AWS's model and is
    # not asserted.
    timeout = ("Value '0' at 'timeout' failed to satisfy constraint: Member must have value "
               "greater than or equal to 1")
    memory = ("Value '64' at 'memorySize' failed to satisfy constraint: Member must have value "
              "greater than or equal to 128")
    message = response["Error"]["Message"]
    prefix = "2 validation errors detected: "
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "ValidationException"
    assert message.startswith(prefix), message
    assert sorted(message[len(prefix):].split("; ")) == sorted([timeout, memory])
    assert_absent(lam, name)


def test_create_name_too_long(raw_lam, lam):
    name = "a" * 65

    response = error_of(raw_lam.create_function, **create_kwargs(name))

    assert_user_error(response, 400, "InvalidParameterValueException",
                      f"1 validation error detected: Value '{name}' at 'functionName' failed "
                      f"to satisfy constraint: Member must have length less than or equal to 64")


def test_create_name_at_limit_accepted(lam):
    name = ("n" + unique_name("") + "x" * 64)[:64]

    response = lam.create_function(**create_kwargs(name))

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert response["FunctionName"] == name
    lam.delete_function(FunctionName=name)


def test_create_invalid_name_pattern(raw_lam):
    name = "invalid:function:name"

    response = error_of(raw_lam.create_function, **create_kwargs(name))

    assert_validation_error(
        response,
        "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed "
        "to satisfy constraint: Member must satisfy regular expression pattern: "
        "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
        "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")


def test_update_configuration_violation_keeps_config(raw_lam, lam):
    name = create_function(lam, {"app.py": ECHO}, Timeout=7)
    before = lam.get_function_configuration(FunctionName=name)

    response = error_of(raw_lam.update_function_configuration, FunctionName=name,
                        Timeout=901)

    assert_validation_error(
        response,
        "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: "
        "Member must have value less than or equal to 900")
    after = lam.get_function_configuration(FunctionName=name)
    assert after["Timeout"] == 7
    assert after["RevisionId"] == before["RevisionId"]


# ---- code packages ----

INVALID_ZIP = ("Could not unzip uploaded file. Please check your file, then try to upload "
               "again.")


@pytest.mark.parametrize("content", [b"this is not a zip file", b"PK\x03\x04truncated",
                                     make_zip({"app.py": ECHO})[:-30]],
                         ids=["text", "zip-header-only", "truncated-zip"])
def test_create_invalid_zip(lam, content):
    name = unique_name("badzip")

    response = error_of(lam.create_function, **create_kwargs(name, Code={"ZipFile": content}))

    assert_user_error(response, 400, "InvalidParameterValueException", INVALID_ZIP)
    assert_absent(lam, name)


def test_update_code_invalid_zip_keeps_code(lam):
    name = create_function(lam, {"app.py": ECHO})
    before = lam.get_function_configuration(FunctionName=name)

    response = error_of(lam.update_function_code, FunctionName=name, ZipFile=b"not a zip")

    assert_user_error(response, 400, "InvalidParameterValueException", INVALID_ZIP)
    after = lam.get_function_configuration(FunctionName=name)
    assert after["CodeSha256"] == before["CodeSha256"]
    _, body = invoke_json(lam, name, {"a": 1})
    assert body == {"echo": {"a": 1}}


def test_create_request_over_limit(lam):
    """A CreateFunction body over 70167211 bytes is rejected before it is read."""
    name = unique_name("huge")
    # 52,700,001 bytes encode to 70,266,668 base64 characters, so the JSON body is over the limit.
    zip_bytes = os.urandom(52_700_001)

    response = error_of(lam.create_function, **create_kwargs(name, Code={"ZipFile": zip_bytes}))

    # As recorded against AWS: no Type or message beside Error.
    assert_error(response, 413, "RequestEntityTooLargeException",
                 "Request must be smaller than 70167211 bytes for the CreateFunction operation",
                 {})
    assert_absent(lam, name)


# ---- invoke payloads ----

@pytest.fixture(scope="module")
def length_function(server):
    return create_function(server.client(), {"app.py": LENGTH}, name=unique_name("length"))


def json_string_payload(size):
    """Returns a JSON string document of exactly size bytes."""
    return b'"' + b"a" * (size - 2) + b'"'


def test_sync_payload_at_limit_accepted(lam, length_function):
    response = lam.invoke(FunctionName=length_function, Payload=json_string_payload(6291456))

    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"length": 6291454}


def test_sync_payload_over_limit(lam, length_function):
    response = error_of(lam.invoke, FunctionName=length_function,
                        Payload=json_string_payload(6291457))

    message = "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["Error"]["Message"] == message


def test_async_payload_at_limit_accepted(lam, length_function):
    response = lam.invoke(FunctionName=length_function, InvocationType="Event",
                          Payload=json_string_payload(1048576))

    assert response["StatusCode"] == 202


def test_async_payload_over_limit(lam, length_function):
    response = error_of(lam.invoke, FunctionName=length_function, InvocationType="Event",
                        Payload=json_string_payload(1048577))

    # AWS words this limit differently from the synchronous one.
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["Error"]["Message"] == (
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)")


def test_async_payload_far_over_limit(lam, length_function):
    response = error_of(lam.invoke, FunctionName=length_function, InvocationType="Event",
                        Payload=json_string_payload(3 * 1048576))

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"


# Raw payloads and AWS's messages for them, recorded against AWS. They are JSON documents
# that the AWS CLI v2 sent base64-decoded because --cli-binary-format was not given.
ENCODING_ERRORS = [
    pytest.param(
        b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt",
        "Could not parse request body into json: Could not parse payload into json: Invalid "
        "UTF-8 start byte 0x87\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_"
        "LOCATION` disabled); line: 1, column: 3]", id="invalid-utf8"),
    pytest.param(
        b"\x99\xeb,j\x07\xa1zYh",
        "Could not parse request body into json: Could not parse payload into json: Unexpected "
        "character ((CTRL-CHAR, code 153)): expected a valid value (JSON String, Number, Array, "
        "Object or token 'null', 'true' or 'false')\n at [Source: REDACTED (`StreamReadFeature."
        "INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]", id="control-character"),
]


@pytest.mark.parametrize("payload, message", ENCODING_ERRORS)
def test_invoke_payload_encoding_error(lam, length_function, payload, message):
    response = error_of(lam.invoke, FunctionName=length_function, Payload=payload)

    assert_user_error(response, 400, "InvalidRequestContentException", message)


@pytest.mark.parametrize("payload", [b"{not json", b'{"a": 1', b"[1, 2,]", b'{"a": 1} trailing',
                                     b"\xff\xfe"])
def test_invoke_invalid_json(lam, length_function, payload):
    response = error_of(lam.invoke, FunctionName=length_function, Payload=payload)

    # NOTE: AWS's message continues with its JSON parser's (Jackson's) own description and
    # position, which are not reproduced here. Only the fixed prefix is asserted.
    prefix = "Could not parse request body into json: Could not parse payload into json: "
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidRequestContentException"
    assert response["Error"]["Message"].startswith(prefix), response["Error"]["Message"]
    assert extra_fields(response) == {"Type": "User", "message": response["Error"]["Message"]}


def test_invoke_invalid_json_async(lam, length_function):
    response = error_of(lam.invoke, FunctionName=length_function, InvocationType="Event",
                        Payload=b"{broken")

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidRequestContentException"


@pytest.mark.parametrize("payload, expected", [
    (b"", {}), (b"null", None), (b"42", 42), (b'"text"', "text"), (b"[1, 2]", [1, 2]),
    ('{"snow": "\u2603"}'.encode(), {"snow": "\u2603"}),
])
def test_invoke_valid_json_values(lam, witness, payload, expected):
    name, _ = witness

    response = lam.invoke(FunctionName=name, Payload=payload)

    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"echo": expected}


def test_invoke_invalid_invocation_type(raw_lam, witness):
    name, _ = witness

    response = error_of(raw_lam.invoke, FunctionName=name, InvocationType="Sometimes",
                        Payload=b"{}")

    assert_validation_error(
        response,
        "1 validation error detected: Value 'Sometimes' at 'invocationType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]")


def test_code_sha256_matches_upload(lam):
    package = make_zip({"app.py": ECHO, "data.txt": "x" * 1000})
    name = unique_name("sha")

    response = lam.create_function(**create_kwargs(name, Code={"ZipFile": package}))

    assert response["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert response["CodeSize"] == len(package)
