"""Function versions and aliases: PublishVersion, ListVersionsByFunction, the alias
operations, qualifiers on GetFunction, Invoke and DeleteFunction, weighted alias routing, and
persistence across a SIGKILL.

Expected messages and field values are the ones AWS returned in LocalStack's recordings
(`test_lambda_api.snapshot.json`: `TestLambdaVersions`, `TestLambdaAlias`,
`test_function_revisions_version_and_alias`, `test_ops_on_nonexisting_version`,
`test_delete_on_nonexisting_version`).
"""

import base64
import hashlib
import json
import math
import signal

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ROLE, Server, create_function, invoke_json, make_zip, unique_name

ACCOUNT = "000000000000"
REGION = "us-east-1"

# Returns which code ran and what the runtime was given about the invocation.
HANDLER = """import os


def handler(event, context):
    return {{
        "code": "{tag}",
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "context_version": context.function_version,
        "invoked_arn": context.invoked_function_arn,
    }}
"""


def code(tag):
    return {"app.py": HANDLER.format(tag=tag)}


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def code_sha256(files):
    return base64.b64encode(hashlib.sha256(make_zip(files)).digest()).decode()


def error_of(call, *args, **kwargs):
    """Runs a client call that must fail and returns (HTTP status, error code, message)."""
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    response = caught.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"]["Message"])


def update_code(lam, name, files, **kwargs):
    return lam.update_function_code(FunctionName=name, ZipFile=make_zip(files), **kwargs)


# ---- PublishVersion and ListVersionsByFunction ----

def test_publish_version_lifecycle(lam):
    name = create_function(lam, code("one"), Description="No version")
    latest = lam.get_function(FunctionName=name)["Configuration"]
    assert latest["Version"] == "$LATEST"
    assert latest["FunctionArn"] == function_arn(name)

    first = lam.publish_version(FunctionName=name, Description="First version")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == "1"
    assert first["FunctionArn"] == function_arn(name) + ":1"
    assert first["Description"] == "First version"
    assert first["CodeSha256"] == code_sha256(code("one"))
    assert first["State"] == "Active"

    # Publishing gives $LATEST a new RevisionId. The version keeps its own.
    after = lam.get_function(FunctionName=name)["Configuration"]
    assert after["RevisionId"] != latest["RevisionId"]
    assert after["RevisionId"] != first["RevisionId"]

    # Nothing changed since version 1, so publishing again returns version 1.
    again = lam.publish_version(FunctionName=name)
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert again["Version"] == "1"
    assert again["RevisionId"] == first["RevisionId"]

    lam.update_function_configuration(FunctionName=name, Description="Second version")
    second = lam.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    assert second["Description"] == "Second version"

    by_number = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert by_number["Version"] == "1"
    assert by_number["Description"] == "First version"
    assert by_number["FunctionArn"] == function_arn(name) + ":1"
    assert by_number["RevisionId"] == first["RevisionId"]
    qualified_latest = lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    assert qualified_latest["Version"] == "$LATEST"
    assert qualified_latest["FunctionArn"] == function_arn(name) + ":$LATEST"
    by_arn = lam.get_function_configuration(FunctionName=function_arn(name) + ":2")
    assert by_arn["Version"] == "2"

    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in listed] == [
        function_arn(name) + ":$LATEST", function_arn(name) + ":1", function_arn(name) + ":2"]
    assert "State" not in listed[1]

    lam.delete_function(FunctionName=name, Qualifier="1")
    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "2"]
    # Version numbers are not reused after a deletion.
    lam.update_function_configuration(FunctionName=name, Description="Third version")
    assert lam.publish_version(FunctionName=name)["Version"] == "3"


