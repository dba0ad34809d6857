"""SigV4 authentication at the edge: wrong secrets, unknown keys, unsigned and expired
requests, tampered bodies, and `serve --no-auth`.

The error codes and messages are the ones AWS Lambda returns (HTTP 403 with
`x-amzn-ErrorType` and a JSON body with `message`).
"""

import base64
import datetime
import json
import re
import subprocess
import threading
import time
import types
import urllib.error
import urllib.request
from unittest import mock

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import AWS_CLI, ROLE, create_function, invoke_json, make_zip, unique_name

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.")
INVALID_TOKEN = "The security token included in the request is invalid."
AMZ_DATE = "%Y%m%dT%H%M%SZ"


def frozen_clock(moment):
    """Returns a stand-in for botocore.auth's datetime module whose clock reads moment (UTC)."""

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return moment

        @classmethod
        def now(cls, tz=None):
            return moment.replace(tzinfo=datetime.timezone.utc) if tz else moment

    return types.SimpleNamespace(datetime=FrozenDatetime, timezone=datetime.timezone,
                                 timedelta=datetime.timedelta)


def send(url, method="GET", body=b"", headers=None, timeout=30):
    """Sends one request with urllib and returns (status, lowercase headers, body bytes)."""
    request = urllib.request.Request(url, data=body if method != "GET" else None, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, \
                response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def signed_send(server, method, path, body=b"", key=None, secret=None, at=None, send_body=None):
    """Signs a request with botocore's SigV4Auth and sends it with urllib.

    at is the signing time as a naive UTC datetime. send_body replaces the body after signing.
    """
    default_key, default_secret = server.credentials()
    credentials = Credentials(key or default_key, secret or default_secret)
    request = AWSRequest(method=method, url=server.endpoint + path, data=body,
                         headers={"Content-Type": "application/json"})
    signer = botocore.auth.SigV4Auth(credentials, "lambda", "us-east-1")
    if at is None:
        signer.add_auth(request)
    else:
        with mock.patch.object(botocore.auth, "datetime", frozen_clock(at)):
            signer.add_auth(request)
    headers = {k: v for k, v in request.headers.items()}
    return send(server.endpoint + path, method,
                send_body if send_body is not None else body, headers)


def assert_auth_error(status, headers, body, code, message=None):
    assert status == 403
    assert headers.get("x-amzn-errortype") == code
    document = json.loads(body)
    if message is not None:
        assert document == {"message": message}
    return document["message"]


@pytest.fixture(scope="module")
def echo_function(server):
    return create_function(server.client(), {"app.py": "def handler(e, c):\n    return e\n"},
                           name=unique_name("authecho"))


# ---- wrong credentials ----

def test_wrong_secret_rejected(server):
    key, _ = server.credentials()
    client = server.client(aws_access_key_id=key, aws_secret_access_key="wrong-secret")

    with pytest.raises(ClientError) as caught:
        client.list_functions()

    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "InvalidSignatureException"
    assert response["Error"]["Message"] == SIGNATURE_MISMATCH


def test_wrong_secret_creates_nothing(server, lam):
    key, _ = server.credentials()
    client = server.client(aws_access_key_id=key, aws_secret_access_key="wrong-secret")
    name = unique_name("unauth")

    with pytest.raises(ClientError) as caught:
        client.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                               Role=ROLE, Code={"ZipFile": make_zip({"app.py": "x = 1\n"})})

    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_wrong_secret_with_aws_cli(server):
    env = server.cli_env()
    env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret"

    result = subprocess.run([AWS_CLI, "--endpoint-url", server.endpoint, "lambda",
                             "list-functions"], env=env, capture_output=True, text=True,
                            timeout=120)

    assert result.returncode != 0
    assert ("An error occurred (InvalidSignatureException) when calling the ListFunctions "
            f"operation: {SIGNATURE_MISMATCH}") in result.stderr


def test_unknown_access_key_rejected(server):
    client = server.client(aws_access_key_id="AKIAUNKNOWNKEY000000",
                           aws_secret_access_key="whatever")

    with pytest.raises(ClientError) as caught:
        client.list_functions()

    response = caught.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "UnrecognizedClientException"
    assert response["Error"]["Message"] == INVALID_TOKEN


def test_unknown_access_key_raw(server):
    status, headers, body = signed_send(server, "GET", "/2015-03-31/functions/",
                                        key="AKIAUNKNOWNKEY000000", secret="whatever")

    assert_auth_error(status, headers, body, "UnrecognizedClientException", INVALID_TOKEN)


# ---- unsigned requests ----

def test_unsigned_invoke_rejected(server, echo_function):
    url = f"{server.endpoint}/2015-03-31/functions/{echo_function}/invocations"

    status, headers, body = send(url, "POST", b'{"a": 1}',
                                 {"Content-Type": "application/json"})

    assert_auth_error(status, headers, body, "MissingAuthenticationTokenException",
                      "Missing Authentication Token")


def test_unsigned_list_rejected(server):
    status, headers, body = send(f"{server.endpoint}/2015-03-31/functions/")

    assert_auth_error(status, headers, body, "MissingAuthenticationTokenException",
                      "Missing Authentication Token")


def test_signed_raw_request_accepted(server, echo_function):
    """The signing helper itself produces requests the server accepts."""
    status, _, body = signed_send(server, "POST",
                                  f"/2015-03-31/functions/{echo_function}/invocations",
                                  b'{"a": 1}')

    assert status == 200
    assert json.loads(body) == {"a": 1}


