"""Scanning a virtual catalog table: its rows computed from the root being read.

The rows come from the transaction's working root, so a catalog query inside a
transaction sees that transaction's own CREATE TABLE, and a fork sees its own
tables; nothing is cached between statements.
"""
from __future__ import annotations

import pyarrow as pa

from ... import types
from ...catalog import CatalogSnapshot
from ...catalog.pg_catalog import relation_oid
from ...plan.logical import LogicalVirtualScan
from ..run import operator


@operator(LogicalVirtualScan)
def virtual_scan(node: LogicalVirtualScan, ctx) -> pa.Table:
    database, user, temp_prefix = node.who
    snap = CatalogSnapshot(ctx.root, ctx.functions)
    if database or user or temp_prefix:
        snap = CatalogSnapshot(ctx.root, ctx.functions, database or snap.database,
                               user or snap.user, temp_prefix)
    rows = list(node.live() if node.live is not None else node.table.rows(snap))
    width = len(node.table.columns)
    arrays = [pa.array([r[i] for r in rows], types.arrow_type(t))
              for i, (_, t) in enumerate(node.columns[:width])]
    if len(node.columns) > width:       # the hidden tableoid: the catalog's own oid
        arrays.append(pa.array([relation_oid("r", node.table.name)] * len(rows), pa.int64()))
    return pa.Table.from_arrays(arrays, names=[n for n, _ in node.columns])
