"""Setup that runs when user code first imports a module: the log handler and botocore.

Doing this from an import hook keeps logging and botocore off the cold-start path for the
functions that never import them.
"""

import os
import sys

from .output import install_log_handler, log_runtime_error


class PostImportHookFinder:
    """A sys.meta_path finder that runs a callback right after a named module executes.

    The finder only intercepts the names it has callbacks for. It finds the real spec
    through the remaining finders and wraps its loader, so the module loads exactly as it
    would without the hook. Each callback runs once, and the finder removes itself from
    sys.meta_path when none are left.
    """

    def __init__(self):
        self._callbacks = {}

    def add(self, module_name, callback):
        """Run callback(module) after module_name loads, or now if it is loaded already."""
        module = sys.modules.get(module_name)
        if module is not None:
            _run_callback(callback, module)
            return
        self._callbacks[module_name] = callback
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def find_spec(self, fullname, path=None, target=None):
        callback = self._callbacks.get(fullname)
        if callback is None:
            return None
        spec = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        del self._callbacks[fullname]
        if not self._callbacks:
            sys.meta_path.remove(self)
        spec.loader = _HookedLoader(spec.loader, callback)
        return spec


class _HookedLoader:
    """Delegates to a module's real loader and runs a callback after exec_module."""

    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # The real loader goes back in place first, so tracebacks, importlib.reload() and
        # importlib.resources see the module as if no hook had been there.
        module.__loader__ = self._loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _run_callback(self._callback, module)


def _run_callback(callback, module):
    try:
        callback(module)
    except Exception as exc:
        log_runtime_error(f"setup after importing {module.__name__} failed: {exc!r}")


def patch_botocore_session(session_module):
    """Make botocore clients default to AWS_ENDPOINT_URL where botocore does not already.

    botocore reads AWS_ENDPOINT_URL itself from 1.31 on, the releases that have
    configprovider.ConfiguredEndpointProvider. Those are left alone, so their own precedence
    rules (service-specific variables, config files) apply. In older releases,
    such as Debian's 1.29, Session.create_client is wrapped to pass endpoint_url when the
    caller gave none, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true".
    """
    # NOTE: on old botocore, service-specific AWS_ENDPOINT_URL_<SERVICE> variables and
    # endpoint_url in config files are not read, so AWS_ENDPOINT_URL applies to every client.
    configprovider = sys.modules.get("botocore.configprovider")
    if hasattr(configprovider, "ConfiguredEndpointProvider"):
        return
    session_class = session_module.Session
    original_create_client = session_class.create_client
    if getattr(original_create_client, "_defaults_to_aws_endpoint_url", False):
        return

    # Index of endpoint_url among create_client's positional parameters after self.
    endpoint_url_index = 5

    def create_client(self, *args, **kwargs):
        endpoint_url = os.environ.get("AWS_ENDPOINT_URL")
        ignored = os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true"
        if endpoint_url and not ignored:
            if len(args) > endpoint_url_index:
                if args[endpoint_url_index] is None:
                    args = (
                        args[:endpoint_url_index]
                        + (endpoint_url,)
                        + args[endpoint_url_index + 1:]
                    )
            elif kwargs.get("endpoint_url") is None:
                kwargs["endpoint_url"] = endpoint_url
        return original_create_client(self, *args, **kwargs)

    create_client.__name__ = original_create_client.__name__
    create_client.__qualname__ = original_create_client.__qualname__
    create_client.__doc__ = original_create_client.__doc__
    create_client.__wrapped__ = original_create_client
    create_client._defaults_to_aws_endpoint_url = True
    session_class.create_client = create_client


def install_import_hooks():
    hooks = PostImportHookFinder()
    hooks.add("logging", install_log_handler)
    hooks.add("botocore.session", patch_botocore_session)
