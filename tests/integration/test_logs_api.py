"""The CloudWatch Logs API (JSON 1.1, X-Amz-Target Logs_20140328.*) over function logs.

Real handlers write the log lines of most tests. Tests that need many streams, old events or
large streams write stream files straight into the server's data directory, in the format the
server writes: one "<epoch ms>\\t<message>" line per event in logs/<function>/<stream>.log.
"""

import json
import os
import re
import time
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create_function, invoke_json, unique_name

ACCOUNT = "000000000000"
DAY_MS = 86_400_000
STREAM_NAME = re.compile(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}")

HANDLER = """
import logging
logging.getLogger().setLevel(logging.INFO)

def handler(event, context):
    n = event.get("n", 0)
    print(f"marker-{n} alpha")
    print("beta phrase with spaces")
    if event.get("fail"):
        print("ERROR handler failed on purpose")
    logging.info("gamma from the logging module")
    return {"request_id": context.aws_request_id}
"""


def now_ms():
    return int(time.time() * 1000)


def group_of(function):
    return f"/aws/lambda/{function}"


def group_arn(group):
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"


def stream_path(server, function, stream):
    return server.data_dir / "logs" / function / (stream + ".log")


def write_stream(server, function, stream, events):
    """Appends (timestamp ms, message) events to a stream file as the server writes them."""
    path = stream_path(server, function, stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        for timestamp, message in events:
            out.write(f"{timestamp}\t{message.replace(chr(10), chr(13))}\n")
    return path


def lambda_stream(suffix):
    """A stream name in Lambda's form, YYYY/MM/DD/[$LATEST]<32 hex digits>."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + "[$LATEST]" + suffix * 32


def logs_request(server, operation, body, target=None, sign=True):
    """Sends one JSON 1.1 request; returns (status, lowercase headers, parsed body or None)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": target or f"Logs_20140328.{operation}"}
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=data, headers=headers)
    if sign:
        key, secret = server.credentials()
        SigV4Auth(Credentials(key, secret), "logs", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(prepared.url, data=data, method="POST",
                                 headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(raw, timeout=30) as response:
            status, response_headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, payload = error.code, error.headers, error.read()
    headers = {k.lower(): v for k, v in response_headers.items()}
    return status, headers, json.loads(payload) if payload else None


def error_of(server, operation, body, **kwargs):
    """Returns (status, __type, message) of a request that must fail."""
    status, headers, payload = logs_request(server, operation, body, **kwargs)
    assert status != 200, payload
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["x-amzn-requestid"]
    return status, payload["__type"], payload["message"]


def filter_all(logs, **kwargs):
    """Every event of FilterLogEvents, following nextToken."""
    events = []
    while True:
        page = logs.filter_log_events(**kwargs)
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


@pytest.fixture(scope="module")
def logs(server):
    return server.client("logs")


@pytest.fixture(scope="module")
def logged(server):
    """A function invoked three times; invocation 2 also prints an ERROR line."""
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER})
    started = now_ms()
    request_ids = []
    for n in (1, 2, 3):
        response, body = invoke_json(lam, name, {"n": n, "fail": n == 2})
        assert response["StatusCode"] == 200, body
        request_ids.append(body["request_id"])
    return {"name": name, "group": group_of(name), "request_ids": request_ids,
            "started": started}


def test_describe_log_groups_function_group(server, logs, logged):
    response = logs.describe_log_groups(logGroupNamePrefix=logged["group"])

    groups = response["logGroups"]
    assert [g["logGroupName"] for g in groups] == [logged["group"]]
    group = groups[0]
    assert group["arn"] == group_arn(logged["group"]) + ":*"
    assert group["metricFilterCount"] == 0
    assert "retentionInDays" not in group
    files = list((server.data_dir / "logs" / logged["name"]).rglob("*.log"))
    assert group["storedBytes"] == sum(f.stat().st_size for f in files) > 0
    assert logged["started"] - 60_000 <= group["creationTime"] <= now_ms()
    assert "nextToken" not in response


