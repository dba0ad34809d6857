"""Returns the event it received, or the kind of value the `return` query parameter names.

The API Gateway tests call this through HTTP and REST APIs: with no `return` parameter the
response body is the event as JSON, so a test can compare it field for field.
"""

import base64
import json
import os
import time


def _query(event):
    return event.get("queryStringParameters") or {}


def handler(event, context):
    kind = _query(event).get("return")
    if kind is None:
        # The trace header shows which X-Ray trace the runtime gave this invocation.
        return {"statusCode": 200,
                "headers": {"content-type": "application/json",
                            "x-lambda-trace": os.environ.get("_X_AMZN_TRACE_ID", "")},
                "body": json.dumps(event)}
    if kind == "full":
        return {"statusCode": 201,
                "headers": {"content-type": "text/plain", "x-single": "one"},
                "multiValueHeaders": {"x-multi": ["a", "b"]},
                "cookies": ["c1=v1", "c2=v2; Path=/"],
                "body": "created"}
    if kind == "full1":
        # Payload 1.0 has no cookies field; API Gateway rejects unknown keys there.
        return {"statusCode": 201,
                "headers": {"content-type": "text/plain", "x-single": "one"},
                "multiValueHeaders": {"x-multi": ["a", "b"]},
                "body": "created"}
    if kind == "binary":
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(bytes(range(256))).decode()}
    if kind == "dict":
        return {"hello": "world"}
    if kind == "string":
        return "plain text"
    if kind == "malformed":
        return {"statusCode": "not-a-number", "body": 5}
    if kind == "raise":
        raise RuntimeError("handler failed on purpose")
    if kind == "sleep":
        time.sleep(float(_query(event).get("seconds", "3")))
        return {"statusCode": 200, "body": "late"}
    return {"statusCode": 400, "body": "unknown return kind " + kind}
