"""Text that is not valid UTF-8, or that XML cannot carry, never breaks a read API."""

import json
import time

from urllib.error import HTTPError
from urllib.request import Request, urlopen

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import create_function, invoke_json

BAD_BYTES = {"app.py": (
    "import sys\n\n\n"
    "def handler(event, context):\n"
    "    sys.stdout.buffer.write(b'bad bytes \\xff\\xfe\\xc0\\xaf end\\n')\n"
    "    sys.stdout.flush()\n"
    "    return 'done'\n")}


def test_invalid_utf8_output_is_stored_as_replacement_characters(server):
    client = server.client()
    name = create_function(client, BAD_BYTES)
    client.get_waiter("function_active_v2").wait(FunctionName=name)
    invoke_json(client, name, {})

    logs = server.client("logs")
    deadline = time.time() + 10
    events = []
    while time.time() < deadline and not events:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                        filterPattern="bad")["events"]
        time.sleep(0.2)
    assert [e["message"].rstrip("\n") for e in events] == ["bad bytes \ufffd\ufffd\ufffd\ufffd end"]
    # The whole group stays readable, through the CLI too.
    out = server.aws("logs", "filter-log-events", "--log-group-name", f"/aws/lambda/{name}")
    messages = [e["message"] for e in json.loads(out.stdout)["events"]]
    assert any(m.startswith("REPORT") for m in messages)


def test_xml_forbidden_characters_do_not_break_list_metrics(server):
    cloudwatch = server.client("cloudwatch")
    namespace = "Encoding/Check"
    cloudwatch.put_metric_data(Namespace=namespace,
                               MetricData=[{"MetricName": "odd\uffffname", "Value": 1}])
    out = server.aws("cloudwatch", "list-metrics", "--namespace", namespace)
    names = [m["MetricName"] for m in json.loads(out.stdout)["Metrics"]]
    assert names == ["odd\ufffdname"]


def test_invalid_utf8_in_a_query_request_is_rejected(server):
    body = b"Action=SetAlarmState&Version=2010-08-01&AlarmName=x&StateValue=OK&StateReason=x%C0%AFy"
    key, secret = server.credentials()
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key, secret), "monitoring", "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = Request(prepared.url, data=body, method="POST", headers=dict(prepared.headers))
    try:
        with urlopen(raw, timeout=30) as response:
            status, text = response.status, response.read()
    except HTTPError as error:
        status, text = error.code, error.read()
    assert status == 400, text
    assert b"not valid UTF-8" in text
