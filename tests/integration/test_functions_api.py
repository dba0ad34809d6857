"""The function control API: create, read, list, update and delete, through the AWS CLI v2,
boto3 and raw signed requests.

Expected field sets and values are the ones AWS returned in LocalStack's recordings
(`test_lambda_api.snapshot.json`: `test_lambda_code_location_zipfile`, `test_function_lifecycle`,
`test_list_functions`), validated against AWS in November 2025.
"""

import base64
import hashlib
import json
import re
import urllib.request

import pytest

from conftest import (FUNCTIONS_DIR, ROLE, create_function, invoke_json, make_zip,
                      signed_request, unique_name, zip_folder)

ACCOUNT = "000000000000"
REGION = "us-east-1"
LAST_MODIFIED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RUNTIME_VERSION_ARN = re.compile(rf"^arn:aws:lambda:{REGION}::runtime:[0-9a-f]{{64}}$")

# GetFunction's Configuration for an active function created without environment variables.
# AWS leaves Environment out until a function has variables.
ACTIVE_CONFIGURATION_FIELDS = {
    "Architectures", "CodeSha256", "CodeSize", "Description", "EphemeralStorage",
    "FunctionArn", "FunctionName", "Handler", "LastModified", "LastUpdateStatus",
    "LoggingConfig", "MemorySize", "PackageType", "RevisionId", "Role", "Runtime",
    "RuntimeVersionConfig", "SnapStart", "State", "Timeout", "TracingConfig", "Version",
}

# One ListFunctions entry of a function that has variables. ListFunctions leaves out State,
# LastUpdateStatus and RuntimeVersionConfig, which only GetFunction returns.
LIST_ENTRY_FIELDS = {
    "Architectures", "CodeSha256", "CodeSize", "Description", "Environment",
    "EphemeralStorage", "FunctionArn", "FunctionName", "Handler", "LastModified",
    "LoggingConfig", "MemorySize", "PackageType", "RevisionId", "Role", "Runtime",
    "SnapStart", "Timeout", "TracingConfig", "Version",
}

RESERVED_KEYS_MESSAGE = (
    "Lambda was unable to configure your environment variables because the environment "
    "variables you have provided contains reserved keys that are currently not supported "
    "for modification. Reserved keys used in this request: {}")

HANDLER_V1 = "def handler(event, context):\n    return {'version': 1, 'event': event}\n"
HANDLER_V2 = ("def handler(event, context):\n    return {'version': 2, 'event': event}\n\n\n"
              "def other(event, context):\n    return {'version': 2, 'handler': 'other'}\n")


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def code_sha256(zip_bytes):
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def cli_json(server, *args):
    return json.loads(server.aws("lambda", *args).stdout)


def write_zip(tmp_path, name, zip_bytes):
    path = tmp_path / name
    path.write_bytes(zip_bytes)
    return f"fileb://{path}"


def test_cli_create_function_fields(server, tmp_path):
    name = unique_name("cli-create")
    zip_bytes = zip_folder(FUNCTIONS_DIR / "python" / "cli_app")

    created = cli_json(server, "create-function", "--function-name", name,
                       "--runtime", "python3.12", "--handler", "app.handler", "--role", ROLE,
                       "--zip-file", write_zip(tmp_path, "code.zip", zip_bytes))

    assert created["FunctionName"] == name
    assert created["FunctionArn"] == function_arn(name)
    assert created["Runtime"] == "python3.12"
    assert created["Handler"] == "app.handler"
    assert created["Role"] == ROLE
    assert created["CodeSha256"] == code_sha256(zip_bytes)
    assert created["CodeSize"] == len(zip_bytes)
    assert LAST_MODIFIED.match(created["LastModified"]), created["LastModified"]
    assert created["Version"] == "$LATEST"
    assert created["Description"] == ""
    assert created["Timeout"] == 3
    assert created["MemorySize"] == 128
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert UUID.match(created["RevisionId"]), created["RevisionId"]
    # AWS returns State Pending and reaches Active a moment later. Lambent finishes creating
    # before it responds, so its response already carries the final state.
    assert created["State"] == "Active"
    assert created["LastUpdateStatus"] == "Successful"


