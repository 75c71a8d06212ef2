"""Durability: commit latency and throughput per durability mode, recovery time.

rustmemodb's file-backed modes against sqlite3 in WAL mode at the synchronous level
that promises the same thing:

    rustmemodb sync   fsync per commit, group commit     sqlite3 synchronous=FULL
    rustmemodb async  write per commit, fsync every 10ms sqlite3 synchronous=NORMAL
    rustmemodb none   no log (checkpoint on close)       sqlite3 synchronous=OFF

Cases:

    commit latency       autocommit single-row INSERT into kv(id PK, v TEXT), per commit
    4 threads committing the same, 4 connections at once, per commit (group commit)
    open / recover       --rows rows checkpointed + ops/10 single-row commits in the log
                         tail (rustmemodb: checkpoint mmap + log replay after a simulated
                         crash; sqlite3: connect), then one point SELECT; with and without
                         a primary key (rustmemodb rebuilds indexes on open, sqlite
                         reads its B-tree lazily)
    log replay only      ops single-row commits in the log, no checkpoint

All files live in a temporary directory on the same disk; the OS page cache is warm for
the open/recover case (both engines read files they just wrote).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from bench.harness import Options, Report, attempt, measure

NAME = "durability"
DESCRIPTION = "commit latency/throughput per durability mode vs sqlite3 WAL; recovery time"
ENGINES = ("rustmemodb", "sqlite3")
MODES = (("sync", "FULL"), ("async", "NORMAL"), ("none", "OFF"))


# ---- engines ---------------------------------------------------------------------------

def _rmdb(path: Path, mode: str):
    import rustmemodb
    return rustmemodb.Database.open(path, durability=mode)


def _sqlite(path: Path, level: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path / "db.sqlite", isolation_level=None, check_same_thread=False,
                           timeout=60)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={level}")
    return conn


INSERT = "INSERT INTO kv VALUES (?, ?)"
CREATE = "CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)"


def _fresh(root: Path, name: str) -> Path:
    path = root / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---- cases -----------------------------------------------------------------------------

def _latency(engine: str, mode: str, level: str, root: Path, opts: Options) -> float:
    path = _fresh(root, f"lat-{engine}-{mode}")
    db = None
    if engine == "rustmemodb":
        db = _rmdb(path / "d", mode)
        conn = db.connect()
    else:
        conn = _sqlite(path, level)
    conn.execute(CREATE)
    warm, ops = max(1, opts.ops // 10), opts.ops
    for i in range(warm):
        conn.execute(INSERT, (i, "warm"))
    counter = iter(range(warm, 10**12))

    def run():
        for _ in range(ops):
            conn.execute(INSERT, (next(counter), "value"))
    timing = measure(run, opts, repeat=min(opts.repeat, 3))
    (db.close if db is not None else conn.close)()
    return timing.median / ops


def _threads(engine: str, mode: str, level: str, root: Path, opts: Options, n: int = 4) -> float:
    path = _fresh(root, f"thr-{engine}-{mode}")
    db = None
    if engine == "rustmemodb":
        db = _rmdb(path / "d", mode)
        conns = [db.connect() for _ in range(n)]
    else:
        conns = [_sqlite(path, level) for _ in range(n)]
    conns[0].execute(CREATE)
    per = max(1, opts.ops // n)
    base = iter(range(0, 10**12, per))

    def run():
        start = next(base)

        def work(k, conn):
            for i in range(per):
                conn.execute(INSERT, ((start + i) * n + k, "value"))
        ts = [threading.Thread(target=work, args=(k, c)) for k, c in enumerate(conns)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    timing = measure(run, opts, repeat=min(opts.repeat, 3))
    if db is not None:
        db.close()
    else:
        for c in conns:
            c.close()
    return timing.median / (per * n)


def _data(n: int) -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table({"id": np.arange(n, dtype=np.int64),
                     "k": rng.integers(0, n, n, dtype=np.int64),
                     "v": rng.random(n),
                     "s": pa.array([f"row-{i}" for i in range(n)], pa.large_string())})


def _prepare_recovery(engine: str, root: Path, rows: int, tail: int,
                      pk: bool = True) -> Callable[[], Any]:
    """Write rows + tail commits; return a function that opens + runs a point query."""
    path = _fresh(root, f"rec-{engine}-{rows}-{tail}-{pk}")
    key = "PRIMARY KEY" if pk else ""
    data = _data(rows) if rows else None
    if engine == "rustmemodb":
        import rustmemodb
        db = _rmdb(path / "d", "async")
        conn = db.connect()
        conn.execute(f"CREATE TABLE kv (id INTEGER {key}, k INTEGER, v FLOAT, s TEXT)")
        if data is not None:
            conn.register("src", data)
            conn.execute("INSERT INTO kv SELECT * FROM src")
            conn.execute("CHECKPOINT")
        for i in range(tail):
            conn.execute("INSERT INTO kv VALUES (?, ?, ?, ?)", (rows + i, i, 0.5, "tail"))
        db.log.sync()
        db._abandon()                       # a crash: the tail stays in the log

        def reopen():
            db = rustmemodb.Database.open(path / "d", durability="async")
            got = db.connect().execute("SELECT s FROM kv WHERE id = ?", (rows,)).fetchall()
            assert got == [("tail",)], got
            db._abandon()
        return reopen
    conn = _sqlite(path, "NORMAL")
    conn.execute(f"CREATE TABLE kv (id INTEGER {key}, k INTEGER, v REAL, s TEXT)")
    if data is not None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO kv VALUES (?, ?, ?, ?)",
                         zip(*(data.column(c).to_pylist() for c in data.column_names)))
        conn.execute("COMMIT")
    for i in range(tail):
        conn.execute("INSERT INTO kv VALUES (?, ?, ?, ?)", (rows + i, i, 0.5, "tail"))
    conn.close()

    def reopen():
        c = sqlite3.connect(path / "db.sqlite", isolation_level=None)
        got = c.execute("SELECT s FROM kv WHERE id = ?", (rows,)).fetchall()
        assert got == [("tail",)], got
        c.close()
    return reopen


# ---- suite ------------------------------------------------------------------------------

def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    t_lat = report.table("commit latency: autocommit single-row INSERT (per commit)", engines)
    t_thr = report.table("4 threads committing single-row INSERTs (time per commit)", engines)
    t_rec = report.table("open after a crash + one point SELECT", engines)
    root = Path(tempfile.mkdtemp(prefix="rmdb-bench-"))
    try:
        for mode, level in MODES:
            case = f"{mode} | synchronous={level}"
            for engine in engines:
                value, err = attempt(lambda: _latency(engine, mode, level, root, opts),
                                     verbose=opts.verbose)
                t_lat.add(case, engine, value, error=err)
                value, err = attempt(lambda: _threads(engine, mode, level, root, opts),
                                     verbose=opts.verbose)
                t_thr.add(case, engine, value, error=err)
        tail = max(1, opts.ops // 10)
        cases = ((opts.rows, tail, True, f"{opts.rows:,} rows (PK) checkpointed + {tail:,} "
                                         "commits in the log"),
                 (opts.rows, tail, False, f"the same without a primary key (no index rebuild)"),
                 (0, opts.ops, True, f"log replay only: {opts.ops:,} commits"))
        for rows, tail_n, pk, label in cases:
            for engine in engines:
                reopen, err = attempt(lambda: _prepare_recovery(engine, root, rows, tail_n, pk),
                                      verbose=opts.verbose)
                if err is None:
                    timing, err = attempt(lambda: measure(reopen, opts, warmup=1),
                                          verbose=opts.verbose)
                t_rec.add(label, engine, None if err else timing.median, error=err)
        report.notes.append("sync = fsync'ed before COMMIT returns (survives power loss); "
                            "async = written to the OS per commit, fsync'ed every 10 ms "
                            "(survives a process crash); none = no log.")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report
