"""AWS/Lambda metrics after a known workload, read back through the AWS CLI's
get-metric-statistics, boto3's get_metric_data and the Prometheus exposition."""

import base64
import json
import math
import re
import time
from datetime import datetime, timezone
from urllib.request import Request, urlopen

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, invoke_json, log_tail, unique_name

HANDLER = {"app.py": (
    "import time\n\n\n"
    "def handler(event, context):\n"
    "    time.sleep(event.get('ms', 0) / 1000)\n"
    "    if event.get('fail'):\n"
    "        raise ValueError('asked to fail')\n"
    "    return {'ok': True}\n")}

SUCCESSES = [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 80]  # sleep times in ms
FAILURES = 5
THROTTLES = 3
ALIAS_CALLS = 4
ASYNC_EVENTS = 2

REPORT_DURATION = re.compile(r"REPORT RequestId: \S+\tDuration: ([0-9.]+) ms")


def exact_quantile(values, q):
    """The value of rank floor(q * (n - 1)) in ascending order, the rank the sketch estimates."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@pytest.fixture(scope="module")
def workload(server):
    """Runs the workload once and returns what the tests compare against."""
    client = server.client()
    name = create_function(client, HANDLER, MemorySize=256, Timeout=10)
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    start = time.time()
    durations = []
    for ms in SUCCESSES:
        response, body = invoke_json(client, name, {"ms": ms}, LogType="Tail")
        assert body == {"ok": True}
        durations.append(float(REPORT_DURATION.search(log_tail(response)).group(1)))
    for _ in range(FAILURES):
        response, body = invoke_json(client, name, {"fail": True}, LogType="Tail")
        assert response["FunctionError"] == "Unhandled"
        durations.append(float(REPORT_DURATION.search(log_tail(response)).group(1)))

    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(THROTTLES):
        with pytest.raises(ClientError) as raised:
            invoke_json(client, name, {})
        assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    client.delete_function_concurrency(FunctionName=name)

    version = client.publish_version(FunctionName=name)["Version"]
    client.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    for _ in range(ALIAS_CALLS):
        _, body = invoke_json(client, name, {}, Qualifier="live")
        assert body == {"ok": True}

    for _ in range(ASYNC_EVENTS):
        assert client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=b"{}")["StatusCode"] == 202
    # Async events run shortly after they are queued.
    deadline = time.time() + 30
    while time.time() < deadline:
        if total(server, name, "Invocations") == len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS:
            break
        time.sleep(0.5)
    end = time.time()
    return {"name": name, "version": version, "start": start, "end": end,
            "durations": durations, "client": client}


def window(workload):
    start = datetime.fromtimestamp(workload["start"] - 120, tz=timezone.utc)
    end = datetime.fromtimestamp(workload["end"] + 120, tz=timezone.utc)
    return start, end


def statistics(server, workload, metric, statistics=("Sum",), dimensions=None, extended=None,
               period=60):
    """Runs `aws cloudwatch get-metric-statistics` and returns its datapoints."""
    start, end = window(workload)
    dims = dimensions or {"FunctionName": workload["name"]}
    args = ["cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda",
            "--metric-name", metric, "--start-time", start.isoformat(),
            "--end-time", end.isoformat(), "--period", str(period)]
    if dims:
        args += ["--dimensions"] + [f"Name={k},Value={v}" for k, v in dims.items()]
    if statistics:
        args += ["--statistics", *statistics]
    if extended:
        args += ["--extended-statistics", *extended]
    out = server.aws(*args, "--output", "json")
    return json.loads(out.stdout)["Datapoints"]


def total(server, name, metric):
    """Sum of a metric of the function over the last ten minutes, by get_metric_data."""
    client = server.client("cloudwatch")
    now = time.time()
    result = client.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric,
                       "Dimensions": [{"Name": "FunctionName", "Value": name}]},
            "Period": 60, "Stat": "Sum"}}],
        StartTime=datetime.fromtimestamp(now - 600, tz=timezone.utc),
        EndTime=datetime.fromtimestamp(now + 60, tz=timezone.utc))
    return sum(result["MetricDataResults"][0]["Values"])


def test_counts_through_the_aws_cli(server, workload):
    invocations = len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS
    assert sum(p["Sum"] for p in statistics(server, workload, "Invocations")) == invocations
    assert sum(p["Sum"] for p in statistics(server, workload, "Errors")) == FAILURES
    assert sum(p["Sum"] for p in statistics(server, workload, "Throttles")) == THROTTLES
    points = statistics(server, workload, "Invocations", ("SampleCount", "Sum"))
    assert all(p["Unit"] == "Count" for p in points)
    assert sum(p["SampleCount"] for p in points) == invocations


def test_duration_statistics_match_the_report_lines(server, workload):
    durations = workload["durations"]
    # One period covers the whole workload. The REPORT durations are known only for the first
    # sync calls, so the test checks the count of every call and that the maximum covers them.
    points = statistics(server, workload, "Duration",
                        ("SampleCount", "Sum", "Minimum", "Maximum"), period=3600)
    assert sum(p["SampleCount"] for p in points) == len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS
    assert all(p["Unit"] == "Milliseconds" for p in points)
    assert max(p["Maximum"] for p in points) >= max(durations) - 0.01
    assert min(SUCCESSES) <= max(p["Maximum"] for p in points)


def test_percentiles_within_the_documented_bound(server):
    """A function called only synchronously: every duration is known from its REPORT line."""
    client = server.client()
    name = create_function(client, HANDLER)
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    start = time.time()
    durations = []
    for i in range(40):
        response, _ = invoke_json(client, name, {"ms": (i * 7) % 45}, LogType="Tail")
        durations.append(float(REPORT_DURATION.search(log_tail(response)).group(1)))
    workload = {"name": name, "start": start, "end": time.time()}
    points = statistics(server, workload, "Duration", ("SampleCount", "Sum", "Minimum", "Maximum"),
                        period=3600)
    assert len(points) == 1, points
    point = points[0]
    assert point["SampleCount"] == 40
    # REPORT lines round to 0.01 ms.
    assert point["Sum"] == pytest.approx(sum(durations), abs=0.01 * 40)
    assert point["Minimum"] == pytest.approx(min(durations), abs=0.01)
    assert point["Maximum"] == pytest.approx(max(durations), abs=0.01)
    # GetMetricStatistics takes Statistics or ExtendedStatistics, not both.
    points = statistics(server, workload, "Duration", (), extended=("p50", "p90", "p99"),
                        period=3600)
    assert len(points) == 1, points
    for label, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        exact = exact_quantile(durations, q)
        assert abs(points[0]["ExtendedStatistics"][label] - exact) <= exact * 0.01 + 0.01, label


def test_get_metric_data_through_boto3(server, workload):
    cloudwatch = server.client("cloudwatch")
    start, end = window(workload)
    name = workload["name"]
    dims = [{"Name": "FunctionName", "Value": name}]
    queries = []
    for metric, stat in (("Invocations", "Sum"), ("Errors", "Sum"), ("Throttles", "Sum"),
                         ("ConcurrentExecutions", "Maximum"), ("AsyncEventsReceived", "Sum"),
                         ("AsyncEventAge", "SampleCount")):
        queries.append({"Id": metric.lower(), "ReturnData": True, "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": metric, "Dimensions": dims},
            "Period": 60, "Stat": stat}})
    result = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
    values = {r["Id"]: r["Values"] for r in result["MetricDataResults"]}
    assert all(r["StatusCode"] == "Complete" for r in result["MetricDataResults"])
    assert sum(values["invocations"]) == len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS
    assert sum(values["errors"]) == FAILURES
    assert sum(values["throttles"]) == THROTTLES
    assert max(values["concurrentexecutions"]) >= 1
    assert sum(values["asynceventsreceived"]) == ASYNC_EVENTS
    assert sum(values["asynceventage"]) == ASYNC_EVENTS


def test_one_second_resolution(server, workload):
    cloudwatch = server.client("cloudwatch")
    start, end = window(workload)
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                       "Dimensions": [{"Name": "FunctionName", "Value": workload["name"]}]},
            "Period": 1, "Stat": "Sum"}}],
        StartTime=start, EndTime=end)
    values = result["MetricDataResults"][0]["Values"]
    assert sum(values) == len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS

    # Two calls 1.5 s apart fall into two one-second periods, each on a whole second.
    client = server.client()
    name = create_function(client, HANDLER)
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    first = time.time()
    invoke_json(client, name, {})
    time.sleep(1.5)
    invoke_json(client, name, {})
    result = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "m", "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                       "Dimensions": [{"Name": "FunctionName", "Value": name}]},
            "Period": 1, "Stat": "Sum"}}],
        StartTime=datetime.fromtimestamp(first - 5, tz=timezone.utc),
        EndTime=datetime.fromtimestamp(time.time() + 5, tz=timezone.utc),
        ScanBy="TimestampAscending")
    data = result["MetricDataResults"][0]
    assert data["Values"] == [1.0, 1.0]
    earlier, later = data["Timestamps"]
    assert earlier.microsecond == 0
    assert later.microsecond == 0
    assert 1 <= (later - earlier).total_seconds() <= 2


def test_alias_dimensions(server, workload):
    name = workload["name"]
    resource = f"{name}:live"
    points = statistics(server, workload, "Invocations",
                        dimensions={"FunctionName": name, "Resource": resource})
    assert sum(p["Sum"] for p in points) == ALIAS_CALLS
    points = statistics(server, workload, "Invocations",
                        dimensions={"ExecutedVersion": workload["version"], "FunctionName": name,
                                    "Resource": resource})
    assert sum(p["Sum"] for p in points) == ALIAS_CALLS
    # The account-wide series counts this function's calls too.
    points = statistics(server, workload, "Invocations", dimensions={})
    assert sum(p["Sum"] for p in points) >= len(SUCCESSES) + FAILURES + ALIAS_CALLS

    listed = server.client("cloudwatch").list_metrics(
        Namespace="AWS/Lambda", MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": name}])["Metrics"]
    dimension_sets = sorted(sorted(d["Name"] for d in m["Dimensions"]) for m in listed)
    assert dimension_sets == [["ExecutedVersion", "FunctionName", "Resource"],
                              ["FunctionName"], ["FunctionName", "Resource"]]


def scrape(server, credentials=None):
    request = Request(server.endpoint + "/_lambent/metrics")
    if credentials is not None:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def test_prometheus_shows_the_same_totals(server, workload):
    text = scrape(server, server.credentials())
    name = workload["name"]

    def sample(metric, labels):
        pattern = re.escape(metric + labels) + r" (\S+)\n"
        found = re.search(pattern, text)
        assert found, f"{metric}{labels} missing from:\n{text}"
        return float(found.group(1))

    labels = f'{{function_name="{name}"}}'
    assert sample("lambent_lambda_invocations_total", labels) == (
        len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS)
    assert sample("lambent_lambda_errors_total", labels) == FAILURES
    assert sample("lambent_lambda_throttles_total", labels) == THROTTLES
    assert sample("lambent_lambda_duration_milliseconds_count", labels) == (
        len(SUCCESSES) + FAILURES + ALIAS_CALLS + ASYNC_EVENTS)
    assert "# TYPE lambent_lambda_duration_milliseconds summary" in text
    assert re.search(r'lambent_environments\{state="idle"\} \d+', text)
    assert re.search(r"lambent_store_commits_total \d+", text)
    assert re.search(r"lambent_async_events_stored \d+", text)


def test_prometheus_requires_credentials(server):
    from urllib.error import HTTPError
    with pytest.raises(HTTPError) as raised:
        scrape(server)
    assert raised.value.code == 401
    assert "Basic" in raised.value.headers["WWW-Authenticate"]
    key, _ = server.credentials()
    with pytest.raises(HTTPError) as raised:
        scrape(server, (key, "wrong-secret"))
    assert raised.value.code == 401


def test_metrics_survive_a_restart(fresh_server):
    server = fresh_server()
    client = server.client()
    name = create_function(client, HANDLER)
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    start = time.time()
    for _ in range(3):
        invoke_json(client, name, {})
    # SIGTERM writes the values still in memory.
    server.stop()
    server.start()
    workload = {"name": name, "start": start, "end": time.time()}
    points = statistics(server, workload, "Invocations")
    assert sum(p["Sum"] for p in points) == 3
