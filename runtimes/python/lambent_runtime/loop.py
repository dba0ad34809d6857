"""Start-up, handler loading and the invocation loop."""

import importlib
import os
import signal
import sys

from .context import LambdaContext
from .encoding import marshal_response, to_json, unmarshal_event
from .errors import (
    BUILT_IN_MODULE_CONFLICT,
    HANDLER_NOT_FOUND,
    IMPORT_MODULE_ERROR,
    MALFORMED_HANDLER_NAME,
    USER_CODE_SYNTAX_ERROR,
    FaultError,
    error_from_exception,
    error_from_fault,
)
from .import_hooks import install_import_hooks
from .output import (
    flush_stdio,
    log_error,
    log_runtime_error,
    make_stdio_unbuffered,
    set_current_invocation,
)
from .runtime_api import RuntimeApiClient, RuntimeApiError

# The address the AWS runtime clients use when AWS_LAMBDA_RUNTIME_API is not set.
DEFAULT_RUNTIME_API_ADDRESS = "127.0.0.1:9001"

# Consecutive failed /next requests after which the runtime exits, as the AWS C++ runtime
# client does.
MAX_NEXT_FAILURES = 3


def load_handler(handler_name):
    """Import the handler's module and return the handler function.

    ``pkg/sub/mod.fn`` names function ``fn`` in module ``pkg.sub.mod``. Failures raise
    FaultError with awslambdaric's error types and messages. Any other exception raised
    while the module executes propagates unchanged.
    """
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
    except ValueError as exc:
        raise FaultError(MALFORMED_HANDLER_NAME, f"Bad handler '{handler_name}': {exc}") from None

    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {module_name} as a handler module",
        )

    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise FaultError(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise FaultError(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None

    try:
        return getattr(module, function_name)
    except AttributeError:
        raise FaultError(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


def handle_invocation(client, handler, invocation):
    """Run the handler for one event and post its result or error.

    Raises what the client raises when the post fails.
    """
    request_id = invocation.request_id
    error = None
    try:
        context = LambdaContext(invocation)
        event = unmarshal_event(invocation.body, invocation.content_type)
        result = handler(event, context)
        payload, content_type = marshal_response(result)
    except FaultError as fault:
        error = error_from_fault(fault, request_id)
    except Exception as exc:
        error = error_from_exception(exc, request_id)

    if error is not None:
        log_error(error)
        flush_stdio()
        payload = to_json(error).encode("utf-8", "replace")
        client.post_invocation_error(request_id, payload, error["errorType"])
    else:
        flush_stdio()
        client.post_invocation_response(request_id, payload, content_type)


def _report_init_error(client, error):
    """Log an initialization error, post it to /init/error and exit with status 1.

    Lambent treats an init error as final for the environment, so the runtime does not
    wait for events afterwards.
    """
    log_error(error)
    flush_stdio()
    try:
        payload = to_json(error).encode("utf-8", "replace")
        client.post_init_error(payload, error["errorType"])
    except (OSError, RuntimeApiError) as exc:
        log_runtime_error(f"posting the init error failed: {exc}")
    finally:
        client.close()
    sys.exit(1)


def _initialize(client):
    """Load the handler named by _HANDLER, or report the init error and exit."""
    try:
        return load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as fault:
        _report_init_error(client, error_from_fault(fault))
    except Exception as exc:
        _report_init_error(client, error_from_exception(exc))


def _exit_on_sigterm(signum, frame):
    # os._exit cannot be caught, so user code that catches SystemExit cannot keep the
    # environment alive. atexit handlers do not run, as when SIGTERM kills a process.
    flush_stdio()
    os._exit(0)


def _prepare_sys_path(task_root):
    """Put the task root first on sys.path, in place of the runtime's own directory."""
    runtime_directory = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if sys.path and os.path.realpath(sys.path[0] or ".") == runtime_directory:
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)


def _set_trace_id(trace_id):
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)


def main():
    """Run the runtime until the Runtime API fails, and return the exit status.

    Exits with status 1 after an init error and with status 0 on SIGTERM.
    """
    make_stdio_unbuffered()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    install_import_hooks()
    _prepare_sys_path(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())

    address = os.environ.get("AWS_LAMBDA_RUNTIME_API") or DEFAULT_RUNTIME_API_ADDRESS
    try:
        client = RuntimeApiClient(address)
    except ValueError as exc:
        log_runtime_error(str(exc))
        return 1

    handler = _initialize(client)

    failures = 0
    while True:
        try:
            invocation = client.next_invocation()
        except (OSError, RuntimeApiError) as exc:
            failures += 1
            log_runtime_error(f"getting the next invocation failed (attempt {failures}): {exc}")
            if failures >= MAX_NEXT_FAILURES:
                return 1
            continue
        failures = 0

        set_current_invocation(invocation.request_id, invocation.tenant_id)
        _set_trace_id(invocation.trace_id)
        try:
            handle_invocation(client, handler, invocation)
        except RuntimeApiError as exc:
            # A 4xx means Lambent rejected this result (an unknown request id, a payload
            # over the limit) and has returned an error to the invoker itself, so the next
            # event can still be served. A 5xx means the environment is broken.
            log_runtime_error(f"posting the result of {invocation.request_id} failed: {exc}")
            if exc.status is None or exc.status >= 500:
                return 1
        except OSError as exc:
            log_runtime_error(f"posting the result of {invocation.request_id} failed: {exc}")
            return 1
