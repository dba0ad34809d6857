"""Bucket notifications: configuration shapes and errors, and event records delivered to a
Lambda function that logs each one."""

import json
import time
from urllib.parse import quote_plus

import pytest
from botocore.exceptions import ClientError

from conftest import create_function, unique_name

REGION = "us-east-1"
ACCOUNT = "000000000000"

RECORDING_HANDLER = '''import json


def handler(event, context):
    print("RECORD " + json.dumps(event), flush=True)
    return None
'''


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def records(server, name):
    """Every event the recording function logged, oldest first."""
    out = []
    folder = server.data_dir / "logs" / name
    if not folder.exists():
        return out
    for path in sorted(folder.rglob("*.log")):
        for line in path.read_text(errors="replace").split("\n"):
            message = line.partition("\t")[2]
            if message.startswith("RECORD "):
                out.append(json.loads(message[len("RECORD "):]))
    return out


def wait_for(predicate, timeout, description):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {description}")


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response


@pytest.fixture
def s3(server):
    return server.client("s3")


def lambda_config(arn, events, prefix=None, suffix=None, config_id=None):
    config = {"LambdaFunctionArn": arn, "Events": events}
    if config_id:
        config["Id"] = config_id
    rules = []
    if prefix is not None:
        rules.append({"Name": "prefix", "Value": prefix})
    if suffix is not None:
        rules.append({"Name": "suffix", "Value": suffix})
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def test_configuration_round_trip_and_errors(server, s3, lam):
    bucket = unique_name("notify").lower()
    s3.create_bucket(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)
    fn = create_function(lam, {"app.py": RECORDING_HANDLER})
    sqs = server.client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("config-queue"))["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(function_arn(fn), ["s3:ObjectCreated:*"], prefix="in/", suffix=".txt",
                          config_id="created")],
        "QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectRemoved:Delete"]}]})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    (function_config,) = got["LambdaFunctionConfigurations"]
    assert function_config["Id"] == "created"
    assert function_config["LambdaFunctionArn"] == function_arn(fn)
    assert function_config["Events"] == ["s3:ObjectCreated:*"]
    rules = {r["Name"].lower(): r["Value"] for r in function_config["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "in/", "suffix": ".txt"}
    (queue_config,) = got["QueueConfigurations"]
    assert queue_config["QueueArn"] == queue
    assert queue_config["Id"]  # generated when the request names none

    code, status, _ = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [lambda_config(function_arn(fn), ["s3:ObjectMade:*"])]})
    assert (code, status) == ("InvalidArgument", 400)
    code, status, response = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                lambda_config(function_arn(fn), ["s3:ObjectCreated:*"], prefix="a/"),
                lambda_config(function_arn(fn), ["s3:ObjectCreated:Put"], prefix="a/b/")]})
    assert (code, status) == ("InvalidArgument", 400)
    assert "overlap" in response["Error"]["Message"]
    # Same event type, prefixes that cannot both match: allowed.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(function_arn(fn), ["s3:ObjectCreated:*"], prefix="a/"),
            lambda_config(function_arn(fn), ["s3:ObjectCreated:Put"], prefix="b/")]})
    code, status, _ = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                lambda_config(function_arn("no-such-function-xyz"), ["s3:ObjectCreated:*"])]})
    assert (code, status) == ("InvalidArgument", 400)
    code, status, response = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:no-such-queue",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert (code, status) == ("InvalidArgument", 400)
    assert response["Error"]["Message"] == (
        "Unable to validate the following destination configurations")
    # A topic configuration must name a topic, not a queue.
    code, status, response = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket, NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:a-queue",
                                     "Events": ["s3:ObjectCreated:*"]}]})
    assert (code, status) == ("InvalidArgument", 400)
    assert "arn:aws:sns:" in response["Error"]["Message"]
    code, status, _ = error_of(
        s3.put_bucket_notification_configuration, Bucket=bucket + "-missing",
        NotificationConfiguration={})
    assert (code, status) == ("NoSuchBucket", 404)
    # An empty configuration removes every one.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)


