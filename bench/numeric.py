"""NUMERIC throughput: rustmemodb's numeric against DuckDB's DECIMAL.

Why: exact NUMERIC once made numeric work 150-1400x slower than the float8 NUMERIC it
replaced (values were per-row Python Decimals). This script times the paths that must
stay array operations: sum/avg over ``numeric(12,2)`` columns, ``sum(i * 1.5)`` over
integers (int x numeric is numeric), GROUP BY 100 keys with sum(numeric), and loading
numerics through Arrow and through executemany.

Run it twice to compare rustmemodb versions: the engine on PYTHONPATH is the one timed
(e.g. ``PYTHONPATH=/work/main/engine:/work/main`` for main's float8 NUMERIC).

    python bench/numeric.py [--sizes 1000000,5000000] [--repeat 3] [--engines rustmemodb,duckdb]
    python bench/numeric.py --mixed 100000,1000000 [--engines rustmemodb]

``--mixed``: an unconstrained numeric column of several display scales (executemany of
``Decimal(i) / 100``: 1, 1.5, 0.05; what float_col::numeric also gives), which is stored
as keys, timed beside a float8 column of the same numbers in the same table (both paths
of one engine: "mixed" numeric and "float8"): sum, avg, min/max, GROUP BY 100 keys
sum, max(x * 2 + 1). The first read of a chunk's keys decodes them (timed apart as
"first sum"), later ones reuse that.

Each case prints the median (``--min``: the fastest) of ``--repeat`` runs in milliseconds; the data is the same
on both engines (fixed seed). Results are fetched as Python tuples.
"""
from __future__ import annotations

import argparse
import statistics
import time
from decimal import Decimal


def _data(n: int):
    import numpy as np
    import pyarrow as pa
    rng = np.random.default_rng(42)
    cents = rng.integers(-10_000_000, 10_000_000, n)        # up to +-100000.00
    ids = np.arange(n, dtype=np.int64)
    keys = rng.integers(0, 100, n)
    amount = _scaled(cents, 12, 2)               # the cents as numeric(12,2)
    return pa.table({"id": ids, "k": pa.array(keys, pa.int64()), "amount": amount})


def _scaled(unscaled, precision: int, scale: int):
    """An Arrow decimal128(precision, scale) array whose unscaled values are ``unscaled``
    (int64): built from the 16-byte little-endian words, no per-value Python."""
    import numpy as np
    import pyarrow as pa
    words = np.empty((len(unscaled), 2), dtype=np.int64)
    words[:, 0] = unscaled
    words[:, 1] = np.where(unscaled < 0, -1, 0)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(unscaled),
                                 [None, pa.py_buffer(words.tobytes())])


STAT = statistics.median


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return STAT(times) * 1000


class _Engine:
    """What both engines do alike: a table loaded from a registered Arrow table, a query."""

    conn = None

    def load(self, name: str, table, ddl: str) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {name}")
        self.conn.execute(ddl)
        self.conn.register("src_" + name, table)
        self.conn.execute(f"INSERT INTO {name} SELECT * FROM src_{name}")
        self.conn.unregister("src_" + name)

    def query(self, sql: str):
        return self.conn.execute(sql).fetchall()


class Rust(_Engine):
    name = "rustmemodb"

    def __init__(self):
        import rustmemodb
        self.conn = rustmemodb.connect()

    def executemany(self, sql: str, rows) -> None:
        self.conn.cursor().executemany(sql, rows)
        self.conn.commit()


class Duck(_Engine):
    name = "duckdb"

    def __init__(self):
        import duckdb
        self.conn = duckdb.connect()

    def executemany(self, sql: str, rows) -> None:
        self.conn.executemany(sql.replace("%s", "?"), rows)


DDL = "CREATE TABLE {name} (id bigint, k bigint, amount numeric(12,2))"
# unconstrained numeric: no (p, s) (SQLAlchemy's Numeric(), CREATE TABLE AS of
# computed values, x::numeric); DuckDB reads it as DECIMAL(18,3)
DDL_FREE = "CREATE TABLE {name} (id bigint, k bigint, amount numeric)"


