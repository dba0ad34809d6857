"""Tests of runtimes/python/bootstrap.py as a real process against the mock Runtime API.

Each test writes handler files into a temporary task root, starts the bootstrap with
/usr/bin/python3 and the environment AWS Lambda sets, and asserts the exact payloads and
headers the mock receives. Every wait is bounded and every process is killed at teardown.
"""

import json
import os
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DIRECTORY = REPOSITORY_ROOT / "runtimes" / "python"
BOOTSTRAP = RUNTIME_DIRECTORY / "bootstrap.py"
PYTHON = "/usr/bin/python3"

FUNCTION_NAME = "test-function"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION_NAME}"
LOG_GROUP_NAME = f"/aws/lambda/{FUNCTION_NAME}"
LOG_STREAM_NAME = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"

# Upper bound for any single wait on the runtime process or the mock.
WAIT_SECONDS = 20

LOG_TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

pytestmark = pytest.mark.skipif(not os.path.exists(PYTHON), reason=f"{PYTHON} is missing")


class RuntimeProcess:
    """A bootstrap process started by a test, with its stdout and stderr on pipes."""

    def __init__(self, process):
        self.process = process

    def wait_for_exit(self, timeout=WAIT_SECONDS):
        return self.process.wait(timeout=timeout)

    def is_running(self):
        return self.process.poll() is None

    def read_available_stdout(self):
        """Return the stdout bytes already in the pipe, without waiting for more."""
        descriptor = self.process.stdout.fileno()
        os.set_blocking(descriptor, False)
        chunks = []
        while True:
            try:
                chunk = os.read(descriptor, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.set_blocking(descriptor, True)
        return b"".join(chunks)

    def finish(self):
        """Kill the process if it still runs and return its (stdout, stderr) as text."""
        if self.process.poll() is None:
            self.process.kill()
        stdout, stderr = self.process.communicate(timeout=WAIT_SECONDS)
        return stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


@pytest.fixture
def task_root(tmp_path):
    root = tmp_path / "task"
    root.mkdir()
    return root


@pytest.fixture
def start_runtime(runtime_api, task_root, tmp_path):
    """Return a function that writes handler files and starts the bootstrap."""
    started = []
    home = tmp_path / "home"
    home.mkdir()
    runtime_library = tmp_path / "runtime-lib"
    runtime_library.mkdir()

    def start(handler, files=None, env=None, unbuffered=True):
        for relative_path, source in (files or {}).items():
            path = task_root / relative_path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source).lstrip("\n"))
        environment = {
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(task_root),
            "AWS_LAMBDA_RUNTIME_API": runtime_api.address,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_LOG_GROUP_NAME": LOG_GROUP_NAME,
            "AWS_LAMBDA_LOG_STREAM_NAME": LOG_STREAM_NAME,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "AWS_SESSION_TOKEN": "session-token",
            "AWS_ENDPOINT_URL": f"http://{runtime_api.address}",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LD_LIBRARY_PATH": "/lib:/usr/lib",
            "PYTHONPATH": str(runtime_library),
            # Isolates botocore from any AWS configuration of the machine running the tests.
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "missing-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "missing-credentials"),
        }
        environment.update(env or {})
        environment = {name: value for name, value in environment.items() if value is not None}
        command = [PYTHON, "-u", str(BOOTSTRAP)] if unbuffered else [PYTHON, str(BOOTSTRAP)]
        process = subprocess.Popen(
            command,
            cwd=task_root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        runtime = RuntimeProcess(process)
        started.append(runtime)
        return runtime

    yield start

    for runtime in started:
        runtime.finish()


def expected_error(message, error_type, request_id, stack_trace=()):
    """Return the exact error body AWS's Python runtime posts, as bytes."""
    payload = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": list(stack_trace),
    }
    return json.dumps(payload).encode("utf-8")


def invoke(runtime_api, event, **enqueue_options):
    """Queue one event and return the runtime's /response or /error request for it."""
    request_id = runtime_api.enqueue(event, **enqueue_options)
    return runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)


def assert_init_error(runtime_api, runtime, expected_body, error_type):
    init_error = runtime_api.wait_for_init_error(WAIT_SECONDS)
    assert init_error.body == expected_body
    assert init_error.header("Lambda-Runtime-Function-Error-Type") == error_type
    assert init_error.header("Content-Type") == "application/json"
    assert runtime.wait_for_exit() == 1
    assert runtime_api.requests_of_kind("next") == []
    return init_error


