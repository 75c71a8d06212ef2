"""Branch: set-based writes on a copy of a table without a primary key, then its diff.

Data: a `sales` table without a primary key (customer_id, amount, region) at rows and
5 x rows (1M and 5M by default), the shape of a `--persist`ed DataFrame. Per engine:

    rustmemodb  conn.fork(); UPDATE/DELETE on the fork; rustmemodb.branch.diff(main,
                fork) (rows matched by identity: an UPDATE is one changed row), and the
                three-way merge of the fork back into a fork of main that changed
                another quarter of the rows (no DuckDB counterpart)
    DuckDB      CREATE TABLE copy AS SELECT * FROM sales; the same UPDATE/DELETE on the
                copy; the diff as a FULL OUTER JOIN on rowid with IS DISTINCT FROM,
                fetched as Arrow (DuckDB keeps rowids through UPDATE, so this is the
                same comparison)

The UPDATE changes 25% of the rows, the DELETE another 25%. Memory: what the diff
result keeps alive (tracemalloc + Arrow pool, and RSS growth).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from bench import engines as E
from bench.harness import Options, Report, attempt, measure, memory_of

NAME = "branch"
DESCRIPTION = "UPDATE/DELETE 25% on a fork, diff without a primary key, merge (vs DuckDB)"
ENGINES = (E.RUSTMEMODB, E.DUCKDB)
UPDATE = "UPDATE {t} SET amount = amount * 1.1 WHERE customer_id % 4 = 0"
DELETE = "DELETE FROM {t} WHERE customer_id % 4 = 1"
OTHER = "UPDATE {t} SET region = 'z' WHERE customer_id % 4 = 2"
DUCK_DIFF = """
SELECT CASE WHEN a.rowid IS NULL THEN 'added' WHEN b.rowid IS NULL THEN 'removed'
            ELSE 'changed' END AS change, a.rowid AS a_rowid, b.rowid AS b_rowid,
       b.customer_id, b.amount, b.region
FROM sales a FULL OUTER JOIN copy b ON a.rowid = b.rowid
WHERE a.rowid IS NULL OR b.rowid IS NULL
   OR (a.customer_id, a.amount, a.region) IS DISTINCT FROM (b.customer_id, b.amount, b.region)
"""


def sizes(opts: Options) -> list[int]:
    return [opts.rows, opts.rows * 5]


def sales(n: int) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table({"customer_id": pa.array(rng.integers(0, 100_000, n)),
                     "amount": pa.array(rng.random(n) * 100),
                     "region": pa.array(rng.choice(["n", "s", "e", "w"], n)).cast(pa.string())})


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    t_update = report.table("UPDATE 25% of the rows of a copy", engines)
    t_delete = report.table("DELETE 25% of the rows of a copy", engines)
    t_diff = report.table("diff of the copy against the original (no primary key)", engines)
    t_merge = report.table("three-way merge of the copy into a changed copy", engines)
    t_mem = report.table("memory kept by the diff result", engines, unit="bytes")
    for n in sizes(opts):
        case = f"{n:,} rows"
        data = sales(n)
        for engine in engines:
            conn, err = attempt(lambda: _loaded(engine, data), verbose=opts.verbose)
            if err:
                for t in (t_update, t_delete, t_diff):
                    t.add(case, engine, error=err)
                continue
            side = _Side(engine, conn)
            for table, sql in ((t_update, UPDATE), (t_delete, DELETE)):
                value, err = attempt(lambda: measure(lambda: side.write(sql), opts,
                                                     setup=side.fresh_copy).median,
                                     verbose=opts.verbose)
                table.add(case, engine, value, err)
            side.fresh_copy()
            side.write(UPDATE)
            side.write(DELETE)
            value, err = attempt(lambda: measure(side.diff, opts).median, verbose=opts.verbose)
            t_diff.add(case, engine, value, err)
            result, err = attempt(lambda: memory_of(side.diff), verbose=opts.verbose)
            if err:
                t_mem.add(case, engine, error=err)
            else:
                t_mem.add(f"{case}: tracemalloc+Arrow", engine, result[1].python_arrow)
                t_mem.add(f"{case}: RSS", engine, result[1].rss)
                t_diff.set_note(case, f"{side.counts(result[0])}")
            if engine == E.RUSTMEMODB:
                value, err = attempt(lambda: measure(side.merge, opts).median,
                                     verbose=opts.verbose)
                t_merge.add(case, engine, value, err)
            E.close(conn)
    return report


def _loaded(engine: str, data: pa.Table) -> Any:
    conn = E.connect(engine)
    E.load(engine, conn, "sales", data)
    return conn


class _Side:
    """The original table and a copy of it, per engine."""

    def __init__(self, engine: str, conn: Any) -> None:
        self.engine, self.conn, self.copy = engine, conn, None

    def fresh_copy(self) -> None:
        if self.engine == E.RUSTMEMODB:
            self.copy = self.conn.fork()
        else:
            self.conn.execute("CREATE OR REPLACE TABLE copy AS SELECT * FROM sales")

    def write(self, sql: str) -> None:
        if self.engine == E.RUSTMEMODB:
            self.copy.execute(sql.format(t="sales"))
        else:
            self.conn.execute(sql.format(t="copy"))

    def diff(self) -> Any:
        if self.engine == E.RUSTMEMODB:
            from rustmemodb import branch
            return branch.diff(self.conn, self.copy, "sales")
        return self.conn.sql(DUCK_DIFF).to_arrow_table()

    def counts(self, d: Any) -> str:
        if self.engine == E.RUSTMEMODB:
            c = d.counts
        else:
            kinds = d.column("change").to_pylist()
            c = {k: kinds.count(k) for k in ("added", "removed", "changed")}
        return f"+{c['added']:,} -{c['removed']:,} ~{c['changed']:,}"

    def merge(self) -> None:
        from rustmemodb import branch
        target = self.conn.fork()
        target.execute(OTHER.format(t="sales"))
        result = branch.merge(self.copy, target)
        if not result.applied:
            raise AssertionError(f"merge stopped: {result.conflicts.num_rows} conflicts")
