"""The search-api example end to end, set up as scripts/serve-examples.sh sets it up.

`lambent deploy` uploads examples/search-api, the AWS CLI quick-creates an HTTP API with the
function as its target, and plain HTTP clients search through the API's path form
(/_aws/execute-api/{id}/...) and host form ({id}.execute-api.localhost, sent as a Host header
to 127.0.0.1, so no DNS is involved).
"""

import http.client
import json

from conftest import ROOT, run_lambent

EXAMPLE = ROOT / "examples" / "search-api"
# The query serve-examples.sh uses to find the API it created on an earlier start.
FIND_API_QUERY = "Items[?Name=='search-api'] | [0].[ApiId, ApiEndpoint]"


def deploy_search_api(server):
    """Deploy the example and quick-create its HTTP API, returning the API id."""
    run_lambent(server, "deploy", "search-api", str(EXAMPLE), "--runtime", "python3.12",
                "--handler", "app.handler")
    arn = server.aws("lambda", "get-function", "--function-name", "search-api", "--query",
                     "Configuration.FunctionArn", "--output", "text").stdout.strip()
    created = json.loads(server.aws("apigatewayv2", "create-api", "--name", "search-api",
                                    "--protocol-type", "HTTP", "--target", arn).stdout)
    return created["ApiId"]


def request(server, method, path, host=None):
    """Send one unsigned request to the server and return (status, headers, body text)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Host": host} if host else {}
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def test_search_through_path_form(fresh_server):
    server = fresh_server()
    api_id = deploy_search_api(server)
    status, headers, body = request(
        server, "GET", f"/_aws/execute-api/{api_id}/search?q=moons%20with%20oceans&limit=3")
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    assert headers["Access-Control-Allow-Origin"] == "*"
    result = json.loads(body)
    assert result["query"] == "moons with oceans"
    assert [entry["id"] for entry in result["results"]] == ["europa", "ganymede", "moon"]
    assert result["total"] == 24
    assert set(result["results"][0]) == {"id", "title", "score", "snippet"}


def test_search_through_host_form(fresh_server):
    server = fresh_server()
    api_id = deploy_search_api(server)
    status, headers, body = request(server, "GET", "/search?q=geysers",
                                    host=f"{api_id}.execute-api.localhost:{server.port}")
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == "*"
    result = json.loads(body)
    assert [entry["id"] for entry in result["results"]] == ["triton"]


def test_search_errors_reach_client(fresh_server):
    server = fresh_server()
    api_id = deploy_search_api(server)
    base = f"/_aws/execute-api/{api_id}"

    status, headers, body = request(server, "GET", f"{base}/search")
    assert status == 400
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Missing query parameter 'q'" in json.loads(body)["message"]

    status, _, body = request(server, "GET", f"{base}/search?q=moon&limit=50")
    assert status == 400
    assert "'limit' must be an integer from 1 to 20" in json.loads(body)["message"]

    status, _, body = request(server, "GET", f"{base}/other?q=moon")
    assert status == 404
    assert "/other" in json.loads(body)["message"]


def test_search_preflight_reaches_function(fresh_server):
    # A quick-created API has no CORS configuration, so API Gateway routes OPTIONS to the
    # $default route and the function sends the preflight response.
    server = fresh_server()
    api_id = deploy_search_api(server)
    status, headers, _ = request(server, "OPTIONS", f"/_aws/execute-api/{api_id}/search")
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in headers["Access-Control-Allow-Methods"]


def test_search_api_found_after_restart(fresh_server):
    server = fresh_server()
    api_id = deploy_search_api(server)
    server.stop()
    server.start()

    found = server.aws("apigatewayv2", "get-apis", "--query", FIND_API_QUERY,
                       "--output", "text").stdout.split()
    assert found[0] == api_id
    assert found[1] == f"http://{api_id}.execute-api.localhost:{server.port}"
    status, _, body = request(server, "GET", f"/_aws/execute-api/{api_id}/search?q=titan")
    assert status == 200, body
    assert json.loads(body)["results"][0]["id"] == "titan"
