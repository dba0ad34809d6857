"""Error types and the error payloads that AWS Lambda reports for Python functions."""

import os

# awslambdaric's error types.
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

# runtimes/python, which contains bootstrap.py and this package. Leading traceback frames from
# files under it are left out of error stack traces, so users see only their own code.
RUNTIME_DIRECTORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class FaultError(Exception):
    """A failure reported with a runtime error type (``Runtime.*``) instead of a traceback.

    ``trace`` is the payload's stackTrace list, or None for an empty one.
    """

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


def make_error(message, error_type, stack_trace, request_id=None):
    """Return an error payload in the shape AWS Lambda reports to callers.

    ``request_id`` is None during initialization, which AWS reports as "".
    """
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace or [],
    }


def error_from_fault(fault, request_id=None):
    return make_error(fault.message, fault.error_type, fault.trace, request_id)


def error_from_exception(exc, request_id=None):
    """Return the error payload for an exception raised by user code.

    errorType is the class name without its module, errorMessage is str(exc), and
    stackTrace contains traceback.format_list() entries from the first frame outside the
    runtime on. As in awslambdaric, frames of importlib stay in for exceptions raised while
    a handler module is imported.
    """
    import traceback

    # Plain (file, line, function, text) tuples format without the ^^^ column markers
    # that Python 3.11 adds for FrameSummary objects, as in awslambdaric's output.
    frames = [
        (frame.filename, frame.lineno, frame.name, frame.line)
        for frame in traceback.extract_tb(exc.__traceback__)
    ]
    for index, frame in enumerate(frames):
        if not _is_runtime_file(frame[0]):
            frames = frames[index:]
            break
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def _is_runtime_file(filename):
    return os.path.abspath(filename).startswith(RUNTIME_DIRECTORY + os.sep)
