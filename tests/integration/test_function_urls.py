"""Lambda function URLs: the control operations through boto3 and the AWS CLI, and invocations
through real HTTP clients (requests and curl) on the host and path forms of the URL.

Expected messages, status codes and response shapes are the ones AWS returned for the same
calls. Debian's botocore 1.29 predates InvokeMode, so calls that set it are signed by hand.
"""

import base64
import datetime
import json
import re
import subprocess
import time

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create_function, unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"
URL_PATTERN = re.compile(r"^http://([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:(\d+)/$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
QUALIFIER_RULE = ("Member must satisfy regular expression pattern: "
                  r"((?!^\d+$)^[0-9a-zA-Z-_]+$)")

ECHO = """import json


def handler(event, context):
    return {"event": event}
"""


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def error_of(call, **kwargs):
    """Runs a client call that must fail and returns (HTTP status, error code, message)."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def signed(server, method, path, body=None, service="lambda", headers=None, host=None):
    """Sends a SigV4-signed request to the server with `requests`; returns the response."""
    key, secret = server.credentials()
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    url = server.endpoint + path
    request = AWSRequest(method=method, url=url, data=data, headers=dict(headers or {}))
    if host:
        request.headers["Host"] = host
    SigV4Auth(Credentials(key, secret), service, REGION).add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers.items()),
                            timeout=60)


def published_alias(lam, name, alias="live"):
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name=alias, FunctionVersion=version)
    return alias


# ---- Create, Get, Update, Delete ----

def test_url_config_lifecycle(lam, server):
    name = create_function(lam, {"app.py": ECHO})
    path = f"/2021-10-31/functions/{name}/url"
    response = signed(server, "POST", path, {"AuthType": "NONE"})
    assert response.status_code == 201
    created = response.json()
    # AWS leaves InvokeMode, LastModifiedTime and Cors out of a create that did not set them.
    assert set(created) == {"AuthType", "CreationTime", "FunctionArn", "FunctionUrl"}
    match = URL_PATTERN.match(created["FunctionUrl"])
    assert match, created["FunctionUrl"]
    assert int(match.group(2)) == server.port
    assert created["FunctionArn"] == function_arn(name)
    assert created["AuthType"] == "NONE"
    assert TIMESTAMP.match(created["CreationTime"])

    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
        409, "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {function_arn(name)}]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function")

    got = signed(server, "GET", path).json()
    assert set(got) == {"AuthType", "CreationTime", "FunctionArn", "FunctionUrl", "InvokeMode",
                        "LastModifiedTime"}
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["InvokeMode"] == "BUFFERED"
    assert got["CreationTime"] == created["CreationTime"]
    assert TIMESTAMP.match(got["LastModifiedTime"])
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == created["FunctionUrl"]

    response = signed(server, "PUT", path, {"AuthType": "AWS_IAM"})
    assert response.status_code == 200
    updated = response.json()
    assert set(updated) == {"AuthType", "CreationTime", "FunctionArn", "FunctionUrl",
                            "LastModifiedTime"}
    assert updated["AuthType"] == "AWS_IAM"
    assert updated["FunctionUrl"] == created["FunctionUrl"]
    assert updated["LastModifiedTime"] >= got["LastModifiedTime"]
    assert lam.update_function_url_config(FunctionName=name, AuthType="NONE")["AuthType"] == "NONE"

    deleted = lam.delete_function_url_config(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lam.get_function_url_config, FunctionName=name) == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")


def test_url_config_exceptions(server):
    lam = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    name = create_function(lam, {"app.py": ECHO})
    alias = published_alias(lam, name, "urlalias")
    missing_arn = function_arn("doesnotexist")

    def qualifier_error(value):
        return (400, "ValidationException",
                f"1 validation error detected: Value '{value}' at 'qualifier' failed to satisfy "
                f"constraint: {QUALIFIER_RULE}")

    mismatch = (400, "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified "
                "qualifier.")
    cases = [
        ("name_doesnotexist", dict(FunctionName="doesnotexist"), "missing"),
        ("arn_doesnotexist", dict(FunctionName=missing_arn), "missing"),
        ("name_doesnotexist_qualifier", dict(FunctionName="doesnotexist", Qualifier="1"),
         qualifier_error("1")),
        ("qualifier_version", dict(FunctionName=name, Qualifier="1"), qualifier_error("1")),
        ("qualifier_version_doesnotexist", dict(FunctionName=name, Qualifier="2"),
         qualifier_error("2")),
        ("qualifier_alias_doesnotexist", dict(FunctionName=name, Qualifier="v1"), "missing"),
        ("qualifier_alias_doesnotmatch_arn",
         dict(FunctionName=f"{name}:{alias}-doesnotmatch", Qualifier=alias), mismatch),
        ("qualifier_latest", dict(FunctionName=name, Qualifier="$LATEST"),
         qualifier_error("$LATEST")),
    ]
    function_missing = (404, "ResourceNotFoundException", "Function does not exist")
    resource_missing = (404, "ResourceNotFoundException",
                        "The resource you requested does not exist.")
    operations = [
        (lam.create_function_url_config, dict(AuthType="NONE"), function_missing),
        (lam.get_function_url_config, {}, resource_missing),
        (lam.delete_function_url_config, {}, resource_missing),
        (lam.update_function_url_config, dict(AuthType="AWS_IAM"), function_missing),
    ]
    for call, extra, missing in operations:
        for label, args, expected in cases:
            if expected == "missing":
                expected = missing
            assert error_of(call, **args, **extra) == expected, (call.__name__, label)
    # No config exists yet for the function itself.
    for call, extra in [(lam.get_function_url_config, {}), (lam.delete_function_url_config, {}),
                        (lam.update_function_url_config, dict(AuthType="AWS_IAM"))]:
        assert error_of(call, FunctionName=name, **extra) == resource_missing, call.__name__


def test_url_config_validation(server):
    lam = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    name = create_function(lam, {"app.py": ECHO})
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="BASIC") == (
        400, "ValidationException",
        "1 validation error detected: Value 'BASIC' at 'authType' failed to satisfy constraint: "
        "Member must satisfy enum value set: [AWS_IAM, NONE]")
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE",
                    Cors={"MaxAge": 86401}) == (
        400, "ValidationException",
        "1 validation error detected: Value '86401' at 'cors.maxAge' failed to satisfy "
        "constraint: Member must have value less than or equal to 86400")
    methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    assert error_of(lam.create_function_url_config, FunctionName=name, AuthType="NONE",
                    Cors={"AllowMethods": methods}) == (
        400, "ValidationException",
        "1 validation error detected: Value '[GET, PUT, POST, DELETE, PATCH, HEAD, OPTIONS]' at "
        "'cors.allowMethods' failed to satisfy constraint: Member must have length less than or "
        "equal to 6")
    # Nothing was stored by the rejected calls.
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_invoke_mode(server):
    """InvokeMode as AWS records it: shown by Create and Update once set, kept when absent."""
    name = create_function(server.client(), {"app.py": ECHO})
    path = f"/2021-10-31/functions/{name}/url"

    invalid = signed(server, "POST", path, {"AuthType": "NONE", "InvokeMode": "UNKNOWN"})
    assert invalid.status_code == 400
    assert invalid.headers["x-amzn-ErrorType"] == "ValidationException"
    assert invalid.json()["message"] == (
        "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy "
        "constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]")

    created = signed(server, "POST", path, {"AuthType": "NONE", "InvokeMode": "BUFFERED"})
    assert created.status_code == 201
    assert created.json()["InvokeMode"] == "BUFFERED"

    modified = signed(server, "PUT", path, {"InvokeMode": "RESPONSE_STREAM"})
    assert modified.status_code == 200
    assert modified.json()["InvokeMode"] == "RESPONSE_STREAM"
    assert signed(server, "GET", path).json()["InvokeMode"] == "RESPONSE_STREAM"

    unchanged = signed(server, "PUT", path, {})
    assert unchanged.status_code == 200
    assert unchanged.json()["InvokeMode"] == "RESPONSE_STREAM"
    assert unchanged.json()["AuthType"] == "NONE"
    assert signed(server, "GET", path).json()["InvokeMode"] == "RESPONSE_STREAM"


def test_cors_config_round_trip(lam):
    name = create_function(lam, {"app.py": ECHO})
    cors = {"AllowCredentials": True, "AllowHeaders": ["x-custom"], "AllowMethods": ["GET", "POST"],
            "AllowOrigins": ["https://example.com"], "ExposeHeaders": ["x-trace"], "MaxAge": 300}
    created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=cors)
    assert created["Cors"] == cors
    assert lam.get_function_url_config(FunctionName=name)["Cors"] == cors
    # A Cors member in an update replaces the whole Cors configuration.
    updated = lam.update_function_url_config(FunctionName=name, Cors={"AllowOrigins": ["*"]})
    assert updated["Cors"] == {"AllowOrigins": ["*"]}
    assert updated["AuthType"] == "NONE"
    assert lam.get_function_url_config(FunctionName=name)["Cors"] == {"AllowOrigins": ["*"]}


# ---- ListFunctionUrlConfigs ----

def test_url_config_list_paging(lam, server):
    assert error_of(lam.list_function_url_configs, FunctionName="doesnotexist") == (
        404, "ResourceNotFoundException", "Function does not exist")
    name = create_function(lam, {"app.py": ECHO})
    alias = published_alias(lam, name, "urlalias")
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []

    plain = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    aliased = lam.create_function_url_config(FunctionName=f"{name}:{alias}", Qualifier=alias,
                                             AuthType="NONE")
    assert aliased["FunctionArn"] == f"{function_arn(name)}:{alias}"
    assert aliased["FunctionUrl"] != plain["FunctionUrl"]

    listed = signed(server, "GET", f"/2021-10-31/functions/{name}/urls").json()
    assert "NextMarker" not in listed
    assert [c["FunctionArn"] for c in listed["FunctionUrlConfigs"]] == [
        function_arn(name), f"{function_arn(name)}:{alias}"]
    for entry in listed["FunctionUrlConfigs"]:
        assert set(entry) == {"AuthType", "CreationTime", "FunctionArn", "FunctionUrl",
                              "InvokeMode", "LastModifiedTime"}
        assert entry["InvokeMode"] == "BUFFERED"

    first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
    assert [c["FunctionUrl"] for c in first["FunctionUrlConfigs"]] == [plain["FunctionUrl"]]
    second = lam.list_function_url_configs(FunctionName=name, MaxItems=1,
                                           Marker=first["NextMarker"])
    assert [c["FunctionUrl"] for c in second["FunctionUrlConfigs"]] == [aliased["FunctionUrl"]]
    assert "NextMarker" not in second


def test_delete_without_qualifier_keeps_alias_url(lam):
    name = create_function(lam, {"app.py": ECHO})
    alias = published_alias(lam, name, "test-alias")
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    lam.create_function_url_config(FunctionName=name, Qualifier=alias, AuthType="NONE")
    lam.delete_function_url_config(FunctionName=name)
    assert error_of(lam.get_function_url_config, FunctionName=name)[0] == 404
    alias_config = lam.get_function_url_config(FunctionName=name, Qualifier=alias)
    assert alias_config["FunctionArn"] == f"{function_arn(name)}:{alias}"


def test_delete_function_removes_urls(lam):
    name = create_function(lam, {"app.py": ECHO})
    alias = published_alias(lam, name)
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    lam.create_function_url_config(FunctionName=name, Qualifier=alias, AuthType="NONE")
    lam.delete_function(FunctionName=name)
    create_function(lam, {"app.py": ECHO}, name=name)
    assert lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"] == []


def test_url_config_survives_restart(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = create_function(lam, {"app.py": ECHO})
    created = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM",
                                             Cors={"AllowOrigins": ["https://a.example"]})
    srv.stop()
    srv.start(port=srv.port)
    got = srv.client().get_function_url_config(FunctionName=name)
    assert got["FunctionUrl"] == created["FunctionUrl"]
    assert got["AuthType"] == "AWS_IAM"
    assert got["Cors"] == {"AllowOrigins": ["https://a.example"]}
    assert got["CreationTime"] == created["CreationTime"]


def test_url_config_cli(server, lam):
    name = create_function(lam, {"app.py": ECHO})
    created = json.loads(server.aws("lambda", "create-function-url-config", "--function-name",
                                    name, "--auth-type", "NONE").stdout)
    assert URL_PATTERN.match(created["FunctionUrl"])
    listed = json.loads(server.aws("lambda", "list-function-url-configs", "--function-name",
                                   name).stdout)
    assert [c["FunctionUrl"] for c in listed["FunctionUrlConfigs"]] == [created["FunctionUrl"]]
    server.aws("lambda", "delete-function-url-config", "--function-name", name)
    missing = server.aws("lambda", "get-function-url-config", "--function-name", name,
                         check=False)
    assert missing.returncode != 0
    assert ("An error occurred (ResourceNotFoundException) when calling the "
            "GetFunctionUrlConfig operation: The resource you requested does not exist."
            in missing.stderr)


# ---- Invocation through the URL ----

EVENT_ECHO = """import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event),
            "headers": {"x-request-id": context.aws_request_id}}