def test_cli_invoke_prints_result(server, tmp_path):
    name = unique_name("cli-invoke")
    server.aws("lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
               "--handler", "app.handler", "--role", ROLE, "--zip-file",
               write_zip(tmp_path, "code.zip", zip_folder(FUNCTIONS_DIR / "python" / "cli_app")))
    outfile = tmp_path / "out.json"

    result = server.aws("lambda", "invoke", "--function-name", name,
                        "--cli-binary-format", "raw-in-base64-out",
                        "--payload", '{"name": "aws cli"}', str(outfile))

    assert json.loads(result.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(outfile.read_text()) == {"greeting": "hello aws cli", "stage": None}


def test_cli_get_function(server, tmp_path):
    name = unique_name("cli-get")
    zip_bytes = make_zip({"app.py": HANDLER_V1})
    created = cli_json(server, "create-function", "--function-name", name,
                       "--runtime", "python3.12", "--handler", "app.handler", "--role", ROLE,
                       "--zip-file", write_zip(tmp_path, "code.zip", zip_bytes))

    function = cli_json(server, "get-function", "--function-name", name)
    configuration = cli_json(server, "get-function-configuration", "--function-name", name)

    assert set(function) == {"Configuration", "Code"}
    assert function["Configuration"] == configuration
    assert configuration["FunctionArn"] == function_arn(name)
    assert configuration["CodeSha256"] == code_sha256(zip_bytes)
    assert configuration["CodeSize"] == len(zip_bytes)
    assert configuration["RevisionId"] == created["RevisionId"]
    assert configuration["LastModified"] == created["LastModified"]
    assert configuration["State"] == "Active"
    assert configuration["LastUpdateStatus"] == "Successful"
    assert function["Code"]["RepositoryType"] == "S3"


def test_code_location_downloads_zip(lam):
    zip_bytes = make_zip({"app.py": HANDLER_V1, "data/readme.txt": "bytes to round-trip\n"})
    name = unique_name("code-location")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": zip_bytes})

    location = lam.get_function(FunctionName=name)["Code"]["Location"]

    assert location.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(location, timeout=30) as response:
        assert response.status == 200
        assert response.read() == zip_bytes


def test_cli_update_function_configuration(server):
    name = unique_name("cli-config")
    lam = server.client()
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": make_zip({"app.py": HANDLER_V2})})
    before = lam.get_function_configuration(FunctionName=name)

    updated = cli_json(server, "update-function-configuration", "--function-name", name,
                       "--environment", "Variables={STAGE=prod,COLOR=blue}",
                       "--timeout", "10", "--memory-size", "256", "--handler", "app.other",
                       "--runtime", "python3.11", "--ephemeral-storage", "Size=1024",
                       "--description", "changed by the CLI")

    assert updated["Environment"] == {"Variables": {"STAGE": "prod", "COLOR": "blue"}}
    assert updated["Timeout"] == 10
    assert updated["MemorySize"] == 256
    assert updated["Handler"] == "app.other"
    assert updated["Runtime"] == "python3.11"
    assert updated["EphemeralStorage"] == {"Size": 1024}
    assert updated["Description"] == "changed by the CLI"
    assert updated["CodeSha256"] == before["CodeSha256"]
    assert updated["RevisionId"] != before["RevisionId"]
    assert LAST_MODIFIED.match(updated["LastModified"]), updated["LastModified"]
    assert updated["LastModified"] >= before["LastModified"]

    after = lam.get_function_configuration(FunctionName=name)
    assert after["RevisionId"] == updated["RevisionId"]
    assert after["LastUpdateStatus"] == "Successful"
    assert after["Environment"] == {"Variables": {"STAGE": "prod", "COLOR": "blue"}}
    assert invoke_json(lam, name)[1] == {"version": 2, "handler": "other"}


def test_cli_update_function_code(server, tmp_path):
    name = unique_name("cli-code")
    lam = server.client()
    first_zip = make_zip({"app.py": HANDLER_V1})
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": first_zip})
    before = lam.get_function_configuration(FunctionName=name)
    assert invoke_json(lam, name, {"n": 1})[1] == {"version": 1, "event": {"n": 1}}
    second_zip = make_zip({"app.py": HANDLER_V2})

    updated = cli_json(server, "update-function-code", "--function-name", name,
                       "--zip-file", write_zip(tmp_path, "v2.zip", second_zip))

    assert updated["CodeSha256"] == code_sha256(second_zip)
    assert updated["CodeSha256"] != before["CodeSha256"]
    assert updated["CodeSize"] == len(second_zip)
    assert updated["RevisionId"] != before["RevisionId"]
    assert updated["Version"] == "$LATEST"
    assert lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"] == \
        code_sha256(second_zip)
    assert invoke_json(lam, name, {"n": 2})[1] == {"version": 2, "event": {"n": 2}}


def test_cli_delete_function(server):
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER_V1})

    deleted = server.aws("lambda", "delete-function", "--function-name", name)
    missing = server.aws("lambda", "get-function", "--function-name", name, check=False)

    assert deleted.stdout == ""
    assert missing.returncode == 254
    assert "ResourceNotFoundException" in missing.stderr
    assert f"Function not found: {function_arn(name)}" in missing.stderr