# ---- request time ----

def test_signature_expired(server):
    signed_at = datetime.datetime.utcnow().replace(microsecond=0) - datetime.timedelta(minutes=20)

    status, headers, body = signed_send(server, "GET", "/2015-03-31/functions/", at=signed_at)

    message = assert_auth_error(status, headers, body, "InvalidSignatureException")
    match = re.fullmatch(r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) "
                         r"\((\d{8}T\d{6}Z) - 15 min\.\)", message)
    assert match, message
    assert match.group(1) == signed_at.strftime(AMZ_DATE)
    earliest = datetime.datetime.strptime(match.group(2), AMZ_DATE)
    server_now = datetime.datetime.strptime(match.group(3), AMZ_DATE)
    assert server_now - earliest == datetime.timedelta(minutes=15)
    assert abs(server_now - datetime.datetime.utcnow()) < datetime.timedelta(seconds=30)


def test_signature_from_future(server):
    signed_at = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(minutes=20)

    status, headers, body = signed_send(server, "GET", "/2015-03-31/functions/", at=signed_at)

    message = assert_auth_error(status, headers, body, "InvalidSignatureException")
    match = re.fullmatch(r"Signature not yet current: (\d{8}T\d{6}Z) is still later than "
                         r"(\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) \+ 15 min\.\)", message)
    assert match, message
    assert match.group(1) == signed_at.strftime(AMZ_DATE)


def test_signature_within_skew_accepted(server):
    signed_at = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)

    status, _, body = signed_send(server, "GET", "/2015-03-31/functions/", at=signed_at)

    assert status == 200, body
    assert "Functions" in json.loads(body)


# ---- tampering ----

def test_tampered_body_rejected(server, echo_function):
    path = f"/2015-03-31/functions/{echo_function}/invocations"

    status, headers, body = signed_send(server, "POST", path, b'{"amount": 1}',
                                        send_body=b'{"amount": 9}')

    assert_auth_error(status, headers, body, "InvalidSignatureException", SIGNATURE_MISMATCH)


def test_tampered_path_rejected(server, echo_function):
    default_key, default_secret = server.credentials()
    request = AWSRequest(method="GET", url=f"{server.endpoint}/2015-03-31/functions/",
                         headers={})
    botocore.auth.SigV4Auth(Credentials(default_key, default_secret), "lambda",
                            "us-east-1").add_auth(request)

    status, headers, body = send(f"{server.endpoint}/2015-03-31/functions/{echo_function}",
                                 "GET", headers=dict(request.headers.items()))

    assert_auth_error(status, headers, body, "InvalidSignatureException", SIGNATURE_MISMATCH)


# ---- auth turned off ----

def test_no_auth_accepts_unsigned(fresh_server):
    srv = fresh_server("--no-auth")
    name = unique_name("noauth")
    create_body = json.dumps({
        "FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler", "Role": ROLE,
        "Code": {"ZipFile": base64.b64encode(
            make_zip({"app.py": "def handler(e, c):\n    return {'got': e}\n"})).decode()},
    }).encode()

    status, _, body = send(f"{srv.endpoint}/2015-03-31/functions", "POST", create_body,
                           {"Content-Type": "application/json"})
    assert status == 201, body

    status, _, body = send(f"{srv.endpoint}/2015-03-31/functions/{name}/invocations", "POST",
                           b'{"x": 2}', {"Content-Type": "application/json"})
    assert status == 200, body
    assert json.loads(body) == {"got": {"x": 2}}

    status, _, body = send(f"{srv.endpoint}/2015-03-31/functions/")
    assert status == 200
    assert [f["FunctionName"] for f in json.loads(body)["Functions"]] == [name]


def test_no_auth_accepts_any_signature(fresh_server):
    srv = fresh_server("--no-auth")
    client = srv.client(aws_access_key_id="AKIAANYTHING00000000",
                        aws_secret_access_key="anything")

    name = create_function(client, {"app.py": "def handler(e, c):\n    return 5\n"})
    response, body = invoke_json(client, name)

    assert body == 5


# ---- Runtime API ----

def test_runtime_api_private_to_environment(lam):
    """Only the environment's own runtime receives its events.

    On AWS the Runtime API listens inside the sandbox, so no other process can fetch an
    environment's events or post results for them. Here, five processes outside the
    environment poll its Runtime API address while the function is invoked, in three rounds.
    """
    source = ("import os\n\n\ndef handler(event, context):\n"
              "    return os.environ['AWS_LAMBDA_RUNTIME_API']\n")
    name = create_function(lam, {"app.py": source}, Timeout=2)
    intercepted = []

    def poll(address):
        url = f"http://{address}/2018-06-01/runtime/invocation/next"
        try:
            with urllib.request.urlopen(url, timeout=4) as response:
                intercepted.append(response.read())
        except OSError:
            pass

    for _ in range(3):
        # A lost event ends its environment, so each round looks up the current address.
        _, address = invoke_json(lam, name)
        assert re.fullmatch(r"127\.0\.0\.1:\d+", str(address)), address
        pollers = [threading.Thread(target=poll, args=(address,)) for _ in range(5)]
        for poller in pollers:
            poller.start()
        time.sleep(0.3)

        response, body = invoke_json(lam, name, {"secret": "payload"})
        for poller in pollers:
            poller.join(timeout=6)

        assert intercepted == [], f"a process outside the environment received {intercepted}"
        assert response.get("FunctionError") is None, \
            f"the function's runtime missed the event: {body}"
        assert body == address
