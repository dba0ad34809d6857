"""The CloudWatch metrics and alarms API on the edge port, through real clients.

Debian's boto3 and AWS CLI v2 speak the query protocol, and hand-built requests speak JSON 1.0.
Where this machine has them, the newer pip-installed boto3 and AWS CLI v1 speak JSON 1.0, and
that boto3 speaks Smithy RPC v2 CBOR through a model that offers only CBOR. The tests put custom
metrics and read them back exactly."""

import json
import math
import os
import subprocess
import time
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import create_function, run_lambent, unique_name

NEWER_PYTHON = Path("/root/.pyenv/versions/3.11.7/bin/python")
NEWER_AWS_CLI = Path("/root/.pyenv/versions/3.11.7/bin/aws")
XMLNS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"


@pytest.fixture
def cw(server):
    return server.client("cloudwatch")


@pytest.fixture
def raw_cw(server):
    """A client without botocore's parameter validation, so the server validates every input."""
    return server.client("cloudwatch", config=Config(parameter_validation=False,
                                                     retries={"max_attempts": 0}))


def minute_start(minutes_ago):
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return now - timedelta(minutes=minutes_ago)


def signed(server, method, path, body, headers, service="monitoring", sign=True):
    """Sends one request, SigV4-signed for `service` unless sign is False, and returns
    (status, headers, body bytes)."""
    request = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=headers)
    if sign:
        key, secret = server.credentials()
        SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    raw = Request(prepared.url, data=body or None, method=method, headers=dict(prepared.headers))
    try:
        with urlopen(raw, timeout=30) as response:
            return response.status, response.headers, response.read()
    except HTTPError as error:
        return error.code, error.headers, error.read()


def query_call(server, params, **kwargs):
    body = urlencode({"Version": "2010-08-01", **params}).encode()
    return signed(server, "POST", "/", body,
                  {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, **kwargs)


def json_call(server, operation, payload):
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": f"GraniteServiceVersion20100801.{operation}"}
    status, response_headers, raw = signed(server, "POST", "/", body, headers)
    return status, response_headers, json.loads(raw) if raw else None


def xml_error(body):
    root = ElementTree.fromstring(body)
    error = root.find(f"{XMLNS}Error")
    return (error.find(f"{XMLNS}Type").text, error.find(f"{XMLNS}Code").text,
            error.find(f"{XMLNS}Message").text)


def client_error(call, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def nearest_rank(sorted_values, percentile):
    rank = max(1, math.ceil(percentile / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


# ---- metrics through Debian's boto3 (query protocol) ----

def test_put_and_read_back_statistics(cw):
    namespace = unique_name("Custom/Stats")
    start = minute_start(10)
    # Values chosen so each percentile falls inside a run of equal values: p50 = 10, p90 = 20,
    # p99 = 30, whatever rank convention a reader expects.
    values, counts = [10.0, 20.0, 30.0, 40.0], [610.0, 300.0, 85.0, 5.0]
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Dimensions": [{"Name": "Stage", "Value": "prod"}],
         "Timestamp": start + timedelta(seconds=5), "Values": values, "Counts": counts,
         "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Stage", "Value": "prod"}],
         "Timestamp": start + timedelta(seconds=65), "Value": 7.5, "Unit": "Milliseconds"},
    ])

    response = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency",
        Dimensions=[{"Name": "Stage", "Value": "prod"}],
        StartTime=start, EndTime=start + timedelta(minutes=5), Period=60,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum", "Average"])
    assert response["Label"] == "Latency"
    points = sorted(response["Datapoints"], key=lambda p: p["Timestamp"])
    assert len(points) == 2
    first = points[0]
    assert first["Timestamp"] == start
    assert first["Sum"] == 610 * 10 + 300 * 20 + 85 * 30 + 5 * 40
    assert first["SampleCount"] == 1000
    assert first["Minimum"] == 10
    assert first["Maximum"] == 40
    assert first["Average"] == first["Sum"] / 1000
    assert first["Unit"] == "Milliseconds"
    assert points[1]["Timestamp"] == start + timedelta(minutes=1)
    assert points[1]["Sum"] == 7.5
    assert points[1]["SampleCount"] == 1

    percentiles = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency",
        Dimensions=[{"Name": "Stage", "Value": "prod"}],
        StartTime=start, EndTime=start + timedelta(minutes=1), Period=60,
        ExtendedStatistics=["p50", "p90", "p99"])
    extended = percentiles["Datapoints"][0]["ExtendedStatistics"]
    assert extended["p50"] == pytest.approx(10, rel=0.01)
    assert extended["p90"] == pytest.approx(20, rel=0.01)
    assert extended["p99"] == pytest.approx(30, rel=0.01)

    # Another unit or other dimensions name another series.
    assert cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency",
        Dimensions=[{"Name": "Stage", "Value": "prod"}], Unit="Seconds",
        StartTime=start, EndTime=start + timedelta(minutes=5), Period=60,
        Statistics=["Sum"])["Datapoints"] == []
    assert cw.get_metric_statistics(
        Namespace=namespace, MetricName="Latency",
        StartTime=start, EndTime=start + timedelta(minutes=5), Period=60,
        Statistics=["Sum"])["Datapoints"] == []


