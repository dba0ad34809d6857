"""One topic with a function and queues as subscribers, each with its own filter policy: every
publish reaches exactly the subscribers whose filters match it."""

import json
import time

from conftest import create_function, signed_request, unique_name

RECORDER = {"app.py": (
    "import json\n"
    "def handler(event, context):\n"
    "    print('SNS-EVENT ' + json.dumps(event))\n")}


def function_messages(server, function):
    status, _, body = signed_request(server, "GET", f"/_lambent/logs/{function}")
    if status == 404:
        return []
    messages = []
    for event in json.loads(body)["events"]:
        at = event["message"].find("SNS-EVENT ")
        if at >= 0:
            record = json.loads(event["message"][at + len("SNS-EVENT "):])["Records"][0]
            messages.append(record["Sns"]["Message"])
    return sorted(messages)


def queue_messages(sqs, url, expected):
    """Receives until `expected` messages came and one more wait brings none (30 s at most)."""
    found = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                    WaitTimeSeconds=1).get("Messages", [])
        if not batch and len(found) >= expected:
            break
        for message in batch:
            found.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return sorted(found)


def test_each_publish_reaches_exactly_the_matching_subscribers(server, lam):
    sns = server.client("sns")
    sqs = server.client("sqs")
    topic = sns.create_topic(Name=unique_name("fanout"))["TopicArn"]

    function = create_function(lam, RECORDER)
    function_arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function_arn,
                  Attributes={"FilterPolicy": json.dumps({"kind": ["order"]})})

    def queue(policy, scope="MessageAttributes"):
        url = sqs.create_queue(QueueName=unique_name("fanout"))["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": "true"}
        if policy is not None:
            attributes.update(FilterPolicy=json.dumps(policy), FilterPolicyScope=scope)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        return url

    big = queue({"total": [{"numeric": [">=", 100]}]}, scope="MessageBody")
    refunds = queue({"kind": ["refund"], "region": [{"prefix": "eu-"}]})
    everything = queue(None)

    published = [
        ({"kind": "order", "region": "eu-west-1"}, {"total": 250}),
        ({"kind": "order", "region": "us-east-1"}, {"total": 20}),
        ({"kind": "refund", "region": "eu-central-1"}, {"total": 5}),
        ({"kind": "refund", "region": "us-west-2"}, {"total": 500}),
        ({}, {"total": 100}),
    ]
    bodies = []
    for attributes, body in published:
        text = json.dumps(body)
        bodies.append(text)
        sns.publish(TopicArn=topic, Message=text, MessageAttributes={
            name: {"DataType": "String", "StringValue": value}
            for name, value in attributes.items()})

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(function_messages(server, function)) < 2:
        time.sleep(0.2)
    assert function_messages(server, function) == sorted([bodies[0], bodies[1]])
    assert queue_messages(sqs, big, 3) == sorted([bodies[0], bodies[3], bodies[4]])
    assert queue_messages(sqs, refunds, 1) == [bodies[2]]
    assert queue_messages(sqs, everything, 5) == sorted(bodies)
    time.sleep(1)
    assert len(function_messages(server, function)) == 2


def test_fifo_topic_delivers_to_a_standard_queue(server):
    sns = server.client("sns")
    sqs = server.client("sqs")
    topic = sns.create_topic(Name=unique_name("orders") + ".fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    url = sqs.create_queue(QueueName=unique_name("standard"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})
    for i in range(3):
        sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g")
    assert queue_messages(sqs, url, 3) == ["m0", "m1", "m2"]
