"""HTTP APIs (API Gateway v2) serving traffic: real HTTP clients against routes made with boto3.

Each API routes to an echo function that returns the event it received, so the tests compare
the event field for field, and then the HTTP response produced for each kind of return value
and failure. Requests use the host form (`{id}.execute-api.localhost`) unless a test is about
the path form (`/_aws/execute-api/{id}/...`).
"""

import base64
import json
import shutil
import subprocess
import time

import pytest

from apigw_support import (TRACE, UUID, api_host, check_clock_fields, function_arn, send,
                           send_head_only, take_dynamic)
from conftest import create_function_from, unique_name


@pytest.fixture(scope="module")
def echo(server):
    lam = server.client()
    name = create_function_from(lam, "python/apigw_echo", Timeout=10)
    return function_arn(lam, name)


@pytest.fixture
def v2(server):
    return server.client("apigatewayv2")


def make_api(v2, routes, target_arn, payload_format="2.0", stage="$default", cors=None,
             timeout_ms=None, stage_args=None):
    """Creates an HTTP API with one Lambda integration behind every route key in `routes`."""
    params = {"Name": unique_name("api"), "ProtocolType": "HTTP"}
    if cors:
        params["CorsConfiguration"] = cors
    api = v2.create_api(**params)
    integration_params = {"ApiId": api["ApiId"], "IntegrationType": "AWS_PROXY",
                          "IntegrationUri": target_arn, "PayloadFormatVersion": payload_format}
    if timeout_ms:
        integration_params["TimeoutInMillis"] = timeout_ms
    integration = v2.create_integration(**integration_params)
    for key in routes:
        v2.create_route(ApiId=api["ApiId"], RouteKey=key,
                        Target="integrations/" + integration["IntegrationId"])
    v2.create_stage(ApiId=api["ApiId"], StageName=stage, AutoDeploy=True, **(stage_args or {}))
    return api["ApiId"]


def get(server, api_id, target, headers=(), method="GET", body=None):
    host = [("Host", api_host(api_id, server.port))]
    return send(server.port, method, target, host + list(headers), body)


def echoed(reply):
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def strip_request_context_v2(event, api_id, server):
    """Checks and removes the fields of a 2.0 event that vary per request."""
    context = event["requestContext"]
    assert UUID.match(take_dynamic(event, "requestContext.requestId"))
    check_clock_fields(context, "time", "timeEpoch")
    assert event["headers"].pop("x-forwarded-port") == str(server.port)
    return event


def test_quick_create_event_v2(server, echo, v2):
    api = v2.create_api(Name=unique_name("quick"), ProtocolType="HTTP", Target=echo)
    api_id = api["ApiId"]
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{server.port}"

    reply = get(server, api_id, "/some/p%C3%A4th?x=1&x=2&y=%C3%A9&flag",
                headers=[("User-Agent", "apigw-test/1"), ("X-Multi", "one"), ("X-Multi", "two"),
                         ("Cookie", "a=1; b=2"), ("Accept", "*/*")])
    request_id = json.loads(reply.body)["requestContext"]["requestId"]
    assert reply.header("apigw-requestid") == request_id
    event = strip_request_context_v2(echoed(reply), api_id, server)
    trace = event["headers"].pop("x-amzn-trace-id")
    assert TRACE.match(trace)
    assert reply.header("x-lambda-trace") == trace + ";Sampled=0"
    assert reply.header("content-type") == "application/json"

    host = api_host(api_id, server.port)
    assert event == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/some/p%C3%A4th",
        "rawQueryString": "x=1&x=2&y=%C3%A9&flag",
        "cookies": ["a=1", "b=2"],
        "headers": {
            "host": host,
            "user-agent": "apigw-test/1",
            "x-multi": "one,two",
            "accept": "*/*",
            "content-length": "0",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-proto": "http",
        },
        "queryStringParameters": {"x": "1,2", "y": "\u00e9", "flag": ""},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.localhost",
            "domainPrefix": api_id,
            "http": {"method": "GET", "path": "/some/p%C3%A4th", "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "apigw-test/1"},
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


def test_path_parameters_decoded(server, echo, v2):
    api_id = make_api(v2, ["GET /users/{user}/files/{path+}"], echo)
    event = echoed(get(server, api_id, "/users/j%C3%B6rg%20k/files/a%2Fb/c%20d.txt"))
    assert event["routeKey"] == "GET /users/{user}/files/{path+}"
    assert event["pathParameters"] == {"user": "j\u00f6rg k", "path": "a/b/c d.txt"}
    assert event["rawPath"] == "/users/j%C3%B6rg%20k/files/a%2Fb/c%20d.txt"
    assert "stageVariables" not in event


def test_route_precedence(server, echo, v2):
    api_id = make_api(v2, ["GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}",
                           "ANY /{proxy+}", "$default"], echo)
    cases = [("GET", "/pets/dog/1", "GET /pets/dog/1"),
             ("GET", "/pets/dog/2", "GET /pets/dog/{id}"),
             ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),
             ("POST", "/pets/dog/1", "ANY /{proxy+}"),
             ("GET", "/pets/dog/1/", "GET /pets/dog/1"),
             ("GET", "/", "$default")]
    for method, path, route_key in cases:
        event = echoed(get(server, api_id, path, method=method))
        assert event["routeKey"] == route_key, (method, path)


