"""Asynchronous invocation: retries, maximum event age, destinations, dead-letter targets and
the event invoke config API.

Timing tests run their own server with `--async-retry-scale`, which shortens AWS's retry
delays (60 s, then 120 s) and maximum event ages by the same factor. Attempts are counted from
the START lines in the function's log files. Destination records are read from the log of a
destination function that prints each event it receives.
"""

import datetime
import json
import re
import signal
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import Server, create_function, make_zip, signed_request, unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"
# AWS's recorded destination event, read in place when the conformance corpus sits beside the
# checkout; its top-level and requestContext field names otherwise.
CORPUS_RECORD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "events" / \
    "lambda_destination_event.json"
RECORD_FIELDS = {"version", "timestamp", "requestContext", "requestPayload", "responseContext",
                 "responsePayload"}
CONTEXT_FIELDS = {"requestId", "functionArn", "condition", "approximateInvokeCount"}

FAILING_HANDLER = '''
def handler(event, context):
    print("ATTEMPT", context.aws_request_id, flush=True)
    raise Exception("intentional failure " + str(event.get("n")))
'''

SUCCEEDING_HANDLER = '''
def handler(event, context):
    return {"ok": True, "n": event.get("n")}
'''

# A destination function prints each record it receives on one log line.
RECORDING_HANDLER = '''import json


def handler(event, context):
    print("RECORD " + json.dumps(event), flush=True)
    return None
'''


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def log_messages(server, name):
    """Returns every message in the function's log files, oldest stream first."""
    messages = []
    folder = server.data_dir / "logs" / name
    if not folder.exists():
        return messages
    for path in sorted(folder.rglob("*.log")):
        # Lines are "<epoch ms>\t<message>"; messages store their newlines as '\r'.
        for line in path.read_text(errors="replace").split("\n"):
            if line:
                messages.append(line.partition("\t")[2])
    return messages


def start_lines(server, name, request_id):
    return [m for m in log_messages(server, name)
            if m.startswith(f"START RequestId: {request_id} ")]


def records(server, name):
    return [json.loads(m[len("RECORD "):]) for m in log_messages(server, name)
            if m.startswith("RECORD ")]


def wait_for(predicate, timeout, description):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {description}")


def invoke_event(client, name, payload):
    response = client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=json.dumps(payload))
    assert response["StatusCode"] == 202
    return response["ResponseMetadata"]["RequestId"]


def make_pair(client, handler):
    """Creates a source function with `handler` and a recording destination function."""
    source = create_function(client, {"app.py": handler})
    destination = create_function(client, {"app.py": RECORDING_HANDLER})
    return source, destination


@pytest.fixture
def scaled_server(fresh_server):
    # 0.01 turns the 60 s and 120 s retry delays into 0.6 s and 1.2 s.
    return fresh_server("--async-retry-scale", "0.01")


def check_record_shape(record):
    """The record has exactly the fields of AWS's recorded destination event."""
    fields, context_fields = RECORD_FIELDS, CONTEXT_FIELDS
    if CORPUS_RECORD.exists():
        expected = json.loads(CORPUS_RECORD.read_text())
        fields, context_fields = set(expected), set(expected["requestContext"])
    assert set(record) == fields
    assert set(record["requestContext"]) == context_fields
    assert record["version"] == "1.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["timestamp"])
    stamp = datetime.datetime.strptime(record["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    age = datetime.datetime.utcnow() - stamp
    assert datetime.timedelta(seconds=-5) < age < datetime.timedelta(minutes=5)


def test_failing_function_retried_then_on_failure(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, FAILING_HANDLER)
    client.put_function_event_invoke_config(
        FunctionName=source,
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}})

    request_id = invoke_event(client, source, {"n": 7})
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnFailure record")

    # 1 + MaximumRetryAttempts (default 2) attempts, all with the request id of the 202.
    assert len(start_lines(scaled_server, source, request_id)) == 3
    attempts = [m for m in log_messages(scaled_server, source) if m.startswith("ATTEMPT ")]
    assert attempts == [f"ATTEMPT {request_id}"] * 3

    assert len(received) == 1
    record = received[0]
    check_record_shape(record)
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": function_arn(source) + ":$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "intentional failure 7"
    assert record["responsePayload"]["errorType"] == "Exception"
    assert "async_retries_exhausted" in scaled_server.log()


