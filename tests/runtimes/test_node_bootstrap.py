"""Tests for runtimes/nodejs/bootstrap.mjs.

Each test writes handler files to a temporary task root, starts the real bootstrap under
/usr/bin/node against a Runtime API mock on 127.0.0.1, and asserts the exact requests the
bootstrap sends. The mock snapshots the bootstrap's stdout and stderr at the moment a result
arrives, so tests can check that an invocation's output reached the pipe before its result.
Expected payloads follow aws-lambda-nodejs-runtime-interface-client 3.x (nodejs20.x).
"""

import base64
import json
import os
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

NODE = "/usr/bin/node"
BOOTSTRAP = Path(__file__).resolve().parents[2] / "runtimes" / "nodejs" / "bootstrap.mjs"
API_PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:node-test"
WAIT_SECONDS = 15

ISO_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"

pytestmark = pytest.mark.skipif(not os.access(NODE, os.X_OK), reason=f"{NODE} is not installed")


class PipeReader:
    """Reads one pipe in a thread. snapshot() also reads whatever the pipe contains at that moment."""

    def __init__(self, read_fd):
        self._fd = read_fd
        os.set_blocking(read_fd, False)
        self._lock = threading.Lock()
        self._data = bytearray()
        self._eof = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read_available_locked(self):
        while not self._eof:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            if not chunk:
                self._eof = True
                return
            self._data.extend(chunk)

    def _run(self):
        while True:
            with self._lock:
                if self._eof:
                    return
            select.select([self._fd], [], [], 0.05)
            with self._lock:
                self._read_available_locked()

    def snapshot(self):
        with self._lock:
            self._read_available_locked()
            return self._data.decode("utf-8", errors="replace")

    def close(self):
        self._thread.join(timeout=5)
        os.close(self._fd)


class Post:
    """One POST the bootstrap sent, with the process output captured when it arrived."""

    def __init__(self, path, headers, body, trailers, stdout, stderr):
        self.path = path
        self.headers = {name.lower(): value for name, value in headers.items()}
        self.body = body
        self.trailers = trailers
        self.stdout = stdout
        self.stderr = stderr
        self.received_at = time.monotonic()

    @property
    def kind(self):
        if self.path == f"{API_PREFIX}/init/error":
            return "init_error"
        return self.path.rsplit("/", 1)[-1]

    @property
    def request_id(self):
        prefix = f"{API_PREFIX}/invocation/"
        return self.path[len(prefix):].rsplit("/", 1)[0] if self.path.startswith(prefix) else None

    def json(self):
        return json.loads(self.body)


