"""Filter, Project, Sort, Limit and Distinct over Arrow tables.

Sorting applies PostgreSQL's NULL placement per key (NULLS LAST ascending,
NULLS FIRST descending unless stated), which Arrow supports per sort key.
LIMIT is a zero-copy slice. DISTINCT groups on every column (NULLs equal).
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ... import errors, types
from ...plan.logical import (LogicalDistinct, LogicalFilter, LogicalLimit, LogicalProject,
                             LogicalSort)
from .. import limits
from ..expr.vector import as_array, evaluate
from ..semantics import sort_keys_for
from ..run import operator, run_plan


@operator(LogicalFilter)
def filter_(node: LogicalFilter, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return apply_filter(table, node.predicate, ctx)


def apply_filter(table: pa.Table, predicate, ctx) -> pa.Table:
    mask = evaluate(predicate, table, ctx)
    if isinstance(mask, pa.Scalar):
        return table if mask.as_py() is True else table.slice(0, 0)
    return table.filter(mask)   # NULL counts as false, as in WHERE


@operator(LogicalProject)
def project(node: LogicalProject, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return project_table(table, node.exprs, node.columns, ctx)


def project_table(table: pa.Table, exprs, columns, ctx) -> pa.Table:
    n = table.num_rows
    arrays = []
    for e, (name, t) in zip(exprs, columns):
        v = as_array(evaluate(e, table, ctx), n)
        want = types.arrow_type(t)
        if v.type != want and t not in (types.NULL, types.UNKNOWN):
            v = v.cast(want)
        arrays.append(v)
    names = [c for c, _ in columns]
    if not arrays:
        return table.select([])
    return pa.Table.from_arrays(arrays, names=names)


@operator(LogicalSort)
def sort(node: LogicalSort, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return sort_table(table, node.keys, ctx)


def sort_table(table: pa.Table, keys, ctx, limit: int | None = None) -> pa.Table:
    if table.num_rows <= 1:
        return table
    n = table.num_rows
    cols, sort_keys = [], []
    for e, desc, nulls_first in keys:
        v = as_array(evaluate(e, table, ctx), n)
        if pa.types.is_list(v.type) or pa.types.is_large_list(v.type):
            from ..functions.array import sort_ranks
            v = sort_ranks(v)             # arrays sort by rank in PostgreSQL's order
        # NaN above every number, apart from NULLs (semantics.sort_keys_for)
        for col, order, placement in sort_keys_for(v, "descending" if desc else "ascending",
                                                   "at_start" if nulls_first else "at_end"):
            sort_keys.append((f"k{len(cols)}", order, placement))
            cols.append(col)
    limits.charge(8 * n * (len(cols) + 1), "sort")
    key_table = pa.Table.from_arrays(cols, names=[f"k{i}" for i in range(len(cols))])
    if limit is not None and limit * 8 < n and not any(c.null_count for c in cols):
        # Top-k: select_k_unstable is O(n) and returns the k rows in order; it drops
        # NULLs, hence only without NULL keys (ties at the k-th row may pick either).
        idx = _top_k_numeric(cols[0], key_table, sort_keys, limit)
        if idx is None:
            idx = pc.select_k_unstable(key_table, limit,
                                       sort_keys=[(k, o) for k, o, _ in sort_keys])
        return table.take(idx)
    idx = pc.sort_indices(key_table, sort_keys=sort_keys)
    if limit is not None:
        idx = idx.slice(0, limit)
    return table.take(idx)


def _top_k_numeric(first, key_table, sort_keys, k: int):
    """Top-k when the first key is numeric: numpy partitions it to a threshold (O(n),
    ~4x faster than select_k on several keys), and only the rows at or beyond the
    threshold (ties included, so later keys still decide) are sorted. None: not
    applicable (non-numeric, NaN, k = 0, or too many ties)."""
    import numpy as np
    if isinstance(first, pa.ChunkedArray):
        first = first.combine_chunks()
    t = first.type
    if k <= 0 or not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return None
    v = first.to_numpy(zero_copy_only=False)
    n = len(v)
    if pa.types.is_floating(t) and np.isnan(v).any():
        return None
    if sort_keys[0][1] == "descending":
        cand = np.flatnonzero(v >= np.partition(v, n - k)[n - k])
    else:
        cand = np.flatnonzero(v <= np.partition(v, k - 1)[k - 1])
    if len(cand) > 64 * k + 1024:
        return None
    order = pc.sort_indices(key_table.take(pa.array(cand)), sort_keys=sort_keys)
    return pa.array(cand[order.to_numpy(zero_copy_only=False)[:k]])


@operator(LogicalLimit)
def limit(node: LogicalLimit, ctx) -> pa.Table:
    from ...plan.logical import LogicalSort as _Sort
    lim = _count(node.limit, ctx, "LIMIT")
    off = _count(node.offset, ctx, "OFFSET") or 0
    child = node.child
    if isinstance(child, _Sort) and lim is not None:  # top-k: sort only what is kept
        table = sort_table(run_plan(child.child, ctx), child.keys, ctx, limit=off + lim)
    else:
        cte = _limited_cte(child) if lim is not None else None
        if cte is not None:   # LIMIT over a recursive CTE stops its recursion, as in PG
            ctx.cte_limits[id(cte)] = off + lim
        try:
            table = run_plan(child, ctx)
        finally:
            if cte is not None:
                ctx.cte_limits.pop(id(cte), None)
    return table.slice(off, lim)


def _limited_cte(node):
    """The recursive CTE plan read row-for-row under ``node`` (through projections)."""
    from ...plan.logical import LogicalCTERef, LogicalRecursiveCTE
    while isinstance(node, LogicalProject):
        node = node.child
    if isinstance(node, LogicalCTERef) and isinstance(getattr(node.cte, "plan", None),
                                                      LogicalRecursiveCTE):
        return node.cte.plan
    return None


def _count(e, ctx, what: str) -> int | None:
    if e is None:
        return None
    v = evaluate(e, pa.table({}), ctx)
    value = v.as_py() if isinstance(v, pa.Scalar) else v[0].as_py()
    if value is not None and value < 0:
        raise errors.sql_error("2201W" if what == "LIMIT" else "2201X",
                               f"{what} must not be negative")
    return value


@operator(LogicalDistinct)
def distinct(node: LogicalDistinct, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return distinct_table(table)


def distinct_table(table: pa.Table) -> pa.Table:
    if table.num_rows <= 1:
        return table
    from .aggregate import group_key
    names = table.column_names
    tmp = pa.Table.from_arrays([group_key(c) for c in table.columns],
                               names=[f"c{i}" for i in range(len(names))])
    out = tmp.group_by(tmp.column_names, use_threads=False).aggregate([])
    out = out.select(tmp.column_names)
    from .aggregate import _restore
    cols = [_restore(c, f.type) for c, f in zip(out.columns, table.schema)]
    return pa.Table.from_arrays(cols, names=names)
