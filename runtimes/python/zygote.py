"""Entry point of the Python zygote (see ``lambent_runtime.zygote``).

Lambent starts it once per Python interpreter with its control socket as descriptor 3.
"""

import sys

from lambent_runtime.zygote import serve

if __name__ == "__main__":
    sys.exit(serve())
