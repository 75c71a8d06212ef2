"""Index scans: an ``IndexLookup`` (plan/access.py) turned into rows.

The lookup yields rowids (in key order for ordered indexes); rows are fetched
one by one through ``TableVersion.row`` — cached Python rows, no Arrow compute
— so the cost is proportional to the rows found, not the table. The scan's
remaining filter is applied row-wise when it compiles to a row closure, and
an ``order`` lookup with a LIMIT stops once enough rows passed the filter.
Only at the end are the rows turned into one Arrow table for the operators
above. The optimizer picks an index only when few rows are expected
(optimize/estimate.py), which is what keeps this row-at-a-time loop cheap.
"""
from __future__ import annotations

from ... import infinity

import operator

from ...lazy_import import arrow as pa, numpy as np

from ...plan.access import IndexLookup
from ...storage.table import DELETED, rows_to_batch
from ..expr.row import try_compile_row
from ..expr.vector import evaluate
from ...storage.index import NULL_KEY, TOP_KEY
from ...types import py_values

_NO_ROWS: list = []
# Past this many rowids a chunk-wise numpy gather beats fetching row by row (measured
# crossover ~2k rows: the gather's fixed cost is ~50 µs, a row fetch ~0.5 µs).
GATHER_ROWS = 1024
# Rows of one chunk a gather reads one by one from the buffers; past it, one Arrow take.
_FEW = 64


def compile_keys(lookup: IndexLookup):
    """fn(params) -> the evaluated key material, or None if a needed key is NULL."""
    def compiled(e):
        fn = try_compile_row(e)
        if fn is None:
            raise ValueError(f"index key {e} is not row-compilable")
        return fn
    keys = [compiled(k) for k in lookup.keys]
    low = compiled(lookup.low) if lookup.low is not None else None
    high = compiled(lookup.high) if lookup.high is not None else None
    limit = None
    if lookup.limit is not None:
        lim = compiled(lookup.limit)
        off = compiled(lookup.offset) if lookup.offset is not None else None
        if off is None:
            limit = lim
        else:
            def limit(row, params):
                n, o = lim(row, params), off(row, params)
                return None if n is None else n + (o or 0)
    return keys, low, high, limit


def rowids_for(lookup: IndexLookup, version, params, compiled=None):
    """The rowids the lookup selects, in index order (a list or numpy array)."""
    keys, low, high, _ = compiled if compiled is not None else compile_keys(lookup)
    mode = lookup.mode
    if lookup.kind == "unique":
        index = version.indexes[lookup.index]
        if mode == "eq":
            if len(keys) == 1:
                k = keys[0]((), params)
                if k is None:
                    return _NO_ROWS
            else:
                k = tuple(f((), params) for f in keys)
                if None in k:
                    return _NO_ROWS
            rowid = index.get(k)
            return _NO_ROWS if rowid is None else [rowid]
        out, seen = [], set()
        for f in keys:   # IN list
            k = f((), params)
            if k is None or k in seen:
                continue
            seen.add(k)
            rowid = index.get(k)
            if rowid is not None:
                out.append(rowid)
        return out
    index = version.ordered[lookup.index]
    if mode == "eq":
        values = tuple(f((), params) for f in keys)
        if None in values:
            return _NO_ROWS
        ids = index.equal(values[0] if len(index.columns) == 1 else values)
    elif mode == "in":
        parts, seen = [], set()
        for f in keys:
            k = f((), params)
            if k is None or k in seen:
                continue
            seen.add(k)
            parts.append(index.equal(k))
        ids = np.concatenate(parts) if parts else np.empty(0, np.int64)
    elif mode == "null":
        ids = index.nulls()
    else:
        lo = low((), params) if low is not None else None
        hi = high((), params) if high is not None else None
        if (low is not None and lo is None) or (high is not None and hi is None):
            return _NO_ROWS
        if len(index.columns) > 1:
            ids = _composite_range(index, lo, hi, lookup, mode == "order")
        else:
            ids = index.range(lo, hi, lookup.low_inc, lookup.high_inc)
            if mode == "order" and lookup.order == "desc":
                ids = np.concatenate([index.nulls(), ids[::-1]])   # DESC: NULLS FIRST
            elif mode == "order":
                ids = np.concatenate([ids, index.nulls()])
        if mode == "order" and lookup.order == "desc" and len(index.columns) > 1:
            ids = ids[::-1]
        if mode == "order":
            return ids
    if lookup.order == "desc" and mode != "order":
        ids = ids[::-1]
    return ids