def test_percentiles_of_spread_values_within_one_percent(cw):
    namespace = unique_name("Custom/Spread")
    start = minute_start(20)
    values = [round(1 + i * 0.37, 2) for i in range(150)]
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Size", "Timestamp": start, "Values": values, "Unit": "Bytes"}])
    datapoint = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Size", StartTime=start,
        EndTime=start + timedelta(minutes=1), Period=60,
        ExtendedStatistics=["p10", "p50", "p90", "p99"])["Datapoints"][0]
    ordered = sorted(values)
    for name, percentile in (("p10", 10), ("p50", 50), ("p90", 90), ("p99", 99)):
        low = nearest_rank(ordered, percentile - 1) * 0.99
        high = nearest_rank(ordered, min(100, percentile + 1)) * 1.01
        assert low <= datapoint["ExtendedStatistics"][name] <= high, name


def test_statistic_sets_and_high_resolution(cw):
    namespace = unique_name("Custom/Sets")
    start = minute_start(5)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Batch", "Timestamp": start + timedelta(seconds=1),
         "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4},
         "Unit": "Count", "StorageResolution": 1},
        {"MetricName": "Batch", "Timestamp": start + timedelta(seconds=12), "Value": 6,
         "Unit": "Count", "StorageResolution": 1},
    ])
    seconds = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Batch", StartTime=start,
        EndTime=start + timedelta(minutes=1), Period=10, Statistics=["Sum", "SampleCount"])
    points = sorted(seconds["Datapoints"], key=lambda p: p["Timestamp"])
    assert [(p["Timestamp"], p["Sum"], p["SampleCount"]) for p in points] == [
        (start, 10, 4), (start + timedelta(seconds=10), 6, 1)]
    minute = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Batch", StartTime=start,
        EndTime=start + timedelta(minutes=1), Period=60, Statistics=["Sum", "Maximum"])
    assert minute["Datapoints"][0]["Sum"] == 16
    assert minute["Datapoints"][0]["Maximum"] == 6


def test_get_metric_data_labels_order_and_paging(cw):
    namespace = unique_name("Custom/Data")
    start = minute_start(30)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Hits", "Timestamp": start + timedelta(minutes=i), "Value": i + 1}
        for i in range(6)])
    queries = [
        {"Id": "hits", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Hits"},
                                      "Period": 60, "Stat": "Sum"}},
        {"Id": "count", "Label": "Hit samples", "ReturnData": True,
         "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Hits"},
                        "Period": 120, "Stat": "SampleCount"}},
        {"Id": "unused", "ReturnData": False,
         "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Hits"},
                        "Period": 60, "Stat": "Maximum"}},
    ]
    end = start + timedelta(minutes=10)
    response = cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end)
    results = {r["Id"]: r for r in response["MetricDataResults"]}
    assert set(results) == {"hits", "count"}
    assert results["hits"]["Label"] == "Hits"
    assert results["hits"]["StatusCode"] == "Complete"
    # TimestampDescending is the default.
    assert results["hits"]["Values"] == [6, 5, 4, 3, 2, 1]
    assert results["hits"]["Timestamps"] == [start + timedelta(minutes=i) for i in range(5, -1, -1)]
    assert results["count"]["Label"] == "Hit samples"
    assert results["count"]["Values"] == [2, 2, 2]
    assert "NextToken" not in response

    ascending = cw.get_metric_data(MetricDataQueries=queries[:1], StartTime=start, EndTime=end,
                                   ScanBy="TimestampAscending")
    assert ascending["MetricDataResults"][0]["Values"] == [1, 2, 3, 4, 5, 6]

    # Pages of four datapoints: the paginator follows NextToken to the end.
    values = {"hits": [], "count": []}
    pages = 0
    for page in cw.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end, MaxDatapoints=4,
            ScanBy="TimestampAscending"):
        pages += 1
        for result in page["MetricDataResults"]:
            values[result["Id"]] += result["Values"]
    assert pages == 3
    assert values == {"hits": [1, 2, 3, 4, 5, 6], "count": [2, 2, 2]}