# --- Responses -----------------------------------------------------------------------------


def test_success_posts_json_result(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                def handler(event, context):
                    return {"ok": True, "event": event}
            """
        },
    )
    outcome = invoke(runtime_api, {"a": 1, "nested": [1, 2.5, None]})

    assert outcome.kind == "response"
    assert outcome.method == "POST"
    assert outcome.body == b'{"ok": true, "event": {"a": 1, "nested": [1, 2.5, null]}}'
    assert outcome.header("Content-Type") == "application/json"
    assert outcome.header("Lambda-Runtime-Function-Error-Type") is None


def test_none_result_posts_null(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    pass\n"})
    outcome = invoke(runtime_api, {})

    assert outcome.kind == "response"
    assert outcome.body == b"null"


def test_bytes_result_sent_unencoded(runtime_api, start_runtime):
    start_runtime(
        "app.handler", {"app.py": "def handler(event, context):\n    return b'\\x00raw'\n"}
    )
    outcome = invoke(runtime_api, {})

    assert outcome.kind == "response"
    assert outcome.body == b"\x00raw"
    assert outcome.header("Content-Type") == "application/unknown"


def test_decimal_result_keeps_digits(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                from decimal import Decimal

                def handler(event, context):
                    return {
                        "price": Decimal("1.10"),
                        "big": Decimal("12345678901234567890.123456789"),
                        "nan": Decimal("NaN"),
                        "list": [Decimal("1E+2"), Decimal("-0")],
                        "text": "\\u0000 not a marker",
                    }
            """
        },
    )
    outcome = invoke(runtime_api, {})

    assert outcome.kind == "response"
    assert outcome.body == (
        b'{"price": 1.10, "big": 12345678901234567890.123456789, "nan": NaN, '
        b'"list": [1E+2, -0], "text": "\\u0000 not a marker"}'
    )


def test_non_ascii_escaped_before_python312(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 'caf\\u00e9'\n"})
    outcome = invoke(runtime_api, {})

    assert outcome.body == b'"caf\\u00e9"'


def test_non_ascii_raw_on_python312(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {"app.py": "def handler(event, context):\n    return 'caf\\u00e9'\n"},
        env={"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"},
    )
    outcome = invoke(runtime_api, {})

    assert outcome.body == '"caf\u00e9"'.encode("utf-8")


def test_unserializable_result_is_marshal_error(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return {'s': {1}}\n"})
    request_id = runtime_api.enqueue({})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)

    assert outcome.kind == "error"
    assert outcome.body == expected_error(
        "Unable to marshal response: Object of type set is not JSON serializable",
        "Runtime.MarshalError",
        request_id,
    )
    assert outcome.header("Lambda-Runtime-Function-Error-Type") == "Runtime.MarshalError"


def test_async_handler_is_marshal_error(runtime_api, start_runtime):
    start_runtime(
        "app.handler", {"app.py": "async def handler(event, context):\n    return 1\n"}
    )
    request_id = runtime_api.enqueue({})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)

    assert outcome.kind == "error"
    assert outcome.body == expected_error(
        "Unable to marshal response: Object of type coroutine is not JSON serializable",
        "Runtime.MarshalError",
        request_id,
    )


def test_invalid_event_json_is_unmarshal_error(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return event\n"})
    request_id = runtime_api.enqueue(b"{not json")
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)

    assert outcome.kind == "error"
    assert outcome.body == expected_error(
        "Unable to unmarshal input: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "Runtime.UnmarshalError",
        request_id,
    )


# --- Handler errors ------------------------------------------------------------------------


def test_handler_exception_payload_and_log(runtime_api, start_runtime, task_root):
    runtime = start_runtime(
        "lambda_handler_error.handler",
        {
            "lambda_handler_error.py": """
                def handler(event, context):
                    raise Exception("Handler fails")
            """
        },
    )
    request_id = runtime_api.enqueue({})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    source = task_root / "lambda_handler_error.py"

    assert outcome.kind == "error"
    assert outcome.body == expected_error(
        "Handler fails",
        "Exception",
        request_id,
        [f'  File "{source}", line 2, in handler\n    raise Exception("Handler fails")\n'],
    )
    assert outcome.header("Lambda-Runtime-Function-Error-Type") == "Exception"
    assert outcome.header("Content-Type") == "application/json"

    stdout, _ = runtime.finish()
    assert (
        "[ERROR] Exception: Handler fails\r"
        "Traceback (most recent call last):\r"
        f'\u00a0\u00a0File "{source}", line 2, in handler\r'
        '\u00a0\u00a0\u00a0\u00a0raise Exception("Handler fails")\n'
    ) in stdout


