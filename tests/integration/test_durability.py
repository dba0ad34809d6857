"""Durability and shutdown: acknowledged async events survive SIGKILL, functions survive a
restart, and stopping the server leaves no function processes behind.

Each test runs its own server (`fresh_server`) and restarts it on the same data directory.
Process checks only look at processes descended from the test's own server.
"""

import http.server
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BINARY, Server, create_function, invoke_json

# Handler for the async tests: reports the event id to a recorder on the test's loopback
# port, prints it, and takes a little time so that events are still queued or running when
# the server is killed.
RECORDING_HANDLER = '''import json, os, time, urllib.request


def handler(event, context):
    print("EVENT", event["id"], context.aws_request_id, flush=True)
    body = json.dumps({"id": event["id"], "request_id": context.aws_request_id}).encode()
    for attempt in range(5):
        try:
            urllib.request.urlopen(urllib.request.Request(
                event["recorder"], data=body, method="POST"), timeout=2).read()
            break
        except OSError as exc:
            print("recorder unreachable:", exc, flush=True)
            time.sleep(0.1 * (attempt + 1))
    time.sleep(0.2)
    return event["id"]
'''


class Recorder:
    """An HTTP listener on 127.0.0.1 that stores the JSON bodies POSTed to it."""

    def __init__(self):
        self.records = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                document = json.loads(self.rfile.read(length))
                with recorder.lock:
                    recorder.records.append(document)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        class Listener(http.server.ThreadingHTTPServer):
            # The default backlog of 5 resets connections when dozens of handlers report at once.
            request_queue_size = 256

        self.httpd = Listener(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def ids(self):
        with self.lock:
            return {record["id"] for record in self.records}

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    instance = Recorder()
    yield instance
    instance.close()


@pytest.fixture
def restarted():
    """Starts a server on an existing data directory; stops it when the test ends."""
    servers = []

    def start(data_dir):
        srv = Server(data_dir).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        stop_and_reap(srv, signal.SIGTERM, grace=5)


# ---- processes ----

def read_stat(pid):
    """Returns (state, ppid, start time in clock ticks) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def read_uid(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def sandbox_uids(srv):
    """Returns the uids the server runs environments as, from its start-up log line."""
    match = re.search(r"isolation=namespaces uids?=(\d+)(?:-(\d+))?", srv.log())
    if match is None:
        pytest.skip("the server runs environments without namespaces and their own uids")
    first = int(match.group(1))
    return range(first, int(match.group(2) or first) + 1)


def runtime_processes(srv, processes):
    """Returns the pids among processes that run as one of the server's sandbox uids."""
    uids = sandbox_uids(srv)
    return [pid for pid in processes if read_uid(pid) in uids]


def descendants(root_pid):
    """Returns {pid: start time} for the living processes below root_pid."""
    children = {}
    stats = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read_stat(int(entry))
        if stat is None or stat[0] == "Z":
            continue
        stats[int(entry)] = stat
        children.setdefault(stat[1], []).append(int(entry))
    found = {}
    pending = list(children.get(root_pid, []))
    while pending:
        pid = pending.pop()
        found[pid] = stats[pid][2]
        pending.extend(children.get(pid, []))
    return found


def still_running(processes):
    """Returns the pids of processes ({pid: start time}) that still run (zombies count as gone)."""
    running = []
    for pid, started in processes.items():
        stat = read_stat(pid)
        if stat is not None and stat[0] != "Z" and stat[2] == started:
            running.append(pid)
    return running


def wait_until_gone(processes, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = still_running(processes)
        if not left:
            return []
        time.sleep(0.1)
    return still_running(processes)


def kill_leftovers(pids):
    """Sends SIGKILL to processes this test's server started and that outlived it."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_and_reap(srv, sig, grace):
    """Stops srv with sig (SIGKILL after 10 s), then ends what it started that outlives it by
    grace seconds. Returns (exit status or None, pids that had to be killed)."""
    if srv.process is None or srv.process.poll() is not None:
        srv.stop()
        return srv.process.returncode if srv.process else None, []
    processes = descendants(srv.process.pid)
    srv.process.send_signal(sig)
    try:
        status = srv.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        srv.process.kill()
        srv.process.wait(timeout=10)
        status = None
    srv.stop()
    left = wait_until_gone(processes, grace)
    kill_leftovers(left)
    return status, left


def function_logs(srv, name):
    result = subprocess.run(
        [str(BINARY), "logs", name, "--data-dir", str(srv.data_dir), "--endpoint", srv.endpoint],
        capture_output=True, text=True, timeout=30, check=True)
    return result.stdout


@pytest.fixture
def reaper():
    """Ends, when the test ends, what the test's servers started.

    Append a Server to have it killed first, or a {pid: start time} map taken from a server
    that is already gone.
    """
    entries = []
    yield entries
    for entry in entries:
        if isinstance(entry, Server):
            stop_and_reap(entry, signal.SIGKILL, grace=2)
        else:
            kill_leftovers(wait_until_gone(entry, 2))


# ---- tests ----

def test_async_events_survive_sigkill(fresh_server, restarted, recorder, reaper):
    srv = fresh_server()
    lam = srv.client()
    name = create_function(lam, {"app.py": RECORDING_HANDLER}, Timeout=10)
    count = 50

    accepted = {}
    for number in range(count):
        event_id = f"evt-{number:03d}-{os.urandom(4).hex()}"
        response = lam.invoke(FunctionName=name, InvocationType="Event",
                              Payload=json.dumps({"id": event_id, "recorder": recorder.url}))
        assert response["StatusCode"] == 202
        accepted[event_id] = response["ResponseMetadata"]["RequestId"]
    # Environments of the killed server may keep running until the test ends.
    reaper.append(descendants(srv.process.pid))
    srv.stop(signal.SIGKILL)
    ran_before_kill = len(recorder.ids())

    new = restarted(srv.data_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not set(accepted) <= recorder.ids():
        time.sleep(0.2)

    missing = set(accepted) - recorder.ids()
    assert not missing, (f"{len(missing)} of {count} acknowledged events never ran "
                         f"({ran_before_kill} had run before the kill): {sorted(missing)[:5]}")
    # A re-run of an event keeps its request id, as AWS's retries do.
    for record in recorder.snapshot():
        assert record["request_id"] == accepted[record["id"]]

    # Every event's handler output is in the function's log, across both server runs.
    deadline = time.monotonic() + 15
    logged = set()
    while time.monotonic() < deadline:
        logged = {line.split()[1] for line in function_logs(new, name).splitlines()
                  if line.startswith("EVENT ")}
        if set(accepted) <= logged:
            break
        time.sleep(0.3)
    assert set(accepted) - logged == set()


def test_async_burst_runs_every_event(fresh_server, recorder, reaper):
    """A burst of async events that needs many new environments at once runs every event."""
    srv = fresh_server()
    reaper.append(srv)
    lam = srv.client()
    names = [create_function(lam, {"app.py": RECORDING_HANDLER}, Timeout=10) for _ in range(4)]
    accepted = set()
    for number in range(64):
        event_id = f"burst-{number:03d}"
        response = lam.invoke(FunctionName=names[number % 4], InvocationType="Event",
                              Payload=json.dumps({"id": event_id, "recorder": recorder.url}))
        assert response["StatusCode"] == 202
        accepted.add(event_id)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not accepted <= recorder.ids():
        time.sleep(0.2)

    missing = accepted - recorder.ids()
    assert not missing, f"{len(missing)} of 64 events never ran: {sorted(missing)[:5]}"


def test_functions_survive_sigkill(fresh_server, restarted):
    srv = fresh_server()
    lam = srv.client()
    python_fn = create_function(lam, {"app.py": "def handler(e, c):\n    return {'py': e}\n"},
                                Environment={"Variables": {"COLOR": "blue"}})
    node_fn = create_function(lam, {"index.js": "exports.handler = async (e) => ({node: e});\n"},
                              runtime="nodejs20.x", handler="index.handler")
    lam.update_function_configuration(FunctionName=python_fn, Timeout=17, MemorySize=256)
    deleted_fn = create_function(lam, {"app.py": "def handler(e, c):\n    return 0\n"})
    lam.delete_function(FunctionName=deleted_fn)
    invoke_json(lam, python_fn, {"warm": 1})
    before = {name: lam.get_function(FunctionName=name)["Configuration"]
              for name in (python_fn, node_fn)}

    srv.stop(signal.SIGKILL)
    new = restarted(srv.data_dir)
    lam = new.client()

    for name, configuration in before.items():
        assert lam.get_function(FunctionName=name)["Configuration"] == configuration
    assert before[python_fn]["Timeout"] == 17
    assert before[python_fn]["Environment"] == {"Variables": {"COLOR": "blue"}}
    names = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    assert names == {python_fn, node_fn}

    _, body = invoke_json(lam, python_fn, {"n": 1})
    assert body == {"py": {"n": 1}}
    _, body = invoke_json(lam, node_fn, {"n": 2})
    assert body == {"node": {"n": 2}}


def test_sigkill_environments_exit(fresh_server):
    """Function processes of a killed server end by themselves once their Runtime API is gone."""
    srv = fresh_server()
    lam = srv.client()
    for _ in range(3):
        name = create_function(lam, {"app.py": "def handler(e, c):\n    return 1\n"})
        invoke_json(lam, name)
    processes = descendants(srv.process.pid)
    runtimes = runtime_processes(srv, processes)
    assert len(runtimes) >= 3, f"expected 3 environments, found {runtimes}"

    srv.stop(signal.SIGKILL)

    left = wait_until_gone(processes, 15)
    kill_leftovers(left)
    assert left == [], f"processes still running 15 s after the server was killed: {left}"


def test_sigterm_stops_cleanly(fresh_server):
    srv = fresh_server()
    lam = srv.client(read_timeout=60)
    warm = []
    for runtime, files, handler in [
        ("python3.12", {"app.py": "def handler(e, c):\n    return 1\n"}, "app.handler"),
        ("nodejs20.x", {"index.js": "exports.handler = async () => 1;\n"}, "index.handler"),
    ]:
        name = create_function(lam, files, runtime=runtime, handler=handler)
        invoke_json(lam, name)
        warm.append(name)
    slow = create_function(lam, {"app.py": "import time\n\n\ndef handler(e, c):\n"
                                           "    time.sleep(30)\n    return 1\n"}, Timeout=60)

    # One invocation is still running when the signal arrives.
    outcome = {}

    def call_slow():
        try:
            outcome["response"] = invoke_json(lam, slow)
        except Exception as exc:  # the connection may close under the call
            outcome["error"] = exc

    caller = threading.Thread(target=call_slow, daemon=True)
    caller.start()
    time.sleep(1.0)
    processes = descendants(srv.process.pid)
    runtimes = runtime_processes(srv, processes)
    assert len(runtimes) >= 3, f"expected 3 environments, found {runtimes}"

    # The server waits up to 10 s for the invocation in progress, which runs longer, and then
    # stops anyway.
    started = time.monotonic()
    srv.process.send_signal(signal.SIGTERM)
    try:
        status = srv.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        status = None
    stop_seconds = time.monotonic() - started
    left = wait_until_gone(processes, 5)
    kill_leftovers(left)

    assert status == 0, f"exit status {status} after {stop_seconds:.1f} s"
    assert stop_seconds < 20
    assert left == [], f"processes still running after a graceful stop: {left}"
    caller.join(timeout=10)
    assert not caller.is_alive(), "the in-flight invoke did not end when the server stopped"
    assert "drain_timed_out" in srv.log()
    assert "stopped" in srv.log()


def test_restart_keeps_credentials(fresh_server, restarted):
    srv = fresh_server()
    before = srv.credentials()
    srv.stop(signal.SIGKILL)

    new = restarted(srv.data_dir)

    assert new.credentials() == before
    assert new.client().list_functions()["Functions"] == []