def test_get_metric_data_expression(cw):
    namespace = unique_name("Custom/Math")
    start = minute_start(20)
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Timestamp": start + timedelta(minutes=i), "Value": value}
        for name, values in (("Calls", (10, 20, 40)), ("Errors", (1, 0, 10)))
        for i, value in enumerate(values)])

    def stat(name):
        return {"Metric": {"Namespace": namespace, "MetricName": name}, "Period": 60,
                "Stat": "Sum"}

    response = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": "calls", "MetricStat": stat("Calls"), "ReturnData": False},
            {"Id": "errors", "MetricStat": stat("Errors"), "ReturnData": False},
            {"Id": "rate", "Expression": "100 * errors / calls", "Label": "Error rate"},
            {"Id": "both", "Expression": "SUM(METRICS())"}],
        StartTime=start, EndTime=start + timedelta(minutes=5), ScanBy="TimestampAscending")
    results = {r["Id"]: r for r in response["MetricDataResults"]}
    assert set(results) == {"rate", "both"}
    assert results["rate"]["Label"] == "Error rate"
    assert results["rate"]["Values"] == [10, 0, 25]
    assert results["both"]["Label"] == "both"
    assert results["both"]["Values"] == [11, 20, 50]


def test_list_metrics_filters_and_pages(cw):
    namespace = unique_name("Custom/List")
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Shards", "Value": 1, "Dimensions": [{"Name": "Shard", "Value": f"{i:04}"}]}
        for i in range(501)])
    cw.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Other", "Value": 1,
         "Dimensions": [{"Name": "Shard", "Value": "0001"}, {"Name": "Zone", "Value": "a"}]}])

    first = cw.list_metrics(Namespace=namespace, MetricName="Shards")
    assert len(first["Metrics"]) == 500
    second = cw.list_metrics(Namespace=namespace, MetricName="Shards",
                             NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 1
    assert "NextToken" not in second
    listed = [m["Dimensions"][0]["Value"] for m in first["Metrics"] + second["Metrics"]]
    assert sorted(listed) == [f"{i:04}" for i in range(501)]

    every = [m for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace)
             for m in page["Metrics"]]
    assert len(every) == 502

    filtered = cw.list_metrics(Namespace=namespace, Dimensions=[{"Name": "Zone"}])["Metrics"]
    assert filtered == [{"Namespace": namespace, "MetricName": "Other",
                         "Dimensions": [{"Name": "Shard", "Value": "0001"},
                                        {"Name": "Zone", "Value": "a"}]}]
    by_value = cw.list_metrics(Namespace=namespace,
                               Dimensions=[{"Name": "Shard", "Value": "0001"}])["Metrics"]
    assert sorted(m["MetricName"] for m in by_value) == ["Other", "Shards"]
    assert len(cw.list_metrics(Namespace=namespace, RecentlyActive="PT3H",
                               MetricName="Other")["Metrics"]) == 1


PUT_ERRORS = [
    ({"Namespace": "AWS/Lambda", "MetricData": [{"MetricName": "m", "Value": 1}]},
     "InvalidParameterValue", "The value AWS/Lambda for parameter Namespace is invalid."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1,
                                          "Timestamp": datetime(2020, 1, 1, tzinfo=timezone.utc)}]},
     "InvalidParameterValue",
     "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1,
                                          "Timestamp": datetime.now(timezone.utc) + timedelta(hours=3)}]},
     "InvalidParameterValue",
     "The parameter MetricData.member.1.Timestamp must specify a time no more than two hours "
     "in the future."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "StorageResolution": 5}]},
     "InvalidParameterValue",
     "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ]."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "StatisticValues": {
        "SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]},
     "InvalidParameterCombination",
     "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are "
     "mutually exclusive and you have specified both."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Values": [1, 2], "Counts": [1]}]},
     "InvalidParameterValue",
     "The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be of the "
     "same size."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Values": list(range(151))}]},
     "InvalidParameterValue",
     "The collection MetricData.member.1.Values must not have a size greater than 150."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "Dimensions": [
        {"Name": f"d{i}", "Value": "v"} for i in range(31)]}]},
     "InvalidParameterValue",
     "The collection MetricData.member.1.Dimensions must not have a size greater than 30."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": float("nan")}]},
     "InvalidParameterValue", "The value NaN for parameter MetricData.member.1.Value is invalid."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1e300}]},
     "InvalidParameterValue", "The value 1e+300 for parameter MetricData.member.1.Value is invalid."),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1, "Unit": "Parsecs"}]},
     "ValidationError", None),
    ({"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1}] * 1001},
     "InvalidParameterValue", "The collection MetricData must not have a size greater than 1000."),
    ({"Namespace": "App"}, "MissingParameter", "The parameter MetricData is required."),
    ({"MetricData": [{"MetricName": "m", "Value": 1}]}, "MissingParameter",
     "The parameter Namespace is required."),
]


