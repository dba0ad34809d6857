"""Invoke: execution environment reuse, the sandbox as a handler sees it, and the invocation
options (DryRun, Event, log tails, ClientContext, qualifiers and ARNs as names).

Log lines follow AWS's formats as recorded in LocalStack's `test_lambda.snapshot.json`
(`test_invocation_type_event_error`, `test_invocation_with_qualifier`).
"""

import base64
import json
import math
import os
import re
import socket
import threading
import time
import uuid

import pytest

from conftest import create_function_from, invoke_json, log_tail, run_lambent

ACCOUNT = "000000000000"
REGION = "us-east-1"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
REPORT = re.compile(
    rf"^REPORT RequestId: (?P<id>{UUID})\tDuration: (?P<duration>\d+\.\d\d) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB"
    r"\tMax Memory Used: (?P<used>\d+) MB(?:\tInit Duration: (?P<init>\d+\.\d\d) ms)?\t?$")


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def request_id(response):
    return response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]


def report_line(tail):
    lines = [line for line in tail.splitlines() if line.startswith("REPORT ")]
    assert len(lines) == 1, tail
    match = REPORT.match(lines[0])
    assert match, lines[0]
    return match


# Environment reuse

def test_state_kept_across_warm_invokes(lam):
    name = create_function_from(lam, "python/introspect")

    bodies = [invoke_json(lam, name)[1] for _ in range(3)]

    assert [body["count"] for body in bodies] == [1, 2, 3]
    assert len({body["instance_id"] for body in bodies}) == 1


def test_state_reset_after_configuration_update(lam):
    name = create_function_from(lam, "python/introspect")
    first = [invoke_json(lam, name)[1] for _ in range(2)]

    lam.update_function_configuration(FunctionName=name, Description="new environment")
    after = invoke_json(lam, name)[1]

    assert [body["count"] for body in first] == [1, 2]
    assert after["count"] == 1
    assert after["instance_id"] != first[0]["instance_id"]


