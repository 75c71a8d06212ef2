"""Modules imported on first use, so ``import rustmemodb`` + the first statement stay cheap.

``pyarrow.compute`` builds thousands of kernel wrappers when it is imported (about half
the cost of importing pyarrow itself), yet a process that only connects and runs point
statements never calls a kernel. Modules that use it write
``from rustmemodb.lazy_import import compute as pc`` and call ``pc.<kernel>`` as
usual: the first attribute looked up imports the real module and copies its namespace
into the stand-in, so later look-ups are ordinary attribute reads with no extra cost.
Nothing in ``sys.modules`` is replaced: other code in the process sees the real modules.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

_lock = threading.Lock()


class LazyModule:
    """Stands in for the module named ``name`` until an attribute is first read."""

    def __init__(self, name: str) -> None:
        self.__dict__["_lazy_module_name"] = name

    def __getattr__(self, attr: str) -> Any:
        # Only reached for names not yet copied in: the first look-up, or a real miss.
        with _lock:
            module = importlib.import_module(self.__dict__["_lazy_module_name"])
            for key, value in vars(module).items():
                self.__dict__.setdefault(key, value)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self.__dict__['_lazy_module_name']!r}>"


compute: Any = LazyModule("pyarrow.compute")
# pyarrow itself (with numpy, which it imports): most of a cold start's import time. Modules
# on the way of ``import rustmemodb`` + connect + a row-path statement use this stand-in.
arrow: Any = LazyModule("pyarrow")
numpy: Any = LazyModule("numpy")


def kernel(name: str) -> Any:
    """A stand-in for ``pyarrow.compute.<name>`` for tables of kernels built at import or
    registration time: it looks the kernel up when first called, not when the table is built."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(compute, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call
