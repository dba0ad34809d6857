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
    kept = lam.get_function_url_config(FunctionName=name, Qualifier=alias)
    assert kept["FunctionArn"] == f"{function_arn(name)}:{alias}"


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
