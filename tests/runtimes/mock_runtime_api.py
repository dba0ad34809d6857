"""A Lambda Runtime API (2018-06-01) mock for testing runtime bootstraps.

The mock listens on 127.0.0.1 with a port chosen by the kernel and hands queued events to
``GET /2018-06-01/runtime/invocation/next`` in order. It records every request it receives
(method, path, headers, body and the client's port), so tests can assert exact payloads and
headers. It speaks HTTP/1.1 with keep-alive, as the AWS Runtime API does, and contains
nothing specific to one runtime.

Typical use::

    with MockRuntimeApi() as api:
        request_id = api.enqueue({"key": "value"})
        # start the runtime with AWS_LAMBDA_RUNTIME_API=api.address
        outcome = api.wait_for_outcome(request_id, timeout=10)
        assert outcome.kind == "response"
"""

import http.server
import json
import sys
import threading
import time
import uuid

API_PREFIX = "/2018-06-01/runtime"
NEXT_PATH = API_PREFIX + "/invocation/next"
INIT_ERROR_PATH = API_PREFIX + "/init/error"

DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:test-function"
DEFAULT_TIMEOUT_MS = 30_000


class RecordedRequest:
    """One request received by the mock."""

    def __init__(self, method, path, headers, body, client_port):
        self.method = method
        self.path = path
        # Header names keep the case the client sent, so look them up with header().
        self.headers = headers
        self.body = body
        self.client_port = client_port
        self.received_at = time.monotonic()

    @property
    def kind(self):
        """Return "next", "response", "error", "init_error" or "unknown"."""
        if self.path == NEXT_PATH:
            return "next"
        if self.path == INIT_ERROR_PATH:
            return "init_error"
        if self.path.startswith(API_PREFIX + "/invocation/"):
            if self.path.endswith("/response"):
                return "response"
            if self.path.endswith("/error"):
                return "error"
        return "unknown"

    @property
    def request_id(self):
        """Return the request id in a /response or /error path, or None."""
        if self.kind not in ("response", "error"):
            return None
        return self.path[len(API_PREFIX + "/invocation/"):].rsplit("/", 1)[0]

    def header(self, name, default=None):
        """Return a header value by case-insensitive name."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return default

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"RecordedRequest({self.method} {self.path}, {len(self.body)} bytes)"


class _Event:
    def __init__(self, request_id, body, headers):
        self.request_id = request_id
        self.body = body
        self.headers = headers


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A runtime that a test has killed drops its connection mid-request, which is
        # expected and not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class MockRuntimeApi:
    """Lambda Runtime API server on 127.0.0.1 that serves queued events.

    ``post_status`` is the status code returned to /response, /error and /init/error
    (202 by default, as on AWS). Setting ``drop_connection_after_next`` makes the mock close
    the TCP connection after each /next response without sending ``Connection: close``. That
    is how an idle keep-alive connection can be dropped, and a client must then reconnect.
    """

    def __init__(self):
        self._condition = threading.Condition()
        self._events = []
        self._requests = []
        self._closed = False
        self._stopped = False
        self.post_status = 202
        self.drop_connection_after_next = False
        self._server = _Server(("127.0.0.1", 0), self._make_handler())
        # A short poll interval keeps stop() fast, because serve_forever() notices a
        # shutdown only between polls.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mock-runtime-api",
            daemon=True,
        )

    @property
    def address(self):
        """Return "127.0.0.1:PORT", the value for AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        """Stop serving and release any request waiting in /next. A second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def enqueue(self, event, request_id=None, headers=None, deadline_in_ms=DEFAULT_TIMEOUT_MS):
        """Queue one invocation and return its request id.

        ``event`` is sent as is when it is bytes and as JSON otherwise. The /next response
        carries the request id, a deadline ``deadline_in_ms`` from now, the invoked function
        ARN and ``Content-Type: application/json``. ``headers`` adds to or overrides these,
        and a header whose value is None is left out.
        """
        request_id = request_id or str(uuid.uuid4())
        body = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
        merged = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + deadline_in_ms),
            "Lambda-Runtime-Invoked-Function-Arn": DEFAULT_FUNCTION_ARN,
            "Content-Type": "application/json",
        }
        merged.update(headers or {})
        merged = {name: value for name, value in merged.items() if value is not None}
        with self._condition:
            self._events.append(_Event(request_id, body, merged))
            self._condition.notify_all()
        return request_id

    @property
    def requests(self):
        """Return a copy of every request received so far, in arrival order."""
        with self._condition:
            return list(self._requests)

    def requests_of_kind(self, kind):
        return [request for request in self.requests if request.kind == kind]

    def wait_for(self, predicate, timeout, description):
        """Return the first recorded request that matches predicate.

        Raises TimeoutError naming ``description`` when none arrives within ``timeout``
        seconds.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for request in self._requests:
                    if predicate(request):
                        return request
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"timed out after {timeout} s waiting for {description}; "
                        f"received: {self._requests}"
                    )
                self._condition.wait(remaining)

    def wait_for_outcome(self, request_id, timeout):
        """Return the /response or /error request for request_id."""
        return self.wait_for(
            lambda request: request.request_id == request_id,
            timeout,
            f"a response or error for {request_id}",
        )

    def wait_for_init_error(self, timeout):
        return self.wait_for(lambda request: request.kind == "init_error", timeout, "an init error")

    def wait_for_next_count(self, count, timeout):
        """Wait until /next has been requested ``count`` times and return those requests."""
        self.wait_for(
            lambda request: len(self._next_requests_locked()) >= count,
            timeout,
            f"{count} /next requests",
        )
        return self.requests_of_kind("next")[:count]

    def _next_requests_locked(self):
        return [request for request in self._requests if request.kind == "next"]

    def _record(self, request):
        with self._condition:
            self._requests.append(request)
            self._condition.notify_all()

    def _take_event(self):
        """Return the next queued event, waiting for one, or None once the mock stops."""
        with self._condition:
            while not self._events and not self._closed:
                self._condition.wait()
            if self._closed:
                return None
            return self._events.pop(0)

    def _make_handler(self):
        mock = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # http.server writes a response's head and body separately. With Nagle's
            # algorithm on, the body would wait for the client's delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def log_message(self, format, *args):
                pass

            def _read_body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _record(self, method):
                request = RecordedRequest(
                    method,
                    self.path,
                    dict(self.headers.items()),
                    self._read_body(),
                    self.client_address[1],
                )
                mock._record(request)
                return request

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self):
                request = self._record("GET")
                if request.kind != "next":
                    self._send(404, b'{"errorMessage":"not found","errorType":"NotFound"}')
                    return
                event = mock._take_event()
                if event is None:
                    self.close_connection = True
                    return
                self._send(200, event.body, event.headers)
                if mock.drop_connection_after_next:
                    self.close_connection = True

            def do_POST(self):
                request = self._record("POST")
                if request.kind in ("response", "error", "init_error"):
                    self._send(
                        mock.post_status,
                        b'{"status":"OK"}',
                        {"Content-Type": "application/json"},
                    )
                else:
                    self._send(404, b'{"errorMessage":"not found","errorType":"NotFound"}')

        return Handler
