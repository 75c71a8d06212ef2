"""Generic traversal of logical plans: every node, every expression inside them."""
from __future__ import annotations

import dataclasses
from typing import Iterator

from .expr import Expr
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
