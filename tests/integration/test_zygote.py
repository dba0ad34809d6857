"""Cold starts through the Python zygote (`serve --cold-start zygote`, the default) and the
exec path: every environment is still isolated, and the zygote is owned by the server."""

import concurrent.futures
import json
import os
import re
import signal
import time

import pytest

from conftest import Server, create_function, invoke_json, log_tail

# A handler that returns facts about its environment. It first writes a file named after its
# invocation to /tmp, so a second environment can show that the file is not visible there.
PROBE = '''
import json, os, random, sys, time, uuid

def handler(event, context):
    marker = "/tmp/" + context.aws_request_id
    open(marker, "w").close()
    open("/dev/shm/" + context.aws_request_id, "w").close()
    time.sleep(event.get("sleep", 0))
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            pass
    return {
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "uid": os.getuid(),
        "no_new_privs": [line.split()[1] for line in open("/proc/self/status")
                         if line.startswith("NoNewPrivs:")],
        "gid": os.getgid(),
        "proc_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "tmp": sorted(os.listdir("/tmp")),
        "shm": sorted(os.listdir("/dev/shm")),
        "fds": fds,
        "random": random.random(),
        "uuid": str(uuid.uuid4()),
        "zygote": "lambent_runtime.zygote" in sys.modules,
        "argv": sys.argv,
    }
'''

PATHS = ["zygote", "exec"]


@pytest.fixture(scope="module", params=PATHS)
def path_server(request, lambent_binary, tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp(f"lambent-{request.param}") / "data",
                 ["--cold-start", request.param])
    srv.start()
    srv.cold_start = request.param
    yield srv
    srv.stop()


@pytest.fixture
def client(path_server):
    return path_server.client()


def probe(client, name, **event):
    response, body = invoke_json(client, name, event, LogType="Tail")
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response, body
    return response, body


def concurrent_probes(server, name, count):
    """Runs count invocations at once, so each gets an environment of its own."""
    def one(_):
        return probe(server.client(), name, sleep=1.5)[1]

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def force_cold_start(client, name, number):
    # A configuration change retires the warm environment.
    client.update_function_configuration(FunctionName=name, Description=f"cold start {number}")


def zygote_pids(server):
    return [int(pid) for pid in re.findall(r"zygote_started pid=(\d+)", server.log())]


def pid_exists(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # A zombie (state Z) has exited.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_python_uses_chosen_path(path_server, client):
    name = create_function(client, {"app.py": PROBE})

    _, body = probe(client, name)

    assert body["zygote"] == (path_server.cold_start == "zygote")
    assert body["argv"] == ["/var/runtime/python/bootstrap.py"]
    if path_server.cold_start == "zygote":
        assert zygote_pids(path_server)
        assert "zygote_unavailable" not in path_server.log()


def test_own_pid_namespace(path_server, client):
    name = create_function(client, {"app.py": PROBE})

    _, body = probe(client, name)

    assert body["pid"] == 2
    assert body["ppid"] == 1
    assert max(body["proc_pids"]) < 100
    assert path_server.process.pid not in body["proc_pids"] or path_server.process.pid < 100


def test_concurrent_environments_isolated(path_server, client):
    name = create_function(client, {"app.py": PROBE}, Timeout=30)

    first, second = concurrent_probes(path_server, name, 2)

    assert first["uid"] != 0
    assert second["uid"] != 0
    assert first["no_new_privs"] == ["1"]
    assert first["uid"] != second["uid"]
    assert first["gid"] == first["uid"]
    assert first["tmp"] == [first["request_id"]]
    assert second["tmp"] == [second["request_id"]]
    assert first["shm"] == [first["request_id"]]
    assert second["shm"] == [second["request_id"]]


def test_random_state_differs(path_server, client):
    name = create_function(client, {"app.py": PROBE})
    randoms, uuids = set(), set()

    for number in range(4):
        force_cold_start(client, name, number)
        response, body = probe(client, name)
        assert "Init Duration" in log_tail(response)
        randoms.add(body["random"])
        uuids.add(body["uuid"])

    assert len(randoms) == 4
    assert len(uuids) == 4


def test_no_inherited_descriptors(path_server, client):
    name = create_function(client, {"app.py": PROBE})

    _, body = probe(client, name)

    fds = body["fds"]
    assert fds["0"] == "/dev/null"
    assert fds["1"].startswith("pipe:")
    assert fds["2"] == fds["1"]
    others = {fd: target for fd, target in fds.items() if fd not in ("0", "1", "2")}
    sockets = [target for target in others.values() if target.startswith("socket:")]
    # The Runtime API connection, and the directory listdir had open while reading.
    assert len(sockets) == 1, fds
    assert [t for t in others.values() if not t.startswith(("socket:", "/proc/"))] == [], fds


def test_init_duration_reported(path_server, client):
    name = create_function(client, {"app.py": PROBE})

    response, _ = probe(client, name)

    assert re.search(r"REPORT RequestId: \S+\tDuration: .*\tInit Duration: \d+\.\d\d ms",
                     log_tail(response))


def test_out_of_memory_on_path(path_server, client):
    if "memory_limits=none" in path_server.log():
        pytest.skip("the server runs without a memory cgroup (memory_limits=none in its log)")
    source = ('def handler(event, context):\n'
              '    chunks = []\n'
              '    for _ in range(40):\n'
              '        chunks.append(b"x" * (10 * 1024 * 1024))\n'
              '    return len(chunks)\n')
    name = create_function(client, {"app.py": source}, MemorySize=128, Timeout=20)

    response, body = invoke_json(client, name)

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")


def test_exit_status_on_path(path_server, client):
    source = 'import os\ndef handler(event, context):\n    os._exit(3)\n'
    name = create_function(client, {"app.py": source})

    response, body = invoke_json(client, name)

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")


def test_interpreter_variables_start_by_exec(fresh_server):
    srv = fresh_server("--cold-start", "zygote")
    client = srv.client()
    name = create_function(client, {"app.py": PROBE},
                           Environment={"Variables": {"PYTHONDONTWRITEBYTECODE": "1"}})

    _, body = probe(client, name)

    assert body["zygote"] is False


def test_zygote_restarts_after_crash(fresh_server):
    srv = fresh_server("--cold-start", "zygote")
    client = srv.client()
    [first_zygote] = zygote_pids(srv)
    name = create_function(client, {"app.py": PROBE})

    os.kill(first_zygote, signal.SIGKILL)
    probe(client, name)
    # The first spawn after the crash may use a spare the old zygote prepared, so a second cold
    # start is what must go through a new zygote.
    force_cold_start(client, name, 1)
    _, body = probe(client, name)

    assert srv.process.poll() is None
    pids = zygote_pids(srv)
    assert len(pids) == 2
    assert pids[1] != first_zygote
    assert body["zygote"] is True


def test_zygote_dies_with_server(fresh_server):
    srv = fresh_server("--cold-start", "zygote")
    [zygote] = zygote_pids(srv)
    assert pid_exists(zygote)

    srv.stop(signal.SIGKILL)

    assert wait_until(lambda: not pid_exists(zygote))


def test_servers_on_one_host_use_distinct_uids(fresh_server):
    """Two servers never give environments the same uid: the Runtime API trusts its uid."""
    first_server = fresh_server()
    second_server = fresh_server()
    uids = []
    for srv in (first_server, second_server):
        client = srv.client()
        name = create_function(client, {"app.py": PROBE}, Timeout=30)
        uids.extend(body["uid"] for body in concurrent_probes(srv, name, 2))
    assert len(set(uids)) == 4, uids
