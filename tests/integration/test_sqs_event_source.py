"""Event source mappings from SQS queues to functions, against the real server and queues.

The functions print each batch they get as one "SQS-BATCH <json>" log line, which the tests
read back through /_lambent/logs.
"""

import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, signed_request, unique_name

RECORDER = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    print('SQS-BATCH ' + json.dumps(event))\n"
    "    return None\n")}

# Reports the messages whose body starts with "fail" as failed on their first receive only.
PARTIAL = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    print('SQS-BATCH ' + json.dumps(event))\n"
    "    failed = [{'itemIdentifier': r['messageId']} for r in event['Records']\n"
    "              if r['body'].startswith('fail')\n"
    "              and r['attributes']['ApproximateReceiveCount'] == '1']\n"
    "    return {'batchItemFailures': failed}\n")}

FAILING = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    print('SQS-BATCH ' + json.dumps(event))\n"
    "    raise RuntimeError('cannot process')\n")}


def batches(server, function):
    """The batches the function printed, oldest first."""
    status, _, body = signed_request(server, "GET", f"/_lambent/logs/{function}")
    if status == 404:
        return []
    assert status == 200, body
    found = []
    for event in json.loads(body)["events"]:
        message = event["message"]
        at = message.find("SQS-BATCH ")
        if at >= 0:
            found.append(json.loads(message[at + len("SQS-BATCH "):]))
    return found


def records(server, function):
    return [record for batch in batches(server, function) for record in batch["Records"]]


def wait_until(predicate, timeout=30, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def make_queue(sqs, **attributes):
    name = unique_name("q")
    url = sqs.create_queue(QueueName=name, Attributes={k: str(v) for k, v in attributes.items()})[
        "QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return url, arn


def queue_counts(sqs, url):
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return (int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]))


@pytest.fixture
def sqs(server):
    return server.client("sqs")


def test_mapping_delivers_every_message_and_empties_the_queue(server, lam, sqs):
    function = create_function(lam, RECORDER)
    url, arn = make_queue(sqs)
    sent = {}
    for i in range(25):
        body = f"message {i}"
        sent[sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]] = body
    tagged = sqs.send_message(
        QueueUrl=url, MessageBody="tagged",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "report"},
                           "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    sent[tagged["MessageId"]] = "tagged"

    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                              BatchSize=10)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"

    seen = wait_until(lambda: len({r["messageId"] for r in records(server, function)}) >= 26
                      and records(server, function), timeout=60)
    assert {r["messageId"] for r in seen} == set(sent)
    assert all(len(batch["Records"]) <= 10 for batch in batches(server, function))
    for record in seen:
        assert record["body"] == sent[record["messageId"]]
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == arn
        assert record["awsRegion"] == "us-east-1"
        assert set(record["attributes"]) >= {"ApproximateReceiveCount", "SentTimestamp",
                                             "SenderId", "ApproximateFirstReceiveTimestamp"}
    tagged_record = next(r for r in seen if r["messageId"] == tagged["MessageId"])
    assert tagged_record["md5OfMessageAttributes"] == tagged["MD5OfMessageAttributes"]
    assert tagged_record["messageAttributes"]["kind"] == {
        "stringValue": "report", "stringListValues": [], "binaryListValues": [],
        "dataType": "String"}
    assert tagged_record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
    assert wait_until(lambda: queue_counts(sqs, url) == (0, 0), timeout=30)


def test_partial_batch_failure_redelivers_only_failed_messages(server, lam, sqs):
    function = create_function(lam, PARTIAL, Timeout=3)
    url, arn = make_queue(sqs, VisibilityTimeout=3)
    bodies = ["ok 1", "fail 1", "ok 2", "fail 2", "ok 3"]
    ids = {sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"]: body for body in bodies}
    lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn, BatchSize=10,
                                    FunctionResponseTypes=["ReportBatchItemFailures"])

    def deliveries():
        counts = {}
        for record in records(server, function):
            counts[record["body"]] = counts.get(record["body"], 0) + 1
        return counts

    assert wait_until(lambda: deliveries().get("fail 1", 0) >= 2
                      and deliveries().get("fail 2", 0) >= 2, timeout=40)
    assert wait_until(lambda: queue_counts(sqs, url) == (0, 0), timeout=20)
    counts = deliveries()
    assert {body: counts[body] for body in ids.values()} == {
        "ok 1": 1, "fail 1": 2, "ok 2": 1, "fail 2": 2, "ok 3": 1}


def test_failing_message_reaches_dead_letter_queue(server, lam, sqs):
    function = create_function(lam, FAILING, Timeout=2)
    dlq_url, dlq_arn = make_queue(sqs)
    url, arn = make_queue(sqs, VisibilityTimeout=2, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}))
    message_id = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn, BatchSize=1)

    def dead_letters():
        return sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1,
                                   AttributeNames=["All"]).get("Messages", [])

    moved = wait_until(dead_letters, timeout=60, interval=0)
    assert [m["MessageId"] for m in moved] == [message_id]
    assert moved[0]["Body"] == "poison"
    # Two receives by the mapping, each a failed invocation, before the move.
    assert [r["messageId"] for r in records(server, function)] == [message_id, message_id]
    assert queue_counts(sqs, url) == (0, 0)


