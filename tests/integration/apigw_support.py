"""Helpers shared by the API Gateway data-plane tests: a raw HTTP client and event checks.

Requests go through http.client so a test controls every header it sends (no Accept-Encoding
or Host is added behind its back) and reads every header of the response, repeats included.
"""

import http.client
import json
import re
import socket

# requestContext.time as API Gateway formats it: "05/Dec/2026:02:21:21 +0000".
CLF_TIME = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
# The X-Amzn-Trace-Id header API Gateway adds to a request that has none.
TRACE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


class Reply:
    """One HTTP response: status, headers as a list of (lowercase name, value), and body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        """Returns the first value of a header, or None."""
        for key, value in self.headers:
            if key == name.lower():
                return value
        return None

    def header_values(self, name):
        return [value for key, value in self.headers if key == name.lower()]

    def json(self):
        return json.loads(self.body)


def send(port, method, target, headers=(), body=None, timeout=60):
    """Sends one request to 127.0.0.1:port exactly as given and returns a Reply."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status,
                     [(name.lower(), value) for name, value in response.getheaders()], data)
    finally:
        connection.close()


def send_head_only(port, method, target, headers, content_length, timeout=60):
    """Sends a request head announcing a body with `Expect: 100-continue` and returns the
    response the server sends before any of the body (a rejection such as 413)."""
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Length: {content_length}", "Expect: 100-continue", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall("\r\n".join(lines).encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        data = response.read()
        return Reply(response.status,
                     [(name.lower(), value) for name, value in response.getheaders()], data)


def api_host(api_id, port):
    return f"{api_id}.execute-api.localhost:{port}"


def function_arn(lam, name):
    return lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]


def take_dynamic(event, path):
    """Removes and returns the value at a dotted path, for fields that vary per request."""
    keys = path.split(".")
    holder = event
    for key in keys[:-1]:
        holder = holder[key]
    return holder.pop(keys[-1])


def check_clock_fields(context, time_key, epoch_key):
    """Checks a request context's time and epoch fields and removes them."""
    assert CLF_TIME.match(context.pop(time_key)), "time field not in CLF form"
    epoch = context.pop(epoch_key)
    assert isinstance(epoch, int) and epoch > 1_600_000_000_000