def test_describe_log_groups_raw_fields(server, logged):
    status, headers, payload = logs_request(server, "DescribeLogGroups",
                                            {"logGroupNamePrefix": logged["group"]})

    assert status == 200
    assert headers["content-type"] == "application/x-amz-json-1.1"
    group = payload["logGroups"][0]
    assert set(group) == {"logGroupName", "creationTime", "metricFilterCount", "arn",
                          "logGroupArn", "storedBytes", "logGroupClass"}
    assert group["logGroupArn"] == group_arn(logged["group"])
    assert group["logGroupClass"] == "STANDARD"


def test_describe_log_groups_pages_and_patterns(server, logs):
    base = unique_name("groups")
    for suffix in ("a", "b", "c"):
        write_stream(server, f"{base}-{suffix}", "s", [(now_ms(), "x")])
    prefix = group_of(base)

    first = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2)
    second = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2,
                                      nextToken=first["nextToken"])

    assert [g["logGroupName"] for g in first["logGroups"]] == [prefix + "-a", prefix + "-b"]
    assert [g["logGroupName"] for g in second["logGroups"]] == [prefix + "-c"]
    assert "nextToken" not in second
    status, _, payload = logs_request(server, "DescribeLogGroups",
                                      {"logGroupNamePattern": base + "-b"})
    assert status == 200
    assert payload["logGroups"] == [{"logGroupName": prefix + "-b",
                                     "creationTime": payload["logGroups"][0]["creationTime"],
                                     "arn": group_arn(prefix + "-b") + ":*"}]
    status, _, payload = logs_request(server, "DescribeLogGroups",
                                      {"logGroupIdentifiers": [group_arn(prefix + "-c")]})
    assert [g["logGroupName"] for g in payload["logGroups"]] == [prefix + "-c"]
    status, _, payload = logs_request(server, "DescribeLogGroups",
                                      {"logGroupNamePrefix": prefix,
                                       "logGroupClass": "INFREQUENT_ACCESS"})
    assert payload["logGroups"] == []


def test_describe_log_streams_fields(server, logs, logged):
    streams = logs.describe_log_streams(logGroupName=logged["group"])["logStreams"]

    assert streams
    for stream in streams:
        name = stream["logStreamName"]
        assert STREAM_NAME.fullmatch(name), name
        assert stream["arn"] == f"{group_arn(logged['group'])}:log-stream:{name}"
        assert stream["storedBytes"] == stream_path(server, logged["name"], name).stat().st_size
        assert stream["creationTime"] <= stream["firstEventTimestamp"]
        assert stream["firstEventTimestamp"] <= stream["lastEventTimestamp"]
        assert stream["lastEventTimestamp"] <= stream["lastIngestionTime"]
        assert stream["uploadSequenceToken"]
        events = logs.get_log_events(logGroupName=logged["group"], logStreamName=name,
                                     startFromHead=True)["events"]
        assert events[0]["timestamp"] == stream["firstEventTimestamp"]
        assert events[-1]["timestamp"] == stream["lastEventTimestamp"]


def test_describe_log_streams_order_and_paging(server, logs):
    function = unique_name("streams")
    base = now_ms() - 100_000
    # Stream names sort a..e; their last events sort c, a, e, b, d.
    for name, last in (("a", 2), ("b", 4), ("c", 1), ("d", 5), ("e", 3)):
        write_stream(server, function, f"2024/01/01/{name}", [(base, "first"), (base + last, "l")])
    group = group_of(function)

    by_name = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 2})
    pages = list(by_name)
    newest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                       descending=True)
    prefixed = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="2024/01/01/d")

    assert [len(p["logStreams"]) for p in pages] == [2, 2, 1]
    assert [s["logStreamName"][-1] for p in pages for s in p["logStreams"]] == list("abcde")
    assert [s["logStreamName"][-1] for s in newest["logStreams"]] == list("dbeac")
    assert [s["logStreamName"] for s in prefixed["logStreams"]] == ["2024/01/01/d"]
    oldest_two = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", limit=2)
    rest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                     nextToken=oldest_two["nextToken"])
    assert [s["logStreamName"][-1] for s in oldest_two["logStreams"] + rest["logStreams"]] == \
        list("caebd")