def test_success_goes_to_on_success(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, SUCCEEDING_HANDLER)
    client.put_function_event_invoke_config(
        FunctionName=source,
        DestinationConfig={"OnSuccess": {"Destination": function_arn(destination)},
                           "OnFailure": {"Destination": function_arn(destination)}})

    request_id = invoke_event(client, source, {"n": 3})
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnSuccess record")

    assert len(start_lines(scaled_server, source, request_id)) == 1
    assert len(received) == 1
    record = received[0]
    check_record_shape(record)
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": function_arn(source) + ":$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"n": 3}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": True, "n": 3}


def test_zero_retries_one_attempt(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, FAILING_HANDLER)
    client.put_function_event_invoke_config(
        FunctionName=source, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}})

    request_id = invoke_event(client, source, {"n": 0})
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnFailure record")

    assert len(start_lines(scaled_server, source, request_id)) == 1
    assert received[0]["requestContext"]["condition"] == "RetriesExhausted"
    assert received[0]["requestContext"]["approximateInvokeCount"] == 1


def test_one_retry_two_attempts(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, FAILING_HANDLER)
    client.put_function_event_invoke_config(
        FunctionName=source, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}})

    request_id = invoke_event(client, source, {"n": 1})
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnFailure record")

    assert len(start_lines(scaled_server, source, request_id)) == 2
    assert received[0]["requestContext"]["approximateInvokeCount"] == 2


def test_expired_event_dropped_and_counted(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, FAILING_HANDLER)
    # Scaled by 0.01, the maximum age is 1.8 s. The first retry comes 0.6 s after the first
    # failure, inside it. The second would come 1.2 s after the second failure, past it, so
    # the event expires after two attempts, with one of its two retries unused.
    client.put_function_event_invoke_config(
        FunctionName=source, MaximumEventAgeInSeconds=180,
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}})

    request_id = invoke_event(client, source, {"n": 2})
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnFailure record")

    assert len(start_lines(scaled_server, source, request_id)) == 2
    record = received[0]
    check_record_shape(record)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    log = scaled_server.log()
    expired = [line for line in log.splitlines() if "async_event_expired" in line]
    assert len(expired) == 1
    assert f"request_id={request_id}" in expired[0]
    assert "events_expired_total=1" in expired[0]


def test_queue_targets_logged_as_failures(scaled_server):
    client = scaled_server.client()
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:failures"
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:failures"
    source = create_function(client, {"app.py": FAILING_HANDLER},
                             DeadLetterConfig={"TargetArn": topic})
    client.put_function_event_invoke_config(
        FunctionName=source, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue}})

    request_id = invoke_event(client, source, {"n": 5})
    wait_for(lambda: "dead_letter_failed" in scaled_server.log(), 60, "the dead-letter log line")
    log = scaled_server.log()
    destination_lines = [line for line in log.splitlines()
                         if "destination_delivery_failed" in line]
    assert len(destination_lines) == 1
    assert f"request_id={request_id}" in destination_lines[0]
    assert f"destination={queue}" in destination_lines[0]
    dead_letter_lines = [line for line in log.splitlines() if "dead_letter_failed" in line]
    assert len(dead_letter_lines) == 1
    assert f"target={topic}" in dead_letter_lines[0]
    assert "dead_letter_errors_total=1" in dead_letter_lines[0]
    assert len(start_lines(scaled_server, source, request_id)) == 1


