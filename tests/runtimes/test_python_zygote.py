"""Tests of the Python zygote (runtimes/python/zygote.py) through its control socket.

The zygote runs without namespaces, cgroups or a uid switch here (as in rlimit-only mode), so
these tests need no root; tests/integration/test_zygote.py covers isolation. They need
liblambent_zygote.so from a build ($LAMBENT_BUILD_DIR, else build/release).
"""

import array
import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mock_runtime_api import MockRuntimeApi

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DIRECTORY = REPOSITORY_ROOT / "runtimes" / "python"
BUILD = Path(os.environ.get("LAMBENT_BUILD_DIR", REPOSITORY_ROOT / "build" / "release"))
LIBRARY = BUILD / "liblambent_zygote.so"
PYTHON = "/usr/bin/python3"
WAIT_SECONDS = 20
PR_SET_CHILD_SUBREAPER = 36

pytestmark = pytest.mark.skipif(
    not LIBRARY.exists() or not os.path.exists(PYTHON),
    reason=f"needs {PYTHON} and {LIBRARY} (build the lambent_zygote target)",
)

sys.path.insert(0, str(RUNTIME_DIRECTORY))
from lambent_runtime import zygote as zygote_module  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def child_subreaper():
    # Environments' pid 1 processes become this process's children, as they become the
    # server's, so the tests can reap them.
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


class ZygoteProcess:
    def __init__(self):
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        environment = {
            "PATH": "/usr/bin:/bin",
            "LAMBENT_ZYGOTE_LIBRARY": str(LIBRARY),
            "LAMBENT_ZYGOTE_PARENT": str(os.getpid()),
        }
        self.process = subprocess.Popen(
            [PYTHON, "-u", str(RUNTIME_DIRECTORY / "zygote.py")],
            env=environment,
            # The zygote closes every inherited descriptor but 3 when it starts.
            close_fds=False,
            preexec_fn=lambda: os.dup2(theirs.fileno(), 3),
        )
        theirs.close()
        self.control.settimeout(WAIT_SECONDS)
        self.ready = json.loads(self.control.recv(65536))

    def send(self, request, fd=None):
        data = json.dumps(request).encode()
        if fd is None:
            self.control.sendmsg([data])
        else:
            rights = array.array("i", [fd])
            self.control.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
        return json.loads(self.control.recv(65536))

    def stop(self):
        self.control.close()
        self.process.wait(timeout=WAIT_SECONDS)


@pytest.fixture
def zygote():
    process = ZygoteProcess()
    yield process
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait(timeout=WAIT_SECONDS)


def spawn_request(task_root, runtime_api, **overrides):
    request = {
        "argv": [PYTHON, "-u", "/var/runtime/python/bootstrap.py"],
        "env": [
            "_HANDLER=app.handler",
            f"LAMBDA_TASK_ROOT={task_root}",
            f"AWS_LAMBDA_RUNTIME_API={runtime_api.address}",
            "PATH=/usr/bin:/bin",
        ],
        "namespaces": False,
        "code_dir": str(task_root),
        "runtime_dir": "",
        "passwd_file": "",
        "group_file": "",
        "tmp_options": "",
        "chdir": str(task_root),
        "uid": 0,
        "gid": 0,
        "address_space_limit": 0,
        "init_path": "",
        "cgroup_procs": [],
    }
    request.update(overrides)
    return request


HANDLER = """
import os, random, sys, uuid

def handler(event, context):
    return {
        "pid": os.getpid(),
        "random": random.random(),
        "uuid": str(uuid.uuid4()),
        "argv": sys.argv,
        "fds": sorted(os.listdir("/proc/self/fd")),
        "greeting": os.environ.get("GREETING"),
        "zygote_variables": [k for k in os.environ if k.startswith("LAMBENT_ZYGOTE")],
    }
"""


