"""The SNS query API: each operation's success and error shapes, through boto3 and the AWS CLI."""

import json

import pytest
from botocore.exceptions import ClientError

from conftest import unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture
def sns(server):
    return server.client("sns")


def topic_arn(name):
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
        response["Error"]["Message"]


def test_create_topic_is_idempotent_and_listed(sns):
    name = unique_name("topic")
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert arn == topic_arn(name)
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    listed = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert arn in listed
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["TopicArn"] == arn
    assert attributes["Owner"] == ACCOUNT
    assert attributes["SubscriptionsConfirmed"] == "0"
    assert attributes["SubscriptionsPending"] == "0"
    assert attributes["DisplayName"] == ""
    policy = json.loads(attributes["EffectiveDeliveryPolicy"])
    assert policy["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert json.loads(attributes["Policy"])["Statement"][0]["Resource"] == arn
    assert "FifoTopic" not in attributes


def test_create_topic_errors(sns):
    assert error_of(sns.create_topic, Name="bad name") == \
        (400, "InvalidParameter", "Invalid parameter: Topic Name")
    assert error_of(sns.create_topic, Name="x" * 257)[1] == "InvalidParameter"
    status, code, message = error_of(sns.create_topic, Name=unique_name("nofifo"),
                                     Attributes={"FifoTopic": "true"})
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("Invalid parameter: Fifo Topic names must end with .fifo")
    name = unique_name("attrs")
    sns.create_topic(Name=name, Attributes={"DisplayName": "one"})
    assert error_of(sns.create_topic, Name=name, Attributes={"DisplayName": "two"}) == (
        400, "InvalidParameter",
        "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
    assert error_of(sns.create_topic, Name=unique_name("t"), Attributes={"Nope": "1"}) == \
        (400, "InvalidParameter", "Invalid parameter: AttributeName")


def test_fifo_topic_attributes(sns):
    name = unique_name("fifo") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["ContentBasedDeduplication"] == "false"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication",
                             AttributeValue="true")
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["ContentBasedDeduplication"] == "true"


def test_list_topics_pages_by_100(sns):
    prefix = unique_name("page")
    created = {sns.create_topic(Name=f"{prefix}-{i:03}")["TopicArn"] for i in range(105)}
    seen = []
    first = sns.list_topics()
    assert len(first["Topics"]) == 100
    assert "NextToken" in first
    seen += [t["TopicArn"] for t in first["Topics"]]
    token = first["NextToken"]
    while token:
        page = sns.list_topics(NextToken=token)
        seen += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
    assert created <= set(seen)
    assert len(seen) == len(set(seen))


def test_set_and_get_topic_attributes(sns):
    arn = sns.create_topic(Name=unique_name("attrs"))["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Shown")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "Shown"
    assert error_of(sns.set_topic_attributes, TopicArn=arn, AttributeName="Bogus",
                    AttributeValue="1") == (400, "InvalidParameter",
                                            "Invalid parameter: AttributeName")
    missing = topic_arn(unique_name("missing"))
    assert error_of(sns.get_topic_attributes, TopicArn=missing) == \
        (404, "NotFound", "Topic does not exist")
    assert error_of(sns.set_topic_attributes, TopicArn=missing, AttributeName="DisplayName",
                    AttributeValue="x") == (404, "NotFound", "Topic does not exist")
    assert error_of(sns.get_topic_attributes, TopicArn="not-an-arn") == \
        (400, "InvalidParameter", "Invalid parameter: TopicArn")


def test_delete_topic_removes_it_and_its_subscriptions(sns):
    arn = sns.create_topic(Name=unique_name("gone"))["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs",
                        Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")["SubscriptionArn"]
    sns.delete_topic(TopicArn=arn)
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=sub) == \
        (404, "NotFound", "Subscription does not exist")
    # Deleting again succeeds, as on AWS.
    sns.delete_topic(TopicArn=arn)


def test_subscribe_shapes_and_attributes(sns):
    arn = sns.create_topic(Name=unique_name("subs"))["TopicArn"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{unique_name('q')}"
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue,
                        Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    # The same endpoint again gives the same subscription.
    assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue,
                         Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"] == sub
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["Protocol"] == "sqs"
    assert attributes["Endpoint"] == queue
    assert attributes["TopicArn"] == arn
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["Owner"] == ACCOUNT
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue='{"kind": ["a"]}')
    attributes = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"kind": ["a"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"][
        "FilterPolicyScope"] == "MessageBody"
    by_topic = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert by_topic == [{"SubscriptionArn": sub, "Owner": ACCOUNT, "Protocol": "sqs",
                         "Endpoint": queue, "TopicArn": arn}]
    assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    sns.unsubscribe(SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    sns.unsubscribe(SubscriptionArn=sub)


def test_subscribe_errors(sns):
    arn = sns.create_topic(Name=unique_name("suberr"))["TopicArn"]
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x") == (
        400, "InvalidParameter",
        "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon")
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="sqs", Endpoint="queue") == \
        (400, "InvalidParameter", "Invalid parameter: SQS endpoint ARN")
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="lambda", Endpoint="fn") == \
        (400, "InvalidParameter", "Invalid parameter: Lambda endpoint ARN")
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="http",
                    Endpoint="https://127.0.0.1/")[2] == \
        "Invalid parameter: Endpoint must match the specified protocol"
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="lambda",
                    Endpoint=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
                    Attributes={"RawMessageDelivery": "true"}) == (
        400, "InvalidParameter",
        "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw "
        "message delivery.")
    status, code, _ = error_of(sns.subscribe, TopicArn=arn, Protocol="sqs",
                               Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
                               Attributes={"FilterPolicy": "{not json"})
    assert (status, code) == (400, "InvalidParameter")
    assert error_of(sns.subscribe, TopicArn=topic_arn(unique_name("none")), Protocol="sqs",
                    Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q") == \
        (404, "NotFound", "Topic does not exist")
    missing = arn + ":00000000-0000-0000-0000-000000000000"
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=missing) == \
        (404, "NotFound", "Subscription does not exist")
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=missing,
                    AttributeName="RawMessageDelivery", AttributeValue="true") == \
        (404, "NotFound", "Subscription does not exist")
    assert error_of(sns.confirm_subscription, TopicArn=arn, Token="nope") == \
        (400, "InvalidParameter", "Invalid parameter: Token")
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=arn) == \
        (400, "InvalidParameter", "Invalid parameter: SubscriptionId")
    assert error_of(sns.unsubscribe, SubscriptionArn="arn:aws:sns:x") == (
        400, "InvalidParameter",
        "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 4")
    assert error_of(sns.subscribe, TopicArn=arn, Protocol="sqs",
                    Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q.fifo") == (
        400, "InvalidParameter",
        "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
        "subscribed to standard SNS topics")