def test_unknown_route_and_api_404(server, echo, v2):
    api_id = make_api(v2, ["GET /known"], echo)
    reply = get(server, api_id, "/unknown")
    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}
    assert reply.header("apigw-requestid")

    assert get(server, api_id, "/known", method="DELETE").status == 404
    missing = get(server, "nosuchapi0", "/known")
    assert missing.status == 404
    assert missing.json() == {"message": "Not Found"}


def test_named_stage_and_variables(server, echo, v2):
    api_id = make_api(v2, ["GET /items/{id}"], echo, stage="dev",
                      stage_args={"StageVariables": {"table": "items-dev", "mode": "test"}})
    event = echoed(get(server, api_id, "/dev/items/42?q=a+b"))
    assert event["requestContext"]["stage"] == "dev"
    assert event["rawPath"] == "/dev/items/42"
    assert event["requestContext"]["http"]["path"] == "/dev/items/42"
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] == {"table": "items-dev", "mode": "test"}
    assert event["queryStringParameters"] == {"q": "a b"}

    # Without a $default stage, a path that names no stage matches nothing.
    assert get(server, api_id, "/items/42").status == 404


def test_event_v1_payload(server, echo, v2):
    api_id = make_api(v2, ["POST /orders/{id}"], echo, payload_format="1.0")
    body = "caf\u00e9 \u2713".encode()
    reply = get(server, api_id, "/orders/7?tag=a&tag=b&one=1", method="POST",
                headers=[("User-Agent", "apigw-test/1"), ("Content-Type", "text/plain"),
                         ("X-Multi", "one"), ("X-Multi", "two")], body=body)
    event = echoed(reply)

    context = event["requestContext"]
    assert UUID.match(context.pop("requestId"))
    assert context.pop("extendedRequestId")
    check_clock_fields(context, "requestTime", "requestTimeEpoch")
    port = str(server.port)
    assert event["headers"].pop("x-forwarded-port") == port
    assert event["multiValueHeaders"].pop("x-forwarded-port") == [port]
    trace = event["headers"].pop("x-amzn-trace-id")
    assert TRACE.match(trace)
    assert event["multiValueHeaders"].pop("x-amzn-trace-id") == [trace]

    host = api_host(api_id, server.port)
    assert event == {
        "version": "1.0",
        "resource": "/orders/{id}",
        "path": "/orders/7",
        "httpMethod": "POST",
        "headers": {"host": host, "user-agent": "apigw-test/1", "content-type": "text/plain",
                    "x-multi": "two", "content-length": str(len(body)),
                    "x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http"},
        "multiValueHeaders": {"host": [host], "user-agent": ["apigw-test/1"],
                              "content-type": ["text/plain"], "x-multi": ["one", "two"],
                              "content-length": [str(len(body))],
                              "x-forwarded-for": ["127.0.0.1"], "x-forwarded-proto": ["http"]},
        "queryStringParameters": {"tag": "b", "one": "1"},
        "multiValueQueryStringParameters": {"tag": ["a", "b"], "one": ["1"]},
        "pathParameters": {"id": "7"},
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "resourceId": "POST /orders/{id}",
            "path": "/orders/7",
            "stage": "$default",
            "domainName": f"{api_id}.execute-api.localhost",
            "domainPrefix": api_id,
            "protocol": "HTTP/1.1",
            "identity": {"cognitoIdentityPoolId": None, "accountId": None,
                         "cognitoIdentityId": None, "caller": None, "sourceIp": "127.0.0.1",
                         "principalOrgId": None, "accessKey": None,
                         "cognitoAuthenticationType": None,
                         "cognitoAuthenticationProvider": None, "userArn": None,
                         "userAgent": "apigw-test/1", "user": None},
            "resourcePath": "/orders/{id}",
            "httpMethod": "POST",
            "apiId": api_id,
        },
        "body": "caf\u00e9 \u2713",
        "isBase64Encoded": False,
    }


