"""Fast path for SELECTs over index lookups: rows as Python tuples, no Arrow.

Compiled once per cached plan. Accepts trees of Project / Filter / Sort / Limit
whose leaves are ``LogicalScan``s with an ``index_lookup`` (``use_index``
chose one), every expression compiling to a row closure (exec/expr/row.py).
For ``SELECT * FROM t WHERE pk = $1`` the work per execution is then: one
hash probe, one cached row fetch, one projection — a few µs. If a lookup
finds more than ``MAX_ROWS`` rows the closure returns None and the session
runs the generic (vectorised) plan instead.
"""
from __future__ import annotations

import operator

from ..plan import logical as L
from ..plan.expr import ColRef
from ..result import Result
from .expr.row import try_compile_row
from .fast_path import COMPILERS
from .operators.index_scan import compile_keys, fetch_rows, rowids_for

MAX_ROWS = 2048


class _Unsupported(Exception):
    pass


class _TooMany(Exception):
    pass


def compile_select(prepared):
    plan = prepared.plan
    if prepared.bound is None or prepared.bound.kind != "SELECT":
        return None
    try:
        rows_of = compile_rows(plan)
    except _Unsupported:
        return None
    columns = plan.columns

    def run(ctx):
        try:
            rows = rows_of(ctx)
        except _TooMany:
            return None
        return Result(columns, rows=rows, rowcount=len(rows), kind="SELECT")
    return run


def _row_fn(e):
    fn = try_compile_row(e)
    if fn is None:
        raise _Unsupported()
    return fn


def compile_rows(node):
    """fn(ctx) -> list of row tuples for ``node``, or raise _Unsupported."""
    kind = type(node)
    if kind is L.LogicalScan:
        return _scan(node)
    if kind is L.LogicalProject:
        child = compile_rows(node.child)
        if all(type(e) is ColRef for e in node.exprs):   # column picks: no closures
            idx = [e.index for e in node.exprs]
            width = len(node.child.columns)
            if idx == list(range(width)):
                return child
            pick = operator.itemgetter(*idx)
            if len(idx) == 1:
                return lambda ctx: [(pick(r),) for r in child(ctx)]
            return lambda ctx: [pick(r) for r in child(ctx)]
        fns = [_row_fn(e) for e in node.exprs]
        if len(fns) == 1:
            f0 = fns[0]
            return lambda ctx: [(f0(r, ctx.params),) for r in child(ctx)]

        def project(ctx):
            p = ctx.params
            return [tuple([f(r, p) for f in fns]) for r in child(ctx)]
        return project
    if kind is L.LogicalFilter:
        child = compile_rows(node.child)
        pred = _row_fn(node.predicate)
        return lambda ctx: [r for r in child(ctx) if pred(r, ctx.params) is True]
    if kind is L.LogicalLimit:
        return _limit(node)
    if kind is L.LogicalSort:
        return _sort(node)
    raise _Unsupported()


def _scan(node: L.LogicalScan):
    lookup = node.index_lookup
    if lookup is None:
        raise _Unsupported()
    try:
        compiled = compile_keys(lookup)
    except ValueError:
        raise _Unsupported() from None
    pred = _row_fn(node.filter) if node.filter is not None else None
    table, with_rowid = node.table, node.with_rowid
    limit_fn = compiled[3]
    unique_eq = lookup.kind == "unique" and lookup.mode == "eq" and len(lookup.keys) == 1
    if unique_eq and pred is None and not with_rowid:
        key_fn, name = compiled[0][0], lookup.index

        def point(ctx):   # the PK probe, inlined
            version = ctx.txn.working.tables[table]
            key = key_fn((), ctx.params)
            rowid = version.indexes[name].get(key) if key is not None else None
            if rowid is None:
                return []
            row = version.row(rowid)
            return [] if row is None else [row]
        return point

    def scan(ctx):
        version = ctx.txn.working.tables[table]
        params = ctx.params
        ids = rowids_for(lookup, version, params, compiled)
        limit = limit_fn((), params) if limit_fn is not None else None
        if len(ids) > MAX_ROWS and (limit is None or limit > MAX_ROWS):
            raise _TooMany()
        return fetch_rows(version, ids, pred, params, limit, with_rowid)
    return scan


def _count(e):
    if e is None:
        return None
    fn = _row_fn(e)

    def value(params):
        v = fn((), params)
        if v is not None and v < 0:
            raise _TooMany()    # the generic path raises the proper error
        return v
    return value


def _limit(node: L.LogicalLimit):
    child = compile_rows(node.child)
    lim, off = _count(node.limit), _count(node.offset)

    def limit(ctx):
        rows = child(ctx)
        o = (off(ctx.params) or 0) if off is not None else 0
        n = lim(ctx.params) if lim is not None else None
        return rows[o:] if n is None else rows[o:o + n]
    return limit


def _sort(node: L.LogicalSort):
    child = compile_rows(node.child)
    keys = [(_row_fn(e), bool(desc), bool(nf)) for e, desc, nf in node.keys]

    def sort(ctx):
        rows = child(ctx)
        p = ctx.params
        for fn, desc, nulls_first in reversed(keys):   # stable: last key first
            null_high = nulls_first == desc
            rows = sorted(rows, key=lambda r: _sort_key(fn(r, p), null_high), reverse=desc)
        return rows
    return sort


def _sort_key(v, null_high: bool):
    if v is None:
        return (1 if null_high else 0, 0)
    if v != v:   # NaN: above every number, equal to itself (semantics.row_sort_value)
        return (0 if null_high else 1, 1, 0.0)
    return (0 if null_high else 1, 0, v)


COMPILERS.append(compile_select)
