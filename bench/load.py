"""Load: getting a large Arrow table into each engine, row batches in, and a scan out.

Data: TPC-H-like `lineitem` (15 columns) with `--rows` rows (1M by default).

    bulk load from Arrow   rustmemodb  CREATE TABLE; conn.register('src', tbl);
                                       INSERT INTO t SELECT * FROM src
                           DuckDB      CREATE TABLE t AS SELECT * FROM <arrow table>
                           sqlite3     CREATE TABLE; executemany in one transaction, timed
                                       including the Arrow -> Python tuples conversion
    executemany            rows/100 rows already as Python tuples, one INSERT ... VALUES
                           (?, ...) statement, in one transaction
    SELECT * back out      rustmemodb cursor.arrow(), DuckDB con.sql(q).to_arrow_table(),
                           sqlite3 fetchall() (tuples: sqlite has no Arrow output)

Each timed run starts from a fresh connection, so every load creates its table anew.
After timing, `SELECT count(*)` and the scan's row count are checked (untimed): an
engine that kept Arrow buffers by reference is fast here, but must hold every row.
"""

from __future__ import annotations

from typing import Any

from bench import engines as E
from bench.harness import Options, Report, attempt, measure

NAME = "load"
DESCRIPTION = "bulk load of a 1M-row Arrow table, executemany, full scan back to Arrow"
ENGINES = (E.RUSTMEMODB, E.DUCKDB, E.SQLITE)


def run(opts: Options) -> Report:
    from datasets import tpch

    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    table = report.table("load and scan", engines)
    data = tpch.generate(opts.rows)["lineitem"]
    small = data.slice(0, max(1, opts.rows // 100))
    py_rows = list(zip(*(c.to_pylist() for c in small.columns)))
    sqlite_small = E.sqlite_rows(small)

    bulk_case = f"bulk load {data.num_rows:,} rows from Arrow"
    many_case = f"executemany {small.num_rows:,} rows"
    scan_case = f"SELECT * back out ({data.num_rows:,} rows)"
    for engine in engines:
        holder: dict[str, Any] = {}

        def fresh() -> None:
            E.close(holder.pop("conn", None))
            holder["conn"] = E.connect(engine)

        def bulk() -> None:
            conn = holder["conn"]
            if engine == E.DUCKDB:
                conn.register("src", data)
                conn.execute("CREATE TABLE t AS SELECT * FROM src")
            else:
                E.load(engine, conn, "t", data)

        def many() -> None:
            conn = holder["conn"]
            conn.execute(E.ddl(engine, "t", small.schema))
            marks = ", ".join("?" * small.num_columns)
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO t VALUES ({marks})",
                             sqlite_small if engine == E.SQLITE else py_rows)
            conn.execute("COMMIT")

        def scan() -> Any:
            conn = holder["conn"]
            if engine == E.RUSTMEMODB:
                return conn.execute("SELECT * FROM t").arrow()
            if engine == E.DUCKDB:
                return conn.sql("SELECT * FROM t").to_arrow_table()
            return conn.execute("SELECT * FROM t").fetchall()

        def count() -> None:  # untimed: the load really holds every row
            n = holder["conn"].execute("SELECT count(*) FROM t").fetchall()[0][0]
            if n != holder["expect"]:
                raise AssertionError(f"table has {n} rows after loading {holder['expect']}")

        def checked(fn, expect: int) -> float:
            holder["expect"] = expect
            value = measure(fn, opts, setup=fresh).median
            count()
            return value

        def scan_checked() -> float:
            value = measure(scan, opts, warmup=1).median
            n = len(scan()) if engine == E.SQLITE else scan().num_rows
            if n != data.num_rows:
                raise AssertionError(f"scan returned {n} rows, expected {data.num_rows}")
            return value

        value, err = attempt(lambda: checked(bulk, data.num_rows), verbose=opts.verbose)
        table.add(bulk_case, engine, value, err)
        if err is None:
            # The last timed bulk load left a full table behind: scan it.
            value, err = attempt(scan_checked, verbose=opts.verbose)
        table.add(scan_case, engine, value, err)
        value, err = attempt(lambda: checked(many, small.num_rows), verbose=opts.verbose)
        table.add(many_case, engine, value, err)
        E.close(holder.pop("conn", None))
    if E.SQLITE in engines:
        table.set_note(bulk_case, "sqlite3: includes Arrow -> tuples conversion")
        table.set_note(scan_case, "sqlite3: fetchall() tuples, not Arrow")
    return report
