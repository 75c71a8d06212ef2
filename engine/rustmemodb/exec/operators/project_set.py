"""Expanding set-returning functions of the select list (``LogicalProjectSet``).

Vectorised: per row ``n = max(len(array))`` over the SRF columns; the other columns
are repeated ``n`` times with ``take``; the SRF columns gather ``values[offset + k]``
for ``k < len`` and NULL beyond.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc
from ..arrays import contiguous

from ... import types
from ...plan.logical import LogicalProjectSet
from ..run import operator, run_plan


@operator(LogicalProjectSet)
def project_set(node: LogicalProjectSet, ctx) -> pa.Table:
    table = run_plan(node.child, ctx)
    rows = table.num_rows
    lists = {}
    for p in node.positions:
        col = table.column(p)
        col = contiguous(col)
        lengths = np.asarray(pc.fill_null(pc.list_value_length(col), 0)
                             .to_numpy(zero_copy_only=False), np.int64)
        lists[p] = (col, lengths)
    n = np.zeros(rows, np.int64)
    for _, lengths in lists.values():
        n = np.maximum(n, lengths)
    total = int(n.sum())
    src = np.repeat(np.arange(rows, dtype=np.int64), n)
    k = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    take = pa.array(src)
    out = []
    for i, (name, t) in enumerate(node.columns):
        if i not in lists:
            out.append(table.column(i).take(take))
            continue
        col, lengths = lists[i]
        ok = k < lengths[src]
        starts = col.offsets.to_numpy()[:-1].astype(np.int64)
        pos = np.where(ok, starts[src] + k, 0)
        values = col.values
        if len(values) == 0:
            out.append(pa.nulls(total, types.arrow_type(t)))
            continue
        out.append(values.take(pa.array(pos, mask=~ok)).cast(types.arrow_type(t)))
    return pa.Table.from_arrays(out, names=[c for c, _ in node.columns])
