"""The `lambent` client commands (env, deploy, invoke, functions, logs, delete) against a
running server, and the function logs they print."""

import json
import os
import re
import selectors
import shutil
import subprocess
import time

import pytest

from conftest import BINARY, FUNCTIONS_DIR, run_lambent, unique_name

CLI_APP = FUNCTIONS_DIR / "python" / "cli_app"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def parse_exports(text):
    exports = {}
    for line in text.splitlines():
        assert line.startswith("export "), line
        key, _, value = line.removeprefix("export ").partition("=")
        exports[key] = value
    return exports


def wait_for_logs(server, name, text, seconds=20):
    """Returns `lambent logs NAME` output once it contains text, or the last output."""
    output = ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        output = run_lambent(server, "logs", name, timeout=30).stdout
        if text in output:
            break
        time.sleep(0.2)
    return output


@pytest.fixture
def deployed(server):
    """A function deployed from functions/python/cli_app with `lambent deploy`."""
    name = unique_name("cli")
    run_lambent(server, "deploy", name, str(CLI_APP), "--runtime", "python3.12")
    return name


def test_env_prints_exports(server):
    result = subprocess.run(
        [str(BINARY), "env", "--data-dir", str(server.data_dir),
         "--listen", f"127.0.0.1:{server.port}"],
        capture_output=True, text=True, timeout=30, check=True)

    exports = parse_exports(result.stdout)
    key, secret = server.credentials()
    assert exports == {"AWS_ENDPOINT_URL": server.endpoint, "AWS_ACCESS_KEY_ID": key,
                       "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_REGION": "us-east-1"}


def test_env_endpoint_option(server):
    result = subprocess.run(
        [str(BINARY), "env", "--data-dir", str(server.data_dir), "--endpoint", server.endpoint],
        capture_output=True, text=True, timeout=30, check=True)

    assert parse_exports(result.stdout)["AWS_ENDPOINT_URL"] == server.endpoint


def test_commands_use_env_exports(server, deployed):
    """The client commands find the server through the variables `lambent env` prints."""
    result = subprocess.run(
        [str(BINARY), "env", "--data-dir", str(server.data_dir),
         "--listen", f"127.0.0.1:{server.port}"],
        capture_output=True, text=True, timeout=30, check=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(server.data_dir.parent),
           **parse_exports(result.stdout)}

    invoked = subprocess.run([str(BINARY), "invoke", deployed, "-p", '{"name": "env"}'],
                             env=env, capture_output=True, text=True, timeout=60)

    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(invoked.stdout) == {"greeting": "hello env", "stage": None}


def test_deploy_creates_function(server):
    name = unique_name("cli-deploy")

    result = run_lambent(server, "deploy", name, str(CLI_APP), "--runtime", "python3.12")

    assert result.stdout.strip() == f"created {name}"
    configuration = server.client().get_function_configuration(FunctionName=name)
    assert configuration["Runtime"] == "python3.12"
    assert configuration["Handler"] == "app.handler"
    assert configuration["State"] == "Active"


def test_deploy_options(server):
    name = unique_name("cli-options")

    run_lambent(server, "deploy", name, str(CLI_APP), "--runtime", "python3.12",
                "--timeout", "9", "--memory", "256", "--env", "STAGE=staging")
    result = run_lambent(server, "invoke", name, "-p", '{"name": "options"}')

    configuration = server.client().get_function_configuration(FunctionName=name)
    assert configuration["Timeout"] == 9
    assert configuration["MemorySize"] == 256
    assert configuration["Environment"] == {"Variables": {"STAGE": "staging"}}
    assert json.loads(result.stdout) == {"greeting": "hello options", "stage": "staging"}


def test_deploy_again_updates_code(server, tmp_path):
    name = unique_name("cli-redeploy")
    folder = tmp_path / "app"
    shutil.copytree(CLI_APP, folder)
    run_lambent(server, "deploy", name, str(folder), "--runtime", "python3.12")
    first = run_lambent(server, "invoke", name, "-p", '{"name": "v1"}').stdout
    (folder / "app.py").write_text(
        "def handler(event, context):\n    return {'redeployed': event['name']}\n")

    result = run_lambent(server, "deploy", name, str(folder), "--runtime", "python3.12")
    second = run_lambent(server, "invoke", name, "-p", '{"name": "v2"}').stdout

    assert result.stdout.strip() == f"updated {name}"
    assert json.loads(first) == {"greeting": "hello v1", "stage": None}
    assert json.loads(second) == {"redeployed": "v2"}


