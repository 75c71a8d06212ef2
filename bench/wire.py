"""Wire server vs PostgreSQL 15: pgbench select-only and the spec's 80/20 load-test mix.

Both servers run as separate processes on this machine and listen on TCP loopback;
the same clients drive both, one after the other, in one run:

    select-only, simple     pgbench -S -M simple   (pgbench -i -s 1: 100,000 accounts)
    select-only, prepared   pgbench -S -M prepared
    80/20 mix, pgbench      the spec's load test as a pgbench script: 80 % point SELECT,
                            20 % autocommit UPDATE by uniform key, 10,000 rows, 4 clients
    80/20 mix, load-test    the same mix driven by `rustmemodb load-test --dsn` (psycopg,
                            4 threads in one Python process: client-bound for both)
    TPC-B, transactions     pgbench's own script (BEGIN, three point UPDATEs, a point
                            SELECT, an INSERT, END) -M prepared, 4 clients on the
                            scale-1 tables, both servers' default READ COMMITTED:
                            every transaction updates the one branch row; ours re-runs
                            the one that loses the race, PostgreSQL's writers wait for
                            the row lock. No target: what explicit transactions cost.

Both servers are up at once and every case runs in alternating rounds (see ``run``):
on a shared machine the load and the disk's fsync latency drift, and a comparison of
two runs minutes apart measures the drift. Durability: rustmemodb serves a database directory with ``--durability sync`` (an fsync
per commit) and PostgreSQL runs with fsync on and synchronous_commit on, so the mix
compares durable commits with durable commits. Reported: seconds per transaction
(1 / tps) with the ratio to the faster server, and the tps ratio against the issue's
targets (select-only >= 0.3x PostgreSQL; the mix with sync durability >= PostgreSQL).
Four clients over `-j 2` threads; the machine's cores are shared with the clients.

A second table gives each server's CPU time per transaction: every thread of every
process of the server (rustmemodb's and its fsync helper; PostgreSQL's postmaster, its
auxiliary processes and the backends it reaped, whose time the kernel adds to their
parent's), from /proc, over the same rounds. Unlike tps it hardly moves with the load
of a shared machine, so it says what a change did to the server's own cost while the
tps ratio drifts with the neighbours; it also separates the two reasons to lose the
mix: more CPU per transaction, or waiting (fsyncs, wake-ups) with CPU to spare.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench.pg import PG_BIN, throwaway_postgres
from bench.harness import Failure, Options, Report, attempt

NAME = "wire"
DESCRIPTION = ("the wire server vs PostgreSQL 15: pgbench select-only (simple, prepared) and "
               "the 80/20 load-test mix with durable commits")
OURS, PG = "rustmemodb server", "postgresql 15"
CLIENTS, THREADS, MIX_ROWS, READ_RATIO = 4, 2, 10_000, 80
TARGETS = {"select-only": 0.3, "80/20": 1.0}   # by the case's first word

MIX_SCRIPT = """\\set k random(1, {rows})
\\set r random(1, 100)
\\if :r <= {read_ratio}
SELECT id, payload FROM bench WHERE id = :k;
\\else
UPDATE bench SET payload = md5(:k::text) WHERE id = :k;
\\endif
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port}")