"""

# Returns the value named by the request path, one of each kind a handler can return.
RETURNS = """import base64


VALUES = {
    "dict": {"hello": "world"},
    "http-response": {"statusCode": 200, "body": "body123"},
    "http-response-json": {"statusCode": 200, "body": '{"hello": "world"}'},
    "list-mixed": ["hello", 3, True],
    "string": "hello",
    "integer": 3,
    "float": 3.1,
    "boolean": True,
    "structured": {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "My-Custom-Header": "Custom Value"},
        "cookies": ["Cookie_1=Value1; Max-Age=78000", "Cookie_2=Value2"],
        "body": base64.b64encode(b"binary \\x00\\xff body").decode(),
        "isBase64Encoded": True,
    },
    "teapot": {"statusCode": "418", "body": "i'm a teapot"},
}


def handler(event, context):
    return VALUES[event["rawPath"].strip("/")]
"""

FAILS = """import time


def handler(event, context):
    if event["rawPath"] == "/sleep":
        time.sleep(5)
    raise RuntimeError("boom")
"""

VERSIONED = """import os


def handler(event, context):
    return {"version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            "invoked_arn": context.invoked_function_arn}
"""

FORBIDDEN = {"Message": "Forbidden. For troubleshooting Function URL authorization issues, see: "
                        "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}


def url_id_of(function_url):
    return URL_PATTERN.match(function_url).group(1)


def call_url(server, function_url, path="/", method="GET", form="host", headers=None, **kwargs):
    """Sends a request to a function URL on 127.0.0.1, by its host name or by the path form."""
    url_id = url_id_of(function_url)
    headers = dict(headers or {})
    if form == "host":
        url = f"{server.endpoint}{path}"
        headers["Host"] = f"{url_id}.lambda-url.{REGION}.localhost:{server.port}"
    else:
        url = f"{server.endpoint}/_aws/lambda-url/{url_id}{path}"
    return requests.request(method, url, headers=headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def echo_url(server):
    lam = server.client()
    name = create_function(lam, {"app.py": EVENT_ECHO})
    return lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]


@pytest.fixture(scope="module")
def returns_url(server):
    lam = server.client()
    name = create_function(lam, {"app.py": RETURNS})
    return lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]


def test_url_event_exact(server, echo_url):
    url_id = url_id_of(echo_url)
    host = f"{url_id}.lambda-url.{REGION}.localhost:{server.port}"
    response = call_url(
        server, echo_url, "/my/path?parameter1=value1&parameter1=value2&parameter2=value",
        method="POST", data="Hello from client!",
        headers={"header1": "value1", "Cookie": "cookie1; cookie2", "Content-Type": "text/plain",
                 "User-Agent": "agent"})
    assert response.status_code == 200
    event = response.json()
    request_id = response.headers["x-amzn-RequestId"]

    # The function's context and the event carry the request id of the HTTP response.
    assert response.headers["x-request-id"] == request_id
    context = event["requestContext"]
    assert re.match(r"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000$", context.pop("time"))
    assert isinstance(context.pop("timeEpoch"), int)

    assert event == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/my/path",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["cookie1", "cookie2"],
        "headers": {
            "user-agent": "agent",
            "accept-encoding": "gzip, deflate",
            "accept": "*/*",
            "host": host,
            "header1": "value1",
            "content-type": "text/plain",
            "content-length": "18",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": str(server.port),
            "x-forwarded-proto": "http",
        },
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": url_id,
            "domainName": f"{url_id}.lambda-url.{REGION}.localhost",
            "domainPrefix": url_id,
            "http": {"method": "POST", "path": "/my/path", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "agent"},
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": "Hello from client!",
        "isBase64Encoded": False,
    }


def test_url_path_form(server, echo_url):
    url_id = url_id_of(echo_url)
    event = call_url(server, echo_url, "/a/b%2Fc?q=1", form="path").json()
    assert event["rawPath"] == "/a/b%2Fc"
    assert event["rawQueryString"] == "q=1"
    assert event["requestContext"]["http"]["path"] == "/a/b%2Fc"
    assert event["requestContext"]["domainName"] == f"{url_id}.lambda-url.{REGION}.localhost"
    bare = call_url(server, echo_url, "", form="path").json()
    assert bare["rawPath"] == "/"
    assert "body" not in bare
    assert bare["isBase64Encoded"] is False


def test_url_binary_body_is_base64(server, echo_url):
    payload = bytes(range(256))
    event = call_url(server, echo_url, "/upload", method="PUT", data=payload,
                     headers={"Content-Type": "application/octet-stream"}).json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_url_with_curl(server, echo_url):
    """curl resolves *.localhost to the loopback address itself, so the URL works as given."""
    out = subprocess.run(["curl", "-sS", "--max-time", "60", "-i", echo_url + "curl?x=1"],
                         capture_output=True, text=True, timeout=90, check=True).stdout
    # Text mode turns the CRLF line ends into "\n".
    head, _, body = out.partition("\n\n")
    assert head.startswith("HTTP/1.1 200")
    event = json.loads(body)
    assert event["rawPath"] == "/curl"
    assert event["headers"]["user-agent"].startswith("curl/")


@pytest.mark.parametrize("kind, body, content_length", [
    ("dict", '{"hello":"world"}', "17"),
    ("http-response", "body123", "7"),
    ("http-response-json", '{"hello": "world"}', "18"),
    ("list-mixed", '["hello",3,true]', "16"),
    ("string", "hello", "5"),
    ("integer", "3", "1"),
    ("float", "3.1", "3"),
    ("boolean", "true", "4"),
])
def test_url_return_values(server, returns_url, kind, body, content_length):
    response = requests.post(f"{server.endpoint}/_aws/lambda-url/{url_id_of(returns_url)}/{kind}"
                             "?test_param=test_value", data=b"{'key':'value'}", timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == content_length
    assert response.text == body


def test_url_structured_response(server, returns_url):
    response = call_url(server, returns_url, "/structured")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["My-Custom-Header"] == "Custom Value"
    assert response.raw.headers.getlist("Set-Cookie") == [
        "Cookie_1=Value1; Max-Age=78000", "Cookie_2=Value2"]
    assert response.content == b"binary \x00\xff body"

    teapot = call_url(server, returns_url, "/teapot")
    assert teapot.status_code == 418
    assert teapot.text == "i'm a teapot"


def test_url_function_error_and_timeout(server):
    lam = server.client()
    name = create_function(lam, {"app.py": FAILS}, Timeout=1)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    for path in ["/", "/sleep"]:
        response = call_url(server, url, path, method="POST", data=b"{}",
                            headers={"User-Agent": "python-requests/testing"})
        assert response.status_code == 502, path
        assert response.text == "Internal Server Error", path


def test_url_unknown_id(server):
    response = requests.get(f"{server.endpoint}/_aws/lambda-url/0123456789abcdefghijklmnopqrstuv/",
                            timeout=60)
    assert response.status_code == 403
    assert response.text == '{"Message":null}'
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_url_aws_iam(server):
    lam = server.client()
    name = create_function(lam, {"app.py": EVENT_ECHO})
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
    url_id = url_id_of(url)
    host = f"{url_id}.lambda-url.{REGION}.localhost:{server.port}"

    unsigned = call_url(server, url, "/private")
    assert unsigned.status_code == 403
    assert unsigned.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert unsigned.json() == FORBIDDEN

    # A signature for another service does not authorize a function URL.
    other = signed(server, "GET", "/private", service="execute-api", host=host)
    assert other.status_code == 403
    assert other.json() == FORBIDDEN

    response = signed(server, "POST", "/private?a=1", body={"k": "v"}, host=host,
                      headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    event = response.json()
    key, _ = server.credentials()
    assert event["requestContext"]["accountId"] == ACCOUNT
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == key
    assert event["body"] == '{"k": "v"}'

    by_path = signed(server, "GET", f"/_aws/lambda-url/{url_id}/private")
    assert by_path.status_code == 200
    assert by_path.json()["rawPath"] == "/private"


def test_url_cors(server):
    lam = server.client()
    name = create_function(lam, {"app.py": EVENT_ECHO})
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["POST"],
            "AllowHeaders": ["x-custom"], "ExposeHeaders": ["x-request-id"], "MaxAge": 300}
    url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM",
                                         Cors=cors)["FunctionUrl"]
    # The preflight needs no signature, even for an AWS_IAM URL.
    preflight = call_url(server, url, "/items", method="OPTIONS", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-custom"})
    # NOTE: HTTP APIs return 204 for a preflight; no record shows a function URL's status.
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert preflight.headers["Access-Control-Max-Age"] == "300"

    host = f"{url_id_of(url)}.lambda-url.{REGION}.localhost:{server.port}"
    response = signed(server, "POST", "/items", body={}, host=host,
                      headers={"Origin": "https://example.com"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert response.headers["Access-Control-Expose-Headers"] == "x-request-id"


def test_url_alias_qualifier(server):
    lam = server.client()
    name = create_function(lam, {"app.py": VERSIONED})
    alias = published_alias(lam, name, "live")
    lam.update_function_configuration(FunctionName=name, Description="changed after publish")
    url = lam.create_function_url_config(FunctionName=name, Qualifier=alias,
                                         AuthType="NONE")["FunctionUrl"]
    body = call_url(server, url, "/").json()
    assert body == {"version": "1", "invoked_arn": f"{function_arn(name)}:{alias}"}

    # The config outlives its alias, and AWS then denies requests to the URL.
    lam.delete_alias(FunctionName=name, Name=alias)
    denied = call_url(server, url, "/")
    assert denied.status_code == 403
    assert denied.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert denied.json() == FORBIDDEN
    assert lam.get_function_url_config(FunctionName=name, Qualifier=alias)["FunctionUrl"] == url


def test_url_payload_limit(server, echo_url):
    too_large = call_url(server, echo_url, "/", method="POST", data=b"a" * (6291456 + 1),
                         headers={"Content-Type": "text/plain"})
    assert too_large.status_code == 413
    assert too_large.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    # A body under the limit whose event passes 6 MB once base64 encoded is rejected too.
    encoded_too_large = call_url(server, echo_url, "/", method="POST", data=b"\x00" * 5000000,
                                 headers={"Content-Type": "application/octet-stream"})
    assert encoded_too_large.status_code == 413
    fits = call_url(server, echo_url, "/", method="POST", data=b"a" * 1000000,
                    headers={"Content-Type": "text/plain"})
    assert fits.status_code == 200
    assert len(fits.json()["body"]) == 1000000


def test_delete_url_config_stops_serving(server):
    lam = server.client()
    name = create_function(lam, {"app.py": EVENT_ECHO})
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    assert call_url(server, url, "/").status_code == 200
    lam.delete_function_url_config(FunctionName=name)
    after_delete = call_url(server, url, "/")
    assert after_delete.status_code == 403
    assert after_delete.text == '{"Message":null}'


# ---- AddPermission, GetPolicy, RemovePermission (stored, not evaluated) ----

def test_permission_for_function_url(lam):
    name = create_function(lam, {"app.py": ECHO})
    lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    added = lam.add_permission(FunctionName=name, StatementId="urlPermission",
                               Action="lambda:InvokeFunctionUrl", Principal="*",
                               FunctionUrlAuthType="NONE")
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = {
        "Sid": "urlPermission",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunctionUrl",
        "Resource": function_arn(name),
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    }
    assert json.loads(added["Statement"]) == statement

    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::test-bucket",
                       SourceAccount=ACCOUNT)
    policy = lam.get_policy(FunctionName=name)
    assert json.loads(policy["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [statement, {
            "Sid": "s3",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": function_arn(name),
            "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                          "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::test-bucket"}},
        }],
    }

    assert error_of(lam.add_permission, FunctionName=name, StatementId="s3",
                    Action="lambda:InvokeFunction", Principal="s3.amazonaws.com") == (
        409, "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="other",
                    Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                    RevisionId="wrong") == (
        412, "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API "
        "to retrieve the latest Revision Id")

    assert error_of(lam.remove_permission, FunctionName=name, StatementId="non-existent") == (
        404, "ResourceNotFoundException",
        "Statement non-existent is not found in resource policy.")
    lam.remove_permission(FunctionName=name, StatementId="s3")
    remaining = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert [s["Sid"] for s in remaining] == ["urlPermission"]
    lam.remove_permission(FunctionName=name, StatementId="urlPermission")
    assert error_of(lam.get_policy, FunctionName=name) == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")

    # Policies are not evaluated, so the URL responds without a statement that allows it.
    url = lam.get_function_url_config(FunctionName=name)["FunctionUrl"]
    assert requests.get(f"http://127.0.0.1:{URL_PATTERN.match(url).group(2)}"
                        f"/_aws/lambda-url/{url_id_of(url)}/", timeout=60).status_code == 200


def test_permission_errors(lam):
    name = create_function(lam, {"app.py": ECHO})
    assert error_of(lam.add_permission, FunctionName="doesnotexist", StatementId="s",
                    Action="lambda:InvokeFunction", Principal="*") == (
        404, "ResourceNotFoundException", f"Function not found: {function_arn('doesnotexist')}")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="example.com",
                    Action="lambda:InvokeFunction", Principal="*") == (
        400, "ValidationException",
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="s",
                    Action="lambda:InvokeFunction", Principal="*", Qualifier="$LATEST") == (
        400, "InvalidParameterValueException",
        "We currently do not support adding policies for $LATEST.")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="s",
                    Action="lambda:InvokeFunction", Principal="invalid principal") == (
        400, "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="s",
                    Action="lambda:InvokeFunction", Principal="*", Qualifier="42") == (
        404, "ResourceNotFoundException", f"Function not found: {function_arn(name)}:42")
    assert error_of(lam.add_permission, FunctionName=name, StatementId="s",
                    Action="lambda:InvokeFunction", Principal="*",
                    Qualifier="alias-doesnotexist") == (
        404, "ResourceNotFoundException",
        f"Cannot find alias arn: {function_arn(name)}:alias-doesnotexist")
    assert error_of(lam.remove_permission, FunctionName="doesnotexist", StatementId="s") == (
        404, "ResourceNotFoundException", f"No policy found for: {function_arn('doesnotexist')}")
    assert error_of(lam.remove_permission, FunctionName=name, StatementId="s") == (
        404, "ResourceNotFoundException", "No policy is associated with the given resource.")
    assert error_of(lam.get_policy, FunctionName="doesnotexist") == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.")


def test_permission_on_alias_and_account(lam):
    name = create_function(lam, {"app.py": ECHO})
    alias = published_alias(lam, name, "live")
    added = lam.add_permission(FunctionName=name, Qualifier=alias, StatementId="account",
                               Action="lambda:InvokeFunction", Principal=ACCOUNT)
    assert json.loads(added["Statement"]) == {
        "Sid": "account", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "lambda:InvokeFunction", "Resource": f"{function_arn(name)}:{alias}"}
    # The alias has its own policy; the function itself has none.
    assert error_of(lam.get_policy, FunctionName=name)[0] == 404
    policy = json.loads(lam.get_policy(FunctionName=name, Qualifier=alias)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["account"]


def test_permissions_survive_restart_and_go_with_function(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = create_function(lam, {"app.py": ECHO})
    lam.add_permission(FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    before = lam.get_policy(FunctionName=name)
    srv.stop()
    srv.start(port=srv.port)
    lam = srv.client()
    after = lam.get_policy(FunctionName=name)
    assert after["Policy"] == before["Policy"]
    assert after["RevisionId"] == before["RevisionId"]
    lam.delete_function(FunctionName=name)
    create_function(lam, {"app.py": ECHO}, name=name)
    assert error_of(lam.get_policy, FunctionName=name)[0] == 404
