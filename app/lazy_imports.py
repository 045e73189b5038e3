"""Third-party modules that libraries import eagerly but a request rarely or never needs, deferred until used.

Our own code imports heavy libraries (push, mail, images, QR codes, spreadsheets, holidays, migrations) inside the
functions that use them. This module is for the other case: python-socketio and python-engineio import their
*client* and Redis parts at import time (`import aiohttp`, `import requests`, `import websocket`, `import redis`),
about 30 MiB of modules per process that the server never touches unless a Redis message queue is configured.

`defer(*names)` registers those names; a later `import name` then binds a placeholder module whose body runs on the
first attribute read (of a name the placeholder does not already hold). Unlike `importlib.util.LazyLoader`, the
placeholder keeps its `__path__`, so a submodule (`from redis.exceptions import RedisError`) imports without running
the package's `__init__`; a deferred submodule (`from redis import asyncio`) stays a placeholder too. A name that is
not installed is left to the normal import (it raises ImportError as before).
"""
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types

# python-socketio / python-engineio: clients (requests, websocket-client, aiohttp) and the Redis managers.
SOCKET_CLIENT_MODULES = ("aiohttp", "requests", "websocket", "redis", "redis.asyncio")

_deferred_names = set()
_load_lock = threading.RLock()


class DeferredModule(types.ModuleType):
    """A module whose body has not run yet; the first read of a missing attribute runs it."""

    def __getattr__(self, name):
        """Run the module's body (once, under a lock), then answer `name` from it (AttributeError if absent)."""
        spec = self.__dict__["__spec__"]
        child = f"{spec.name}.{name}"
        if child in _deferred_names and spec.submodule_search_locations is not None:
            return importlib.import_module(child)  # `from package import deferred_submodule` keeps it deferred
        _load(self)
        return getattr(self, name)


def _load(module):
    """Run the body of a DeferredModule in place (the same object stays in sys.modules)."""
    with _load_lock:
        if type(module) is not DeferredModule:
            return
        module.__class__ = types.ModuleType
        try:
            module.__spec__.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module.__spec__.name, None)
            raise


def is_loaded(name):
    """Whether module `name` is imported and its body has run (a deferred placeholder does not count)."""
    module = sys.modules.get(name)
    return module is not None and type(module) is not DeferredModule


class _DeferringFinder(importlib.abc.MetaPathFinder):
    """Finds deferred names with the other finders and hands out DeferredModule placeholders for them."""

    def find_spec(self, fullname, path, target=None):
        """The real spec, with a loader that creates a placeholder instead of running the module."""
        if fullname not in _deferred_names:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
                    return None  # compiled or unusual modules load as usual
                spec.loader = _DeferringLoader(spec.loader)
                return spec
        return None


class _DeferringLoader(importlib.abc.Loader):
    """Wraps the real loader: `exec_module` only turns the new module into a placeholder."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        """Whatever the real loader creates (None: a plain module)."""
        return self.loader.create_module(spec)

    def exec_module(self, module):
        """Defer the body: restore the real loader on the spec and mark the module as a placeholder."""
        module.__spec__.loader = self.loader
        module.__loader__ = self.loader
        module.__class__ = DeferredModule


_finder = _DeferringFinder()


def defer(*names):
    """Defer the modules `names` (full dotted names) from now on; already imported ones stay as they are."""
    _deferred_names.update(names)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
