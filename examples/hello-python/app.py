"""A greeting function: returns a message built from the event's "name"."""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)

invocations = 0


def handler(event, context):
    global invocations
    invocations += 1
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    logger.info("greeting %s", name)
    return {
        "message": f"Hello, {name}!",
        "request_id": context.aws_request_id,
        "warm_invocations": invocations,
    }
