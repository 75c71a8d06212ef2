"""Scale: an analyst's 5M-row sales table, rustmemodb beside DuckDB in one run.

The 1M-row analytics suite hides costs that grow with the data (per-row Python, copies
of the whole table, conversions on every query). This suite queries a `sales` table of
`--scale-rows` rows (default 5,000,000; `--quick` uses `--rows`) with a 200-row
`products` dimension, in two shapes:

    stored     CREATE TABLE (id PRIMARY KEY) filled from Arrow (engines.load)
    DataFrame  a pandas DataFrame queried by name: rustmemodb through the connection's
               replacement scan (as the notebook layer does), DuckDB through register()

Reads: count/avg/min/max; join with the dimension + GROUP BY; count(DISTINCT);
ORDER BY ... LIMIT 10; row_number() OVER (PARTITION BY customer ORDER BY date); a
50-bin histogram GROUP BY. Writes (stored table only): UPDATE of 25% of the rows and
DELETE of 25%, each on a fresh copy made untimed beforehand (rustmemodb `fork()`,
DuckDB `CREATE TABLE ... AS SELECT` of the table). Answers are checked against DuckDB's.

The suite is opt-in: `python -m bench` runs it only when it is named or `--scale-rows`
is given, so the default run stays at the 1M-row sizes.
"""

from __future__ import annotations

from typing import Any, Callable

from bench import engines as E
from bench.analytics import compare, normalise
from bench.harness import Failure, Options, Report, attempt, measure

NAME = "scale"
DESCRIPTION = "5M-row sales table + DataFrame: aggregates, join, DISTINCT, top-k, window, UPDATE/DELETE vs DuckDB"
ENGINES = (E.RUSTMEMODB, E.DUCKDB)
DEFAULT_ROWS = 5_000_000
PRODUCTS = 200

READS: dict[str, str] = {
    "count_avg_min_max": "SELECT count(*), avg(amount), min(amount), max(amount) FROM {t}",
    "join_dim_group_by": """
        SELECT p.category, count(*) AS n, sum(s.amount) AS total
        FROM {t} s JOIN products p ON s.product_id = p.product_id
        GROUP BY p.category ORDER BY p.category""",
    "count_distinct": "SELECT count(DISTINCT customer_id) FROM {t}",
    "order_by_limit_10": "SELECT id, amount FROM {t} ORDER BY amount DESC, id LIMIT 10",
    "row_number_window": """
        SELECT count(*) AS n, sum(rn) AS s FROM (
            SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY date, id) AS rn
            FROM {t}) w
        WHERE rn <= 3""",
    "histogram_50_bins": """
        SELECT floor(amount / 20) AS bin, count(*) AS n FROM {t}
        GROUP BY floor(amount / 20) ORDER BY bin""",
}

WRITES: dict[str, str] = {
    "update_25pct_on_copy": "UPDATE {t} SET amount = amount * 1.1 WHERE id % 4 = 0",
    "delete_25pct_on_copy": "DELETE FROM {t} WHERE id % 4 = 1",
}


def rows_for(opts: Options) -> int:
    """Rows of `sales`: --scale-rows, else --rows in quick mode, else 5M."""
    if opts.scale_rows:
        return opts.scale_rows
    return opts.rows if opts.quick else DEFAULT_ROWS