def test_sigkill_during_retries(fresh_server):
    # 0.05 turns the retry delays into 3 s and 6 s, long enough to kill the server between
    # attempts.
    first = fresh_server("--async-retry-scale", "0.05")
    client = first.client()
    source, destination = make_pair(client, FAILING_HANDLER)
    client.put_function_event_invoke_config(
        FunctionName=source,
        DestinationConfig={"OnFailure": {"Destination": function_arn(destination)}})
    request_id = invoke_event(client, source, {"n": 9})
    wait_for(lambda: start_lines(first, source, request_id), 30, "the first attempt")
    first.stop(signal.SIGKILL)

    second = Server(first.data_dir, ["--async-retry-scale", "0.05"]).start()
    try:
        received = wait_for(lambda: records(second, destination), 90, "the OnFailure record")
        starts = len(start_lines(second, source, request_id))
        # At least once: an attempt running when the server died may run again.
        assert 3 <= starts <= 4
        assert len(received) == 1
        assert received[0]["requestContext"]["requestId"] == request_id
        assert received[0]["requestContext"]["condition"] == "RetriesExhausted"
        assert received[0]["requestContext"]["approximateInvokeCount"] in (3, 4)
    finally:
        second.stop(signal.SIGKILL)


# ---- the event invoke config API ----

def error_of(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def test_config_lifecycle_shapes(lam):
    name = create_function(lam, {"app.py": SUCCEEDING_HANDLER})
    before = time.time()
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert put["FunctionArn"] == function_arn(name) + ":$LATEST"
    assert put["MaximumRetryAttempts"] == 0
    assert "MaximumEventAgeInSeconds" not in put
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    assert abs(put["LastModified"].timestamp() - before) < 60

    # Put replaces the whole config.
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60)
    assert put["MaximumEventAgeInSeconds"] == 60
    assert "MaximumRetryAttempts" not in put

    # Update merges into it.
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert updated["MaximumEventAgeInSeconds"] == 60
    assert updated["MaximumRetryAttempts"] == 1

    got = lam.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST")
    assert got["FunctionArn"] == function_arn(name) + ":$LATEST"
    assert got["MaximumEventAgeInSeconds"] == 60
    assert got["MaximumRetryAttempts"] == 1

    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert len(listed["FunctionEventInvokeConfigs"]) == 1
    entry = listed["FunctionEventInvokeConfigs"][0]
    assert entry["FunctionArn"] == function_arn(name) + ":$LATEST"
    assert entry["MaximumRetryAttempts"] == 1
    assert entry["MaximumEventAgeInSeconds"] == 60
    assert "NextMarker" not in listed

    deleted = lam.delete_function_event_invoke_config(FunctionName=name)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_function_event_invoke_configs(FunctionName=name)[
        "FunctionEventInvokeConfigs"] == []
    error = error_of(lambda: lam.get_function_event_invoke_config(FunctionName=name))
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == (
        f"The function {function_arn(name)}:$LATEST doesn't have an EventInvokeConfig")


