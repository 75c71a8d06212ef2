"""Cluster: the same SQL on 1, 2 and 4 shards (rustmemodb.cluster) beside one engine.

Run: ``python -m bench.cluster [--rows N] [--tpch-rows N] [--shards 1,2,4]
[--backend local|dask|ray] [--planner plan|sql]`` (``--quick``: small sizes, for the
smoke test; ``--planner sql``: the SQL-level split only, to compare with the split of
the engine's optimized plan, marked ``(plan)`` in the plan column).

Three parts:

* **aggregation**: ``sales(id PK, g, x, y)`` with ``--rows`` rows (default 10,000,000;
  100 groups), loaded with ``load_arrow`` (rows routed to their shards), then one
  GROUP BY with count, sum, avg, stddev, min and max. Per shard count: total time, the
  bytes shipped between the shards and the coordinator for the query (the Arrow
  partials), the table's size, and each shard's own work (seconds spent executing on
  that shard).
* **repartition** (``--rows`` / 10 sales rows): a GROUP BY with one group per 10 rows
  (the partials are as big as the groups: merged on the shards, repartitioned by the
  group key: ``floor(x * scale)``, independent of where the rows are), a join of
  ``sales`` with ``returns(rid PK, sale_id, amount)`` on ``sale_id = id`` (``sales`` is
  placed by ``id`` and stays; ``returns`` is repartitioned by ``sale_id``), an EXCEPT
  of the two (repartitioned by the output column) and a window function partitioned by
  ``g`` (``sales`` repartitioned by ``g``): bytes moved between shards and bytes through
  the coordinator ("via coord", and its largest single batch) against the tables' size;
  then shapes the coordinator used to gather whole tables for (a UNION of aggregates, a
  count over a UNION in a derived table, ``rank() OVER (ORDER BY sum(x))``, a ``lag``
  window with no PARTITION BY, uncorrelated subqueries: a scalar one, an IN over a
  UNION; subqueries correlated off the partition key: EXISTS, NOT EXISTS, an amount
  over its sale's average, a count in the SELECT list; IN / NOT IN over 10,000 values
  at the default size; a window over a join) and two statements (an aggregating
  INSERT … SELECT, a table turned REPLICATED by a FOREIGN KEY to it).
* **analytics**: the ten TPC-H-like queries of ``bench/analytics.py`` (``--tpch-rows``
  lineitem rows; lineitem and orders hash-partitioned on the order key so their join is
  local, nation and region REPLICATED) and five correlated-subquery shapes of TPC-H
  (Q2, Q17, Q20, Q21, Q22, ``TPCH_CORRELATED``), each checked against the single engine,
  with the plan strategy the cluster chose (split / gather / routed) and bytes shipped.

With the ``local`` backend the shards run one after another in this process, so total
time shows the cost of the split, not parallel speed-up; per-shard work is what a
machine per shard would each do. ``--backend dask`` runs the shards on a LocalCluster.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

import rustmemodb
from rustmemodb import cluster

AGG_SQL = ("SELECT g, count(*), sum(x), avg(x), stddev(x), min(y), max(y) "
           "FROM sales GROUP BY g ORDER BY g")


def sales(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"id": pa.array(np.arange(rows, dtype=np.int64)),
                     "g": pa.array(rng.integers(0, 100, rows)),
                     "x": pa.array(rng.random(rows) * 100.0),
                     "y": pa.array(rng.integers(-1000, 1000, rows))})


def _work(conn) -> list[float]:
    b = conn.cluster.backend
    return [r[1]["work_seconds"] for _, r in sorted(b.call_all(range(b.shards), "stats").items())]


def _close(a, b) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for u, v in zip(ra, rb):
            if isinstance(u, float) and isinstance(v, float):
                if not (math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or
                        (math.isnan(u) and math.isnan(v))):
                    return False
            elif u != v:
                return False
    return True


def run_aggregation(rows: int, shard_counts: list[int], backend: str, repeat: int,
                    planner: str = "plan") -> list[dict]:
    data = sales(rows)
    out = []
    single = rustmemodb.connect()
    single.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, g INTEGER, x FLOAT, y INTEGER)")
    single.register("src", data)
    single.execute("INSERT INTO sales SELECT * FROM src")
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        want = single.execute(AGG_SQL).fetchall()
        t.append(time.perf_counter() - t0)
    out.append({"shards": "single engine", "seconds": min(t), "bytes_shipped": 0,
                "coordinator_bytes": 0,
                "table_bytes": data.nbytes, "per_shard_work": [min(t)], "same": True})
    for n in shard_counts:
        conn = cluster.connect(backend, shards=n, planner=planner)
        try:
            conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, g INTEGER, x FLOAT, "
                         "y INTEGER)")
            t0 = time.perf_counter()
            conn.load_arrow("sales", data)
            load = time.perf_counter() - t0
            best = None
            for _ in range(repeat):
                before_bytes, before_work = conn.cluster.bytes_shipped, _work(conn)
                before_coord = conn.cluster.coordinator_bytes
                t0 = time.perf_counter()
                got = conn.execute(AGG_SQL).fetchall()
                elapsed = time.perf_counter() - t0
                work = [a - b for a, b in zip(_work(conn), before_work)]
                shipped = conn.cluster.bytes_shipped - before_bytes
                if best is None or elapsed < best["seconds"]:
                    best = {"shards": n, "seconds": elapsed, "bytes_shipped": shipped,
                        "coordinator_bytes": conn.cluster.coordinator_bytes - before_coord,
                            "table_bytes": data.nbytes, "per_shard_work": work,
                            "load_seconds": load, "same": _close(got, want),
                            "strategy": conn.last_plan["strategy"],
                            "planner": _planner(conn.last_plan)}
            out.append(best)
        finally:
            conn.close()
    return out


REPART_SQL = {
    "group by x bucket (rows/10)": "SELECT floor(x * {scale}) AS k, count(*), avg(y) "
                                   "FROM sales GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 5",
    "join returns on sale_id": "SELECT s.g, count(*), sum(r.amount) FROM sales s "
                               "JOIN returns r ON r.sale_id = s.id GROUP BY s.g ORDER BY s.g",
    "except (set operation)": "SELECT sale_id FROM returns EXCEPT SELECT id FROM sales "
                              "WHERE g < 50 ORDER BY 1 LIMIT 5",
    "window by g": "SELECT id, g, x - avg(x) OVER (PARTITION BY g) AS dev FROM sales "
                   "ORDER BY dev DESC, id LIMIT 5",
    # Shapes the coordinator used to gather whole tables for:
    "union of aggregates": "SELECT g, count(*) FROM sales GROUP BY g UNION SELECT "
                           "sale_id % 100, count(*) FROM returns GROUP BY 1 "
                           "ORDER BY 2 DESC, 1 LIMIT 5",
    "count over a union": "SELECT count(*) FROM (SELECT sale_id FROM returns UNION "
                          "SELECT id FROM sales WHERE g < 50) u",
    "rank over sum(x)": "SELECT g, sum(x), rank() OVER (ORDER BY sum(x) DESC) FROM sales "
                        "GROUP BY g ORDER BY 3, 1 LIMIT 5",
    "lag over id (no partition)": "SELECT id, x - lag(x) OVER (ORDER BY id) AS d FROM sales "
                                  "ORDER BY d DESC, id LIMIT 5",
    "x above its average": "SELECT count(*), sum(y) FROM sales "
                           "WHERE x > (SELECT avg(x) FROM sales)",
    "in a union subquery": "SELECT count(*) FROM returns WHERE sale_id % 1000 IN "
                           "(SELECT g FROM sales WHERE y < 10 UNION SELECT 999)",
    # Correlated off the partition key / IN lists too long to write in: placed by the
    # correlation columns shard to shard (cluster/correlated.py).
    "exists, returns by sale_id": "SELECT count(*) FROM sales WHERE g < 10 AND EXISTS "
                                  "(SELECT 1 FROM returns r WHERE r.sale_id = sales.id "
                                  "AND r.amount > 9)",
    "not exists, returns": "SELECT count(*) FROM sales WHERE NOT EXISTS (SELECT 1 FROM "
                           "returns r WHERE r.sale_id = sales.id)",
    "amount over its sale's avg": "SELECT count(*), sum(amount) FROM returns r WHERE amount "
                                  "> (SELECT 1.5 * avg(r2.amount) FROM returns r2 "
                                  "WHERE r2.sale_id = r.sale_id)",
    "count in the select list": "SELECT id, (SELECT count(*) FROM returns r WHERE "
                                "r.sale_id = sales.id) AS n FROM sales WHERE g = 7 "
                                "ORDER BY n DESC, id LIMIT 5",
    "in over 10,000 values": "SELECT count(*), sum(amount) FROM returns WHERE sale_id IN "
                             "(SELECT id FROM sales WHERE y < 0)",
    "not in over 10,000 values": "SELECT count(*), sum(amount) FROM returns WHERE sale_id "
                                 "NOT IN (SELECT id FROM sales WHERE y < 0)",
    # A window over a join by a shared PARTITION BY column: the join's rows are
    # repartitioned by it shard to shard.
    "window over a join by g": "SELECT r.rid, s.g, rank() OVER (PARTITION BY s.g ORDER BY "
                               "r.amount DESC, r.rid) AS rk FROM returns r JOIN sales s "
                               "ON r.sale_id = s.id ORDER BY rk, r.rid LIMIT 5",
    # WITH queries (cluster/ctes.py): inlined, or run first and written in as VALUES.
    "with: aggregate of a CTE": "WITH t AS (SELECT g, sum(x) AS s, count(*) AS n FROM sales "
                                "GROUP BY g) SELECT * FROM t ORDER BY s DESC LIMIT 5",
    "with: CTE read twice": "WITH t AS (SELECT id, x FROM sales WHERE g < 10) SELECT "
                            "count(*) FROM t a JOIN t b ON a.id = b.id",
    "with: CTE joined": "WITH r AS (SELECT sale_id, amount FROM returns WHERE amount > 9) "
                        "SELECT count(*), sum(s.x) FROM sales s JOIN r ON r.sale_id = s.id",
    "with: LIMIT read twice": "WITH t AS (SELECT id, x FROM sales ORDER BY x DESC, id "
                              "LIMIT 10) SELECT count(*) FROM t a JOIN t b ON a.x = b.x",
    # Windows with no PARTITION BY, range-partitioned (cluster/rangewindows.py), and one
    # partitioned by an expression (moved by its value).
    "running sum over id": "SELECT id, sum(x) OVER (ORDER BY id) AS s FROM sales "
                           "WHERE y < 50 ORDER BY s DESC, id LIMIT 5",
    "rank over x desc, last": "SELECT id, rank() OVER (ORDER BY x DESC) AS r FROM sales "
                              "ORDER BY r DESC, id LIMIT 5",
    "lead over x": "SELECT id, lead(x, 3) OVER (ORDER BY x DESC, id) AS n FROM sales "
                   "ORDER BY n, id LIMIT 5",
    "window by g % 10": "SELECT id, rank() OVER (PARTITION BY g % 10 ORDER BY x, id) AS r "
                        "FROM sales ORDER BY r DESC, id LIMIT 5",
}
# Queries whose plan moves rows between shards (the others run pieces first).
SHUFFLED = {"group by x bucket (rows/10)", "join returns on sale_id",
            "except (set operation)", "window by g", "exists, returns by sale_id",
            "not exists, returns", "amount over its sale's avg", "count in the select list",
            "window over a join by g", "with: CTE joined", "running sum over id",
            "rank over x desc, last", "lead over x", "window by g % 10"}
# Statements that used to gather through the coordinator: (setup, statement, check).
REPART_WRITES = {
    "insert select group by": (
        "CREATE TABLE totals (g INTEGER PRIMARY KEY, n BIGINT, s FLOAT)",
        "INSERT INTO totals SELECT g, count(*), sum(x) FROM sales GROUP BY g",
        "SELECT count(*), sum(n), round(sum(s)) FROM totals"),
    "make returns replicated": (
        None,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, rid INTEGER REFERENCES returns (rid))",
        "SELECT count(*), sum(rid) FROM returns"),
}
# The tables each query reads (for the table size beside the bytes moved).
REPART_TABLES = {"group by x bucket (rows/10)": ["sales"],
                 "join returns on sale_id": ["sales", "returns"],
                 "except (set operation)": ["sales", "returns"], "window by g": ["sales"],
                 "union of aggregates": ["sales", "returns"],
                 "count over a union": ["sales", "returns"], "rank over sum(x)": ["sales"],
                 "lag over id (no partition)": ["sales"], "x above its average": ["sales"],
                 "in a union subquery": ["sales", "returns"],
                 "exists, returns by sale_id": ["sales", "returns"],
                 "not exists, returns": ["sales", "returns"],
                 "amount over its sale's avg": ["returns"],
                 "count in the select list": ["sales", "returns"],
                 "in over 10,000 values": ["sales", "returns"],
                 "not in over 10,000 values": ["sales", "returns"],
                 "window over a join by g": ["sales", "returns"],
                 "with: aggregate of a CTE": ["sales"], "with: CTE read twice": ["sales"],
                 "with: CTE joined": ["sales", "returns"],
                 "with: LIMIT read twice": ["sales"], "running sum over id": ["sales"],
                 "rank over x desc, last": ["sales"], "lead over x": ["sales"],
                 "window by g % 10": ["sales"],
                 "insert select group by": ["sales"], "make returns replicated": ["returns"]}


def returns(rows: int, sales_rows: int, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"rid": pa.array(np.arange(rows, dtype=np.int64)),
                     "sale_id": pa.array(rng.integers(0, sales_rows, rows)),
                     "amount": pa.array(rng.random(rows) * 10.0)})


def run_repartition(rows: int, shard_counts: list[int], backend: str,
                    shuffle_rows: int, planner: str = "plan") -> list[dict]:
    data, back = sales(rows), returns(rows // 4, rows)
    groups = max(rows // 10, 1)
    single = rustmemodb.connect()
    single.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, g INTEGER, x FLOAT, y INTEGER)")
    single.execute("CREATE TABLE returns (rid INTEGER PRIMARY KEY, sale_id INTEGER, "
                   "amount FLOAT)")
    single.register("src", data)
    single.execute("INSERT INTO sales SELECT * FROM src")
    single.register("src2", back)
    single.execute("INSERT INTO returns SELECT * FROM src2")
    wants, out = {}, []
    for name, sql in REPART_SQL.items():
        t0 = time.perf_counter()
        wants[name] = single.execute(sql.format(scale=groups / 100)).fetchall()
        out.append({"query": name, "shards": "single engine",
                    "seconds": time.perf_counter() - t0})
    for name, (setup, sql, check) in REPART_WRITES.items():
        if setup:
            single.execute(setup)
        t0 = time.perf_counter()
        single.execute(sql)
        out.append({"query": name, "shards": "single engine",
                    "seconds": time.perf_counter() - t0})
        wants[name] = single.execute(check).fetchall()
    for n in shard_counts:
        conn = cluster.connect(backend, shards=n, shuffle_rows=shuffle_rows, planner=planner)
        try:
            conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, g INTEGER, x FLOAT, "
                         "y INTEGER)")
            conn.execute("CREATE TABLE returns (rid INTEGER PRIMARY KEY, sale_id INTEGER, "
                         "amount FLOAT)")
            conn.load_arrow("sales", data)
            conn.load_arrow("returns", back)
            for name, sql in REPART_SQL.items():
                before, work0 = conn.cluster.bytes_shipped, _work(conn)
                coord0, conn.cluster.largest_batch = conn.cluster.coordinator_bytes, 0
                t0 = time.perf_counter()
                got = conn.execute(sql.format(scale=groups / 100)).fetchall()
                elapsed = time.perf_counter() - t0
                plan = conn.last_plan
                out.append({"query": name, "shards": n, "seconds": elapsed,
                            "bytes_shipped": conn.cluster.bytes_shipped - before,
                            "shuffled_bytes": plan.get("shuffled_bytes", 0),
                            "coordinator_bytes": conn.cluster.coordinator_bytes - coord0,
                            "largest_batch": conn.cluster.largest_batch,
                            "table_bytes": sum({"sales": data.nbytes, "returns": back.nbytes}[t]
                                               for t in REPART_TABLES[name]),
                            "planner": _planner(plan),
                            "strategy": plan["strategy"] + (
                                " + merge on shards" if plan.get("repartitioned") else ""),
                            "per_shard_work": [a - b for a, b in zip(_work(conn), work0)],
                            "same": _close(got, wants[name])})
            for name, (setup, sql, check) in REPART_WRITES.items():
                if setup:
                    conn.execute(setup)
                before, work0 = conn.cluster.bytes_shipped, _work(conn)
                coord0, conn.cluster.largest_batch = conn.cluster.coordinator_bytes, 0
                conn.last_plan = None
                t0 = time.perf_counter()
                conn.execute(sql)
                elapsed = time.perf_counter() - t0
                plan = conn.last_plan or {}
                out.append({"query": name, "shards": n, "seconds": elapsed,
                            "bytes_shipped": conn.cluster.bytes_shipped - before,
                            "shuffled_bytes": conn.cluster.bytes_shipped - before - (
                                conn.cluster.coordinator_bytes - coord0),
                            "coordinator_bytes": conn.cluster.coordinator_bytes - coord0,
                            "largest_batch": conn.cluster.largest_batch,
                            "table_bytes": sum({"sales": data.nbytes, "returns": back.nbytes}[t]
                                               for t in REPART_TABLES[name]),
                            "strategy": plan.get("strategy", "ddl"),
                            "per_shard_work": [a - b for a, b in zip(_work(conn), work0)],
                            "same": _close(conn.execute(check).fetchall(), wants[name])})
        finally:
            conn.close()
    return out


# TPC-H's correlated subquery shapes (Q2, Q17, Q20, Q21, Q22) on the TPC-H-like data
# (no partsupp: lineitem stands in for it).
TPCH_CORRELATED = {
    "q2": "SELECT s_name, p_partkey, l_extendedprice FROM part, supplier, lineitem, nation "
          "WHERE p_partkey = l_partkey AND s_suppkey = l_suppkey AND s_nationkey = "
          "n_nationkey AND p_size < 20 AND l_extendedprice = (SELECT min(l2.l_extendedprice) "
          "FROM lineitem l2, supplier s2 WHERE l2.l_partkey = p_partkey AND s2.s_suppkey = "
          "l2.l_suppkey AND s2.s_nationkey < 20) ORDER BY 3 DESC, 1, 2 LIMIT 20",
    "q17": "SELECT sum(l_extendedprice) / 7.0 AS avg_yearly FROM lineitem, part WHERE "
           "p_partkey = l_partkey AND p_size < 30 AND l_quantity < (SELECT 0.2 * "
           "avg(l2.l_quantity) FROM lineitem l2 WHERE l2.l_partkey = p_partkey)",
    "q20": "SELECT s_name FROM supplier, nation WHERE s_suppkey IN (SELECT l_suppkey FROM "
           "lineitem WHERE l_partkey IN (SELECT p_partkey FROM part WHERE p_size < 25) AND "
           "l_quantity > (SELECT 0.5 * avg(l2.l_quantity) FROM lineitem l2 WHERE "
           "l2.l_partkey = lineitem.l_partkey AND l2.l_suppkey = lineitem.l_suppkey)) AND "
           "s_nationkey = n_nationkey ORDER BY s_name",
    "q21": "SELECT s_name, count(*) AS numwait FROM supplier, lineitem l1, orders, nation "
           "WHERE s_suppkey = l1.l_suppkey AND o_orderkey = l1.l_orderkey AND "
           "l1.l_receiptdate > l1.l_commitdate AND EXISTS (SELECT * FROM lineitem l2 WHERE "
           "l2.l_orderkey = l1.l_orderkey AND l2.l_suppkey <> l1.l_suppkey) AND NOT EXISTS "
           "(SELECT * FROM lineitem l3 WHERE l3.l_orderkey = l1.l_orderkey AND l3.l_suppkey "
           "<> l1.l_suppkey AND l3.l_receiptdate > l3.l_commitdate) AND s_nationkey = "
           "n_nationkey GROUP BY s_name ORDER BY numwait DESC, s_name LIMIT 100",
    "q22": "SELECT cntrycode, count(*) AS numcust, sum(c_acctbal) AS totacctbal FROM "
           "(SELECT substring(c_name FROM 17 FOR 2) AS cntrycode, c_acctbal FROM customer "
           "WHERE c_acctbal > (SELECT avg(c_acctbal) FROM customer WHERE c_acctbal > 0.00) "
           "AND NOT EXISTS (SELECT * FROM orders WHERE o_custkey = c_custkey AND "
           "o_orderdate >= DATE '1997-01-01')) AS custsale GROUP BY cntrycode "
           "ORDER BY cntrycode",
}



def run_analytics(rows: int, shard_counts: list[int], backend: str,
                  planner: str = "plan") -> list[dict]:
    from bench import engines as E
    from bench.analytics import QUERIES
    from datasets import tpch
    data = tpch.generate(rows)
    single = rustmemodb.connect()
    for name, table in data.items():
        E.load(E.RUSTMEMODB, single, name, table, primary_key=tpch.PRIMARY_KEYS[name])
    placement = {"lineitem": " PARTITION BY HASH (l_orderkey)",
                 "orders": " PARTITION BY HASH (o_orderkey)",
                 "nation": " REPLICATED", "region": " REPLICATED"}
    results = []
    wants = {}
    queries = dict(QUERIES, **{f"{k} (correlated)": v for k, v in TPCH_CORRELATED.items()})
    for q, sql in queries.items():
        t0 = time.perf_counter()
        wants[q] = single.execute(sql).fetchall()
        results.append({"query": q, "shards": "single engine",
                        "seconds": time.perf_counter() - t0})
    for n in shard_counts:
        conn = cluster.connect(backend, shards=n, planner=planner)
        try:
            for name, table in data.items():
                ddl = E.ddl(E.RUSTMEMODB, name, table.schema, tpch.PRIMARY_KEYS[name])
                conn.execute(ddl + placement.get(name, ""))
                conn.load_arrow(name, table)
            for q, sql in queries.items():
                before, coord0 = conn.cluster.bytes_shipped, conn.cluster.coordinator_bytes
                t0 = time.perf_counter()
                got = conn.execute(sql).fetchall()
                results.append({"query": q, "shards": n,
                                "seconds": time.perf_counter() - t0,
                                "bytes_shipped": conn.cluster.bytes_shipped - before,
                                "coordinator_bytes": conn.cluster.coordinator_bytes - coord0,
                                "strategy": conn.last_plan["strategy"],
                                "planner": _planner(conn.last_plan),
                                "same": _close(got, wants[q])})
        finally:
            conn.close()
    return results


def _planner(plan: dict | None) -> str:
    """"plan" for a split made from the engine's optimized plan, else "sql"."""
    return "plan" if plan and plan.get("planner") == "plan" else "sql"


