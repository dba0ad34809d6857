"""An HTTP/1.1 client for the Lambda Runtime API (2018-06-01)."""

import sys
import time

# The C module behind ``socket``: the same socket type and functions, without the ~2 ms
# that socket.py spends on its enum wrappers at start (measured with Python 3.11.2).
import _socket

API_VERSION_PREFIX = "/2018-06-01/runtime"
NEXT_INVOCATION_PATH = API_VERSION_PREFIX + "/invocation/next"
INIT_ERROR_PATH = API_VERSION_PREFIX + "/init/error"

# A /next response without Lambda-Runtime-Deadline-Ms gets the longest deadline a Lambda
# function can have (the 900 s maximum timeout), so get_remaining_time_in_millis() stays a
# finite, positive number.
MISSING_DEADLINE_SECONDS = 900.0


class RuntimeApiError(Exception):
    """A Runtime API response was malformed or had an unexpected status code.

    ``status`` is the HTTP status code, or None when the response could not be parsed.
    """

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class _ConnectionClosed(ConnectionError):
    """The Runtime API closed the connection before a complete response."""


class Invocation:
    """One event from GET /invocation/next, with the headers that describe it."""

    def __init__(self, headers, body):
        self.request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.trace_id = headers.get("lambda-runtime-trace-id")
        self.client_context = headers.get("lambda-runtime-client-context")
        self.cognito_identity = headers.get("lambda-runtime-cognito-identity")
        self.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        self.content_type = headers.get("content-type")
        self.body = body

        # The deadline is kept on the monotonic clock, so a wall-clock step during the
        # invocation does not change the remaining time.
        deadline = headers.get("lambda-runtime-deadline-ms", "")
        now = time.monotonic()
        if deadline.isascii() and deadline.isdigit():
            self.deadline_monotonic = now + (int(deadline) / 1000.0 - time.time())
        else:
            self.deadline_monotonic = now + MISSING_DEADLINE_SECONDS