class QuietHTTPServer(ThreadingHTTPServer):
    """HTTP server that drops the traceback for a client resetting its connection."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        # Tests kill the bootstrap while its keep-alive connection is open.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RuntimeApiMock:
    """Runtime API on 127.0.0.1:0 that hands out queued events and records every POST."""

    def __init__(self):
        self._condition = threading.Condition()
        self._events = []
        self._closed = False
        self.posts = []
        self.next_times = []
        self.output_readers = ()
        # When set, every connection is closed after one response, without "Connection: close".
        self.drop_connections = False
        self._server = QuietHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self._server.server_address[1]}"

    def invoke(self, event, request_id=None, headers=None, timeout_ms=30_000):
        """Queue one event and return its request id."""
        request_id = request_id or str(uuid.uuid4())
        merged = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + timeout_ms),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "Content-Type": "application/json",
        }
        merged.update(headers or {})
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        with self._condition:
            self._events.append((body, merged))
            self._condition.notify_all()
        return request_id

    def wait_post(self, predicate, description):
        deadline = time.monotonic() + WAIT_SECONDS
        with self._condition:
            while True:
                for post in self.posts:
                    if predicate(post):
                        return post
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    received = [post.path for post in self.posts]
                    raise TimeoutError(
                        f"timed out after {WAIT_SECONDS} s waiting for {description} (posts received: {received})"
                    )
                self._condition.wait(remaining)

    def result(self, request_id):
        return self.wait_post(lambda post: post.request_id == request_id, f"result for {request_id}")

    def init_error(self):
        return self.wait_post(lambda post: post.kind == "init_error", "init error")

    def wait_next_count(self, count):
        deadline = time.monotonic() + WAIT_SECONDS
        with self._condition:
            while len(self.next_times) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {WAIT_SECONDS} s waiting for {count} /next requests")
                self._condition.wait(remaining)
            return self.next_times[count - 1]

    def close(self):
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _take_event(self):
        with self._condition:
            while not self._events and not self._closed:
                self._condition.wait(0.2)
            return None if self._closed else self._events.pop(0)

    def _record(self, post):
        with self._condition:
            self.posts.append(post)
            self._condition.notify_all()

    def _handler_class(self):
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes. Without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK hold the body back for about 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format, *args):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _read_chunked(self):
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        break
                    body.extend(self.rfile.read(size))
                    self.rfile.readline()
                trailers = {}
                while True:
                    line = self.rfile.readline().decode("latin-1").rstrip("\r\n")
                    if not line:
                        return bytes(body), trailers
                    name, _, value = line.partition(":")
                    trailers[name.strip().lower()] = value.strip()

            def do_GET(self):
                if self.path != f"{API_PREFIX}/invocation/next":
                    self._send(404)
                    return
                with mock._condition:
                    mock.next_times.append(time.monotonic())
                    mock._condition.notify_all()
                event = mock._take_event()
                if event is None:
                    self.close_connection = True
                    return
                body, headers = event
                self._send(200, body, headers)
                self.close_connection = mock.drop_connections

            def do_POST(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body, trailers = self._read_chunked()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    trailers = {}
                outputs = [reader.snapshot() for reader in mock.output_readers] or ["", ""]
                mock._record(Post(self.path, dict(self.headers.items()), body, trailers, *outputs))
                self._send(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
                self.close_connection = mock.drop_connections

        return Handler


class NodeFunction:
    """A task root with handler files and the bootstrap process serving it."""

    def __init__(self, task_root, api):
        self.task_root = task_root
        self.api = api
        self.process = None
        self.started_at = None
        self._stdout = None
        self._stderr = None

    def write(self, relative_path, text):
        target = self.task_root / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def start(self, handler, env=None):
        environment = {
            "PATH": "/usr/bin:/bin",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": "node-test",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/node-test",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "TZ": ":UTC",
        }
        environment.update(env or {})

        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [NODE, str(BOOTSTRAP)],
            cwd=self.task_root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=stdout_write,
            stderr=stderr_write,
        )
        os.close(stdout_write)
        os.close(stderr_write)

        self._stdout = PipeReader(stdout_read)
        self._stderr = PipeReader(stderr_read)
        self.api.output_readers = (self._stdout, self._stderr)
        return self

    @property
    def stdout(self):
        return self._stdout.snapshot()

    @property
    def stderr(self):
        return self._stderr.snapshot()

    def wait_exit(self, timeout=WAIT_SECONDS):
        return self.process.wait(timeout=timeout)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(timeout=5)
        for reader in (self._stdout, self._stderr):
            if reader is not None:
                reader.close()


@pytest.fixture
def api():
    mock = RuntimeApiMock()
    yield mock
    mock.close()


@pytest.fixture
def function(tmp_path, api):
    task_root = tmp_path / "task"
    task_root.mkdir()
    node_function = NodeFunction(task_root, api)
    yield node_function
    node_function.stop()


def invoke(function, event=None, **kwargs):
    request_id = function.api.invoke({} if event is None else event, **kwargs)
    return function.api.result(request_id)


def log_records(stdout):
    """Split text-format log output into records of (timestamp, request id, level, message)."""
    pattern = re.compile(rf"^({ISO_TIMESTAMP})\t([^\t]*)\t([A-Z]+)\t(.*)$")
    records = []
    for line in stdout.split("\n"):
        match = pattern.match(line)
        if match:
            records.append(match.groups())
    return records


# ---------------------------------------------------------------------------------------------
# Handler styles


def test_async_esm_handler(function):
    function.write("index.mjs", "export const handler = async (event) => ({ echo: event, n: 1 });\n")
    function.start("index.handler")

    post = invoke(function, {"key": "value"})

    assert post.kind == "response"
    assert post.body == b'{"echo":{"key":"value"},"n":1}'
    assert post.headers["content-type"] == "application/json"


def test_commonjs_handler(function):
    function.write("index.js", "exports.handler = async () => 'from cjs';\n")
    function.start("index.handler")

    assert invoke(function).body == b'"from cjs"'


def test_js_with_package_type_module(function):
    function.write("package.json", '{"type": "module"}\n')
    function.write(
        "index.js",
        "const value = await Promise.resolve(7);\n"
        "export const handler = async () => ({ esm: typeof require === 'undefined', value });\n",
    )
    function.start("index.handler")

    assert invoke(function).json() == {"esm": True, "value": 7}


def test_cjs_extension_handler(function):
    function.write("package.json", '{"type": "module"}\n')
    function.write("lib.cjs", "module.exports.handler = async () => typeof require;\n")
    function.start("lib.handler")

    assert invoke(function).json() == "function"


def test_callback_handler(function):
    function.write(
        "index.js",
        "exports.handler = (event, context, callback) => {\n"
        "  setTimeout(() => callback(null, { doubled: event.n * 2 }), 10);\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function, {"n": 21})

    assert post.kind == "response"
    assert post.json() == {"doubled": 42}


def test_callback_with_error(function):
    function.write(
        "index.js",
        "exports.handler = (event, context, callback) => { callback(new Error('callback failed')); };\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    body = post.json()
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "callback failed"
    assert body["trace"][0] == "Error: callback failed"
    assert post.headers["lambda-runtime-function-error-type"] == "Error"


def test_callback_with_string_error(function):
    function.write("index.js", "exports.handler = (event, context, callback) => callback('plain failure');\n")
    function.start("index.handler")

    post = invoke(function)

    assert post.json() == {"errorType": "string", "errorMessage": "plain failure", "trace": []}
    assert post.headers["lambda-runtime-function-error-type"] == "string"


def test_context_succeed(function):
    function.write("index.js", "exports.handler = function (event, context) { context.succeed({ ok: true }); };\n")
    function.start("index.handler")

    assert invoke(function).body == b'{"ok":true}'


def test_context_fail_and_done(function):
    function.write(
        "index.js",
        "let calls = 0;\n"
        "exports.handler = function (event, context) {\n"
        "  calls += 1;\n"
        "  if (calls === 1) context.fail(new TypeError('bad input'));\n"
        "  else if (calls === 2) context.fail();\n"
        "  else context.done(null, 'done value');\n"
        "};\n",
    )
    function.start("index.handler")

    first = invoke(function)
    second = invoke(function)
    third = invoke(function)

    assert first.kind == "error"
    assert first.json()["errorType"] == "TypeError"
    assert first.json()["errorMessage"] == "bad input"
    assert second.json() == {"errorType": "string", "errorMessage": "handled", "trace": []}
    assert third.body == b'"done value"'


def test_only_first_result_counts(function):
    function.write(
        "index.js",
        "exports.handler = (event, context, callback) => {\n"
        "  context.callbackWaitsForEmptyEventLoop = false;\n"
        "  callback(null, 'first');\n"
        "  callback(null, 'second');\n"
        "  context.succeed('third');\n"
        "};\n",
    )
    function.start("index.handler")

    first = invoke(function)
    function.api.wait_next_count(2)

    assert first.body == b'"first"'
    assert len([post for post in function.api.posts if post.kind != "init_error"]) == 1


def test_sync_handler_return_value_ignored(function):
    # The AWS runtime reads a result only from a promise or a callback. A plain returned value
    # is dropped, and the invocation succeeds with null once the event loop is empty.
    function.write("index.js", "exports.handler = (event, context) => ({ ignored: true });\n")
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "response"
    assert post.body == b"null"


def test_async_undefined_result_is_null(function):
    function.write("index.mjs", "export const handler = async () => {};\n")
    function.start("index.handler")

    assert invoke(function).body == b"null"


def test_sync_function_returning_promise(function):
    function.write("index.js", "exports.handler = (event) => new Promise((resolve) => setTimeout(() => resolve(event), 5));\n")
    function.start("index.handler")

    assert invoke(function, [1, 2]).body == b"[1,2]"


def test_unserializable_result(function):
    function.write("index.mjs", "export const handler = async () => { const a = {}; a.self = a; return a; };\n")
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    assert post.json()["errorType"] == "Error"
    assert post.json()["errorMessage"] == "Unable to stringify response body"


def test_nested_handler_name(function):
    function.write("index.js", "exports.api = { v1: { handler: async () => 'nested' } };\n")
    function.start("index.api.v1.handler")

    assert invoke(function).body == b'"nested"'


def test_subfolder_handler(function):
    function.write("src/app.mjs", "export const handler = async () => import.meta.url;\n")
    function.start("src/app.handler")

    assert invoke(function).json() == (function.task_root / "src" / "app.mjs").as_uri()


def test_node_modules_package_handler(function):
    function.write("node_modules/pkg/package.json", '{"main": "main.js"}\n')
    function.write("node_modules/pkg/main.js", "exports.handler = async () => 'from package';\n")
    function.start("pkg.handler")

    assert invoke(function).body == b'"from package"'


def test_module_state_persists(function):
    function.write(
        "index.mjs",
        "let count = 0;\nexport const handler = async () => ({ count: ++count, pid: process.pid });\n",
    )
    function.start("index.handler")

    first = invoke(function).json()
    second = invoke(function).json()

    assert first["count"] == 1
    assert second["count"] == 2
    assert first["pid"] == second["pid"] == function.process.pid


# ---------------------------------------------------------------------------------------------
# Invocation errors


def test_thrown_error_shape(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n  throw new Error('boom');\n};\n",
    )
    function.start("index.handler")

    request_id = function.api.invoke({})
    post = function.api.result(request_id)

    body = post.json()
    assert post.kind == "error"
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "boom"
    assert body["trace"][0] == "Error: boom"
    handler_url = (function.task_root / "index.mjs").as_uri()
    assert body["trace"][1] == f"    at Runtime.handler ({handler_url}:2:9)"
    assert post.headers["lambda-runtime-function-error-type"] == "Error"

    records = [record for record in log_records(post.stdout) if record[2] == "ERROR"]
    assert len(records) == 1
    _, logged_id, _, message = records[0]
    assert logged_id == request_id
    assert message.startswith("Invoke Error \t{")
    logged = json.loads(message[len("Invoke Error \t"):])
    assert logged["errorType"] == "Error"
    assert logged["errorMessage"] == "boom"
    assert logged["stack"] == body["trace"]


def test_thrown_custom_error_properties(function):
    function.write(
        "index.mjs",
        "class ValidationError extends Error {\n"
        "  constructor(m) { super(m); this.name = 'ValidationError'; this.field = 'email'; }\n"
        "}\n"
        "export const handler = async () => { throw new ValidationError('invalid email'); };\n",
    )
    function.start("index.handler")

    post = invoke(function)

    body = post.json()
    assert body["errorType"] == "ValidationError"
    assert body["errorMessage"] == "invalid email"
    assert body["trace"][0] == "ValidationError: invalid email"
    assert post.headers["lambda-runtime-function-error-type"] == "ValidationError"
    logged_line = post.stdout.split("Invoke Error \t", 1)[1]
    logged = json.loads(logged_line.split("\n", 1)[0])
    assert logged["field"] == "email"


def test_thrown_string(function):
    function.write("index.mjs", "export const handler = async () => { throw 'the string'; };\n")
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b'{"errorType":"string","errorMessage":"the string","trace":[]}'
    assert post.headers["lambda-runtime-function-error-type"] == "string"


def test_thrown_object(function):
    function.write("index.mjs", "export const handler = async () => { throw { code: 42 }; };\n")
    function.start("index.handler")

    assert invoke(function).json() == {"errorType": "object", "errorMessage": "[object Object]", "trace": []}


def test_invalid_event_json(function):
    function.write("index.mjs", "export const handler = async (event) => event;\n")
    function.start("index.handler")

    post = invoke(function, b"{not json")

    assert post.kind == "error"
    assert post.json()["errorType"] == "SyntaxError"


def test_runtime_continues_after_error(function):
    function.write(
        "index.mjs",
        "export const handler = async (event) => { if (event.fail) throw new Error('x'); return 'ok'; };\n",
    )
    function.start("index.handler")

    assert invoke(function, {"fail": True}).kind == "error"
    assert invoke(function, {"fail": False}).body == b'"ok"'


def test_uncaught_exception_exits(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  setTimeout(() => { throw new RangeError('late failure'); }, 10);\n"
        "  return new Promise(() => {});\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    assert post.json()["errorType"] == "RangeError"
    assert post.json()["errorMessage"] == "late failure"
    assert function.wait_exit() == 129
    assert "\tERROR\tUncaught Exception \t{" in function.stdout


def test_unhandled_rejection_exits(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  Promise.reject(new Error('nobody caught me'));\n"
        "  return new Promise(() => {});\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    assert post.json()["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert post.json()["errorMessage"] == "Error: nobody caught me"
    assert post.json()["trace"][0] == "Runtime.UnhandledPromiseRejection: Error: nobody caught me"
    assert function.wait_exit() == 128
    assert "\tERROR\tUnhandled Promise Rejection \t{" in function.stdout


def test_crash_after_outcome_posts_nothing(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  setTimeout(() => { throw new Error('after the response'); }, 200);\n"
        "  return 'answered';\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b'"answered"'
    assert function.wait_exit() == 129
    assert [p.kind for p in function.api.posts] == ["response"]
    assert "after the response" in function.stdout


def test_async_promise_never_settles(function):
    function.write("index.mjs", "export const handler = async () => new Promise(() => {});\n")
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    assert post.json()["errorType"] == "Runtime.NodeJsExit"
    assert post.json()["errorMessage"].startswith(
        "The Lambda runtime client detected an unexpected Node.js exit code."
    )
    assert invoke(function).kind == "error"  # The process keeps serving.


# ---------------------------------------------------------------------------------------------
# Init errors


def assert_init_error(function, error_type, message, trace_head=None):
    post = function.api.init_error()
    body = post.json()
    assert post.headers["lambda-runtime-function-error-type"] == error_type
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == error_type
    assert body["errorMessage"] == message
    assert body["trace"][0] == (trace_head or f"{error_type}: {message}".split("\n")[0])
    assert function.wait_exit() == 129
    assert function.api.next_times == []
    assert "\tundefined\tERROR\tUncaught Exception \t{" in post.stdout
    return body


def test_init_missing_module(function):
    function.start("index.handler")

    body = assert_init_error(
        function,
        "Runtime.ImportModuleError",
        f"Error: Cannot find module 'index'\nRequire stack:\n- {BOOTSTRAP}",
    )
    assert body["trace"][:3] == [
        "Runtime.ImportModuleError: Error: Cannot find module 'index'",
        "Require stack:",
        f"- {BOOTSTRAP}",
    ]


def test_init_missing_dependency(function):
    function.write("index.js", "const missing = require('not-installed');\nexports.handler = async () => 1;\n")
    function.start("index.handler")

    post = function.api.init_error()

    assert post.json()["errorType"] == "Runtime.ImportModuleError"
    assert post.json()["errorMessage"].startswith(
        f"Error: Cannot find module 'not-installed'\nRequire stack:\n- {function.task_root / 'index.js'}\n"
    )


def test_init_missing_handler(function):
    function.write("index.mjs", "export const other = async () => 1;\n")
    function.start("index.nothere")

    assert_init_error(function, "Runtime.HandlerNotFound", "index.nothere is undefined or not exported")


def test_init_handler_not_function(function):
    function.write("index.mjs", "export const handler = 5;\n")
    function.start("index.handler")

    assert_init_error(function, "Runtime.HandlerNotFound", "index.handler is not a function")


def test_init_malformed_handler(function):
    function.write("index.mjs", "export const handler = async () => 1;\n")
    function.start("index")

    assert_init_error(function, "Runtime.MalformedHandlerName", "Bad handler")


def test_init_relative_handler_path(function):
    function.start("../index.handler")

    assert_init_error(
        function,
        "Runtime.MalformedHandlerName",
        "'../index.handler' is not a valid handler name. "
        "Use absolute paths when specifying root directories in handler names.",
    )


def test_init_syntax_error_esm(function):
    function.write("index.mjs", "export const handler = async () => {\n")
    function.start("index.handler")

    assert_init_error(function, "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected end of input")


def test_init_syntax_error_cjs(function):
    function.write("index.js", "exports.handler = async () => { return 1 }}\n")
    function.start("index.handler")

    assert_init_error(function, "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token '}'")


def test_init_top_level_throw(function):
    function.write("index.mjs", "throw new TypeError('config missing');\nexport const handler = async () => 1;\n")
    function.start("index.handler")

    body = assert_init_error(function, "TypeError", "config missing")
    assert body["trace"][1].startswith(f"    at {(function.task_root / 'index.mjs').as_uri()}:1:")


def test_init_top_level_throw_cjs(function):
    function.write("index.js", "throw new Error('cjs init failed');\n")
    function.start("index.handler")

    assert_init_error(function, "Error", "cjs init failed")


def test_init_esm_missing_package(function):
    function.write("index.mjs", "import 'not-installed';\nexport const handler = async () => 1;\n")
    function.start("index.handler")

    # ESM resolution errors carry ERR_MODULE_NOT_FOUND and are passed through unwrapped.
    assert_init_error(
        function,
        "Error",
        f"Cannot find package 'not-installed' imported from {function.task_root / 'index.mjs'}",
        trace_head="Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'not-installed' imported from "
        f"{function.task_root / 'index.mjs'}",
    )


# ---------------------------------------------------------------------------------------------
# Context, environment and logs


def test_context_fields(function):
    function.write(
        "index.mjs",
        "export const handler = async (event, context) => ({\n"
        "  keys: Object.keys(context),\n"
        "  awsRequestId: context.awsRequestId,\n"
        "  functionName: context.functionName,\n"
        "  functionVersion: context.functionVersion,\n"
        "  invokedFunctionArn: context.invokedFunctionArn,\n"
        "  memoryLimitInMB: context.memoryLimitInMB,\n"
        "  logGroupName: context.logGroupName,\n"
        "  logStreamName: context.logStreamName,\n"
        "  identity: context.identity,\n"
        "  clientContext: context.clientContext,\n"
        "  remaining: context.getRemainingTimeInMillis(),\n"
        "  waits: context.callbackWaitsForEmptyEventLoop,\n"
        "  traceId: process.env._X_AMZN_TRACE_ID,\n"
        "});\n",
    )
    function.start("index.handler")
    client_context = {"client": {"installation_id": "abc"}, "custom": {"k": "v"}, "env": {}}
    identity = {"cognitoIdentityId": "us-east-1:123", "cognitoIdentityPoolId": "us-east-1:pool"}

    request_id = function.api.invoke(
        {},
        timeout_ms=5000,
        headers={
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity),
        },
    )
    result = function.api.result(request_id).json()

    assert result["keys"] == [
        "callbackWaitsForEmptyEventLoop", "succeed", "fail", "done",
        "functionVersion", "functionName", "memoryLimitInMB", "logGroupName", "logStreamName",
        "clientContext", "identity", "invokedFunctionArn", "awsRequestId", "tenantId",
        "getRemainingTimeInMillis",
    ]
    assert result["awsRequestId"] == request_id
    assert result["functionName"] == "node-test"
    assert result["functionVersion"] == "$LATEST"
    assert result["invokedFunctionArn"] == FUNCTION_ARN
    assert result["memoryLimitInMB"] == "256"
    assert result["logGroupName"] == "/aws/lambda/node-test"
    assert result["logStreamName"] == "2024/01/01/[$LATEST]0123456789abcdef"
    assert result["identity"] == identity
    assert result["clientContext"] == client_context
    assert 0 < result["remaining"] <= 5000
    assert result["waits"] is True
    assert result["traceId"] == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_context_without_optional_headers(function):
    function.write(
        "index.mjs",
        "export const handler = async (e, c) => ({ identity: c.identity ?? 'none', cc: c.clientContext ?? 'none',"
        " trace: process.env._X_AMZN_TRACE_ID ?? 'unset' });\n",
    )
    function.start("index.handler")

    result = invoke(function, headers={"Lambda-Runtime-Trace-Id": ""}).json()

    assert result == {"identity": "none", "cc": "none", "trace": "unset"}


def test_invalid_client_context(function):
    function.write("index.mjs", "export const handler = async () => 'unreachable';\n")
    function.start("index.handler")

    post = invoke(function, headers={"Lambda-Runtime-Client-Context": "{broken"})

    assert post.kind == "error"
    assert post.json()["errorMessage"].startswith("Cannot parse ClientContext as json: SyntaxError:")


def test_console_record_format(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  console.log('hello %d', 42, { a: 1 });\n"
        "  console.info('info');\n"
        "  console.warn('warn');\n"
        "  console.error('error');\n"
        "  console.debug('debug');\n"
        "  console.trace('trace');\n"
        "  console.log('line one\\nline two');\n"
        "  process.stdout.write('raw write\\n');\n"
        "  return 1;\n"
        "};\n",
    )
    function.start("index.handler")

    request_id = function.api.invoke({})
    post = function.api.result(request_id)

    records = log_records(post.stdout)
    assert [(record[1], record[2], record[3]) for record in records] == [
        (request_id, "INFO", "hello 42 { a: 1 }"),
        (request_id, "INFO", "info"),
        (request_id, "WARN", "warn"),
        (request_id, "ERROR", "error"),
        (request_id, "DEBUG", "debug"),
        (request_id, "TRACE", "trace"),
        (request_id, "INFO", "line one\rline two"),
    ]
    assert "\nraw write\n" in post.stdout
    assert post.stderr == ""


def test_console_during_init_has_undefined_request_id(function):
    function.write("index.mjs", "console.log('loading');\nexport const handler = async () => 1;\n")
    function.start("index.handler")

    post = invoke(function)

    assert ("undefined", "INFO", "loading") == log_records(post.stdout)[0][1:]


def test_json_log_format(function):
    function.write(
        "index.mjs",
        "export const handler = async () => { console.info('hi', 5); console.debug('hidden'); throw new Error('bad'); };\n",
    )
    function.start("index.handler", env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"})

    request_id = function.api.invoke({})
    post = function.api.result(request_id)

    records = [json.loads(line) for line in post.stdout.splitlines()]
    assert [(record["level"], record["requestId"]) for record in records] == [
        ("INFO", request_id),
        ("ERROR", request_id),
    ]
    assert records[0]["message"] == "hi 5"
    assert re.fullmatch(ISO_TIMESTAMP, records[0]["timestamp"])
    # A lone Error argument is serialized in place of the message.
    error = records[1]["message"]
    assert error["errorType"] == "Error"
    assert error["errorMessage"] == "bad"
    assert error["stackTrace"][0] == "Error: bad"


def test_environment_passes_through(function):
    function.write(
        "index.mjs",
        "export const handler = async () => ({ endpoint: process.env.AWS_ENDPOINT_URL, tz: process.env.TZ,"
        " cwd: process.cwd(), env: process.env.AWS_EXECUTION_ENV });\n",
    )
    function.start("index.handler")

    assert invoke(function).json() == {
        "endpoint": "http://127.0.0.1:9",
        "tz": ":UTC",
        "cwd": str(function.task_root),
        "env": "AWS_Lambda_nodejs20.x",
    }


# ---------------------------------------------------------------------------------------------
# Event loop and output ordering


def test_callback_waits_for_empty_event_loop(function):
    function.write(
        "index.js",
        "exports.handler = (event, context, callback) => {\n"
        "  setTimeout(() => console.log('timer fired'), 300);\n"
        "  callback(null, 'waited');\n"
        "};\n",
    )
    function.start("index.handler")
    function.api.wait_next_count(1)

    sent_at = time.monotonic()
    post = invoke(function)

    assert post.body == b'"waited"'
    assert "timer fired" in post.stdout
    assert post.received_at - sent_at >= 0.28


def test_callback_does_not_wait_when_disabled(function):
    function.write(
        "index.js",
        "exports.handler = (event, context, callback) => {\n"
        "  context.callbackWaitsForEmptyEventLoop = false;\n"
        "  setTimeout(() => console.log('timer fired'), 1000);\n"
        "  callback(null, 'immediate');\n"
        "};\n",
    )
    function.start("index.handler")
    function.api.wait_next_count(1)

    sent_at = time.monotonic()
    post = invoke(function)

    assert post.body == b'"immediate"'
    assert "timer fired" not in post.stdout
    assert post.received_at - sent_at < 0.9
    deadline = time.monotonic() + WAIT_SECONDS
    while "timer fired" not in function.stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "timer fired" in function.stdout  # The timer still runs after the response.


def test_async_handler_does_not_wait(function):
    function.write(
        "index.mjs",
        "export const handler = async () => { setTimeout(() => {}, 1000); return 'async'; };\n",
    )
    function.start("index.handler")
    function.api.wait_next_count(1)

    sent_at = time.monotonic()
    post = invoke(function)

    assert post.body == b'"async"'
    assert post.received_at - sent_at < 0.9


def test_output_reaches_pipe_before_result(function):
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  process.stdout.write('o'.repeat(1 << 20) + '\\nstdout end\\n');\n"
        "  process.stderr.write('e'.repeat(1 << 19) + '\\nstderr end\\n');\n"
        "  console.log('console end');\n"
        "  return 'flushed';\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b'"flushed"'
    assert post.stdout.count("o") >= 1 << 20
    assert "\nstdout end\n" in post.stdout
    assert "\tINFO\tconsole end\n" in post.stdout
    assert post.stdout.index("stdout end") < post.stdout.index("console end")
    assert "\nstderr end\n" in post.stderr


def test_console_waits_for_full_pipe(function):
    # Touching process.stdout makes Node switch a pipe on fd 1 to non-blocking mode, so a large
    # synchronous write meets EAGAIN while the reader catches up.
    function.write(
        "index.mjs",
        "export const handler = async () => {\n"
        "  process.stdout.isTTY;\n"
        "  console.log('c'.repeat(1 << 20));\n"
        "  console.log('after big record');\n"
        "  return 'ok';\n"
        "};\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b'"ok"'
    records = log_records(post.stdout)
    assert [record[3] for record in records] == ["c" * (1 << 20), "after big record"]


def test_error_output_reaches_pipe_before_error(function):
    function.write(
        "index.mjs",
        "export const handler = async () => { process.stdout.write('x'.repeat(300000) + '\\nbefore\\n'); throw new Error('after'); };\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.kind == "error"
    assert "\nbefore\n" in post.stdout
    assert "Invoke Error" in post.stdout


# ---------------------------------------------------------------------------------------------
# Runtime API connection


def test_server_dropping_keep_alive_connections(function):
    function.write("index.mjs", "export const handler = async (event) => event.n;\n")
    function.api.drop_connections = True
    function.start("index.handler")

    results = [invoke(function, {"n": n}).body for n in range(5)]

    assert results == [b"0", b"1", b"2", b"3", b"4"]


def test_missing_runtime_api_address(function):
    function.write("index.mjs", "export const handler = async () => 1;\n")
    function.start("index.handler", env={"AWS_LAMBDA_RUNTIME_API": ""})

    assert function.wait_exit() == 1
    assert "invalid AWS_LAMBDA_RUNTIME_API ''" in function.stdout


# ---------------------------------------------------------------------------------------------
# Response streaming


def test_streaming_handler(function):
    function.write(
        "index.mjs",
        "export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {\n"
        "  responseStream.setContentType('text/plain');\n"
        "  responseStream.write('hello ');\n"
        "  await new Promise((resolve) => setTimeout(resolve, 20));\n"
        "  responseStream.end(context.awsRequestId);\n"
        "});\n",
    )
    function.start("index.handler")

    request_id = function.api.invoke({})
    post = function.api.result(request_id)

    assert post.kind == "response"
    assert post.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert post.headers["content-type"] == "text/plain"
    assert post.body == f"hello {request_id}".encode()
    assert post.trailers == {}
    assert invoke(function).kind == "response"  # The loop continues.


def test_streaming_http_integration_prelude(function):
    function.write(
        "index.mjs",
        "export const handler = awslambda.streamifyResponse(async (event, responseStream) => {\n"
        "  const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201 });\n"
        "  stream.end('body');\n"
        "});\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    assert post.body == b'{"statusCode":201}' + b"\0" * 8 + b"body"


def test_streaming_error_in_trailers(function):
    function.write(
        "index.mjs",
        "export const handler = awslambda.streamifyResponse(async (event, responseStream) => {\n"
        "  responseStream.write('partial');\n"
        "  throw new Error('stream broke');\n"
        "});\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b"partial"
    assert post.trailers["lambda-runtime-function-error-type"] == "Error"
    error = json.loads(base64.b64decode(post.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "Error"
    assert error["errorMessage"] == "stream broke"
    assert error["trace"][0] == "Error: stream broke"


def test_streaming_requires_async_handler(function):
    function.write(
        "index.mjs",
        "export const handler = awslambda.streamifyResponse((event, responseStream) => {});\n",
    )
    function.start("index.handler")

    post = invoke(function)

    assert post.body == b""
    assert post.trailers["lambda-runtime-function-error-type"] == "string"
    error = json.loads(base64.b64decode(post.trailers["lambda-runtime-function-error-body"]))
    assert error == {
        "errorType": "string",
        "errorMessage": "Streaming does not support non-async handlers.",
        "trace": [],
    }