def test_list_versions_pagination(lam):
    name = create_function(lam, code("one"))
    for number in range(1, 4):
        lam.update_function_configuration(FunctionName=name, Description=f"d{number}")
        assert lam.publish_version(FunctionName=name)["Version"] == str(number)
    seen = []
    marker = None
    pages = 0
    while True:
        kwargs = {"Marker": marker} if marker else {}
        page = lam.list_versions_by_function(FunctionName=name, MaxItems=2, **kwargs)
        pages += 1
        assert len(page["Versions"]) <= 2
        seen += [v["Version"] for v in page["Versions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
        assert pages < 5
    assert seen == ["$LATEST", "1", "2", "3"]
    assert pages == 2

    paginator = lam.get_paginator("list_versions_by_function")
    pages = list(paginator.paginate(FunctionName=name, PaginationConfig={"PageSize": 3}))
    assert [v["Version"] for page in pages for v in page["Versions"]] == seen


def test_list_functions_all_versions(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    first = create_function(lam, code("one"), name="alpha")
    lam.publish_version(FunctionName=first)
    lam.update_function_configuration(FunctionName=first, Description="two")
    lam.publish_version(FunctionName=first)
    create_function(lam, code("one"), name="beta")

    default = lam.list_functions()["Functions"]
    assert [f["FunctionArn"] for f in default] == [function_arn("alpha"), function_arn("beta")]
    listed = lam.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["FunctionArn"] for f in listed] == [
        function_arn("alpha") + ":$LATEST", function_arn("alpha") + ":1",
        function_arn("alpha") + ":2", function_arn("beta") + ":$LATEST"]
    assert [f["Version"] for f in listed] == ["$LATEST", "1", "2", "$LATEST"]

    pages = list(lam.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2
    assert [f["FunctionArn"] for page in pages for f in page["Functions"]] == \
        [f["FunctionArn"] for f in listed]

    status, error, message = error_of(lam.list_functions, FunctionVersion="invalid")
    assert (status, error, message) == (
        400, "ValidationException",
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL]")


def test_publish_preconditions(lam):
    name = create_function(lam, code("one"))
    status, error, message = error_of(lam.publish_version, FunctionName=name,
                                      RevisionId="wrong-revision")
    assert (status, error) == (412, "PreconditionFailedException")
    assert message == ("The Revision Id provided does not match the latest Revision Id. Call "
                       "the GetFunction/GetAlias API to retrieve the latest Revision Id")

    sha = code_sha256(code("one"))
    status, error, message = error_of(lam.publish_version, FunctionName=name,
                                      CodeSha256="somenonexistentsha256")
    assert (status, error) == (400, "InvalidParameterValueException")
    assert message == (f"CodeSHA256 (somenonexistentsha256) is different from current "
                       f"CodeSHA256 in $LATEST ({sha}). Please try again with the CodeSHA256 "
                       f"in $LATEST.")

    revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    published = lam.publish_version(FunctionName=name, CodeSha256=sha, RevisionId=revision)
    assert published["Version"] == "1"

    status, error, message = error_of(lam.publish_version, FunctionName=name,
                                      Description="x" * 257)
    assert (status, error) == (400, "ValidationException")
    assert "at 'description' failed to satisfy constraint" in message

    missing = unique_name("missing")
    status, error, message = error_of(lam.publish_version, FunctionName=missing)
    assert (status, error) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {function_arn(missing)}"
    status, error, message = error_of(lam.list_versions_by_function, FunctionName=missing)
    assert (status, error) == (404, "ResourceNotFoundException")


def test_publish_on_create_and_update(lam):
    name = unique_name("fn")
    created = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                  Role=ROLE, Code={"ZipFile": make_zip(code("one"))},
                                  Publish=True)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["Version"] == "1"
    # AWS returns the unqualified ARN from CreateFunction, even with Publish.
    assert created["FunctionArn"] == function_arn(name)

    updated = update_code(lam, name, code("two"), Publish=True)
    assert updated["Version"] == "2"
    assert updated["FunctionArn"] == function_arn(name) + ":2"
    assert updated["CodeSha256"] == code_sha256(code("two"))
    latest = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert latest["CodeSha256"] == code_sha256(code("two"))


def test_updates_on_version_rejected(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    message = ("Current operation does not support versions other than $LATEST. Please set "
               "the version to $LATEST or do not set a version in your request.")
    status, error, text = error_of(lam.update_function_configuration,
                                   FunctionName=f"{name}:1", Description="changed")
    assert (status, error, text) == (400, "InvalidParameterValueException", message)
    status, error, text = error_of(update_code, lam, f"{name}:1", code("two"))
    assert (status, error, text) == (400, "InvalidParameterValueException", message)
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Description"] == ""


# ---- qualifiers ----

def test_qualifier_not_found(lam):
    name = create_function(lam, code("one"))
    for call in (lam.get_function, lam.get_function_configuration):
        status, error, message = error_of(call, FunctionName=name, Qualifier="1221")
        assert (status, error) == (404, "ResourceNotFoundException")
        assert message == f"Function not found: {function_arn(name)}:1221"
        status, error, message = error_of(call, FunctionName=name, Qualifier="noalias")
        assert message == f"Function not found: {function_arn(name)}:noalias"
    status, error, message = error_of(lam.invoke, FunctionName=name, Qualifier="7")
    assert (status, error) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {function_arn(name)}:7"
    status, error, message = error_of(lam.invoke, FunctionName=name, Qualifier="7",
                                      InvocationType="Event")
    assert (status, error) == (404, "ResourceNotFoundException")

    missing = unique_name("missing")
    status, error, message = error_of(lam.get_function, FunctionName=missing,
                                      Qualifier="$LATEST")
    assert message == f"Function not found: {function_arn(missing)}:$LATEST"


def test_qualifier_validation(lam):
    name = create_function(lam, code("one"))
    pattern = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
    for call in (lam.get_function, lam.delete_function, lam.invoke):
        assert error_of(call, FunctionName=name, Qualifier="invalid!") == (
            400, "ValidationException",
            "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern}")
        assert error_of(call, FunctionName=name, Qualifier="a" * 129) == (
            400, "ValidationException",
            f"1 validation error detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy "
            "constraint: Member must have length less than or equal to 128")
    assert error_of(lam.get_function, FunctionName=name, Qualifier="$latest") == (
        404, "ResourceNotFoundException", f"Function not found: {function_arn(name)}:$latest")


def test_delete_function_qualifiers(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    status, error, message = error_of(lam.delete_function, FunctionName=name, Qualifier="1")
    assert (status, error) == (409, "ResourceConflictException")
    assert message == "Unable to delete version because the following aliases reference it: [live]"
    status, error, message = error_of(lam.delete_function, FunctionName=name, Qualifier="live")
    assert (status, error, message) == (
        400, "InvalidParameterValueException", "Deletion of aliases is not currently supported.")
    status, error, message = error_of(lam.delete_function, FunctionName=name,
                                      Qualifier="$LATEST")
    assert message == "$LATEST version cannot be deleted without deleting the function."
    # For a version number that does not exist, AWS returns 204 and deletes nothing.
    assert lam.delete_function(FunctionName=name, Qualifier="99")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    # "01" is not version 1: it names no version, so the alias's version stays.
    assert lam.delete_function(FunctionName=name, Qualifier="01")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "1"
    assert invoke_json(lam, name, Qualifier="live")[0]["ExecutedVersion"] == "1"

    lam.delete_alias(FunctionName=name, Name="live")
    assert lam.delete_function(FunctionName=name, Qualifier="1")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] \
        == ["$LATEST"]

    missing = unique_name("missing")
    status, error, message = error_of(lam.delete_function, FunctionName=missing, Qualifier="1")
    assert (status, error) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {function_arn(missing)}"


def test_delete_function_removes_versions_and_aliases(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.delete_function(FunctionName=name)

    create_function(lam, code("two"), name=name)
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] \
        == ["$LATEST"]
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    # A new function with the same name numbers its versions from 1 again.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"


# ---- aliases ----

def test_alias_lifecycle(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    update_code(lam, name, code("two"))
    lam.publish_version(FunctionName=name)

    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                               Description="custom-alias",
                               RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == function_arn(name) + ":live"
    assert created["FunctionVersion"] == "1"
    assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    fetched = lam.get_alias(FunctionName=name, Name="live")
    for field in ("AliasArn", "Name", "FunctionVersion", "Description", "RevisionId",
                  "RoutingConfig"):
        assert fetched[field] == created[field]

    plain = lam.create_alias(FunctionName=name, Name="stable", FunctionVersion="2")
    assert "RoutingConfig" not in plain
    assert plain["Description"] == ""
    lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST",
                     RoutingConfig={"AdditionalVersionWeights": {}})

    # GetFunction through an alias shows the alias's version, under the alias ARN.
    through_alias = lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]
    assert through_alias["Version"] == "1"
    assert through_alias["FunctionArn"] == function_arn(name) + ":live"
    by_arn = lam.get_function(FunctionName=function_arn(name) + ":live")["Configuration"]
    assert by_arn["Version"] == "1"

    names = [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]]
    assert names == ["edge", "live", "stable"]
    for_one = lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in for_one] == ["live"]
    page = lam.list_aliases(FunctionName=name, MaxItems=2)
    assert [a["Name"] for a in page["Aliases"]] == ["edge", "live"]
    rest = lam.list_aliases(FunctionName=name, MaxItems=2, Marker=page["NextMarker"])
    assert [a["Name"] for a in rest["Aliases"]] == ["stable"]
    assert "NextMarker" not in rest

    status, error, message = error_of(lam.update_alias, FunctionName=name, Name="live",
                                      Description="changed", RevisionId="stale")
    assert (status, error) == (412, "PreconditionFailedException")
    updated = lam.update_alias(FunctionName=name, Name="live", Description="changed",
                               RoutingConfig={"AdditionalVersionWeights": {}},
                               RevisionId=created["RevisionId"])
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["Description"] == "changed"
    assert updated["FunctionVersion"] == "1"
    assert "RoutingConfig" not in updated
    assert updated["RevisionId"] != created["RevisionId"]
    moved = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert moved["FunctionVersion"] == "2"
    assert moved["Description"] == "changed"

    assert lam.delete_alias(FunctionName=name, Name="live")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == [
        "edge", "stable"]
    # Deleting an alias that does not exist also returns 204, as on AWS.
    assert lam.delete_alias(FunctionName=name, Name="live")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204