def test_http_subscription_is_pending_until_confirmed(sns):
    arn = sns.create_topic(Name=unique_name("pending"))["TopicArn"]
    # Nothing listens on port 9 of loopback; the confirmation request fails and is retried.
    result = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
    assert result["SubscriptionArn"] == "pending confirmation"
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "1"
    returned = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook",
                             ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert returned.startswith(arn + ":")
    attributes = sns.get_subscription_attributes(SubscriptionArn=returned)["Attributes"]
    assert attributes["PendingConfirmation"] == "true"


def test_publish_shapes_and_errors(sns):
    arn = sns.create_topic(Name=unique_name("pub"))["TopicArn"]
    message_id = sns.publish(TopicArn=arn, Message="hello", Subject="Greeting")["MessageId"]
    assert len(message_id) == 36
    assert "MessageId" in sns.publish(TargetArn=arn, Message="hello")
    assert error_of(sns.publish, TopicArn=arn, Message="") == \
        (400, "InvalidParameter", "Invalid parameter: Empty message")
    assert error_of(sns.publish, TopicArn=arn, Message="x" * (256 * 1024 + 1)) == \
        (400, "InvalidParameter", "Invalid parameter: Message too long")
    sns.publish(TopicArn=arn, Message="x" * (256 * 1024))
    assert error_of(sns.publish, TopicArn=topic_arn(unique_name("none")), Message="m") == \
        (404, "NotFound", "Topic does not exist")
    assert error_of(sns.publish, TopicArn=arn, Message='{"no": "default"}',
                    MessageStructure="json") == (
        400, "InvalidParameter",
        "Invalid parameter: Message Structure - No default entry in JSON message body")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "n": {"DataType": "Number", "StringValue": "ten"}}) == (
        400, "ParameterValueInvalid", "Could not cast message attribute 'n' value to number.")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "n": {"DataType": "Blob", "StringValue": "x"}})[2] == (
        "The message attribute 'n' has an invalid message attribute type, the set of supported "
        "type prefixes is Binary, Number, and String.")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "a..b": {"DataType": "String", "StringValue": "x"}}) == (
        400, "ParameterValueInvalid",
        "Message attribute name can not have successive '.' character.")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "a b": {"DataType": "String", "StringValue": "x"}})[2] == (
        "Invalid non-alphanumeric character '#x20' was found in the message attribute name. "
        "Can only include alphanumeric characters, hyphens, underscores, or dots.")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes={
        "s": {"DataType": "String", "BinaryValue": b"x"}})[2] == \
        "The message attribute 's' with type 'String' must use field 'String'."
    too_many = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)}
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageAttributes=too_many)[2] == \
        "Invalid parameter: Number of message attributes [11] exceeds the allowed maximum [10]."
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageDeduplicationId="d")[1] == \
        "InvalidParameter"


