"""Generic traversal of logical plans: every node, every expression inside them."""
from __future__ import annotations

import dataclasses
from typing import Iterator

from ..deep import deep
from ..statement_limits import tick
from .expr import Call, Expr, OuterRef, SubqueryExpr
from .logical import LogicalNode, OnConflict


@deep
def map_children(plan: LogicalNode, fn) -> LogicalNode:
    """``plan`` with each direct child node replaced by ``fn(child)`` (shared when unchanged)."""
    changes = None
    for name in init_fields(type(plan)):
        v = getattr(plan, name)
        if isinstance(v, LogicalNode):
            nv = fn(v)
            if nv is not v:
                if changes is None:
                    changes = {}
                changes[name] = nv
    return dataclasses.replace(plan, **changes) if changes else plan


def nodes(plan: LogicalNode) -> Iterator[LogicalNode]:
    yield plan
    for child in plan.children():
        yield from nodes(child)


def expressions(plan: LogicalNode) -> Iterator[Expr]:
    """Every expression node (recursively) held by any plan node of the tree."""
    for node in nodes(plan):
        for name in init_fields(type(node)):
            yield from _exprs_in(getattr(node, name))


def _exprs_in(value) -> Iterator[Expr]:
    if isinstance(value, Expr):
        yield from value.walk()
        sub = getattr(value, "plan", None)
        if isinstance(sub, LogicalNode):
            yield from expressions(sub)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _exprs_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _exprs_in(v)
    elif isinstance(value, OnConflict):
        yield from _exprs_in(value.assignments)
        yield from _exprs_in(value.where)


def map_expressions(plan: LogicalNode, fn) -> LogicalNode:
    """``plan`` with every expression node rebuilt bottom-up through ``fn`` (as
    ``expr.transform``), subquery plans included; unchanged parts are shared."""
    return plan if isinstance(plan, _LEAVES) else _map_in(plan, fn, {})


_LEAVES = (str, int, float, bool, type(None), bytes)
_INIT_FIELDS: dict[type, tuple] = {}
_ATOM_TYPES = frozenset({"str", "int", "bool", "float", "str | None", "int | None",
                         "bool | None", "float | None", str, int, bool, float})


def init_fields(cls) -> tuple:
    """The dataclass fields of ``cls`` that may hold plan nodes or expressions."""
    names = _INIT_FIELDS.get(cls)
    if names is None:
        # A node's output columns are (name, type) pairs: never expressions.
        # Fields declared as plain atoms never hold one either.
        # A call's ``impl`` is its resolved function (a registry entry, whose fields are
        # callables): walking it visited four objects per call for nothing.
        skip = ("columns",) if issubclass(cls, LogicalNode) else \
            ("impl",) if issubclass(cls, Call) else ()
        names = _INIT_FIELDS[cls] = tuple(
            f.name for f in dataclasses.fields(cls)
            if f.init and f.name not in skip and f.type not in _ATOM_TYPES)
    return names


_WALK_FIELDS: dict[type, tuple | None] = {}


def walk_fields(cls) -> tuple | None:
    """``init_fields(cls)`` for a dataclass, None for any other class: cached per class,
    as ``dataclasses.is_dataclass`` per value was a tenth of planning a small statement."""
    names = _WALK_FIELDS.get(cls, False)
    if names is False:
        names = _WALK_FIELDS[cls] = init_fields(cls) if dataclasses.is_dataclass(cls) else None
    return names


@deep
def _map_in(value, fn, shared: dict):
    # Atoms are passed over by the caller (no call, no depth probe for each of them).
    tick()   # huge plans (VALUES of 100k rows): interrupt / timeout while rewriting
    if isinstance(value, (list, tuple)):
        if not value:
            return value
        out = [v if isinstance(v, _LEAVES) else _map_in(v, fn, shared) for v in value]
        for a, b in zip(out, value):
            if a is not b:
                return out if isinstance(value, list) else tuple(out)
        return value
    if isinstance(value, dict):
        out = {k: v if isinstance(v, _LEAVES) else _map_in(v, fn, shared)
               for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    names = walk_fields(type(value))
    if names is None:
        return value
    if not isinstance(value, (Expr, LogicalNode)):
        # a record several nodes share (a WITH query's BoundCTE, read by each reference
        # and run once per statement by its identity: exec/operators/cte.py) maps to one
        # new record, not to a copy per reference
        done = shared.get(id(value))
        if done is not None:
            return done
        shared[id(value)] = out = _map_fields(value, fn, shared, names)
        return out
    return _map_fields(value, fn, shared, names)


def _map_fields(value, fn, shared: dict, names: tuple):
    # Plan nodes, expressions (a subquery's plan included) and the records that hold
    # expressions (OnConflict, IndexLookup, ...), rebuilt only where something changed.
    changes = None
    for name in names:
        v = getattr(value, name)
        if isinstance(v, _LEAVES):
            continue
        nv = _map_in(v, fn, shared)
        if nv is not v:
            if changes is None:
                changes = {}
            changes[name] = nv
    if changes:
        value = dataclasses.replace(value, **changes)
    return fn(value) if isinstance(value, Expr) else value


def reads_outer(plan: LogicalNode, level: int = 0) -> bool:
    """Does ``plan`` read a column of a query enclosing it (an OuterRef reaching past
    ``level`` nestings of subqueries)? Fields are walked to any depth of lists and tuples
    (VALUES rows are lists of lists), and into the WITH queries a CTE reference reads
    when those read outer columns."""
    return any(_value_reads_outer(getattr(plan, f.name), level)
               for f in dataclasses.fields(plan))


def _value_reads_outer(v, level: int) -> bool:
    if isinstance(v, LogicalNode):
        return reads_outer(v, level)
    if isinstance(v, Expr):
        for n in v.walk():
            if isinstance(n, OuterRef) and n.depth > level:
                return True
            if isinstance(n, SubqueryExpr) and reads_outer(n.plan, level + 1):
                return True
        return False
    if isinstance(v, (list, tuple)):
        return any(_value_reads_outer(x, level) for x in v)
    if getattr(v, "correlated", False) is True and isinstance(getattr(v, "plan", None),
                                                               LogicalNode):
        return reads_outer(v.plan, level)        # a WITH query read in the plan
    return False
