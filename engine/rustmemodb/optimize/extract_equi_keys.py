"""Equi-key extraction: ``ON a.x = b.y AND ...`` becomes hash-join keys plus a residual.

A conjunct ``l = r`` of a join condition where ``l`` reads only left columns and
``r`` only right ones (either way round) becomes a pair in
``LogicalJoin.equi_keys`` (the right expression re-based to the right input's
columns); the other conjuncts stay in ``condition`` as the residual, which the
executor evaluates on the matched pairs. A join with keys is a hash join; one
without is a filtered cross product (a nested loop), so this rule decides
whether a join is fast. ``IS NOT DISTINCT FROM`` is not extracted: hash keys
never match NULLs.

Example:
    >>> from rustmemodb.plan.expr import ColRef, make_call
    >>> from rustmemodb.plan.logical import LogicalJoin, LogicalValues
    >>> l = LogicalValues([("a", "INTEGER")], []); r = LogicalValues([("b", "INTEGER")], [])
    >>> cond = make_call("eq", [ColRef(1, "INTEGER"), ColRef(0, "INTEGER")])
    >>> j = extract_equi_keys(LogicalJoin(l.columns + r.columns, l, r, "inner", cond))
    >>> j.equi_keys, j.condition
    ([(ColRef(index=0, type='INTEGER', name=''), ColRef(index=0, type='INTEGER', name=''))], None)
"""
from __future__ import annotations

import dataclasses

from ..plan.expr import (Call, column_refs, conjoin, conjuncts, has_subquery, is_volatile,
                         shift_columns)
from ..plan.logical import LogicalJoin, LogicalNode
from ..plan.walk import map_children


def extract_equi_keys(plan: LogicalNode, ctx=None) -> LogicalNode:
    plan = map_children(plan, lambda c: extract_equi_keys(c, ctx))
    if not isinstance(plan, LogicalJoin) or plan.kind == "cross" or plan.equi_keys \
            or plan.condition is None:
        return plan
    nl = len(plan.left.columns)
    keys, rest = [], []
    for c in conjuncts(plan.condition):
        pair = _key_pair(c, nl)
        if pair is None:
            rest.append(c)
        else:
            keys.append(pair)
    if not keys:
        return plan
    return dataclasses.replace(plan, equi_keys=keys, condition=conjoin(rest))


def _key_pair(c, nl: int):
    if not (isinstance(c, Call) and c.fn == "eq" and len(c.args) == 2):
        return None
    if has_subquery(c) or is_volatile(c):
        return None
    a, b = c.args
    ra, rb = column_refs(a), column_refs(b)
    if not ra or not rb:
        return None
    if max(ra) < nl <= min(rb):
        return a, shift_columns(b, -nl)
    if max(rb) < nl <= min(ra):
        return b, shift_columns(a, -nl)
    return None