def test_fifo_publish_needs_group_and_deduplicates(sns):
    arn = sns.create_topic(Name=unique_name("pubfifo") + ".fifo",
                           Attributes={"FifoTopic": "true"})["TopicArn"]
    assert error_of(sns.publish, TopicArn=arn, Message="m") == (
        400, "InvalidParameter",
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    assert error_of(sns.publish, TopicArn=arn, Message="m", MessageGroupId="g") == (
        400, "InvalidParameter",
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly")
    first = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g",
                        MessageDeduplicationId="d1")
    again = sns.publish(TopicArn=arn, Message="other", MessageGroupId="g",
                        MessageDeduplicationId="d1")
    other = sns.publish(TopicArn=arn, Message="m", MessageGroupId="g",
                        MessageDeduplicationId="d2")
    assert again["MessageId"] == first["MessageId"]
    assert other["MessageId"] != first["MessageId"]
    assert len(first["SequenceNumber"]) == 20
    assert int(other["SequenceNumber"]) > int(first["SequenceNumber"])


def test_publish_batch_results_and_errors(sns):
    arn = sns.create_topic(Name=unique_name("batch"))["TopicArn"]
    result = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "ok-1", "Message": "a"},
        {"Id": "bad_2", "Message": "b", "MessageAttributes": {
            "n": {"DataType": "Number", "StringValue": "NaN-ish"}}},
        {"Id": "ok-3", "Message": "c", "Subject": "s"},
    ])
    assert [e["Id"] for e in result["Successful"]] == ["ok-1", "ok-3"]
    assert all(len(e["MessageId"]) == 36 for e in result["Successful"])
    assert result["Failed"] == [{
        "Id": "bad_2", "Code": "ParameterValueInvalid", "SenderFault": True,
        "Message": "Could not cast message attribute 'n' value to number."}]
    eleven = [{"Id": str(i), "Message": "m"} for i in range(11)]
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=eleven) == (
        400, "TooManyEntriesInBatchRequest",
        "The batch request contains more entries than permissible.")
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "m"}, {"Id": "a", "Message": "n"}]) == (
        400, "BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.")
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "no spaces", "Message": "m"}])[:2] == (400, "InvalidBatchEntryId")
    assert error_of(sns.publish_batch, TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "x" * 200000}, {"Id": "b", "Message": "y" * 100000}])[:2] == \
        (400, "BatchRequestTooLong")
    assert error_of(sns.publish_batch, TopicArn=topic_arn(unique_name("none")),
                    PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])[:2] == \
        (404, "NotFound")