def _composite_range(index, lo, hi, lookup, with_nulls: bool):
    """A range on the first column of a composite key, via tuple prefixes."""
    lo_key = None if lo is None else ((lo,) if lookup.low_inc else (lo, TOP_KEY))
    if hi is not None:
        hi_key = (hi, TOP_KEY) if lookup.high_inc else (hi,)
    else:
        hi_key = None if with_nulls else (NULL_KEY,)
    return index.range(lo_key, hi_key, True, False)


def fetch_rows(version, rowids, predicate=None, params=None, limit: int | None = None,
               with_rowid: bool = False) -> list[tuple]:
    """Live rows for ``rowids`` (in that order) that pass ``predicate`` (a row closure),
    up to ``limit``. Many rowids (> GATHER_ROWS) without a limit are gathered chunk by
    chunk."""
    if limit is None and len(rowids) > GATHER_ROWS:
        pairs = _gather(version, np.asarray(rowids, dtype=np.int64))
    elif limit is not None and len(rowids) > 2 * limit + 64:
        # ORDER BY key LIMIT n over a big ordered index: look rows up in growing slices
        # of the (key-ordered) rowids instead of materialising every row for n of them
        # (dead rows and a failing predicate are why one slice of n may not be enough)
        out: list[tuple] = []
        start, step = 0, limit + 16
        while start < len(rowids) and len(out) < limit:
            ids = rowids[start:start + step]
            _keep(version.rows_at(ids.tolist() if isinstance(ids, np.ndarray) else ids),
                  out, predicate, params, limit, with_rowid)
            start += step
            step *= 2
        return out
    else:
        pairs = version.rows_at(rowids.tolist() if isinstance(rowids, np.ndarray) else rowids)
    out = []
    _keep(pairs, out, predicate, params, limit, with_rowid)
    return out


def _keep(pairs, out: list, predicate, params, limit: int | None, with_rowid: bool) -> None:
    """Append the live rows of ``pairs`` that pass ``predicate`` to ``out``, up to ``limit``."""
    for rowid, row in pairs:
        if row is None:
            continue
        if predicate is not None and predicate(row, params) is not True:
            continue
        out.append(row + (rowid,) if with_rowid else row)
        if limit is not None and len(out) >= limit:
            return


def _gather(version, ids: np.ndarray) -> list:
    """[(rowid, row or None)] in ``ids`` order: one searchsorted per chunk, column-wise
    picks (``itemgetter`` over the chunk's cached Python columns) instead of a call per row."""
    rows: list = [None] * len(ids)
    tail0 = version.tail_rowid0
    in_tail = ids >= tail0
    if in_tail.any():
        tail, dead = version.tail.rows, version.tail_dead
        for j in np.flatnonzero(in_tail).tolist():
            r = int(ids[j])
            off = r - tail0
            if off < version.tail_len and r not in dead:
                rows[j] = tail[off]
    pos = np.flatnonzero(~in_tail)
    if len(pos) and version.chunks:
        starts = np.asarray(version._chunk_starts() if len(version.chunks) > 8 else
                            [c.first_rowid for c in version.chunks])
        which = np.searchsorted(starts, ids[pos], "right") - 1
        for ci in np.unique(which).tolist():
            if ci >= 0:
                _gather_chunk(version, ci, pos[which == ci], ids, rows)
    id_list = ids.tolist()
    patches = version.patches
    if patches:   # rows updated in place or deleted since the last fold
        for j, r in enumerate(id_list):
            if rows[j] is not None:
                patched = patches.get(r)
                if patched is not None:
                    rows[j] = None if patched is DELETED else patched
    return list(zip(id_list, rows))


