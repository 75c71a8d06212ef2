"""UNION / INTERSECT / EXCEPT [ALL] over Arrow tables.

UNION ALL concatenates (zero-copy). The others count, per distinct row, how
often it occurs on each side with one hash aggregation over both inputs
tagged by side (``group_by`` treats NULLs as equal, as set operations must):

    UNION        every distinct row               INTERSECT ALL  min(l, r) copies
    INTERSECT    rows with l > 0 and r > 0        EXCEPT ALL     max(l - r, 0) copies
    EXCEPT       rows with l > 0 and r = 0

Output order is unspecified (as in SQL without ORDER BY).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ... import numeric_arrays, types
from ...plan.logical import LogicalSetOp
from ..run import operator, run_plan
from .relational import distinct_table
from .join import hash_friendly
from .aggregate import _restore
from ..arrays import contiguous
from ..semantics import jsonb_hash_columns, restore_interval_keys


@operator(LogicalSetOp)
def set_operation(node: LogicalSetOp, ctx) -> pa.Table:
    left = _conform(run_plan(node.left, ctx), node.columns)
    right = _conform(run_plan(node.right, ctx), node.columns)
    return combine(node.kind, node.all, left, right, node.types)


def combine(kind: str, all_: bool, left: pa.Table, right: pa.Table,
            sql_types=()) -> pa.Table:
    """``sql_types``: the columns' types (a jsonb row matches by its hash key)."""
    if kind == "union":
        both = pa.concat_tables([left, right])
        return both if all_ else distinct_table(both, sql_types)
    names = left.column_names
    keys = [f"c{i}" for i in range(len(names))]
    tagged = pa.concat_tables([
        _tag(left, keys, 1, 0), _tag(right, keys, 0, 1)])
    originals = [contiguous(tagged.column(k)) for k in keys]
    hashed, jsonb = jsonb_hash_columns(tagged.columns, list(sql_types) + ["", ""])
    tagged = pa.Table.from_arrays([hash_friendly(c) for c in hashed],
                                  names=tagged.column_names)
    counts = tagged.group_by(keys, use_threads=False).aggregate(
        [("__l", "sum"), ("__r", "sum")])
    nl = counts.column("__l_sum").to_numpy(zero_copy_only=False)
    nr = counts.column("__r_sum").to_numpy(zero_copy_only=False)
    if kind == "intersect":
        copies = np.minimum(nl, nr) if all_ else ((nl > 0) & (nr > 0)).astype(np.int64)
    else:
        copies = np.maximum(nl - nr, 0) if all_ else ((nl > 0) & (nr == 0)).astype(np.int64)
    idx = np.repeat(np.arange(len(copies), dtype=np.int64), copies)
    out = counts.select(keys).take(pa.array(idx))
    cols = [_restore(c, f.type) for c, f in zip(out.columns, left.schema)]
    if jsonb or any(pa.types.is_binary(o.type) for o in originals):
        # numerics are matched by value (the key without its scale), jsonb by its hash
        # key: each shows a value it had, not the bare key (intervals keep showing their
        # span, as before)
        shown = restore_interval_keys(out.columns, [tagged.column(k) for k in keys],
                                      originals, jsonb)
        cols = [s if pa.types.is_binary(o.type) or i in jsonb else c
                for i, (c, s, o) in enumerate(zip(cols, shown, originals))]
    return pa.Table.from_arrays(cols, names=names)


def _tag(t: pa.Table, keys, l: int, r: int) -> pa.Table:
    n = t.num_rows
    return pa.Table.from_arrays(
        list(t.columns) + [pa.array(np.full(n, l, np.int64)), pa.array(np.full(n, r, np.int64))],
        names=keys + ["__l", "__r"])


def _conform(t: pa.Table, columns) -> pa.Table:
    want = [types.arrow_type(ty if ty != types.NULL else types.TEXT) for _, ty in columns]
    arrays = [c if c.type == w else numeric_arrays.cast_to(c, w)
              for c, w in zip(t.columns, want)]
    return pa.Table.from_arrays(arrays, names=[n for n, _ in columns])