@pytest.mark.parametrize("params,code,message", PUT_ERRORS,
                         ids=[f"{case[1]}-{i}" for i, case in enumerate(PUT_ERRORS)])
def test_put_metric_data_errors(raw_cw, params, code, message):
    status, got_code, got_message = client_error(raw_cw.put_metric_data, **params)
    assert (status, got_code) == (400, code)
    if message is not None:
        assert got_message == message


def test_get_metric_statistics_errors(raw_cw):
    start = minute_start(60)
    base = dict(Namespace="App", MetricName="m", StartTime=start)

    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start + timedelta(days=1,
                        minutes=1), Period=60, Statistics=["Sum"]) == (
        400, "InvalidParameterCombination",
        "You have requested up to 1441 datapoints, which exceeds the limit of 1440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range.")
    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start + timedelta(hours=1),
                        Period=45, Statistics=["Sum"]) == (
        400, "InvalidParameterValue",
        "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60; 45 is not.")
    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start,
                        Period=60, Statistics=["Sum"]) == (
        400, "InvalidParameterValue", "The parameter StartTime must not equal parameter EndTime.")
    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start + timedelta(hours=1),
                        Period=60)[1] == "InvalidParameterCombination"
    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start + timedelta(hours=1),
                        Period=60, ExtendedStatistics=["p100.5"])[1] == "InvalidParameterValue"
    assert client_error(raw_cw.get_metric_statistics, **base, EndTime=start + timedelta(hours=1),
                        Period=60, Statistics=["Median"])[1] == "ValidationError"
    assert client_error(raw_cw.get_metric_statistics, Namespace="App", MetricName="m",
                        EndTime=start, Period=60, Statistics=["Sum"]) == (
        400, "MissingParameter", "The parameter StartTime is required.")


def test_get_metric_data_and_list_errors(raw_cw):
    start = minute_start(60)
    stat = {"Metric": {"Namespace": "App", "MetricName": "m"}, "Period": 60, "Stat": "Sum"}
    status, code, message = client_error(
        raw_cw.get_metric_data, StartTime=start, EndTime=start + timedelta(hours=1),
        MetricDataQueries=[{"Id": "e", "Expression": 'SELECT AVG(m) FROM "App"'}])
    assert (status, code) == (400, "InvalidParameterValue")
    assert "SELECT AVG(m)" in message
    assert client_error(raw_cw.get_metric_data, StartTime=start, EndTime=start + timedelta(hours=1),
                        MetricDataQueries=[{"Id": "a", "MetricStat": stat}],
                        NextToken="bogus")[:2] == (400, "InvalidNextToken")
    assert client_error(raw_cw.get_metric_data, StartTime=start, EndTime=start,
                        MetricDataQueries=[{"Id": "a", "MetricStat": stat}]) == (
        400, "ValidationError", "The parameter StartTime must not equal parameter EndTime.")
    assert client_error(raw_cw.list_metrics, RecentlyActive="PT1H")[:2] == (400, "ValidationError")
    assert client_error(raw_cw.list_metrics, NextToken="bogus")[:2] == (400, "InvalidParameterValue")


# ---- the AWS CLI v2 (query protocol) ----

def test_aws_cli_put_and_get(server, tmp_path):
    namespace = unique_name("Custom/Cli")
    start = minute_start(15)
    data = [{"MetricName": "Jobs", "Timestamp": start.isoformat(), "Value": 3, "Unit": "Count"},
            {"MetricName": "Jobs", "Timestamp": (start + timedelta(seconds=30)).isoformat(),
             "Values": [1, 2], "Counts": [4, 1], "Unit": "Count"}]
    (tmp_path / "data.json").write_text(json.dumps(data))
    server.aws("cloudwatch", "put-metric-data", "--namespace", namespace,
               "--metric-data", f"file://{tmp_path / 'data.json'}")
    result = server.aws("cloudwatch", "get-metric-statistics", "--namespace", namespace,
                        "--metric-name", "Jobs", "--start-time", start.isoformat(),
                        "--end-time", (start + timedelta(minutes=1)).isoformat(),
                        "--period", "60", "--statistics", "Sum", "SampleCount", "Maximum",
                        "--output", "json")
    output = json.loads(result.stdout)
    assert output["Label"] == "Jobs"
    assert len(output["Datapoints"]) == 1
    point = output["Datapoints"][0]
    assert (point["Sum"], point["SampleCount"], point["Maximum"], point["Unit"]) == (9, 6, 3, "Count")

    listed = json.loads(server.aws("cloudwatch", "list-metrics", "--namespace", namespace,
                                   "--output", "json").stdout)
    assert listed["Metrics"] == [{"Namespace": namespace, "MetricName": "Jobs", "Dimensions": []}]

    failed = server.aws("cloudwatch", "put-metric-data", "--namespace", "AWS/EC2",
                        "--metric-name", "x", "--value", "1", check=False)
    assert failed.returncode != 0
    assert "InvalidParameterValue" in failed.stderr
    assert "The value AWS/EC2 for parameter Namespace is invalid." in failed.stderr