def test_concurrent_invokes_use_two_environments(server):
    lam = server.client()
    name = create_function_from(lam, "python/slow", Timeout=10)
    invoke_json(lam, name)  # start one environment before the burst
    results = [None, None]

    def invoke(slot):
        results[slot] = invoke_json(server.client(), name, {"seconds": 1.0})[1]

    threads = [threading.Thread(target=invoke, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    afterwards = invoke_json(lam, name)[1]

    assert all(result is not None for result in results), results
    ids = {result["instance_id"] for result in results}
    assert len(ids) == 2
    assert afterwards["instance_id"] in ids


# The sandbox as seen from the handler

def test_handler_runs_unprivileged(lam):
    name = create_function_from(lam, "python/isolation")

    _, body = invoke_json(lam, name)

    assert body["uid"] != 0
    if os.geteuid() == 0:
        # A root server runs each live environment as its own uid from 60000-64999.
        assert 60000 <= body["uid"] <= 64999


def test_environments_have_distinct_uids(lam):
    if os.geteuid() != 0:
        pytest.skip("distinct uids per environment need a server running as root")
    name = create_function_from(lam, "python/isolation")
    first = invoke_json(lam, name)[1]["uid"]
    # A configuration change retires the environment; the next one starts while the
    # first may still be exiting, so the uids must differ.
    lam.update_function_configuration(FunctionName=name, Description="second environment")
    second = invoke_json(lam, name)[1]["uid"]

    assert first != second


def test_code_and_runtime_read_only(lam):
    name = create_function_from(lam, "python/isolation")

    _, body = invoke_json(lam, name)

    assert body["task_write_error"] == "EROFS"
    assert body["runtime_write_error"] == "EROFS"
    assert body["tmp_write_error"] is None


def test_tmp_private_to_function(lam, tmp_path):
    marker = f"marker-{uuid.uuid4().hex}"
    writer = create_function_from(lam, "python/isolation")
    reader = create_function_from(lam, "python/isolation")

    _, wrote = invoke_json(lam, writer, {"write": marker, "look_for": [marker]})
    _, same_environment = invoke_json(lam, writer, {"look_for": [marker]})
    _, other_function = invoke_json(lam, reader, {"look_for": [marker]})

    assert wrote["tmp_seen"] == []
    assert same_environment["tmp_seen"] == [marker]
    assert other_function["tmp_seen"] == []
    assert not os.path.exists(os.path.join("/tmp", marker))


def test_tmp_size_follows_ephemeral_storage(lam):
    name = create_function_from(lam, "python/isolation")

    _, default_size = invoke_json(lam, name)
    lam.update_function_configuration(FunctionName=name, EphemeralStorage={"Size": 1024})
    _, larger = invoke_json(lam, name)

    assert default_size["tmp_bytes"] == 512 * 1024 * 1024
    assert larger["tmp_bytes"] == 1024 * 1024 * 1024


def test_pid_namespace_hides_host(lam):
    name = create_function_from(lam, "python/isolation")

    _, body = invoke_json(lam, name)

    processes = {int(pid): cmdline for pid, cmdline in body["processes"].items()}
    assert body["pid"] < 10
    assert body["pid"] in processes
    assert len(processes) <= 4, processes
    assert max(processes) < 10, processes
    with open("/proc/self/cmdline", "rb") as f:
        test_runner = f.read().replace(b"\0", b" ").decode(errors="replace")
    assert test_runner not in processes.values()


def test_data_dir_unreadable(server, lam):
    """The server's data directory, which contains every function's code and the access keys."""
    name = create_function_from(lam, "python/isolation")
    data_dir = str(server.data_dir)

    _, body = invoke_json(lam, name, {"try_list": [data_dir, "/var/task"]})

    assert body["list_errors"]["/var/task"] is None
    # ENOENT where the data directory is under /tmp, which the sandbox replaces with its own.
    assert body["list_errors"][data_dir] in ("EACCES", "ENOENT")


def test_hostname_not_host(lam):
    name = create_function_from(lam, "python/isolation")

    _, body = invoke_json(lam, name)

    assert body["hostname"] != socket.gethostname()


# Invocation options

def test_dry_run(lam):
    name = create_function_from(lam, "python/introspect")

    response = lam.invoke(FunctionName=name, InvocationType="DryRun", Payload=b"{}")
    after = invoke_json(lam, name)[1]

    assert response["StatusCode"] == 204
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert response["Payload"].read() == b""
    assert after["count"] == 1  # the dry run ran nothing


def test_event_invocation_runs(server, lam):
    name = create_function_from(lam, "python/introspect")
    marker = uuid.uuid4().hex

    response = lam.invoke(FunctionName=name, InvocationType="Event",
                          Payload=json.dumps({"marker": marker}))

    assert response["StatusCode"] == 202
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert response["Payload"].read() == b""
    queued_id = request_id(response)
    logs = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logs = run_lambent(server, "logs", name, timeout=30).stdout
        if f"marker={marker}" in logs:
            break
        time.sleep(0.2)
    assert f"START RequestId: {queued_id} Version: $LATEST" in logs
    assert f"introspect handler ran, marker={marker}" in logs
    assert f"END RequestId: {queued_id}" in logs


def test_log_tail_cold_then_warm(lam):
    name = create_function_from(lam, "python/introspect", MemorySize=256)

    cold, _ = invoke_json(lam, name, {"marker": "cold"}, LogType="Tail")
    warm, _ = invoke_json(lam, name, {"marker": "warm"}, LogType="Tail")

    for response, marker in ((cold, "cold"), (warm, "warm")):
        lines = log_tail(response).splitlines()
        rid = request_id(response)
        assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
        assert lines[1] == f"introspect handler ran, marker={marker}"
        assert lines[2] == f"END RequestId: {rid}"
        assert lines[3].startswith(f"REPORT RequestId: {rid}\t")
        assert len(lines) == 4

    cold_report = report_line(log_tail(cold))
    warm_report = report_line(log_tail(warm))
    assert cold_report["init"] is not None
    assert float(cold_report["init"]) > 0
    assert warm_report["init"] is None
    for report in (cold_report, warm_report):
        duration = float(report["duration"])
        # Billed Duration is Duration rounded up to the next millisecond, and the printed
        # Duration is itself rounded to 10 microseconds.
        assert math.ceil(duration) <= int(report["billed"]) <= math.ceil(duration + 0.01)
        assert report["memory"] == "256"
        assert 0 < int(report["used"]) <= 256


def test_log_result_absent_without_tail(lam):
    name = create_function_from(lam, "python/introspect")

    response, _ = invoke_json(lam, name)

    assert "LogResult" not in response
    assert "x-amz-log-result" not in response["ResponseMetadata"]["HTTPHeaders"]


def test_executed_version_header(lam):
    name = create_function_from(lam, "python/introspect")

    response, _ = invoke_json(lam, name)

    assert response["ExecutedVersion"] == "$LATEST"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-executed-version"] == "$LATEST"


def test_python_client_context(lam):
    name = create_function_from(lam, "python/introspect")
    client_context = {"custom": {"foo": "bar", "n": 1}, "env": {"locale": "en_US"},
                      "client": {"installation_id": "install-1"}}

    _, body = invoke_json(
        lam, name,
        ClientContext=base64.b64encode(json.dumps(client_context).encode()).decode())

    assert body["context"]["client_context"] == {"custom": {"foo": "bar", "n": 1},
                                                  "env": {"locale": "en_US"}}


@pytest.mark.parametrize("form", ["qualifier", "arn", "qualified_arn", "partial_arn"])
def test_function_name_forms(lam, form):
    name = create_function_from(lam, "python/introspect")
    arn = function_arn(name)
    calls = {
        "qualifier": {"FunctionName": name, "Qualifier": "$LATEST"},
        "arn": {"FunctionName": arn},
        "qualified_arn": {"FunctionName": f"{arn}:$LATEST"},
        "partial_arn": {"FunctionName": f"{ACCOUNT}:function:{name}"},
    }

    response = lam.invoke(Payload=b'{"form": 1}', **calls[form])
    body = json.loads(response["Payload"].read())

    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"form": 1}
    assert body["context"]["function_name"] == name
    # invoked_function_arn is the ARN the caller used, with the qualifier if it gave one.
    qualified = form in ("qualifier", "qualified_arn")
    assert body["context"]["invoked_function_arn"] == (f"{arn}:$LATEST" if qualified else arn)


def test_environment_init_is_small(server, lam):
    """pid 1 of an environment is lambent-init, not a copy of the server."""
    if os.geteuid() != 0:
        pytest.skip("namespaces need a server running as root")
    name = create_function_from(lam, "python/isolation")
    invoke_json(lam, name)

    server_pid = server.process.pid
    inits = []
    for child in os.listdir("/proc"):
        if not child.isdigit():
            continue
        try:
            with open(f"/proc/{child}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{child}/cmdline", "rb") as cmdline:
                arguments = cmdline.read().split(b"\0")
        except OSError:
            continue
        program = arguments[0]
        # The Python zygote is the server's child too, but it is no environment.
        if parent == server_pid and not any(a.endswith(b"/zygote.py") for a in arguments):
            inits.append(program)

    assert inits, "no environment process found"
    assert all(program.endswith(b"/lambent-init") for program in inits), inits