def test_binary_body_base64(server, echo, v2):
    api_id = make_api(v2, ["POST /upload"], echo)
    payload = bytes(range(256)) * 4
    event = echoed(get(server, api_id, "/upload", method="POST",
                       headers=[("Content-Type", "application/octet-stream")], body=payload))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload

    text = json.dumps({"name": "\u00fcber"}).encode()
    event = echoed(get(server, api_id, "/upload", method="POST",
                       headers=[("Content-Type", "application/json")], body=text))
    assert event["isBase64Encoded"] is False
    assert event["body"] == text.decode()

    # Without a body the event has no body field at all.
    event = echoed(get(server, api_id, "/upload", method="POST"))
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_response_full_shape(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo)
    reply = get(server, api_id, "/r?return=full")
    assert reply.status == 201
    assert reply.body == b"created"
    assert reply.header("content-type") == "text/plain"
    assert reply.header("x-single") == "one"
    assert reply.header_values("set-cookie") == ["c1=v1", "c2=v2; Path=/"]
    assert reply.header("apigw-requestid")


def test_response_binary(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo)
    reply = get(server, api_id, "/r?return=binary")
    assert reply.status == 200
    assert reply.body == bytes(range(256))
    assert reply.header("content-type") == "application/octet-stream"


def test_response_inferred_for_plain_values(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo)
    reply = get(server, api_id, "/r?return=dict")
    assert reply.status == 200
    assert reply.header("content-type") == "application/json"
    assert json.loads(reply.body) == {"hello": "world"}

    reply = get(server, api_id, "/r?return=string")
    assert reply.status == 200
    assert reply.body == b"plain text"


@pytest.mark.parametrize("kind", ["malformed", "raise"])
def test_failures_give_500(server, echo, v2, kind):
    api_id = make_api(v2, ["GET /r"], echo)
    reply = get(server, api_id, f"/r?return={kind}")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}
    assert reply.header("apigw-requestid")


def test_failures_in_payload_v1(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo, payload_format="1.0")
    reply = get(server, api_id, "/r?return=raise")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}
    reply = get(server, api_id, "/r?return=full1")
    assert reply.status == 201
    assert reply.body == b"created"
    assert reply.header("x-single") == "one"
    assert reply.header_values("x-multi") == ["a", "b"]


def test_integration_timeout_503(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo, timeout_ms=1000)
    started = time.monotonic()
    reply = get(server, api_id, "/r?return=sleep&seconds=4")
    elapsed = time.monotonic() - started
    assert reply.status == 503
    assert reply.json() == {"message": "Service Unavailable"}
    print(f"integration timeout answered after {elapsed:.2f} s (function sleeps 4 s)")
    # The gateway keeps serving while the function runs on.
    assert get(server, api_id, "/r?return=dict").status == 200


def test_missing_function_500(server, v2):
    missing = "arn:aws:lambda:us-east-1:000000000000:function:" + unique_name("gone")
    api_id = make_api(v2, ["GET /r"], missing)
    reply = get(server, api_id, "/r")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_unknown_qualifier_500(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo + ":nosuchalias")
    reply = get(server, api_id, "/r")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_lambda_throttle_500(server, v2):
    lam = server.client()
    name = create_function_from(lam, "python/apigw_echo")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    api_id = make_api(v2, ["GET /r"], function_arn(lam, name))
    reply = get(server, api_id, "/r")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_throttling_429(server, echo, v2):
    api_id = make_api(v2, ["GET /slow", "GET /free"], echo, stage_args={
        "DefaultRouteSettings": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 100.0},
        "RouteSettings": {"GET /slow": {"ThrottlingBurstLimit": 1,
                                        "ThrottlingRateLimit": 0.01}}})
    assert get(server, api_id, "/slow").status == 200
    reply = get(server, api_id, "/slow")
    assert reply.status == 429
    assert reply.json() == {"message": "Too Many Requests"}
    assert reply.header("apigw-requestid")
    # Other routes keep their own bucket.
    assert get(server, api_id, "/free").status == 200