def generate(n: int, seed: int = 11):
    """(sales, products) as Arrow tables; deterministic for a given n."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    customers = max(n // 50, 1)
    sales = pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "customer_id": pa.array(rng.integers(0, customers, n, dtype=np.int64)),
        "product_id": pa.array(rng.integers(0, PRODUCTS, n, dtype=np.int64)),
        "amount": pa.array(np.round(rng.gamma(2.0, 100.0, n).clip(max=999.99), 2)),
        "date": pa.array(rng.integers(18_262, 18_262 + 3 * 365, n).astype(np.int32),
                         type=pa.int32()).cast(pa.date32()),
    })
    pid = np.arange(PRODUCTS, dtype=np.int64)
    products = pa.table({
        "product_id": pa.array(pid),
        "category": pa.array([f"cat{i % 12:02d}" for i in range(PRODUCTS)]),
        "price": pa.array(np.round(1 + pid * 2.5, 2)),
    })
    return sales, products


class _Handle:
    """One engine's connection with `sales` stored and `sales_df` queryable by name."""

    def __init__(self, engine: str, sales, products):
        self.engine = engine
        self.conn = E.connect(engine)
        E.load(engine, self.conn, "sales", sales, primary_key=("id",))
        E.load(engine, self.conn, "products", products, primary_key=("product_id",))
        self.frame = sales.to_pandas()
        if engine == E.RUSTMEMODB:
            frames = {"sales_df": self.frame}
            self.conn.replacement_scan = frames.get
        else:
            self.conn.register("sales_df", self.frame)
        self.copy: Any = None

    def read(self, sql: str) -> Callable[[], Any]:
        return lambda: self.conn.execute(sql).fetchall()

    def fresh_copy(self) -> None:
        """An untimed copy of the committed state for a write to change."""
        if self.engine == E.RUSTMEMODB:
            self.copy = self.conn.fork()
        else:
            self.conn.execute("CREATE OR REPLACE TABLE sales_copy AS SELECT * FROM sales")
            self.copy = self.conn

    def write(self, sql: str) -> Callable[[], Any]:
        table = "sales" if self.engine == E.RUSTMEMODB else "sales_copy"
        stmt = sql.format(t=table)
        return lambda: self.copy.execute(stmt)

    def after_write(self, sql: str) -> list[tuple]:
        """What the write left behind, for the check against DuckDB."""
        table = "sales" if self.engine == E.RUSTMEMODB else "sales_copy"
        return self.copy.execute(
            f"SELECT count(*), sum(amount), min(id), max(id) FROM {table}").fetchall()


def run(opts: Options) -> Report:
    n = rows_for(opts)
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    times = report.table(f"time, sales {n:,} rows + products {PRODUCTS} rows", engines)
    load = report.table("load sales + products from Arrow (untimed setup, for reference)",
                        engines, ratios=False)
    checks = report.table("result check against DuckDB", engines, unit="check")
    sales, products = generate(n)

    handles: dict[str, _Handle] = {}
    for engine in engines:
        timing, err = attempt(lambda: measure(lambda: handles.__setitem__(
            engine, _Handle(engine, sales, products)), opts, repeat=1), verbose=opts.verbose)
        load.add("load", engine, timing.median if timing else None, err)
        if err:
            handles.pop(engine, None)

    cases: list[tuple[str, Callable[[_Handle], tuple[Callable, Callable | None, Callable]]]] = []
    for name, sql in READS.items():
        for shape, table in (("stored", "sales"), ("DataFrame", "sales_df")):
            stmt = sql.format(t=table)
            cases.append((f"{name} ({shape})",
                          lambda h, s=stmt: (h.read(s), None, h.read(s))))
    for name, sql in WRITES.items():
        cases.append((name, lambda h, s=sql: (h.write(s), h.fresh_copy,
                                              lambda: h.after_write(s))))

    for case, make in cases:
        answers: dict[str, Any] = {}
        for engine, h in handles.items():
            fn, setup, answer = make(h)
            if setup is not None:
                _, err = attempt(setup, verbose=opts.verbose)
                if err:
                    times.add(case, engine, error=err)
                    continue
            _, err = attempt(fn, verbose=opts.verbose)
            if err:
                times.add(case, engine, error=err)
                continue
            answers[engine], err = attempt(answer, verbose=opts.verbose)
            timing, err = attempt(lambda: measure(fn, opts, setup=setup), verbose=opts.verbose)
            times.add(case, engine, timing.median if timing else None, err)
        want = answers.get(E.DUCKDB)
        for engine, got in answers.items():
            if want is None or got is None:
                continue
            diff = compare(normalise(got), normalise(want))
            checks.add(case, engine, None if diff else 1,
                       Failure("Mismatch", diff) if diff else None)

    for h in handles.values():
        E.close(h.conn)
    return report
