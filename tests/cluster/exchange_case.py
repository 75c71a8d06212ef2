"""A shuffle case shared by the Dask and Ray tests of the worker-to-worker exchange."""
from __future__ import annotations

import rustmemodb


def exchange_case(conn):
    """A join off the key and a grouped merge, both repartitioned between the shards;
    returns the bytes that passed through the coordinator and the largest batch."""
    single = rustmemodb.connect()
    for c in (conn, single):
        c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, pad TEXT)")
        c.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER)")
        c.executemany("INSERT INTO a VALUES (?, ?, ?)",
                      [(i, i % 31, f"pad-{i:08d}") for i in range(3000)])
        c.executemany("INSERT INTO b VALUES (?, ?)", [(i, i % 37) for i in range(1500)])
    coord0, conn.cluster.largest_batch = conn.cluster.coordinator_bytes, 0
    for q in ["SELECT a.g, count(*), max(a.pad) FROM a JOIN b ON a.g = b.g GROUP BY a.g "
              "ORDER BY 1",
              "SELECT pad, count(*) FROM a GROUP BY pad ORDER BY 1 DESC LIMIT 3"]:
        assert conn.execute(q).fetchall() == single.execute(q).fetchall(), q
        assert conn.last_plan.get("shuffled_bytes", 0) > 20_000, q
    return conn.cluster.coordinator_bytes - coord0, conn.cluster.largest_batch
