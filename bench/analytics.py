"""Analytics: ten TPC-H-like queries on rustmemodb, sqlite3, DuckDB and pandas.

Data: `datasets.tpch` with `--rows` lineitem rows (1M by default; orders 250k,
customer 25k, part 33k, supplier 1.7k, nation 25, region 5), loaded into each engine
with primary keys. Every query is written once in SQL (PostgreSQL dialect, run unchanged
on all three SQL engines: date literals are quoted strings, which sqlite compares as ISO
text) and once as hand-written pandas on DataFrames converted up front.

Results are fetched as Python tuples (`fetchall()`) on every SQL engine. Each engine's
answer is checked loosely against DuckDB's: same row count, and every value equal after
normalising (dates as ISO text, numbers compared with a relative tolerance of 1e-6).
A mismatch does not stop the suite; it is shown in the `check` table.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Callable

from bench import engines as E
from bench.harness import Failure, Options, Report, attempt, measure

NAME = "analytics"
DESCRIPTION = "10 TPC-H-like queries (aggregates, joins, subquery, window, ...) vs sqlite3, DuckDB, pandas"
ENGINES = (E.RUSTMEMODB, E.SQLITE, E.DUCKDB, E.PANDAS)

# --------------------------------------------------------------------------- SQL

QUERIES: dict[str, str] = {
    "q1_pricing_summary": """
        SELECT l_returnflag, l_linestatus,
               sum(l_quantity) AS sum_qty,
               sum(l_extendedprice) AS sum_base_price,
               sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
               sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
               avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price,
               avg(l_discount) AS avg_disc, count(*) AS count_order
        FROM lineitem
        WHERE l_shipdate <= '1998-09-02'
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus""",
    "q3_join3_top10": """
        SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate
        FROM customer
        JOIN orders ON c_custkey = o_custkey
        JOIN lineitem ON l_orderkey = o_orderkey
        WHERE c_mktsegment = 'BUILDING'
          AND o_orderdate < '1995-03-15' AND l_shipdate > '1995-03-15'
        GROUP BY l_orderkey, o_orderdate
        ORDER BY revenue DESC, o_orderdate, l_orderkey
        LIMIT 10""",
    "q5_join6_by_nation": """
        SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
        FROM customer
        JOIN orders ON c_custkey = o_custkey
        JOIN lineitem ON l_orderkey = o_orderkey
        JOIN supplier ON l_suppkey = s_suppkey AND c_nationkey = s_nationkey
        JOIN nation ON s_nationkey = n_nationkey
        JOIN region ON n_regionkey = r_regionkey
        WHERE r_name = 'ASIA' AND o_orderdate >= '1994-01-01' AND o_orderdate < '1995-01-01'
        GROUP BY n_name
        ORDER BY revenue DESC""",
    "q4_correlated_exists": """
        SELECT o_orderpriority, count(*) AS order_count
        FROM orders
        WHERE o_orderdate >= '1993-07-01' AND o_orderdate < '1993-10-01'
          AND EXISTS (SELECT 1 FROM lineitem
                      WHERE l_orderkey = o_orderkey AND l_commitdate < l_receiptdate)
        GROUP BY o_orderpriority
        ORDER BY o_orderpriority""",
    "window_rank_top3": """
        SELECT count(*) AS n, sum(o_totalprice) AS total
        FROM (SELECT o_totalprice,
                     rank() OVER (PARTITION BY o_custkey ORDER BY o_totalprice DESC) AS rnk
              FROM orders) ranked
        WHERE rnk <= 3""",
    "count_distinct": """
        SELECT l_shipmode, count(DISTINCT l_partkey) AS parts, count(DISTINCT l_suppkey) AS supps
        FROM lineitem
        GROUP BY l_shipmode
        ORDER BY l_shipmode""",
    "like_filter": """
        SELECT count(*) AS n, sum(o_totalprice) AS total
        FROM orders
        WHERE o_comment LIKE '%special%requests%'""",
    "topk_order_limit": """
        SELECT l_orderkey, l_linenumber, l_extendedprice
        FROM lineitem
        ORDER BY l_extendedprice DESC, l_orderkey, l_linenumber
        LIMIT 10""",
    "q6_filter_sum": """
        SELECT sum(l_extendedprice * l_discount) AS revenue
        FROM lineitem
        WHERE l_shipdate >= '1994-01-01' AND l_shipdate < '1995-01-01'
          AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    "group_having": """
        SELECT l_orderkey, sum(l_quantity) AS qty
        FROM lineitem
        GROUP BY l_orderkey
        HAVING sum(l_quantity) > 250
        ORDER BY l_orderkey""",
}