def test_events_reach_the_function(server, s3, lam):
    bucket = unique_name("events").lower()
    s3.create_bucket(Bucket=bucket)
    fn = create_function(lam, {"app.py": RECORDING_HANDLER})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(function_arn(fn), ["s3:ObjectCreated:*"], config_id="made"),
            lambda_config(function_arn(fn), ["s3:ObjectRemoved:*"], config_id="gone")]})
    keys = ["with space.txt", "plus+sign", "unicodé/ключ", "per%cent", "a/b/c"]
    etags = {}
    for key in keys:
        etags[key] = s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"].strip('"')
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "a/b/c"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="multi")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="multi", UploadId=upload, PartNumber=1, Body=b"mp")
    s3.complete_multipart_upload(Bucket=bucket, Key="multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    s3.delete_object(Bucket=bucket, Key="plus+sign")
    s3.delete_object(Bucket=bucket, Key="never-existed")
    s3.put_object(Bucket=bucket, Key="a/b/c", Body=b"again")

    expected = len(keys) + 4
    got = wait_for(lambda: (r := records(server, fn)) and len(r) >= expected and r, 60,
                   f"{expected} notifications")
    time.sleep(0.5)
    got = records(server, fn)
    assert len(got) == expected
    events = [event["Records"][0] for event in got]
    for event in got:
        assert len(event["Records"]) == 1
    by_name = {}
    for record in events:
        by_name.setdefault(record["eventName"], []).append(record)
    assert sorted(by_name) == ["ObjectCreated:CompleteMultipartUpload", "ObjectCreated:Copy",
                               "ObjectCreated:Put", "ObjectRemoved:Delete"]
    puts = {}
    for r in by_name["ObjectCreated:Put"]:  # the first put of each key
        puts.setdefault(r["s3"]["object"]["key"], r)
    for key in keys:
        encoded = quote_plus(key, safe="*/")
        assert encoded in puts, (encoded, sorted(puts))
        record = puts[encoded]
        if key != "a/b/c":  # put twice; the two events may run in either order
            assert record["s3"]["object"]["size"] == len(key.encode())
            assert record["s3"]["object"]["eTag"] == etags[key]
    assert "with+space.txt" in puts
    assert "plus%2Bsign" in puts
    assert "per%25cent" in puts

    record = puts["with+space.txt"]
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == REGION
    assert record["eventTime"].endswith("Z")
    assert len(record["eventTime"]) == 24
    assert record["userIdentity"]["principalId"].startswith("AWS:")
    assert record["requestParameters"]["sourceIPAddress"] == "127.0.0.1"
    assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    s3_part = record["s3"]
    assert s3_part["s3SchemaVersion"] == "1.0"
    assert s3_part["configurationId"] == "made"
    assert s3_part["bucket"] == {"name": bucket, "ownerIdentity": s3_part["bucket"]["ownerIdentity"],
                                 "arn": f"arn:aws:s3:::{bucket}"}
    assert "versionId" not in s3_part["object"]
    int(s3_part["object"]["sequencer"], 16)

    # The corpus record's field names, all present.
    corpus = json.loads((__import__("pathlib").Path(__file__).resolve().parents[3] / "shared" /
                         "corpus" / "events" / "s3-event.json").read_text())["Records"][0]
    assert set(corpus) == set(record)
    assert set(corpus["s3"]) == set(s3_part)
    assert set(corpus["s3"]["object"]) - {"versionId"} == set(s3_part["object"])

    (removed,) = by_name["ObjectRemoved:Delete"]
    assert removed["s3"]["object"]["key"] == "plus%2Bsign"
    assert removed["s3"]["configurationId"] == "gone"
    assert "size" not in removed["s3"]["object"]
    (copy,) = by_name["ObjectCreated:Copy"]
    assert copy["s3"]["object"]["key"] == "copied"
    (multi,) = by_name["ObjectCreated:CompleteMultipartUpload"]
    assert multi["s3"]["object"]["eTag"].endswith("-1")

    # Two puts of one key: the later event has the larger sequencer.
    same = [r for r in by_name["ObjectCreated:Put"] if r["s3"]["object"]["key"] == "a/b/c"]
    assert len(same) == 2
    sequencers = sorted(int(r["s3"]["object"]["sequencer"], 16) for r in same)
    assert sequencers[0] < sequencers[1]


def test_filters_select_events(server, s3, lam):
    bucket = unique_name("filter").lower()
    s3.create_bucket(Bucket=bucket)
    fn = create_function(lam, {"app.py": RECORDING_HANDLER})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [
            lambda_config(function_arn(fn), ["s3:ObjectCreated:Put"], prefix="in/",
                          suffix=".jpg")]})
    for key in ["in/a.jpg", "in/b.png", "out/c.jpg", "in/d.jpg"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.delete_object(Bucket=bucket, Key="in/a.jpg")
    wait_for(lambda: len(records(server, fn)) >= 2, 60, "two notifications")
    time.sleep(1.0)
    keys = sorted(r["Records"][0]["s3"]["object"]["key"] for r in records(server, fn))
    assert keys == ["in/a.jpg", "in/d.jpg"]


def test_notifications_survive_a_restart(fresh_server):
    srv = fresh_server()
    s3, lam = srv.client("s3"), srv.client()
    bucket = unique_name("restart").lower()
    s3.create_bucket(Bucket=bucket)
    fn = create_function(lam, {"app.py": RECORDING_HANDLER})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [lambda_config(function_arn(fn), ["s3:ObjectCreated:*"])]})
    srv.stop()
    srv.start()
    s3 = srv.client("s3")
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    s3.put_object(Bucket=bucket, Key="after restart", Body=b"1")
    got = wait_for(lambda: records(srv, fn), 60, "a notification after the restart")
    assert got[0]["Records"][0]["s3"]["object"]["key"] == "after+restart"


