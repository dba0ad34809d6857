"""Fixtures that start the real `lambent` binary on a free loopback port.

Every test talks to the server with real clients: boto3 (Debian's python3-boto3) and the AWS
CLI v2 at /usr/bin/aws, both pointed at the server's endpoint explicitly, so nothing reaches
any other host.
"""

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("LAMBENT_BUILD_DIR", ROOT / "build" / "release"))
BINARY = BUILD / "lambent"
AWS_CLI = "/usr/bin/aws"
ROLE = "arn:aws:iam::000000000000:role/lambent-test"


class Server:
    """A running `lambent serve` with its own data directory."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)
        self.process = None
        self.port = None
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")

    def start(self, port=0):
        ready = self.data_dir.parent / (self.data_dir.name + ".ready")
        if ready.exists():
            ready.unlink()
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--listen", f"127.0.0.1:{port}",
             "--data-dir", str(self.data_dir), "--ready-file", str(ready),
             "--log-level", "debug", *self.cold_start_args(), *self.extra_args],
            stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if ready.exists() and ready.read_text().strip():
                self.port = int(ready.read_text().strip())
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"lambent serve exited early:\n{self.log()}")
            time.sleep(0.02)
        raise RuntimeError(f"lambent serve did not start in 20 s:\n{self.log()}")

    def cold_start_args(self):
        """`--cold-start` from $LAMBENT_TEST_COLD_START, so the suite can run on either path."""
        mode = os.environ.get("LAMBENT_TEST_COLD_START")
        if not mode or "--cold-start" in self.extra_args:
            return []
        return ["--cold-start", mode]

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "log_file", None):
            self.log_file.close()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")[-20000:]
        except OSError:
            return ""

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def credentials(self):
        out = subprocess.run(
            [str(BINARY), "env", "--data-dir", str(self.data_dir)],
            check=True, capture_output=True, text=True, timeout=30).stdout
        values = {}
        for line in out.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key] = value
        return values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"]

    def client(self, service="lambda", read_timeout=120, **overrides):
        key, secret = self.credentials()
        params = dict(
            endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 0}, read_timeout=read_timeout,
                          connect_timeout=10))
        params.update(overrides)
        return boto3.client(service, **params)

    def cli_env(self):
        key, secret = self.credentials()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
        return env

    def aws(self, *args, check=True, timeout=120):
        """Runs the AWS CLI v2 against this server; returns the CompletedProcess."""
        return subprocess.run(
            [AWS_CLI, "--endpoint-url", self.endpoint, *args],
            env=self.cli_env(), capture_output=True, text=True, timeout=timeout, check=check)


@pytest.fixture(scope="session")
def lambent_binary():
    if not BINARY.exists():
        pytest.fail(f"{BINARY} is missing: build with `cmake --preset release && "
                    f"cmake --build --preset release` first")
    return BINARY


@pytest.fixture(scope="session")
def server(lambent_binary, tmp_path_factory):
    """One server shared by the tests of a session; tests use unique function names."""
    srv = Server(tmp_path_factory.mktemp("lambent") / "data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_server(lambent_binary, tmp_path):
    """A server of the test's own, for tests that restart or kill it."""
    servers = []

    def make(*extra_args):
        srv = Server(tmp_path / f"data{len(servers)}", extra_args)
        servers.append(srv)
        return srv.start()

    yield make
    for srv in servers:
        srv.stop(signal.SIGKILL)


@pytest.fixture
def lam(server):
    return server.client()


def make_zip(files):
    """Returns zip bytes for {name: text or (text, mode)}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            mode = 0o644
            if isinstance(content, tuple):
                content, mode = content
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


_counter = [0]


def unique_name(prefix):
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}"


def create_function(client, files, runtime="python3.12", handler="app.handler", **kwargs):
    name = kwargs.pop("name", None) or unique_name("fn")
    client.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                           Code={"ZipFile": make_zip(files)}, **kwargs)
    return name


def invoke_json(client, name, payload=None, **kwargs):
    """Invokes synchronously; returns (response, decoded payload or raw text)."""
    response = client.invoke(FunctionName=name,
                             Payload=json.dumps(payload if payload is not None else {}),
                             **kwargs)
    raw = response["Payload"].read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw.decode(errors="replace")
    return response, body


def log_tail(response):
    return base64.b64decode(response["LogResult"]).decode(errors="replace")


FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"


def zip_folder(folder, modes=None):
    """Returns zip bytes for every file under folder, names relative to it.

    Each entry keeps the file's permission bits unless modes maps its relative name to
    another mode, so an executable `bootstrap` stays executable whatever the checkout did.
    """
    folder = Path(folder)
    modes = modes or {}
    files = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        name = path.relative_to(folder).as_posix()
        files[name] = (path.read_bytes(), modes.get(name, path.stat().st_mode & 0o777))
    return make_zip(files)


def create_function_from(client, folder, runtime="python3.12", handler="app.handler",
                         modes=None, **kwargs):
    """Creates a function from a folder under functions/ and returns its name."""
    name = kwargs.pop("name", None) or unique_name(Path(folder).name.replace("_", "-"))
    code = zip_folder(FUNCTIONS_DIR / folder, modes)
    client.create_function(FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
                           Code={"ZipFile": code}, **kwargs)
    return name


def signed_request(server, method, path, body=b"", service="lambda"):
    """Sends one SigV4-signed request with urllib and returns (status, headers, body bytes).

    The headers are an http.client.HTTPMessage, whose lookups ignore case.

    Debian's botocore 1.29 drops response fields its model does not know, LoggingConfig for
    one, so tests that check a response's whole field set read the raw JSON this way.
    """
    from urllib.error import HTTPError
    from urllib.request import Request, urlopen

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    request = AWSRequest(method=method, url=server.endpoint + path, data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = Request(prepared.url, data=body or None, method=method, headers=dict(prepared.headers))
    try:
        with urlopen(raw, timeout=30) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def run_lambent(server, *args, timeout=60, check=True):
    """Runs a `lambent` client command against server and returns the CompletedProcess.

    The command gets the server's address with --endpoint and its credentials through
    --data-dir, and no AWS_* variables from the test's own environment.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [str(BINARY), *args, "--endpoint", server.endpoint, "--data-dir", str(server.data_dir)],
        env=env, capture_output=True, text=True, timeout=timeout, check=check)
