"""Point-statement fast paths, compiled once per cached plan.

For the shapes OLTP traffic repeats — ``SELECT ... WHERE pk = $1``, single-row
``INSERT ... VALUES ($1, ...)``, ``UPDATE/DELETE ... WHERE pk = $1`` — the
generic operators would pay several Arrow calls (150-220 µs each on tiny
inputs). ``compile_fast_path`` returns a closure that runs such a statement
with Python tuples only, or ``None`` when the plan is not one of these shapes.
The closure may also return ``None`` at run time to fall back to the generic
path.
"""
from __future__ import annotations

import importlib

# Compilers tried in order: fn(prepared) -> closure | None.
COMPILERS: list = []

# The module whose compiler serves each statement kind, imported (and so registered) the
# first time a statement of that kind is planned: the write paths import the storage
# layer and pyarrow, which a process that has only run ``SELECT 1`` need not load.
_MODULES = {"SELECT": "fast_select", "INSERT": "fast_insert", "UPDATE": "fast_update",
            "DELETE": "fast_delete"}
_LOADED: set = set()


def compile_fast_path(prepared):
    plan = prepared.plan
    if plan is None:
        return None
    bound = prepared.bound
    kind = bound.kind if bound is not None else None
    if kind not in _LOADED and kind in _MODULES:
        importlib.import_module(f"{__package__}.{_MODULES[kind]}")
        _LOADED.add(kind)
    for compiler in COMPILERS:
        fast = compiler(prepared)
        if fast is not None:
            return fast
    return None
