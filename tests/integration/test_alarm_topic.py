"""An alarm whose action is an SNS topic publishes CloudWatch's notification to the topic's
subscribers."""

import json

from conftest import unique_name


def test_alarm_state_change_publishes_to_topic(server):
    sns = server.client("sns")
    sqs = server.client("sqs")
    cloudwatch = server.client("cloudwatch")
    topic = sns.create_topic(Name=unique_name("alarms"))["TopicArn"]
    url = sqs.create_queue(QueueName=unique_name("alarm-inbox"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    name = unique_name("errors")
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "worker"}], Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic])
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")

    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages", [])
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    notification = json.loads(envelope["Message"])
    assert notification["AlarmName"] == name
    assert (notification["OldStateValue"], notification["NewStateValue"]) == \
        ("INSUFFICIENT_DATA", "ALARM")
    assert notification["NewStateReason"] == "testing"
    assert notification["Trigger"]["MetricName"] == "Errors"
    assert notification["Trigger"]["Statistic"] == "SUM"

    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="Action")
    assert [item["HistorySummary"] for item in history["AlarmHistoryItems"]] == \
        [f"Successfully executed action {topic}"]
