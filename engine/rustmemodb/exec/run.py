"""Running a logical plan: each node class maps to one physical operator.

Operators take the node and the context and return a ``pyarrow.Table`` (whole
intermediate results: Arrow kernels are fastest on big columns, and tables are
zero-copy views of stored chunks); DDL, which yields no relation, returns None.
Operator modules register themselves in ``OPERATORS`` by node class, and are
imported on first use: DDL's alone when a DDL node comes first, so a session that
only creates tables and runs row-path statements never imports pyarrow (start-up). When ``ctx.analyze`` is a dict (EXPLAIN ANALYZE),
every node's rows, loops and inclusive time are recorded under ``id(node)``.
"""
from __future__ import annotations

from ..deep import deep
import time
from typing import TYPE_CHECKING

from .. import errors
from ..plan.logical import LogicalNode
from .context import ExecContext
from . import operators

if TYPE_CHECKING:
    import pyarrow as pa

OPERATORS: dict = {}


def operator(node_class):
    """Decorator: register ``fn(node, ctx) -> pa.Table`` as the operator for a node class."""
    def register(fn):
        OPERATORS[node_class] = fn
        return fn
    return register


@deep
def run_plan(node: LogicalNode, ctx: ExecContext) -> pa.Table | None:
    fn = OPERATORS.get(type(node))
    if fn is None:
        _load_operators(type(node))
        fn = OPERATORS.get(type(node))
        if fn is None:
            raise errors.not_supported(f"executing {type(node).__name__}")
    ctx.check_cancel()
    if ctx.analyze is None:
        return fn(node, ctx)
    started = time.perf_counter()
    out = fn(node, ctx)
    stats = ctx.analyze.setdefault(id(node), {"rows": 0, "loops": 0, "time": 0.0})
    stats["rows"] += 0 if out is None else out.num_rows
    stats["loops"] += 1
    stats["time"] += time.perf_counter() - started
    return out


_loaded = False


def _load_operators(node_class: type | None = None) -> None:
    global _loaded
    if _loaded:
        return
    import importlib
    import pkgutil
    if node_class is not None and node_class.__module__ == _DDL_NODES:
        importlib.import_module(f"{operators.__name__}.ddl")
        if node_class in OPERATORS:
            return
    for mod in pkgutil.iter_modules(operators.__path__):
        importlib.import_module(f"{operators.__name__}.{mod.name}")
    _loaded = True


_DDL_NODES = "rustmemodb.plan.ddl"
