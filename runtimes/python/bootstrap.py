"""Entry point of Lambent's Python runtime.

Lambent starts it as ``/usr/bin/python3 -u /path/to/runtimes/python/bootstrap.py`` with the
function's code as the working directory and the environment AWS Lambda sets (``_HANDLER``,
``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_RUNTIME_API`` and the rest). The runtime itself is the
``lambent_runtime`` package beside this file: Python caches the compiled code of imported
modules, but compiles a script it runs directly on every start.
"""

import sys

from lambent_runtime.loop import main

if __name__ == "__main__":
    sys.exit(main())