def test_events_reach_a_queue(server, s3):
    sqs = server.client("sqs")
    queue_url = sqs.create_queue(QueueName=unique_name("s3-events"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    bucket = unique_name("queued").lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": queue_arn,
                                 "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    s3.put_object(Bucket=bucket, Key="queued key", Body=b"12345")
    s3.delete_object(Bucket=bucket, Key="queued key")

    bodies = []
    deadline = time.monotonic() + 30
    while len(bodies) < 3 and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1)
        for message in received.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) == 3
    test_events = [b for b in bodies if b.get("Event") == "s3:TestEvent"]
    assert len(test_events) == 1
    assert test_events[0]["Service"] == "Amazon S3"
    assert test_events[0]["Bucket"] == bucket
    records = sorted((b["Records"][0] for b in bodies if "Records" in b),
                     key=lambda r: r["eventName"])
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    assert records[0]["s3"]["object"]["key"] == "queued+key"
    assert records[0]["s3"]["object"]["size"] == 5
    assert records[0]["s3"]["configurationId"] == "to-queue"


def test_events_reach_a_topic(server, s3):
    sns, sqs = server.client("sns"), server.client("sqs")
    topic_arn = sns.create_topic(Name=unique_name("s3-topic"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=unique_name("s3-topic-queue"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    bucket = unique_name("topical").lower()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"Id": "to-topic", "TopicArn": topic_arn,
                                 "Events": ["s3:ObjectCreated:Put"]}]})
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert got["TopicConfigurations"][0]["TopicArn"] == topic_arn
    s3.put_object(Bucket=bucket, Key="via topic", Body=b"1")

    bodies = []
    deadline = time.monotonic() + 30
    while len(bodies) < 2 and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1)
        for message in received.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert len(bodies) == 2
    assert [b["Event"] for b in bodies if "Event" in b] == ["s3:TestEvent"]
    (record,) = [b["Records"][0] for b in bodies if "Records" in b]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "via+topic"
    assert record["s3"]["configurationId"] == "to-topic"