def test_user_exception_class_and_nested_frames(runtime_api, start_runtime, task_root):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                class OrderError(Exception):
                    pass

                def check(order):
                    raise OrderError(f"order {order} is invalid")

                def handler(event, context):
                    check(event["order"])
            """
        },
    )
    request_id = runtime_api.enqueue({"order": 7})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    source = task_root / "app.py"

    assert outcome.body == expected_error(
        "order 7 is invalid",
        "OrderError",
        request_id,
        [
            f'  File "{source}", line 8, in handler\n    check(event["order"])\n',
            f'  File "{source}", line 5, in check\n'
            '    raise OrderError(f"order {order} is invalid")\n',
        ],
    )
    assert outcome.header("Lambda-Runtime-Function-Error-Type") == "OrderError"


def test_runtime_keeps_serving_after_error(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                def handler(event, context):
                    if event.get("fail"):
                        raise KeyError("missing")
                    return "fine"
            """
        },
    )
    failed = invoke(runtime_api, {"fail": True})
    succeeded = invoke(runtime_api, {})

    assert failed.kind == "error"
    assert json.loads(failed.body)["errorMessage"] == "'missing'"
    assert succeeded.kind == "response"
    assert succeeded.body == b'"fine"'


def test_error_type_header_is_ascii(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                class Fehler\u00df(Exception):
                    pass

                def handler(event, context):
                    raise Fehler\u00df("kaputt")
            """
        },
    )
    outcome = invoke(runtime_api, {})

    assert json.loads(outcome.body)["errorType"] == "Fehler\u00df"
    assert outcome.header("Lambda-Runtime-Function-Error-Type") == "Fehler\\xdf"


def test_closed_stdout_still_posts_error(runtime_api, start_runtime):
    runtime = start_runtime(
        "app.handler",
        {
            "app.py": """
                import sys

                def handler(event, context):
                    sys.stdout.close()
                    raise ValueError("after closing stdout")
            """
        },
    )
    failed = invoke(runtime_api, {})
    runtime_api.wait_for_next_count(2, WAIT_SECONDS)

    assert failed.kind == "error"
    assert json.loads(failed.body)["errorMessage"] == "after closing stdout"
    assert runtime.is_running()
    _, stderr = runtime.finish()
    assert "writing the ValueError error to stdout failed" in stderr


def test_sys_exit_in_handler_ends_process(runtime_api, start_runtime):
    runtime = start_runtime(
        "app.handler", {"app.py": "import sys\ndef handler(event, context):\n    sys.exit(3)\n"}
    )
    runtime_api.enqueue({})

    assert runtime.wait_for_exit() == 3
    assert runtime_api.requests_of_kind("response") == []
    assert runtime_api.requests_of_kind("error") == []


# --- Init errors ---------------------------------------------------------------------------


def test_missing_module_is_init_error(runtime_api, start_runtime):
    runtime = start_runtime("missing_module.handler")

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Unable to import module 'missing_module': No module named 'missing_module'",
            "Runtime.ImportModuleError",
            "",
        ),
        "Runtime.ImportModuleError",
    )
    stdout, _ = runtime.finish()
    assert stdout.endswith(
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'missing_module': "
        "No module named 'missing_module'\rTraceback (most recent call last):\n"
    )


def test_missing_dependency_is_import_error(runtime_api, start_runtime):
    runtime = start_runtime("app.handler", {"app.py": "import not_installed_package\n"})

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Unable to import module 'app': No module named 'not_installed_package'",
            "Runtime.ImportModuleError",
            "",
        ),
        "Runtime.ImportModuleError",
    )


def test_missing_function_is_init_error(runtime_api, start_runtime):
    runtime = start_runtime("app.missing", {"app.py": "def handler(event, context):\n    pass\n"})

    assert_init_error(
        runtime_api,
        runtime,
        expected_error("Handler 'missing' missing on module 'app'", "Runtime.HandlerNotFound", ""),
        "Runtime.HandlerNotFound",
    )


def test_syntax_error_is_init_error(runtime_api, start_runtime, task_root):
    runtime = start_runtime(
        "app.handler", {"app.py": "def handler(event, context)\n    return 1\n"}
    )
    source = task_root / "app.py"

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Syntax error in module 'app': expected ':' (app.py, line 1)",
            "Runtime.UserCodeSyntaxError",
            "",
            [f'  File "{source}" Line 1\n    def handler(event, context)\n'],
        ),
        "Runtime.UserCodeSyntaxError",
    )


def test_malformed_handler_is_init_error(runtime_api, start_runtime):
    runtime = start_runtime("handler_without_dot")

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Bad handler 'handler_without_dot': not enough values to unpack (expected 2, got 1)",
            "Runtime.MalformedHandlerName",
            "",
        ),
        "Runtime.MalformedHandlerName",
    )


def test_builtin_module_handler_is_init_error(runtime_api, start_runtime):
    runtime = start_runtime("sys.handler")

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Cannot use built-in module sys as a handler module",
            "Runtime.BuiltInModuleConflict",
            "",
        ),
        "Runtime.BuiltInModuleConflict",
    )


def test_module_level_exception_is_init_error(runtime_api, start_runtime, task_root):
    runtime = start_runtime(
        "app.handler",
        {
            "app.py": """
                def handler(event, context):
                    pass
                raise RuntimeError("init failed")
            """
        },
    )
    init_error = runtime_api.wait_for_init_error(WAIT_SECONDS)
    payload = init_error.json()
    source = task_root / "app.py"

    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorMessage"] == "init failed"
    assert payload["errorType"] == "RuntimeError"
    assert payload["requestId"] == ""
    assert init_error.header("Lambda-Runtime-Function-Error-Type") == "RuntimeError"
    # As in awslambdaric, the trace starts in importlib and ends at the user's line.
    assert "importlib" in payload["stackTrace"][0]
    assert payload["stackTrace"][-1] == (
        f'  File "{source}", line 3, in <module>\n    raise RuntimeError("init failed")\n'
    )
    assert not [entry for entry in payload["stackTrace"] if str(RUNTIME_DIRECTORY) in entry]
    assert runtime.wait_for_exit() == 1
    assert runtime_api.requests_of_kind("next") == []


# --- Handler resolution and state ------------------------------------------------------------


def test_subfolder_handler_imports_package_module(runtime_api, start_runtime):
    start_runtime(
        "pkg/sub/mod.fn",
        {
            "pkg/sub/mod.py": """
                def fn(event, context):
                    return __name__
            """
        },
    )
    outcome = invoke(runtime_api, {})

    assert outcome.body == b'"pkg.sub.mod"'


def test_subfolder_missing_module_message(runtime_api, start_runtime):
    runtime = start_runtime("pkg/missing.fn", {"pkg/present.py": "x = 1\n"})

    assert_init_error(
        runtime_api,
        runtime,
        expected_error(
            "Unable to import module 'pkg/missing': No module named 'pkg.missing'",
            "Runtime.ImportModuleError",
            "",
        ),
        "Runtime.ImportModuleError",
    )


def test_module_state_persists_across_invocations(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                import os
                calls = 0

                def handler(event, context):
                    global calls
                    calls += 1
                    return [calls, os.getpid()]
            """
        },
    )
    first = json.loads(invoke(runtime_api, {}).body)
    second = json.loads(invoke(runtime_api, {}).body)

    assert first[0] == 1
    assert second[0] == 2
    assert first[1] == second[1]


