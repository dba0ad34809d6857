"""Standard output, the Lambda log handler and error log records, as awslambdaric writes them.

Lambent reads an environment's logs from its stdout and stderr pipes, so everything here
writes to sys.stdout, and output is flushed before every post to the Runtime API.
"""

import os
import sys
import time

from .encoding import to_json

TEXT_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# awslambdaric writes one error record as lines joined by carriage returns, with each line's
# leading spaces replaced by no-break spaces, so a line-oriented log reader keeps it whole.
ERROR_LINE_SEPARATOR = "\r"
ERROR_INDENT = "\u00a0"

# LogRecord attributes that JSON records never copy as extra fields.
_JSON_LOG_RESERVED_FIELDS = frozenset(
    (
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process", "taskName",
        "aws_request_id", "tenant_id",
    )
)

# The request id and tenant id of the invocation in progress (of the last one, between
# invocations), which log records carry. The request id is "" during initialization.
_current_request_id = ""
_current_tenant_id = None


def set_current_invocation(request_id, tenant_id):
    global _current_request_id, _current_tenant_id
    _current_request_id = request_id or ""
    _current_tenant_id = tenant_id


def make_stdio_unbuffered():
    """Make sys.stdout and sys.stderr write through to their file descriptors.

    ``python3 -u`` already does this. Without it, output still in a pipe buffer would be lost
    when an environment is killed on timeout, and stdout and stderr lines would interleave
    out of order.
    """
    import io

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None or isinstance(getattr(stream, "buffer", None), io.FileIO):
            continue
        try:
            stream.flush()
            raw = io.FileIO(stream.fileno(), "w", closefd=False)
        except (AttributeError, OSError, ValueError):
            continue
        unbuffered = io.TextIOWrapper(
            raw, encoding=stream.encoding, errors=stream.errors, write_through=True
        )
        setattr(sys, name, unbuffered)


def write_stdout(text):
    """Write text to sys.stdout, escaping characters its encoding cannot represent."""
    stream = sys.stdout
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def flush_stdio():
    """Flush standard output and error, including the originals if user code replaced them.

    Flushing is best effort: a stream that user code closed or replaced with an object
    whose flush() fails is skipped.
    """
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def log_runtime_error(message):
    """Write an error of the runtime itself, not of user code, to standard error."""
    try:
        sys.stderr.write(f"lambent python runtime: {message}\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass


def uses_json_log_format():
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def install_log_handler(logging):
    """Send root logger records to stdout in the Lambda format, as awslambdaric does.

    ``logging`` is the logging module, passed in because it is imported only when user code
    imports it. Text records read ``[LEVEL]\\t<UTC time>.<ms>Z\\t<request id>\\t<message>``.
    AWS_LAMBDA_LOG_FORMAT=JSON switches to JSON records, and AWS_LAMBDA_LOG_LEVEL sets the
    root logger's level; without it the level stays Python's default, WARNING. Like
    awslambdaric, this makes every logging.Formatter show UTC times.
    """
    logging.Formatter.converter = time.gmtime

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                write_stdout(self.format(record))
            except Exception:
                self.handleError(record)

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _current_request_id
            record.tenant_id = _current_tenant_id
            return True

    handler = LambdaLoggerHandler()
    if uses_json_log_format():
        handler.setFormatter(_make_json_log_formatter(logging))
    else:
        handler.setFormatter(logging.Formatter(TEXT_LOG_FORMAT, LOG_DATE_FORMAT))
    handler.addFilter(LambdaLoggerFilter())

    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = {"TRACE": "DEBUG"}.get(level, level)
    # getLevelName() returns the number for a registered level name and a string otherwise.
    if level and isinstance(logging.getLevelName(level), int):
        root.setLevel(level)
    root.addHandler(handler)


def _make_json_log_formatter(logging):
    """Return a formatter for awslambdaric's JSON log records."""

    class JsonLogFormatter(logging.Formatter):
        def format(self, record):
            # Levels between the named ones round down to a named level.
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            timestamp = time.strftime(LOG_DATE_FORMAT, time.gmtime(record.created))
            fields = {
                "timestamp": timestamp + ".%03dZ" % record.msecs,
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "requestId": getattr(record, "aws_request_id", None),
            }
            exc_info = record.exc_info
            if exc_info:
                import traceback

                fields["stackTrace"] = traceback.format_tb(exc_info[2])
                fields["errorType"] = exc_info[0].__name__
                fields["errorMessage"] = str(exc_info[1])
                fields["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
            if getattr(record, "tenant_id", None) is not None:
                fields["tenantId"] = record.tenant_id
            for key, value in record.__dict__.items():
                if key not in _JSON_LOG_RESERVED_FIELDS and key not in fields:
                    fields[key] = value
            fields = {key: value for key, value in fields.items() if value is not None}
            return to_json(fields, ensure_ascii=False) + "\n"

    return JsonLogFormatter()


def log_error(error):
    """Write an error payload to stdout as one log record, as awslambdaric does.

    A failed write (user code closed or replaced sys.stdout) is reported on standard
    error instead, because the error is still posted to the Runtime API.
    """
    try:
        write_stdout(_format_error_record(error))
    except Exception as exc:
        log_runtime_error(f"writing the {error['errorType']} error to stdout failed: {exc!r}")


def _format_error_record(error):
    if uses_json_log_format():
        # awslambdaric stamps JSON error records to the second, without a zone suffix.
        record = {"timestamp": time.strftime(LOG_DATE_FORMAT, time.gmtime()), "level": "ERROR"}
        record.update(error)
        return to_json(record) + "\n"

    description = "[ERROR]"
    if error["errorType"]:
        description += " " + error["errorType"]
    if error["errorMessage"]:
        if error["errorType"]:
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description, "Traceback (most recent call last):"]
    for entry in error["stackTrace"]:
        if entry == "":
            lines.append("")
            continue
        for line in entry.splitlines():
            text = line.lstrip(" ")
            lines.append(ERROR_INDENT * (len(line) - len(text)) + text)
    return ERROR_LINE_SEPARATOR.join(lines) + "\n"
