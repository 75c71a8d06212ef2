"""Fault injection: damage every region of a database directory and open it.

A reference database is built once (sync durability, two checkpoints, so there
are two manifests, chunk files, sidecars and two log segments) and "crashed".
Each case copies it, damages the copy in one way — a bit flip in a segment
header, a frame header, a payload, the last record, a chunk file, a manifest or
a sidecar; a truncation at a frame boundary or inside a frame; a deleted file;
an unfinished write after the last record — and opens it. Every open runs in a
worker subprocess, so a segfault or a hang fails the test (naming the case)
instead of killing the suite. Each case must end in exactly one of:

* full recovery: every acknowledged commit, with exactly its data;
* a torn tail cut (with a warning): only records after the last durable LSN
  are lost, and what is visible is exactly the state after some commit;
* XX001, with every file left byte for byte as it was.

Never a silent loss, never a Python error that is not a DB-API error, never a
crash. ``check(path)`` must agree with what opening did. Positions come from a
seeded RNG; ``RUSTMEMODB_FAULT_SCALE`` (default 1) multiplies the number of
random positions (``make soak`` raises it).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.durability.checkpoint import list_manifests
from rustmemodb.durability.wal import FRAME, SEGMENT_HEADER_SIZE, list_segments

SCALE = max(1, int(os.environ.get("RUSTMEMODB_FAULT_SCALE", "1")))
COMMITS = 30


def _digest(conn) -> str:
    rows = conn.execute("SELECT id, v, f, d FROM data ORDER BY id").fetchall()
    bulk = conn.execute("SELECT count(*), sum(x), count(DISTINCT s), min(b), max(b) "
                        "FROM bulk").fetchall()
    wide = conn.execute("SELECT * FROM wide ORDER BY k").fetchall()
    return hashlib.sha1(repr((rows, bulk, wide)).encode()).hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(directory, digest after each commit, LSN of each commit)."""
    path = tmp_path_factory.mktemp("fault") / "ref"
    db = rustmemodb.Database.open(path, durability="sync", checkpoint_bytes=1 << 30)
    conn = db.connect()
    conn.register("src", pa.table({"x": np.arange(2500),
                                   "s": [f"s{i % 97}" for i in range(2500)]}))
    conn.execute("CREATE TABLE acks (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE TABLE data (id INTEGER PRIMARY KEY, v TEXT, f FLOAT, d DATE)")
    conn.execute("CREATE TABLE bulk (b INTEGER, x INTEGER, s TEXT)")
    conn.execute("CREATE TABLE wide (k INTEGER, t TEXT, f FLOAT, ok BOOLEAN, ts TIMESTAMP)")
    base = datetime.datetime(2024, 5, 6, 7, 8, 9)
    for part in range(3):     # Arrow chunks of mixed types, each its own chunk file
        conn.register("w", pa.table({
            "k": np.arange(part * 1000, part * 1000 + 1000),
            "t": [None if i % 11 == 0 else f"text-{i}-{'x' * (i % 7)}" for i in range(1000)],
            "f": np.linspace(-5, 5, 1000),
            "ok": [i % 3 == 0 for i in range(1000)],
            "ts": [base + datetime.timedelta(seconds=i) for i in range(1000)]}))
        conn.execute("INSERT INTO wide SELECT * FROM w")
    digests, lsns = [], []
    for i in range(COMMITS):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO acks VALUES (?)", [i])
        conn.execute("INSERT INTO data VALUES (?, ?, ?, ?)",
                     [i, "v" * (i % 13), i / 3, datetime.date(2024, 1, 1 + i % 28)])
        if i % 5 == 4:
            conn.execute("UPDATE data SET v = 'u', f = -0.0 WHERE id = ?", [i - 2])
        if i % 7 == 6:
            conn.execute("DELETE FROM data WHERE id = ?", [i - 3])
        if i % 8 == 3:
            conn.execute("INSERT INTO bulk SELECT CAST(? AS INTEGER), x, s FROM src", [i])
        conn.execute("COMMIT")
        digests.append(_digest(conn))
        lsns.append(db._lsn)
        if i in (10, 20):
            conn.execute("CHECKPOINT")
    db._abandon()          # a crash: no close, no final checkpoint
    assert len(list_segments(path / "wal")) == 2
    assert len(list_manifests(path)) == 2
    return path, digests, lsns


WORKER = textwrap.dedent(r'''
    import hashlib, json, sys, traceback, warnings
    import rustmemodb

    def digest(conn):
        rows = conn.execute("SELECT id, v, f, d FROM data ORDER BY id").fetchall()
        bulk = conn.execute("SELECT count(*), sum(x), count(DISTINCT s), min(b), max(b) "
                            "FROM bulk").fetchall()
        wide = conn.execute("SELECT * FROM wide ORDER BY k").fetchall()
        return hashlib.sha1(repr((rows, bulk, wide)).encode()).hexdigest()

    for line in sys.stdin:
        case, path = json.loads(line)
        print(json.dumps({"start": case}), flush=True)
        out = {"case": case}
        try:
            out["check"] = rustmemodb.check(path).status
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                db = rustmemodb.Database.open(path)
            out["warnings"] = [str(w.message) for w in caught]
            conn = db.connect()
            out["acks"] = [r[0] for r in conn.execute("SELECT id FROM acks ORDER BY id")]
            out["digest"] = digest(conn)
            db.close()
        except rustmemodb.Error as exc:
            out["error"] = [type(exc).__name__, exc.sqlstate, exc.message]
        except BaseException as exc:
            out["python_error"] = traceback.format_exc()
        print(json.dumps(out), flush=True)
''')