def test_task_root_first_on_sys_path(runtime_api, start_runtime, task_root):
    start_runtime(
        "app.handler",
        {"app.py": "import sys\ndef handler(event, context):\n    return sys.path\n"},
    )
    path = json.loads(invoke(runtime_api, {}).body)

    assert path[0] == str(task_root)
    assert str(RUNTIME_DIRECTORY) not in path


def test_startup_imports_stay_minimal(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                import sys
                LOADED_AT_IMPORT = sorted(sys.modules)

                def handler(event, context):
                    return LOADED_AT_IMPORT
            """
        },
    )
    loaded = set(json.loads(invoke(runtime_api, {}).body))

    for heavy in ("logging", "http.client", "email", "ssl", "traceback", "decimal", "socket"):
        assert heavy not in loaded
    assert "botocore" not in loaded
    assert "json" in loaded


# --- Context -------------------------------------------------------------------------------


CONTEXT_HANDLER = """
    import time

    def handler(event, context):
        first = context.get_remaining_time_in_millis()
        time.sleep(event.get("sleep", 0))
        second = context.get_remaining_time_in_millis()
        return {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "identity": [
                context.identity.cognito_identity_id,
                context.identity.cognito_identity_pool_id,
            ],
            "client_context": None if context.client_context is None else {
                "custom": context.client_context.custom,
                "env": context.client_context.env,
                "app_title": context.client_context.client.app_title,
                "installation_id": context.client_context.client.installation_id,
            },
            "remaining": [first, second],
        }
"""


def test_context_fields(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": CONTEXT_HANDLER})
    enqueued_at = time.monotonic()
    request_id = runtime_api.enqueue(
        {"sleep": 0.2},
        deadline_in_ms=10_000,
        headers={"Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN + ":live"},
    )
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    finished_at = time.monotonic()
    context = json.loads(outcome.body)

    assert context["aws_request_id"] == request_id
    assert context["function_name"] == FUNCTION_NAME
    assert context["function_version"] == "$LATEST"
    # awslambdaric passes the environment variable through as a string.
    assert context["memory_limit_in_mb"] == "256"
    assert context["invoked_function_arn"] == FUNCTION_ARN + ":live"
    assert context["log_group_name"] == LOG_GROUP_NAME
    assert context["log_stream_name"] == LOG_STREAM_NAME
    assert context["identity"] == [None, None]
    assert context["client_context"] is None

    first, second = context["remaining"]
    assert first <= 10_000
    assert first >= 10_000 - (finished_at - enqueued_at) * 1000 - 50
    assert second <= first - 200
    assert second >= first - 200 - (finished_at - enqueued_at) * 1000


def test_remaining_time_stops_at_zero(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": CONTEXT_HANDLER})
    outcome = invoke(runtime_api, {"sleep": 0.3}, deadline_in_ms=100)

    assert json.loads(outcome.body)["remaining"][1] == 0


def test_missing_deadline_means_maximum_timeout(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": CONTEXT_HANDLER})
    outcome = invoke(runtime_api, {}, headers={"Lambda-Runtime-Deadline-Ms": None})
    first, second = json.loads(outcome.body)["remaining"]

    assert 890_000 < first <= 900_000
    assert second <= first


def test_client_context_and_cognito_identity(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": CONTEXT_HANDLER})
    client_context = {
        "client": {"installation_id": "install-1", "app_title": "Shop"},
        "custom": {"tenant": "blue"},
        "env": {"platform": "Android"},
    }
    identity = {"cognitoIdentityId": "us-east-1:abc", "cognitoIdentityPoolId": "us-east-1:pool"}
    outcome = invoke(
        runtime_api,
        {},
        headers={
            "Lambda-Runtime-Client-Context": json.dumps(client_context),
            "Lambda-Runtime-Cognito-Identity": json.dumps(identity),
        },
    )
    context = json.loads(outcome.body)

    assert context["client_context"] == {
        "custom": {"tenant": "blue"},
        "env": {"platform": "Android"},
        "app_title": "Shop",
        "installation_id": "install-1",
    }
    assert context["identity"] == ["us-east-1:abc", "us-east-1:pool"]


def test_invalid_client_context_is_error(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": CONTEXT_HANDLER})
    request_id = runtime_api.enqueue({}, headers={"Lambda-Runtime-Client-Context": "{oops"})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)

    assert outcome.body == expected_error(
        "Unable to parse Client Context JSON: Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)",
        "Runtime.LambdaContextUnmarshalError",
        request_id,
    )


def test_trace_id_sets_environment_variable(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {"app.py": "import os\ndef handler(event, context):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n"},
    )
    trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    traced = invoke(runtime_api, {}, headers={"Lambda-Runtime-Trace-Id": trace_id})
    untraced = invoke(runtime_api, {})

    assert traced.body == json.dumps(trace_id).encode()
    assert untraced.body == b"null"


# --- Logging and output ----------------------------------------------------------------------


def test_logging_line_format(runtime_api, start_runtime):
    runtime = start_runtime(
        "app.handler",
        {
            "app.py": """
                import logging
                import logging.handlers
                logging.getLogger().warning("loaded")

                def handler(event, context):
                    logger = logging.getLogger()
                    logger.info("hidden at the default level")
                    logger.setLevel(logging.INFO)
                    logger.info("x")
                    print("plain print")
                    return type(logging.__loader__).__name__
            """
        },
    )
    request_id = runtime_api.enqueue({})
    outcome = runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    stdout, _ = runtime.finish()

    # The import hook puts logging's own loader back once the module has loaded.
    assert outcome.body == b'"SourceFileLoader"'

    assert re.search(rf"^\[WARNING\]\t{LOG_TIMESTAMP}\t\tloaded\n", stdout, re.M)
    assert re.search(rf"^\[INFO\]\t{LOG_TIMESTAMP}\t{request_id}\tx\n", stdout, re.M)
    assert "hidden at the default level" not in stdout
    assert "\nplain print\n" in stdout


def test_json_log_format(runtime_api, start_runtime):
    runtime = start_runtime(
        "app.handler",
        {
            "app.py": """
                import logging

                def handler(event, context):
                    logging.getLogger("app").info("hello %s", "json", extra={"order": 7})
                    logging.getLogger("app").debug("below the level")
                    raise ValueError("bad")
            """
        },
        env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"},
    )
    request_id = runtime_api.enqueue({})
    runtime_api.wait_for_outcome(request_id, WAIT_SECONDS)
    stdout, _ = runtime.finish()
    records = [json.loads(line) for line in stdout.splitlines()]

    assert len(records) == 2
    info, error = records
    assert re.fullmatch(LOG_TIMESTAMP, info.pop("timestamp"))
    assert info == {
        "level": "INFO",
        "message": "hello json",
        "logger": "app",
        "requestId": request_id,
        "order": 7,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", error.pop("timestamp"))
    assert error["level"] == "ERROR"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad"
    assert error["requestId"] == request_id


@pytest.mark.parametrize("unbuffered", [True, False], ids=["python-u", "buffered"])
def test_output_flushed_before_result(runtime_api, start_runtime, unbuffered):
    runtime = start_runtime(
        "app.handler",
        {
            "app.py": """
                import sys

                def handler(event, context):
                    print("printed without newline", end="")
                    # A block-buffered stream of the handler's own, flushed only by the runtime.
                    sys.stdout = open(1, "w", closefd=False)
                    print("buffered by the handler")
                    return "done"
            """
        },
        unbuffered=unbuffered,
    )
    outcome = invoke(runtime_api, {})
    assert outcome.kind == "response"

    # The runtime flushes before it posts, so the output is in the pipe already.
    available = runtime.read_available_stdout()
    assert b"printed without newline" in available
    assert b"buffered by the handler\n" in available


# --- Runtime API connection ----------------------------------------------------------------


def test_requests_share_keep_alive_connection(runtime_api, start_runtime):
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 1\n"})
    invoke(runtime_api, {})
    invoke(runtime_api, {})
    runtime_api.wait_for_next_count(3, WAIT_SECONDS)

    assert len({request.client_port for request in runtime_api.requests}) == 1


def test_reconnects_after_dropped_connection(runtime_api, start_runtime):
    runtime_api.drop_connection_after_next = True
    start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return event\n"})
    first_id = runtime_api.enqueue({"n": 1})
    second_id = runtime_api.enqueue({"n": 2})
    first = runtime_api.wait_for_outcome(first_id, WAIT_SECONDS)
    second = runtime_api.wait_for_outcome(second_id, WAIT_SECONDS)

    assert first.body == b'{"n": 1}'
    assert second.body == b'{"n": 2}'
    posts = [request for request in runtime_api.requests if request.method == "POST"]
    assert [post.request_id for post in posts] == [first_id, second_id]
    assert len({request.client_port for request in runtime_api.requests}) >= 3


def test_client_error_on_post_keeps_serving(runtime_api, start_runtime):
    runtime_api.post_status = 413
    runtime = start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 1\n"})
    invoke(runtime_api, {})
    invoke(runtime_api, {})
    runtime_api.wait_for_next_count(3, WAIT_SECONDS)

    assert runtime.is_running()
    _, stderr = runtime.finish()
    assert "returned HTTP 413" in stderr


def test_server_error_on_post_exits(runtime_api, start_runtime):
    runtime_api.post_status = 500
    runtime = start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 1\n"})
    invoke(runtime_api, {})

    assert runtime.wait_for_exit() == 1


def test_exits_when_runtime_api_stops(runtime_api, start_runtime):
    runtime = start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 1\n"})
    runtime_api.wait_for_next_count(1, WAIT_SECONDS)
    runtime_api.stop()

    assert runtime.wait_for_exit() == 1
    _, stderr = runtime.finish()
    assert "getting the next invocation failed (attempt 3)" in stderr


def test_sigterm_exits_zero(runtime_api, start_runtime):
    runtime = start_runtime("app.handler", {"app.py": "def handler(event, context):\n    return 1\n"})
    runtime_api.wait_for_next_count(1, WAIT_SECONDS)
    runtime.process.send_signal(signal.SIGTERM)

    assert runtime.wait_for_exit() == 0


# --- botocore endpoint ---------------------------------------------------------------------


def test_boto3_client_uses_aws_endpoint_url(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                import boto3
                import botocore

                def handler(event, context):
                    session = boto3.session.Session()
                    return {
                        "botocore": botocore.__file__,
                        "default": boto3.client("lambda").meta.endpoint_url,
                        "explicit": boto3.client(
                            "lambda", endpoint_url="http://127.0.0.1:9"
                        ).meta.endpoint_url,
                        "positional": session._session.create_client(
                            "sqs", "us-east-1", None, True, None, None
                        ).meta.endpoint_url,
                    }
            """
        },
    )
    outcome = invoke(runtime_api, {})
    if outcome.kind == "error" and "No module named 'boto3'" in outcome.body.decode():
        pytest.skip(f"boto3 is not installed for {PYTHON}")
    result = json.loads(outcome.body)

    assert result["default"] == f"http://{runtime_api.address}"
    assert result["explicit"] == "http://127.0.0.1:9"
    assert result["positional"] == f"http://{runtime_api.address}"


