"""The context object passed to handlers, with awslambdaric's classes and attributes."""

import json
import os
import time

from .errors import LAMBDA_CONTEXT_UNMARSHAL_ERROR, FaultError
from .output import write_stdout


class CognitoIdentity:
    """The Amazon Cognito identity that invoked the function, through the AWS Mobile SDK."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __repr__(self):
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """The client application that invoked the function, through the AWS Mobile SDK."""

    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __repr__(self):
        fields = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    """The client context an invoker passed (the Invoke ClientContext parameter)."""

    __slots__ = ("custom", "env", "client")

    def __repr__(self):
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


def _object_from_dict(cls, values):
    """Return an instance of cls with each slot set from values, or None for None."""
    if values is None:
        return None
    instance = cls()
    for name in cls.__slots__:
        setattr(instance, name, values.get(name))
    return instance


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as exc:
        raise FaultError(
            LAMBDA_CONTEXT_UNMARSHAL_ERROR, f"Unable to parse {name} JSON: {exc}"
        ) from None


class LambdaContext:
    """The context object passed to a handler.

    ``memory_limit_in_mb`` is the AWS_LAMBDA_FUNCTION_MEMORY_SIZE string, as in awslambdaric.
    ``identity`` is always a CognitoIdentity, whose fields are None unless the invocation
    carried one. ``client_context`` is None unless the invoker passed one. Raises
    FaultError(Runtime.LambdaContextUnmarshalError) when either header is invalid JSON.
    """

    def __init__(self, invocation):
        environ = os.environ
        self.aws_request_id = invocation.request_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invocation.invoked_function_arn
        self.tenant_id = invocation.tenant_id

        client_context = None
        if invocation.client_context:
            client_context = _parse_json_header(invocation.client_context, "Client Context")
        cognito_identity = None
        if invocation.cognito_identity:
            cognito_identity = _parse_json_header(invocation.cognito_identity, "Cognito Identity")

        self.client_context = _object_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _object_from_dict(Client, self.client_context.client)

        self.identity = _object_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get(
                "cognitoIdentityPoolId"
            )

        self._deadline_monotonic = invocation.deadline_monotonic

    def get_remaining_time_in_millis(self):
        """Return the milliseconds left before the invocation times out, never below 0."""
        remaining = int((self._deadline_monotonic - time.monotonic()) * 1000)
        return remaining if remaining > 0 else 0

    def log(self, message):
        """Write message to the function's log as it is, with no newline added."""
        write_stdout(str(message))

    def __repr__(self):
        return (
            "LambdaContext(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )
