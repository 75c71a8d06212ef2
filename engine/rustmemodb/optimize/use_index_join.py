"""Index nested-loop joins: probe the inner table's unique index once per outer row.

A hash join reads (and hashes) its whole right input. When the left input is small
and the right one is a table scan whose join column has a UNIQUE/PRIMARY KEY index,
probing that index per left row touches only the matching rows: the difference
between reading 1M rows and reading 10. The rule marks such joins
(``LogicalJoin.index_probe``); ``exec/operators/index_join.py`` runs them.

Chosen for INNER and LEFT joins on one equality key when the estimated left rows are
at most ``MAX_PROBES`` and at most 1/``MIN_RATIO`` of the right table. RIGHT/FULL joins
need every right row anyway, so they keep the hash join.

Example:
    >>> import rustmemodb
    >>> c = rustmemodb.connect()
    >>> _ = c.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)")
    >>> _ = c.executemany("INSERT INTO big VALUES (?, ?)", [(i, str(i)) for i in range(200)])
    >>> _ = c.execute("CREATE TABLE small (k INTEGER)")
    >>> _ = c.execute("INSERT INTO small VALUES (7)")
    >>> plan = [r[0] for r in c.execute("EXPLAIN SELECT v FROM small JOIN big ON k = id")]
    >>> any("Index Nested Loop" in line for line in plan)
    True
"""
from __future__ import annotations

import dataclasses

from ..plan.expr import ColRef
from ..plan.logical import LogicalJoin, LogicalNode, LogicalScan
from ..plan.walk import map_children
from .estimate import estimate

MAX_PROBES = 5_000
MIN_RATIO = 20


def use_index_join(plan: LogicalNode, root=None) -> LogicalNode:
    plan = map_children(plan, lambda c: use_index_join(c, root))
    if root is None or not isinstance(plan, LogicalJoin) or plan.kind not in ("inner", "left") \
            or len(plan.equi_keys) != 1 or plan.index_probe is not None:
        return plan
    right = plan.right
    if not isinstance(right, LogicalScan) or right.index_lookup is not None \
            or right.with_rowid or getattr(right, "projection", None) is not None:
        return plan
    key = plan.equi_keys[0][1]
    version = root.tables.get(right.table)
    if not isinstance(key, ColRef) or version is None or key.type in ("NUMERIC", "JSON"):
        return plan         # numerics and jsonb match by value, not by key (use_index._same_type)
    name = next((n for n, ix in version.indexes.items()
                 if not ix.keyed and tuple(ix.columns) == (key.index,)), None)
    if name is None:
        return plan
    probes = estimate(plan.left, root)
    if probes > MAX_PROBES or probes * MIN_RATIO > version.live_rows:
        return plan
    return dataclasses.replace(plan, index_probe=name)
