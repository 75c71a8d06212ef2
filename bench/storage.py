"""Storage shape: how the way a table was filled changes what scanning it costs.

The same N rows (rows/10, 100k by default) of `ev(id PK, g, v)`, filled three ways:

    bulk                one INSERT ... SELECT from Arrow (sqlite3: executemany in one
                        transaction)
    small loads         single-row INSERTs between bulk loads of a few thousand rows:
                        500 loads (quick: 50); every load used to freeze the one-row tail
                        into a chunk of its own
    single-row INSERTs  N autocommit statements (quick and default: at most 20,000)

then per table: a full aggregate `SELECT count(*), sum(v) FROM ev` and a filtered one
(`WHERE g = 3`). Scans should cost the same whichever way the table was filled (target:
within 1.5x of the bulk-loaded table). Second table: `executemany` of `--rows` rows
(1M) into an empty table with a primary key, against sqlite3's executemany in one
transaction (target: within 2x), with the chunk count rustmemodb ends with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from bench import engines as E
from bench.harness import Options, Report, attempt, measure

NAME = "storage"
DESCRIPTION = "scans of tables filled in bulk / by small loads / by single rows; executemany"
ENGINES = (E.RUSTMEMODB, E.SQLITE, E.DUCKDB)

SCANS = {
    "count + sum": "SELECT count(*), sum(v) FROM ev",
    "filtered sum": "SELECT count(*), sum(v) FROM ev WHERE g = 3",
}


def _rows(n: int, start: int = 0) -> pa.Table:
    ids = np.arange(start, start + n, dtype=np.int64)
    return pa.table({"id": ids, "g": ids % 10, "v": ids * 0.5})


def _create(engine: str, conn: Any) -> None:
    t = E._TYPES[engine]
    conn.execute(f"CREATE TABLE ev (id {t['int']} PRIMARY KEY, g {t['int']}, v {t['float']})")


def _bulk(engine: str, n: int) -> Any:
    conn = E.connect(engine)
    E.load(engine, conn, "ev", _rows(n), primary_key=("id",))
    return conn


def _small_loads(engine: str, n: int, loads: int) -> Any:
    conn = E.connect(engine)
    _create(engine, conn)
    per = max(1, n // loads - 1)
    pos = 0
    for _ in range(loads):
        conn.execute(f"INSERT INTO ev VALUES ({pos}, {pos % 10}, {pos * 0.5})")
        pos += 1
        part = _rows(per, pos)
        if engine == E.SQLITE:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO ev VALUES (?, ?, ?)", E.sqlite_rows(part))
            conn.execute("COMMIT")
        else:
            conn.register("part", part)
            conn.execute("INSERT INTO ev SELECT * FROM part")
            if engine == E.DUCKDB:
                conn.unregister("part")
        pos += per
    return conn


def _single_rows(engine: str, n: int) -> Any:
    conn = E.connect(engine)
    _create(engine, conn)
    for i in range(n):
        conn.execute("INSERT INTO ev VALUES (?, ?, ?)", (i, i % 10, i * 0.5))
    return conn


def _chunks(engine: str, conn: Any) -> str:
    if engine != E.RUSTMEMODB:
        return ""
    v = conn.database.root.tables["ev"]
    return f"{len(v.chunks)} chunks + {v.tail_len} tail rows"


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    n = max(1000, opts.rows // 10)
    loads = 50 if opts.quick else 500
    singles = min(n, 20_000)
    scans = report.table(f"scan of {n:,} rows by how the table was filled "
                         f"(single rows: {singles:,})", engines)
    many = report.table(f"executemany of {opts.rows:,} rows into an empty table",
                        [e for e in engines if e != E.DUCKDB])
    builds = {"bulk": lambda e: _bulk(e, n),
              f"{loads} small loads": lambda e: _small_loads(e, n, loads),
              "single-row INSERTs": lambda e: _single_rows(e, singles)}
    shapes: list[str] = []
    for engine in engines:
        for build_name, build in builds.items():
            conn, err = attempt(lambda: build(engine), verbose=opts.verbose)
            if not err and engine == E.RUSTMEMODB:
                shapes.append(f"{build_name}: {_chunks(engine, conn)}")
            for scan_name, sql in SCANS.items():
                case = f"{build_name}: {scan_name}"
                if err:
                    scans.add(case, engine, error=err)
                    continue
                value, e2 = attempt(lambda: measure(lambda: conn.execute(sql).fetchall(),
                                                    opts, warmup=1).median,
                                    verbose=opts.verbose)
                scans.add(case, engine, value, e2)
            if conn is not None:
                E.close(conn)
        if engine == E.DUCKDB:
            continue
        value, err = attempt(lambda: _executemany(engine, opts, shapes), verbose=opts.verbose)
        many.add(f"{opts.rows:,} rows, 4 columns", engine, value, err)
    report.notes.extend(f"rustmemodb table shape, {s}" for s in shapes)
    report.notes.append("targets (issue 11): scans of tables filled by small loads or single "
                        "rows within 1.5x of the bulk-loaded one; executemany <= 2x sqlite3")
    return report


def _executemany(engine: str, opts: Options, shapes: list[str]) -> float:
    n = opts.rows
    rows = [(i, i % 1000, i * 0.5, f"s{i % 100}") for i in range(n)]
    conn = E.connect(engine)
    t = E._TYPES[engine]
    conn.execute(f"CREATE TABLE em (id {t['int']} PRIMARY KEY, k {t['int']}, "
                 f"v {t['float']}, s {t['text']})")

    def body() -> None:
        if engine == E.SQLITE:
            conn.execute("BEGIN")
        conn.executemany("INSERT INTO em VALUES (?, ?, ?, ?)", rows)
        if engine == E.SQLITE:
            conn.execute("COMMIT")

    def reset() -> None:
        conn.execute("DELETE FROM em")

    value = measure(body, opts, setup=reset, repeat=1).median
    if engine == E.RUSTMEMODB:
        v = conn.database.root.tables["em"]
        shapes.append(f"executemany: {len(v.chunks)} chunks "
                      f"({min(map(len, v.chunks), default=0):,}-{max(map(len, v.chunks), default=0):,} "
                      f"rows) + {v.tail_len} tail rows")
    E.close(conn)
    return value