def _stat_fields(path: str) -> list[str]:
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def process_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of ``pid``, its threads and its descendants, plus
    what its exited children used (``cutime``/``cstime``: a PostgreSQL backend's time
    once the postmaster reaped it); None where /proc is not there to read."""
    if not os.path.exists(f"/proc/{pid}/stat"):
        return None
    ticks = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            own = _stat_fields(f"/proc/{p}/stat")
            ticks += int(own[13]) + int(own[14])            # reaped children
            for tid in os.listdir(f"/proc/{p}/task"):
                f = _stat_fields(f"/proc/{p}/task/{tid}/stat")
                ticks += int(f[11]) + int(f[12])
                try:
                    with open(f"/proc/{p}/task/{tid}/children") as c:
                        todo.extend(int(x) for x in c.read().split())
                except OSError:
                    pass
        except (OSError, IndexError, ValueError):
            continue                                        # exited meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def _postmaster_pid(base: Path) -> int | None:
    try:
        return int((base / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


@contextmanager
def rustmemodb_server() -> Iterator[tuple[int, int]]:
    """``python -m rustmemodb.server`` on a database directory, sync durability:
    (port, pid)."""
    base = Path(tempfile.mkdtemp(prefix="rmdb-bench-wire-"))
    port = _free_port()
    env = dict(os.environ)
    engine_dir = str(Path(__file__).resolve().parent.parent / "engine")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (engine_dir, env.get("PYTHONPATH")) if p)
    # BENCH_WIRE_FSYNC=thread|process|aio|replies|uring compares the server's fsync hand-offs
    # (default: the server's own choice, auto)
    fsync = os.environ.get("BENCH_WIRE_FSYNC", "auto")
    proc = subprocess.Popen([sys.executable, "-m", "rustmemodb.server", "--trust", "--port",
                             str(port), "--db", str(base / "db"), "--durability", "sync",
                             "--dbname", "main", "--fsync", fsync],
                            stdout=subprocess.DEVNULL, stderr=open(base / "log", "w"), env=env)
    try:
        _wait_port(port, proc, "rustmemodb server")
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def postgresql() -> Iterator[tuple[int, int | None] | None]:
    """A throwaway PostgreSQL 15 on a loopback TCP port with fsync on: (port, the
    postmaster's pid); None if missing."""
    port = _free_port()
    with throwaway_postgres(f"-k {{base}} -p {port} -c listen_addresses=127.0.0.1 "
                            "-c fsync=on -c synchronous_commit=on",
                            prefix="rmdb-bench-wire-pg-") as base:
        yield None if base is None else (port, _postmaster_pid(base))


def _conninfo(port: int, user: str, db: str) -> list[str]:
    return ["-h", "127.0.0.1", "-p", str(port), "-U", user, db]


def pgbench(port: int, user: str, db: str, *args: str, timeout: float = 600) -> str:
    out = subprocess.run([f"{PG_BIN}/pgbench", *args, *_conninfo(port, user, db)],
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(args)}: {out.stderr.strip()[-400:]}")
    return out.stdout


def transactions(output: str) -> int:
    m = re.search(r"number of transactions actually processed: (\d+)", output)
    if not m:
        raise RuntimeError(f"pgbench printed no transaction count: {output[-300:]}")
    return int(m.group(1))


def tps(output: str) -> float:
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if failed and int(failed.group(1)):
        raise RuntimeError(f"{failed.group(1)} transactions failed")
    m = re.search(r"tps = ([\d.]+)", output)
    if not m:
        raise RuntimeError(f"pgbench printed no tps: {output[-300:]}")
    return float(m.group(1))


def _load_mix_table(port: int, user: str, db: str) -> None:
    import psycopg
    with psycopg.connect(host="127.0.0.1", port=port, user=user, dbname=db,
                         autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench")
        conn.execute("CREATE TABLE bench (id INTEGER PRIMARY KEY, payload TEXT)")
        conn.execute(f"INSERT INTO bench SELECT i, md5(i::text) FROM "
                     f"generate_series(1, {MIX_ROWS}) i")


def _cases(port: int, user: str, db: str, seconds: int, script: str, pid: int | None):
    """(case, thunk -> (seconds per transaction, server CPU seconds per transaction or
    None)) for one server, whose process is ``pid``."""
    run = ["-n", "-c", str(CLIENTS), "-j", str(THREADS), "-T", str(seconds)]

    def cpu() -> float | None:
        return process_tree_cpu(pid) if pid else None

    def per_transaction(before: float | None, count: int) -> float | None:
        if before is None or not count:
            return None
        time.sleep(0.3)           # a backend ends just after its client: then reaped
        after = cpu()
        return None if after is None else (after - before) / count

    def init() -> None:
        pgbench(port, user, db, "-i", "-s", "1", "-q")
        _load_mix_table(port, user, db)

    def measured(*args: str) -> tuple[float, float | None]:
        before = cpu()
        output = pgbench(port, user, db, *run, *args)
        return 1.0 / tps(output), per_transaction(before, transactions(output))

    def select_only(mode: str):
        return lambda: measured("-S", "-M", mode)

    def mix():
        return measured("-M", "prepared", "-f", script, "-D", f"rows={MIX_ROWS}")

    def tpcb():
        return measured("-M", "prepared")

    def loadtest():
        from rustmemodb.cli import loadtest as lt
        marks: dict[str, float | None] = {}
        result = lt.run(lt.Options(duration_secs=seconds, concurrency=CLIENTS, rows=MIX_ROWS,
                                   read_ratio=READ_RATIO, seed=1,
                                   dsn=f"postgresql://{user}@127.0.0.1:{port}/{db}",
                                   on_phase=lambda phase: marks.__setitem__(phase, cpu())))
        if result.error_ops:
            raise RuntimeError(f"{result.error_ops} of {result.total_ops} operations failed")
        start, stop = marks.get("start"), marks.get("stop")
        used = None if start is None or stop is None or not result.total_ops else \
            (stop - start) / result.total_ops
        return 1.0 / result.qps, used
    return init, [("select-only, simple protocol", select_only("simple")),
                  ("select-only, prepared protocol", select_only("prepared")),
                  ("80/20 mix, pgbench script, durable commits", mix),
                  ("80/20 mix, load-test driver (psycopg), durable commits", loadtest),
                  ("TPC-B (pgbench's BEGIN ... END script), durable commits", tpcb)]


def _fsync_latency(directory: str, n: int = 50) -> float:
    """Median seconds of an fsync after a small append in ``directory`` (this disk, now)."""
    import statistics
    fd, path = tempfile.mkstemp(dir=directory)
    try:
        times = []
        for i in range(n):
            os.pwrite(fd, b"x" * 128, i * 128)
            t = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t)
        return statistics.median(times)
    finally:
        os.close(fd)
        os.unlink(path)


def run(opts: Options) -> Report:
    """Both servers run at once; each case runs in rounds that alternate between them
    (ours first in odd rounds, PostgreSQL first in even ones), so load from elsewhere on
    the machine and the disk's fsync latency, which drift over minutes on a shared VM,
    fall on both alike. A cell is the median over the rounds; the note gives each
    round's tps ratio and their median."""
    import statistics
    report = Report(NAME, opts)
    seconds = 2 if opts.quick else 5
    rounds = 1 if opts.quick else max(3, min(opts.repeat, 7))
    engines = [e for e in (OURS, PG) if opts.wants(e)]
    table = report.table(f"seconds per transaction = 1 / tps ({CLIENTS} clients, "
                         f"{rounds} alternating rounds of {seconds} s, median)", engines)
    cpu_table = report.table("server CPU seconds per transaction (every process of the "
                             "server, user + system, same rounds, median)", engines)
    if shutil.which(f"{PG_BIN}/pgbench") is None and not Path(PG_BIN, "pgbench").exists():
        for e in engines:
            table.add("pgbench", e, error=Failure("unavailable", "pgbench is not installed"))
        return report
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(MIX_SCRIPT.format(rows=MIX_ROWS, read_ratio=READ_RATIO))
        script = f.name
    fsyncs: list[float] = []
    ratios: dict[str, list[float]] = {}
    try:
        with rustmemodb_server() if OURS in engines else _nothing() as ours, \
                postgresql() if PG in engines else _nothing() as pg:
            servers = {}
            pids: dict[str, int | None] = {}
            if OURS in engines:
                servers[OURS] = (ours[0], "bench", "main")
                pids[OURS] = ours[1]
            if PG in engines:
                if pg is None:
                    table.add("select-only, simple protocol", PG,
                              error=Failure("unavailable", "PostgreSQL 15 is not installed"))
                else:
                    servers[PG] = (pg[0], "postgres", "postgres")
                    pids[PG] = pg[1]
            cases: dict[str, dict] = {}
            broken: dict[str, Failure] = {}
            for engine, (port, user, db) in servers.items():
                init, engine_cases = _cases(port, user, db, seconds, script, pids.get(engine))
                _, err = attempt(init, verbose=opts.verbose)
                if err is not None:
                    broken[engine] = err
                for case, thunk in engine_cases:
                    cases.setdefault(case, {})[engine] = thunk
            order = list(servers)
            for case, thunks in cases.items():
                values: dict[str, list[float]] = {e: [] for e in thunks}
                cpu: dict[str, list[float]] = {e: [] for e in thunks}
                errors_: dict[str, Failure] = {}
                for r in range(rounds):
                    fsyncs.append(_fsync_latency(tempfile.gettempdir()))
                    turn = order if r % 2 == 0 else order[::-1]
                    got = {}
                    for engine in turn:
                        if engine in broken or engine in errors_ or engine not in thunks:
                            continue
                        value, err = attempt(thunks[engine], verbose=opts.verbose)
                        if err is not None:
                            errors_[engine] = err
                        else:
                            value, used = value
                            values[engine].append(value)
                            got[engine] = value
                            if used is not None:
                                cpu[engine].append(used)
                    if OURS in got and PG in got:
                        ratios.setdefault(case, []).append(got[PG] / got[OURS])
                for engine in thunks:
                    err = broken.get(engine) or errors_.get(engine)
                    if err is not None:
                        table.add(case, engine, error=err)
                    else:
                        table.add(case, engine, statistics.median(values[engine]))
                        if cpu[engine]:
                            cpu_table.add(case, engine, statistics.median(cpu[engine]))
    finally:
        os.unlink(script)
    for row in table.rows:
        per_round = ratios.get(row.case)
        if per_round:
            ratio = statistics.median(per_round)     # tps ratio: ours / PostgreSQL's
            target = TARGETS.get(row.case.split(" ", 1)[0].rstrip(","))
            verdict = "" if target is None else \
                f" ({'meets' if ratio >= target else 'below'} the {target:g}x target)"
            table.set_note(row.case, f"tps ratio {ratio:.2f}x PostgreSQL, median of "
                                     f"{'/'.join(f'{x:.2f}' for x in per_round)}{verdict}")
    if fsyncs:
        report.notes.append(f"fsync of a 128-byte append in {tempfile.gettempdir()}: median "
                            f"{statistics.median(fsyncs) * 1e6:.0f} µs per round, from "
                            f"{min(fsyncs) * 1e6:.0f} to {max(fsyncs) * 1e6:.0f} µs")
    return report


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
