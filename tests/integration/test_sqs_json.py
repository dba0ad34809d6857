"""SQS over the JSON 1.0 protocol (X-Amz-Target: AmazonSQS.*), which newer SDKs speak.

Hand-built signed requests run everywhere; the newest boto3 from /root/.pyenv runs where it is
installed.
"""

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest

from conftest import unique_name

NEWER_PYTHON = Path("/root/.pyenv/versions/3.11.7/bin/python")


def sqs_json(server, operation, payload):
    """Sends one signed JSON 1.0 SQS request; returns (status, headers, decoded body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key, secret = server.credentials()
    body = json.dumps(payload).encode()
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"AmazonSQS.{operation}"})
    SigV4Auth(Credentials(key, secret), "sqs", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = Request(prepared.url, data=body, method="POST", headers=dict(prepared.headers))
    try:
        with urlopen(raw, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"{}")
    except HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


def test_json_protocol_operations(server):
    name = unique_name("json")
    status, headers, created = sqs_json(server, "CreateQueue", {
        "QueueName": name, "Attributes": {"VisibilityTimeout": "40"}, "tags": {"k": "v"}})
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["x-amzn-RequestId"]
    url = created["QueueUrl"]
    assert url.endswith(f"/000000000000/{name}")

    status, _, sent = sqs_json(server, "SendMessage", {
        "QueueUrl": url, "MessageBody": "json body",
        "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAEC"}}})
    assert status == 200
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"json body").hexdigest()
    assert set(sent) == {"MD5OfMessageBody", "MD5OfMessageAttributes", "MessageId"}

    status, _, received = sqs_json(server, "ReceiveMessage", {
        "QueueUrl": url, "MaxNumberOfMessages": 5, "WaitTimeSeconds": 1,
        "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        "MessageAttributeNames": ["All"]})
    assert status == 200
    [message] = received["Messages"]
    assert message["Body"] == "json body"
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert set(message["Attributes"]) == {"ApproximateReceiveCount", "SentTimestamp"}
    assert message["MessageAttributes"] == {"b": {"DataType": "Binary", "BinaryValue": "AAEC"}}
    assert message["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]

    status, _, attributes = sqs_json(server, "GetQueueAttributes", {
        "QueueUrl": url, "AttributeNames": ["VisibilityTimeout",
                                            "ApproximateNumberOfMessagesNotVisible"]})
    assert attributes == {"Attributes": {"VisibilityTimeout": "40",
                                         "ApproximateNumberOfMessagesNotVisible": "1"}}
    status, _, deleted = sqs_json(server, "DeleteMessage", {
        "QueueUrl": url, "ReceiptHandle": message["ReceiptHandle"]})
    assert status == 200
    status, _, tags = sqs_json(server, "ListQueueTags", {"QueueUrl": url})
    assert tags == {"Tags": {"k": "v"}}
    status, _, listed = sqs_json(server, "ListQueues", {"QueueNamePrefix": name})
    assert listed == {"QueueUrls": [url]}
    status, _, batch = sqs_json(server, "SendMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": ""}]})
    assert status == 200
    assert [entry["Id"] for entry in batch["Successful"]] == ["1"]
    assert batch["Failed"] == [{"Id": "2", "SenderFault": True, "Code": "MissingParameter",
                                "Message": "The request must contain the parameter "
                                           "MessageBody."}]
    status, _, _ = sqs_json(server, "DeleteQueue", {"QueueUrl": url})
    assert status == 200


def test_json_protocol_errors(server):
    status, headers, body = sqs_json(server, "GetQueueUrl", {"QueueName": unique_name("none")})
    assert status == 400
    assert body["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert body["message"] == "The specified queue does not exist."
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"

    url = sqs_json(server, "CreateQueue", {"QueueName": unique_name("jerr")})[2]["QueueUrl"]
    cases = [
        ("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 11},
         "InvalidParameterValue"),
        ("SendMessage", {"QueueUrl": url}, "MissingParameter"),
        ("SendMessageBatch", {"QueueUrl": url, "Entries": []},
         "AWS.SimpleQueueService.EmptyBatchRequest"),
        ("DeleteMessage", {"QueueUrl": url, "ReceiptHandle": "x"}, "ReceiptHandleIsInvalid"),
        ("CreateQueue", {"QueueName": "bad name"}, "InvalidParameterValue"),
        ("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["Nope"]},
         "InvalidAttributeName"),
        ("ListMessageMoveTasks", {"SourceArn": "arn:aws:sqs:us-east-1:000000000000:x"},
         "AWS.SimpleQueueService.UnsupportedOperation"),
        ("NoSuchOperation", {}, "InvalidAction"),
    ]
    for operation, payload, code in cases:
        status, headers, body = sqs_json(server, operation, payload)
        assert status == 400, operation
        assert headers["x-amzn-query-error"] == f"{code};Sender", operation
        assert body["__type"].startswith("com.amazonaws.sqs#"), operation
        assert body["message"], operation
    status, headers, body = sqs_json(server, "SendMessage", {"QueueUrl": url,
                                                              "MessageBody": "x" * 262145})
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert "262144" in body["message"]


def test_query_protocol_to_queue_url_path(server):
    """Older SDKs POST query requests to the queue URL instead of naming it in QueueUrl."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    name = unique_name("path")
    url = sqs_json(server, "CreateQueue", {"QueueName": name})[2]["QueueUrl"]
    key, secret = server.credentials()
    body = b"Action=SendMessage&Version=2012-11-05&MessageBody=via+the+path"
    request = AWSRequest(method="POST", url=f"{server.endpoint}/000000000000/{name}", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key, secret), "sqs", "us-east-1").add_auth(request)
    prepared = request.prepare()
    with urlopen(Request(prepared.url, data=body, method="POST",
                         headers=dict(prepared.headers)), timeout=30) as response:
        xml = response.read().decode()
    assert "<SendMessageResponse" in xml
    assert hashlib.md5(b"via the path").hexdigest() in xml
    received = sqs_json(server, "ReceiveMessage", {"QueueUrl": url})[2]
    assert received["Messages"][0]["Body"] == "via the path"


NEWER_CLIENT = r"""
import json, sys, time, threading
import boto3
from botocore.config import Config
endpoint, key, secret, name = sys.argv[1:5]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=secret,
                   config=Config(retries={"max_attempts": 0}))
out = {"protocol": sqs.meta.service_model.protocol}
url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true",
                       "ContentBasedDeduplication": "true"})["QueueUrl"]
for i in range(3):
    sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g",
                     MessageAttributes={"n": {"DataType": "Number", "StringValue": str(i)}})
bodies = []
while len(bodies) < 3:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                              MessageAttributeNames=["All"])
    for m in got.get("Messages", []):
        bodies.append(m["Body"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
out["bodies"] = bodies
try:
    sqs.get_queue_url(QueueName=name + "-none")
except sqs.exceptions.QueueDoesNotExist as error:
    out["error"] = error.response["Error"]["Code"]
print(json.dumps(out))
"""


@pytest.mark.skipif(not NEWER_PYTHON.exists(), reason="no pip-installed boto3 on this machine")
def test_newest_boto3(server):
    key, secret = server.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    name = unique_name("newer") + ".fifo"
    result = subprocess.run([str(NEWER_PYTHON), "-c", NEWER_CLIENT, server.endpoint, key, secret,
                             name], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["protocol"] == "json"
    assert out["bodies"] == ["m0", "m1", "m2"]
    assert out["error"] == "AWS.SimpleQueueService.NonExistentQueue"