def _gather_chunk(version, ci: int, sel: np.ndarray, ids: np.ndarray, rows: list) -> None:
    chunk = version.chunks[ci]
    want = ids[sel]
    offs = np.searchsorted(chunk.rowids, want)
    ok = offs < len(chunk.rowids)
    offs = np.where(ok, offs, 0)
    ok &= chunk.rowids[offs] == want
    mask = version.dead[ci]
    if mask is not None:
        ok &= ~mask[offs]
    sel, offs = sel[ok].tolist(), offs[ok].tolist()
    if not offs:
        return
    cols = chunk._pycols
    if cols is None:
        # A range reads a few rows of a chunk: convert those, never the whole 64k-row
        # chunk (~5 ms and ~10 MB of Python objects kept for the chunk's life).
        if len(offs) <= _FEW:
            read = chunk.point_row
            for j, off in zip(sel, offs):
                rows[j] = read(off)
            return
        picked = chunk.batch.take(pa.array(offs, pa.int64()))
        for j, row in zip(sel, zip(*[py_values(c) for c in picked.columns])):
            rows[j] = row
        return
    if len(offs) == 1:
        rows[sel[0]] = tuple([c[offs[0]] for c in cols])
        return
    pick = operator.itemgetter(*offs)
    for j, row in zip(sel, zip(*[pick(c) for c in cols])):
        rows[j] = row


def index_scan(node, version, ctx) -> pa.Table:
    lookup: IndexLookup = node.index_lookup
    compiled = compile_keys(lookup)
    params = ctx.params
    rowids = rowids_for(lookup, version, params, compiled)
    pred = try_compile_row(node.filter) if node.filter is not None else None
    limit = None
    if compiled[3] is not None and (pred is not None or node.filter is None):
        limit = compiled[3]((), params)
    rows = fetch_rows(version, rowids, pred, params, limit, node.with_rowid)
    if lookup.ties and limit is not None and rows and len(rows) >= limit:
        rows = with_ties(version, lookup, rowids, rows, pred, params, node.with_rowid)
    schema = version.arrow_schema
    if node.with_rowid:
        schema = schema.append(pa.field("_rowid", pa.int64()))
    table = pa.Table.from_batches([rows_to_batch(rows, schema)], schema=schema)
    if node.filter is not None and pred is None:
        mask = evaluate(node.filter, table, ctx)
        if isinstance(mask, pa.Scalar):
            table = table if infinity.pyscalar(mask) is True else table.slice(0, 0)
        else:
            table = table.filter(mask)
        if compiled[3] is not None and not lookup.ties:
            table = table.slice(0, compiled[3]((), params))
    return table.rename_columns([n for n, _ in node.columns])


def with_ties(version, lookup: IndexLookup, rowids, rows: list, pred, params,
               with_rowid: bool) -> list:
    """``rows`` (the first LIMIT + OFFSET in index order) plus every other row tied with
    the last one on the index column: ORDER BY col, more... LIMIT n is decided among
    them by the Sort above, which reads one run of ties, not the table."""
    col = lookup.columns[0]
    last = rows[-1][col]
    if isinstance(last, float) and last != last:
        # NaN has no equality lookup: every remaining row (rare; still correct)
        return fetch_rows(version, rowids, pred, params, None, with_rowid)
    index = version.ordered[lookup.index]
    tied = index.nulls() if last is None else index.equal(last)
    kept = [r for r in rows if r[col] != last or (last is None) != (r[col] is None)]
    return kept + fetch_rows(version, tied, pred, params, None, with_rowid)