# ---- the raw wire protocols ----

def test_query_protocol_xml_and_routing(server):
    status, headers, body = query_call(server, {"Action": "ListMetrics",
                                                "Namespace": unique_name("Custom/None")})
    assert status == 200
    assert headers["Content-Type"] == "text/xml"
    root = ElementTree.fromstring(body)
    assert root.tag == f"{XMLNS}ListMetricsResponse"
    assert root.find(f"{XMLNS}ListMetricsResult/{XMLNS}Metrics") is not None
    assert root.find(f"{XMLNS}ResponseMetadata/{XMLNS}RequestId").text == headers["x-amzn-RequestId"]

    status, _, body = query_call(server, {"Action": "DescribeBananas"})
    assert status == 400
    assert xml_error(body) == ("Sender", "InvalidAction",
                               "The action DescribeBananas is not valid for this web service.")

    status, _, body = query_call(server, {"Action": "PutDashboard", "DashboardName": "d",
                                          "DashboardBody": "{}"})
    assert status == 501
    kind, code, message = xml_error(body)
    assert code == "NotImplemented"
    assert "PutDashboard" in message

    # Unsigned or badly signed query requests get the query protocol's errors.
    status, _, body = query_call(server, {"Action": "ListMetrics"}, sign=False)
    assert status == 403
    assert xml_error(body)[1] == "MissingAuthenticationToken"
    key, _ = server.credentials()
    request = AWSRequest(method="POST", url=server.endpoint + "/",
                         data=b"Action=ListMetrics&Version=2010-08-01",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(key, "wrong-secret"), "monitoring", "us-east-1").add_auth(request)
    prepared = request.prepare()
    try:
        urlopen(Request(prepared.url, data=prepared.body, method="POST",
                        headers=dict(prepared.headers)), timeout=30)
        pytest.fail("a request signed with the wrong secret was accepted")
    except HTTPError as error:
        assert error.code == 403
        assert xml_error(error.read())[1] == "SignatureDoesNotMatch"


def test_unsupported_operation_through_boto3(cw):
    status, code, message = client_error(cw.put_dashboard, DashboardName="d", DashboardBody="{}")
    assert (status, code) == (501, "NotImplemented")
    assert "PutDashboard" in message


def test_json_protocol(server):
    namespace = unique_name("Custom/Json")
    start = minute_start(8)
    status, headers, body = json_call(server, "PutMetricData", {
        "Namespace": namespace,
        "MetricData": [{"MetricName": "Bytes", "Timestamp": start.timestamp() + 2,
                        "Values": [100, 300], "Counts": [3, 1], "Unit": "Bytes"}]})
    assert status == 200, body
    assert headers["Content-Type"] == "application/x-amz-json-1.0"

    status, _, body = json_call(server, "GetMetricStatistics", {
        "Namespace": namespace, "MetricName": "Bytes", "StartTime": start.timestamp(),
        "EndTime": start.timestamp() + 60, "Period": 60,
        "Statistics": ["Sum", "SampleCount", "Average"], "ExtendedStatistics": None})
    assert status == 200, body
    assert body["Label"] == "Bytes"
    assert body["Datapoints"] == [{"Timestamp": start.timestamp(), "SampleCount": 4.0,
                                   "Average": 150.0, "Sum": 600.0, "Unit": "Bytes"}]

    status, _, body = json_call(server, "GetMetricData", {
        "StartTime": start.timestamp(), "EndTime": start.timestamp() + 60,
        "MetricDataQueries": [{"Id": "b", "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": "Bytes"}, "Period": 60,
            "Stat": "Maximum"}}]})
    assert status == 200, body
    assert body["MetricDataResults"][0]["Values"] == [300.0]
    assert body["MetricDataResults"][0]["Timestamps"] == [start.timestamp()]

    status, headers, body = json_call(server, "PutMetricData", {
        "Namespace": "AWS/Custom", "MetricData": [{"MetricName": "m", "Value": 1}]})
    assert status == 400
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert body == {"__type": "com.amazonaws.cloudwatch#InvalidParameterValueException",
                    "message": "The value AWS/Custom for parameter Namespace is invalid."}

    status, headers, body = json_call(server, "DescribeBananas", {})
    assert status == 400
    assert headers["x-amzn-query-error"] == "InvalidAction;Sender"


