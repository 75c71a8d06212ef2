"""Real crashes: a child process commits and reports, the parent SIGKILLs it.

The child opens a durable database (SYNC) and runs numbered transactions; each
one inserts its three ``items`` rows, bumps its thread's ``counter`` row, now
and then deletes an older transaction's rows (recording it in ``deleted``) or
bulk-inserts a 5,000-row Arrow table, and writes a checkpoint every few dozen.
As soon as ``COMMIT`` returns, the child prints the transaction's id (flushed).
The parent reads those lines and kills the child with SIGKILL at a random
moment: after a random number of commits, right after a checkpoint started,
or during start-up (recovery of the previous round). Then it reopens the
directory and checks:

* every id the child reported is committed (its rows, or its deletion, are there);
* nothing uncommitted is visible: per thread, the committed ids are exactly
  ``0 .. counter-1`` (the counter is bumped in the same transaction), every
  transaction's rows are all there or all absent, bulk batches are whole.

Rounds run on the same directory, so each recovery starts from what the
previous crash (and recovery) left behind.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

import rustmemodb

CHILD = r'''
import sys, threading
import numpy as np, pyarrow as pa
import rustmemodb
path, threads, ckpt_every, ckpt_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = rustmemodb.Database.open(path, durability="sync", checkpoint_bytes=ckpt_bytes)
setup = db.connect()
for s in ("CREATE TABLE IF NOT EXISTS items (id INTEGER, part INTEGER, pad TEXT, "
          "PRIMARY KEY (id, part))",
          "CREATE TABLE IF NOT EXISTS counter (t INTEGER PRIMARY KEY, n INTEGER)",
          "CREATE TABLE IF NOT EXISTS deleted (id INTEGER PRIMARY KEY)",
          "CREATE TABLE IF NOT EXISTS bulk (batch INTEGER, x INTEGER)"):
    setup.execute(s)
for t in range(threads):
    if not setup.execute("SELECT n FROM counter WHERE t = ?", [t]).fetchall():
        setup.execute("INSERT INTO counter VALUES (?, 0)", [t])
out = threading.Lock()
print("ready", flush=True)

def work(t):
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(5000)}))
    j = conn.execute("SELECT n FROM counter WHERE t = ?", [t]).fetchall()[0][0]
    while True:
        i = t * 1_000_000 + j
        conn.execute("BEGIN")
        for p in range(3):
            conn.execute("INSERT INTO items VALUES (?, ?, ?)", [i, p, "x" * (j % 50)])
        conn.execute("UPDATE counter SET n = n + 1 WHERE t = ?", [t])
        if j % 7 == 6:
            conn.execute("DELETE FROM items WHERE id = ?", [i - 5])
            conn.execute("INSERT INTO deleted VALUES (?)", [i - 5])
        if j % 40 == 13:
            conn.execute("INSERT INTO bulk SELECT CAST(? AS INTEGER), x FROM src", [i])
        conn.execute("COMMIT")
        with out:
            print(i, flush=True)
        j += 1
        if t == 0 and ckpt_every and j % ckpt_every == 0:
            with out:
                print("ckpt", flush=True)
            conn.execute("CHECKPOINT")

ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for th in ts: th.start()
for th in ts: th.join()
'''


def _env():
    engine = os.path.dirname(os.path.dirname(rustmemodb.__file__))
    return {**os.environ, "PYTHONPATH": engine + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_and_kill(path, rng, *, threads=1, ckpt_every=25, ckpt_bytes=256 << 10, when="commits"):
    """Run the child until the chosen kill point; SIGKILL it; return the ids it reported."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(threads),
                             str(ckpt_every), str(ckpt_bytes)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    reported: list[int] = []
    lines: list[str] = []

    def reader():
        for line in proc.stdout:
            lines.append(line.strip())
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    deadline = time.monotonic() + 120
    target = rng.randint(5, 200)
    if when == "startup":
        time.sleep(rng.uniform(0.05, 1.5))
    else:
        while time.monotonic() < deadline and proc.poll() is None:
            done = [x for x in lines if x.isdigit()]
            if when == "commits" and len(done) >= target:
                break
            if when == "checkpoint" and lines and lines[-1] == "ckpt" and len(done) > 30:
                time.sleep(rng.uniform(0, 0.02))      # somewhere inside the checkpoint
                break
            time.sleep(0.0005)
    if proc.poll() is not None:
        raise AssertionError(f"child exited early: {proc.stderr.read()[-3000:]}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    th.join(5)
    reported = [int(x) for x in lines if x.isdigit()]
    return reported


def check(path, reported, threads):
    db = rustmemodb.Database.open(path)
    try:
        conn = db.connect()
        if not {"items", "counter", "deleted", "bulk"} <= set(db.root.tables):
            # killed while the schema's CREATE TABLEs were committing (one at a time)
            assert not reported
            return 0
        counters = dict(conn.execute("SELECT t, n FROM counter").fetchall())
        items: dict[int, set] = {}
        for i, p in conn.execute("SELECT id, part FROM items").fetchall():
            items.setdefault(i, set()).add(p)
        deleted = {r[0] for r in conn.execute("SELECT id FROM deleted").fetchall()}
        bulk = dict(conn.execute("SELECT batch, count(*) FROM bulk GROUP BY batch").fetchall())
        committed = set()
        for t in range(threads):
            n = counters.get(t, 0)
            committed.update(t * 1_000_000 + j for j in range(n))
        for i in reported:
            assert i in committed, f"reported id {i} lost (counter says {counters})"
        visible = set(items) | deleted
        assert visible == committed, (
            f"uncommitted or missing: extra {sorted(visible - committed)[:5]}, "
            f"missing {sorted(committed - visible)[:5]}")
        assert all(parts == {0, 1, 2} for parts in items.values()), "a transaction half-applied"
        assert not (set(items) & deleted)
        for batch, count in bulk.items():
            assert count == 5000 and batch in committed
        expect_bulk = {i for i in committed if (i % 1_000_000) % 40 == 13}
        assert set(bulk) == expect_bulk
        return len(committed)
    finally:
        db._abandon()         # leave the files exactly as they are for the next round


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_points(tmp_path, seed):
    rng = random.Random(seed)
    path = tmp_path / "db"
    total = 0
    plan = ["commits", "checkpoint", "commits", "startup", "checkpoint", "commits"]
    for when in plan:
        reported = run_and_kill(path, rng, when=when)
        total = check(path, reported, threads=1)
    assert total > 50


def test_sigkill_with_concurrent_committers(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "db"
    for when in ["commits", "checkpoint", "commits"]:
        reported = run_and_kill(path, rng, threads=4, ckpt_bytes=64 << 10, when=when)
        check(path, reported, threads=4)


# ---- the crash loop: hundreds of SIGKILLs, cheaply -----------------------------------------
#
# Spawning an interpreter per crash costs ~0.3 s of imports. A *zygote* subprocess
# imports rustmemodb once and, per cycle, forks a child that opens the database
# (recovering what the previous crash left) and commits until it is SIGKILLed by the
# test; the zygote is single-threaded, so forking it is safe. The children are real
# processes killed with SIGKILL mid-write: whatever they had written to the OS is on
# disk, as after any process crash. RUSTMEMODB_CRASH_CYCLES sets the number of
# cycles (``make soak`` runs 1,000).

CRASH_CYCLES = int(os.environ.get("RUSTMEMODB_CRASH_CYCLES", "100"))

ZYGOTE = r'''
import os, sys, json
import numpy as np, pyarrow as pa
import rustmemodb

def child(path, mode, ckpt_every, ckpt_bytes, out):
    def say(text):
        os.write(out, (text + "\n").encode())
    db = rustmemodb.Database.open(path, durability=mode, checkpoint_bytes=ckpt_bytes)
    conn = db.connect()
    for s in ("CREATE TABLE IF NOT EXISTS items (id INTEGER, part INTEGER, pad TEXT, "
              "PRIMARY KEY (id, part))",
              "CREATE TABLE IF NOT EXISTS counter (t INTEGER PRIMARY KEY, n INTEGER)",
              "CREATE TABLE IF NOT EXISTS deleted (id INTEGER PRIMARY KEY)",
              "CREATE TABLE IF NOT EXISTS bulk (batch INTEGER, x INTEGER)"):
        conn.execute(s)
    if not conn.execute("SELECT n FROM counter WHERE t = 0").fetchall():
        conn.execute("INSERT INTO counter VALUES (0, 0)")
    conn.register("src", pa.table({"x": np.arange(5000)}))
    j = conn.execute("SELECT n FROM counter WHERE t = 0").fetchall()[0][0]
    say("ready")
    while True:
        i = j
        conn.execute("BEGIN")
        for p in range(3):
            conn.execute("INSERT INTO items VALUES (?, ?, ?)", [i, p, "x" * (j % 50)])
        conn.execute("UPDATE counter SET n = n + 1 WHERE t = 0")
        if j % 7 == 6:
            conn.execute("DELETE FROM items WHERE id = ?", [i - 5])
            conn.execute("INSERT INTO deleted VALUES (?)", [i - 5])
        if j % 40 == 13:
            conn.execute("INSERT INTO bulk SELECT CAST(? AS INTEGER), x FROM src", [i])
        conn.execute("COMMIT")
        say(str(i))
        j += 1
        if ckpt_every and j % ckpt_every == 0:
            say("ckpt")
            conn.execute("CHECKPOINT")

# Warm up once (lazy imports, first plans) so that every forked child starts warm.
_warm = rustmemodb.connect()
for s in ("CREATE TABLE items (id INTEGER, part INTEGER, pad TEXT, PRIMARY KEY (id, part))",
          "CREATE TABLE counter (t INTEGER PRIMARY KEY, n INTEGER)",
          "CREATE TABLE deleted (id INTEGER PRIMARY KEY)",
          "CREATE TABLE bulk (batch INTEGER, x INTEGER)", "INSERT INTO counter VALUES (0, 0)"):
    _warm.execute(s)
_warm.register("src", pa.table({"x": np.arange(10)}))
for i in range(7, 9):
    _warm.execute("BEGIN")
    _warm.execute("INSERT INTO items VALUES (?, ?, ?)", [i, 0, "x"])
    _warm.execute("UPDATE counter SET n = n + 1 WHERE t = 0")
    _warm.execute("DELETE FROM items WHERE id = ?", [i - 1])
    _warm.execute("INSERT INTO deleted VALUES (?)", [i])
    _warm.execute("INSERT INTO bulk SELECT CAST(? AS INTEGER), x FROM src", [i])
    _warm.execute("SELECT n FROM counter WHERE t = 0").fetchall()
    _warm.execute("COMMIT")
_warm.close()

for line in sys.stdin:
    path, mode, ckpt_every, ckpt_bytes = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(path, mode, ckpt_every, ckpt_bytes, 1)
        except BaseException:
            import traceback
            os.write(1, ("error " + json.dumps(traceback.format_exc()) + "\n").encode())
        finally:
            os._exit(1)
    print(f"pid {pid}", flush=True)
    _, status = os.waitpid(pid, 0)
    print(f"exit {status}", flush=True)
'''


def test_sigkill_crash_loop(tmp_path):
    rng = random.Random(2026)
    path = tmp_path / "db"
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env(), bufsize=1)
    committed = 0
    kills = {"startup": 0, "commits": 0, "checkpoint": 0}
    try:
        for cycle in range(CRASH_CYCLES):
            when = rng.choice(["startup", "commits", "commits", "checkpoint"])
            # async commits are acknowledged once written to the OS, which a process
            # crash keeps: the same promise as sync here, at a fraction of the time
            mode = rng.choice(["sync", "async", "async", "async"])
            zygote.stdin.write(json.dumps([str(path), mode, rng.choice([5, 10, 25]),
                                           rng.choice([16 << 10, 64 << 10])]) + "\n")
            zygote.stdin.flush()
            first = zygote.stdout.readline().split()
            assert first and first[0] == "pid", f"cycle {cycle}: {first} " \
                f"{zygote.stderr.read() if zygote.poll() is not None else ''}"
            pid = int(first[1])
            reported, lines = [], []
            target = rng.randint(0, 25)
            if when == "startup":
                time.sleep(rng.uniform(0, 0.05))
            else:
                while True:
                    line = zygote.stdout.readline().strip()
                    assert not line.startswith(("exit", "error")), \
                        f"cycle {cycle}: the child died on its own: " \
                        f"{json.loads(line[6:]) if line.startswith('error') else line}"
                    lines.append(line)
                    if line.isdigit():
                        reported.append(int(line))
                    if when == "commits" and len(reported) >= target:
                        break
                    if when == "checkpoint" and line == "ckpt":
                        time.sleep(rng.uniform(0, 0.003))
                        break
                    if len(reported) > 200:
                        break
            os.kill(pid, signal.SIGKILL)
            kills[when] += 1
            while True:      # the acknowledgements written before the kill count too
                line = zygote.stdout.readline().strip()
                if line.startswith("exit"):
                    break
                assert not line.startswith("error"), \
                    f"cycle {cycle}: the child failed: {json.loads(line[6:])}"
                if line.isdigit():
                    reported.append(int(line))
            committed = _check_single(path, reported, cycle)
    finally:
        zygote.stdin.close()
        zygote.wait(30)
    assert committed > 100 and all(kills.values()), (committed, kills)


def _check_single(path, reported, cycle) -> int:
    try:
        return check(path, reported, threads=1)
    except AssertionError as exc:
        raise AssertionError(f"after crash cycle {cycle}: {exc}") from None