def test_describe_log_streams_by_identifier(server, logs, logged):
    by_name = logs.describe_log_streams(logGroupName=logged["group"])["logStreams"]
    for identifier in (logged["group"], group_arn(logged["group"])):
        status, _, payload = logs_request(server, "DescribeLogStreams",
                                          {"logGroupIdentifier": identifier})
        assert status == 200, payload
        assert [s["logStreamName"] for s in payload["logStreams"]] == \
            [s["logStreamName"] for s in by_name]
    # The model's pattern for identifiers has no '*', so the ":*" form of the ARN is invalid.
    status, error_type, _ = error_of(server, "DescribeLogStreams",
                                     {"logGroupIdentifier": group_arn(logged["group"]) + ":*"})
    assert (status, error_type) == (400, "InvalidParameterException")


def test_get_log_events_forward_pages(server, logs):
    function = unique_name("forward")
    base = now_ms() - 60_000
    write_stream(server, function, "s", [(base + i, f"event {i}") for i in range(25)])
    group = group_of(function)

    seen, token, last = [], None, None
    for _ in range(10):
        kwargs = {"nextToken": token} if token else {}
        last = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                   limit=10, **kwargs)
        seen += [e["message"] for e in last["events"]]
        if last["nextForwardToken"] == token:
            break
        token = last["nextForwardToken"]

    assert seen == [f"event {i}" for i in range(25)]
    assert last["events"] == []
    assert token.startswith("f/")
    # New lines appear behind the token that had reached the end.
    write_stream(server, function, "s", [(base + 30, "late event")])
    newer = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                nextToken=token)
    assert [e["message"] for e in newer["events"]] == ["late event"]
    assert newer["events"][0]["ingestionTime"] == base + 30


def test_get_log_events_backward_pages(server, logs):
    function = unique_name("backward")
    base = now_ms() - 60_000
    write_stream(server, function, "s", [(base + i, f"event {i}") for i in range(25)])
    group = group_of(function)

    newest = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10)
    middle = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                                 nextToken=newest["nextBackwardToken"])
    oldest = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                                 nextToken=middle["nextBackwardToken"])
    beyond = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                                 nextToken=oldest["nextBackwardToken"])

    assert [e["message"] for e in newest["events"]] == [f"event {i}" for i in range(15, 25)]
    assert [e["message"] for e in middle["events"]] == [f"event {i}" for i in range(5, 15)]
    assert [e["message"] for e in oldest["events"]] == [f"event {i}" for i in range(5)]
    assert beyond["events"] == []
    assert beyond["nextBackwardToken"] == oldest["nextBackwardToken"]
    assert newest["nextBackwardToken"].startswith("b/")
    # A backward page's forward token reads on from its newest event.
    forward = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                  limit=3, nextToken=middle["nextForwardToken"])
    assert [e["message"] for e in forward["events"]] == ["event 15", "event 16", "event 17"]


def test_get_log_events_time_range(server, logs):
    function = unique_name("range")
    base = now_ms() - 60_000
    write_stream(server, function, "s", [(base + i, f"event {i}") for i in range(10)])
    group = group_of(function)

    head = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=base + 5,
                               endTime=base + 8, startFromHead=True)
    tail = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=base + 5,
                               endTime=base + 8)

    # startTime is inclusive and endTime exclusive.
    assert [e["message"] for e in head["events"]] == ["event 5", "event 6", "event 7"]
    assert [e["message"] for e in tail["events"]] == ["event 5", "event 6", "event 7"]