def run_environment(zygote, runtime_api, task_root, request_id, **overrides):
    """Spawn an environment, run one event on it, then kill and reap it."""
    read_end, write_end = os.pipe()
    try:
        reply = zygote.send(spawn_request(task_root, runtime_api, **overrides), write_end)
    finally:
        os.close(write_end)
    assert "pid" in reply, reply
    assert "step" not in reply, reply
    try:
        runtime_api.enqueue({}, request_id=request_id)
        outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    finally:
        # pid 1 leads the environment's process group, as the server's kill_tree expects.
        os.killpg(reply["pid"], signal.SIGKILL)
        os.waitpid(reply["pid"], 0)
        os.close(read_end)
    assert outcome.kind == "response", outcome
    return json.loads(outcome.body)


@pytest.fixture
def task_root(tmp_path):
    root = tmp_path / "task"
    root.mkdir()
    (root / "app.py").write_text(HANDLER)
    return root


def test_ready_message_names_zygote(zygote):
    assert zygote.ready == {"ready": True, "pid": zygote.process.pid}


def test_spawned_environment_runs_handler(zygote, runtime_api, task_root):
    env = spawn_request(task_root, runtime_api)["env"] + ["GREETING=hello"]

    body = run_environment(zygote, runtime_api, task_root, "request-1", env=env)

    assert body["argv"] == ["/var/runtime/python/bootstrap.py"]
    assert body["greeting"] == "hello"
    assert body["zygote_variables"] == []
    # stdin, stdout, stderr, the Runtime API connection and listdir's descriptor.
    assert len(body["fds"]) == 5


def test_children_get_distinct_random_state(zygote, runtime_api, task_root):
    first = run_environment(zygote, runtime_api, task_root, "request-1")
    # A Runtime API of its own: the first environment's next poll stays parked in the first
    # mock after its kill, and would take this environment's event.
    second_api = MockRuntimeApi().start()
    try:
        second = run_environment(zygote, second_api, task_root, "request-2")
    finally:
        second_api.stop()

    assert first["pid"] != second["pid"]
    assert first["random"] != second["random"]
    assert first["uuid"] != second["uuid"]


def test_spare_serves_next_spawn(zygote, runtime_api, task_root):
    prepared = zygote.send({"kind": "prepare", "namespaces": False, "cgroup_procs": [],
                            "init_path": ""})
    assert prepared["spare"] > 0

    body = run_environment(zygote, runtime_api, task_root, "request-1", spare=True)

    assert body["argv"] == ["/var/runtime/python/bootstrap.py"]
    assert len(body["fds"]) == 5


def test_spawn_without_spare_rejected(zygote, runtime_api, task_root):
    read_end, write_end = os.pipe()
    reply = zygote.send(spawn_request(task_root, runtime_api, spare=True), write_end)
    os.close(read_end)
    os.close(write_end)

    assert reply == {"error": "no spare was prepared"}


def test_request_without_descriptor_rejected(zygote, runtime_api, task_root):
    reply = zygote.send(spawn_request(task_root, runtime_api))

    assert reply == {"error": "the request carried no output descriptor"}


def test_failed_chdir_names_step(zygote, runtime_api, task_root):
    read_end, write_end = os.pipe()
    request = spawn_request(task_root, runtime_api, chdir=str(task_root / "missing"))
    reply = zygote.send(request, write_end)
    os.close(write_end)
    os.close(read_end)
    if reply.get("pid"):
        os.waitpid(reply["pid"], 0)

    assert reply["step"] == zygote_module.STEP_CHDIR
    assert reply["errno"] == 2


def test_zygote_exits_when_socket_closes(zygote):
    zygote.stop()

    assert zygote.process.returncode == 0


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["/usr/bin/python3", "-u", "/var/runtime/python/bootstrap.py"],
         ["/var/runtime/python/bootstrap.py"]),
        (["/usr/bin/python3", "script.py", "-x"], ["script.py", "-x"]),
        (["/usr/bin/python3", "-u"], [""]),
    ],
)
def test_script_argv(argv, expected):
    assert zygote_module._script_argv(argv) == expected


def test_report_record_round_trip():
    read_end, write_end = os.pipe()
    os.write(write_end, zygote_module._RECORD.pack(zygote_module._RECORD_PID, 42, 0))
    os.write(write_end, zygote_module._RECORD.pack(zygote_module._RECORD_FAILURE, 7, 13))
    os.close(write_end)

    assert zygote_module._read_report(read_end) == (42, 7, 13)
    os.close(read_end)
