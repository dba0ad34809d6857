"""Returns what a Python handler sees: the event, its context, its environment and how often
this execution environment has run it."""

import os
import uuid

# Module state lives as long as the execution environment. The counter counts warm invokes, and
# the id distinguishes environments, because each one has PID 2 in its own PID namespace.
INSTANCE_ID = uuid.uuid4().hex
invocations = 0


def handler(event, context):
    global invocations
    invocations += 1
    marker = event.get("marker") if isinstance(event, dict) else None
    print(f"introspect handler ran, marker={marker}")

    client_context = None
    if context.client_context is not None:
        client_context = {"custom": context.client_context.custom,
                          "env": context.client_context.env}
    return {
        "event": event,
        "count": invocations,
        "instance_id": INSTANCE_ID,
        "environment": dict(os.environ),
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
            "client_context": client_context,
        },
    }
