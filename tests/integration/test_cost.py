"""Cost accounting: requests, GB-seconds from the REPORT lines' billed durations, CPU-seconds
measured from the environments, through GET /_lambent/cost and `lambent cost`."""

import json
import re
import time

from conftest import create_function, invoke_json, log_tail, run_lambent, signed_request

SLEEPER = """import time

def handler(event, context):
    time.sleep(event["ms"] / 1000)
    return {"slept": event["ms"]}
"""

# Keeps the CPU busy for event["busy_ms"] of wall time and returns the CPU time the handler's
# process used meanwhile.
BURNER = """import time

def handler(event, context):
    cpu = time.process_time()
    until = time.monotonic() + event["busy_ms"] / 1000
    n = 0
    while time.monotonic() < until:
        n += 1
    return {"cpu_seconds": time.process_time() - cpu}
"""

BILLED = re.compile(r"Billed Duration: (\d+) ms\tMemory Size: (\d+) MB")


def billed_report(response):
    """Returns (billed ms, memory MB) from the REPORT line of an invocation's log tail."""
    match = BILLED.search(log_tail(response))
    assert match, log_tail(response)
    return int(match.group(1)), int(match.group(2))


def cost_report(server, since_ms=0):
    status, _, body = signed_request(server, "GET", f"/_lambent/cost?since_ms={since_ms}")
    assert status == 200, body
    return json.loads(body)


def rows_of(report, name):
    return {row["version"]: row for row in report["rows"] if row["function"] == name}


def test_cost_counts_known_workload(fresh_server):
    server = fresh_server("--price-per-request", "0.000001", "--price-per-gb-second", "0.00005")
    lam = server.client()
    name = create_function(lam, {"app.py": SLEEPER}, MemorySize=256, Timeout=10)
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.update_function_configuration(FunctionName=name, MemorySize=512)

    expected = {"1": [0, 0, 0], "$LATEST": [0, 0, 0]}  # requests, billed ms, MB-ms
    workload = [("1", 120)] * 4 + [("$LATEST", 60)] * 3
    for qualifier, ms in workload:
        response, body = invoke_json(lam, name, {"ms": ms}, Qualifier=qualifier, LogType="Tail")
        assert body == {"slept": ms}
        billed, memory = billed_report(response)
        assert billed >= ms
        assert memory == (256 if qualifier == "1" else 512)
        expected[qualifier][0] += 1
        expected[qualifier][1] += billed
        expected[qualifier][2] += billed * memory

    report = cost_report(server)
    assert report["currency"] == "USD"
    assert report["prices"] == {"per_request": 0.000001, "per_gb_second": 0.00005}
    rows = rows_of(report, name)
    assert set(rows) == {"1", "$LATEST"}
    for version, (requests, billed_ms, mb_ms) in expected.items():
        row = rows[version]
        gb_seconds = mb_ms / 1024 / 1000
        assert row["requests"] == requests
        assert row["billed_ms"] == billed_ms
        assert row["mb_ms"] == mb_ms
        assert abs(row["gb_seconds"] - gb_seconds) < 1e-12
        assert abs(row["request_cost"] - requests * 0.000001) < 1e-15
        assert abs(row["compute_cost"] - gb_seconds * 0.00005) < 1e-15
        assert abs(row["total"] - row["request_cost"] - row["compute_cost"]) < 1e-15
    assert report["totals"]["requests"] == 7
    assert report["totals"]["mb_ms"] == expected["1"][2] + expected["$LATEST"][2]

    # The table of `lambent cost` shows the same figures.
    table = run_lambent(server, "cost", "--since", "1h").stdout
    lines = table.splitlines()
    assert lines[0].split() == ["FUNCTION", "VERSION", "REQUESTS", "GB-SECONDS", "CPU-SECONDS",
                                "REQUEST", "$", "COMPUTE", "$", "TOTAL", "$"]
    for version, (requests, _, mb_ms) in expected.items():
        cells = next(line.split() for line in lines if line.split()[:2] == [name, version])
        assert cells[2] == str(requests)
        assert cells[3] == f"{mb_ms / 1024 / 1000:.6f}"
    total = next(line.split() for line in lines if line.startswith("TOTAL"))
    assert total[1] == "7"
    assert "0.000001 per request, 0.00005 per GB-second" in lines[-1]


def test_cost_survives_restart(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = create_function(lam, {"app.py": SLEEPER}, MemorySize=128)
    response, _ = invoke_json(lam, name, {"ms": 5}, LogType="Tail")
    billed, _ = billed_report(response)

    server.stop()
    server.start()
    rows = rows_of(cost_report(server), name)
    assert rows["$LATEST"]["requests"] == 1
    assert rows["$LATEST"]["mb_ms"] == billed * 128


def test_cost_since_excludes_earlier_minutes(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = create_function(lam, {"app.py": SLEEPER})
    invoke_json(lam, name, {"ms": 1})

    now_ms = int(time.time() * 1000)
    assert rows_of(cost_report(server, now_ms - 60_000), name)["$LATEST"]["requests"] == 1
    assert rows_of(cost_report(server, now_ms + 120_000), name) == {}

    lines = run_lambent(server, "cost", "--since", "all").stdout.splitlines()
    assert [line.split()[:3] for line in lines if line.startswith(name)] == [
        [name, "$LATEST", "1"]]
    assert lines[-1].startswith("Every retained minute. Prices in US dollars: ")


def test_cpu_seconds_of_busy_handler(fresh_server):
    server = fresh_server()
    lam = server.client()
    sampled = create_function(lam, {"app.py": BURNER}, Timeout=10)
    stopped = create_function(lam, {"app.py": BURNER}, Timeout=10)

    busy = {sampled: 0.0, stopped: 0.0}
    for name in busy:
        for _ in range(3):
            _, body = invoke_json(lam, name, {"busy_ms": 400})
            busy[name] += body["cpu_seconds"]

    # Stopping an environment reads its CPU time at once: a configuration update retires it.
    lam.update_function_configuration(FunctionName=stopped, Description="retire")
    cpu = rows_of(cost_report(server), stopped)["$LATEST"]["cpu_seconds"]
    # 10 ms clock ticks, and the runtime's own start and loop on top of the handler.
    assert busy[stopped] - 0.05 <= cpu <= busy[stopped] + 1.0, (cpu, busy[stopped])

    # A live environment is read every 5 s.
    deadline = time.monotonic() + 15
    cpu = 0
    while time.monotonic() < deadline:
        cpu = rows_of(cost_report(server), sampled)["$LATEST"]["cpu_seconds"]
        if cpu >= busy[sampled] - 0.05:
            break
        time.sleep(0.5)
    assert busy[sampled] - 0.05 <= cpu <= busy[sampled] + 1.0, (cpu, busy[sampled])


def test_cost_rejects_bad_since(fresh_server):
    server = fresh_server()
    status, headers, body = signed_request(server, "GET", "/_lambent/cost?since_ms=yesterday")
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidParameterValueException"
    assert "yesterday" in json.loads(body)["message"]

    result = run_lambent(server, "cost", "--since", "soon", check=False)
    assert result.returncode == 2
    assert "invalid --since 'soon'" in result.stderr


def test_cost_needs_a_signature(fresh_server):
    from urllib.error import HTTPError
    from urllib.request import urlopen

    server = fresh_server()
    try:
        urlopen(server.endpoint + "/_lambent/cost", timeout=10)
        status = 200
    except HTTPError as error:
        status = error.code
    assert status == 403
