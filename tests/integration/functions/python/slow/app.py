"""Sleeps for event["seconds"] and returns an id created when this environment imported it."""

import time
import uuid

INSTANCE_ID = uuid.uuid4().hex


def handler(event, context):
    time.sleep(event.get("seconds", 0))
    return {"instance_id": INSTANCE_ID}