def test_alias_errors(server):
    # botocore rejects a negative weight before sending it; AWS's own message is the subject.
    lam = server.client(config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Description="two")
    lam.publish_version(FunctionName=name)
    arn = function_arn(name)

    cases = [
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"2": 0.5, "3": 0.2}}),
         (400, "InvalidParameterValueException",
          "Number of items in AdditionalVersionWeights cannot be greater than 1")),
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"2": 2.0}}),
         (400, "ValidationException",
          "1 validation error detected: Value '{2=2.0}' at "
          "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
          "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
          "must have value greater than or equal to 0.0, Member must not be null]")),
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"2": -1.0}}),
         (400, "ValidationException",
          "1 validation error detected: Value '{2=-1.0}' at "
          "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
          "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
          "must have value greater than or equal to 0.0, Member must not be null]")),
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
         (400, "InvalidParameterValueException",
          "Invalid function version 1. Function version 1 is already included in routing "
          "configuration.")),
        (dict(Name="custom", FunctionVersion="10"),
         (404, "ResourceNotFoundException", f"Function not found: {arn}:10")),
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}}),
         (404, "ResourceNotFoundException", f"Function not found: {arn}:10")),
        (dict(Name="custom", FunctionVersion="$LATEST",
              RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}),
         (400, "InvalidParameterValueException",
          "$LATEST is not supported for an alias pointing to more than 1 version")),
        (dict(Name="custom", FunctionVersion="1",
              RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.5}}),
         (400, "ValidationException",
          "1 validation error detected: Value '{$LATEST=0.5}' at "
          "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
          "must satisfy constraint: [Member must have length less than or equal to 1024, "
          "Member must have length greater than or equal to 1, Member must satisfy regular "
          "expression pattern: [0-9]+]")),
        (dict(Name="2024", FunctionVersion="1"),
         (400, "ValidationException",
          "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
          "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")),
    ]
    for kwargs, expected in cases:
        assert error_of(lam.create_alias, FunctionName=name, **kwargs) == expected, kwargs

    status, error, message = error_of(lam.create_alias, FunctionName=f"{name}-unknown",
                                      Name="custom", FunctionVersion="1")
    assert (status, error) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn}-unknown"

    lam.create_alias(FunctionName=name, Name="custom", FunctionVersion="1")
    assert error_of(lam.create_alias, FunctionName=name, Name="custom", FunctionVersion="2") == (
        409, "ResourceConflictException", f"Alias already exists: {arn}:custom")
    assert lam.create_alias(FunctionName=name, Name="2024-01-02",
                            FunctionVersion="1")["Name"] == "2024-01-02"

    assert error_of(lam.get_alias, FunctionName=name, Name="non-existent") == (
        404, "ResourceNotFoundException", f"Cannot find alias arn: {arn}:non-existent")
    assert error_of(lam.update_alias, FunctionName=name, Name="non-existent",
                    Description="x") == (
        404, "ResourceNotFoundException", f"Alias not found: {arn}:non-existent")
    assert error_of(lam.update_alias, FunctionName=name, Name="custom",
                    RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})[2] == (
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration.")
    status, error, _ = error_of(lam.list_aliases, FunctionName=f"{name}-unknown")
    assert (status, error) == (404, "ResourceNotFoundException")


def test_alias_cli(server):
    lam = server.client()
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    created = server.aws("lambda", "create-alias", "--function-name", name, "--name", "prod",
                         "--function-version", "1", "--description", "from the CLI")
    alias = json.loads(created.stdout)
    assert alias["AliasArn"] == function_arn(name) + ":prod"
    assert alias["Description"] == "from the CLI"
    listed = json.loads(server.aws("lambda", "list-versions-by-function", "--function-name",
                                   name).stdout)
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1"]
    failed = server.aws("lambda", "get-alias", "--function-name", name, "--name", "missing",
                        check=False)
    assert failed.returncode != 0
    assert "ResourceNotFoundException" in failed.stderr
    assert f"Cannot find alias arn: {function_arn(name)}:missing" in failed.stderr


# ---- invoke ----

def test_invoke_versions_keep_their_code(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    update_code(lam, name, code("two"))
    lam.publish_version(FunctionName=name)
    update_code(lam, name, code("three"))
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")

    expectations = [
        ({}, "three", "$LATEST", function_arn(name)),
        ({"Qualifier": "$LATEST"}, "three", "$LATEST", function_arn(name) + ":$LATEST"),
        ({"Qualifier": "1"}, "one", "1", function_arn(name) + ":1"),
        ({"Qualifier": "2"}, "two", "2", function_arn(name) + ":2"),
        ({"Qualifier": "live"}, "one", "1", function_arn(name) + ":live"),
    ]
    for kwargs, tag, version, invoked_arn in expectations:
        response, body = invoke_json(lam, name, {}, LogType="Tail", **kwargs)
        assert response["ExecutedVersion"] == version, kwargs
        assert body["code"] == tag, kwargs
        assert body["version"] == version, kwargs
        assert body["context_version"] == version, kwargs
        assert body["invoked_arn"] == invoked_arn, kwargs
        tail = base64.b64decode(response["LogResult"]).decode()
        assert f"Version: {version}" in tail, kwargs
    response, body = invoke_json(lam, function_arn(name) + ":2", {})
    assert body["code"] == "two"
    assert response["ExecutedVersion"] == "2"

    # Code packages of versions survive $LATEST code updates and deletions of other versions.
    update_code(lam, name, code("four"))
    lam.delete_function(FunctionName=name, Qualifier="2")
    for qualifier, tag in (("1", "one"), ("live", "one"), ("$LATEST", "four")):
        _, body = invoke_json(lam, name, {}, Qualifier=qualifier)
        assert body["code"] == tag, qualifier
    location = lam.get_function(FunctionName=name, Qualifier="1")["Code"]["Location"]
    assert location.endswith(".zip?token=" + location.split("token=")[1])


def test_alias_weighted_routing(lam):
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name)
    update_code(lam, name, code("two"))
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})

    calls = 400
    weight = 0.3
    counts = {"1": 0, "2": 0}
    for _ in range(calls):
        response, body = invoke_json(lam, name, {}, Qualifier="canary")
        executed = response["ExecutedVersion"]
        counts[executed] += 1
        assert body["code"] == {"1": "one", "2": "two"}[executed]
        assert body["invoked_arn"] == function_arn(name) + ":canary"
    # A binomial 4-sigma band around 120 of 400 is 84-156.
    sigma = math.sqrt(calls * weight * (1 - weight))
    assert abs(counts["2"] - calls * weight) <= 4 * sigma, counts
    assert counts["1"] + counts["2"] == calls


