"""Contention: the spec's load-test mix from several threads, counting errors.

Table `bench(id INTEGER PRIMARY KEY, payload TEXT)` with 10,000 rows; every thread runs
`--ops` operations (10,000), each with a key drawn uniformly from the 10k ids:

    80%  point read   SELECT id, payload FROM bench WHERE id = ?   + fetchall()
    20%  update       UPDATE bench SET payload = ? WHERE id = ?     (autocommit)

with 4 and with 16 threads. rustmemodb gives every thread its own connection to one
database, so concurrent updates of the same row race for the commit: such a statement
must be re-run transparently (issue 19), so `error_ops` must be 0. sqlite3 has one
connection shared by the threads (its serialized threading mode; separate in-memory
connections would be separate databases). Reported per engine and thread count:
total and error ops, throughput (ops/s) and per-operation latency p50/p99, measured
around each `execute` (+ fetch) call, so the waits for the GIL are included.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pyarrow as pa

from bench import engines as E
from bench.harness import Options, Report, attempt

NAME = "contention"
DESCRIPTION = "80% point reads / 20% updates on 10k rows from 4 and 16 threads: errors, qps, p50/p99"
ENGINES = (E.RUSTMEMODB, E.SQLITE)
ROWS = 10_000
THREADS = (4, 16)
READ_SHARE = 0.8


def bench_table(n: int = ROWS) -> pa.Table:
    return pa.table({"id": pa.array(range(1, n + 1), pa.int64()),
                     "payload": pa.array([f"payload-{i}" for i in range(1, n + 1)],
                                         pa.large_string())})


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def run_mix(engine: str, threads: int, ops: int, seed: int = 7) -> dict[str, Any]:
    """One run: `threads` threads x `ops` operations. Returns counts and latencies."""
    conn = E.connect(engine)
    E.load(engine, conn, "bench", bench_table(), primary_key=("id",))
    if engine == E.RUSTMEMODB:
        conns = [conn.database.connect() for _ in range(threads)]
    else:
        conns = [conn] * threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[list[str]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    read = "SELECT id, payload FROM bench WHERE id = ?"
    write = "UPDATE bench SET payload = ? WHERE id = ?"

    def worker(t: int) -> None:
        c = conns[t]
        rnd = random.Random(seed * 1000 + t)
        lat = latencies[t]
        errs = errors[t]
        start.wait()
        for i in range(ops):
            key = rnd.randint(1, ROWS)
            t0 = time.perf_counter()
            try:
                if rnd.random() < READ_SHARE:
                    c.execute(read, (key,)).fetchall()
                else:
                    c.execute(write, (f"t{t}-{i}", key))
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                errs.append(getattr(exc, "sqlstate", type(exc).__name__))
            lat.append(time.perf_counter() - t0)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in pool:
        th.join()
    wall = time.perf_counter() - t0
    E.close(conn)
    every = sorted(x for lat in latencies for x in lat)
    failed = [e for errs in errors for e in errs]
    return {"total_ops": len(every), "error_ops": len(failed), "errors": sorted(set(failed)),
            "wall": wall, "qps": len(every) / wall if wall else 0.0,
            "p50": _percentile(every, 0.50), "p99": _percentile(every, 0.99)}


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    for threads in THREADS:
        lat = report.table(f"{threads} threads x {opts.ops:,} ops, 80/20 read/update mix: "
                           f"latency per operation", engines)
        counts = report.table(f"{threads} threads: operations (error_ops must be 0) and "
                              f"throughput", engines, unit="count")
        for engine in engines:
            result, err = attempt(lambda: run_mix(engine, threads, opts.ops), verbose=opts.verbose)
            if err:
                for case in ("p50", "p99"):
                    lat.add(case, engine, error=err)
                for case in ("total_ops", "error_ops", "qps (ops/s)"):
                    counts.add(case, engine, error=err)
                continue
            lat.add("p50", engine, result["p50"])
            lat.add("p99", engine, result["p99"])
            counts.add("total_ops", engine, result["total_ops"])
            counts.add("error_ops", engine, result["error_ops"])
            counts.add("qps (ops/s)", engine, result["qps"])
            if result["error_ops"]:
                report.notes.append(f"{engine}, {threads} threads: {result['error_ops']} failed "
                                    f"operations, SQLSTATEs {', '.join(result['errors'])}")
    return report
