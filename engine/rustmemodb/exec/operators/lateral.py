"""LATERAL joins: the right plan runs once per distinct combination of the left
values it reads, and its rows are paired with every left row holding that combination.

The right side is a ``SubqueryExpr`` (kind ``lateral``) run through the subquery
machinery (``exec/subquery._run_memo``: the combination is pushed on ``ctx.outer``
as a frame, results memoised for the statement). Pairing is vectorised: each left
row ``i`` of group ``g`` takes right rows ``start[g] .. start[g] + count[g]`` of the
concatenated right results, built with ``numpy.repeat``. A condition filters the
pairs; LEFT keeps each left row without a surviving pair once, NULL-extended.
Output rows follow the left input's order.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from ... import types
from ...plan.logical import LogicalLateralJoin
from ..expr.vector import as_array, evaluate
from ..run import operator, run_plan
from ..subquery import _run_memo, frozen_values


@operator(LogicalLateralJoin)
def lateral_join(node: LogicalLateralJoin, ctx) -> pa.Table:
    left = run_plan(node.left, ctx)
    n = left.num_rows
    width = len(node.left.columns)
    right_types = [types.arrow_type(t if t != types.NULL else types.TEXT)
                   for _, t in node.columns[width:]]
    sub = node.right
    keys = [as_array(evaluate(c, left, ctx), n) for c in sub.correlated]
    groups: dict[tuple, int] = {}
    group_of = np.empty(n, np.int64)
    results: list[pa.Table] = []
    for i, key in enumerate(zip(*[frozen_values(k) for k in keys]) if keys else [()] * n):
        g = groups.get(key)
        if g is None:
            ctx.check_cancel()
            g = groups[key] = len(results)
            results.append(_conform(_run_memo(sub, key, ctx), right_types))
        group_of[i] = g
    sizes = np.array([t.num_rows for t in results], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) \
        else sizes
    counts = sizes[group_of] if n else np.zeros(0, np.int64)
    total = int(counts.sum())
    left_idx = np.repeat(np.arange(n, dtype=np.int64), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    right_idx = np.repeat(starts[group_of] if n else counts, counts) + \
        (np.arange(total, dtype=np.int64) - first)
    right_all = pa.concat_tables(results) if results else None
    arrays = [c.take(pa.array(left_idx)) for c in left.columns]
    if right_all is not None:
        arrays += [c.take(pa.array(right_idx)) for c in right_all.columns]
    else:
        arrays += [pa.array([], t) for t in right_types]
    names = [c[0] for c in node.columns]
    out = pa.Table.from_arrays(arrays, names=names)
    if node.condition is not None:
        mask = as_array(evaluate(node.condition, out, ctx), out.num_rows)
        keep = pc.fill_null(mask, False)
        out = out.filter(keep)
        left_idx = left_idx[np.asarray(keep.to_numpy(zero_copy_only=False), bool)]
    if node.kind == "left":
        matched = np.zeros(n, bool)
        matched[left_idx] = True
        missing = np.flatnonzero(~matched)
        if len(missing):
            pad = [c.take(pa.array(missing)) for c in left.columns] + \
                [pa.nulls(len(missing), t) for t in right_types]
            out = pa.concat_tables([out, pa.Table.from_arrays(pad, names=names)])
            order = np.argsort(np.concatenate([left_idx, missing]), kind="stable")
            out = out.take(pa.array(order))
    return out


def _conform(t: pa.Table, want: list) -> pa.Table:
    arrays = [c if c.type == w else c.cast(w) for c, w in zip(t.columns, want)]
    return pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))])
