"""Load test: the `rustmemodb load-test` workload on each engine, side by side.

Workload (rustmemodb.cli.loadtest): table bench (id INTEGER PRIMARY KEY, payload TEXT)
with 10,000 rows (2,000 with --quick); 4 workers, each with its own connection, run
for a fixed time SELECT id, payload FROM bench WHERE id = k (80 %) or UPDATE bench SET
payload = ... WHERE id = k (20 %), k uniform; autocommit.

    rustmemodb            embedded: threads on one in-memory database
    rustmemodb (wire)     the same driver loop through psycopg to `rustmemodb.serve` (the
                          PostgreSQL wire server, in this process's own server thread)
    sqlite3               the same driver loop, a WAL file database with synchronous=OFF (no
                          fsync, like the in-memory engine), a connection per thread
    postgresql (psycopg)  the same driver loop over the wire to a throwaway PostgreSQL 15
    pgbench               PostgreSQL's own C driver, same mix as a custom script (-c 4 -j 2)

Reported: time per operation = 1 / throughput (so ratios read as everywhere in bench/:
1.00x is the fastest) and, for the Python-driven engines, p50/p99 latency. PostgreSQL runs
only where its server binaries are installed; the wire columns need psycopg. The wire
server shares this process (and its GIL) with the four client threads, so its column is a
lower bound on what a separate server process would do.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from typing import Iterator

from bench.pg import PG_BIN, throwaway_postgres
from bench.harness import Options, Report, attempt

NAME = "loadtest"
DESCRIPTION = ("the rustmemodb load-test point SELECT/UPDATE mix: embedded, over the wire, "
               "sqlite3, PostgreSQL, pgbench")
RUSTMEMODB, WIRE = "rustmemodb", "rustmemodb (wire)"
SQLITE, PG, PGBENCH = "sqlite3", "postgresql (psycopg)", "pgbench"
ENGINES = (RUSTMEMODB, WIRE, SQLITE, PG, PGBENCH)
CONCURRENCY, READ_RATIO = 4, 80


class SqliteBackend:
    """sqlite3 behind the load test's backend interface (marker, mode, connect, close)."""

    marker = "?"
    mode = "sqlite3 WAL file, synchronous=OFF"

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "bench.sqlite")
        self.opened: list = []

    def connect(self):
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")     # no fsync: the in-memory engine has none
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()


def _run_with(backend, options):
    import random
    import time

    from rustmemodb.cli import loadtest as lt
    try:
        t0 = time.perf_counter()
        setup_conn = backend.connect()
        lt.setup(setup_conn, backend.marker, options.rows, options.payload_size, random.Random(1))
        conns = [backend.connect() for _ in range(options.concurrency)]
        return lt._drive(options, backend, conns, time.perf_counter() - t0)
    finally:
        backend.close()


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL 15 on a Unix socket only, fsync off; None if unavailable."""
    with throwaway_postgres("-k {base} -c listen_addresses='' -F") as base:
        yield None if base is None else str(base)


PGBENCH_SCRIPT = """\\set k random(1, :rows)
\\set r random(1, 100)
\\if :r <= {read_ratio}
SELECT id, payload FROM bench WHERE id = :k;
\\else
UPDATE bench SET payload = md5(:k::text) WHERE id = :k;
\\endif
"""


def run_pgbench(socket_dir: str, rows: int, seconds: float) -> float:
    """Seconds per operation (1 / tps) of pgbench on the bench table already loaded."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT.format(read_ratio=READ_RATIO))
        script = f.name
    try:
        out = subprocess.run([f"{PG_BIN}/pgbench", "-n", "-h", socket_dir, "-U", "postgres",
                              "-c", str(CONCURRENCY), "-j", "2", "-T", str(max(1, round(seconds))),
                              "-D", f"rows={rows}", "-f", script, "postgres"],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script)
    m = re.search(r"tps = ([\d.]+)", out)
    if not m:
        raise RuntimeError(f"pgbench printed no tps: {out[-300:]}")
    return 1.0 / float(m.group(1))


def run(opts: Options) -> Report:
    from rustmemodb.cli import loadtest as lt

    report = Report(NAME, opts)
    rows = 2_000 if opts.quick else 10_000
    seconds = 1.0 if opts.quick else 5.0
    engines = [e for e in ENGINES if opts.wants(e)]
    per_op = report.table(f"time per operation ({CONCURRENCY} workers, {READ_RATIO}% reads, "
                          f"{rows:,} rows, {seconds:g} s)", engines)
    latency = report.table("latency per statement", [e for e in engines if e != PGBENCH])
    case = "1 / throughput"

    def options(**kw) -> lt.Options:
        return lt.Options(duration_secs=seconds, concurrency=CONCURRENCY, rows=rows,
                          read_ratio=READ_RATIO, seed=1, **kw)

    def record(engine: str, make_report) -> None:
        result, err = attempt(make_report, verbose=opts.verbose)
        if err is not None:
            per_op.add(case, engine, error=err)
            return
        per_op.add(case, engine, 1.0 / result.qps if result.qps else None)
        latency.add("p50", engine, result.p50_us / 1e6 if result.p50_us else None)
        latency.add("p99", engine, result.p99_us / 1e6 if result.p99_us else None)
        if result.error_ops:
            per_op.set_note(case, f"{engine}: {result.error_ops} of {result.total_ops} ops failed "
                                  f"({', '.join(result.errors)})")

    if RUSTMEMODB in engines:
        record(RUSTMEMODB, lambda: lt.run(options()))
    if WIRE in engines:
        record(WIRE, lambda: _over_the_wire(lt, options))
    if SQLITE in engines:
        with tempfile.TemporaryDirectory(prefix="rmdb-bench-sqlite-") as d:
            record(SQLITE, lambda: _run_with(SqliteBackend(d), options()))
    if PG in engines or PGBENCH in engines:
        with postgres() as socket_dir:
            if socket_dir is None:
                for engine in (PG, PGBENCH):
                    if engine in engines:
                        per_op.add(case, engine, error=_missing())
            else:
                dsn = f"postgresql://postgres@/postgres?host={socket_dir}"
                if PG in engines:
                    record(PG, lambda: lt.run(options(dsn=dsn)))
                if PGBENCH in engines:
                    if PG not in engines:     # pgbench needs the table the load test makes
                        lt.run(options(dsn=dsn, duration_secs=0.1))
                    value, err = attempt(lambda: run_pgbench(socket_dir, rows, seconds),
                                         verbose=opts.verbose)
                    per_op.add(case, PGBENCH, value, err)
    return report


def _over_the_wire(lt, options):
    """The load test through psycopg against rustmemodb's own wire server."""
    import rustmemodb
    from rustmemodb.server import serve

    conn = rustmemodb.connect()
    server = serve(conn, host="127.0.0.1", port=0, auth="trust")
    try:
        return lt.run(options(dsn=f"postgresql://bench@127.0.0.1:{server.port}/main"))
    finally:
        server.close()
        conn.close()


def _missing():
    from bench.harness import Failure
    return Failure("unavailable", "PostgreSQL 15 server binaries are not installed")