def test_boto3_client_ignores_endpoint_when_asked(runtime_api, start_runtime):
    start_runtime(
        "app.handler",
        {
            "app.py": """
                import boto3

                def handler(event, context):
                    return boto3.client("lambda").meta.endpoint_url
            """
        },
        env={"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
    )
    outcome = invoke(runtime_api, {})
    if outcome.kind == "error" and "No module named 'boto3'" in outcome.body.decode():
        pytest.skip(f"boto3 is not installed for {PYTHON}")

    assert outcome.body == b'"https://lambda.us-east-1.amazonaws.com"'


FAKE_BOTOCORE_SESSION = """
    from botocore import configprovider

    class Session:
        def create_client(self, service_name, region_name=None, api_version=None,
                          use_ssl=True, verify=None, endpoint_url=None,
                          aws_access_key_id=None, aws_secret_access_key=None,
                          aws_session_token=None, config=None):
            return endpoint_url
"""

FAKE_BOTOCORE_HANDLER = """
    import botocore.session

    def handler(event, context):
        session = botocore.session.Session()
        return [
            session.create_client("s3"),
            session.create_client("s3", endpoint_url="http://explicit"),
            session.create_client("s3", None, None, True, None, None),
        ]
"""


@pytest.mark.parametrize(
    "configprovider_source, expected",
    [
        ("", ["ENDPOINT", "http://explicit", "ENDPOINT"]),
        ("class ConfiguredEndpointProvider:\n    pass\n", [None, "http://explicit", None]),
    ],
    ids=["botocore-before-1.31", "botocore-1.31-or-later"],
)
def test_botocore_hook_by_version(runtime_api, start_runtime, configprovider_source, expected):
    start_runtime(
        "app.handler",
        {
            "app.py": FAKE_BOTOCORE_HANDLER,
            "botocore/__init__.py": "",
            "botocore/configprovider.py": configprovider_source,
            "botocore/session.py": FAKE_BOTOCORE_SESSION,
        },
    )
    outcome = invoke(runtime_api, {})
    endpoint = f"http://{runtime_api.address}"

    assert json.loads(outcome.body) == [
        endpoint if value == "ENDPOINT" else value for value in expected
    ]