def test_filtered_mapping_deletes_messages_that_do_not_match(server, lam, sqs):
    function = create_function(lam, RECORDER)
    url, arn = make_queue(sqs)
    lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=arn, BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]})
    for kind in ["keep", "drop", "keep", "other"]:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": kind}))
    sqs.send_message(QueueUrl=url, MessageBody="plain text")

    assert wait_until(lambda: len(records(server, function)) >= 2, timeout=30)
    assert wait_until(lambda: queue_counts(sqs, url) == (0, 0), timeout=30)
    time.sleep(1)
    assert [json.loads(r["body"])["kind"] for r in records(server, function)] == ["keep", "keep"]


def test_disabled_mapping_stops_until_enabled(server, lam, sqs):
    function = create_function(lam, RECORDER)
    url, arn = make_queue(sqs)
    uuid = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                           Enabled=False)["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    sqs.send_message(QueueUrl=url, MessageBody="waiting")
    time.sleep(3)
    assert records(server, function) == []

    updated = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Enabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    assert wait_until(lambda: records(server, function), timeout=30)[0]["body"] == "waiting"


def test_mapping_lifecycle_and_conflicts(server, lam, sqs):
    function = create_function(lam, RECORDER, Timeout=10)
    short_url, short_arn = make_queue(sqs, VisibilityTimeout=5)
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=short_arn)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert caught.value.response["Error"]["Message"] == (
        "Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds")

    url, arn = make_queue(sqs, VisibilityTimeout=60)
    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn,
                                              BatchSize=20, MaximumBatchingWindowInSeconds=1)
    uuid = created["UUID"]
    # Debian's botocore 1.29 drops EventSourceMappingArn, so the raw JSON is read.
    status, _, raw = signed_request(server, "GET", f"/2015-03-31/event-source-mappings/{uuid}")
    assert status == 200
    assert json.loads(raw)["EventSourceMappingArn"] == \
        f"arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{uuid}"
    assert created["FunctionArn"] == \
        f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
    got = lam.get_event_source_mapping(UUID=uuid)
    assert (got["State"], got["BatchSize"], got["MaximumBatchingWindowInSeconds"]) == \
        ("Enabled", 20, 1)
    assert got["StateTransitionReason"] == "USER_INITIATED"

    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    assert uuid in caught.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as caught:
        lam.update_event_source_mapping(UUID=uuid, BatchSize=50, MaximumBatchingWindowInSeconds=0)
    assert caught.value.response["Error"]["Message"] == (
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
        "greater than 10")

    listed = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]
    assert [m["UUID"] for m in lam.list_event_source_mappings(EventSourceArn=arn)[
        "EventSourceMappings"]] == [uuid]

    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"
    with pytest.raises(ClientError) as caught:
        lam.get_event_source_mapping(UUID=uuid)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_aws_cli_creates_and_lists_mappings(server, lam, sqs):
    function = create_function(lam, RECORDER)
    url, arn = make_queue(sqs)
    created = json.loads(server.aws(
        "lambda", "create-event-source-mapping", "--function-name", function,
        "--event-source-arn", arn, "--batch-size", "5", "--output", "json").stdout)
    assert created["State"] == "Creating"
    listed = json.loads(server.aws("lambda", "list-event-source-mappings", "--function-name",
                                   function, "--output", "json").stdout)
    assert [m["UUID"] for m in listed["EventSourceMappings"]] == [created["UUID"]]
    sqs.send_message(QueueUrl=url, MessageBody="from the CLI test")
    assert wait_until(lambda: records(server, function), timeout=30)[0]["body"] == \
        "from the CLI test"


def test_mapping_and_messages_survive_a_restart(fresh_server):
    server = fresh_server()
    lam = server.client("lambda")
    sqs = server.client("sqs")
    function = create_function(lam, RECORDER)
    url, arn = make_queue(sqs)
    uuid = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn)["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    sqs.send_message(QueueUrl=url, MessageBody="before restart")
    server.stop()
    server.start()
    lam = server.client("lambda")
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert wait_until(lambda: records(server, function), timeout=30)[0]["body"] == \
        "before restart"


SLOW = {"app.py": (
    "import json, time\n"
    "def handler(event, context):\n"
    "    start = time.time()\n"
    "    time.sleep(0.5)\n"
    "    print('SQS-SPAN ' + json.dumps([start, time.time()]))\n")}


def test_pollers_scale_with_queue_depth(server, lam, sqs):
    function = create_function(lam, SLOW, Timeout=30)
    url, arn = make_queue(sqs, VisibilityTimeout=60)
    for start in range(0, 60, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    # MaximumConcurrency bounds the environments this test starts (slow ones under ASan).
    # Debian's botocore 1.29 predates ScalingConfig, so the mapping is created by hand.
    status, _, body = signed_request(
        server, "POST", "/2015-03-31/event-source-mappings/",
        json.dumps({"FunctionName": function, "EventSourceArn": arn, "BatchSize": 1,
                    "ScalingConfig": {"MaximumConcurrency": 10}}).encode())
    assert status == 202, body
    assert wait_until(lambda: queue_counts(sqs, url) == (0, 0), timeout=180, interval=0.5)

    status, _, body = signed_request(server, "GET", f"/_lambent/logs/{function}")
    spans = []
    for event in json.loads(body)["events"]:
        at = event["message"].find("SQS-SPAN ")
        if at >= 0:
            spans.append(json.loads(event["message"][at + len("SQS-SPAN "):]))
    assert len(spans) == 60
    # The maximum number of invocations running at one moment exceeds the 5 pollers a
    # mapping starts with, and stays within MaximumConcurrency.
    peak = max(sum(1 for s, e in spans if s <= moment < e) for moment, _ in spans)
    assert peak > 5
    assert peak <= 10