def _shown(r: dict) -> str:
    """The plan column: the strategy, ``(plan)`` when split from the optimized plan."""
    return r.get("strategy", "") + (" (plan)" if r.get("planner") == "plan" else "")


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:,.0f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--tpch-rows", type=int, default=100_000)
    p.add_argument("--shuffle-rows", type=int, default=None,
                   help="partial rows per shard above which a grouped merge runs on the "
                        "shards (default: the cluster's, 20,000; --quick: 50)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes (20,000 rows, 5,000 lineitem rows), one repeat")
    p.add_argument("--shards", default="1,2,4")
    p.add_argument("--backend", default="local")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-analytics", action="store_true")
    p.add_argument("--planner", default="plan", choices=("plan", "sql"),
                   help="split the engine's optimized plan where it can (default), or "
                        "only the statement text (the SQL-level split), to compare")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" /
                   "latest-cluster.json")
    a = p.parse_args(argv)
    if a.quick:
        a.rows, a.tpch_rows, a.repeat = min(a.rows, 20_000), min(a.tpch_rows, 5_000), 1
        if a.shuffle_rows is None:
            a.shuffle_rows = 50
    if a.shuffle_rows is None:
        from rustmemodb.cluster.connect import SHUFFLE_ROWS
        a.shuffle_rows = SHUFFLE_ROWS
    shard_counts = [int(s) for s in a.shards.split(",")]
    agg = run_aggregation(a.rows, shard_counts, a.backend, a.repeat, a.planner)
    print(f"\naggregation over {a.rows:,} rows, backend {a.backend}: {AGG_SQL}")
    print(f"{'shards':>14} {'time':>9} {'shipped':>10} {'via coord':>10} {'table':>10} "
          f"{'same':>5}  per-shard work")
    for r in agg:
        work = ", ".join(f"{w * 1000:.0f} ms" for w in r["per_shard_work"])
        print(f"{r['shards']!s:>14} {r['seconds'] * 1000:>7.0f}ms {_fmt_bytes(r['bytes_shipped']):>10} "
              f"{_fmt_bytes(r['coordinator_bytes']):>10} {_fmt_bytes(r['table_bytes']):>10} {str(r['same']):>5}  {work}")
    report = {"aggregation": agg, "rows": a.rows, "backend": a.backend, "planner": a.planner}
    rep = run_repartition(a.rows // 10, shard_counts, a.backend, a.shuffle_rows, a.planner)
    print(f"\nrepartitioning over {a.rows // 10:,} sales rows and {a.rows // 40:,} returns, "
          f"backend {a.backend}")
    print(f"{'query':>24} {'shards':>14} {'time':>9} {'shipped':>10} {'moved':>10} "
          f"{'via coord':>10} {'max batch':>10} {'tables':>10} {'plan':>33} same  per-shard work")
    for r in rep:
        work = ", ".join(f"{w * 1000:.0f} ms" for w in r.get("per_shard_work", []))
        print(f"{r['query']:>24} {r['shards']!s:>14} {r['seconds'] * 1000:>7.0f}ms "
              f"{_fmt_bytes(r.get('bytes_shipped', 0)):>10} "
              f"{_fmt_bytes(r.get('shuffled_bytes', 0)):>10} "
              f"{_fmt_bytes(r.get('coordinator_bytes', 0)):>10} "
              f"{_fmt_bytes(r.get('largest_batch', 0)):>10} "
              f"{_fmt_bytes(r.get('table_bytes', 0)):>10} {_shown(r):>33} "
              f"{r.get('same', '')!s:>4}  {work}")
    report["repartition"] = rep
    if not a.skip_analytics:
        res = run_analytics(a.tpch_rows, shard_counts, a.backend, a.planner)
        print(f"\nanalytics (TPC-H-like, {a.tpch_rows:,} lineitem rows), backend {a.backend}")
        print(f"{'query':>22} {'shards':>14} {'time':>9} {'shipped':>10} {'via coord':>10} "
              f"{'plan':>12} same")
        for r in res:
            print(f"{r['query']:>22} {r['shards']!s:>14} {r['seconds'] * 1000:>7.1f}ms "
                  f"{_fmt_bytes(r.get('bytes_shipped', 0)):>10} "
                  f"{_fmt_bytes(r.get('coordinator_bytes', 0)):>10} {_shown(r):>12} "
                  f"{r.get('same', '')}")
        report["analytics"] = res
        report["tpch_rows"] = a.tpch_rows
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=1, default=str))
    return report


if __name__ == "__main__":
    main()