def test_tags(sns):
    arn = sns.create_topic(Name=unique_name("tags"), Tags=[{"Key": "team", "Value": "a"}])[
        "TopicArn"]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"},
                                            {"Key": "team", "Value": "b"}])
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "dev"), ("team", "b")]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
    missing = topic_arn(unique_name("none"))
    assert error_of(sns.list_tags_for_resource, ResourceArn=missing) == \
        (404, "ResourceNotFound", "Resource does not exist")
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(sns.tag_resource, ResourceArn=arn, Tags=many)[:2] == (400, "TagLimitExceeded")


def test_unknown_action_and_bad_signature(server, sns):
    from conftest import signed_request
    status, _, body = signed_request(server, "POST", "/?Action=NoSuchThing&Version=2010-03-31",
                                     service="sns")
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body
    import boto3
    from botocore.config import Config
    wrong = boto3.client("sns", endpoint_url=server.endpoint, region_name=REGION,
                         aws_access_key_id="AKIDWRONG", aws_secret_access_key="x",
                         config=Config(retries={"max_attempts": 0}))
    status, code, _ = error_of(wrong.list_topics)
    assert status == 403
    assert code == "InvalidClientTokenId"


def test_aws_cli_round_trip(server):
    name = unique_name("cli")
    created = json.loads(server.aws("sns", "create-topic", "--name", name).stdout)
    arn = created["TopicArn"]
    assert arn == topic_arn(name)
    published = json.loads(server.aws("sns", "publish", "--topic-arn", arn, "--message",
                                      "from the cli").stdout)
    assert len(published["MessageId"]) == 36
    attributes = json.loads(server.aws("sns", "get-topic-attributes", "--topic-arn",
                                       arn).stdout)["Attributes"]
    assert attributes["TopicArn"] == arn
    missing = server.aws("sns", "get-topic-attributes", "--topic-arn", arn + "-missing",
                         check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr
    server.aws("sns", "delete-topic", "--topic-arn", arn)


def test_invalid_utf8_is_rejected(server, sns):
    from conftest import signed_request
    arn = sns.create_topic(Name=unique_name("utf8"))["TopicArn"]
    body = f"Action=Publish&Version=2010-03-31&TopicArn={arn}&Message=%FF%FE".encode()
    status, _, reply = signed_request(server, "POST", "/", body=body, service="sns")
    assert status == 400
    assert b"<Code>InvalidParameter</Code>" in reply
    assert b"not valid UTF-8" in reply
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="bell\a")
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DisplayName"] == "bell\ufffd"


def test_list_subscriptions_pages_by_100(sns):
    arn = sns.create_topic(Name=unique_name("subpage"))["TopicArn"]
    created = [sns.subscribe(TopicArn=arn, Protocol="sqs",
                             Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q{i}")["SubscriptionArn"]
               for i in range(105)]
    first = sns.list_subscriptions_by_topic(TopicArn=arn)
    assert len(first["Subscriptions"]) == 100
    second = sns.list_subscriptions_by_topic(TopicArn=arn, NextToken=first["NextToken"])
    assert len(second["Subscriptions"]) == 5
    assert "NextToken" not in second
    listed = [s["SubscriptionArn"] for s in first["Subscriptions"] + second["Subscriptions"]]
    assert listed == created
    assert error_of(sns.list_subscriptions_by_topic, TopicArn=arn, NextToken="bogus")[:2] == \
        (400, "InvalidParameter")
