"""Generic traversal of logical plans: every node, every expression inside them."""
from __future__ import annotations

import dataclasses
from typing import Iterator

from .expr import Expr, transform
from .logical import LogicalNode, OnConflict


def map_children(plan: LogicalNode, fn) -> LogicalNode:
    """``plan`` with each direct child node replaced by ``fn(child)`` (shared when unchanged)."""
    changes = {}
    for f in dataclasses.fields(plan):
        v = getattr(plan, f.name)
        if isinstance(v, LogicalNode):
            nv = fn(v)
            if nv is not v:
                changes[f.name] = nv
    return dataclasses.replace(plan, **changes) if changes else plan


def nodes(plan: LogicalNode) -> Iterator[LogicalNode]:
    yield plan
    for child in plan.children():
        yield from nodes(child)


def expressions(plan: LogicalNode) -> Iterator[Expr]:
    """Every expression node (recursively) held by any plan node of the tree."""
    for node in nodes(plan):
        for f in dataclasses.fields(node):
            yield from _exprs_in(getattr(node, f.name))


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
    changes = {}
    for f in dataclasses.fields(plan):
        v = getattr(plan, f.name)
        nv = _map_in(v, fn)
        if nv is not v:
            changes[f.name] = nv
    return dataclasses.replace(plan, **changes) if changes else plan


def _map_in(value, fn):
    if isinstance(value, LogicalNode):
        return map_expressions(value, fn)
    if isinstance(value, Expr):
        return transform(value, lambda e: _map_node(e, fn))
    if isinstance(value, (list, tuple)):
        out = [_map_in(v, fn) for v in value]
        if all(a is b for a, b in zip(out, value)):
            return value
        return type(value)(out) if isinstance(value, list) else tuple(out)
    if isinstance(value, dict):
        out = {k: _map_in(v, fn) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # OnConflict, IndexLookup, ...: records that hold expressions of their node
        changes = {}
        for f in dataclasses.fields(value):
            if f.init:
                v = getattr(value, f.name)
                nv = _map_in(v, fn)
                if nv is not v:
                    changes[f.name] = nv
        return dataclasses.replace(value, **changes) if changes else value
    return value


def _map_node(e: Expr, fn) -> Expr:
    sub = getattr(e, "plan", None)
    if isinstance(sub, LogicalNode):
        new = map_expressions(sub, fn)
        if new is not sub:
            e = dataclasses.replace(e, plan=new)
    return fn(e)
