"""JSON encoding of handler results and decoding of events, as awslambdaric does them."""

import json
import os
import sys

from .errors import MARSHAL_ERROR, UNMARSHAL_ERROR, FaultError


def default_ensure_ascii():
    """Return False for the runtimes where awslambdaric writes non-ASCII text unescaped.

    awslambdaric turns escaping off when AWS_EXECUTION_ENV is AWS_Lambda_python3.12 and
    leaves it on for earlier versions.
    """
    # NOTE: only python3.12 is confirmed from awslambdaric's source. Treating 3.13 and
    # later the same way is an assumption.
    prefix = "AWS_Lambda_python3."
    execution_env = os.environ.get("AWS_EXECUTION_ENV", "")
    if not execution_env.startswith(prefix):
        return True
    minor = execution_env[len(prefix):]
    return not (minor.isdigit() and int(minor) >= 12)


class LambdaJsonEncoder(json.JSONEncoder):
    """json.JSONEncoder that writes decimal.Decimal values as JSON numbers, as AWS does.

    A Decimal is written as its own text (``Decimal("1.10")`` becomes ``1.10``, with no float
    rounding) and a NaN Decimal as ``NaN``. The standard encoder cannot emit raw text, so
    each Decimal is first written as a string holding a per-encoding random marker, and the
    marker strings are replaced by the Decimal texts afterwards. An instance encodes one
    value.
    """

    # NOTE: awslambdaric encodes with simplejson, which writes a namedtuple as a JSON
    # object of its fields. The standard encoder used here writes it as an array.

    def __init__(self, ensure_ascii):
        super().__init__(ensure_ascii=ensure_ascii)
        self._marker = None
        self._raw_texts = []

    def default(self, value):
        # A Decimal exists only if the decimal module was imported, so the check costs
        # nothing for other values and decimal is never imported here.
        decimal_module = sys.modules.get("decimal")
        if decimal_module is not None and isinstance(value, decimal_module.Decimal):
            if value.is_nan():
                return float("nan")
            if self._marker is None:
                self._marker = "\x00" + os.urandom(8).hex() + ":"
            self._raw_texts.append(str(value))
            return f"{self._marker}{len(self._raw_texts) - 1}\x00"
        return super().default(value)

    def encode(self, value):
        text = super().encode(value)
        if not self._raw_texts:
            return text
        import re

        # JSON always escapes control characters, so "\x00" appears as the text \u0000.
        marker = self._marker.replace("\x00", "\\u0000")
        pattern = re.compile('"' + re.escape(marker) + r'(\d+)\\u0000"')
        return pattern.sub(lambda match: self._raw_texts[int(match.group(1))], text)


def to_json(value, ensure_ascii=None):
    """Return value as JSON text, escaping non-ASCII text as awslambdaric does by default."""
    if ensure_ascii is None:
        ensure_ascii = default_ensure_ascii()
    return LambdaJsonEncoder(ensure_ascii).encode(value)


def marshal_response(result):
    """Return (payload bytes, content type) for a handler's return value.

    bytes are sent as they are with type application/unknown, everything else as JSON.
    Raises FaultError(Runtime.MarshalError) for a value JSON cannot represent.
    """
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        text = to_json(result)
    except Exception as exc:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None
    return text.encode("utf-8", "replace"), "application/json"


def unmarshal_event(body, content_type):
    """Return the event passed to the handler.

    A body of type application/json, or of no stated type, is parsed as JSON; a body of any
    other type is passed as bytes. Raises FaultError(Runtime.UnmarshalError) for invalid
    JSON.
    """
    media_type = (content_type or "application/json").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as exc:
        raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None