NEWER_CLIENT = r"""
import datetime, json, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key, secret, namespace = sys.argv[1:5]
cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret,
                  config=Config(retries={"max_attempts": 0}))
start = datetime.datetime.fromtimestamp(int(sys.argv[5]), datetime.timezone.utc)
out = {"protocol": cw.meta.service_model.resolved_protocol}
# More than botocore's 10 KiB threshold, so the body is sent gzip-compressed.
cw.put_metric_data(Namespace=namespace, MetricData=[
    {"MetricName": "Load", "Timestamp": start + datetime.timedelta(seconds=i % 50),
     "Value": float(i), "Dimensions": [{"Name": "Host", "Value": "h-%03d" % (i % 7)}]}
    for i in range(400)])
stats = cw.get_metric_statistics(Namespace=namespace, MetricName="Load",
    Dimensions=[{"Name": "Host", "Value": "h-000"}], StartTime=start,
    EndTime=start + datetime.timedelta(minutes=1), Period=60, Statistics=["Sum", "SampleCount"])
out["datapoints"] = [{"ts": p["Timestamp"].timestamp(), "sum": p["Sum"],
                      "count": p["SampleCount"]} for p in stats["Datapoints"]]
data = cw.get_metric_data(StartTime=start, EndTime=start + datetime.timedelta(minutes=1),
    MetricDataQueries=[{"Id": "m", "MetricStat": {"Metric": {"Namespace": namespace,
        "MetricName": "Load", "Dimensions": [{"Name": "Host", "Value": "h-001"}]},
        "Period": 60, "Stat": "Maximum"}}])
out["maximum"] = data["MetricDataResults"][0]["Values"]
out["listed"] = len(cw.list_metrics(Namespace=namespace)["Metrics"])
try:
    cw.put_metric_data(Namespace="AWS/X", MetricData=[{"MetricName": "m", "Value": 1}])
except ClientError as error:
    out["error"] = [error.response["ResponseMetadata"]["HTTPStatusCode"],
                    error.response["Error"]["Code"], error.response["Error"]["Message"]]
print(json.dumps(out))
"""


def cbor_model_dir(tmp_path):
    """A botocore data folder whose CloudWatch model lists only the RPC v2 CBOR protocol.

    botocore 1.43 prefers JSON 1.0 over CBOR when a model offers both, so this is how a real
    client is made to speak CBOR (botocore reads AWS_DATA_PATH before its own data).
    """
    import gzip
    source = NEWER_PYTHON.parents[1] / "lib/python3.11/site-packages/botocore/data/cloudwatch/2010-08-01"
    model = json.loads(gzip.decompress((source / "service-2.json.gz").read_bytes()))
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    target = tmp_path / "models" / "cloudwatch" / "2010-08-01"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return tmp_path / "models"


