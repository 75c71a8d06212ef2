"""Lab: what the notebook layer adds on top of the engine.

Runs in an in-process IPython `InteractiveShell` (no kernel, no browser), with
`%load_ext rustmemodb_lab` and, when installed, jupysql (`%load_ext sql`) on a DuckDB
connection for comparison (plain DuckDB calls otherwise). Columns:

    rustmemodb          the engine called directly (conn.execute(...).fetchall() / .df())
    rustmemodb_lab      the same work as a `%%sql` cell through the shell
    duckdb              DuckDB called directly
    jupysql+duckdb      the same work as a jupysql `%%sql` cell (autopandas on)

Cases: per-cell cost of `SELECT 1` and of fetching 100 rows of a 10k-row table
(cell output captured, so result rendering counts), and a DataFrame round trip of
`--rows` rows (trades: id, sym, px, qty, ts): `CREATE TABLE rt AS SELECT * FROM df`
(the DataFrame variable found by name) then `out << SELECT * FROM rt` back to pandas.
A second table subtracts direct from magic time: the overhead of the notebook layer.
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any, Callable

from bench import engines as E
from bench.harness import Failure, Options, Report, attempt, measure

NAME = "lab"
DESCRIPTION = "%%sql overhead per cell and 1M-row DataFrame round trip vs jupysql+DuckDB"

LAB = "rustmemodb_lab"
JUPYSQL = "jupysql+duckdb"


class Shell:
    """A private InteractiveShell driven cell by cell, output captured.

    It replaces IPython's singleton while the suite runs and puts the previous one back
    in close(), so running the suite inside another IPython session or a test process
    leaves that session's magics and namespace alone.
    """

    def __init__(self) -> None:
        os.environ.setdefault("PLOOMBER_STATS_ENABLED", "false")
        os.environ.setdefault("PLOOMBER_VERSION_CHECK_DISABLED", "true")
        from IPython.core.interactiveshell import InteractiveShell

        self._previous = InteractiveShell._instance if InteractiveShell.initialized() else None
        InteractiveShell.clear_instance()
        self.ip = InteractiveShell.instance()
        self.loaded: list[str] = []

    def cell(self, code: str) -> str:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            result = self.ip.run_cell(code, store_history=False)
        result.raise_error()
        return buf.getvalue()

    def load_ext(self, name: str) -> None:
        self.cell(f"%load_ext {name}")
        self.loaded.append(name)

    def push(self, **values: Any) -> None:
        self.ip.push(values)

    def close(self) -> None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import SingletonConfigurable

        for name in reversed(self.loaded):
            attempt(lambda: self.cell(f"%unload_ext {name}"))
        self.ip.user_ns.clear()
        InteractiveShell.clear_instance()
        prev = self._previous
        if prev is not None:
            for klass in type(prev).mro():
                if isinstance(klass, type) and issubclass(klass, SingletonConfigurable) \
                        and klass is not SingletonConfigurable:
                    klass._instance = prev


def _setup_lab(sh: Shell) -> None:
    sh.load_ext(LAB)


def _setup_jupysql(sh: Shell, duck: Any) -> None:
    # jupysql runs DuckDB queries on a cursor several frames below the cell; DuckDB's
    # replacement scan finds the notebook's DataFrames there only when told to walk all
    # frames, and only a GLOBAL setting reaches the cursor.
    duck.execute("SET GLOBAL python_scan_all_frames = true")
    sh.push(__bench_duck=duck)
    sh.load_ext("sql")
    sh.cell("%config SqlMagic.autopandas = True")
    sh.cell("%config SqlMagic.displaycon = False")
    sh.cell("%sql __bench_duck --alias bench_duck")


def _per_cell(fn: Callable[[], Any], opts: Options, n: int) -> float:
    fn()  # warm-up: first use parses and caches
    return measure(lambda: [fn() for _ in range(n)], opts).median / n


def run(opts: Options) -> Report:
    from datasets import trades

    report = Report(NAME, opts)
    n_cells = 10 if opts.quick else 100
    small = trades.generate(10_000)
    big = trades.generate_df(opts.rows)

    sh = Shell()
    have_jupysql, _ = attempt(lambda: __import__("sql.magic") and True)
    engines = [e for e in (E.RUSTMEMODB, LAB, E.DUCKDB, JUPYSQL if have_jupysql else None)
               if e and opts.wants(e)]
    cells = report.table(f"time per cell (median of {n_cells}-cell runs)", engines)
    trip = report.table(f"DataFrame round trip, {opts.rows:,} rows (df -> table -> pandas)", engines)
    overhead = report.table("notebook-layer overhead (magic minus direct call)",
                            [e for e in (LAB, JUPYSQL) if e in engines], ratios=True)
    if not have_jupysql:
        report.notes.append("jupysql not installed: DuckDB compared by direct calls only")

    base = measure(lambda: [sh.cell("x = 1") for _ in range(n_cells)], opts).median / n_cells
    report.notes.append(f"an empty IPython cell (`x = 1`) costs {base * 1e6:.0f} µs here")

    sh.push(bench_small=small.to_pandas(), bench_big=big)
    q_small = "SELECT * FROM bench_small WHERE id <= 100"

    # -- direct engine calls
    if E.RUSTMEMODB in engines:
        _direct_rustmemodb(cells, trip, small, big, q_small, opts, n_cells)
    if E.DUCKDB in engines:
        _direct_duckdb(cells, trip, small, big, q_small, opts, n_cells)

    # -- magics
    if LAB in engines:
        _magic(cells, trip, sh, LAB, lambda: _setup_lab(sh), q_small, opts, n_cells)
    if JUPYSQL in engines:
        import duckdb

        duck = duckdb.connect()
        _magic(cells, trip, sh, JUPYSQL, lambda: _setup_jupysql(sh, duck), q_small, opts, n_cells)
        attempt(lambda: sh.cell("%sql --close bench_duck"))
        duck.close()
    sh.close()

    for t in (cells, trip):
        for row in t.rows:
            for magic, direct in ((LAB, E.RUSTMEMODB), (JUPYSQL, E.DUCKDB)):
                if magic in row.values and direct in row.values:
                    overhead.add(f"{t is trip and 'round trip' or row.case}", magic,
                                 max(row.values[magic] - row.values[direct], 0.0))
    return report


def _direct_rustmemodb(cells, trip, small, big, q_small, opts, n_cells) -> None:
    conn, err = attempt(lambda: E.connect(E.RUSTMEMODB), verbose=opts.verbose)
    if err:
        for case in ("SELECT 1", "SELECT 100 rows of 10k"):
            cells.add(case, E.RUSTMEMODB, error=err)
        trip.add("round trip", E.RUSTMEMODB, error=err)
        return

    def prep_small() -> None:
        conn.register("bench_small_src", small)
        conn.execute("CREATE TABLE bench_small AS SELECT * FROM bench_small_src")

    value, err = attempt(lambda: _per_cell(lambda: conn.execute("SELECT 1").fetchall(), opts, n_cells),
                         verbose=opts.verbose)
    cells.add("SELECT 1", E.RUSTMEMODB, value, err)
    ok, err = attempt(prep_small, verbose=opts.verbose)
    value, err = (None, err) if err else attempt(
        lambda: _per_cell(lambda: conn.execute(q_small).df(), opts, n_cells), verbose=opts.verbose)
    cells.add("SELECT 100 rows of 10k", E.RUSTMEMODB, value, err)

    def round_trip() -> None:
        conn.register("bench_big", big)
        conn.execute("CREATE TABLE rt AS SELECT * FROM bench_big")
        out = conn.execute("SELECT * FROM rt").df()
        assert len(out) == len(big), (len(out), len(big))

    value, err = attempt(lambda: measure(round_trip, opts, setup=lambda: conn.execute(
        "DROP TABLE IF EXISTS rt")).median, verbose=opts.verbose)
    trip.add("round trip", E.RUSTMEMODB, value, err)
    E.close(conn)


def _direct_duckdb(cells, trip, small, big, q_small, opts, n_cells) -> None:
    import duckdb

    conn = duckdb.connect()
    conn.register("bench_small_src", small)
    conn.execute("CREATE TABLE bench_small AS SELECT * FROM bench_small_src")
    cells.add("SELECT 1", E.DUCKDB,
              _per_cell(lambda: conn.execute("SELECT 1").fetchall(), opts, n_cells))
    cells.add("SELECT 100 rows of 10k", E.DUCKDB,
              _per_cell(lambda: conn.sql(q_small).df(), opts, n_cells))

    def round_trip() -> None:
        conn.register("bench_big_src", big)
        conn.execute("CREATE TABLE rt AS SELECT * FROM bench_big_src")
        out = conn.sql("SELECT * FROM rt").df()
        assert len(out) == len(big)

    trip.add("round trip", E.DUCKDB,
             measure(round_trip, opts, setup=lambda: conn.execute("DROP TABLE IF EXISTS rt")).median)
    conn.close()


def _magic(cells, trip, sh: Shell, engine: str, setup: Callable[[], None], q_small: str,
           opts: Options, n_cells: int) -> None:
    ok, err = attempt(setup, verbose=opts.verbose)
    if err:
        for case in ("SELECT 1", "SELECT 100 rows of 10k"):
            cells.add(case, engine, error=err)
        trip.add("round trip", engine, error=err)
        return
    value, err = attempt(lambda: _per_cell(lambda: sh.cell("%%sql\nSELECT 1"), opts, n_cells),
                         verbose=opts.verbose)
    cells.add("SELECT 1", engine, value, err)
    _, err = attempt(lambda: sh.cell(
        "%%sql\nDROP TABLE IF EXISTS bench_small_t;\n"
        "CREATE TABLE bench_small_t AS SELECT * FROM bench_small"), verbose=opts.verbose)
    q = q_small.replace("bench_small", "bench_small_t")
    value, err = (None, err) if err else attempt(
        lambda: _per_cell(lambda: sh.cell(f"%%sql\n{q}"), opts, n_cells), verbose=opts.verbose)
    cells.add("SELECT 100 rows of 10k", engine, value, err)

    def round_trip() -> None:
        sh.cell("%%sql\nCREATE TABLE rt AS SELECT * FROM bench_big")
        sh.cell("%sql out << SELECT * FROM rt")
        out = sh.ip.user_ns["out"]
        if not hasattr(out, "iloc") and hasattr(out, "DataFrame"):
            out = out.DataFrame()
        if len(out) != opts.rows:
            raise AssertionError(f"round trip returned {len(out)} rows, expected {opts.rows}")

    value, err = attempt(lambda: measure(round_trip, opts, setup=lambda: sh.cell(
        "%sql DROP TABLE IF EXISTS rt")).median, verbose=opts.verbose)
    trip.add("round trip", engine, value, err)
    attempt(lambda: sh.cell("%sql DROP TABLE IF EXISTS rt"))