def test_filter_finds_term_with_cli(server, logged):
    result = server.aws("logs", "filter-log-events", "--log-group-name", logged["group"],
                        "--filter-pattern", "marker-2", "--output", "json")

    events = json.loads(result.stdout)["events"]
    assert [e["message"] for e in events] == ["marker-2 alpha"]
    assert STREAM_NAME.fullmatch(events[0]["logStreamName"])
    assert len(events[0]["eventId"]) == 56


def test_filter_finds_request_id_with_cli(server, logged):
    request_id = logged["request_ids"][1]

    result = server.aws("logs", "filter-log-events", "--log-group-name", logged["group"],
                        "--filter-pattern", f'"{request_id}"', "--output", "json")

    messages = [e["message"] for e in json.loads(result.stdout)["events"]]
    assert messages[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert re.fullmatch(rf"\[INFO\]\t\S+\t{request_id}\tgamma from the logging module",
                        messages[1]), messages
    assert messages[2] == f"END RequestId: {request_id}"
    assert messages[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert len(messages) == 4


def test_cli_logs_tail(server, logged):
    result = server.aws("logs", "tail", logged["group"], "--since", "1h", "--filter-pattern",
                        "alpha", "--format", "short")

    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == \
        ["marker-1 alpha", "marker-2 alpha", "marker-3 alpha"]


@pytest.mark.parametrize("pattern, expected", [
    ("alpha", ["marker-1 alpha", "marker-2 alpha", "marker-3 alpha"]),
    ('"beta phrase"', ["beta phrase with spaces"] * 3),
    ("alpha -marker-2", ["marker-1 alpha", "marker-3 alpha"]),
    ("?ERROR ?marker-3", ["ERROR handler failed on purpose", "marker-3 alpha"]),
    ("Alpha", []),
])
def test_filter_patterns(logs, logged, pattern, expected):
    events = filter_all(logs, logGroupName=logged["group"], filterPattern=pattern)

    assert [e["message"] for e in events] == expected


def test_filter_empty_pattern_returns_every_event(logs, logged):
    events = filter_all(logs, logGroupName=logged["group"])

    streams = logs.describe_log_streams(logGroupName=logged["group"])["logStreams"]
    every = []
    for stream in streams:
        every += logs.get_log_events(logGroupName=logged["group"],
                                     logStreamName=stream["logStreamName"],
                                     startFromHead=True)["events"]
    assert len(events) == len(every) >= 18
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in every)


def test_filter_pages_with_tokens(server, logs):
    function = unique_name("paging")
    base = now_ms() - 60_000
    for name in ("x", "y", "z"):
        write_stream(server, function, name, [(base + i // 2, f"{name}{i}") for i in range(30)])
    group = group_of(function)

    whole = logs.filter_log_events(logGroupName=group)
    paged = filter_all(logs, logGroupName=group, limit=7)
    cli = server.aws("logs", "filter-log-events", "--log-group-name", group, "--page-size", "7",
                     "--output", "json")

    assert len(whole["events"]) == 90
    assert "nextToken" not in whole
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in whole["events"]]
    assert len({e["eventId"] for e in paged}) == 90
    assert [(e["timestamp"], e["logStreamName"]) for e in paged] == \
        sorted((e["timestamp"], e["logStreamName"]) for e in paged)
    assert [e["message"] for e in json.loads(cli.stdout)["events"]] == \
        [e["message"] for e in whole["events"]]


def test_filter_stream_selection_and_time_range(server, logs):
    function = unique_name("select")
    base = now_ms() - 60_000
    write_stream(server, function, "app/a", [(base, "a0"), (base + 10, "a10"), (base + 20, "a20")])
    write_stream(server, function, "app/b", [(base + 10, "b10")])
    write_stream(server, function, "other", [(base + 10, "o10")])
    group = group_of(function)

    ranged = filter_all(logs, logGroupName=group, startTime=base + 10, endTime=base + 20)
    named = filter_all(logs, logGroupName=group, logStreamNames=["app/b", "other"])
    prefixed = filter_all(logs, logGroupName=group, logStreamNamePrefix="app/")

    # endTime is inclusive for FilterLogEvents.
    assert [e["message"] for e in ranged] == ["a10", "b10", "o10", "a20"]
    assert [e["message"] for e in named] == ["b10", "o10"]
    assert [e["message"] for e in prefixed] == ["a0", "a10", "b10", "a20"]
    searched = logs.filter_log_events(logGroupName=group,
                                      logStreamNamePrefix="app/")["searchedLogStreams"]
    assert sorted(s["logStreamName"] for s in searched) == ["app/a", "app/b"]
    assert all(s["searchedCompletely"] for s in searched)


def test_filter_page_ends_after_bounded_scan(server, logs):
    function = unique_name("scan")
    base = now_ms() - 60_000
    noise = "noise " + "n" * 80
    path = stream_path(server, function, "big")
    path.parent.mkdir(parents=True)
    # 24 MB of lines that do not match, then one that does.
    with open(path, "w") as out:
        out.writelines(f"{base}\t{noise}\n" for _ in range(240_000))
        out.write(f"{base + 1}\tthe needle\n")
    group = group_of(function)

    first = logs.filter_log_events(logGroupName=group, filterPattern="needle")
    found = filter_all(logs, logGroupName=group, filterPattern="needle")
    cli = server.aws("logs", "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", "needle", "--output", "json")

    assert first["events"] == []
    assert "nextToken" in first
    assert [e["message"] for e in found] == ["the needle"]
    assert [e["message"] for e in json.loads(cli.stdout)["events"]] == ["the needle"]


def wait_until(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_retention_hides_and_deletes_old_streams(fresh_server):
    server = fresh_server()
    logs = server.client("logs")
    function = unique_name("retention")
    group = group_of(function)
    now = now_ms()
    old = write_stream(server, function, "2020/01/01/[$LATEST]" + "a" * 32,
                       [(now - 3 * DAY_MS, "old event")])
    mixed = write_stream(server, function, "2020/01/02/[$LATEST]" + "b" * 32,
                         [(now - 3 * DAY_MS, "old in mixed"), (now - 1000, "new in mixed")])
    current = write_stream(server, function, lambda_stream("c"), [(now - 500, "current event")])
    assert len(filter_all(logs, logGroupName=group)) == 4

    logs.put_retention_policy(logGroupName=group, retentionInDays=1)

    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert described["retentionInDays"] == 1
    assert [e["message"] for e in filter_all(logs, logGroupName=group)] == \
        ["new in mixed", "current event"]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert {s["logStreamName"].rsplit("]", 1)[-1] for s in streams} == {"b" * 32, "c" * 32}
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=group, logStreamName="2020/01/01/[$LATEST]" + "a" * 32)
    assert wait_until(lambda: not old.exists())
    assert not old.parent.exists()
    assert mixed.exists()
    assert current.exists()
    assert described["storedBytes"] == mixed.stat().st_size + current.stat().st_size

    # The mixed stream was kept, so its old event shows again without the policy.
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert [e["message"] for e in filter_all(logs, logGroupName=group)] == \
        ["old in mixed", "new in mixed", "current event"]


def test_retention_persists_and_sweeps_at_start(fresh_server):
    server = fresh_server()
    logs = server.client("logs")
    function = unique_name("kept")
    group = group_of(function)
    write_stream(server, function, "current", [(now_ms(), "current event")])
    logs.put_retention_policy(logGroupName=group, retentionInDays=3)
    server.stop()
    old = write_stream(server, function, "2020/01/01/old", [(now_ms() - 4 * DAY_MS, "old")])

    server.start()
    logs = server.client("logs")

    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0][
        "retentionInDays"] == 3
    assert wait_until(lambda: not old.exists())
    assert [e["message"] for e in filter_all(logs, logGroupName=group)] == ["current event"]


def test_create_and_delete_log_group(logs):
    group = "/lambent-test/" + unique_name("created")
    before = now_ms()

    logs.create_log_group(logGroupName=group)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException) as exists:
        logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    with_retention = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    logs.delete_log_group(logGroupName=group)

    assert [g["logGroupName"] for g in described] == [group]
    assert described[0]["storedBytes"] == 0
    assert before <= described[0]["creationTime"] <= now_ms()
    assert exists.value.response["Error"]["Message"] == "The specified log group already exists"
    assert with_retention[0]["retentionInDays"] == 7
    assert streams == []
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_group(logGroupName=group)


def test_delete_function_log_group_removes_files(server, logs):
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER})
    invoke_json(lam, name, {"n": 41})
    folder = server.data_dir / "logs" / name

    logs.delete_log_group(logGroupName=group_of(name))

    assert not folder.exists()
    assert logs.describe_log_groups(logGroupNamePrefix=group_of(name))["logGroups"] == []
    # The warm environment's next lines go to a new file of its stream.
    invoke_json(lam, name, {"n": 42})
    messages = [e["message"] for e in filter_all(logs, logGroupName=group_of(name))]
    assert "marker-42 alpha" in messages
    assert "marker-41 alpha" not in messages


