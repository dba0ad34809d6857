"""Provisioned concurrency on versions and aliases, with the shapes AWS returns."""

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import (ROLE, create_function, invoke_json, log_tail, make_zip, signed_request,
                      unique_name)

HANDLER = {"app.py": "def handler(event, context):\n    return {'version': context.function_version}\n"}
INIT_FAILS = {"app.py": "raise RuntimeError('init failed on purpose')\n"
                        "def handler(event, context):\n    return 1\n"}


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response


def wait_status(lam, name, qualifier, expected, timeout=30):
    """Polls GetProvisionedConcurrencyConfig until Status is `expected`; returns the response."""
    deadline = time.monotonic() + timeout
    while True:
        config = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] == expected or time.monotonic() > deadline:
            return config
        time.sleep(0.05)


def published(lam, files=HANDLER):
    name = create_function(lam, files)
    version = lam.publish_version(FunctionName=name)["Version"]
    return name, version


def test_put_on_version_becomes_ready_and_serves_warm(lam):
    name, version = published(lam)
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["Status"] in ("IN_PROGRESS", "READY")
    assert set(put) - {"ResponseMetadata"} >= {
        "RequestedProvisionedConcurrentExecutions", "AvailableProvisionedConcurrentExecutions",
        "AllocatedProvisionedConcurrentExecutions", "Status", "LastModified"}

    ready = wait_status(lam, name, version, "READY")
    assert ready["Status"] == "READY"
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2
    assert "StatusReason" not in ready

    response, body = invoke_json(lam, name, Qualifier=version, LogType="Tail")
    assert body == {"version": version}
    assert response["ExecutedVersion"] == version
    tail = log_tail(response)
    assert "REPORT RequestId" in tail
    assert "Init Duration" not in tail


def test_put_on_alias_serves_warm_and_lists(lam):
    name, version = published(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    assert wait_status(lam, name, "live", "READY")["Status"] == "READY"

    response, _ = invoke_json(lam, name, Qualifier="live", LogType="Tail")
    assert "Init Duration" not in log_tail(response)

    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)
    configs = listed["ProvisionedConcurrencyConfigs"]
    assert len(configs) == 1
    assert configs[0]["FunctionArn"] == \
        f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
    assert configs[0]["RequestedProvisionedConcurrentExecutions"] == 1
    assert configs[0]["Status"] == "READY"


