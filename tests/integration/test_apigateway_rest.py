"""REST APIs (API Gateway v1) serving traffic: real HTTP clients against APIs made with boto3.

Each API has Lambda proxy integrations to an echo function that returns the event it received,
so the tests compare the payload 1.0 event field for field, and then the HTTP response for each
kind of return value and failure. REST APIs always take the stage as the first path segment.
"""

import base64
import json

import pytest

from apigw_support import (TRACE, UUID, api_host, check_clock_fields, function_arn, send,
                           send_head_only)
from conftest import create_function_from, unique_name


@pytest.fixture(scope="module")
def echo(server):
    lam = server.client()
    name = create_function_from(lam, "python/apigw_echo", Timeout=10)
    return function_arn(lam, name)


@pytest.fixture
def apigw(server):
    return server.client("apigateway")


def integration_uri(function_arn_value):
    return ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"{function_arn_value}/invocations")


def add_method(apigw, api_id, resource_id, method, target_arn, timeout_ms=None):
    apigw.put_method(restApiId=api_id, resourceId=resource_id, httpMethod=method,
                     authorizationType="NONE")
    params = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": method,
              "type": "AWS_PROXY", "integrationHttpMethod": "POST",
              "uri": integration_uri(target_arn)}
    if timeout_ms:
        params["timeoutInMillis"] = timeout_ms
    apigw.put_integration(**params)


def make_api(apigw, target_arn, stage="test", variables=None, binary_media_types=None,
             timeout_ms=None):
    """Creates /items/{id} (GET) and /{proxy+} (ANY) and deploys them to `stage`."""
    params = {"name": unique_name("rest")}
    if binary_media_types:
        params["binaryMediaTypes"] = binary_media_types
    api_id = apigw.create_rest_api(**params)["id"]
    resources = apigw.get_resources(restApiId=api_id)["items"]
    root_id = next(item["id"] for item in resources if item["path"] == "/")
    items = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="items")
    item = apigw.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    proxy = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="{proxy+}")
    add_method(apigw, api_id, item["id"], "GET", target_arn, timeout_ms)
    add_method(apigw, api_id, proxy["id"], "ANY", target_arn, timeout_ms)
    deployment = {"restApiId": api_id, "stageName": stage}
    if variables:
        deployment["variables"] = variables
    apigw.create_deployment(**deployment)
    return api_id, item["id"], proxy["id"]


def call(server, api_id, target, headers=(), method="GET", body=None):
    host = [("Host", api_host(api_id, server.port))]
    return send(server.port, method, target, host + list(headers), body)


