"""Filter, Project, Sort, Limit and Distinct over Arrow tables.

Sorting applies PostgreSQL's NULL placement per key (NULLS LAST ascending,
NULLS FIRST descending unless stated), which Arrow supports per sort key.
LIMIT is a zero-copy slice. DISTINCT groups on every column (NULLs equal).
"""
from __future__ import annotations

from ... import infinity

import pyarrow as pa
from rustmemodb.lazy_import import compute as pc, numpy as np
from ..arrays import contiguous

from ... import errors, numeric_arrays, types
from ...plan.logical import (LogicalDistinct, LogicalFilter, LogicalLimit, LogicalProject,
                             LogicalSort, LogicalSort as _Sort, LogicalCTERef, LogicalRecursiveCTE)
from ... import statement_limits as limits
from ..expr.vector import as_array, evaluate
from ..semantics import jsonb_hash_columns, restore_interval_keys, sort_keys_for
from ..run import operator, run_plan
from .aggregate import group_key, _restore


@operator(LogicalFilter)
def filter_(node: LogicalFilter, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return apply_filter(table, node.predicate, ctx)


def apply_filter(table: pa.Table, predicate, ctx) -> pa.Table:
    mask = evaluate(predicate, table, ctx)
    if isinstance(mask, pa.Scalar):
        return table if infinity.pyscalar(mask) is True else table.slice(0, 0)
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
        if v.type != want and t not in (types.NULL, types.UNKNOWN) and \
                not numeric_arrays.keep_form(v, want):
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
        # NaN above every number, apart from NULLs, arrays by rank (semantics.sort_keys_for)
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
        return take_few(table, idx.to_numpy(zero_copy_only=False))
    if len(cols) > 1 and any(isinstance(c, pa.ChunkedArray) and c.num_chunks > 1 for c in cols):
        # Arrow sorts several chunked keys by merging per-chunk sorts: ~2x slower at 5M
        # rows than one contiguous array per key (a stored table has 64k-row chunks).
        key_table = key_table.combine_chunks()
    idx = pc.sort_indices(key_table, sort_keys=sort_keys)
    if limit is not None:
        idx = idx.slice(0, limit)
    return table.take(idx)


def _top_k_numeric(first, key_table, sort_keys, k: int):
    """Top-k when the first key is numeric: Arrow's select_k on that one column finds the
    k-th value (a heap pass, ~7x faster than partitioning a numpy copy at 5M rows), and
    only the rows at or beyond it (ties included, so later keys still decide) are
    sorted. None: not applicable (non-numeric, k = 0, or too many ties)."""
    t = first.type
    if k <= 0 or not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        return None
    # (no NaN here: sort_keys_for splits a float key holding NaN into (is NaN, value),
    # so a float first key reaching this point has none)
    desc = sort_keys[0][1] == "descending"
    threshold = _block_threshold(first, k, desc)
    if threshold is None:
        best = first.take(pc.select_k_unstable(first, k, sort_keys=[("v", sort_keys[0][1])]))
        threshold = pc.min(best) if desc else pc.max(best)
    keep = (pc.greater_equal if desc else pc.less_equal)(first, threshold)
    cand = pc.indices_nonzero(keep).to_numpy(zero_copy_only=False)
    if len(cand) > key_table.num_rows // 4:
        return None
    # Few candidates are sliced out row by row; more (many ties at the k-th value, as
    # with a clipped column) are filtered chunk by chunk, never concatenated.
    sub = take_few(key_table, cand) if len(cand) <= 1024 else key_table.filter(keep)
    if len(cand) <= 64 * k + 1024:
        order = pc.sort_indices(sub, sort_keys=sort_keys)
    else:
        order = pc.select_k_unstable(sub, k, sort_keys=[(n, o) for n, o, _ in sort_keys])
    return pa.array(cand[order.to_numpy(zero_copy_only=False)[:k]])


# Rows per block in _block_threshold: small enough that the k-th best block extreme is
# close to the k-th best value (few candidates), large enough that the extremes are few.
THRESHOLD_BLOCK = 2048


def _block_threshold(first, k: int, desc: bool):
    """A value that at least k rows reach (>= it for DESC, <= for ASC): the k-th best of
    the per-block maxima (minima), each of those blocks holding a row that reaches it.
    One numpy pass over the column instead of select_k's heap (~5x faster at 5M rows);
    the rows reaching it are a superset of the top k, sorted exactly by the caller.
    None when there are fewer blocks than k. Numbers without NULL or NaN only (the
    caller's contract): their buffers are read without a copy."""
    parts = []
    reduce = np.maximum.reduceat if desc else np.minimum.reduceat
    for chunk in first.chunks if isinstance(first, pa.ChunkedArray) else [first]:
        v = chunk.to_numpy(zero_copy_only=False)
        if len(v):
            parts.append(reduce(v, np.arange(0, len(v), THRESHOLD_BLOCK)))
    if sum(len(p) for p in parts) < k:
        return None
    ext = np.concatenate(parts)
    at = len(ext) - k if desc else k - 1
    return pa.scalar(np.partition(ext, at)[at].item(), first.type)


def take_few(table: pa.Table, idx) -> pa.Table:
    """``table.take(idx)`` for a few rows of a many-chunk table: Arrow's take on chunked
    columns concatenates every chunk first (~0.1 s per 5M-row column), so the rows are
    sliced out of their batches instead."""
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) > 1024 or table.num_rows < 65536 or table.column(0).num_chunks < 2:
        return table.take(pa.array(idx))
    batches = [b for b in table.to_batches() if b.num_rows]
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    which = np.searchsorted(starts, idx, side="right") - 1
    rows = [batches[w].slice(int(i - starts[w]), 1) for i, w in zip(idx.tolist(), which.tolist())]
    return pa.Table.from_batches(rows, schema=table.schema) if rows else table.slice(0, 0)


@operator(LogicalLimit)
def limit(node: LogicalLimit, ctx) -> pa.Table:
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
    value = infinity.pyscalar(v) if isinstance(v, pa.Scalar) else infinity.pyscalar(v[0])
    if value is not None and value < 0:
        raise errors.sql_error("2201W" if what == "LIMIT" else "2201X",
                               f"{what} must not be negative")
    return value


@operator(LogicalDistinct)
def distinct(node: LogicalDistinct, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    return distinct_table(table, node.types)


def distinct_table(table: pa.Table, sql_types=()) -> pa.Table:
    """The distinct rows of ``table``; ``sql_types``: its columns' types (jsonb columns
    are told apart by their hash keys, jsonb_hash_columns)."""
    if table.num_rows <= 1:
        return table
    names = table.column_names
    hashed, jsonb = jsonb_hash_columns(table.columns, sql_types)
    keys = [group_key(c) for c in hashed]
    tmp = pa.Table.from_arrays(keys, names=[f"c{i}" for i in range(len(names))])
    out = tmp.group_by(tmp.column_names, use_threads=False).aggregate([])
    out = out.select(tmp.column_names)
    cols = [_restore(c, f.type) for c, f in zip(out.columns, table.schema)]
    originals = [contiguous(c)
                 for c in table.columns]
    cols = restore_interval_keys(cols, keys, originals, jsonb)  # intervals: by span
    return pa.Table.from_arrays(cols, names=names)
