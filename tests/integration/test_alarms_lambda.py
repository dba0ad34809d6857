"""A CloudWatch alarm on a function's Errors: it goes to ALARM after the configured datapoints,
invokes its action function once with the alarm event, and returns to OK when errors stop."""

import json
import time

from conftest import create_function, invoke_json, signed_request, unique_name

FLAKY = {"app.py": (
    "def handler(event, context):\n"
    "    if event.get('fail'):\n"
    "        raise RuntimeError('failing on purpose')\n"
    "    return 'fine'\n")}

RECORDER = {"app.py": (
    "import json\n\n\n"
    "def handler(event, context):\n"
    "    print('ALARM-EVENT ' + json.dumps(event))\n"
    "    return 'recorded'\n")}


def alarm_events(server, function):
    """The alarm events the recorder function printed, oldest first."""
    status, _, body = signed_request(server, "GET", f"/_lambent/logs/{function}")
    if status == 404:
        return []
    assert status == 200, body
    events = []
    for event in json.loads(body)["events"]:
        message = event["message"]
        at = message.find("ALARM-EVENT ")
        if at >= 0:
            events.append(json.loads(message[at + len("ALARM-EVENT "):]))
    return events


def wait_for_state(cloudwatch, name, state, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        if alarm["StateValue"] == state:
            return alarm
        time.sleep(0.5)
    raise AssertionError(f"alarm {name} did not reach {state} in {timeout} s: {alarm}")


def test_errors_alarm_invokes_its_action_once(server):
    lam = server.client()
    cloudwatch = server.client("cloudwatch")
    flaky = create_function(lam, FLAKY)
    recorder = create_function(lam, RECORDER)
    for name in (flaky, recorder):
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    recorder_arn = lam.get_function(FunctionName=recorder)["Configuration"]["FunctionArn"]

    alarm_name = unique_name("errors")
    cloudwatch.put_metric_alarm(
        AlarmName=alarm_name, AlarmDescription="Errors of the flaky function",
        Namespace="AWS/Lambda", MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": flaky}],
        Statistic="Sum", Period=10, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=2,
        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
        AlarmActions=[recorder_arn])
    first = cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"][0]
    assert first["StateValue"] == "INSUFFICIENT_DATA"
    assert first["AlarmActions"] == [recorder_arn]

    # One error stays below the threshold; three in one period cross it.
    for _ in range(3):
        response, _ = invoke_json(lam, flaky, {"fail": True})
        assert response["FunctionError"] == "Unhandled"
    alarm = wait_for_state(cloudwatch, alarm_name, "ALARM")
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 2 datapoints")
    reason_data = json.loads(alarm["StateReasonData"])
    assert reason_data["statistic"] == "Sum"
    assert reason_data["threshold"] == 2.0

    deadline = time.time() + 30
    while time.time() < deadline and not alarm_events(server, recorder):
        time.sleep(0.5)
    events = alarm_events(server, recorder)
    assert len(events) == 1, events
    event = events[0]
    assert event["source"] == "aws.cloudwatch"
    assert event["alarmArn"] == alarm["AlarmArn"]
    assert event["accountId"] == "000000000000"
    assert event["region"] == "us-east-1"
    data = event["alarmData"]
    assert data["alarmName"] == alarm_name
    assert data["state"]["value"] == "ALARM"
    assert data["previousState"]["value"] in ("OK", "INSUFFICIENT_DATA")
    metric = data["configuration"]["metrics"][0]["metricStat"]
    assert metric["metric"] == {"namespace": "AWS/Lambda", "name": "Errors",
                                "dimensions": {"FunctionName": flaky}}
    assert metric["period"] == 10
    assert metric["stat"] == "Sum"
    assert data["configuration"]["description"] == "Errors of the flaky function"

    # Successes only: the periods without errors are not breaching, so the alarm returns to OK.
    for _ in range(2):
        invoke_json(lam, flaky, {})
    wait_for_state(cloudwatch, alarm_name, "OK", timeout=90)
    time.sleep(2)
    assert len(alarm_events(server, recorder)) == 1

    history = cloudwatch.describe_alarm_history(AlarmName=alarm_name,
                                                HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    summaries = [item["HistorySummary"] for item in history]
    assert "Alarm updated from ALARM to OK" in summaries
    assert any(s.endswith("to ALARM") for s in summaries)
    actions = cloudwatch.describe_alarm_history(AlarmName=alarm_name,
                                                HistoryItemType="Action")["AlarmHistoryItems"]
    assert len(actions) == 1
    assert recorder_arn in actions[0]["HistorySummary"]
    cloudwatch.delete_alarms(AlarmNames=[alarm_name])
    assert cloudwatch.describe_alarms(AlarmNames=[alarm_name])["MetricAlarms"] == []