class RuntimeApiClient:
    """A Runtime API client over one keep-alive TCP connection, for one thread.

    It speaks only what the Runtime API needs (Content-Length and chunked bodies, no TLS,
    no redirects), which keeps http.client and the email parser it imports (about 15 ms on
    Python 3.11.2) off the cold-start path. When a reused connection turns out to be closed,
    the request is sent once more on a new connection. Methods raise OSError when the
    Runtime API cannot be reached and RuntimeApiError for an unexpected response.
    """

    # Bodies up to this size go out in the same write as the request head.
    _COALESCE_LIMIT = 64 * 1024
    _RECEIVE_SIZE = 64 * 1024
    _MAX_HEAD_SIZE = 1024 * 1024

    def __init__(self, address):
        """Prepare a client for address, "HOST:PORT". Raises ValueError for another form."""
        host, separator, port = address.rpartition(":")
        if not separator or not host or not port.isdigit():
            raise ValueError(f"AWS_LAMBDA_RUNTIME_API must be HOST:PORT, got {address!r}")
        self._host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self._port = int(port)
        self._address = address
        self._user_agent = "lambent-python/%d.%d.%d" % sys.version_info[:3]
        self._socket = None
        self._buffer = bytearray()

    def next_invocation(self):
        """Wait for the next event and return it as an Invocation."""
        status, headers, body = self._request("GET", NEXT_INVOCATION_PATH)
        if status != 200:
            raise RuntimeApiError(
                f"GET {NEXT_INVOCATION_PATH} returned HTTP {status}: {body[:200]!r}", status
            )
        invocation = Invocation(headers, body)
        if not invocation.request_id:
            raise RuntimeApiError(
                f"GET {NEXT_INVOCATION_PATH} returned no Lambda-Runtime-Aws-Request-Id header"
            )
        return invocation

    def post_invocation_response(self, request_id, payload, content_type):
        path = f"{API_VERSION_PREFIX}/invocation/{request_id}/response"
        self._post(path, payload, {"Content-Type": content_type})

    def post_invocation_error(self, request_id, payload, error_type):
        """Post a JSON error payload, with error_type in Lambda-Runtime-Function-Error-Type."""
        path = f"{API_VERSION_PREFIX}/invocation/{request_id}/error"
        self._post(path, payload, _error_headers(error_type))

    def post_init_error(self, payload, error_type):
        self._post(INIT_ERROR_PATH, payload, _error_headers(error_type))

    def close(self):
        if self._socket is not None:
            try:
                self._socket.close()
            except OSError:
                pass
        self._socket = None
        self._buffer.clear()

    def _post(self, path, payload, headers):
        status, _, body = self._request("POST", path, payload, headers)
        if not 200 <= status < 300:
            raise RuntimeApiError(f"POST {path} returned HTTP {status}: {body[:200]!r}", status)

    def _request(self, method, path, body=None, headers=None):
        """Send one request and return (status, headers with lowercase names, body)."""
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self._address}",
            f"User-Agent: {self._user_agent}",
        ]
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}")
        head = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")

        for attempt in (1, 2):
            reused = self._socket is not None
            if not reused:
                self._connect()
            try:
                if body is None:
                    self._socket.sendall(head)
                elif len(body) <= self._COALESCE_LIMIT:
                    self._socket.sendall(head + body)
                else:
                    self._socket.sendall(head)
                    self._socket.sendall(body)
                return self._read_response(method)
            except RuntimeApiError:
                self.close()
                raise
            except OSError:
                self.close()
                # Only a reused connection may have been closed while idle. A failure on a
                # new connection is a real one, so it is raised.
                if not reused or attempt == 2:
                    raise
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _connect(self):
        last_error = None
        for family, kind, protocol, _, address in _socket.getaddrinfo(
            self._host, self._port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, kind, protocol)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self._socket = sock
            self._buffer.clear()
            return
        raise last_error or OSError(f"no address found for {self._address}")

    def _receive(self):
        chunk = self._socket.recv(self._RECEIVE_SIZE)
        if not chunk:
            raise _ConnectionClosed(f"Runtime API at {self._address} closed the connection")
        self._buffer += chunk

    def _read_until(self, delimiter):
        """Return the bytes before delimiter and consume them with the delimiter."""
        start = 0
        while True:
            end = self._buffer.find(delimiter, start)
            if end >= 0:
                data = bytes(self._buffer[:end])
                del self._buffer[: end + len(delimiter)]
                return data
            if len(self._buffer) > self._MAX_HEAD_SIZE:
                raise RuntimeApiError(f"Runtime API response has no {delimiter!r} in 1 MiB")
            start = max(0, len(self._buffer) - len(delimiter) + 1)
            self._receive()

    def _read_exact(self, size):
        if len(self._buffer) >= size:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
            return data
        data = bytearray(size)
        view = memoryview(data)
        filled = len(self._buffer)
        view[:filled] = self._buffer
        self._buffer.clear()
        while filled < size:
            received = self._socket.recv_into(view[filled:])
            if not received:
                raise _ConnectionClosed(f"Runtime API at {self._address} closed the connection")
            filled += received
        return bytes(data)

    def _read_response(self, method):
        while True:
            lines = self._read_until(b"\r\n\r\n").split(b"\r\n")
            parts = lines[0].split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise RuntimeApiError(f"invalid Runtime API status line {lines[0][:100]!r}")
            version = parts[0]
            status = int(parts[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                # Values are UTF-8, like the JSON in Lambda-Runtime-Client-Context.
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode(
                    "utf-8", "replace"
                )
            # Interim 1xx responses come before the final one.
            if not 100 <= status < 200:
                break

        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (
            version != b"HTTP/1.0" or connection == "keep-alive"
        )
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked_body()
        elif "content-length" in headers:
            body = self._read_exact(_parse_size(headers["content-length"], 10))
        else:
            body = self._read_until_close()
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, headers, body

    def _read_chunked_body(self):
        chunks = []
        while True:
            size = _parse_size(self._read_until(b"\r\n").split(b";", 1)[0], 16)
            if size == 0:
                # Trailer fields end with an empty line, which ends the message.
                while self._read_until(b"\r\n"):
                    pass
                return b"".join(chunks)
            chunks.append(self._read_exact(size))
            self._read_exact(2)

    def _read_until_close(self):
        while True:
            try:
                self._receive()
            except _ConnectionClosed:
                body = bytes(self._buffer)
                self._buffer.clear()
                return body


def _parse_size(text, base):
    try:
        size = int(text.strip(), base)
    except ValueError:
        size = -1
    if size < 0:
        raise RuntimeApiError(f"invalid body size {text[:40]!r} in a Runtime API response")
    return size


def _error_headers(error_type):
    # Header values must be ASCII without line breaks, and a class name may be neither.
    error_type = error_type.encode("ascii", "backslashreplace").decode("ascii")
    error_type = error_type.replace("\r", " ").replace("\n", " ")
    return {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error_type}