# ---- persistence ----

def test_versions_survive_sigkill(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = create_function(lam, code("one"))
    lam.publish_version(FunctionName=name, Description="first")
    update_code(lam, name, code("two"))
    lam.publish_version(FunctionName=name)
    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    update_code(lam, name, code("three"))
    latest_revision = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    srv.stop(signal.SIGKILL)

    again = Server(srv.data_dir).start()
    try:
        lam = again.client()
        versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
        assert versions[1]["Description"] == "first"
        assert versions[0]["RevisionId"] == latest_revision
        restored = lam.get_alias(FunctionName=name, Name="live")
        for field in ("FunctionVersion", "RevisionId", "RoutingConfig", "Description"):
            assert restored[field] == alias[field]
        for qualifier, tag in (("1", "one"), ("2", "two"), ("$LATEST", "three")):
            response, body = invoke_json(lam, name, {}, Qualifier=qualifier)
            assert body["code"] == tag, qualifier
            assert response["ExecutedVersion"] == qualifier
        # The publish counter survives too, so the next version is 3.
        assert lam.publish_version(FunctionName=name)["Version"] == "3"
    finally:
        again.stop()


def test_account_usage_counts_versions(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = create_function(lam, code("one"))
    size = len(make_zip(code("one")))
    assert lam.get_account_settings()["AccountUsage"]["TotalCodeSize"] == size
    lam.publish_version(FunctionName=name)
    usage = lam.get_account_settings()["AccountUsage"]
    assert usage["TotalCodeSize"] == 2 * size
    assert usage["FunctionCount"] == 1
