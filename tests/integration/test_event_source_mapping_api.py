"""The event source mapping operations of the Lambda API: validation and error shapes.

Mappings that deliver messages are tested with real queues in test_sqs_event_source.py.
"""

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import create_function, signed_request, unique_name

HANDLER = {"app.py": "def handler(event, context):\n    return None\n"}
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:no-such-queue"


def unvalidated(server):
    key, secret = server.credentials()
    return boto3.client("lambda", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(retries={"max_attempts": 0}, parameter_validation=False))


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
        response["Error"]["Message"]


def test_unknown_uuid(lam):
    uuid = "00000000-0000-0000-0000-000000000000"
    expected = (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    assert error_of(lam.get_event_source_mapping, UUID=uuid) == expected
    assert error_of(lam.delete_event_source_mapping, UUID=uuid) == expected
    assert error_of(lam.update_event_source_mapping, UUID=uuid, BatchSize=5) == expected


def test_create_with_missing_source_function_or_queue(lam):
    name = unique_name("esm")
    create_function(lam, HANDLER, name=name)

    assert error_of(lam.create_event_source_mapping, FunctionName=name) == \
        (400, "InvalidParameterValueException", "Unrecognized event source.")
    assert error_of(lam.create_event_source_mapping, FunctionName=unique_name("missing"),
                    EventSourceArn=QUEUE_ARN) == \
        (400, "InvalidParameterValueException", "Function does not exist")
    assert error_of(lam.create_event_source_mapping, FunctionName=f"{name}:nope",
                    EventSourceArn=QUEUE_ARN) == \
        (400, "InvalidParameterValueException", "Function does not exist")
    status, code, message = error_of(lam.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "AWS.SimpleQueueService.NonExistentQueue" in message

    status, code, message = error_of(
        lam.create_event_source_mapping, FunctionName=name,
        EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s",
        StartingPosition="LATEST")
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "arn:aws:kinesis:us-east-1:000000000000:stream/s" in message
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []


def test_create_validates_ranges_and_enums(server, lam):
    name = unique_name("esm")
    create_function(lam, HANDLER, name=name)
    # The AWS CLI validates ranges itself, so these go through a client that does not.
    raw = unvalidated(server)

    status, code, message = error_of(raw.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN, BatchSize=0)
    assert (status, code) == (400, "ValidationException")
    assert message == ("1 validation error detected: Value '0' at 'batchSize' failed to satisfy "
                       "constraint: Member must have value greater than or equal to 1")

    status, code, message = error_of(raw.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN, BatchSize=10001,
                                     MaximumBatchingWindowInSeconds=301)
    assert message.startswith("2 validation errors detected: ")
    assert "'10001' at 'batchSize'" in message
    assert "'301' at 'maximumBatchingWindowInSeconds'" in message

    status, code, message = error_of(raw.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN, StartingPosition="invalid")
    assert (status, code) == (400, "ValidationException")
    assert message == ("1 validation error detected: Value 'invalid' at 'startingPosition' "
                       "failed to satisfy constraint: Member must satisfy enum value set: "
                       "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]")

    status, code, message = error_of(raw.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN,
                                     FunctionResponseTypes=["Everything"])
    assert (status, code) == (400, "ValidationException")
    assert "functionResponseTypes" in message
    assert "ReportBatchItemFailures" in message

    # Debian's botocore 1.29 predates ScalingConfig, so this one is sent by hand.
    status, headers, body = signed_request(
        server, "POST", "/2015-03-31/event-source-mappings/",
        json.dumps({"FunctionName": name, "EventSourceArn": QUEUE_ARN,
                    "ScalingConfig": {"MaximumConcurrency": 1}}).encode())
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert "'1' at 'scalingConfig.maximumConcurrency'" in json.loads(body)["message"]

    status, code, message = error_of(
        raw.create_event_source_mapping, FunctionName=name, EventSourceArn=QUEUE_ARN,
        FilterCriteria={"Filters": [{"Pattern": "not json"}]})
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith("Invalid filter pattern definition.")

    status, code, message = error_of(
        raw.create_event_source_mapping, FunctionName=name, EventSourceArn=QUEUE_ARN,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"n": [{"nope": 1}]}})}]})
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "nope" in message

    six = {"Filters": [{"Pattern": json.dumps({"body": {"n": [i]}})} for i in range(6)]}
    status, code, message = error_of(raw.create_event_source_mapping, FunctionName=name,
                                     EventSourceArn=QUEUE_ARN, FilterCriteria=six)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "at most 5" in message


def test_list_rejects_bad_max_items_and_marker(server, lam):
    raw = unvalidated(server)
    status, code, message = error_of(raw.list_event_source_mappings, MaxItems=0)
    assert (status, code) == (400, "ValidationException")
    assert "'0' at 'maxItems'" in message
    status, code, _ = error_of(raw.list_event_source_mappings, Marker="!!!")
    assert (status, code) == (400, "InvalidParameterValueException")