SOME_GROUP = "/aws/lambda/" + "x" * 8


@pytest.mark.parametrize("operation, body, expected_type, message", [
    ("DescribeLogStreams", {"logGroupName": "/aws/lambda/no-such-function-anywhere"},
     "ResourceNotFoundException", "The specified log group does not exist."),
    ("DescribeLogGroups", {"limit": 51}, "InvalidParameterException",
     "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member "
     "must have value less than or equal to 50"),
    ("FilterLogEvents", {"logGroupName": SOME_GROUP, "limit": 0}, "InvalidParameterException",
     "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member "
     "must have value greater than or equal to 1"),
    ("DescribeLogStreams", {"logGroupName": SOME_GROUP, "logStreamNamePrefix": "a",
                            "orderBy": "LastEventTime"},
     "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."),
    ("DescribeLogStreams", {"logGroupName": SOME_GROUP, "orderBy": "Size"},
     "InvalidParameterException",
     "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy constraint: "
     "Member must satisfy enum value set: [LogStreamName, LastEventTime]"),
    ("PutRetentionPolicy", {"logGroupName": SOME_GROUP, "retentionInDays": 2},
     "InvalidParameterException",
     "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy "
     "constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, "
     "180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"),
    ("PutRetentionPolicy", {"logGroupName": SOME_GROUP}, "InvalidParameterException",
     "1 validation error detected: Value null at 'retentionInDays' failed to satisfy "
     "constraint: Member must not be null"),
    ("DescribeLogGroups", {"logGroupNamePrefix": "bad name!"}, "InvalidParameterException",
     "1 validation error detected: Value 'bad name!' at 'logGroupNamePrefix' failed to satisfy "
     "constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"),
    ("DescribeLogGroups", {"logGroupNamePrefix": "/a", "logGroupNamePattern": "a"},
     "InvalidParameterException",
     "logGroupNamePrefix and logGroupNamePattern are mutually exclusive; pass only one."),
    ("GetLogEvents", {"logStreamName": "s"}, "InvalidParameterException",
     "Specify exactly one of logGroupName and logGroupIdentifier (a log group name or ARN)."),
    ("GetLogEvents", {"logGroupName": SOME_GROUP, "logGroupIdentifier": SOME_GROUP,
                      "logStreamName": "s"}, "InvalidParameterException",
     "Specify exactly one of logGroupName and logGroupIdentifier (a log group name or ARN)."),
    ("GetLogEvents", {"logGroupName": SOME_GROUP}, "InvalidParameterException",
     "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: "
     "Member must not be null"),
    ("FilterLogEvents", {"logGroupName": SOME_GROUP, "logStreamNames": ["a"],
                         "logStreamNamePrefix": "a"}, "InvalidParameterException",
     "logStreamNames and logStreamNamePrefix cannot both be specified; pass one of them."),
    ("FilterLogEvents", {"logGroupName": SOME_GROUP, "filterPattern": "{ $.level = 1 }"},
     "InvalidParameterException",
     "Invalid filter pattern: JSON filter patterns ({ $.field = value }) are not supported; "
     "use terms, \"quoted phrases\", -term and ?term"),
    ("FilterLogEvents", {"logGroupName": SOME_GROUP, "limit": "ten"}, "SerializationException",
     "The value of 'limit' must be an integer."),
    ("CreateLogGroup", {"logGroupName": "/x", "logGroupClass": "DELIVERY"},
     "InvalidParameterException",
     "Lambent keeps every log group in the STANDARD class; logGroupClass DELIVERY is not "
     "supported."),
    ("DeleteLogGroup", {"logGroupName": "/lambent-test/never-created"},
     "ResourceNotFoundException", "The specified log group does not exist."),
    ("PutLogEvents", {"logGroupName": SOME_GROUP}, "UnknownOperationException",
     "Lambent does not implement the CloudWatch Logs operation PutLogEvents; "
     "docs/compat/logs.md lists the operations it serves."),
    ("NoSuchOperation", {}, "UnknownOperationException",
     "Logs_20140328.NoSuchOperation is not an operation of the CloudWatch Logs API (X-Amz-Target "
     "must be Logs_20140328.<Operation>)."),
])
def test_error_shapes(server, operation, body, expected_type, message):
    write_stream(server, SOME_GROUP.rsplit("/", 1)[1], "s", [(now_ms(), "x")])

    status, error_type, error_message = error_of(server, operation, body)

    assert (status, error_type, error_message) == (400, expected_type, message)