def test_latest_and_missing_targets_are_rejected(server, lam):
    name, version = published(lam)
    latest = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                      Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    assert latest["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert latest["Error"]["Code"] == "InvalidParameterValueException"
    assert latest["Error"]["Message"] == \
        "The function resource provided must be an alias or a published version."

    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    missing_alias = error_of(lam.get_provisioned_concurrency_config, FunctionName=name,
                             Qualifier="noalias")
    assert missing_alias["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert missing_alias["Error"]["Code"] == "ResourceNotFoundException"
    assert missing_alias["Error"]["Message"] == f"Cannot find alias arn: {arn}:noalias"

    missing_version = error_of(lam.get_provisioned_concurrency_config, FunctionName=name,
                               Qualifier="10")
    assert missing_version["Error"]["Message"] == f"Function not found: {arn}:10"

    none_yet = error_of(lam.get_provisioned_concurrency_config, FunctionName=name,
                        Qualifier=version)
    assert none_yet["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert none_yet["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    assert none_yet["Error"]["Message"] == \
        "No Provisioned Concurrency Config found for this function"

    # botocore checks the minimum itself, so this request goes out signed by hand.
    status, headers, body = signed_request(
        server, "PUT", f"/2019-09-30/functions/{name}/provisioned-concurrency?Qualifier={version}",
        json.dumps({"ProvisionedConcurrentExecutions": 0}).encode())
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert json.loads(body)["message"] == (
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed "
        "to satisfy constraint: Member must have value greater than or equal to 1")

    no_function = error_of(lam.list_provisioned_concurrency_configs,
                           FunctionName=unique_name("missing"))
    assert no_function["Error"]["Code"] == "ResourceNotFoundException"

    empty = lam.list_provisioned_concurrency_configs(FunctionName=name)
    assert empty["ProvisionedConcurrencyConfigs"] == []


def test_alias_and_version_conflicts(lam):
    name, version = published(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    on_alias = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                        Qualifier="live", ProvisionedConcurrentExecutions=1)
    assert on_alias["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert on_alias["Error"]["Code"] == "ResourceConflictException"
    assert on_alias["Error"]["Message"] == \
        "Alias can't be used for Provisioned Concurrency configuration on an already " \
        "Provisioned version"

    deleted = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    on_version = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                          Qualifier=version, ProvisionedConcurrentExecutions=1)
    assert on_version["Error"]["Code"] == "ResourceConflictException"
    assert on_version["Error"]["Message"] == \
        "Version is pointed by a Provisioned Concurrency alias"

    again = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_reserved_concurrency_bounds_provisioned(lam):
    name, version = published(lam)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    lower = error_of(lam.put_function_concurrency, FunctionName=name,
                     ReservedConcurrentExecutions=1)
    assert lower["Error"]["Code"] == "InvalidParameterValueException"
    assert lower["Error"]["Message"] == (
        " ReservedConcurrentExecutions  1 should not be lower than function's total "
        "provisioned concurrency [2].")

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    more = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                    Qualifier=version, ProvisionedConcurrentExecutions=3)
    assert more["Error"]["Code"] == "InvalidParameterValueException"
    assert more["Error"]["Message"] == (
        "Requested Provisioned Concurrency should not be greater than the "
        "reservedConcurrentExecution for function")


def test_init_failure_reports_failed(lam):
    name, version = published(lam, INIT_FAILS)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    failed = wait_status(lam, name, version, "FAILED")
    assert failed["Status"] == "FAILED"
    assert failed["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert failed["AllocatedProvisionedConcurrentExecutions"] == 0


def test_settings_survive_restart(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name, version = published(lam)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    assert wait_status(lam, name, version, "READY")["Status"] == "READY"
    srv.stop()
    srv.start()
    lam = srv.client()
    ready = wait_status(lam, name, version, "READY")
    assert ready["Status"] == "READY"
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 1
    response, _ = invoke_json(lam, name, Qualifier=version, LogType="Tail")
    assert "Init Duration" not in log_tail(response)


def test_deleting_the_function_removes_settings(lam):
    name, version = published(lam)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
    lam.delete_function(FunctionName=name)
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip(HANDLER)})
    version = lam.publish_version(FunctionName=name)["Version"]
    missing = error_of(lam.get_provisioned_concurrency_config, FunctionName=name,
                       Qualifier=version)
    assert missing["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"


def test_environments_move_with_alias(lam):
    name, first = published(lam)
    lam.update_function_code(FunctionName=name, ZipFile=make_zip(
        {"app.py": "def handler(event, context):\n    return {'second': True}\n"}))
    second = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=first)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    assert wait_status(lam, name, "live", "READY")["Status"] == "READY"

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion=second)
    moved = wait_status(lam, name, "live", "READY")
    assert moved["Status"] == "READY"
    assert moved["AllocatedProvisionedConcurrentExecutions"] == 1
    response, body = invoke_json(lam, name, Qualifier="live", LogType="Tail")
    assert body == {"second": True}
    assert response["ExecutedVersion"] == second
    tail = log_tail(response)
    assert "REPORT RequestId" in tail
    assert "Init Duration" not in tail


def test_deleting_the_alias_removes_its_setting(lam):
    name, version = published(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    lam.delete_alias(FunctionName=name, Name="live")
    missing = error_of(lam.get_provisioned_concurrency_config, FunctionName=name, Qualifier="live")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    assert lam.list_provisioned_concurrency_configs(
        FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_alias_to_latest_is_rejected(lam):
    name, _ = published(lam)
    lam.create_alias(FunctionName=name, Name="tip", FunctionVersion="$LATEST")
    rejected = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                        Qualifier="tip", ProvisionedConcurrentExecutions=1)
    assert rejected["Error"]["Code"] == "InvalidParameterValueException"
    assert rejected["Error"]["Message"] == \
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."


def test_version_with_leading_zero_is_not_found(lam):
    name, version = published(lam)
    missing = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                       Qualifier="0" + version, ProvisionedConcurrentExecutions=1)
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    assert missing["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:0{version}")


def test_settings_must_fit_host_memory(fresh_server):
    srv = fresh_server("--host-memory-mb", "256")
    lam = srv.client()
    name, version = published(lam)
    too_big = error_of(lam.put_provisioned_concurrency_config, FunctionName=name,
                       Qualifier=version, ProvisionedConcurrentExecutions=3)
    assert too_big["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert too_big["Error"]["Code"] == "InvalidParameterValueException"
    assert too_big["Error"]["Message"] == (
        "Requested provisioned concurrency needs 384 MB. With the 0 MB that other settings "
        "keep, it exceeds this host's environment memory of 256 MB "
        "(lambent serve --host-memory-mb).")
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
    assert wait_status(lam, name, version, "READY")["Status"] == "READY"
