"""OLTP: per-statement cost of small reads and writes through the DB-API.

Table `kv(id INTEGER PRIMARY KEY, k INTEGER, v FLOAT, s TEXT)` with an index on k,
seeded with rows/10 rows (100k by default); then `--ops` operations (10,000) per case,
every statement a parameterised `conn.execute(sql, params)`:

    insert, autocommit       INSERT INTO kv VALUES (?, ?, ?, ?)   one transaction each
    insert, one transaction  the same between BEGIN and COMMIT
    point SELECT by PK       SELECT * FROM kv WHERE id = ?        + fetchall()
    UPDATE by PK             UPDATE kv SET v = v + 1 WHERE id = ?
    range scan on index      SELECT id, v FROM kv WHERE k BETWEEN ? AND ?  (~10 rows)
    DELETE by PK             DELETE FROM kv WHERE id = ?          each id once

then the point SELECT again on a table of rows/10 and of rows rows (100k vs 1M): an
index lookup should not care. Each case runs ops/10 untimed statements first (plan
caches warm), then times `ops` statements once; the table shows time per statement.
Keys are drawn from one seeded generator, identical for every engine.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyarrow as pa

from bench import engines as E
from bench.harness import Options, Report, Timing, attempt, measure

NAME = "oltp"
DESCRIPTION = "insert/select/update/range per statement (100k rows) and point lookup 100k vs 1M"
ENGINES = (E.RUSTMEMODB, E.SQLITE, E.DUCKDB)


def kv_table(n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "k": pa.array(rng.integers(0, n, n, dtype=np.int64)),
        "v": pa.array(rng.random(n)),
        "s": pa.array([f"row-{i}" for i in range(n)], pa.large_string()),
    })


def seeded(engine: str, n: int, notes: list[str] | None = None) -> Any:
    """A connection with kv loaded; without the index on k if the engine refuses it."""
    conn = E.connect(engine)
    E.load(engine, conn, "kv", kv_table(n), primary_key=("id",))
    _, err = attempt(lambda: conn.execute("CREATE INDEX kv_k ON kv (k)"))
    if err and notes is not None:
        notes.append(f"{engine}: CREATE INDEX failed, range scans run without an index "
                     f"({err.error_class}: {err.message[:80]})")
    return conn


def per_op(fn: Callable[[int], Any], ops: int, opts: Options) -> float:
    """Seconds per call of fn(i), over `ops` calls after ops/10 warm-up calls."""
    warm = max(1, ops // 10)
    for i in range(warm):
        fn(i)
    timing: Timing = measure(lambda: [fn(i) for i in range(warm, warm + ops)], opts, repeat=1)
    return timing.median / ops


def cases(conn: Any, n: int, ops: int, seed: int = 2) -> dict[str, Callable[[int], Any]]:
    rng = np.random.default_rng(seed)
    total = ops + ops // 10 + 1
    ids = rng.integers(1, n + 1, total).tolist()
    lo = rng.integers(0, max(1, n - 10), total).tolist()
    ins = "INSERT INTO kv VALUES (?, ?, ?, ?)"
    new_id = iter(range(n + 1, n + 10 * total)).__next__
    doomed = rng.permutation(np.arange(1, n + 1)).tolist()   # distinct ids: one DELETE each

    def insert(i: int) -> None:
        key = new_id()
        conn.execute(ins, (key, key % n, 0.5, "new"))

    return {
        "insert, autocommit": insert,
        "insert, one transaction": insert,  # run by _in_txn: BEGIN ... COMMIT around it
        "point SELECT by PK": lambda i: conn.execute("SELECT * FROM kv WHERE id = ?", (ids[i],)).fetchall(),
        "UPDATE by PK": lambda i: conn.execute("UPDATE kv SET v = v + 1 WHERE id = ?", (ids[i],)),
        "range scan on index (~10 rows)": lambda i: conn.execute(
            "SELECT id, v FROM kv WHERE k BETWEEN ? AND ?", (lo[i], lo[i] + 9)).fetchall(),
        "DELETE by PK": lambda i: conn.execute("DELETE FROM kv WHERE id = ?", (doomed[i % n],)),
    }


def _in_txn(conn: Any, fn: Callable[[int], Any], ops: int, opts: Options) -> float:
    warm = max(1, ops // 10)
    conn.execute("BEGIN")
    for i in range(warm):
        fn(i)
    conn.execute("COMMIT")

    def body() -> None:
        conn.execute("BEGIN")
        for i in range(warm, warm + ops):
            fn(i)
        conn.execute("COMMIT")

    return measure(body, opts, repeat=1).median / ops


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    small_n = max(10, opts.rows // 10)
    big_n = max(small_n, opts.rows)
    table = report.table(f"time per statement, {small_n:,}-row table, {opts.ops:,} statements",
                         engines)
    lookup = report.table("point SELECT by PK as the table grows", engines)

    for engine in engines:
        conn, err = attempt(lambda: seeded(engine, small_n, report.notes), verbose=opts.verbose)
        if err:
            for name in ("insert, autocommit", "insert, one transaction", "point SELECT by PK",
                         "UPDATE by PK", "range scan on index (~10 rows)", "DELETE by PK"):
                table.add(name, engine, error=err)
            lookup.add(f"{small_n:,} rows", engine, error=err)
        else:
            for name, fn in cases(conn, small_n, opts.ops).items():
                if name == "insert, one transaction":
                    value, err = attempt(lambda: _in_txn(conn, fn, opts.ops, opts), verbose=opts.verbose)
                    if err:
                        attempt(lambda: conn.execute("ROLLBACK"))
                else:
                    value, err = attempt(lambda: per_op(fn, opts.ops, opts), verbose=opts.verbose)
                table.add(name, engine, value, err)
            E.close(conn)
        for n in sorted({small_n, big_n}):
            value, err = attempt(lambda: _lookup(engine, n, opts), verbose=opts.verbose)
            lookup.add(f"{n:,} rows", engine, value, err)
    return report


def _lookup(engine: str, n: int, opts: Options) -> float:
    conn = seeded(engine, n)
    try:
        return per_op(cases(conn, n, opts.ops)["point SELECT by PK"], opts.ops, opts)
    finally:
        E.close(conn)
