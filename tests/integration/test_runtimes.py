"""Handlers in each shipped runtime (Python, Node.js ES modules and CommonJS, a shell
`bootstrap` on provided.al2023) return their results, and see the context and environment
variables AWS gives them.

Context values follow AWS's recordings in LocalStack's `test_lambda.snapshot.json`
(`test_lambda_with_context`, `test_invocation_with_qualifier`): memory limits are strings, and
Node.js sees the ClientContext JSON exactly as the caller sent it.
"""

import base64
import json
import re

from conftest import create_function_from, invoke_json

ACCOUNT = "000000000000"
REGION = "us-east-1"
LOG_STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
RUNTIME_API = re.compile(r"^127\.0\.0\.1:\d+$")


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def request_id(response):
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def test_python_context(lam):
    name = create_function_from(lam, "python/introspect", Timeout=5, MemorySize=256)

    response, body = invoke_json(lam, name, {"hello": "python"})

    context = body["context"]
    assert body["event"] == {"hello": "python"}
    assert context["aws_request_id"] == request_id(response)
    assert context["function_name"] == name
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == function_arn(name)
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert LOG_STREAM.match(context["log_stream_name"]), context["log_stream_name"]
    assert 0 < context["remaining_time_in_millis"] <= 5000
    assert context["client_context"] is None


def test_python_environment_variables(lam):
    name = create_function_from(lam, "python/introspect", MemorySize=512,
                                Environment={"Variables": {"APP_MODE": "test",
                                                           "EMPTY_ONE": ""}})

    _, body = invoke_json(lam, name)

    environment = body["environment"]
    assert environment["_HANDLER"] == "app.handler"
    assert environment["LAMBDA_TASK_ROOT"] == "/var/task"
    assert environment["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert environment["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert environment["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert environment["AWS_LAMBDA_LOG_STREAM_NAME"] == body["context"]["log_stream_name"]
    assert LOG_STREAM.match(environment["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert environment["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environment["AWS_REGION"] == REGION
    assert environment["AWS_DEFAULT_REGION"] == REGION
    assert environment["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert RUNTIME_API.match(environment["AWS_LAMBDA_RUNTIME_API"])
    assert environment["TZ"] == ":UTC"
    assert environment["LANG"] == "en_US.UTF-8"
    assert environment["APP_MODE"] == "test"
    assert environment["EMPTY_ONE"] == ""


def test_python_handler_in_subfolder(lam):
    name = create_function_from(lam, "python/submodule", handler="pkg/mod.fn")

    _, body = invoke_json(lam, name, {"numbers": [1, 2, 39]})

    assert body == {"module": "pkg.mod", "sum": 42}


def test_node_esm_handler(lam):
    name = create_function_from(lam, "node/esm", runtime="nodejs20.x", handler="index.handler",
                                Timeout=4)

    response, body = invoke_json(lam, name, {"hello": "esm"})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert body["event"] == {"hello": "esm"}
    assert body["context"]["awsRequestId"] == request_id(response)


def test_node_context(lam):
    name = create_function_from(lam, "node/esm", runtime="nodejs20.x", handler="index.handler",
                                Timeout=4, MemorySize=192)
    client_context = {"custom": {"foo": "bar"}, "client": {"snap": ["crackle", "pop"]},
                      "env": {"fizz": "buzz"}}

    response, body = invoke_json(
        lam, name, {},
        ClientContext=base64.b64encode(json.dumps(client_context).encode()).decode())

    context = body["context"]
    assert context["awsRequestId"] == request_id(response)
    assert context["functionName"] == name
    assert context["functionVersion"] == "$LATEST"
    assert context["invokedFunctionArn"] == function_arn(name)
    assert context["memoryLimitInMB"] == "192"
    assert context["logGroupName"] == f"/aws/lambda/{name}"
    assert LOG_STREAM.match(context["logStreamName"]), context["logStreamName"]
    assert context["callbackWaitsForEmptyEventLoop"] is True
    assert context["clientContext"] == client_context
    assert 0 < context["remainingTimeInMillis"] <= 4000


def test_node_environment_variables(lam):
    name = create_function_from(lam, "node/esm", runtime="nodejs20.x", handler="index.handler",
                                Environment={"Variables": {"APP_MODE": "node"}})

    _, body = invoke_json(lam, name)

    environment = body["environment"]
    assert environment["_HANDLER"] == "index.handler"
    assert environment["LAMBDA_TASK_ROOT"] == "/var/task"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert environment["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert environment["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert environment["AWS_LAMBDA_LOG_STREAM_NAME"] == body["context"]["logStreamName"]
    assert environment["AWS_REGION"] == REGION
    assert environment["AWS_DEFAULT_REGION"] == REGION
    assert environment["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert RUNTIME_API.match(environment["AWS_LAMBDA_RUNTIME_API"])
    assert environment["TZ"] == ":UTC"
    assert environment["APP_MODE"] == "node"


def test_node_callback_handler(lam):
    name = create_function_from(lam, "node/callback", runtime="nodejs20.x",
                                handler="index.handler")

    response, body = invoke_json(lam, name, {"value": 21})

    assert "FunctionError" not in response
    assert body == {"doubled": 42, "style": "callback"}


def test_node_handler_in_subfolder(lam):
    name = create_function_from(lam, "node/submodule", runtime="nodejs20.x",
                                handler="src/app.handler")

    _, body = invoke_json(lam, name, {"text": "lambent"})

    assert body == {"file": "src/app.js", "upper": "LAMBENT"}


def create_curl_bootstrap_function(lam):
    # Lambda runs `bootstrap` only if its zip entry is executable.
    return create_function_from(lam, "provided/curl_bootstrap", runtime="provided.al2023",
                                handler="function.handler", modes={"bootstrap": 0o755})


def test_provided_curl_bootstrap(lam):
    name = create_curl_bootstrap_function(lam)

    first, first_body = invoke_json(lam, name, "stressed")
    second, second_body = invoke_json(lam, name, "drawer")

    assert first["StatusCode"] == 200
    assert "FunctionError" not in first
    assert first_body == {"reversed": "desserts", "request_id": request_id(first),
                          "handler": "function.handler"}
    assert second_body == {"reversed": "reward", "request_id": request_id(second),
                           "handler": "function.handler"}


def test_provided_bootstrap_output_logged(lam):
    name = create_curl_bootstrap_function(lam)

    response, body = invoke_json(lam, name, "abc", LogType="Tail")

    assert body["reversed"] == "cba"
    tail = base64.b64decode(response["LogResult"]).decode()
    assert f"bootstrap received {request_id(response)}\n" in tail


def test_boto3_inside_handler(lam):
    """boto3 in the handler finds Lambent's endpoint and credentials with no code change."""
    name = create_function_from(lam, "python/sdk_client", Timeout=30)

    response, body = invoke_json(lam, name)

    assert "FunctionError" not in response, body
    assert name in body["names"]
    assert body["own_arn"] == function_arn(name)
    assert body["region"] == REGION
