"""Returns the name, version and invoked ARN of the function that ran.

The stage variable tests call this through one integration from several stages, and the
response shows which function, version or alias each stage resolved to.
"""

import json


def handler(event, context):
    return {"statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"name": context.function_name,
                                "version": context.function_version,
                                "invokedArn": context.invoked_function_arn})}
