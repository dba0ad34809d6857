"""Stopping the server: SIGTERM lets requests in progress finish; a second signal stops at once."""

import signal
import socket
import threading
import time

from conftest import create_function, invoke_json

SLEEPER = {"app.py": "import time\n\n"
                     "def handler(event, context):\n"
                     "    time.sleep(event['seconds'])\n"
                     "    return {'slept': event['seconds']}\n"}


def start_invoke(server, name, seconds):
    """Invokes `name` in a thread; returns the thread and a dict that receives the outcome."""
    client = server.client(read_timeout=30)
    outcome = {}

    def run():
        try:
            outcome["result"] = invoke_json(client, name, {"seconds": seconds})
        except Exception as error:  # the connection may be closed under it
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_for_exit(server, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return True
        time.sleep(0.05)
    return False


def connection_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def test_sigterm_finishes_requests_in_progress(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = create_function(lam, SLEEPER, Timeout=10)
    invoke_json(lam, name, {"seconds": 0})  # the environment is warm

    thread, outcome = start_invoke(server, name, 2)
    time.sleep(0.7)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert server.process.poll() is None, "the server stopped before its request finished"
    assert connection_refused(server.port)

    thread.join(timeout=20)
    assert "error" not in outcome, outcome.get("error")
    response, payload = outcome["result"]
    assert response["StatusCode"] == 200
    assert payload == {"slept": 2}
    assert wait_for_exit(server, 10)
    assert server.process.returncode == 0


def test_second_sigterm_stops_at_once(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = create_function(lam, SLEEPER, Timeout=30)
    invoke_json(lam, name, {"seconds": 0})

    thread, outcome = start_invoke(server, name, 20)
    time.sleep(0.7)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert server.process.poll() is None
    server.process.send_signal(signal.SIGTERM)
    assert wait_for_exit(server, 5)
    thread.join(timeout=20)
    assert "error" in outcome


def test_idle_server_stops_without_waiting(fresh_server):
    server = fresh_server()
    server.process.send_signal(signal.SIGTERM)
    assert wait_for_exit(server, 5)
    assert server.process.returncode == 0