def test_deploy_node_default_handler(server, tmp_path):
    name = unique_name("cli-node")
    (tmp_path / "index.js").write_text(
        "exports.handler = async (event) => ({ node: process.version.startsWith('v'), event });\n")

    run_lambent(server, "deploy", name, str(tmp_path), "--runtime", "nodejs20.x")
    result = run_lambent(server, "invoke", name, "-p", '{"a": 1}')

    configuration = server.client().get_function_configuration(FunctionName=name)
    assert configuration["Handler"] == "index.handler"
    assert json.loads(result.stdout) == {"node": True, "event": {"a": 1}}


def test_invoke_prints_result(server, deployed):
    result = run_lambent(server, "invoke", deployed, "-p", '{"name": "lambent"}')

    assert json.loads(result.stdout) == {"greeting": "hello lambent", "stage": None}
    assert result.stderr == ""


def test_invoke_log_flag(server, deployed):
    result = run_lambent(server, "invoke", deployed, "-p", '{"name": "tail"}', "--log")

    assert json.loads(result.stdout) == {"greeting": "hello tail", "stage": None}
    lines = result.stderr.splitlines()
    assert re.fullmatch(rf"START RequestId: {UUID} Version: \$LATEST", lines[0]), lines
    assert "cli_app received {'name': 'tail'}" in lines
    assert any(line.startswith("END RequestId: ") for line in lines)
    assert any(line.startswith("REPORT RequestId: ") for line in lines)


def test_invoke_missing_function(server):
    name = unique_name("cli-missing")

    result = run_lambent(server, "invoke", name, check=False)

    assert result.returncode != 0
    assert result.stdout == ""
    assert "ResourceNotFoundException" in result.stderr
    assert f"function:{name}" in result.stderr


def test_invoke_async_runs(server, deployed):
    result = run_lambent(server, "invoke", deployed, "-p", '{"name": "async"}', "--async")

    match = re.fullmatch(rf"queued, request id ({UUID})", result.stdout.strip())
    assert match, result.stdout
    queued_id = match.group(1)
    logs = wait_for_logs(server, deployed, f"END RequestId: {queued_id}")
    assert f"START RequestId: {queued_id} Version: $LATEST" in logs
    assert "cli_app received {'name': 'async'}" in logs
    assert f"END RequestId: {queued_id}" in logs


def test_functions_lists_deployed(server, deployed):
    result = run_lambent(server, "functions")

    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "RUNTIME", "HANDLER", "MEMORY", "TIMEOUT"]
    rows = [line.split() for line in lines[1:]]
    assert [deployed, "python3.12", "app.handler", "128", "3"] in rows


def test_logs_show_invocations(server, deployed):
    first = run_lambent(server, "invoke", deployed, "-p", '{"name": "one"}', "--log")
    run_lambent(server, "invoke", deployed, "-p", '{"name": "two"}')
    first_id = re.search(rf"START RequestId: ({UUID})", first.stderr).group(1)

    logs = wait_for_logs(server, deployed, "cli_app received {'name': 'two'}")

    lines = logs.splitlines()
    starts = [line for line in lines if line.startswith("START RequestId: ")]
    reports = [line for line in lines if line.startswith("REPORT RequestId: ")]
    assert len(starts) == 2
    assert len(reports) == 2
    assert starts[0] == f"START RequestId: {first_id} Version: $LATEST"
    assert lines.index("cli_app received {'name': 'one'}") < \
        lines.index("cli_app received {'name': 'two'}")
    assert f"END RequestId: {first_id}" in lines
    assert "\tInit Duration: " in reports[0]
    assert "\tInit Duration: " not in reports[1]