def _tree(path) -> dict:
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            p = os.path.join(root, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = hashlib.sha1(f.read()).hexdigest()
    return out


def _frames(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every frame in a segment's bytes."""
    pos, out = SEGMENT_HEADER_SIZE, []
    while pos + FRAME.size <= len(data) and data[pos:pos + FRAME.size] != bytes(FRAME.size):
        end = pos + FRAME.size + FRAME.unpack_from(data, pos)[0]
        out.append((pos, end))
        pos = end
    return out


def _flip(path, offset: int, bit: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def _write_at(path, offset: int, blob: bytes) -> None:
    """Overwrite bytes at ``offset`` (a write into a preallocated segment's zeros)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(blob)


def _log_end(data: bytes) -> int:
    frames = _frames(data)
    return frames[-1][1] if frames else SEGMENT_HEADER_SIZE


def _truncate(path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def _run_cases(reference, tmp_path, cases) -> None:
    """Apply each (name, damage(copy_dir)) to a fresh copy, open every copy in one
    worker subprocess, and check each outcome."""
    ref, digests, lsns = reference
    prepared = []
    for i, (name, damage) in enumerate(cases):
        name = f"#{i} {name}"
        copy = tmp_path / f"c{i}"
        shutil.copytree(ref, copy)
        damage(copy)
        prepared.append((name, copy, _tree(copy)))
    engine = os.path.dirname(os.path.dirname(rustmemodb.__file__))
    env = {**os.environ, "PYTHONPATH": engine + os.pathsep + os.environ.get("PYTHONPATH", "")}
    results = {}
    workers = []
    for part in (prepared[0::2], prepared[1::2]):       # two workers side by side
        feed = "".join(json.dumps([name, str(copy)]) + "\n" for name, copy, _ in part)
        proc = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)
        workers.append((proc, feed, part))
    for proc, feed, part in workers:
        stdout, stderr = proc.communicate(feed, timeout=600)
        got, started = {}, None
        for line in stdout.splitlines():
            msg = json.loads(line)
            if "start" in msg:
                started = msg["start"]
            else:
                got[msg["case"]] = msg
        assert proc.returncode == 0 and len(got) == len(part), (
            f"the worker died (exit {proc.returncode}) while opening case {started!r}: "
            f"{stderr[-2000:]}")
        results.update(got)
    failures = []
    print(f"{len(prepared)} cases")
    for name, copy, tree in prepared:
        problem = _judge(results[name], copy, tree, digests, lsns)
        if problem:
            failures.append(f"{name}: {problem}")
    assert not failures, f"{len(failures)} of {len(prepared)} cases:\n" + "\n".join(failures)


def _judge(result: dict, copy, tree: dict, digests: list, lsns: list) -> str | None:
    if "python_error" in result:
        return f"a non-DB-API exception:\n{result['python_error']}"
    if "error" in result:
        kind, sqlstate, message = result["error"]
        if sqlstate != "XX001" or kind != "InternalError":
            return f"expected XX001, got {kind} {sqlstate}: {message}"
        if result.get("check") != "damaged":
            return f"open says XX001 but check says {result.get('check')}"
        if _tree(copy) != tree:
            return "a damaged database was modified by check/open"
        return None
    acks, warned = result["acks"], result["warnings"]
    k = len(acks)
    if acks != list(range(k)):
        return f"visible commits are not a prefix: {acks}"
    if k == 0 or result["digest"] != digests[k - 1]:
        return f"the data visible is not the state after commit {k - 1}"
    if k == len(digests):
        if result["check"] == "damaged":
            return "check says damaged but open recovered everything"
        return None
    # Commits were lost: only a torn tail may be cut, and only past the durable mark.
    if not any("torn tail" in w for w in warned):
        return f"silent loss: {len(digests) - k} acknowledged commits missing, no warning"
    return (f"{len(digests) - k} acknowledged (durable) commits were cut as a torn tail: "
            f"{warned}")


# ---- the cases --------------------------------------------------------------------------

def _segments(ref):
    return [p for _, p in list_segments(ref / "wal")]


def _rel(ref, p):
    return p.relative_to(ref)


def test_bit_flips_in_every_region_of_the_log(reference, tmp_path):
    ref = reference[0]
    rng = random.Random(10)
    cases = []
    for seg in _segments(ref):
        rel = _rel(ref, seg)
        data = seg.read_bytes()
        frames = _frames(data)
        for off in rng.sample(range(SEGMENT_HEADER_SIZE), min(SEGMENT_HEADER_SIZE, 6 * SCALE)):
            cases.append((f"{rel} header byte {off}",
                          lambda d, r=rel, o=off, b=rng.randrange(8): _flip(d / r, o, b)))
        for n, (start, end) in enumerate(frames):
            last = n == len(frames) - 1
            for _ in range(SCALE * (4 if last else 2)):
                off = start + rng.randrange(FRAME.size)
                cases.append((f"{rel} frame {n} header byte {off}",
                              lambda d, r=rel, o=off, b=rng.randrange(8): _flip(d / r, o, b)))
                if end > start + FRAME.size:
                    off = rng.randrange(start + FRAME.size, end)
                    cases.append((f"{rel} frame {n}{' (last)' if last else ''} payload byte "
                                  f"{off}", lambda d, r=rel, o=off, b=rng.randrange(8):
                                  _flip(d / r, o, b)))
        end = _log_end(data)
        if end < len(data):            # the zero tail of a preallocated segment
            offs = {end, end + 8, end + FRAME.size, len(data) - 1}
            offs.update(rng.randrange(end, len(data)) for _ in range(2 * SCALE))
            for off in sorted(offs):
                cases.append((f"{rel} zero tail byte {off}",
                              lambda d, r=rel, o=off, b=rng.randrange(8): _flip(d / r, o, b)))
    _run_cases(reference, tmp_path, cases)


def test_truncated_and_deleted_segments_and_unfinished_writes(reference, tmp_path):
    from rustmemodb.durability.wal import frame
    ref = reference[0]
    rng = random.Random(11)
    cases = []
    segs = _segments(ref)
    for seg in segs:
        rel = _rel(ref, seg)
        data = seg.read_bytes()
        sizes = {0, 7, SEGMENT_HEADER_SIZE - 1, SEGMENT_HEADER_SIZE}
        for start, end in _frames(data):
            sizes.add(start)                       # at a frame boundary
            sizes.update(rng.randrange(start + 1, end) for _ in range(SCALE))   # inside
        end = _log_end(data)
        if end < len(data):            # inside the zero tail: the log is whole
            sizes.update({end + 1, end + FRAME.size, rng.randrange(end, len(data))})
        for size in sorted(s for s in sizes if s < len(data)):
            cases.append((f"{rel} truncated to {size} bytes",
                          lambda d, r=rel, s=size: _truncate(d / r, s)))
        cases.append((f"{rel} deleted", lambda d, r=rel: (d / r).unlink()))
    newest = _rel(ref, segs[-1])
    end = _log_end(segs[-1].read_bytes())
    assert end < segs[-1].stat().st_size       # the crashed log's segment is preallocated
    next_lsn = reference[2][-1] + 1
    for n in range(3 * SCALE):       # what a crash in the middle of the next write leaves
        partial = frame(next_lsn, os.urandom(rng.randrange(1, 300)))
        cut = rng.randrange(1, len(partial))
        cases.append(((f"{newest} + unfinished frame ({cut} of {len(partial)} bytes) "
                       f"over its zeros"), lambda d, p=partial[:cut]: _write_at(d / newest, end, p)))
        cases.append((f"{newest} + whole frame, its first bytes still zeros",
                      lambda d, p=partial, k=rng.randrange(1, FRAME.size):
                      _write_at(d / newest, end + k, p[k:])))
        cases.append((f"{newest} + garbage over its zeros",
                      lambda d, g=os.urandom(rng.randrange(1, 200)): _write_at(d / newest, end, g)))
        cases.append((f"{newest} + garbage after its zeros",
                      lambda d, g=os.urandom(rng.randrange(1, 200)):
                      open(d / newest, "ab").write(g)))
    cases.append(("whole log deleted", lambda d: shutil.rmtree(d / "wal")))
    _run_cases(reference, tmp_path, cases)


def test_damaged_checkpoint_files(reference, tmp_path):
    ref = reference[0]
    rng = random.Random(12)
    cases = []
    manifests = [p for _, p in list_manifests(ref)]
    files = [*manifests, *sorted(ref.glob("state-*.bin")), *sorted((ref / "chunks").iterdir())]
    assert len(files) >= 5
    for f in files:
        rel = _rel(ref, f)
        size = f.stat().st_size
        for _ in range(6 * SCALE):
            off = rng.randrange(size)
            cases.append((f"{rel} byte {off}",
                          lambda d, r=rel, o=off, b=rng.randrange(8): _flip(d / r, o, b)))
        cases.append((f"{rel} truncated", lambda d, r=rel, s=rng.randrange(size):
                      _truncate(d / r, s)))
        cases.append((f"{rel} deleted", lambda d, r=rel: (d / r).unlink()))
    for rel in (_rel(ref, manifests[0]),):
        for bad in ('{"manifest": {"format": 2}, "crc32c": 1}', "[]", '{"manifest": 5}',
                    "\x00" * 10, ""):
            cases.append((f"{rel} replaced by {bad!r}",
                          lambda d, r=rel, t=bad: (d / r).write_text(t)))
    cases.append(("both manifests deleted",
                  lambda d: [(d / _rel(ref, m)).unlink() for m in manifests]))
    _run_cases(reference, tmp_path, cases)