# --------------------------------------------------------------------------- pandas

def _d(s: str):
    import pandas as pd

    return pd.Timestamp(s)


def pd_q1_pricing_summary(t):
    li = t["lineitem"]
    li = li[li.l_shipdate <= _d("1998-09-02")]
    disc = li.l_extendedprice * (1 - li.l_discount)
    g = li.assign(disc=disc, charge=disc * (1 + li.l_tax)).groupby(
        ["l_returnflag", "l_linestatus"], sort=True)
    out = g.agg(sum_qty=("l_quantity", "sum"), sum_base_price=("l_extendedprice", "sum"),
                sum_disc_price=("disc", "sum"), sum_charge=("charge", "sum"),
                avg_qty=("l_quantity", "mean"), avg_price=("l_extendedprice", "mean"),
                avg_disc=("l_discount", "mean"), count_order=("l_quantity", "size"))
    return out.reset_index()


def pd_q3_join3_top10(t):
    c = t["customer"]
    o = t["orders"]
    li = t["lineitem"]
    c = c[c.c_mktsegment == "BUILDING"][["c_custkey"]]
    o = o[o.o_orderdate < _d("1995-03-15")][["o_orderkey", "o_custkey", "o_orderdate"]]
    li = li[li.l_shipdate > _d("1995-03-15")][["l_orderkey", "l_extendedprice", "l_discount"]]
    j = c.merge(o, left_on="c_custkey", right_on="o_custkey").merge(
        li, left_on="o_orderkey", right_on="l_orderkey")
    j = j.assign(rev=j.l_extendedprice * (1 - j.l_discount))
    g = j.groupby(["l_orderkey", "o_orderdate"], as_index=False).agg(revenue=("rev", "sum"))
    g = g.sort_values(["revenue", "o_orderdate", "l_orderkey"], ascending=[False, True, True])
    return g[["l_orderkey", "revenue", "o_orderdate"]].head(10)