def test_config_destinations(lam):
    name = create_function(lam, {"app.py": SUCCEEDING_HANDLER})
    other = create_function(lam, {"app.py": RECORDING_HANDLER})
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    put = lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={"OnSuccess": {"Destination": function_arn(other)},
                           "OnFailure": {"Destination": queue}})
    assert put["DestinationConfig"] == {"OnSuccess": {"Destination": function_arn(other)},
                                        "OnFailure": {"Destination": queue}}
    # Updating OnSuccess keeps OnFailure.
    updated = lam.update_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {}})
    assert updated["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {"Destination": queue}}

    self_error = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": function_arn(name)}}))
    assert self_error["Error"]["Code"] == "InvalidParameterValueException"
    assert self_error["Error"]["Message"] == (
        "You can't specify the function as a destination for itself.")

    missing = function_arn("doesnotexist")
    missing_error = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": missing}}))
    assert missing_error["Error"]["Code"] == "InvalidParameterValueException"
    assert missing_error["Error"]["Message"] == f"The destination ARN {missing} is invalid."

    iam = f"arn:aws:iam:{REGION}:{ACCOUNT}:function:{name}"
    service_error = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": iam}}))
    assert service_error["Error"]["Code"] == "InvalidParameterValueException"
    assert service_error["Error"]["Message"] == (
        f"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination="
        f"{iam}), onFailure=null) is invalid.")

    bad = f"arn:aws:_-/!lambda:{REGION}:{ACCOUNT}:function:{name}"
    pattern_error = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnFailure": {"Destination": bad}}))
    assert pattern_error["Error"]["Code"] == "ValidationException"
    assert pattern_error["Error"]["Message"].startswith(
        f"1 validation error detected: Value '{bad}' at 'destinationConfig.onFailure.destination'"
        " failed to satisfy constraint: Member must satisfy regular expression pattern: ")


def test_config_errors(lam, server):
    name = create_function(lam, {"app.py": SUCCEEDING_HANDLER})

    no_settings = error_of(lambda: lam.put_function_event_invoke_config(FunctionName=name))
    assert no_settings["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert no_settings["Error"]["Code"] == "InvalidParameterValueException"
    assert no_settings["Error"]["Message"] == (
        "You must specify at least one of error handling or destination setting.")

    for call in (lam.put_function_event_invoke_config, lam.update_function_event_invoke_config):
        missing = error_of(lambda: call(FunctionName="doesnotexist", MaximumRetryAttempts=1))
        assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert missing["Error"]["Code"] == "ResourceNotFoundException"
        assert missing["Error"]["Message"] == "The function doesn't exist."

    no_config = error_of(lambda: lam.update_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1))
    assert no_config["Error"]["Message"] == (
        f"The function {function_arn(name)}:$LATEST doesn't have an EventInvokeConfig")

    for call in (lam.get_function_event_invoke_config, lam.delete_function_event_invoke_config):
        absent = error_of(lambda: call(FunctionName="doesnotexist"))
        assert absent["Error"]["Code"] == "ResourceNotFoundException"
        assert absent["Error"]["Message"] == (
            f"The function {function_arn('doesnotexist')}:$LATEST doesn't have an "
            "EventInvokeConfig")

    list_missing = error_of(lambda: lam.list_function_event_invoke_configs(
        FunctionName="doesnotexist"))
    assert list_missing["Error"]["Message"] == "The function doesn't exist."

    mismatch = error_of(lambda: lam.put_function_event_invoke_config(
        FunctionName=f"{name}:$LATEST", Qualifier="1", MaximumRetryAttempts=1))
    assert mismatch["Error"]["Code"] == "InvalidParameterValueException"
    assert mismatch["Error"]["Message"] == (
        "The derived qualifier from the function name does not match the specified qualifier.")

    # botocore checks these ranges itself, so the requests are sent signed by hand.
    path = f"/2019-09-25/functions/{name}/event-invoke-config"
    status, _, body = signed_request(server, "PUT", path, json.dumps(
        {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 59}).encode())
    assert status == 400
    message = json.loads(body)["message"]
    assert message == (
        "2 validation errors detected: Value '3' at 'maximumRetryAttempts' failed to satisfy "
        "constraint: Member must have value less than or equal to 2; Value '59' at "
        "'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value "
        "greater than or equal to 60")
    status, _, body = signed_request(server, "PUT", path, json.dumps(
        {"MaximumEventAgeInSeconds": 21601}).encode())
    assert status == 400
    assert json.loads(body)["message"].endswith("Member must have value less than or equal to 21600")


def test_config_deleted_with_function(lam):
    name = create_function(lam, {"app.py": SUCCEEDING_HANDLER})
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    lam.delete_function(FunctionName=name)
    create_function(lam, {"app.py": SUCCEEDING_HANDLER}, name=name)
    assert lam.list_function_event_invoke_configs(FunctionName=name)[
        "FunctionEventInvokeConfigs"] == []


def test_config_survives_restart(fresh_server):
    first = fresh_server()
    client = first.client()
    name = create_function(client, {"app.py": SUCCEEDING_HANDLER})
    client.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    first.stop()
    second = Server(first.data_dir).start()
    try:
        got = second.client().get_function_event_invoke_config(FunctionName=name)
        assert got["MaximumEventAgeInSeconds"] == 120
    finally:
        second.stop()


def test_dead_letter_config_shapes(lam):
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    name = unique_name("dlq")
    created = lam.create_function(
        FunctionName=name, Runtime="python3.12", Handler="app.handler",
        Role=f"arn:aws:iam::{ACCOUNT}:role/lambent-test",
        Code={"ZipFile": make_zip({"app.py": SUCCEEDING_HANDLER})},
        DeadLetterConfig={"TargetArn": queue})
    assert created["DeadLetterConfig"] == {"TargetArn": queue}
    assert lam.get_function_configuration(FunctionName=name)["DeadLetterConfig"] == {
        "TargetArn": queue}

    wrong = error_of(lambda: lam.update_function_configuration(
        FunctionName=name, DeadLetterConfig={"TargetArn": function_arn(name)}))
    assert wrong["Error"]["Code"] == "InvalidParameterValueException"

    cleared = lam.update_function_configuration(FunctionName=name, DeadLetterConfig={})
    assert "DeadLetterConfig" not in cleared


def test_event_to_alias_runs_its_version(scaled_server):
    client = scaled_server.client()
    source, destination = make_pair(client, SUCCEEDING_HANDLER)
    version = client.publish_version(FunctionName=source)["Version"]
    client.update_function_code(FunctionName=source, ZipFile=make_zip(
        {"app.py": "def handler(event, context):\n    return {'latest': True}\n"}))
    client.create_alias(FunctionName=source, Name="live", FunctionVersion=version)
    client.put_function_event_invoke_config(
        FunctionName=source, Qualifier="live",
        DestinationConfig={"OnSuccess": {"Destination": function_arn(destination)}})

    response = client.invoke(FunctionName=source, Qualifier="live", InvocationType="Event",
                             Payload=json.dumps({"n": 9}))
    assert response["StatusCode"] == 202
    request_id = response["ResponseMetadata"]["RequestId"]
    received = wait_for(lambda: records(scaled_server, destination), 60, "the OnSuccess record")

    starts = start_lines(scaled_server, source, request_id)
    assert len(starts) == 1
    assert starts[0].endswith(f"Version: {version}")
    record = received[0]
    assert record["requestContext"]["functionArn"] == f"{function_arn(source)}:{version}"
    assert record["responseContext"]["executedVersion"] == version
    assert record["responsePayload"] == {"ok": True, "n": 9}


def test_alias_deletion_removes_its_config(lam):
    name = create_function(lam, {"app.py": SUCCEEDING_HANDLER})
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live",
                                         MaximumRetryAttempts=0)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier=version,
                                         MaximumRetryAttempts=1)
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier=version)
    configs = lam.list_function_event_invoke_configs(FunctionName=name)
    assert configs["FunctionEventInvokeConfigs"] == []


def test_pending_retries_end_with_their_function(scaled_server):
    client = scaled_server.client()
    name = create_function(client, {"app.py": FAILING_HANDLER})
    request_id = invoke_event(client, name, {"n": 1})
    wait_for(lambda: start_lines(scaled_server, name, request_id), 30, "the first attempt")
    client.delete_function(FunctionName=name)
    client.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                           Role="arn:aws:iam::000000000000:role/lambent-test",
                           Code={"ZipFile": make_zip({"app.py": SUCCEEDING_HANDLER})})
    # The retries were due after 0.6 s and 1.8 s; wait past both.
    time.sleep(3)
    assert start_lines(scaled_server, name, request_id) == []
