"""Pauses: the distribution of single-statement latency and of garbage-collector pauses
during a long run of point writes on a large indexed table.

Table `pause(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)` with an index on k (two
indexes: the primary key and k), `--rows` rows (1M by default); then `10 x --ops`
point writes (100k by default), autocommit, keys from one seeded generator:

    60%  UPDATE pause SET k = ?, v = ? WHERE id = ?     (changes its key in the k index)
    20%  INSERT INTO pause VALUES (?, ?, ?)             (new ids above the loaded ones)
    20%  DELETE FROM pause WHERE id = ?                 (each loaded id at most once)

The UPDATE and DELETE shapes run once first on an id that does not exist (a first run
compiles the plan and loads the function catalog: start-up, not a pause). Every
statement is timed on its own, by wall clock (`perf_counter` around `execute`)
and by CPU time (`thread_time`: what the statement itself computed, without the time
the thread waited for a core, which on a shared machine dominates the wall-clock tail),
and collector pauses are timed through `gc.callbacks` (start to stop of each
collection) over the same run. Reported: p50, p99, p99.9 and max of both, the number of statements over
20 ms and the total time in the collector, for rustmemodb and sqlite3 in one run.
Target (issue 10): no single statement pauses more than 20 ms on a 1M-row table.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np
import pyarrow as pa

from bench import engines as E
from bench.harness import Options, Report, attempt

NAME = "pauses"
DESCRIPTION = "per-statement latency and GC pause distribution (p50/p99/max) over 100k point writes on 1M rows"
ENGINES = (E.RUSTMEMODB, E.SQLITE)
SLOW = 0.020   # seconds: the bound for a single statement


def pause_table(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
                     "k": pa.array(rng.integers(0, n, n, dtype=np.int64)),
                     "v": pa.array([f"v{i}" for i in range(n)], pa.large_string())})


def workload(n: int, writes: int, seed: int = 4) -> list[tuple[str, tuple]]:
    rng = np.random.default_rng(seed)
    kinds = rng.random(writes)
    ids = rng.integers(1, n + 1, writes).tolist()
    ks = rng.integers(0, n, writes).tolist()
    doomed = iter(rng.permutation(np.arange(1, n + 1)).tolist())
    new_id = n
    out = []
    for i in range(writes):
        if kinds[i] < 0.6:
            out.append(("UPDATE pause SET k = ?, v = ? WHERE id = ?", (ks[i], f"u{i}", ids[i])))
        elif kinds[i] < 0.8:
            new_id += 1
            out.append(("INSERT INTO pause VALUES (?, ?, ?)", (new_id, ks[i], f"n{i}")))
        else:
            out.append(("DELETE FROM pause WHERE id = ?", (next(doomed),)))
    return out


class GcPauses:
    """Durations of collections while active (gc.callbacks start/stop pairs)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._t0 = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._t0)

    def __enter__(self) -> "GcPauses":
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: Any) -> None:
        gc.callbacks.remove(self._callback)


def _q(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def run_writes(engine: str, n: int, writes: int) -> dict[str, Any]:
    conn = E.connect(engine)
    E.load(engine, conn, "pause", pause_table(n), primary_key=("id",))
    conn.execute("CREATE INDEX pause_k ON pause (k)")
    statements = workload(n, writes)
    # Each shape once first, matching no row (ids start at 1): a statement's first run
    # compiles its plan, and the engine's first comparison loads the function catalog
    # (imports, once per process): start-up costs, measured by `bench frontend`, not
    # pauses of a running database.
    conn.execute("UPDATE pause SET k = ?, v = ? WHERE id = ?", (0, "warm", 0))
    conn.execute("DELETE FROM pause WHERE id = ?", (0,))
    latencies, cpu = [], []
    wall, thread = time.perf_counter, time.thread_time
    gc.collect()
    with GcPauses() as pauses:
        for sql, params in statements:
            t0, c0 = wall(), thread()
            conn.execute(sql, params)
            cpu.append(thread() - c0)
            latencies.append(wall() - t0)
    E.close(conn)
    latencies.sort()
    cpu.sort()
    gcs = sorted(pauses.pauses)
    return {"latency": latencies, "cpu": cpu, "gc": gcs}


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    n, writes = opts.rows, opts.ops * 10
    lat = report.table(f"latency of each of {writes:,} point writes on a {n:,}-row table "
                       f"with two indexes", engines)
    cput = report.table("CPU time of each of those statements (thread_time)", engines)
    gct = report.table("garbage-collector pauses during those writes (whole process)", engines,
                       ratios=False)
    counts = report.table("statements over 20 ms, collections, time in the collector",
                          engines, unit="count")
    for engine in engines:
        result, err = attempt(lambda: run_writes(engine, n, writes), verbose=opts.verbose)
        if err:
            for t, case in ((lat, "max"), (cput, "max"), (gct, "max"),
                            (counts, "statements over 20 ms")):
                t.add(case, engine, error=err)
            continue
        ls, cs, gs = result["latency"], result["cpu"], result["gc"]
        for name, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
            lat.add(name, engine, _q(ls, q))
            cput.add(name, engine, _q(cs, q))
            if gs:
                gct.add(name, engine, _q(gs, q))
        lat.add("max", engine, ls[-1] if ls else 0.0)
        cput.add("max", engine, cs[-1] if cs else 0.0)
        if gs:
            gct.add("max", engine, gs[-1])
        counts.add("statements over 20 ms", engine, sum(1 for x in ls if x > SLOW))
        counts.add("statements over 20 ms of CPU", engine, sum(1 for x in cs if x > SLOW))
        counts.add("collections", engine, len(gs))
        counts.add("time in the collector (ms)", engine, sum(gs) * 1000)
    return report