def pd_q5_join6_by_nation(t):
    r = t["region"]
    r = r[r.r_name == "ASIA"]
    n = t["nation"].merge(r, left_on="n_regionkey", right_on="r_regionkey")
    s = t["supplier"].merge(n, left_on="s_nationkey", right_on="n_nationkey")
    o = t["orders"]
    o = o[(o.o_orderdate >= _d("1994-01-01")) & (o.o_orderdate < _d("1995-01-01"))]
    j = t["customer"].merge(o, left_on="c_custkey", right_on="o_custkey")
    j = j.merge(t["lineitem"], left_on="o_orderkey", right_on="l_orderkey")
    j = j.merge(s, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"])
    j = j.assign(rev=j.l_extendedprice * (1 - j.l_discount))
    g = j.groupby("n_name", as_index=False).agg(revenue=("rev", "sum"))
    return g.sort_values("revenue", ascending=False)


def pd_q4_correlated_exists(t):
    o = t["orders"]
    o = o[(o.o_orderdate >= _d("1993-07-01")) & (o.o_orderdate < _d("1993-10-01"))]
    li = t["lineitem"]
    late = li.loc[li.l_commitdate < li.l_receiptdate, "l_orderkey"].unique()
    o = o[o.o_orderkey.isin(late)]
    g = o.groupby("o_orderpriority", as_index=False).agg(order_count=("o_orderkey", "size"))
    return g.sort_values("o_orderpriority")


def pd_window_rank_top3(t):
    o = t["orders"]
    rnk = o.groupby("o_custkey").o_totalprice.rank(method="min", ascending=False)
    top = o.loc[rnk <= 3, "o_totalprice"]
    return [(len(top), top.sum())]


def pd_count_distinct(t):
    li = t["lineitem"]
    g = li.groupby("l_shipmode", as_index=False).agg(
        parts=("l_partkey", "nunique"), supps=("l_suppkey", "nunique"))
    return g.sort_values("l_shipmode")


def pd_like_filter(t):
    o = t["orders"]
    m = o.o_comment.str.contains("special.*requests", regex=True)
    return [(int(m.sum()), o.o_totalprice[m].sum())]


def pd_topk_order_limit(t):
    li = t["lineitem"][["l_orderkey", "l_linenumber", "l_extendedprice"]]
    top = li.nlargest(10, "l_extendedprice", keep="all")
    return top.sort_values(["l_extendedprice", "l_orderkey", "l_linenumber"],
                           ascending=[False, True, True]).head(10)


def pd_q6_filter_sum(t):
    li = t["lineitem"]
    m = ((li.l_shipdate >= _d("1994-01-01")) & (li.l_shipdate < _d("1995-01-01"))
         & (li.l_discount >= 0.05) & (li.l_discount <= 0.07) & (li.l_quantity < 24))
    return [((li.l_extendedprice[m] * li.l_discount[m]).sum(),)]


def pd_group_having(t):
    li = t["lineitem"]
    g = li.groupby("l_orderkey", as_index=False).agg(qty=("l_quantity", "sum"))
    return g[g.qty > 250].sort_values("l_orderkey")


PANDAS_QUERIES: dict[str, Callable] = {name: globals()[f"pd_{name}"] for name in QUERIES}

# --------------------------------------------------------------------------- checking

def _norm_value(v: Any) -> Any:
    if v is None:
        return None
    if hasattr(v, "item") and not isinstance(v, (str, bytes)):  # numpy scalar
        v = v.item()
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if hasattr(v, "to_pydatetime"):  # pandas Timestamp
        return _norm_value(v.to_pydatetime())
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return float(v)
    return v


def normalise(result: Any) -> list[tuple]:
    """Rows as tuples of comparable values (DataFrames, lists of tuples, Arrow tables)."""
    if hasattr(result, "itertuples"):
        rows = list(result.itertuples(index=False, name=None))
    elif hasattr(result, "to_pylist"):
        rows = [tuple(d.values()) for d in result.to_pylist()]
    else:
        rows = [tuple(r) for r in result]
    return [tuple(_norm_value(v) for v in r) for r in rows]


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    return a == b


def compare(got: list[tuple], want: list[tuple]) -> str | None:
    """None if equal (loosely), else a short description of the first difference."""
    if len(got) != len(want):
        return f"{len(got)} rows, expected {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        if len(g) != len(w) or not all(_close(a, b) for a, b in zip(g, w)):
            return f"row {i}: {g!r} != {w!r}"[:120]
    return None


# --------------------------------------------------------------------------- running

def _prepare(engine: str, data: dict, opts: Options) -> Any:
    from datasets import tpch

    if engine == E.PANDAS:
        frames = {}
        for name, table in data.items():
            df = table.to_pandas()
            for col in df.columns:  # DATE columns as datetime64 for fast comparisons
                if table.schema.field(col).type == "date32[day]":
                    import pandas as pd

                    df[col] = pd.to_datetime(df[col])
            frames[name] = df
        return frames
    conn = E.connect(engine)
    for name, table in data.items():
        E.load(engine, conn, name, table, primary_key=tpch.PRIMARY_KEYS[name])
    return conn


def _runner(engine: str, handle: Any, name: str) -> Callable[[], Any]:
    if engine == E.PANDAS:
        fn = PANDAS_QUERIES[name]
        return lambda: fn(handle)
    sql = QUERIES[name]
    return lambda: handle.execute(sql).fetchall()


def run(opts: Options) -> Report:
    from datasets import tpch

    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    times = report.table(f"query time, TPC-H-like, {opts.rows:,} lineitem rows", engines)
    load = report.table("load all 7 tables (untimed setup, shown for reference)", engines,
                        ratios=False)
    checks = report.table("result check against DuckDB", engines, unit="check")
    memory = report.table(
        "rustmemodb: peak memory a query allocates (Arrow pool + Python/numpy), vs the size "
        "of the stored lineitem table (a query must never copy the table)", ["peak during query", "lineitem table"],
        unit="bytes", ratios=False)
    data = tpch.generate(opts.rows)

    handles: dict[str, Any] = {}
    for engine in engines:
        result, err = attempt(lambda: measure(lambda: handles.__setitem__(
            engine, _prepare(engine, data, opts)), opts, repeat=1), verbose=opts.verbose)
        load.add("load", engine, result.median if result else None, err)
        if err:
            handles.pop(engine, None)
            for q in QUERIES:
                times.add(q, engine, error=err)

    reference = _reference_answers(handles, data, opts)

    for q in QUERIES:
        for engine, handle in handles.items():
            fn = _runner(engine, handle, q)
            first, err = attempt(fn, verbose=opts.verbose)
            if err:
                times.add(q, engine, error=err)
                continue
            timing, err = attempt(lambda: measure(fn, opts), verbose=opts.verbose)
            times.add(q, engine, timing.median if timing else None, err)
            _check(checks, q, engine, first, reference.get(q))
            if engine == E.RUSTMEMODB:
                memory.add(q, "peak during query", peak_arrow_bytes(fn))
                memory.add(q, "lineitem table", stored_bytes(handle, "lineitem"))

    for engine in list(handles):
        if engine != E.PANDAS:
            E.close(handles.pop(engine))
    return report


def peak_arrow_bytes(fn: Callable[[], Any]) -> int:
    """Peak memory ``fn`` allocates: Arrow's pool above its baseline (sampled every ms)
    plus Python and numpy allocations (tracemalloc's peak)."""
    import threading
    import time
    import tracemalloc

    import pyarrow as pa

    base = pa.total_allocated_bytes()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], pa.total_allocated_bytes())
            time.sleep(0.001)

    t = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    t.start()
    try:
        fn()
    finally:
        done.set()
        t.join()
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return max(0, peak[0] - base) + python_peak


def stored_bytes(conn: Any, table: str) -> int:
    """Bytes of the Arrow chunks a rustmemodb table is stored in."""
    version = conn.database.root.tables[table]
    return sum(chunk.batch.nbytes for chunk in version.chunks)


def _reference_answers(handles: dict, data: dict, opts: Options) -> dict[str, list[tuple]]:
    """DuckDB's answers, normalised; DuckDB is loaded for this even when not benchmarked."""
    duck = handles.get(E.DUCKDB)
    if duck is None:
        duck, err = attempt(lambda: _prepare(E.DUCKDB, data, opts))
        if err:
            return {}
    answers = {}
    for q in QUERIES:
        rows, _ = attempt(lambda: normalise(_runner(E.DUCKDB, duck, q)()))
        if rows is not None:
            answers[q] = rows
    if E.DUCKDB not in handles:
        E.close(duck)
    return answers


def _check(checks, q: str, engine: str, result: Any, want: list[tuple] | None) -> None:
    if want is None:
        return
    problem, err = attempt(lambda: compare(normalise(result), want))
    if err:
        checks.add(q, engine, error=err)
    elif problem:
        checks.add(q, engine, error=Failure("Mismatch", problem))
    else:
        checks.add(q, engine, 0.0)