def run(engine, sizes, repeat: int, many: int) -> dict:
    out = {}
    small = _data(1000)          # first statements import and compile: not timed
    engine.load("t", small, DDL.format(name="t"))
    engine.query("SELECT k, sum(amount), avg(amount), sum(id * 1.5) FROM t GROUP BY k")
    for n in sizes:
        data = _data(n)
        tag = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
        for kind, ddl in (("", DDL), ("free ", DDL_FREE)):
            out[f"{kind}insert arrow {tag}"] = _median(
                lambda: engine.load("t", data, ddl.format(name="t")), 1)
            engine.load("t", data, ddl.format(name="t"))
            out[f"{kind}sum {tag}"] = _median(
                lambda: engine.query("SELECT sum(amount) FROM t"), repeat)
            out[f"{kind}avg {tag}"] = _median(
                lambda: engine.query("SELECT avg(amount) FROM t"), repeat)
            if n == sizes[0] and not kind:
                out[f"sum(i*1.5) {tag}"] = _median(
                    lambda: engine.query("SELECT sum(id * 1.5) FROM t"), repeat)
            out[f"{kind}group 100 sum {tag}"] = _median(
                lambda: engine.query("SELECT k, sum(amount) FROM t GROUP BY k ORDER BY k"),
                repeat)
            if kind:
                out[f"{kind}group 100 sum,avg {tag}"] = _median(
                    lambda: engine.query(
                        "SELECT k, sum(amount), avg(amount) FROM t GROUP BY k ORDER BY k"),
                    repeat)
                out[f"{kind}max(x*2+1) {tag}"] = _median(
                    lambda: engine.query("SELECT max(amount * 2 + 1) FROM t"), repeat)
    if engine.name == "duckdb":
        many = min(many, 10_000)      # DuckDB's executemany runs ~0.7 ms a row
    # Decimal(i) / 100 shows scales 0, 1 and 2 (1, 1.5, 0.05): an unconstrained column
    # keeps each, as keys; scaleb(-2) gives every value scale 2 (1.00): decimal128
    mixed = [(i, i % 100, Decimal(i % 1_000_000) / 100) for i in range(many)]
    uniform = [(i, i % 100, Decimal(i % 1_000_000).scaleb(-2)) for i in range(many)]
    for kind, ddl, rows in (("", DDL, mixed), ("free ", DDL_FREE, mixed),
                            ("free scale-2 ", DDL_FREE, uniform)):
        def load_many():
            engine.query("DROP TABLE IF EXISTS m") if engine.name == "duckdb" else \
                engine.conn.execute("DROP TABLE IF EXISTS m")
            engine.conn.execute(ddl.format(name="m"))
            engine.executemany("INSERT INTO m VALUES (%s, %s, %s)", rows)
        out[f"{kind}executemany {many // 1000}k"] = _median(load_many, 1)
        if kind:
            out[f"{kind}sum after executemany {many // 1000}k"] = _median(
                lambda: engine.query("SELECT sum(amount) FROM m"), repeat)
    return out


MIXED_QUERIES = {
    "sum": "SELECT sum({c}) FROM mx",
    "avg": "SELECT avg({c}) FROM mx",
    "min,max": "SELECT min({c}), max({c}) FROM mx",
    "group 100 sum": "SELECT k, sum({c}) FROM mx GROUP BY k ORDER BY k",
    "max(x*2+1)": "SELECT max({c} * 2 + 1) FROM mx",
}


def run_mixed(engine, sizes, repeat: int) -> dict:
    """The mixed-scale numeric column against float8 (see the module docstring)."""
    out = {}
    for n in sizes:
        tag = f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
        engine.conn.execute("DROP TABLE IF EXISTS mx")
        engine.conn.execute("CREATE TABLE mx (k bigint, x numeric, f float)")
        rows = [(i % 100, Decimal(i % 1_000_000) / 100, (i % 1_000_000) / 100)
                for i in range(n)]
        engine.executemany("INSERT INTO mx VALUES (%s, %s, %s)", rows)
        out[f"mixed first sum {tag}"] = _median(
            lambda: engine.query("SELECT sum(x) FROM mx"), 1)
        for case, sql in MIXED_QUERIES.items():
            for kind, col in (("mixed", "x"), ("float8", "f")):
                out[f"{kind} {case} {tag}"] = _median(
                    lambda: engine.query(sql.format(c=col)), repeat)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000000,5000000")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--many", type=int, default=100_000)
    p.add_argument("--engines", default="rustmemodb,duckdb")
    p.add_argument("--mixed", default=None, metavar="SIZES",
                   help="time the mixed-scale numeric column against float8 (rustmemodb)")
    p.add_argument("--min", action="store_true",
                   help="report the fastest run, not the median (a shared, busy machine)")
    args = p.parse_args(argv)
    if args.min:
        global STAT
        STAT = min
    sizes = [int(s) for s in args.sizes.split(",")]
    engines = {"rustmemodb": Rust, "duckdb": Duck}
    if args.mixed:
        engine = Rust()
        for case, ms in run_mixed(engine, [int(s) for s in args.mixed.split(",")],
                                  args.repeat).items():
            print(f"rustmemodb  {case:32} {ms:10.2f} ms", flush=True)
        return
    for name in args.engines.split(","):
        engine = engines[name]()
        for case, ms in run(engine, sizes, args.repeat, args.many).items():
            print(f"{name:11} {case:32} {ms:10.1f} ms", flush=True)


if __name__ == "__main__":
    main()
