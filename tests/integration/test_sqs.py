"""SQS-compatible queues, driven by Debian's boto3 (query protocol) and the AWS CLI v2.

The JSON 1.0 protocol is covered in test_sqs_json.py.
"""

import hashlib
import struct
import threading
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import unique_name


@pytest.fixture
def sqs(server):
    """A client without botocore's parameter validation, so the server validates every input."""
    return server.client("sqs", config=Config(parameter_validation=False, read_timeout=60,
                                              retries={"max_attempts": 0}))


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def md5_of_attributes(attributes):
    """MD5OfMessageAttributes as AWS documents it, written from the description."""
    buffer = b""
    for name in sorted(attributes):
        value = attributes[name]
        data_type = value["DataType"]
        buffer += struct.pack(">I", len(name.encode())) + name.encode()
        buffer += struct.pack(">I", len(data_type.encode())) + data_type.encode()
        if data_type.startswith("Binary"):
            raw = value["BinaryValue"]
            buffer += b"\x02" + struct.pack(">I", len(raw)) + raw
        else:
            raw = value["StringValue"].encode()
            buffer += b"\x01" + struct.pack(">I", len(raw)) + raw
    return hashlib.md5(buffer).hexdigest()


def test_queue_lifecycle(sqs):
    name = unique_name("life")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"},
                           tags={"team": "a"})["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")
    assert url.startswith("http://127.0.0.1:")
    # Same attributes: the same queue; another value: QueueAlreadyExists.
    again = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "45"})
    assert again["QueueUrl"] == url
    conflict = error_of(sqs.create_queue, QueueName=name, Attributes={"VisibilityTimeout": "5"})
    assert conflict["Error"]["Code"] == "QueueAlreadyExists"
    assert "VisibilityTimeout" in conflict["Error"]["Message"]
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"
    assert attributes["DelaySeconds"] == "0"
    assert attributes["MaximumMessageSize"] == "262144"
    assert attributes["MessageRetentionPeriod"] == "345600"
    assert attributes["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{name}"
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert abs(int(attributes["CreatedTimestamp"]) - time.time()) < 60
    only = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert list(only) == ["QueueArn"]
    unknown = error_of(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["Colour"])
    assert unknown["Error"]["Code"] == "InvalidAttributeName"

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "3"})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds"])
    assert attributes["Attributes"] == {"DelaySeconds": "3"}
    bad = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"DelaySeconds": "901"})
    assert bad["Error"]["Code"] == "InvalidAttributeValue"
    bad = error_of(sqs.set_queue_attributes, QueueUrl=url, Attributes={"Colour": "red"})
    assert bad["Error"]["Code"] == "InvalidAttributeName"

    sqs.tag_queue(QueueUrl=url, Tags={"env": "test"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "a", "env": "test"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"env": "test"}

    sqs.delete_queue(QueueUrl=url)
    missing_queue = error_of(sqs.get_queue_url, QueueName=name)
    assert missing_queue["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert missing_queue["ResponseMetadata"]["HTTPStatusCode"] == 400
    missing_queue = error_of(sqs.send_message, QueueUrl=url, MessageBody="x")
    assert missing_queue["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_create_queue_validation(sqs):
    bad_name = error_of(sqs.create_queue, QueueName="has space")
    assert bad_name["Error"]["Code"] == "InvalidParameterValue"
    long_name = error_of(sqs.create_queue, QueueName="q" * 81)
    assert long_name["Error"]["Code"] == "InvalidParameterValue"
    fifo_name = error_of(sqs.create_queue, QueueName=unique_name("plain"),
                         Attributes={"FifoQueue": "true"})
    assert fifo_name["Error"]["Code"] == "InvalidParameterValue"
    for attribute, value in [("VisibilityTimeout", "43201"), ("MessageRetentionPeriod", "59"),
                             ("MaximumMessageSize", "1023"), ("ReceiveMessageWaitTimeSeconds", "21"),
                             ("DelaySeconds", "-1"), ("VisibilityTimeout", "ten")]:
        response = error_of(sqs.create_queue, QueueName=unique_name("range"),
                            Attributes={attribute: value})
        assert response["Error"]["Code"] == "InvalidAttributeValue", (attribute, value)
    standard = error_of(sqs.create_queue, QueueName=unique_name("std"),
                        Attributes={"ContentBasedDeduplication": "true"})
    assert standard["Error"]["Code"] == "InvalidAttributeName"
    missing_dlq = error_of(sqs.create_queue, QueueName=unique_name("src"), Attributes={
        "RedrivePolicy": '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:none",'
                         '"maxReceiveCount":"3"}'})
    assert missing_dlq["Error"]["Code"] == "InvalidParameterValue"


def test_list_queues_pages(sqs):
    prefix = unique_name("page")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        sqs.create_queue(QueueName=name)
    listed = sqs.list_queues(QueueNamePrefix=prefix)
    assert [url.rsplit("/", 1)[1] for url in listed["QueueUrls"]] == names
    assert "NextToken" not in listed
    seen = []
    token = None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = sqs.list_queues(QueueNamePrefix=prefix, MaxResults=2, **kwargs)
        seen += [url.rsplit("/", 1)[1] for url in page["QueueUrls"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == names
    none = sqs.list_queues(QueueNamePrefix=prefix + "-none")
    assert "QueueUrls" not in none
    bad = error_of(sqs.list_queues, MaxResults=1001)
    assert bad["Error"]["Code"] == "InvalidParameterValue"


def test_send_receive_md5s(sqs):
    url = sqs.create_queue(QueueName=unique_name("md5"))["QueueUrl"]
    attributes = {
        "colour": {"DataType": "String", "StringValue": "blü"},
        "count": {"DataType": "Number", "StringValue": "42"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x00\xff\x10"},
        "meta.kind": {"DataType": "String.custom", "StringValue": "k"},
    }
    body = "héllo\r\nworld & <tags>"
    sent = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes,
                            MessageSystemAttributes={"AWSTraceHeader": {
                                "DataType": "String", "StringValue": "Root=1-abc"}})
    assert sent["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(attributes)
    assert sent["MD5OfMessageSystemAttributes"] == md5_of_attributes(
        {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-abc"}})

    received = sqs.receive_message(QueueUrl=url, AttributeNames=["All"],
                                   MessageAttributeNames=["All"], WaitTimeSeconds=1)
    [message] = received["Messages"]
    assert message["MessageId"] == sent["MessageId"]
    assert message["Body"] == body
    assert message["MD5OfBody"] == sent["MD5OfMessageBody"]
    assert message["MessageAttributes"] == attributes
    assert message["MD5OfMessageAttributes"] == md5_of_attributes(message["MessageAttributes"])
    system = message["Attributes"]
    assert system["ApproximateReceiveCount"] == "1"
    assert system["AWSTraceHeader"] == "Root=1-abc"
    assert abs(int(system["SentTimestamp"]) / 1000 - time.time()) < 60
    assert int(system["ApproximateFirstReceiveTimestamp"]) >= int(system["SentTimestamp"])
    assert system["SenderId"]

    # A prefix filter returns the matching attributes, with their own digest.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                  VisibilityTimeout=0)
    again = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["meta.*"],
                                AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert list(again["MessageAttributes"]) == ["meta.kind"]
    assert again["MD5OfMessageAttributes"] == md5_of_attributes(again["MessageAttributes"])
    assert again["Attributes"] == {"ApproximateReceiveCount": "2"}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_message_limits(sqs):
    url = sqs.create_queue(QueueName=unique_name("limits"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x" * 262144)
    too_long = error_of(sqs.send_message, QueueUrl=url, MessageBody="x" * 262145)
    assert too_long["Error"]["Code"] == "InvalidParameterValue"
    assert "262144" in too_long["Error"]["Message"]
    attribute_push = error_of(sqs.send_message, QueueUrl=url, MessageBody="x" * 262140,
                              MessageAttributes={"a": {"DataType": "String",
                                                       "StringValue": "yy"}})
    assert attribute_push["Error"]["Code"] == "InvalidParameterValue"
    control = error_of(sqs.send_message, QueueUrl=url, MessageBody="bad\x01char")
    assert control["Error"]["Code"] == "InvalidMessageContents"
    eleven = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    too_many = error_of(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes=eleven)
    assert too_many["Error"]["Code"] == "InvalidParameterValue"
    reserved = error_of(sqs.send_message, QueueUrl=url, MessageBody="x",
                        MessageAttributes={"AWS.x": {"DataType": "String", "StringValue": "v"}})
    assert reserved["Error"]["Code"] == "InvalidParameterValue"
    number = error_of(sqs.send_message, QueueUrl=url, MessageBody="x",
                      MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
    assert number["Error"]["Code"] == "InvalidParameterValue"
    delay = error_of(sqs.send_message, QueueUrl=url, MessageBody="x", DelaySeconds=901)
    assert delay["Error"]["Code"] == "InvalidParameterValue"
    for kwargs in [{"MaxNumberOfMessages": 11}, {"MaxNumberOfMessages": 0},
                   {"WaitTimeSeconds": 21}, {"VisibilityTimeout": 43201}]:
        response = error_of(sqs.receive_message, QueueUrl=url, **kwargs)
        assert response["Error"]["Code"] == "InvalidParameterValue", kwargs


def test_batches(sqs):
    url = sqs.create_queue(QueueName=unique_name("batch"))["QueueUrl"]
    result = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok-1", "MessageBody": "one"},
        {"Id": "ok_2", "MessageBody": "two", "MessageAttributes": {
            "k": {"DataType": "String", "StringValue": "v"}}},
        {"Id": "bad", "MessageBody": "three", "DelaySeconds": 1000},
    ])
    assert sorted(entry["Id"] for entry in result["Successful"]) == ["ok-1", "ok_2"]
    for entry in result["Successful"]:
        assert entry["MD5OfMessageBody"] == hashlib.md5(
            {"ok-1": b"one", "ok_2": b"two"}[entry["Id"]]).hexdigest()
    [failed] = result["Failed"]
    assert failed["Id"] == "bad"
    assert failed["SenderFault"] is True
    assert failed["Code"] == "InvalidParameterValue"

    cases = [
        ([], "AWS.SimpleQueueService.EmptyBatchRequest"),
        ([{"Id": f"m{i}", "MessageBody": "x"} for i in range(11)],
         "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
        ([{"Id": "same", "MessageBody": "x"}, {"Id": "same", "MessageBody": "y"}],
         "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        ([{"Id": "no spaces", "MessageBody": "x"}], "AWS.SimpleQueueService.InvalidBatchEntryId"),
        ([{"Id": "a", "MessageBody": "x" * 200000}, {"Id": "b", "MessageBody": "y" * 70000}],
         "AWS.SimpleQueueService.BatchRequestTooLong"),
    ]
    for entries, code in cases:
        response = error_of(sqs.send_message_batch, QueueUrl=url, Entries=entries)
        assert response["Error"]["Code"] == code

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    handles = [m["ReceiptHandle"] for m in received["Messages"]]
    while len(handles) < 2:
        more = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        handles += [m["ReceiptHandle"] for m in more.get("Messages", [])]
    changed = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": handles[0], "VisibilityTimeout": 60},
        {"Id": "b", "ReceiptHandle": "not-a-handle", "VisibilityTimeout": 60},
    ])
    assert [entry["Id"] for entry in changed["Successful"]] == ["a"]
    assert changed["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": handles[0]}, {"Id": "b", "ReceiptHandle": handles[1]},
        {"Id": "c", "ReceiptHandle": "garbage!"}])
    assert sorted(entry["Id"] for entry in deleted["Successful"]) == ["a", "b"]
    assert deleted["Failed"][0]["Id"] == "c"
    assert deleted["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"


def test_long_poll_returns_at_once_on_send(server, sqs):
    url = sqs.create_queue(QueueName=unique_name("poll"))["QueueUrl"]
    poller = server.client("sqs")
    result = {}

    def receive():
        started = time.monotonic()
        result["response"] = poller.receive_message(QueueUrl=url, WaitTimeSeconds=20)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=receive)
    thread.start()
    time.sleep(0.5)
    sent_at = time.monotonic()
    sqs.send_message(QueueUrl=url, MessageBody="wake")
    thread.join(timeout=25)
    assert result["response"]["Messages"][0]["Body"] == "wake"
    assert result["elapsed"] < 5
    assert time.monotonic() - sent_at < 2

    started = time.monotonic()
    empty = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)
    elapsed = time.monotonic() - started
    assert "Messages" not in empty
    assert 0.9 <= elapsed < 3


def test_queue_wait_time_attribute(sqs):
    url = sqs.create_queue(QueueName=unique_name("wait"),
                           Attributes={"ReceiveMessageWaitTimeSeconds": "1"})["QueueUrl"]
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert time.monotonic() - started >= 0.9


def test_visibility_timeout_redelivers(sqs):
    url = sqs.create_queue(QueueName=unique_name("vis"),
                           Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    first = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    # The long poll wakes when the visibility timeout ends, not at its own deadline.
    started = time.monotonic()
    second = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10,
                                 AttributeNames=["ApproximateReceiveCount"])["Messages"][0]
    assert time.monotonic() - started < 3
    assert second["MessageId"] == first["MessageId"]
    assert second["ReceiptHandle"] != first["ReceiptHandle"]
    assert second["Attributes"]["ApproximateReceiveCount"] == "2"

    # An explicit receive timeout overrides the queue's, and ChangeMessageVisibility 0 releases.
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"],
                                  VisibilityTimeout=0)
    third = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    not_in_flight_url = sqs.create_queue(QueueName=unique_name("vis2"))["QueueUrl"]
    sqs.send_message(QueueUrl=not_in_flight_url, MessageBody="x")
    released = sqs.receive_message(QueueUrl=not_in_flight_url,
                                   VisibilityTimeout=0)["Messages"][0]
    stale = error_of(sqs.change_message_visibility, QueueUrl=not_in_flight_url,
                     ReceiptHandle=released["ReceiptHandle"], VisibilityTimeout=10)
    assert stale["Error"]["Code"] == "AWS.SimpleQueueService.MessageNotInflight"
    invalid = error_of(sqs.change_message_visibility, QueueUrl=url, ReceiptHandle="nonsense",
                       VisibilityTimeout=10)
    assert invalid["Error"]["Code"] == "ReceiptHandleIsInvalid"
    too_long = error_of(sqs.change_message_visibility, QueueUrl=url,
                        ReceiptHandle=third["ReceiptHandle"], VisibilityTimeout=43201)
    assert too_long["Error"]["Code"] == "InvalidParameterValue"
    invalid = error_of(sqs.delete_message, QueueUrl=url, ReceiptHandle="nonsense")
    assert invalid["Error"]["Code"] == "ReceiptHandleIsInvalid"
    # A handle of a message received again since does not delete it on a standard queue.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=third["ReceiptHandle"])  # already deleted: fine
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert counts["ApproximateNumberOfMessages"] == "0"


def test_dead_letter_queue_after_max_receives(sqs):
    dlq_name = unique_name("dlq")
    dlq_url = sqs.create_queue(QueueName=dlq_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = '{"deadLetterTargetArn":"%s","maxReceiveCount":"2"}' % dlq_arn
    url = sqs.create_queue(QueueName=unique_name("src"), Attributes={
        "RedrivePolicy": policy, "VisibilityTimeout": "0"})["QueueUrl"]
    stored = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert stored["Attributes"]["RedrivePolicy"] == \
        '{"deadLetterTargetArn":"%s","maxReceiveCount":2}' % dlq_arn
    sent = sqs.send_message(QueueUrl=url, MessageBody="poison",
                            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
    for count in (1, 2):
        message = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"][0]
        assert message["Attributes"]["ApproximateReceiveCount"] == str(count)
    # The third receive moves it instead of returning it.
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    moved = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"],
                                WaitTimeSeconds=1)["Messages"][0]
    assert moved["MessageId"] == sent["MessageId"]
    assert moved["Body"] == "poison"
    assert moved["MessageAttributes"]["k"]["StringValue"] == "v"
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"]
    assert sources == [url]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"


def test_fifo_order_dedup_and_groups(sqs):
    name = unique_name("order") + ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert attributes["ContentBasedDeduplication"] == "true"

    sequence = []
    for i in range(4):
        sent = sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
        sequence.append(int(sent["SequenceNumber"]))
    assert sequence == sorted(sequence)
    first_b = sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B",
                               MessageDeduplicationId="b-zero")
    # Same dedup id within 5 minutes: the first message's id, nothing stored.
    dup = sqs.send_message(QueueUrl=url, MessageBody="other body", MessageGroupId="B",
                           MessageDeduplicationId="b-zero")
    assert dup["MessageId"] == first_b["MessageId"]
    assert dup["SequenceNumber"] == first_b["SequenceNumber"]
    # Same body, content-based deduplication: also a duplicate.
    same_body = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="A")
    assert int(same_body["SequenceNumber"]) == sequence[0]

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, AttributeNames=["All"])
    assert [m["Body"] for m in got["Messages"]] == ["a0", "a1"]
    assert got["Messages"][0]["Attributes"]["MessageGroupId"] == "A"
    assert got["Messages"][0]["Attributes"]["SequenceNumber"] == str(sequence[0]).zfill(20)
    # Group A has messages in flight: only group B comes next.
    nxt = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in nxt["Messages"]] == ["b0"]
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    for message in got["Messages"]:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    rest = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert [m["Body"] for m in rest["Messages"]] == ["a2", "a3"]

    missing = error_of(sqs.send_message, QueueUrl=url, MessageBody="x")
    assert missing["Error"]["Code"] == "MissingParameter"
    delayed = error_of(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="A",
                       DelaySeconds=5)
    assert delayed["Error"]["Code"] == "InvalidParameterValue"
    plain = sqs.create_queue(QueueName=unique_name("nodedup") + ".fifo",
                             Attributes={"FifoQueue": "true"})["QueueUrl"]
    no_dedup = error_of(sqs.send_message, QueueUrl=plain, MessageBody="x", MessageGroupId="A")
    assert no_dedup["Error"]["Code"] == "InvalidParameterValue"
    standard = sqs.create_queue(QueueName=unique_name("std"))["QueueUrl"]
    dedup_on_standard = error_of(sqs.send_message, QueueUrl=standard, MessageBody="x",
                                 MessageDeduplicationId="d")
    assert dedup_on_standard["Error"]["Code"] == "InvalidParameterValue"


def test_delay_queue_and_purge(sqs):
    url = sqs.create_queue(QueueName=unique_name("delay"),
                           Attributes={"DelaySeconds": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later")
    sqs.send_message(QueueUrl=url, MessageBody="now", DelaySeconds=0)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert counts["ApproximateNumberOfMessages"] == "1"
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "now"
    started = time.monotonic()
    later = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5)["Messages"][0]
    assert later["Body"] == "later"
    assert time.monotonic() - started < 3

    sqs.send_message(QueueUrl=url, MessageBody="purged", DelaySeconds=0)
    sqs.purge_queue(QueueUrl=url)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "0"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    again = error_of(sqs.purge_queue, QueueUrl=url)
    assert again["Error"]["Code"] == "AWS.SimpleQueueService.PurgeQueueInProgress"
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unsupported_operation(sqs):
    url = sqs.create_queue(QueueName=unique_name("perm"))["QueueUrl"]
    response = error_of(sqs.add_permission, QueueUrl=url, Label="l",
                        AWSAccountIds=["000000000000"], Actions=["SendMessage"])
    assert response["Error"]["Code"] == "AWS.SimpleQueueService.UnsupportedOperation"


def test_aws_cli(server):
    import json
    name = unique_name("cli")
    created = json.loads(server.aws("sqs", "create-queue", "--queue-name", name,
                                    "--output", "json").stdout)
    url = created["QueueUrl"]
    sent = json.loads(server.aws("sqs", "send-message", "--queue-url", url, "--message-body",
                                 "from the cli", "--output", "json").stdout)
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
    received = json.loads(server.aws("sqs", "receive-message", "--queue-url", url,
                                     "--attribute-names", "All", "--wait-time-seconds", "1",
                                     "--output", "json").stdout)
    [message] = received["Messages"]
    assert message["Body"] == "from the cli"
    assert message["MessageId"] == sent["MessageId"]
    server.aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle",
               message["ReceiptHandle"])
    missing = server.aws("sqs", "get-queue-url", "--queue-name", name + "-none", check=False)
    assert missing.returncode != 0
    assert "NonExistentQueue" in missing.stderr


def test_acknowledged_sends_survive_sigkill(fresh_server):
    import signal
    srv = fresh_server()
    client = srv.client("sqs")
    url = client.create_queue(QueueName="durable")["QueueUrl"]
    fifo_url = client.create_queue(QueueName="durable.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    acknowledged = {}
    stop = threading.Event()

    def send(worker):
        own = srv.client("sqs")
        i = 0
        while not stop.is_set() and i < 400:
            body = f"w{worker}-{i}"
            try:
                sent = own.send_message(QueueUrl=url, MessageBody=body)
            except Exception:
                return  # the server died mid-request: this send was never acknowledged
            acknowledged[sent["MessageId"]] = body
            i += 1

    threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    fifo_ids = [client.send_message(QueueUrl=fifo_url, MessageBody=f"f{i}",
                                    MessageGroupId="g")["MessageId"] for i in range(5)]
    # Kill while the senders are still sending, once some sends are acknowledged.
    deadline = time.monotonic() + 30
    while len(acknowledged) < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    # A received message stays in flight across the restart.
    in_flight = client.receive_message(QueueUrl=fifo_url)["Messages"][0]
    srv.process.send_signal(signal.SIGKILL)
    srv.process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) > 20

    srv.stop()
    srv.start()
    client = srv.client("sqs")
    url = client.get_queue_url(QueueName="durable")["QueueUrl"]
    found = {}
    while True:
        batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=300).get("Messages", [])
        if not batch:
            break
        for message in batch:
            found[message["MessageId"]] = message["Body"]
    missing = {k: v for k, v in acknowledged.items() if found.get(k) != v}
    assert not missing, f"{len(missing)} acknowledged messages lost"

    fifo_url = client.get_queue_url(QueueName="durable.fifo")["QueueUrl"]
    counts = client.get_queue_attributes(QueueUrl=fifo_url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert counts["ApproximateNumberOfMessages"] == "4"
    # The dedup window survives too: resending f0 returns the first id.
    again = client.send_message(QueueUrl=fifo_url, MessageBody="f0", MessageGroupId="g")
    assert again["MessageId"] == fifo_ids[0] == in_flight["MessageId"]


def test_sigterm_ends_long_polls(fresh_server):
    import signal
    srv = fresh_server()
    client = srv.client("sqs")
    url = client.create_queue(QueueName="parked")["QueueUrl"]
    result = {}

    def receive():
        result["response"] = client.receive_message(QueueUrl=url, WaitTimeSeconds=20)

    thread = threading.Thread(target=receive)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    srv.process.send_signal(signal.SIGTERM)
    srv.process.wait(timeout=15)
    thread.join(timeout=15)
    assert time.monotonic() - started < 5
    assert srv.process.returncode == 0
    assert "Messages" not in result["response"]


def test_async_failure_destination_queue(server, sqs):
    import json
    from conftest import create_function
    lam = server.client()
    url = sqs.create_queue(QueueName=unique_name("onfailure"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    function = create_function(lam, {"app.py": "def handler(event, context):\n"
                                               "    raise RuntimeError('broken')\n"})
    lam.put_function_event_invoke_config(FunctionName=function, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": arn}})
    lam.invoke(FunctionName=function, InvocationType="Event", Payload=b'{"n": 7}')
    deadline = time.monotonic() + 60
    messages = []
    while not messages and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
    assert messages, "no destination record reached the queue"
    record = json.loads(messages[0]["Body"])
    assert record["requestPayload"] == {"n": 7}
    assert record["requestContext"]["condition"] == "RetriesExhausted"


@pytest.mark.parametrize("parameter,value,rule", [
    ("MaxNumberOfMessages", 0, "Must be between 1 and 10, if provided."),
    ("MaxNumberOfMessages", 11, "Must be between 1 and 10, if provided."),
    ("VisibilityTimeout", -1, "Must be >= 0 and <= 43200, if provided."),
    ("VisibilityTimeout", 43201, "Must be >= 0 and <= 43200, if provided."),
    ("WaitTimeSeconds", 21, "Must be >= 0 and <= 20, if provided."),
])
def test_receive_rejects_out_of_range_values(sqs, parameter, value, rule):
    url = sqs.create_queue(QueueName=unique_name("range"))["QueueUrl"]
    response = error_of(sqs.receive_message, QueueUrl=url, **{parameter: value})
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidParameterValue"
    assert str(value) in response["Error"]["Message"]
    assert parameter in response["Error"]["Message"]
    assert rule in response["Error"]["Message"]