def echoed(reply):
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def test_proxy_event_v1(server, echo, apigw):
    api_id, item_id, _ = make_api(apigw, echo, variables={"table": "items-test"})
    reply = call(server, api_id, "/test/items/a%20b?tag=x&tag=y&one=1",
                 headers=[("User-Agent", "rest-test/1"), ("X-Multi", "one"), ("X-Multi", "two"),
                          ("Accept", "*/*")])
    event = echoed(reply)
    assert reply.header("x-amzn-requestid")

    context = event["requestContext"]
    assert context.pop("requestId") == reply.header("x-amzn-requestid")
    assert UUID.match(reply.header("x-amzn-requestid"))
    assert context.pop("extendedRequestId") == reply.header("x-amz-apigw-id")
    assert len(reply.header("x-amz-apigw-id")) == 16
    check_clock_fields(context, "requestTime", "requestTimeEpoch")
    port = str(server.port)
    assert event["headers"].pop("X-Forwarded-Port") == port
    assert event["multiValueHeaders"].pop("X-Forwarded-Port") == [port]
    trace = event["headers"].pop("X-Amzn-Trace-Id")
    assert TRACE.match(trace)
    assert event["multiValueHeaders"].pop("X-Amzn-Trace-Id") == [trace]
    assert reply.header("x-lambda-trace") == trace + ";Sampled=0"
    host = api_host(api_id, server.port)
    assert event == {
        "resource": "/items/{id}",
        "path": "/items/a%20b",
        "httpMethod": "GET",
        "headers": {"Host": host, "User-Agent": "rest-test/1", "X-Multi": "two",
                    "Accept": "*/*", "X-Forwarded-For": "127.0.0.1",
                    "X-Forwarded-Proto": "http"},
        "multiValueHeaders": {"Host": [host], "User-Agent": ["rest-test/1"],
                              "X-Multi": ["one", "two"], "Accept": ["*/*"],
                              "X-Forwarded-For": ["127.0.0.1"], "X-Forwarded-Proto": ["http"]},
        "queryStringParameters": {"tag": "y", "one": "1"},
        "multiValueQueryStringParameters": {"tag": ["x", "y"], "one": ["1"]},
        "pathParameters": {"id": "a b"},
        "stageVariables": {"table": "items-test"},
        "requestContext": {
            "accountId": "000000000000",
            "resourceId": item_id,
            "path": "/test/items/a%20b",
            "stage": "test",
            "domainName": f"{api_id}.execute-api.localhost",
            "domainPrefix": api_id,
            "protocol": "HTTP/1.1",
            "identity": {"cognitoIdentityPoolId": None, "accountId": None,
                         "cognitoIdentityId": None, "caller": None, "sourceIp": "127.0.0.1",
                         "principalOrgId": None, "accessKey": None,
                         "cognitoAuthenticationType": None,
                         "cognitoAuthenticationProvider": None, "userArn": None,
                         "userAgent": "rest-test/1", "user": None},
            "resourcePath": "/items/{id}",
            "httpMethod": "GET",
            "apiId": api_id,
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_greedy_proxy_resource(server, echo, apigw):
    api_id, _, proxy_id = make_api(apigw, echo)
    event = echoed(call(server, api_id, "/test/a/b%2Fc/d", method="DELETE"))
    assert event["resource"] == "/{proxy+}"
    assert event["requestContext"]["resourceId"] == proxy_id
    assert event["pathParameters"] == {"proxy": "a/b/c/d"}
    assert event["stageVariables"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None

    # A POST to /items/{id} has no method there, so the greedy resource takes it.
    event = echoed(call(server, api_id, "/test/items/5", method="POST", body=b"{}",
                        headers=[("Content-Type", "application/json")]))
    assert event["resource"] == "/{proxy+}"
    assert event["body"] == "{}"


def test_unmatched_resource_403(server, echo, apigw):
    api_id = apigw.create_rest_api(name=unique_name("bare"))["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    add_method(apigw, api_id, root_id, "GET", echo)
    apigw.create_deployment(restApiId=api_id, stageName="prod")

    assert call(server, api_id, "/prod/").status == 200
    reply = call(server, api_id, "/prod/nothing/here")
    assert reply.status == 403
    assert reply.json() == {"message": "Missing Authentication Token"}
    assert reply.header("x-amzn-errortype") == "MissingAuthenticationTokenException"

    assert call(server, api_id, "/prod/", method="POST").status == 403

    wrong_stage = call(server, api_id, "/nostage/")
    assert wrong_stage.status == 403
    assert wrong_stage.json() == {"message": "Forbidden"}

    unknown = call(server, "nosuchapi0", "/prod/")
    assert unknown.status == 404
    assert unknown.json() == {"message": "Not Found"}


def test_user_request_path_form(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo, stage="dev")
    reply = send(server.port, "GET", f"/restapis/{api_id}/dev/_user_request_/items/9?x=1",
                 [("Host", f"127.0.0.1:{server.port}")])
    event = echoed(reply)
    assert event["path"] == "/items/9"
    assert event["requestContext"]["path"] == "/dev/items/9"
    assert event["pathParameters"] == {"id": "9"}

    reply = send(server.port, "GET", f"/_aws/execute-api/{api_id}/dev/items/10",
                 [("Host", f"127.0.0.1:{server.port}")])
    assert echoed(reply)["pathParameters"] == {"id": "10"}


def test_binary_media_types(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo, binary_media_types=["application/octet-stream"])
    payload = bytes(range(256))
    event = echoed(call(server, api_id, "/test/upload", method="PUT",
                        headers=[("Content-Type", "application/octet-stream")], body=payload))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload

    # Without a matching binary media type the body is passed as text.
    event = echoed(call(server, api_id, "/test/upload", method="PUT",
                        headers=[("Content-Type", "text/plain")], body="gr\u00fc\u00df".encode()))
    assert event["isBase64Encoded"] is False
    assert event["body"] == "gr\u00fc\u00df"


def test_base64_response_decoded_only_for_binary_media_types(server, echo, apigw):
    encoded = base64.b64encode(bytes(range(256)))
    # Without binaryMediaTypes the client gets the base64 text as the body.
    plain_api, _, _ = make_api(apigw, echo)
    reply = call(server, plain_api, "/test/r?return=binary")
    assert reply.status == 200
    assert reply.body == encoded

    binary_api, _, _ = make_api(apigw, echo, binary_media_types=["application/octet-stream"])
    reply = call(server, binary_api, "/test/r?return=binary",
                 headers=[("Accept", "application/octet-stream")])
    assert reply.status == 200
    assert reply.body == bytes(range(256))


def test_response_full_shape(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo)
    reply = call(server, api_id, "/test/r?return=full1")
    assert reply.status == 201
    assert reply.body == b"created"
    assert reply.header("content-type") == "text/plain"
    assert reply.header("x-single") == "one"
    assert reply.header_values("x-multi") == ["a", "b"]
    assert reply.header("x-amzn-requestid")


@pytest.mark.parametrize("kind", ["malformed", "raise", "dict", "string"])
def test_failures_give_502(server, echo, apigw, kind):
    # REST proxy integrations need statusCode; a plain dict or string is malformed too.
    api_id, _, _ = make_api(apigw, echo)
    reply = call(server, api_id, f"/test/r?return={kind}")
    assert reply.status == 502
    assert reply.json() == {"message": "Internal server error"}
    assert reply.header("x-amzn-errortype") == "InternalServerErrorException"


def test_integration_timeout_504(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo, timeout_ms=1000)
    reply = call(server, api_id, "/test/r?return=sleep&seconds=4")
    assert reply.status == 504
    assert reply.json() == {"message": "Endpoint request timed out"}
    assert call(server, api_id, "/test/items/1").status == 200


def test_body_over_10mb_413(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo)
    reply = send_head_only(server.port, "POST", "/test/r",
                           [("Host", api_host(api_id, server.port)),
                            ("Content-Type", "text/plain")], 10485760 + 1)
    assert reply.status == 413
    assert reply.body == b"HTTP content length exceeded 10485760 bytes."


def test_event_over_lambda_limit_413(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo)
    reply = call(server, api_id, "/test/r", method="POST", body=b"x" * 7000000,
                 headers=[("Content-Type", "text/plain")])
    assert reply.status == 413
    assert reply.json() == {"message": "Request Too Long"}
    assert reply.header("x-amzn-errortype") == "BadRequestException"


def test_stage_throttling_429(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo, stage="limited")
    apigw.update_stage(restApiId=api_id, stageName="limited", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "0.01"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"}])
    assert call(server, api_id, "/limited/items/1").status == 200
    reply = call(server, api_id, "/limited/items/1")
    assert reply.status == 429
    assert reply.json() == {"message": "Too Many Requests"}
    assert reply.header("x-amzn-errortype") == "TooManyRequestsException"
    # Each method has its own bucket under the stage-wide settings.
    assert call(server, api_id, "/limited/other", method="PUT").status == 200


def test_disabled_endpoint_403(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo)
    assert call(server, api_id, "/test/items/1").status == 200
    apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/disableExecuteApiEndpoint", "value": "true"}])
    reply = call(server, api_id, "/test/items/1")
    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}


def test_new_deployment_serves_new_resource(server, echo, apigw):
    api_id, _, _ = make_api(apigw, echo)
    root_id = next(item["id"] for item in apigw.get_resources(restApiId=api_id)["items"]
                   if item["path"] == "/")
    orders = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="orders")
    add_method(apigw, api_id, orders["id"], "GET", echo)
    # Until the API is deployed again, the stage serves its old deployment.
    assert echoed(call(server, api_id, "/test/orders"))["resource"] == "/{proxy+}"
    apigw.create_deployment(restApiId=api_id, stageName="test")
    assert echoed(call(server, api_id, "/test/orders"))["resource"] == "/orders"


def test_missing_or_throttled_function_500(server, apigw):
    lam = server.client()
    name = create_function_from(lam, "python/apigw_echo")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    missing = "arn:aws:lambda:us-east-1:000000000000:function:" + unique_name("gone")
    for target in (function_arn(lam, name), missing):
        api_id, _, _ = make_api(apigw, target)
        reply = call(server, api_id, "/test/items/1")
        assert reply.status == 500, target
        assert reply.json() == {"message": "Internal server error"}
        assert reply.header("x-amzn-errortype") == "InternalServerErrorException"


@pytest.fixture(scope="module")
def whoami(server):
    """Two functions that report their own name; the first has aliases blue (version 1) and
    green (version 2)."""
    lam = server.client()
    first = create_function_from(lam, "python/apigw_whoami")
    second = create_function_from(lam, "python/apigw_whoami")
    lam.publish_version(FunctionName=first)
    lam.update_function_configuration(FunctionName=first, Description="second version")
    lam.publish_version(FunctionName=first)
    lam.create_alias(FunctionName=first, Name="blue", FunctionVersion="1")
    lam.create_alias(FunctionName=first, Name="green", FunctionVersion="2")
    prefix = function_arn(lam, first).rsplit(":", 1)[0] + ":"
    return prefix, first, second


def make_stage_variable_api(server, apigw, target_arn, stages):
    """Creates GET /who calling `target_arn` through the AWS CLI, and one stage per entry of
    `stages` (name -> variables) on one deployment."""
    api_id = apigw.create_rest_api(name=unique_name("stagevars"))["id"]
    resources = apigw.get_resources(restApiId=api_id)["items"]
    root_id = next(item["id"] for item in resources if item["path"] == "/")
    resource = apigw.create_resource(restApiId=api_id, parentId=root_id, pathPart="who")
    apigw.put_method(restApiId=api_id, resourceId=resource["id"], httpMethod="GET",
                     authorizationType="NONE")
    server.aws("apigateway", "put-integration", "--rest-api-id", api_id,
               "--resource-id", resource["id"], "--http-method", "GET", "--type", "AWS_PROXY",
               "--integration-http-method", "POST", "--uri", integration_uri(target_arn))
    stored = apigw.get_integration(restApiId=api_id, resourceId=resource["id"],
                                   httpMethod="GET")
    assert stored["uri"] == integration_uri(target_arn)
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    for name, variables in stages.items():
        apigw.create_stage(restApiId=api_id, stageName=name, deploymentId=deployment,
                           variables=variables)
    return api_id


def who(server, api_id, target):
    reply = call(server, api_id, target)
    assert reply.status == 200, reply.body
    return reply.json()


def assert_cannot_call(reply):
    assert reply.status == 500
    assert reply.json() == {"message": "Internal server error"}
    assert reply.header("x-amzn-errortype") == "InternalServerErrorException"


def test_stage_variables_select_function(server, whoami, apigw):
    prefix, first, second = whoami
    api_id = make_stage_variable_api(server, apigw, prefix + "${stageVariables.fn}", {
        "one": {"fn": first}, "two": {"fn": second}, "unset": {"other": first},
        "gone": {"fn": unique_name("gone")}, "invalid": {"fn": "not,a,name"}})

    assert who(server, api_id, "/one/who")["name"] == first
    assert who(server, api_id, "/two/who")["name"] == second
    # A missing variable, or one naming no valid or existing function, is an integration API
    # Gateway cannot call.
    for stage in ("unset", "gone", "invalid"):
        assert_cannot_call(call(server, api_id, f"/{stage}/who"))
    reply = call(server, api_id, "/unset/who")
    unresolved = [line for line in server.log().splitlines()
                  if "stage_variables_unresolved" in line
                  and f"request_id={reply.header('x-amzn-requestid')}" in line]
    assert len(unresolved) == 1, server.log()[-2000:]

    apigw.update_stage(restApiId=api_id, stageName="unset", patchOperations=[
        {"op": "replace", "path": "/variables/fn", "value": second}])
    assert who(server, api_id, "/unset/who")["name"] == second


def test_stage_variables_select_alias(server, whoami, apigw):
    prefix, first, _ = whoami
    api_id = make_stage_variable_api(server, apigw, prefix + first + ":${stageVariables.alias}", {
        "blue": {"alias": "blue"}, "green": {"alias": "green"}, "missing": {"alias": "red"}})

    blue = who(server, api_id, "/blue/who")
    assert blue["version"] == "1"
    assert blue["invokedArn"] == prefix + first + ":blue"
    green = who(server, api_id, "/green/who")
    assert green["version"] == "2"
    assert green["invokedArn"] == prefix + first + ":green"
    assert_cannot_call(call(server, api_id, "/missing/who"))


def test_stage_variable_uri_rejects_malformed_reference(server, whoami, apigw):
    prefix, _, _ = whoami
    api_id = apigw.create_rest_api(name=unique_name("stagevars"))["id"]
    root_id = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET",
                     authorizationType="NONE")
    with pytest.raises(apigw.exceptions.BadRequestException):
        apigw.put_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET",
                              type="AWS_PROXY", integrationHttpMethod="POST",
                              uri=integration_uri(prefix + "${stageVariables.}"))
