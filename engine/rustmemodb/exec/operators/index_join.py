"""Index nested-loop join: the right side comes from index probes, not a scan.

For each left row the join key is looked up in the right table's unique index
(a dict probe); only the matching rows are fetched, through the same cached
row access as point SELECTs, then filtered by the right scan's pushed-down
predicate and projected. The result is (right table, left row#, right row#)
pairs, which ``join.py`` finishes exactly as for a hash join (residual
condition, unmatched left rows of a LEFT join, gathering the columns).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from ...storage.table import rows_to_batch
from ..expr.vector import as_array, evaluate
from ... import infinity


def index_probe(node, left: pa.Table, ctx):
    """(right table, left row#s, right row#s), or None when the index is gone."""
    scan = node.right
    version = ctx.root.tables.get(scan.table)
    index = version.indexes.get(node.index_probe) if version is not None else None
    if index is None:
        return None
    keys = infinity.pylist(as_array(evaluate(node.equi_keys[0][0], left, ctx), left.num_rows))
    get = index.get
    li, rowids = [], []
    for i, key in enumerate(keys):
        if key is not None:
            rowid = get(key)
            if rowid is not None:
                li.append(i)
                rowids.append(rowid)
    schema = version.arrow_schema
    rows = [version.row(r) for r in rowids]
    right = pa.Table.from_batches([rows_to_batch(rows, schema)], schema=schema)
    matched = np.asarray(li, dtype=np.int64)
    if scan.filter is not None and right.num_rows:
        mask = evaluate(scan.filter, right, ctx)
        if isinstance(mask, pa.Scalar):
            keep = np.full(right.num_rows, mask.as_py() is True)
        else:
            keep = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), bool)
        right = right.filter(pa.array(keep))
        matched = matched[keep]
    projection = getattr(scan, "projection", None)
    if projection is not None:
        right = right.select(projection)
    right = right.rename_columns([n for n, _ in scan.columns])
    return right, matched, np.arange(right.num_rows, dtype=np.int64)
