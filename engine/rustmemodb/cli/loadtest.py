"""The synthetic load test (``rustmemodb load-test``), pgbench-style but point queries.

    setup    DROP/CREATE bench (id INTEGER PRIMARY KEY, payload TEXT), filled with
             --rows rows in multi-row INSERT batches
    run      --concurrency workers, each with its own connection, for --duration-secs:
             with probability --read-ratio % a ``SELECT id, payload FROM bench WHERE
             id = k``, otherwise ``UPDATE bench SET payload = ... WHERE id = k``,
             k uniform in 1..rows
    report   total/read/write/error ops, qps and p50/p95/p99 latency in µs

Embedded, the workers are threads on one database (the GIL serialises Python, so
this measures the engine's per-statement cost and its lock behaviour, as the
spec's Rust version measures its RwLock). With ``--dsn`` every worker is a
psycopg connection to a PostgreSQL-protocol server (PostgreSQL itself, or ours).

Latencies are kept in a reservoir of at most --sample-max samples (split evenly
between workers), so a long run has bounded memory and unbiased percentiles.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import string
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

BATCH_ROWS = 1000


@dataclass
class Options:
    duration_secs: float = 10.0
    concurrency: int = 4
    rows: int = 10000
    read_ratio: float = 80.0
    sample_max: int = 100000
    payload_size: int = 64
    path: str | None = None
    durability: str = "sync"
    dsn: str | None = None
    seed: int | None = None
    progress: bool = False
    # called with "start" as the workers begin and "stop" once they stopped (after the
    # table's fill and the connections' start-up): bench/wire.py reads each server's
    # CPU time there, so its cost per operation counts the operations only
    on_phase: Callable[[str], None] | None = None


@dataclass
class Report:
    mode: str
    duration_secs: float
    concurrency: int
    rows: int
    read_ratio: float
    payload_size: int
    total_ops: int
    read_ops: int
    write_ops: int
    error_ops: int
    qps: float
    p50_us: float | None
    p95_us: float | None
    p99_us: float | None
    samples: int
    setup_secs: float
    errors: dict = field(default_factory=dict)     # first message per error kind → count

    def as_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        def us(v):
            return "-" if v is None else f"{v:,.1f} µs"
        lines = [
            f"load test: {self.mode}, {self.concurrency} workers, {self.rows:,} rows, "
            f"{self.read_ratio:g}% reads, payload {self.payload_size} B",
            f"  duration      {self.duration_secs:.2f} s (setup {self.setup_secs:.2f} s)",
            f"  total_ops     {self.total_ops:,}",
            f"  read_ops      {self.read_ops:,}",
            f"  write_ops     {self.write_ops:,}",
            f"  error_ops     {self.error_ops:,}",
            f"  qps           {self.qps:,.1f}",
            f"  latency p50   {us(self.p50_us)}",
            f"  latency p95   {us(self.p95_us)}",
            f"  latency p99   {us(self.p99_us)}   ({self.samples:,} samples)",
        ]
        for message, count in self.errors.items():
            lines.append(f"  error x{count}: {message}")
        return "\n".join(lines)


# -- command line -------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration-secs", type=_positive_float, default=10.0, metavar="S",
                   help="how long the workers run (default 10)")
    p.add_argument("--concurrency", type=_positive_int, default=4, metavar="N",
                   help="number of workers, each with its own connection (default 4)")
    p.add_argument("--rows", type=_positive_int, default=10000, metavar="N",
                   help="rows in table bench; keys are 1..N (default 10000)")
    p.add_argument("--read-ratio", type=_percent, default=80.0, metavar="PCT",
                   help="percentage of operations that are SELECTs, the rest UPDATEs (default 80)")
    p.add_argument("--sample-max", type=_positive_int, default=100000, metavar="N",
                   help="latency samples kept for percentiles (reservoir; default 100000)")
    p.add_argument("--payload-size", type=_non_negative_int, default=64, metavar="BYTES",
                   help="length of the payload text (default 64)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--path", metavar="DIR",
                       help="run embedded on the file-backed database in DIR (default: in memory)")
    where.add_argument("--dsn", metavar="URL",
                       help="run over the wire: postgresql://user@host:port/db (needs psycopg)")
    p.add_argument("--durability", choices=("sync", "async", "none"), default="sync",
                   help="with --path: commit durability (default sync)")
    p.add_argument("--seed", type=int, default=None, help="random seed (keys, mix, payloads)")
    p.add_argument("--progress", action="store_true",
                   help="print a progress line every second even when stderr is not a terminal")
    p.add_argument("--json", action="store_true", help="print the final report as JSON")


def _positive_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return v


def _positive_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text!r}")
    return v


def _non_negative_int(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text!r}")
    return v


def _percent(text: str) -> float:
    v = float(text)
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, not {text!r}")
    return v


def run_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.durability != "sync" and not args.path:
        parser.error("--durability goes with --path DIR (a file-backed database)")
    opts = Options(duration_secs=args.duration_secs, concurrency=args.concurrency,
                   rows=args.rows, read_ratio=args.read_ratio, sample_max=args.sample_max,
                   payload_size=args.payload_size, path=args.path, durability=args.durability,
                   dsn=args.dsn, seed=args.seed,
                   progress=args.progress or sys.stderr.isatty())
    try:
        report = run(opts)
    except LoadTestError as exc:
        print(f"rustmemodb load-test: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict()) if args.json else report.text())
    return 0 if report.total_ops > report.error_ops else 1


class LoadTestError(Exception):
    """The load test could not run (no connection, setup failed)."""


# -- backends: how to connect and which parameter marker to use ---------------------------------

class Backend:
    marker = "?"
    mode = "embedded"

    def connect(self):
        raise NotImplementedError

    def close(self) -> None:
        pass


class Embedded(Backend):
    """Threads sharing one database: in memory, or file-backed at ``path``."""

    def __init__(self, path: str | None, durability: str) -> None:
        import rustmemodb
        self.path = path
        self.durability = durability
        self.mode = f"embedded {path} ({durability})" if path else "embedded in-memory"
        # Held for the whole run: a file-backed database closes with its last connection.
        self.first = rustmemodb.connect(path, durability=durability) if path else rustmemodb.connect()
        self.opened = [self.first]

    def connect(self):
        conn = self.first.database.connect()
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in reversed(self.opened):
            conn.close()


class Wire(Backend):
    """psycopg connections (autocommit, like the embedded default) to a server."""

    marker = "%s"

    def __init__(self, dsn: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise LoadTestError("--dsn needs psycopg: pip install 'psycopg[binary]'") from None
        self.psycopg = psycopg
        self.dsn = dsn
        self.mode = "wire " + _redact(dsn)
        self.opened: list = []

    def connect(self):
        try:
            conn = self.psycopg.connect(self.dsn, autocommit=True)
        except self.psycopg.Error as exc:
            raise LoadTestError(f"cannot connect to {_redact(self.dsn)}: {exc}".strip()) from None
        self.opened.append(conn)
        return conn

    def close(self) -> None:
        for conn in self.opened:
            conn.close()


def _redact(dsn: str) -> str:
    """The DSN without a password (``user:secret@`` → ``user:***@``)."""
    import re
    return re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", dsn)


def _backend(opts: Options) -> Backend:
    if opts.dsn:
        return Wire(opts.dsn)
    try:
        return Embedded(opts.path, opts.durability)
    except Exception as exc:   # rustmemodb errors carry SQLSTATE in str()
        raise LoadTestError(f"cannot open {opts.path}: {exc}") from None


# -- the run ----------------------------------------------------------------------------------

def run(opts: Options) -> Report:
    backend = _backend(opts)
    try:
        t0 = time.perf_counter()
        setup_conn = backend.connect()
        try:
            setup(setup_conn, backend.marker, opts.rows, opts.payload_size, random.Random(opts.seed))
        except Exception as exc:
            raise LoadTestError(f"setup failed: {exc}") from None
        setup_secs = time.perf_counter() - t0
        conns = [backend.connect() for _ in range(opts.concurrency)]
        return _drive(opts, backend, conns, setup_secs)
    finally:
        backend.close()


def setup(conn, marker: str, rows: int, payload_size: int, rng: random.Random) -> None:
    """(Re)create table bench and fill it in multi-row INSERT batches."""
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, payload TEXT)")
    for start in range(1, rows + 1, BATCH_ROWS):
        n = min(BATCH_ROWS, rows + 1 - start)
        sql = "INSERT INTO bench VALUES " + ", ".join([f"({marker}, {marker})"] * n)
        params: list = []
        for k in range(start, start + n):
            params += (k, payload(rng, payload_size))
        conn.execute(sql, params)
    commit = getattr(conn, "commit", None)
    if commit:
        commit()


_LETTERS = string.ascii_letters + string.digits


def payload(rng: random.Random, size: int) -> str:
    return "".join(rng.choices(_LETTERS, k=size))


@dataclass
class _Counters:
    reads: int = 0
    writes: int = 0
    errors: int = 0
    seen: int = 0                                   # latencies offered to the reservoir
    samples: list = field(default_factory=list)
    error_kinds: dict = field(default_factory=dict)


def _drive(opts: Options, backend: Backend, conns: list, setup_secs: float) -> Report:
    counters = [_Counters() for _ in conns]
    stop = threading.Event()
    start_gate = threading.Barrier(len(conns) + 1)
    per_worker = max(1, opts.sample_max // len(conns))
    seed = random.Random(opts.seed)
    seeds = [seed.getrandbits(64) for _ in conns]
    threads = [threading.Thread(target=_worker, name=f"load-test-{i}", daemon=True,
                                args=(conn, backend.marker, opts, c, per_worker, stop,
                                      start_gate, random.Random(s)))
               for i, (conn, c, s) in enumerate(zip(conns, counters, seeds))]
    for t in threads:
        t.start()
    if opts.on_phase is not None:
        opts.on_phase("start")
    start_gate.wait()
    began = time.perf_counter()
    deadline = began + opts.duration_secs
    next_tick = began + 1.0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        time.sleep(max(0.0, min(deadline, next_tick) - now))
        if time.perf_counter() >= next_tick:
            if opts.progress:
                _progress(counters, time.perf_counter() - began)
            next_tick += 1.0
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if opts.on_phase is not None:
        opts.on_phase("stop")
    if opts.progress:
        print(file=sys.stderr)
    return _report(opts, backend.mode, counters, elapsed, setup_secs)


def _worker(conn, marker: str, opts: Options, c: _Counters, cap: int, stop: threading.Event,
            gate: threading.Barrier, rng: random.Random) -> None:
    read_sql = f"SELECT id, payload FROM bench WHERE id = {marker}"
    write_sql = f"UPDATE bench SET payload = {marker} WHERE id = {marker}"
    rows, ratio, size = opts.rows, opts.read_ratio / 100.0, opts.payload_size
    clock = time.perf_counter_ns
    samples = c.samples
    gate.wait()
    while not stop.is_set():
        k = rng.randint(1, rows)
        is_read = rng.random() < ratio
        text = None if is_read else payload(rng, size)
        t = clock()
        try:
            if is_read:
                conn.execute(read_sql, (k,)).fetchall()
            else:
                conn.execute(write_sql, (text, k))
        except Exception as exc:   # counted, not fatal: e.g. 40001 under write contention
            c.errors += 1
            key = _error_key(exc)
            c.error_kinds[key] = c.error_kinds.get(key, 0) + 1
            _recover(conn)
            continue
        latency = clock() - t
        if is_read:
            c.reads += 1
        else:
            c.writes += 1
        c.seen += 1
        if len(samples) < cap:
            samples.append(latency)
        else:
            j = rng.randrange(c.seen)
            if j < cap:
                samples[j] = latency


def _error_key(exc: Exception) -> str:
    state = getattr(exc, "sqlstate", None)
    lines = str(exc).splitlines()
    message = getattr(exc, "message", None) or (lines[0] if lines else type(exc).__name__)
    return f"{state} {message}" if state else f"{type(exc).__name__}: {message}"


def _recover(conn) -> None:
    """After an error, leave no failed transaction behind (autocommit normally has none)."""
    try:
        if getattr(conn, "in_transaction", False):
            conn.rollback()
    except Exception:
        pass


def _progress(counters: list, elapsed: float) -> None:
    ops = sum(c.reads + c.writes for c in counters)
    errs = sum(c.errors for c in counters)
    sys.stderr.write(f"\r[{elapsed:5.1f}s] ops {ops:,}  qps {ops / elapsed:,.0f}  errors {errs:,}   ")
    sys.stderr.flush()


def percentile(sorted_values: list, p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def _report(opts: Options, mode: str, counters: list, elapsed: float, setup_secs: float) -> Report:
    reads = sum(c.reads for c in counters)
    writes = sum(c.writes for c in counters)
    errs = sum(c.errors for c in counters)
    samples = sorted(s for c in counters for s in c.samples)
    kinds: dict = {}
    for c in counters:
        for k, v in c.error_kinds.items():
            kinds[k] = kinds.get(k, 0) + v

    def us(p):
        v = percentile(samples, p)
        return None if v is None else round(v / 1000.0, 1)

    total = reads + writes + errs
    return Report(mode=mode, duration_secs=round(elapsed, 3), concurrency=opts.concurrency,
                  rows=opts.rows, read_ratio=opts.read_ratio, payload_size=opts.payload_size,
                  total_ops=total, read_ops=reads, write_ops=writes, error_ops=errs,
                  qps=round((reads + writes) / elapsed, 1) if elapsed > 0 else 0.0,
                  p50_us=us(50), p95_us=us(95), p99_us=us(99), samples=len(samples),
                  setup_secs=round(setup_secs, 3), errors=kinds)