def configuration_fields(configuration):
    """Returns the field names of a configuration, less Environment.

    test_environment_omitted_when_unset checks Environment on its own.
    """
    return set(configuration) - {"Environment"}


def test_raw_create_get_delete(server):
    """Checks whole field sets, which Debian's botocore model would trim."""
    name = unique_name("raw")
    zip_bytes = make_zip({"app.py": HANDLER_V1})
    body = json.dumps({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
                       "Role": ROLE, "Code": {"ZipFile": base64.b64encode(zip_bytes).decode()}})

    status, headers, raw = signed_request(server, "POST", "/2015-03-31/functions",
                                          body.encode())
    assert status == 201, raw
    created = json.loads(raw)
    assert UUID.match(headers["x-amzn-RequestId"]), headers
    assert sorted(ACTIVE_CONFIGURATION_FIELDS - configuration_fields(created)) == []
    assert sorted(configuration_fields(created) - ACTIVE_CONFIGURATION_FIELDS) == []
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert RUNTIME_VERSION_ARN.match(created["RuntimeVersionConfig"]["RuntimeVersionArn"])

    status, _, raw = signed_request(server, "GET", f"/2015-03-31/functions/{name}")
    assert status == 200, raw
    function = json.loads(raw)
    assert set(function) == {"Configuration", "Code"}
    assert set(function["Code"]) == {"Location", "RepositoryType"}
    assert sorted(ACTIVE_CONFIGURATION_FIELDS - configuration_fields(function["Configuration"])) \
        == []
    assert sorted(configuration_fields(function["Configuration"]) - ACTIVE_CONFIGURATION_FIELDS) \
        == []

    status, _, raw = signed_request(server, "DELETE", f"/2015-03-31/functions/{name}")
    assert status == 204
    assert raw == b""

    status, headers, raw = signed_request(server, "GET", f"/2015-03-31/functions/{name}")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert json.loads(raw) == {"Type": "User",
                               "Message": f"Function not found: {function_arn(name)}"}


def test_environment_omitted_when_unset(server):
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER_V1})

    status, _, raw = signed_request(server, "GET", f"/2015-03-31/functions/{name}/configuration")

    assert status == 200
    assert "Environment" not in json.loads(raw)


def test_environment_present_when_set(server):
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER_V1},
                           Environment={"Variables": {"GREETING": "hi"}})

    status, _, raw = signed_request(server, "GET", f"/2015-03-31/functions/{name}/configuration")

    assert status == 200
    assert json.loads(raw)["Environment"] == {"Variables": {"GREETING": "hi"}}


def test_create_and_delete_status_codes(lam):
    name = unique_name("status")

    created = lam.create_function(FunctionName=name, Runtime="python3.12",
                                  Handler="app.handler", Role=ROLE,
                                  Code={"ZipFile": make_zip({"app.py": HANDLER_V1})})
    deleted = lam.delete_function(FunctionName=name)

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)


@pytest.mark.parametrize("key", ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
                                 "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
                                 "AWS_ACCESS_KEY_ID"])
def test_reserved_key_rejected_at_create(lam, key):
    name = unique_name("reserved")

    with pytest.raises(lam.exceptions.InvalidParameterValueException) as raised:
        create_function(lam, {"app.py": HANDLER_V1}, name=name,
                        Environment={"Variables": {"ALLOWED": "1", key: "x"}})

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Message"] == RESERVED_KEYS_MESSAGE.format(key)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)


def test_reserved_key_rejected_at_update(lam):
    name = create_function(lam, {"app.py": HANDLER_V1},
                           Environment={"Variables": {"KEPT": "yes"}})

    with pytest.raises(lam.exceptions.InvalidParameterValueException) as raised:
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"AWS_REGION": "eu-west-1"}})

    assert raised.value.response["Error"]["Message"] == RESERVED_KEYS_MESSAGE.format("AWS_REGION")
    configuration = lam.get_function_configuration(FunctionName=name)
    assert configuration["Environment"] == {"Variables": {"KEPT": "yes"}}


