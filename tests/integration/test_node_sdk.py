"""The AWS SDK for JavaScript v3 inside a Node.js handler reaches Lambent with no code change.

The test installs the newest @aws-sdk/client-lambda from the npm registry into a cache folder
outside the repository (reused by later runs) and ships it in the function's zip. It skips when
`npm` is not on PATH or the install fails, for example on a machine without network access.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS_DIR, ROLE, invoke_json, make_zip, unique_name

PACKAGE = "@aws-sdk/client-lambda"
INSTALL_TIMEOUT_S = 180
# npm 11 retries a failed fetch twice by default, with back-off. Against a registry that refuses
# connections that took 71 s before the skip, and one retry took 10 s (measured on this 2-core
# test machine).
FETCH_RETRIES = 1
MAX_ZIPPED_BYTES = 52428800  # Lambda's limit for a zip sent in the request
REGION = "us-east-1"


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lambent-tests" / "node-sdk"


def install_sdk():
    """Installs PACKAGE into the cache folder unless it is there, and returns its node_modules.

    npm installs into a scratch folder that is renamed into place only when it succeeds, so an
    interrupted install never leaves a partial tree behind for the next run to reuse.
    """
    target = cache_dir()
    modules = target / "node_modules"
    if (modules / PACKAGE / "package.json").is_file():
        return modules

    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"npm is not on PATH, so {PACKAGE} cannot be installed")

    scratch = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", f"--fetch-retries={FETCH_RETRIES}",
             "--prefix", str(scratch), PACKAGE],
            cwd=scratch, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        shutil.rmtree(scratch, ignore_errors=True)
        pytest.skip(f"npm install {PACKAGE} timed out after {INSTALL_TIMEOUT_S} s")
    if result.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        first_lines = "\n".join(result.stderr.splitlines()[:4])
        pytest.skip(f"npm install {PACKAGE} failed with exit code {result.returncode}:\n"
                    f"{first_lines}")

    if not (modules / PACKAGE / "package.json").is_file():
        shutil.rmtree(target, ignore_errors=True)  # a tree left by hand or an older layout
    try:
        scratch.rename(target)
    except OSError:
        # A concurrent run renamed its own complete install into place first; use that one.
        shutil.rmtree(scratch, ignore_errors=True)
    return modules


def sdk_version(modules):
    return json.loads((modules / PACKAGE / "package.json").read_text())["version"]


def build_zip(modules):
    """Returns zip bytes with the handler at the root and every file under node_modules."""
    files = {"index.mjs": (FUNCTIONS_DIR / "node" / "sdk_client" / "index.mjs").read_bytes()}
    for path in sorted(modules.rglob("*")):
        if path.is_file() and not path.is_symlink():
            name = path.relative_to(modules.parent).as_posix()
            files[name] = (path.read_bytes(), 0o644)
    return make_zip(files)


def test_node_sdk_v3_inside_handler(server, lam):
    """The SDK finds Lambent's endpoint, region and credentials from the environment alone."""
    modules = install_sdk()
    code = build_zip(modules)
    assert len(code) < MAX_ZIPPED_BYTES, f"zip is {len(code)} bytes"
    name = unique_name("node-sdk")
    lam.create_function(FunctionName=name, Runtime="nodejs20.x", Handler="index.handler",
                        Role=ROLE, Code={"ZipFile": code}, Timeout=30, MemorySize=512)

    response, body = invoke_json(lam, name)

    version = sdk_version(modules)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response, f"{PACKAGE} {version}: {body}"
    assert name in body["names"]
    assert body["ownArn"] == f"arn:aws:lambda:{REGION}:000000000000:function:{name}"
    assert body["region"] == REGION

    # Every request went to this server, signed with the key pair Lambent gave the function.
    access_key, _ = server.credentials()
    assert body["accessKeyId"] == access_key
    assert len(body["requests"]) >= 2
    for request in body["requests"]:
        assert request["host"] == urlsplit(server.endpoint).netloc
        assert request["authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential={access_key}/"), request["authorization"]
        assert f"/{REGION}/lambda/aws4_request," in request["authorization"]


def test_server_rejects_wrong_signature(server):
    """The server checks signatures, so the SDK's calls above succeeded only by signing right."""
    access_key, _ = server.credentials()
    client = server.client(aws_access_key_id=access_key, aws_secret_access_key="wrong-secret")

    with pytest.raises(ClientError) as caught:
        client.list_functions()

    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
