"""The API Gateway control plane: the apigatewayv2 operations for HTTP APIs and the apigateway
operations for REST APIs, driven by boto3 and the AWS CLI v2, with their success shapes, their
errors, and persistence across a restart and a SIGKILL.

Shapes follow the botocore models (apigatewayv2 2018-11-29, apigateway 2015-07-09): camelCase
wire names, ISO 8601 dates on v2 and epoch seconds on v1, 201 for creates, 204 for v2 deletes
and 202 for REST API, resource, stage and deployment deletes.
"""

import json
import re
import signal

import pytest
from botocore.exceptions import ClientError

from conftest import Server, signed_request, unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
INVOCATION_URI = (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
                  f"{FUNCTION_ARN}/invocations")
ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def v2(server):
    return server.client("apigatewayv2")


@pytest.fixture
def v1(server):
    return server.client("apigateway")


def error_of(call, *args, **kwargs):
    """Runs a call that must fail; returns (status, error type, message, x-amzn-ErrorType)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype"))


def raw_json(server, method, path, body=None, service="apigateway"):
    data = json.dumps(body).encode() if body is not None else b""
    status, headers, payload = signed_request(server, method, path, data, service=service)
    return status, headers, json.loads(payload) if payload else None


def new_http_api(v2, **kwargs):
    return v2.create_api(Name=unique_name("api"), ProtocolType="HTTP", **kwargs)


def new_integration(v2, api_id, uri=FUNCTION_ARN, version="2.0"):
    return v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri,
                                 PayloadFormatVersion=version)


# ---- HTTP APIs: APIs ----

def test_create_api_wire_shape(server):
    status, headers, body = raw_json(server, "POST", "/v2/apis",
                                     {"name": "shape", "protocolType": "HTTP",
                                      "description": "d", "tags": {"team": "a"}})
    assert status == 201
    assert headers["Content-Type"] == "application/json"
    api_id = body["apiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert ISO_DATE.match(body.pop("createdDate"))
    assert body == {
        "apiEndpoint": f"http://{api_id}.execute-api.localhost:{server.port}",
        "apiId": api_id,
        "apiKeySelectionExpression": "$request.header.x-api-key",
        "description": "d",
        "disableExecuteApiEndpoint": False,
        "name": "shape",
        "protocolType": "HTTP",
        "routeSelectionExpression": "$request.method $request.path",
        "tags": {"team": "a"},
    }


def test_route_selection_expression(v2):
    for expression in ("${request.method} ${request.path}", "$request.method $request.path"):
        created = new_http_api(v2, RouteSelectionExpression=expression)
        assert created["RouteSelectionExpression"] == "$request.method $request.path"
    status, code, message, _ = error_of(new_http_api, v2,
                                        RouteSelectionExpression="$request.body.action")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid routeSelectionExpression specified: $request.body.action.")


def test_get_api_and_get_apis_paging(v2):
    created = [new_http_api(v2)["ApiId"] for _ in range(3)]
    got = v2.get_api(ApiId=created[0])
    assert got["Name"].startswith("api-")
    assert got["ProtocolType"] == "HTTP"

    seen = []
    token = None
    for _ in range(100):
        kwargs = {"MaxResults": "2"}
        if token:
            kwargs["NextToken"] = token
        page = v2.get_apis(**kwargs)
        assert len(page["Items"]) <= 2
        seen += [item["ApiId"] for item in page["Items"]]
        token = page.get("NextToken")
        if not token:
            break
    assert set(created) <= set(seen)
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen))


def test_get_apis_rejects_bad_max_results(server):
    status, headers, body = raw_json(server, "GET", "/v2/apis?maxResults=zero")
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "BadRequestException"
    assert body["message"] == ("Invalid MaxResults specified: zero. It must be an integer from 1 "
                               "to 1000")


def test_update_api_and_cors(v2):
    api_id = new_http_api(v2)["ApiId"]
    cors = {"AllowOrigins": ["https://example.com"], "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"], "ExposeHeaders": ["x-trace"],
            "AllowCredentials": True, "MaxAge": 300}
    updated = v2.update_api(ApiId=api_id, Name="renamed", Description="new",
                            CorsConfiguration=cors)
    assert updated["Name"] == "renamed"
    assert updated["Description"] == "new"
    assert updated["CorsConfiguration"] == cors
    assert v2.get_api(ApiId=api_id)["CorsConfiguration"] == cors

    v2.delete_cors_configuration(ApiId=api_id)
    assert "CorsConfiguration" not in v2.get_api(ApiId=api_id)

    status, code, message, _ = error_of(v2.update_api, ApiId=api_id,
                                        CorsConfiguration={"MaxAge": 90000})
    assert (status, code) == (400, "BadRequestException")
    assert message == "Invalid CORS maxAge specified: 90000. It must be between -1 and 86400 seconds"
    status, code, message, _ = error_of(v2.update_api, ApiId=api_id,
                                        CorsConfiguration={"AllowMethods": ["FETCH"]})
    assert (status, code) == (400, "BadRequestException")
    assert "FETCH" in message


def test_delete_api(v2):
    api_id = new_http_api(v2)["ApiId"]
    response = v2.delete_api(ApiId=api_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    status, code, message, header = error_of(v2.get_api, ApiId=api_id)
    assert (status, code, header) == (404, "NotFoundException", "NotFoundException")
    assert message == f"Invalid API identifier specified {ACCOUNT}:{api_id}"
    status, code, _, _ = error_of(v2.delete_api, ApiId=api_id)
    assert (status, code) == (404, "NotFoundException")


def test_create_api_rejects_websocket_and_unknown_protocols(server, v2):
    status, code, message, _ = error_of(v2.create_api, Name="ws", ProtocolType="WEBSOCKET",
                                        RouteSelectionExpression="$request.body.action")
    assert (status, code) == (400, "BadRequestException")
    assert message == "Lambent supports protocolType HTTP only; WEBSOCKET APIs are not implemented"

    status, headers, body = raw_json(server, "POST", "/v2/apis",
                                     {"name": "x", "protocolType": "GRPC"})
    assert status == 400
    assert body == {"message": "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]"}

    status, _, body = raw_json(server, "POST", "/v2/apis", {"protocolType": "HTTP"})
    assert status == 400
    assert body == {"message": "Name is required and must be 1 to 128 characters"}


def test_quick_create_with_boto3(v2):
    created = new_http_api(v2, Target=FUNCTION_ARN, RouteKey="GET /orders/{id}")
    api_id = created["ApiId"]

    routes = v2.get_routes(ApiId=api_id)["Items"]
    assert len(routes) == 1
    integrations = v2.get_integrations(ApiId=api_id)["Items"]
    assert len(integrations) == 1
    integration = integrations[0]
    assert routes[0] == {"ApiGatewayManaged": True, "ApiKeyRequired": False,
                         "AuthorizationType": "NONE", "RouteId": routes[0]["RouteId"],
                         "RouteKey": "GET /orders/{id}",
                         "Target": f"integrations/{integration['IntegrationId']}"}
    assert integration == {"ApiGatewayManaged": True, "ConnectionType": "INTERNET",
                           "IntegrationId": integration["IntegrationId"],
                           "IntegrationMethod": "POST", "IntegrationType": "AWS_PROXY",
                           "IntegrationUri": FUNCTION_ARN, "PayloadFormatVersion": "2.0",
                           "TimeoutInMillis": 30000}
    stages = v2.get_stages(ApiId=api_id)["Items"]
    assert [stage["StageName"] for stage in stages] == ["$default"]
    assert stages[0]["AutoDeploy"] is True
    assert stages[0]["ApiGatewayManaged"] is True
    deployment_id = stages[0]["DeploymentId"]
    deployments = v2.get_deployments(ApiId=api_id)["Items"]
    assert [d["DeploymentId"] for d in deployments] == [deployment_id]
    assert deployments[0]["AutoDeployed"] is True
    assert deployments[0]["DeploymentStatus"] == "DEPLOYED"

    # UpdateApi with Target and RouteKey changes the quick-created integration and route.
    other = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other:live"
    v2.update_api(ApiId=api_id, Target=other, RouteKey="ANY /{proxy+}")
    assert v2.get_integration(ApiId=api_id, IntegrationId=integration["IntegrationId"])[
        "IntegrationUri"] == other
    assert v2.get_routes(ApiId=api_id)["Items"][0]["RouteKey"] == "ANY /{proxy+}"
    assert v2.get_stage(ApiId=api_id, StageName="$default")["DeploymentId"] != deployment_id


def test_quick_create_rejects_non_lambda_target(v2):
    status, code, message, _ = error_of(v2.create_api, Name="q", ProtocolType="HTTP",
                                        Target="https://example.com/backend")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid integration URI specified: https://example.com/backend.")
    assert "Lambent supports Lambda proxy integrations" in message


def test_quick_create_with_aws_cli(server):
    name = unique_name("cli")
    out = server.aws("apigatewayv2", "create-api", "--name", name, "--protocol-type", "HTTP",
                     "--target", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                     "--output", "json")
    created = json.loads(out.stdout)
    api_id = created["ApiId"]
    assert created["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{server.port}"
    assert created["Name"] == name
    assert created["ProtocolType"] == "HTTP"

    routes = json.loads(server.aws("apigatewayv2", "get-routes", "--api-id", api_id,
                                   "--output", "json").stdout)["Items"]
    assert [route["RouteKey"] for route in routes] == ["$default"]
    stage = json.loads(server.aws("apigatewayv2", "get-stage", "--api-id", api_id,
                                  "--stage-name", "$default", "--output", "json").stdout)
    assert stage["AutoDeploy"] is True

    missing = server.aws("apigatewayv2", "get-api", "--api-id", "missing000", check=False)
    assert missing.returncode != 0
    assert "NotFoundException" in missing.stderr
    assert f"Invalid API identifier specified {ACCOUNT}:missing000" in missing.stderr


def test_tags(server, v2):
    api_id = new_http_api(v2, Tags={"a": "1"})["ApiId"]
    arn = f"arn:aws:apigateway:{REGION}::/apis/{api_id}"
    v2.tag_resource(ResourceArn=arn, Tags={"b": "2"})
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"a": "1", "b": "2"}
    v2.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert v2.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    assert v2.get_api(ApiId=api_id)["Tags"] == {"b": "2"}


def test_rest_api_tags(v1):
    api_id, _ = new_rest_api(v1, tags={"a": "1"})
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    response = v1.tag_resource(resourceArn=arn, tags={"b": "2"})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert v1.get_tags(resourceArn=arn)["tags"] == {"a": "1", "b": "2"}
    v1.untag_resource(resourceArn=arn, tagKeys=["b"])
    assert v1.get_tags(resourceArn=arn)["tags"] == {"a": "1"}
    assert v1.get_rest_api(restApiId=api_id)["tags"] == {"a": "1"}

    status, code, message, _ = error_of(v1.get_tags,
                                        resourceArn=f"arn:aws:apigateway:{REGION}::/restapis/none")
    assert (status, code) == (404, "NotFoundException")
    assert message == f"Invalid API identifier specified {ACCOUNT}:none"
    status, code, message, _ = error_of(v1.get_tags, resourceArn="arn:aws:s3:::bucket")
    assert (status, code) == (404, "NotFoundException")
    assert message.startswith("Invalid resource ARN specified: arn:aws:s3:::bucket.")


def test_control_api_requires_signature(server):
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    for path in ("/v2/apis", "/restapis"):
        with pytest.raises(HTTPError) as raised:
            urlopen(Request(server.endpoint + path, method="GET"), timeout=10)
        assert raised.value.code == 403


# ---- HTTP APIs: routes ----

def test_route_operations(v2):
    api_id = new_http_api(v2)["ApiId"]
    integration_id = new_integration(v2, api_id)["IntegrationId"]
    created = v2.create_route(ApiId=api_id, RouteKey="GET /items/{id}",
                              Target=f"integrations/{integration_id}", OperationName="GetItem")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    route_id = created["RouteId"]
    assert re.fullmatch(r"[a-z0-9]{7}", route_id)
    expected = {"ApiKeyRequired": False, "AuthorizationType": "NONE", "RouteId": route_id,
                "RouteKey": "GET /items/{id}", "Target": f"integrations/{integration_id}",
                "OperationName": "GetItem"}
    created.pop("ResponseMetadata")
    assert created == expected
    got = v2.get_route(ApiId=api_id, RouteId=route_id)
    got.pop("ResponseMetadata")
    assert got == expected

    v2.create_route(ApiId=api_id, RouteKey="$default")
    keys = sorted(route["RouteKey"] for route in v2.get_routes(ApiId=api_id)["Items"])
    assert keys == ["$default", "GET /items/{id}"]

    updated = v2.update_route(ApiId=api_id, RouteId=route_id, RouteKey="PUT /items/{id}")
    assert updated["RouteKey"] == "PUT /items/{id}"
    assert updated["Target"] == f"integrations/{integration_id}"

    deleted = v2.delete_route(ApiId=api_id, RouteId=route_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    status, code, message, _ = error_of(v2.get_route, ApiId=api_id, RouteId=route_id)
    assert (status, code) == (404, "NotFoundException")
    assert message == f"Invalid Route identifier specified {route_id}"


@pytest.mark.parametrize("route_key, reason", [
    ("FETCH /items", "The method FETCH is not one of GET, POST, PUT, PATCH, DELETE, HEAD, "
                     "OPTIONS or ANY."),
    ("GET items", "The path must start with /."),
    ("GET /{proxy+}/more", "The greedy path variable {proxy+} must be the last segment."),
    ("GET /a{b}", "The path segment a{b} must be a whole {name} variable or contain no braces."),
    ("/items", "It has no method."),
])
def test_route_key_validation(v2, route_key, reason):
    api_id = new_http_api(v2)["ApiId"]
    status, code, message, _ = error_of(v2.create_route, ApiId=api_id, RouteKey=route_key)
    assert (status, code) == (400, "BadRequestException")
    assert message == (f"Invalid route key specified: {route_key}. {reason} A route key is "
                       "$default or METHOD /path, for example GET /items/{id} or ANY /{proxy+}.")


def test_route_conflicts(v2):
    api_id = new_http_api(v2)["ApiId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /items/{id}")
    status, code, message, header = error_of(v2.create_route, ApiId=api_id,
                                             RouteKey="GET /items/{id}")
    assert (status, code, header) == (409, "ConflictException", "ConflictException")
    assert message == "Route with key GET /items/{id} already exists for this API"

    status, code, message, _ = error_of(v2.create_route, ApiId=api_id,
                                        RouteKey="GET /items/{itemId}/parts")
    assert (status, code) == (409, "ConflictException")
    assert message == ('The provided route key "GET /items/{itemId}/parts" has a conflicting '
                       'variable on the same hierarchical level as "GET /items/{id}"')


def test_route_rejects_unknown_target_and_authorizers(v2):
    api_id = new_http_api(v2)["ApiId"]
    status, code, message, _ = error_of(v2.create_route, ApiId=api_id, RouteKey="GET /a",
                                        Target="integrations/nothere")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid target specified: integrations/nothere.")

    status, code, message, _ = error_of(v2.create_route, ApiId=api_id, RouteKey="GET /a",
                                        AuthorizationType="AWS_IAM")
    assert (status, code) == (400, "BadRequestException")
    assert message == ("Lambent supports authorizationType NONE only; AWS_IAM authorization is "
                       "not implemented")
    status, code, _, _ = error_of(v2.create_route, ApiId="nothere00", RouteKey="GET /a")
    assert (status, code) == (404, "NotFoundException")


# ---- HTTP APIs: integrations ----

def test_integration_operations(v2):
    api_id = new_http_api(v2)["ApiId"]
    created = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY",
                                    IntegrationUri=INVOCATION_URI, PayloadFormatVersion="1.0",
                                    TimeoutInMillis=5000, Description="orders")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    integration_id = created.pop("IntegrationId")
    created.pop("ResponseMetadata")
    assert created == {"ConnectionType": "INTERNET", "Description": "orders",
                       "IntegrationMethod": "POST", "IntegrationType": "AWS_PROXY",
                       "IntegrationUri": INVOCATION_URI, "PayloadFormatVersion": "1.0",
                       "TimeoutInMillis": 5000}
    updated = v2.update_integration(ApiId=api_id, IntegrationId=integration_id,
                                    PayloadFormatVersion="2.0", TimeoutInMillis=29000,
                                    IntegrationUri=f"{FUNCTION_ARN}:7")
    assert updated["PayloadFormatVersion"] == "2.0"
    assert updated["TimeoutInMillis"] == 29000
    assert updated["IntegrationUri"] == f"{FUNCTION_ARN}:7"
    listed = v2.get_integrations(ApiId=api_id)["Items"]
    assert [item["IntegrationId"] for item in listed] == [integration_id]
    assert v2.get_integration(ApiId=api_id, IntegrationId=integration_id)["Description"] == "orders"

    deleted = v2.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    status, code, message, _ = error_of(v2.get_integration, ApiId=api_id,
                                        IntegrationId=integration_id)
    assert (status, code) == (404, "NotFoundException")
    assert message == f"Invalid Integration identifier specified {integration_id}"


def test_integration_errors(v2):
    api_id = new_http_api(v2)["ApiId"]
    status, code, message, _ = error_of(v2.create_integration, ApiId=api_id,
                                        IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION_ARN)
    assert (status, code) == (400, "BadRequestException")
    assert message == ("PayloadFormatVersion is required for HTTP APIs. Lambda proxy "
                       "integrations support 1.0 and 2.0")

    status, code, message, _ = error_of(v2.create_integration, ApiId=api_id,
                                        IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                        IntegrationUri="https://example.com",
                                        PayloadFormatVersion="1.0")
    assert (status, code) == (400, "BadRequestException")
    assert message == ("Lambent supports integrationType AWS_PROXY (Lambda proxy) only; "
                       "HTTP_PROXY integrations are not implemented")

    status, code, message, _ = error_of(new_integration, v2, api_id, version="3.0")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid payload format version specified: 3.0.")

    status, code, message, _ = error_of(v2.create_integration, ApiId=api_id,
                                        IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION_ARN,
                                        PayloadFormatVersion="2.0", TimeoutInMillis=30001)
    assert (status, code) == (400, "BadRequestException")
    assert message == ("Invalid timeoutInMillis specified: 30001. It must be between 50 and 30000 "
                       "milliseconds")

    status, code, message, _ = error_of(new_integration, v2, api_id, uri="orders")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid integration URI specified: orders.")


def test_delete_integration_in_use(v2):
    api_id = new_http_api(v2)["ApiId"]
    integration_id = new_integration(v2, api_id)["IntegrationId"]
    route_id = v2.create_route(ApiId=api_id, RouteKey="ANY /{proxy+}",
                               Target=f"integrations/{integration_id}")["RouteId"]
    status, code, message, header = error_of(v2.delete_integration, ApiId=api_id,
                                             IntegrationId=integration_id)
    assert (status, code, header) == (409, "ConflictException", "ConflictException")
    assert message == (f"Integration {integration_id} cannot be deleted because route {route_id} "
                       "(ANY /{proxy+}) targets it; change or delete the route first")
    v2.delete_route(ApiId=api_id, RouteId=route_id)
    v2.delete_integration(ApiId=api_id, IntegrationId=integration_id)


# ---- HTTP APIs: stages and deployments ----

def test_stage_operations(v2):
    api_id = new_http_api(v2)["ApiId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /items")
    created = v2.create_stage(
        ApiId=api_id, StageName="prod", Description="production",
        StageVariables={"table": "orders_prod"},
        DefaultRouteSettings={"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 2.5},
        RouteSettings={"GET /items": {"ThrottlingRateLimit": 1.0}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    created.pop("ResponseMetadata")
    assert created.pop("CreatedDate") == created.pop("LastUpdatedDate")
    assert created == {
        "DefaultRouteSettings": {"DetailedMetricsEnabled": False,
                                                      "ThrottlingBurstLimit": 5,
                                                      "ThrottlingRateLimit": 2.5},
        "Description": "production",
        "RouteSettings": {"GET /items": {"DetailedMetricsEnabled": False,
                                         "ThrottlingRateLimit": 1.0}},
        "StageName": "prod", "StageVariables": {"table": "orders_prod"}, "Tags": {}}

    updated = v2.update_stage(ApiId=api_id, StageName="prod", AutoDeploy=True,
                              DefaultRouteSettings={"ThrottlingRateLimit": 7.0})
    assert updated["AutoDeploy"] is True
    assert updated["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False,
                                               "ThrottlingBurstLimit": 5,
                                               "ThrottlingRateLimit": 7.0}
    assert updated["DeploymentId"]
    assert updated["LastDeploymentStatusMessage"] == (
        f"Successfully deployed stage with deployment ID '{updated['DeploymentId']}'")
    assert [s["StageName"] for s in v2.get_stages(ApiId=api_id)["Items"]] == ["prod"]

    status, code, message, _ = error_of(v2.create_stage, ApiId=api_id, StageName="prod")
    assert (status, code) == (409, "ConflictException")
    assert message == "Stage prod already exists"

    status, code, message, _ = error_of(v2.create_stage, ApiId=api_id, StageName="other",
                                        RouteSettings={"GET /missing": {"ThrottlingRateLimit": 1}})
    assert (status, code) == (400, "BadRequestException")
    assert message == "Unable to find Route by key GET /missing within the provided RouteSettings"

    status, code, message, _ = error_of(v2.create_stage, ApiId=api_id, StageName="bad name")
    assert (status, code) == (400, "BadRequestException")

    assert v2.delete_stage(ApiId=api_id, StageName="prod")["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    status, code, message, _ = error_of(v2.get_stage, ApiId=api_id, StageName="prod")
    assert (status, code) == (404, "NotFoundException")
    assert message == "Invalid stage identifier specified prod"


def test_deployment_operations(v2):
    api_id = new_http_api(v2)["ApiId"]
    status, code, message, _ = error_of(v2.create_deployment, ApiId=api_id)
    assert (status, code) == (400, "BadRequestException")
    assert message == "Unable to deploy API because no routes exist in this API"

    integration_id = new_integration(v2, api_id)["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /a", Target=f"integrations/{integration_id}")
    v2.create_stage(ApiId=api_id, StageName="dev")
    created = v2.create_deployment(ApiId=api_id, StageName="dev", Description="first")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    deployment_id = created["DeploymentId"]
    created.pop("ResponseMetadata")
    created.pop("CreatedDate")
    assert created == {"AutoDeployed": False, "DeploymentId": deployment_id,
                       "DeploymentStatus": "DEPLOYED", "Description": "first"}
    assert v2.get_stage(ApiId=api_id, StageName="dev")["DeploymentId"] == deployment_id
    assert v2.get_deployment(ApiId=api_id, DeploymentId=deployment_id)["Description"] == "first"
    assert [d["DeploymentId"] for d in v2.get_deployments(ApiId=api_id)["Items"]] == [
        deployment_id]

    status, code, message, _ = error_of(v2.delete_deployment, ApiId=api_id,
                                        DeploymentId=deployment_id)
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith(f"Deployment {deployment_id} cannot be deleted because stage dev")

    v2.create_stage(ApiId=api_id, StageName="auto", AutoDeploy=True)
    status, code, message, _ = error_of(v2.create_deployment, ApiId=api_id, StageName="auto")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Stage auto has AutoDeploy enabled")

    status, code, message, _ = error_of(v2.create_deployment, ApiId=api_id, StageName="none")
    assert (status, code) == (404, "NotFoundException")

    status, code, message, _ = error_of(v2.get_deployment, ApiId=api_id, DeploymentId="zzzzzz")
    assert (status, code) == (404, "NotFoundException")
    assert message == "Invalid Deployment identifier specified zzzzzz"


# ---- REST APIs ----

def new_rest_api(v1, **kwargs):
    api = v1.create_rest_api(name=unique_name("rest"), **kwargs)
    root = v1.get_resources(restApiId=api["id"])["items"][0]["id"]
    return api["id"], root


def test_create_rest_api_wire_shape(server):
    status, _, body = raw_json(server, "POST", "/restapis",
                               {"name": "shop", "description": "d",
                                "endpointConfiguration": {"types": ["REGIONAL"]},
                                "binaryMediaTypes": ["image/png"]})
    assert status == 201
    assert isinstance(body.pop("createdDate"), int)
    api_id = body["id"]
    root = body.pop("rootResourceId")
    assert re.fullmatch(r"[a-z0-9]{10}", root)
    assert body == {"id": api_id, "name": "shop", "description": "d", "apiKeySource": "HEADER",
                    "endpointConfiguration": {"types": ["REGIONAL"]},
                    "binaryMediaTypes": ["image/png"], "disableExecuteApiEndpoint": False}
    status, _, listing = raw_json(server, "GET", f"/restapis/{api_id}/resources")
    assert status == 200
    assert listing == {"item": [{"id": root, "path": "/"}]}


def test_rest_api_get_list_update_delete(v1):
    created = [new_rest_api(v1)[0] for _ in range(3)]
    assert v1.get_rest_api(restApiId=created[0])["id"] == created[0]
    seen = []
    position = None
    for _ in range(100):
        kwargs = {"limit": 2}
        if position:
            kwargs["position"] = position
        page = v1.get_rest_apis(**kwargs)
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        position = page.get("position")
        if not position:
            break
    assert set(created) <= set(seen)

    updated = v1.update_rest_api(restApiId=created[0], patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"}])
    assert updated["name"] == "renamed"
    assert updated["binaryMediaTypes"] == ["image/jpeg"]

    response = v1.delete_rest_api(restApiId=created[0])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    status, code, message, header = error_of(v1.get_rest_api, restApiId=created[0])
    assert (status, code, header) == (404, "NotFoundException", "NotFoundException")
    assert message == f"Invalid API identifier specified {ACCOUNT}:{created[0]}"


def test_resources(v1):
    api_id, root = new_rest_api(v1)
    items = v1.create_resource(restApiId=api_id, parentId=root, pathPart="items")
    assert items["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert items["path"] == "/items"
    assert items["parentId"] == root
    item = v1.create_resource(restApiId=api_id, parentId=items["id"], pathPart="{id}")
    assert item["path"] == "/items/{id}"
    proxy = v1.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}"
    assert v1.get_resource(restApiId=api_id, resourceId=item["id"])["pathPart"] == "{id}"
    paths = sorted(r["path"] for r in v1.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/items", "/items/{id}", "/{proxy+}"]

    status, code, message, _ = error_of(v1.create_resource, restApiId=api_id, parentId=root,
                                        pathPart="items")
    assert (status, code) == (409, "ConflictException")
    assert message == "Another resource with the same parent already has this name: items"
    status, code, message, _ = error_of(v1.create_resource, restApiId=api_id,
                                        parentId=items["id"], pathPart="{other}")
    assert (status, code) == (400, "BadRequestException")
    assert message == (f"A sibling ({item['id']}) of this resource already has a variable path "
                       "part -- only one is allowed")
    status, code, message, _ = error_of(v1.create_resource, restApiId=api_id,
                                        parentId=proxy["id"], pathPart="deeper")
    assert (status, code) == (400, "BadRequestException")
    status, code, message, _ = error_of(v1.create_resource, restApiId=api_id, parentId=root,
                                        pathPart="a b")
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Resource's path part only allow a-zA-Z0-9._-")
    status, code, message, _ = error_of(v1.create_resource, restApiId=api_id,
                                        parentId="nothere", pathPart="x")
    assert (status, code, message) == (404, "NotFoundException",
                                       "Invalid Resource identifier specified")

    # Deleting a resource deletes its children; the root cannot be deleted.
    assert v1.delete_resource(restApiId=api_id, resourceId=items["id"])["ResponseMetadata"][
        "HTTPStatusCode"] == 202
    paths = sorted(r["path"] for r in v1.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/{proxy+}"]
    status, code, _, _ = error_of(v1.delete_resource, restApiId=api_id, resourceId=root)
    assert (status, code) == (400, "BadRequestException")


def test_methods_and_integrations(v1):
    api_id, root = new_rest_api(v1)
    proxy = v1.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")["id"]
    method = v1.put_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY",
                           authorizationType="NONE",
                           requestParameters={"method.request.path.proxy": True})
    assert method["ResponseMetadata"]["HTTPStatusCode"] == 201
    method.pop("ResponseMetadata")
    assert method == {"httpMethod": "ANY", "authorizationType": "NONE", "apiKeyRequired": False,
                      "requestParameters": {"method.request.path.proxy": True}}
    status, code, message, _ = error_of(v1.put_method, restApiId=api_id, resourceId=proxy,
                                        httpMethod="ANY", authorizationType="NONE")
    assert (status, code, message) == (409, "ConflictException",
                                       "Method already exists for this resource")
    status, code, message, _ = error_of(v1.put_method, restApiId=api_id, resourceId=proxy,
                                        httpMethod="GET", authorizationType="AWS_IAM")
    assert (status, code) == (400, "BadRequestException")

    status, code, message, _ = error_of(v1.get_integration, restApiId=api_id, resourceId=proxy,
                                        httpMethod="ANY")
    assert (status, code, message) == (404, "NotFoundException", "No integration defined for method")

    integration = v1.put_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY",
                                     type="AWS_PROXY", integrationHttpMethod="POST",
                                     uri=INVOCATION_URI)
    assert integration["ResponseMetadata"]["HTTPStatusCode"] == 201
    integration.pop("ResponseMetadata")
    assert integration == {"type": "AWS_PROXY", "httpMethod": "POST", "uri": INVOCATION_URI,
                           "connectionType": "INTERNET", "passthroughBehavior": "WHEN_NO_MATCH",
                           "timeoutInMillis": 29000, "cacheNamespace": proxy,
                           "cacheKeyParameters": []}
    v1.put_method_response(restApiId=api_id, resourceId=proxy, httpMethod="ANY",
                           statusCode="200", responseModels={"application/json": "Empty"})
    v1.put_integration_response(restApiId=api_id, resourceId=proxy, httpMethod="ANY",
                                statusCode="200", selectionPattern="")
    got = v1.get_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY")
    assert got["methodIntegration"]["uri"] == INVOCATION_URI
    assert got["methodIntegration"]["integrationResponses"] == {"200": {"statusCode": "200"}}
    assert got["methodResponses"] == {"200": {"statusCode": "200",
                                              "responseModels": {"application/json": "Empty"}}}

    summary = v1.get_resources(restApiId=api_id)["items"]
    assert [r.get("resourceMethods") for r in summary if r["id"] == proxy] == [{"ANY": {}}]
    embedded = v1.get_resources(restApiId=api_id, embed=["methods"])["items"]
    [full] = [r for r in embedded if r["id"] == proxy]
    assert full["resourceMethods"]["ANY"]["methodIntegration"]["type"] == "AWS_PROXY"

    assert v1.delete_integration(restApiId=api_id, resourceId=proxy, httpMethod="ANY")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert v1.delete_method(restApiId=api_id, resourceId=proxy, httpMethod="ANY")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    status, code, message, _ = error_of(v1.get_method, restApiId=api_id, resourceId=proxy,
                                        httpMethod="ANY")
    assert (status, code, message) == (404, "NotFoundException",
                                       "Invalid Method identifier specified")


def test_update_method_and_integration(v1):
    api_id, root = new_rest_api(v1)
    v1.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    v1.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=INVOCATION_URI)
    method = v1.update_method(restApiId=api_id, resourceId=root, httpMethod="GET",
                              patchOperations=[
                                  {"op": "replace", "path": "/operationName", "value": "Home"},
                                  {"op": "add", "path": "/requestParameters/method.request.querystring.q",
                                   "value": "true"}])
    assert method["operationName"] == "Home"
    assert method["requestParameters"] == {"method.request.querystring.q": True}

    other = INVOCATION_URI.replace("function:orders", "function:other")
    integration = v1.update_integration(restApiId=api_id, resourceId=root, httpMethod="GET",
                                        patchOperations=[
                                            {"op": "replace", "path": "/uri", "value": other},
                                            {"op": "replace", "path": "/timeoutInMillis",
                                             "value": "5000"}])
    assert integration["uri"] == other
    assert integration["timeoutInMillis"] == 5000
    assert v1.get_integration(restApiId=api_id, resourceId=root, httpMethod="GET")["uri"] == other

    status, code, message, _ = error_of(
        v1.update_integration, restApiId=api_id, resourceId=root, httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/type", "value": "HTTP"}])
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid patch path /type specified for op 'replace'.")
    status, code, message, _ = error_of(
        v1.update_method, restApiId=api_id, resourceId=root, httpMethod="GET",
        patchOperations=[{"op": "replace", "path": "/authorizationType", "value": "AWS_IAM"}])
    assert (status, code) == (400, "BadRequestException")


def test_integration_errors_rest(v1):
    api_id, root = new_rest_api(v1)
    v1.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")

    def put(**kwargs):
        params = dict(restApiId=api_id, resourceId=root, httpMethod="GET", type="AWS_PROXY",
                      integrationHttpMethod="POST", uri=INVOCATION_URI)
        params.update(kwargs)
        return v1.put_integration(**params)

    status, code, message, _ = error_of(put, integrationHttpMethod="GET")
    assert (status, code) == (400, "BadRequestException")
    assert message == ("Invalid integration HTTP method specified: GET. Lambda proxy "
                       "integrations use POST")
    status, code, message, _ = error_of(put, type="HTTP_PROXY", uri="https://example.com")
    assert (status, code) == (400, "BadRequestException")
    assert message == ("Lambent supports integration type AWS_PROXY (Lambda proxy) only; "
                       "HTTP_PROXY integrations are not implemented")
    status, code, message, _ = error_of(put, uri=FUNCTION_ARN)
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid ARN specified in the request.")
    status, code, message, _ = error_of(put, timeoutInMillis=29001)
    assert (status, code, message) == (400, "BadRequestException",
                                       "Timeout should be between 50 ms and 29000 ms")


def test_rest_deployments_and_stages(v1):
    api_id, root = new_rest_api(v1)
    status, code, message, _ = error_of(v1.create_deployment, restApiId=api_id, stageName="dev")
    assert (status, code, message) == (400, "BadRequestException",
                                       "The REST API doesn't contain any methods")
    v1.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    v1.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=INVOCATION_URI)

    deployment = v1.create_deployment(restApiId=api_id, stageName="dev", description="first",
                                      variables={"alias": "live"})
    assert deployment["ResponseMetadata"]["HTTPStatusCode"] == 201
    deployment_id = deployment["id"]
    stage = v1.get_stage(restApiId=api_id, stageName="dev")
    assert stage["deploymentId"] == deployment_id
    assert stage["variables"] == {"alias": "live"}
    assert stage["methodSettings"] == {}
    assert [d["id"] for d in v1.get_deployments(restApiId=api_id)["items"]] == [deployment_id]
    assert v1.get_deployment(restApiId=api_id, deploymentId=deployment_id)["description"] == "first"

    updated = v1.update_stage(restApiId=api_id, stageName="dev", patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "10"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "20"},
        {"op": "replace", "path": "/variables/table", "value": "t1"},
        {"op": "remove", "path": "/variables/alias"},
        {"op": "replace", "path": "/description", "value": "development"}])
    assert updated["methodSettings"]["*/*"]["throttlingRateLimit"] == 10.0
    assert updated["methodSettings"]["*/*"]["throttlingBurstLimit"] == 20
    assert updated["variables"] == {"table": "t1"}
    assert updated["description"] == "development"
    status, code, message, _ = error_of(v1.update_stage, restApiId=api_id, stageName="dev",
                                        patchOperations=[{"op": "replace", "path": "/cacheClusterEnabled",
                                                          "value": "true"}])
    assert (status, code) == (400, "BadRequestException")
    assert message.startswith("Invalid patch path /cacheClusterEnabled specified for op 'replace'.")

    created = v1.create_stage(restApiId=api_id, stageName="prod", deploymentId=deployment_id)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert sorted(s["stageName"] for s in v1.get_stages(restApiId=api_id)["item"]) == ["dev",
                                                                                       "prod"]
    status, code, message, _ = error_of(v1.create_stage, restApiId=api_id, stageName="prod",
                                        deploymentId=deployment_id)
    assert (status, code, message) == (409, "ConflictException", "Stage already exists")
    status, code, message, _ = error_of(v1.create_stage, restApiId=api_id, stageName="x",
                                        deploymentId="nothere")
    assert (status, code, message) == (404, "NotFoundException",
                                       "Invalid Deployment identifier specified")
    status, code, message, _ = error_of(v1.delete_deployment, restApiId=api_id,
                                        deploymentId=deployment_id)
    assert (status, code, message) == (400, "BadRequestException",
                                       "Active stages pointing to this deployment must be moved "
                                       "or deleted")

    assert v1.delete_stage(restApiId=api_id, stageName="prod")["ResponseMetadata"][
        "HTTPStatusCode"] == 202
    status, code, message, _ = error_of(v1.get_stage, restApiId=api_id, stageName="prod")
    assert (status, code, message) == (404, "NotFoundException",
                                       "Invalid Stage identifier specified")


def test_rest_api_with_aws_cli(server):
    created = json.loads(server.aws("apigateway", "create-rest-api", "--name", unique_name("cli"),
                                    "--output", "json").stdout)
    api_id = created["id"]
    resources = json.loads(server.aws("apigateway", "get-resources", "--rest-api-id", api_id,
                                      "--output", "json").stdout)["items"]
    root = resources[0]["id"]
    proxy = json.loads(server.aws("apigateway", "create-resource", "--rest-api-id", api_id,
                                  "--parent-id", root, "--path-part", "{proxy+}",
                                  "--output", "json").stdout)
    assert proxy["path"] == "/{proxy+}"
    server.aws("apigateway", "put-method", "--rest-api-id", api_id, "--resource-id", proxy["id"],
               "--http-method", "ANY", "--authorization-type", "NONE")
    server.aws("apigateway", "put-integration", "--rest-api-id", api_id, "--resource-id",
               proxy["id"], "--http-method", "ANY", "--type", "AWS_PROXY",
               "--integration-http-method", "POST", "--uri", INVOCATION_URI)
    deployment = json.loads(server.aws("apigateway", "create-deployment", "--rest-api-id", api_id,
                                       "--stage-name", "prod", "--output", "json").stdout)
    stage = json.loads(server.aws("apigateway", "get-stage", "--rest-api-id", api_id,
                                  "--stage-name", "prod", "--output", "json").stdout)
    assert stage["deploymentId"] == deployment["id"]


# ---- persistence ----

def build_apis(server):
    """Creates one HTTP API and one REST API with routes and stages; returns their ids."""
    v2 = server.client("apigatewayv2")
    http_api = new_http_api(v2, Target=FUNCTION_ARN)["ApiId"]
    integration_id = new_integration(v2, http_api, version="1.0")["IntegrationId"]
    v2.create_route(ApiId=http_api, RouteKey="GET /items/{id}",
                    Target=f"integrations/{integration_id}")
    v2.create_stage(ApiId=http_api, StageName="prod", StageVariables={"a": "b"})
    v2.create_deployment(ApiId=http_api, StageName="prod")

    v1 = server.client("apigateway")
    rest_api, root = new_rest_api(v1)
    proxy = v1.create_resource(restApiId=rest_api, parentId=root, pathPart="{proxy+}")["id"]
    v1.put_method(restApiId=rest_api, resourceId=proxy, httpMethod="ANY",
                  authorizationType="NONE")
    v1.put_integration(restApiId=rest_api, resourceId=proxy, httpMethod="ANY", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=INVOCATION_URI)
    v1.create_deployment(restApiId=rest_api, stageName="dev")
    return http_api, rest_api


def snapshot(server, http_api, rest_api):
    """Everything the control plane returns about both APIs, dates included."""
    v2 = server.client("apigatewayv2")
    v1 = server.client("apigateway")

    def clean(response):
        response.pop("ResponseMetadata", None)
        return response

    api = clean(v2.get_api(ApiId=http_api))
    api.pop("ApiEndpoint")
    return {
        "api": api,
        "routes": clean(v2.get_routes(ApiId=http_api)),
        "integrations": clean(v2.get_integrations(ApiId=http_api)),
        "stages": clean(v2.get_stages(ApiId=http_api)),
        "deployments": clean(v2.get_deployments(ApiId=http_api)),
        "rest_api": clean(v1.get_rest_api(restApiId=rest_api)),
        "resources": clean(v1.get_resources(restApiId=rest_api, embed=["methods"])),
        "rest_stages": clean(v1.get_stages(restApiId=rest_api)),
        "rest_deployments": clean(v1.get_deployments(restApiId=rest_api)),
    }


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL])
def test_apis_survive_restart(fresh_server, stop_signal):
    first = fresh_server()
    http_api, rest_api = build_apis(first)
    before = snapshot(first, http_api, rest_api)
    assert len(before["routes"]["Items"]) == 2
    first.stop(stop_signal)

    second = Server(first.data_dir).start()
    try:
        assert snapshot(second, http_api, rest_api) == before
        endpoint = second.client("apigatewayv2").get_api(ApiId=http_api)["ApiEndpoint"]
        assert endpoint == f"http://{http_api}.execute-api.localhost:{second.port}"
        # A deleted API stays deleted after the next restart.
        second.client("apigatewayv2").delete_api(ApiId=http_api)
        second.stop(stop_signal)
        third = Server(first.data_dir).start()
        try:
            status, code, _, _ = error_of(third.client("apigatewayv2").get_api, ApiId=http_api)
            assert (status, code) == (404, "NotFoundException")
            assert third.client("apigateway").get_rest_api(restApiId=rest_api)["id"] == rest_api
        finally:
            third.stop()
    finally:
        second.stop()


def test_start_fails_on_damaged_api_document(fresh_server):
    import sqlite3

    first = fresh_server()
    api_id = new_http_api(first.client("apigatewayv2"))["ApiId"]
    first.stop()
    with sqlite3.connect(first.data_dir / "lambent.db") as db:
        db.execute("UPDATE documents SET body = '[1]' WHERE collection = 'apigatewayv2.apis' "
                   "AND key = ?", (api_id,))
    second = Server(first.data_dir)
    with pytest.raises(RuntimeError) as raised:
        second.start()
    second.stop()
    assert (f"API Gateway APIs cannot be loaded: stored HTTP API {api_id} cannot be read: "
            "HTTP API document must be a JSON object") in str(raised.value)


def test_import_rest_api_is_refused_not_emptied(v1):
    # ImportRestApi would otherwise create an API without the document's paths.
    document = {"openapi": "3.0.1", "info": {"title": unique_name("imported"), "version": "1"},
                "paths": {"/pets": {"get": {}}}}
    before = {api["id"] for api in v1.get_rest_apis()["items"]}
    status, code, message, _ = error_of(v1.import_rest_api, body=json.dumps(document).encode())
    assert (status, code) == (501, "NotImplemented")
    assert "ImportRestApi is not implemented" in message
    assert {api["id"] for api in v1.get_rest_apis()["items"]} == before