def test_list_functions_paging(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = sorted(create_function(lam, {"app.py": HANDLER_V1}, name=f"page-{i}")
                   for i in range(5))

    pages = []
    marker = None
    for _ in range(5):  # 3 pages hold 5 functions, so more pages would mean the marker loops
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        pages.append(page)
        marker = page.get("NextMarker")
        if not marker:
            break

    assert [len(page["Functions"]) for page in pages] == [2, 2, 1]
    assert ["NextMarker" in page for page in pages] == [True, True, False]
    listed = [entry["FunctionName"] for page in pages for entry in page["Functions"]]
    assert sorted(listed) == names
    assert len(set(listed)) == 5
    for entry in (entry for page in pages for entry in page["Functions"]):
        assert entry["FunctionArn"] == function_arn(entry["FunctionName"])
        assert entry["Version"] == "$LATEST"


def test_cli_list_functions(fresh_server):
    server = fresh_server()
    lam = server.client()
    names = sorted(create_function(lam, {"app.py": HANDLER_V1}, name=f"cli-list-{i}")
                   for i in range(3))

    listed = cli_json(server, "list-functions")

    assert sorted(entry["FunctionName"] for entry in listed["Functions"]) == names
    assert "NextMarker" not in listed


def test_list_entry_fields(fresh_server):
    server = fresh_server()
    lam = server.client()
    name = create_function(lam, {"app.py": HANDLER_V1},
                           Environment={"Variables": {"LISTED": "1"}})

    status, _, raw = signed_request(server, "GET", "/2015-03-31/functions/")

    assert status == 200
    listing = json.loads(raw)
    assert [entry["FunctionName"] for entry in listing["Functions"]] == [name]
    entry = listing["Functions"][0]
    assert sorted(LIST_ENTRY_FIELDS - set(entry)) == []
    assert sorted(set(entry) - LIST_ENTRY_FIELDS) == []


def test_cli_get_account_settings(fresh_server):
    server = fresh_server()
    lam = server.client()
    first = make_zip({"app.py": HANDLER_V1})
    second = make_zip({"app.py": HANDLER_V2})
    create_function(lam, {"app.py": HANDLER_V1})
    create_function(lam, {"app.py": HANDLER_V2})

    settings = cli_json(server, "get-account-settings")

    assert set(settings) == {"AccountLimit", "AccountUsage"}
    assert settings["AccountUsage"] == {"FunctionCount": 2,
                                        "TotalCodeSize": len(first) + len(second)}
    # AWS's default quotas: 75 GB of code, 250 MB unzipped, 50 MB zipped, 1000 concurrent.
    assert settings["AccountLimit"] == {
        "TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000,
        "CodeSizeZipped": 52428800, "ConcurrentExecutions": 1000,
        "UnreservedConcurrentExecutions": 1000}


def test_stale_revision_id_rejected(lam):
    name = create_function(lam, {"app.py": "def handler(e, c):\n    return 1\n"})
    stale = lam.get_function_configuration(FunctionName=name)["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Description="moves the revision")

    with pytest.raises(lam.exceptions.PreconditionFailedException) as raised:
        lam.update_function_configuration(FunctionName=name, Description="stale",
                                          RevisionId=stale)

    error = raised.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert error["Error"]["Message"] == (
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id")
    assert lam.get_function_configuration(FunctionName=name)["Description"] == \
        "moves the revision"


def test_update_code_removes_unused_package(server, lam):
    first = make_zip({"app.py": "def handler(e, c):\n    return 'first'\n"})
    second = make_zip({"app.py": "def handler(e, c):\n    return 'second'\n"})
    name = unique_name("packages")
    lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                        Role=ROLE, Code={"ZipFile": first})
    zips = server.data_dir / "code" / "zips"
    first_zip = zips / (hashlib.sha256(first).hexdigest() + ".zip")
    assert first_zip.exists()

    lam.update_function_code(FunctionName=name, ZipFile=second)

    assert not first_zip.exists()
    assert (zips / (hashlib.sha256(second).hexdigest() + ".zip")).exists()
    assert invoke_json(lam, name)[1] == "second"


def test_concurrent_creates_one_wins(lam):
    import concurrent.futures

    name = unique_name("race")
    code = make_zip({"app.py": "def handler(e, c):\n    return 1\n"})

    def create(_):
        try:
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                Role=ROLE, Code={"ZipFile": code})
            return 201
        except lam.exceptions.ResourceConflictException:
            return 409

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(8)))

    assert statuses.count(201) == 1
    assert statuses.count(409) == 7