def test_token_errors(server, logs, logged):
    stream = logs.describe_log_streams(logGroupName=logged["group"])["logStreams"][0]
    cases = [
        ("FilterLogEvents", {"logGroupName": logged["group"], "nextToken": "garbage"}),
        ("GetLogEvents", {"logGroupName": logged["group"], "logStreamName":
                          stream["logStreamName"], "nextToken": "f/7"}),
        ("GetLogEvents", {"logGroupName": logged["group"], "logStreamName":
                          stream["logStreamName"], "nextToken": "sideways"}),
        ("DescribeLogStreams", {"logGroupName": logged["group"], "nextToken": "garbage"}),
        ("DescribeLogGroups", {"nextToken": "garbage"}),
    ]
    for operation, body in cases:
        status, error_type, message = error_of(server, operation, body)
        assert (status, error_type) == (400, "InvalidParameterException"), (operation, message)
        assert message.startswith("The specified nextToken is invalid"), message


def test_missing_stream_error(logs, logged):
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as missing:
        logs.get_log_events(logGroupName=logged["group"], logStreamName="2020/01/01/none")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=logged["group"], logStreamName="../../lambent")

    assert missing.value.response["Error"]["Message"] == "The specified log stream does not exist."
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_malformed_requests(server):
    status, error_type, message = error_of(server, "DescribeLogGroups", b"{not json")
    assert (status, error_type, message) == (400, "SerializationException",
                                             "The request body must be a JSON object.")
    status, error_type, _ = error_of(server, "DescribeLogGroups", b"[]")
    assert (status, error_type) == (400, "SerializationException")
    status, error_type, _ = error_of(server, "", {}, target="Logs_20140328.")
    assert (status, error_type) == (400, "UnknownOperationException")
    status, _, payload = logs_request(server, "DescribeLogGroups", b"")
    assert status == 200
    assert "logGroups" in payload


def test_unsigned_request_rejected(server):
    status, headers, _ = logs_request(server, "DescribeLogGroups", {}, sign=False)

    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_boto3_error_classes(logs):
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.put_retention_policy(logGroupName=SOME_GROUP, retentionInDays=2)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_retention_policy(logGroupName="/lambent-test/missing-group", retentionInDays=1)
    with pytest.raises(ClientError) as unknown:
        logs.describe_log_streams(logGroupName="/aws/lambda/no-such-function-anywhere")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