def test_cors_preflight_and_headers(server, echo, v2):
    cors = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type", "x-token"], "ExposeHeaders": ["x-single"],
            "MaxAge": 600, "AllowCredentials": True}
    api_id = make_api(v2, ["GET /r"], echo, cors=cors)

    preflight = get(server, api_id, "/r", method="OPTIONS",
                    headers=[("Origin", "https://app.example"),
                             ("Access-Control-Request-Method", "POST"),
                             ("Access-Control-Request-Headers", "x-token")])
    assert preflight.status == 204
    assert preflight.body == b""
    assert preflight.header("access-control-allow-origin") == "https://app.example"
    assert preflight.header("access-control-allow-credentials") == "true"
    assert preflight.header("access-control-max-age") == "600"
    assert "post" in preflight.header("access-control-allow-methods").lower()
    assert "x-token" in preflight.header("access-control-allow-headers").lower()

    reply = get(server, api_id, "/r?return=full", headers=[("Origin", "https://app.example")])
    assert reply.status == 201
    assert reply.header("access-control-allow-origin") == "https://app.example"
    assert reply.header("access-control-expose-headers").lower() == "x-single"

    other = get(server, api_id, "/r?return=full", headers=[("Origin", "https://evil.example")])
    assert other.header("access-control-allow-origin") is None


def test_path_form(server, echo, v2):
    api_id = make_api(v2, ["GET /items/{id}"], echo, stage="v1")
    reply = send(server.port, "GET", f"/_aws/execute-api/{api_id}/v1/items/a%20b?x=1",
                 [("Host", f"127.0.0.1:{server.port}")])
    event = echoed(reply)
    assert event["rawPath"] == "/v1/items/a%20b"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert event["requestContext"]["stage"] == "v1"


def test_body_over_10mb_413(server, echo, v2):
    api_id = make_api(v2, ["POST /r"], echo)
    reply = send_head_only(server.port, "POST", "/r",
                           [("Host", api_host(api_id, server.port)),
                            ("Content-Type", "application/json")], 10485760 + 1)
    assert reply.status == 413
    assert reply.json() == {"message": "Request Entity Too Large"}


def test_event_over_lambda_limit_413(server, echo, v2):
    # 5 MB of binary grows past Lambda's 6 MB payload limit once base64 encoded.
    api_id = make_api(v2, ["POST /r"], echo)
    reply = get(server, api_id, "/r", method="POST",
                headers=[("Content-Type", "application/octet-stream")], body=b"\x01" * 5000000)
    assert reply.status == 413
    assert reply.json() == {"message": "Request Entity Too Large"}


