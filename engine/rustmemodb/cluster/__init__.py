"""rustmemodb.cluster: one database sharded over many engines, on Dask or Ray actors.

    >>> from rustmemodb import cluster
    >>> conn = cluster.connect("local", shards=3)
    >>> _ = conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g TEXT, x FLOAT)")
    >>> _ = conn.execute("INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', 2.5), (3, 'a', 4.0)")
    >>> conn.execute("SELECT g, sum(x) FROM t GROUP BY g ORDER BY g").fetchall()
    [('a', 5.5), ('b', 2.5)]
    >>> conn.close()

``connect(backend="local"|"dask"|"ray", shards=N, address=None)`` returns a DB-API
connection (``connect.py``); each shard is a ``ShardHost`` (``shard.py``) owning a
rustmemodb ``Database`` per branch; rows are placed by ``partition.py``; SELECTs are
split by ``split.py`` and merged by ``merge.py``; multi-shard writes commit through
``twophase.py``; ``explain.py`` shows the distributed plan. The shards exchange Arrow
IPC bytes only (``wire.py``).
"""
from __future__ import annotations

from .connect import Cluster, ClusterConnection, ClusterCursor, connect

__all__ = ["connect", "Cluster", "ClusterConnection", "ClusterCursor"]