@pytest.mark.skipif(not NEWER_PYTHON.exists(), reason="no pip-installed boto3 on this machine")
@pytest.mark.parametrize("protocol", ["json", "smithy-rpc-v2-cbor"])
def test_newest_boto3(server, tmp_path, protocol):
    namespace = unique_name("Custom/Newer")
    start = minute_start(12)
    key, secret = server.credentials()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if protocol == "smithy-rpc-v2-cbor":
        env["AWS_DATA_PATH"] = str(cbor_model_dir(tmp_path))
    result = subprocess.run(
        [str(NEWER_PYTHON), "-c", NEWER_CLIENT, server.endpoint, key, secret, namespace,
         str(int(start.timestamp()))],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["protocol"] == protocol
    # Host h-000 got i = 0, 7, ..., 399: 58 values.
    expected = [i for i in range(400) if i % 7 == 0]
    assert out["datapoints"] == [{"ts": start.timestamp(), "sum": float(sum(expected)),
                                  "count": float(len(expected))}]
    assert out["maximum"] == [float(max(i for i in range(400) if i % 7 == 1))]
    assert out["listed"] == 7
    assert out["error"] == [400, "InvalidParameterValue",
                            "The value AWS/X for parameter Namespace is invalid."]


@pytest.mark.skipif(not NEWER_AWS_CLI.exists(), reason="no pip-installed AWS CLI v1 here")
def test_aws_cli_v1_json_protocol(server):
    namespace = unique_name("Custom/CliV1")
    env = server.cli_env()
    base = [str(NEWER_AWS_CLI), "--endpoint-url", server.endpoint, "cloudwatch"]
    subprocess.run(base + ["put-metric-data", "--namespace", namespace, "--metric-name", "Runs",
                           "--value", "4", "--unit", "Count"],
                   env=env, check=True, capture_output=True, text=True, timeout=120)
    listed = subprocess.run(base + ["list-metrics", "--namespace", namespace, "--output", "json"],
                            env=env, check=True, capture_output=True, text=True, timeout=120)
    assert json.loads(listed.stdout)["Metrics"] == [
        {"Namespace": namespace, "MetricName": "Runs", "Dimensions": []}]


# ---- alarms ----

def alarm_params(name, **overrides):
    params = dict(AlarmName=name, Namespace="Custom/Alarms", MetricName="Errors",
                  Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                  ComparisonOperator="GreaterThanOrEqualToThreshold")
    params.update(overrides)
    return params


ALARM_ERRORS = [
    (dict(Period=45), "InvalidParameterValue",
     "The parameter Period must be 10, 20, 30, or a multiple of 60; 45 is not."),
    (dict(Period=3600, EvaluationPeriods=25), "ValidationError",
     "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be "
     "<= 86400)"),
    (dict(EvaluationPeriods=2, DatapointsToAlarm=3), "ValidationError",
     "DatapointsToAlarm (3) must be less than or equal to EvaluationPeriods (2)."),
    (dict(ExtendedStatistic="p99"), "InvalidParameterCombination", None),
    (dict(Statistic=None), "InvalidParameterCombination", None),
    (dict(ComparisonOperator="Bigger"), "ValidationError", None),
    (dict(ComparisonOperator="GreaterThanUpperThreshold"), "InvalidParameterValue", None),
    (dict(TreatMissingData="sometimes"), "ValidationError",
     "Option sometimes is not supported. Supported options for parameter TreatMissingData are "
     "missing, ignore, breaching and notBreaching."),
    (dict(AlarmActions=["arn:aws:automate:us-east-1:ec2:stop"]), "InvalidParameterValue", None),
    (dict(AlarmActions=["arn:aws:sns:us-east-1:000000000000:bad/topic"]), "InvalidParameterValue",
     None),
    (dict(AlarmActions=["arn:aws:lambda:us-east-1:000000000000:function:a"] * 6),
     "InvalidParameterValue", "The collection AlarmActions must not have a size greater than 5."),
    (dict(Metrics=[{"Id": "e", "Expression": "m1 * 2"}], Namespace=None, MetricName=None,
          Statistic=None, Period=None), "InvalidParameterValue", None),
    (dict(Threshold=None), "MissingParameter", "The parameter Threshold is required."),
]


@pytest.mark.parametrize("overrides,code,message", ALARM_ERRORS,
                         ids=[f"{case[1]}-{i}" for i, case in enumerate(ALARM_ERRORS)])
def test_put_metric_alarm_errors(raw_cw, overrides, code, message):
    params = {k: v for k, v in alarm_params(unique_name("bad"), **overrides).items()
              if v is not None}
    status, got_code, got_message = client_error(raw_cw.put_metric_alarm, **params)
    assert (status, got_code) == (400, code)
    if message is not None:
        assert got_message == message


def test_alarm_lifecycle(cw, raw_cw):
    prefix = unique_name("life")
    cw.put_metric_alarm(**alarm_params(f"{prefix}-a", AlarmDescription="first",
                                       Dimensions=[{"Name": "Fn", "Value": "x"}],
                                       DatapointsToAlarm=1, TreatMissingData="notBreaching",
                                       Tags=[{"Key": "team", "Value": "core"}]))
    cw.put_metric_alarm(**{k: v for k, v in alarm_params(f"{prefix}-b", ExtendedStatistic="p99").items()
                           if k != "Statistic"})
    cw.put_metric_alarm(**{k: v for k, v in alarm_params(f"{prefix}-c").items()
                           if k not in ("Namespace", "MetricName", "Statistic", "Period")},
                        Metrics=[{"Id": "m", "ReturnData": True, "MetricStat": {
                            "Metric": {"Namespace": "Custom/Alarms", "MetricName": "Errors"},
                            "Period": 120, "Stat": "Maximum"}}])

    alarms = cw.describe_alarms(AlarmNamePrefix=prefix)
    assert alarms["CompositeAlarms"] == []
    by_name = {a["AlarmName"]: a for a in alarms["MetricAlarms"]}
    assert sorted(by_name) == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    first = by_name[f"{prefix}-a"]
    assert first["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{prefix}-a"
    assert first["AlarmDescription"] == "first"
    assert first["StateValue"] == "INSUFFICIENT_DATA"
    assert first["Dimensions"] == [{"Name": "Fn", "Value": "x"}]
    assert first["TreatMissingData"] == "notBreaching"
    assert first["DatapointsToAlarm"] == 1
    assert by_name[f"{prefix}-b"]["ExtendedStatistic"] == "p99"
    assert "Statistic" not in by_name[f"{prefix}-b"]
    assert (by_name[f"{prefix}-c"]["Statistic"], by_name[f"{prefix}-c"]["Period"]) == ("Maximum", 120)

    # Paging by MaxRecords.
    page = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2)
    assert len(page["MetricAlarms"]) == 2
    rest = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=2, NextToken=page["NextToken"])
    assert len(rest["MetricAlarms"]) == 1
    assert "NextToken" not in rest

    cw.set_alarm_state(AlarmName=f"{prefix}-a", StateValue="ALARM", StateReason="testing",
                       StateReasonData=json.dumps({"why": "test"}))
    in_alarm = cw.describe_alarms(AlarmNames=[f"{prefix}-a", f"{prefix}-b"], StateValue="ALARM")
    assert [a["AlarmName"] for a in in_alarm["MetricAlarms"]] == [f"{prefix}-a"]
    assert in_alarm["MetricAlarms"][0]["StateReason"] == "testing"

    for_metric = cw.describe_alarms_for_metric(Namespace="Custom/Alarms", MetricName="Errors",
                                               Dimensions=[{"Name": "Fn", "Value": "x"}])
    assert [a["AlarmName"] for a in for_metric["MetricAlarms"]] == [f"{prefix}-a"]

    history = cw.describe_alarm_history(AlarmName=f"{prefix}-a")["AlarmHistoryItems"]
    types = [item["HistoryItemType"] for item in history]
    assert "StateUpdate" in types
    assert "ConfigurationUpdate" in types
    assert history == sorted(history, key=lambda item: item["Timestamp"], reverse=True)
    state_only = cw.describe_alarm_history(AlarmName=f"{prefix}-a",
                                           HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert state_only and all(item["HistoryItemType"] == "StateUpdate" for item in state_only)

    cw.disable_alarm_actions(AlarmNames=[f"{prefix}-a", unique_name("absent")])
    assert cw.describe_alarms(AlarmNames=[f"{prefix}-a"])["MetricAlarms"][0]["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=[f"{prefix}-a"])
    assert cw.describe_alarms(AlarmNames=[f"{prefix}-a"])["MetricAlarms"][0]["ActionsEnabled"] is True

    assert client_error(raw_cw.set_alarm_state, AlarmName=f"{prefix}-a", StateValue="OK",
                        StateReason="r", StateReasonData="{not json")[:2] == (400, "InvalidFormat")
    assert client_error(raw_cw.set_alarm_state, AlarmName=f"{prefix}-a", StateValue="BROKEN",
                        StateReason="r")[:2] == (400, "ValidationError")
    assert client_error(raw_cw.set_alarm_state, AlarmName=unique_name("absent"), StateValue="OK",
                        StateReason="r")[:2] == (404, "ResourceNotFound")

    missing = unique_name("absent")
    status, code, message = client_error(cw.delete_alarms, AlarmNames=[f"{prefix}-a", missing])
    assert (status, code) == (404, "ResourceNotFound")
    assert missing in message
    assert len(cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]) == 3
    cw.delete_alarms(AlarmNames=[f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"])
    assert cw.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"] == []


RECORDER = """
import json

def handler(event, context):
    print("ALARM-EVENT " + json.dumps(event))
    return {}
"""


def test_alarm_on_custom_metric_invokes_function(server, cw, lam):
    function = create_function(lam, {"app.py": RECORDER})
    namespace = unique_name("Custom/Fire")
    name = unique_name("fire")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
    cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Failures",
                        Statistic="Sum", Period=10, EvaluationPeriods=1, Threshold=5,
                        ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[arn], TreatMissingData="notBreaching")

    # Breaching values in the current ten seconds, repeated until the alarm evaluates them.
    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": "Failures", "Value": 10, "StorageResolution": 1}])
        state = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]
        if state == "ALARM":
            break
        time.sleep(1)
    assert state == "ALARM"

    output = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "ALARM-EVENT" not in output:
        output = run_lambent(server, "logs", function, timeout=30).stdout
        time.sleep(0.5)
    lines = [line for line in output.splitlines() if "ALARM-EVENT " in line]
    assert len(lines) == 1, output
    event = json.loads(lines[0].split("ALARM-EVENT ", 1)[1])
    assert event["source"] == "aws.cloudwatch"
    assert event["alarmData"]["alarmName"] == name
    assert event["alarmData"]["state"]["value"] == "ALARM"
    cw.delete_alarms(AlarmNames=[name])