def test_cli_quick_create_answers_curl(server, echo):
    curl = shutil.which("curl")
    if not curl:
        pytest.skip("curl is not installed")
    created = json.loads(server.aws("apigatewayv2", "create-api", "--name", unique_name("cli"),
                                    "--protocol-type", "HTTP", "--target", echo).stdout)
    endpoint = created["ApiEndpoint"]
    # curl resolves *.localhost to the loopback address by itself.
    out = subprocess.run([curl, "-sS", "--max-time", "30", f"{endpoint}/hello?name=curl"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    event = json.loads(out)
    assert event["rawPath"] == "/hello"
    assert event["queryStringParameters"] == {"name": "curl"}
    assert event["requestContext"]["apiId"] == created["ApiId"]


def test_route_survives_restart(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = create_function_from(lam, "python/apigw_echo")
    v2 = srv.client("apigatewayv2")
    api_id = make_api(v2, ["GET /persist/{id}"], function_arn(lam, name))
    assert echoed(get(srv, api_id, "/persist/1"))["pathParameters"] == {"id": "1"}

    srv.stop()
    srv.start()
    event = echoed(get(srv, api_id, "/persist/2"))
    assert event["routeKey"] == "GET /persist/{id}"
    assert event["pathParameters"] == {"id": "2"}


def test_disabled_endpoint_404(server, echo, v2):
    api_id = make_api(v2, ["GET /r"], echo)
    assert get(server, api_id, "/r").status == 200
    v2.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    reply = get(server, api_id, "/r")
    assert reply.status == 404
    assert reply.json() == {"message": "Not Found"}


def test_manual_stage_serves_its_deployment(server, echo, v2):
    api_id = v2.create_api(Name=unique_name("manual"), ProtocolType="HTTP")["ApiId"]
    integration = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                        IntegrationUri=echo, PayloadFormatVersion="2.0")
    target = "integrations/" + integration["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /first", Target=target)
    first = v2.create_deployment(ApiId=api_id)
    v2.create_stage(ApiId=api_id, StageName="$default", DeploymentId=first["DeploymentId"])
    assert echoed(get(server, api_id, "/first"))["routeKey"] == "GET /first"

    # A route added later is served only once a deployment that includes it is on the stage.
    v2.create_route(ApiId=api_id, RouteKey="GET /second", Target=target)
    assert get(server, api_id, "/second").status == 404
    second = v2.create_deployment(ApiId=api_id)
    v2.update_stage(ApiId=api_id, StageName="$default", DeploymentId=second["DeploymentId"])
    assert echoed(get(server, api_id, "/second"))["routeKey"] == "GET /second"


def test_client_trace_header_kept(server, echo, v2):
    api_id = make_api(v2, ["GET /t"], echo)
    sent = "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Sampled=1"
    reply = get(server, api_id, "/t", headers=[("X-Amzn-Trace-Id", sent)])
    assert echoed(reply)["headers"]["x-amzn-trace-id"] == sent
    assert reply.header("x-lambda-trace") == sent


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


def who(server, api_id, target):
    reply = get(server, api_id, target)
    assert reply.status == 200, reply.body
    return reply.json()


def test_stage_variables_select_function(server, whoami, v2):
    prefix, first, second = whoami
    # The AWS CLI form of the integration, as a user would type it.
    api_id = v2.create_api(Name=unique_name("stagevars"), ProtocolType="HTTP")["ApiId"]
    created = server.aws("apigatewayv2", "create-integration", "--api-id", api_id,
                         "--integration-type", "AWS_PROXY", "--payload-format-version", "2.0",
                         "--integration-uri", prefix + "${stageVariables.fn}")
    integration = json.loads(created.stdout)
    assert integration["IntegrationUri"] == prefix + "${stageVariables.fn}"
    fetched = v2.get_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])
    assert fetched["IntegrationUri"] == prefix + "${stageVariables.fn}"
    v2.create_route(ApiId=api_id, RouteKey="GET /who",
                    Target="integrations/" + integration["IntegrationId"])
    v2.create_stage(ApiId=api_id, StageName="one", AutoDeploy=True,
                    StageVariables={"fn": first})
    v2.create_stage(ApiId=api_id, StageName="two", AutoDeploy=True,
                    StageVariables={"fn": second})
    v2.create_stage(ApiId=api_id, StageName="unset", AutoDeploy=True,
                    StageVariables={"other": first})
    v2.create_stage(ApiId=api_id, StageName="gone", AutoDeploy=True,
                    StageVariables={"fn": unique_name("gone")})

    assert who(server, api_id, "/one/who")["name"] == first
    assert who(server, api_id, "/two/who")["name"] == second
    # A missing variable, or one naming no function, is an integration API Gateway cannot call.
    for stage in ("unset", "gone"):
        reply = get(server, api_id, f"/{stage}/who")
        assert reply.status == 500, stage
        assert reply.json() == {"message": "Internal Server Error"}
        if stage == "unset":
            unresolved = [line for line in server.log().splitlines()
                          if "stage_variables_unresolved" in line
                          and f"request_id={reply.header('apigw-requestid')}" in line]
            assert len(unresolved) == 1, server.log()[-2000:]
            assert "fn" in unresolved[0]

    # Changing a stage's variables changes the function it calls.
    v2.update_stage(ApiId=api_id, StageName="unset", StageVariables={"fn": second})
    assert who(server, api_id, "/unset/who")["name"] == second


def test_stage_variables_select_alias(server, whoami, v2):
    prefix, first, _ = whoami
    api_id = make_api(v2, ["GET /who"], prefix + first + ":${stageVariables.alias}",
                      stage="blue", stage_args={"StageVariables": {"alias": "blue"}})
    v2.create_stage(ApiId=api_id, StageName="green", AutoDeploy=True,
                    StageVariables={"alias": "green"})
    v2.create_stage(ApiId=api_id, StageName="bad", AutoDeploy=True,
                    StageVariables={"alias": "no.such:alias"})

    blue = who(server, api_id, "/blue/who")
    assert blue["version"] == "1"
    assert blue["invokedArn"] == prefix + first + ":blue"
    green = who(server, api_id, "/green/who")
    assert green["version"] == "2"
    assert green["invokedArn"] == prefix + first + ":green"
    reply = get(server, api_id, "/bad/who")
    assert reply.status == 500
    assert reply.json() == {"message": "Internal Server Error"}


def test_stage_variable_uri_rejects_malformed_reference(server, whoami, v2):
    prefix, _, _ = whoami
    api_id = v2.create_api(Name=unique_name("stagevars"), ProtocolType="HTTP")["ApiId"]
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                              PayloadFormatVersion="2.0",
                              IntegrationUri=prefix + "${stageVariables.a-b}")
