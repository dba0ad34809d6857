"""A handler deployed with the lambent CLI."""

import os


def handler(event, context):
    print("cli_app received", event)
    return {"greeting": "hello " + event.get("name", "world"), "stage": os.environ.get("STAGE")}