def test_logs_follow_prints_new_lines(server, deployed):
    follower = subprocess.Popen(
        [str(BINARY), "logs", deployed, "--follow", "--endpoint", server.endpoint,
         "--data-dir", str(server.data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        run_lambent(server, "invoke", deployed, "-p", '{"name": "followed"}')
        # Raw reads on the pipe: a buffered reader could hold lines that select() won't report.
        selector = selectors.DefaultSelector()
        selector.register(follower.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        while b"REPORT RequestId" not in seen and time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                chunk = os.read(follower.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
        selector.close()
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        follower.stdout.close()

    lines = seen.decode().splitlines()
    assert "cli_app received {'name': 'followed'}" in lines
    assert [line for line in lines if line.startswith("REPORT RequestId: ")], lines


def test_delete_removes_function(server, deployed):
    lam = server.client()

    result = run_lambent(server, "delete", deployed)

    assert result.stdout.strip() == f"deleted {deployed}"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=deployed)
    listed = run_lambent(server, "functions").stdout.split()
    assert deployed not in listed


def invoke_named(server, name, greeting):
    """Invokes the cli_app function with --log and returns the invocation's request id."""
    result = run_lambent(server, "invoke", name, "-p", json.dumps({"name": greeting}), "--log")
    return re.search(rf"START RequestId: ({UUID})", result.stderr).group(1)


def test_logs_filter_option(server, deployed):
    invoke_named(server, deployed, "first")
    invoke_named(server, deployed, "second")

    result = run_lambent(server, "logs", deployed, "--filter", "received")

    assert result.stdout.splitlines() == ["cli_app received {'name': 'first'}",
                                          "cli_app received {'name': 'second'}"]


def test_logs_filter_exclusion_and_phrase(server, deployed):
    invoke_named(server, deployed, "kept")
    invoke_named(server, deployed, "dropped")

    excluded = run_lambent(server, "logs", deployed, "--filter", "-RequestId")
    phrase = run_lambent(server, "logs", deployed, "--filter", "\"'name': 'kept'\"")
    alternatives = run_lambent(server, "logs", deployed, "--filter", "?kept ?dropped")

    assert excluded.stdout.splitlines() == ["cli_app received {'name': 'kept'}",
                                            "cli_app received {'name': 'dropped'}"]
    assert phrase.stdout.splitlines() == ["cli_app received {'name': 'kept'}"]
    assert alternatives.stdout.splitlines() == excluded.stdout.splitlines()


def test_logs_request_id_option(server, deployed):
    first = invoke_named(server, deployed, "one")
    second = invoke_named(server, deployed, "two")

    result = run_lambent(server, "logs", deployed, "--request-id", first)
    filtered = run_lambent(server, "logs", deployed, "--request-id", second,
                           "--filter", "received")

    lines = result.stdout.splitlines()
    assert lines[0] == f"START RequestId: {first} Version: $LATEST"
    assert lines[1] == "cli_app received {'name': 'one'}"
    assert lines[2] == f"END RequestId: {first}"
    assert lines[3].startswith(f"REPORT RequestId: {first}\tDuration: ")
    assert len(lines) == 4
    assert filtered.stdout.splitlines() == ["cli_app received {'name': 'two'}"]


def test_logs_request_id_not_found(server, deployed):
    invoke_named(server, deployed, "present")
    missing = "00000000-0000-4000-8000-000000000000"

    result = run_lambent(server, "logs", deployed, "--request-id", missing, check=False)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"lambent: no log lines of request {missing} in the logs of " \
                            f"{deployed}\n"


def test_logs_since_option(server, deployed):
    invoke_named(server, deployed, "recent")
    two_hours_ago = int(time.time() * 1000) - 2 * 3600 * 1000
    old = server.data_dir / "logs" / deployed / "2020/01/01/[$LATEST]old.log"
    old.parent.mkdir(parents=True)
    old.write_text(f"{two_hours_ago}\tan old line\n")

    everything = run_lambent(server, "logs", deployed).stdout.splitlines()
    last_hour = run_lambent(server, "logs", deployed, "--since", "1h").stdout.splitlines()
    last_three = run_lambent(server, "logs", deployed, "--since", "180m").stdout.splitlines()
    in_seconds = run_lambent(server, "logs", deployed, "--since", "3600").stdout.splitlines()

    assert everything[0] == "an old line"
    assert "an old line" not in last_hour
    assert "cli_app received {'name': 'recent'}" in last_hour
    assert last_three == everything
    assert in_seconds == last_hour


def test_logs_invalid_options(server, deployed):
    since = run_lambent(server, "logs", deployed, "--since", "5x", check=False)
    pattern = run_lambent(server, "logs", deployed, "--filter", "{ $.level = 1 }", check=False)
    missing = run_lambent(server, "logs", unique_name("cli-nothing"), check=False)

    assert since.returncode == 2
    assert since.stderr == ("lambent: invalid --since '5x': expected a number of seconds or a "
                            "duration such as 30s, 10m, 2h, 1d or 1w\n")
    assert pattern.returncode == 2
    assert "Invalid filter pattern: JSON filter patterns" in pattern.stderr
    assert missing.returncode == 1
    assert missing.stderr == ("lambent: ResourceNotFoundException (HTTP 400): The specified log "
                              "group does not exist.\n")


def test_logs_follow_with_filter(server, deployed):
    follower = subprocess.Popen(
        [str(BINARY), "logs", deployed, "--follow", "--filter", "received",
         "--endpoint", server.endpoint, "--data-dir", str(server.data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen = b""
    try:
        run_lambent(server, "invoke", deployed, "-p", '{"name": "first follow"}')
        run_lambent(server, "invoke", deployed, "-p", '{"name": "second follow"}')
        selector = selectors.DefaultSelector()
        selector.register(follower.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 10
        while b"second follow" not in seen and time.monotonic() < deadline:
            if selector.select(timeout=0.5):
                chunk = os.read(follower.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
        selector.close()
    finally:
        follower.terminate()
        follower.wait(timeout=10)
        follower.stdout.close()

    assert seen.decode().splitlines() == ["cli_app received {'name': 'first follow'}",
                                          "cli_app received {'name': 'second follow'}"]
