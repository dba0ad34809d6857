"""Lambent's Lambda Runtime API client for Python functions, on the standard library only.

From a handler's point of view, the runtime behaves like the AWS Python runtime interface client
(awslambdaric): the same handler resolution, context object, log format, error payloads and
JSON encoding.

Modules:

- ``loop``: start-up, handler loading and the invocation loop (``main``).
- ``runtime_api``: the HTTP/1.1 client for the Runtime API.
- ``context``: the context object passed to handlers.
- ``errors``: error types and the error payloads AWS reports.
- ``encoding``: JSON encoding of results, with Decimal support, and decoding of events.
- ``output``: standard output, the Lambda log handler and error log records.
- ``import_hooks``: setup that runs when user code first imports logging or botocore.

Cold start matters, so start-up imports only ``json``, ``_socket`` and ``signal`` beyond
what the interpreter has loaded; ``logging``, ``traceback`` and ``decimal`` are imported only
when user code or an error needs them.
"""
