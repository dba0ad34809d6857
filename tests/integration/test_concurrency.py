"""Concurrency limits: reserved concurrency, the account limit, host memory, keep-alive and
scale-out, checked against AWS's responses with boto3 on a real server."""

import json
import os
import threading
import time
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROLE, create_function, invoke_json, make_zip, run_lambent, unique_name

SLEEPER = {"app.py": (
    "import time\nimport uuid\n\nINSTANCE = uuid.uuid4().hex\n\n\n"
    "def handler(event, context):\n"
    "    time.sleep(event.get('seconds', 0))\n"
    "    return {'instance': INSTANCE}\n")}

RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_REASON = "ConcurrentInvocationLimitExceeded"


def concurrent_invokes(client, name, count, seconds):
    """Starts `count` sync invokes at once; returns a list of (body or None, ClientError or None)."""
    results = [None] * count
    barrier = threading.Barrier(count)

    def call(index):
        barrier.wait(timeout=30)
        try:
            _, body = invoke_json(client, name, {"seconds": seconds})
            results[index] = (body, None)
        except ClientError as error:
            results[index] = (None, error)

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(result is not None for result in results), "an invoke did not finish"
    return results


def wide_client(srv, **config):
    """A client with enough connections for the concurrent calls of these tests."""
    return srv.client(config=Config(retries={"max_attempts": 0}, read_timeout=120,
                                    connect_timeout=10, max_pool_connections=32, **config))


def assert_throttled(error, reason):
    response = error.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["Error"]["Message"] == "Rate Exceeded."
    assert response["Reason"] == reason
    assert response["Type"] == "User"
    assert response["message"] == "Rate Exceeded."
    # AWS sends no Retry-After with a concurrency throttle.
    assert "retryAfterSeconds" not in response


def environment_processes(srv):
    """Pids of the server's living environments (each one's pid 1 is the server's child)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z" or int(fields[1]) != srv.process.pid:
            continue
        # The Python zygote is the server's child too, but it is no environment.
        try:
            arguments = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not any(argument.endswith(b"/zygote.py") for argument in arguments):
            found.append(int(entry))
    return found


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_reserved_concurrency_limits_parallel_invokes(server):
    client = wide_client(server)
    name = create_function(client, SLEEPER, Timeout=30)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)

    results = concurrent_invokes(client, name, 6, seconds=3)

    successes = [body for body, error in results if error is None]
    errors = [error for body, error in results if error is not None]
    assert len(successes) == 2
    assert len(errors) == 4
    for error in errors:
        assert_throttled(error, RESERVED_REASON)
    # The slots are free again once the invocations end.
    response, _ = invoke_json(client, name, {"seconds": 0})
    assert response["StatusCode"] == 200


def test_account_limit_throttles_unreserved(fresh_server):
    srv = fresh_server("--account-concurrency", "2")
    client = wide_client(srv)
    name = create_function(client, SLEEPER, Timeout=30)

    settings = client.get_account_settings()["AccountLimit"]
    assert settings["ConcurrentExecutions"] == 2
    assert settings["UnreservedConcurrentExecutions"] == 2

    results = concurrent_invokes(client, name, 5, seconds=3)
    errors = [error for body, error in results if error is not None]
    assert len(errors) == 3
    for error in errors:
        assert_throttled(error, ACCOUNT_REASON)

    # Below 100, the minimum unreserved concurrency is the whole account limit.
    with pytest.raises(ClientError) as caught:
        client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [2].")


def test_reserved_zero_throttles_everything(server, lam):
    name = create_function(lam, SLEEPER)
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)[
        "ReservedConcurrentExecutions"] == 0

    for _ in range(3):
        with pytest.raises(ClientError) as caught:
            invoke_json(lam, name)
        assert_throttled(caught.value, RESERVED_REASON)
    # An asynchronous invoke is accepted, as on AWS, and never runs.
    accepted = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert accepted["StatusCode"] == 202
    assert lam.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 0}

    lam.delete_function_concurrency(FunctionName=name)
    response, _ = invoke_json(lam, name)
    assert response["StatusCode"] == 200


def test_function_concurrency_api_shapes(server, lam):
    name = create_function(lam, SLEEPER)
    assert lam.get_function_concurrency(FunctionName=name).keys() == {"ResponseMetadata"}
    assert "Concurrency" not in lam.get_function(FunctionName=name)

    put = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["ReservedConcurrentExecutions"] == 3
    got = lam.get_function_concurrency(FunctionName=name)
    assert got["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 3}

    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert lam.get_function_concurrency(FunctionName=arn)["ReservedConcurrentExecutions"] == 3

    deleted = lam.delete_function_concurrency(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_function_concurrency(FunctionName=name).keys() == {"ResponseMetadata"}
    assert "Concurrency" not in lam.get_function(FunctionName=name)


def test_function_concurrency_api_errors(server, lam):
    name = create_function(lam, SLEEPER)
    missing = unique_name("missing")
    base = f"arn:aws:lambda:us-east-1:000000000000:function:{missing}"

    with pytest.raises(ClientError) as caught:
        lam.get_function_concurrency(FunctionName=missing)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["Error"]["Message"] == f"Function not found: {base}"

    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName=missing, ReservedConcurrentExecutions=1)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["Error"]["Message"] == f"Function not found: {base}:$LATEST"

    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName=f"{name}:$LATEST",
                                     ReservedConcurrentExecutions=1)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == (
        "This operation is permitted on Lambda functions only. Aliases and versions do not "
        "support this operation. Please specify either a function name or an unqualified "
        "function ARN.")

    # 1000 reserved would leave nothing unreserved; AWS keeps at least 100.
    with pytest.raises(ClientError) as caught:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1000)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == (
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100].")
    assert lam.get_function_concurrency(FunctionName=name).keys() == {"ResponseMetadata"}

    unchecked = server.client(config=Config(parameter_validation=False,
                                            retries={"max_attempts": 0}))
    with pytest.raises(ClientError) as caught:
        unchecked.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=-1)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to "
        "satisfy constraint: Member must have value greater than or equal to 0")


def test_account_settings_arithmetic(fresh_server):
    srv = fresh_server()
    client = srv.client()
    first = create_function(client, SLEEPER)
    second = create_function(client, SLEEPER)

    def limits():
        return client.get_account_settings()["AccountLimit"]

    assert limits()["ConcurrentExecutions"] == 1000
    assert limits()["UnreservedConcurrentExecutions"] == 1000
    client.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=100)
    client.put_function_concurrency(FunctionName=second, ReservedConcurrentExecutions=250)
    assert limits()["UnreservedConcurrentExecutions"] == 650
    # Replacing a reservation counts only the new value.
    client.put_function_concurrency(FunctionName=second, ReservedConcurrentExecutions=800)
    assert limits()["UnreservedConcurrentExecutions"] == 100
    with pytest.raises(ClientError):
        client.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=101)

    client.delete_function_concurrency(FunctionName=first)
    assert limits()["UnreservedConcurrentExecutions"] == 200
    # Deleting a function deletes its reservation, also across a restart.
    client.delete_function(FunctionName=second)
    assert limits()["UnreservedConcurrentExecutions"] == 1000
    client.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=5)
    srv.stop()
    srv.start()
    client = srv.client()
    assert limits()["UnreservedConcurrentExecutions"] == 995
    assert client.get_function_concurrency(FunctionName=first)[
        "ReservedConcurrentExecutions"] == 5
    create_function(client, SLEEPER, name=second)
    assert client.get_function_concurrency(FunctionName=second).keys() == {"ResponseMetadata"}


def test_async_events_wait_for_reserved_slot(server, lam):
    name = create_function(lam, SLEEPER, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    for _ in range(3):
        lam.invoke(FunctionName=name, InvocationType="Event",
                   Payload=json.dumps({"seconds": 0.5}))

    def finished():
        out = run_lambent(server, "logs", name, check=False).stdout
        return out.count("REPORT RequestId") == 3

    # Throttled events back off (1 s, then 2 s) and all three run, one at a time.
    assert wait_for(finished, 30), run_lambent(server, "logs", name, check=False).stdout


def test_idle_environments_stop_after_keep_alive(fresh_server):
    srv = fresh_server("--keep-alive", "1")
    client = wide_client(srv)
    name = create_function(client, SLEEPER)
    results = concurrent_invokes(client, name, 3, seconds=0.5)
    assert all(error is None for body, error in results)
    assert environment_processes(srv)

    assert wait_for(lambda: not environment_processes(srv), 15), environment_processes(srv)


def test_burst_into_empty_pool_succeeds(fresh_server):
    srv = fresh_server("--max-starting", "2")
    client = wide_client(srv)
    name = create_function(client, SLEEPER, Timeout=30)

    results = concurrent_invokes(client, name, 10, seconds=1)

    assert [error for body, error in results if error is not None] == []
    instances = {body["instance"] for body, error in results}
    assert 1 <= len(instances) <= 10
    # Every environment that started is warm in the pool now and serves the next call.
    _, body = invoke_json(client, name)
    assert body["instance"] in instances


def test_host_memory_limit_evicts_then_throttles(fresh_server):
    srv = fresh_server("--host-memory-mb", "256")
    client = wide_client(srv)
    small = create_function(client, SLEEPER, MemorySize=128, Timeout=30)
    large = create_function(client, SLEEPER, MemorySize=256, Timeout=30)

    invoke_json(client, small)
    assert len(environment_processes(srv)) == 1
    # The idle environment of `small` is evicted to make room for `large`.
    response, _ = invoke_json(client, large)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert wait_for(lambda: len(environment_processes(srv)) == 1, 10)

    # A busy environment is never evicted: with `large` running, `small` does not fit.
    results = {}

    def run_large():
        results["large"] = invoke_json(client, large, {"seconds": 3})

    def large_started():
        out = run_lambent(srv, "logs", large, check=False).stdout
        return out.count("START RequestId") == 2

    caller = threading.Thread(target=run_large, daemon=True)
    caller.start()
    assert wait_for(large_started, 20)
    with pytest.raises(ClientError) as caught:
        invoke_json(client, small)
    assert_throttled(caught.value, ACCOUNT_REASON)
    caller.join(timeout=60)
    assert results["large"][0]["StatusCode"] == 200
