"""Persist collections: create / get / patch / query-page per operation, and a watch delta.

Three engines on the same entity shape (UUID id, version, schema version, two
timestamps, name TEXT, qty INTEGER, tags JSONB), side by side:

    persist      rustmemodb.persist collection (validation, audit record, version check)
    rustmemodb   the engine's raw SQL by hand: INSERT, SELECT by key, UPDATE ... WHERE
                 _id = ? AND _version = ?, SELECT ... LIMIT/OFFSET (no audit)
    sqlite3      the hand-written equivalent in sqlite3 (in memory), with a version column

Cases (per operation, over a collection pre-filled with min(--rows, 20,000) entities;
the engines take turns in rounds, each cell the median round, so load on the shared
machine hits all three alike and the notes give persist's ratio to the raw SQL):
create, get by id, patch with expected_version, query page (20 rows ordered by name
after a filter on qty, with the total). ``watch delta`` is the time from a 1-row patch
to the Diff handed to a Collection.watch callback on a --rows-entity collection, minus
the patch itself measured alone (persist only: the others have no change feed).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import time
import uuid
from datetime import datetime

from bench.harness import Failure, Options, Report, attempt, measure

NAME = "persist"
DESCRIPTION = "persist collections: create/get/patch/query-page vs raw SQL and sqlite3"
ENGINES = ("persist", "rustmemodb", "sqlite3")

COLS = ("_id", "_version", "_schema_version", "_created_at", "_updated_at", "name", "qty",
        "tags")
DDL_RMDB = ('CREATE TABLE items ("_id" UUID PRIMARY KEY, "_version" INTEGER NOT NULL, '
            '"_schema_version" INTEGER NOT NULL, "_created_at" TIMESTAMP NOT NULL, '
            '"_updated_at" TIMESTAMP NOT NULL, name TEXT NOT NULL, qty INTEGER, tags JSONB)')
DDL_SQLITE = ("CREATE TABLE items (_id TEXT PRIMARY KEY, _version INTEGER NOT NULL, "
              "_schema_version INTEGER NOT NULL, _created_at TEXT NOT NULL, "
              "_updated_at TEXT NOT NULL, name TEXT NOT NULL, qty INTEGER, tags TEXT)")


def _model():
    import pydantic

    class Item(pydantic.BaseModel):
        name: str
        qty: int | None = None
        tags: list[str] = []
    return Item


def _rows(n: int, start: int = 0):
    now = datetime(2026, 1, 1)
    return [(uuid.uuid4(), 1, 1, now, now, f"item-{i:07d}", i % 100, ["a"])
            for i in range(start, start + n)]


class _Persist:
    def __init__(self, n: int) -> None:
        from rustmemodb.persist import PersistApp
        self.app = PersistApp.open()
        self.coll = self.app.collection("items", _model(), index=["qty"])
        conn = self.app.connect()
        conn.autocommit = False
        conn.executemany(f"INSERT INTO items ({', '.join(COLS)}) VALUES "
                         f"({', '.join('?' * len(COLS))})", _rows(n))
        conn.commit()
        self.ids = [r[0] for r in conn.execute("SELECT _id FROM items LIMIT 1000").fetchall()]

    def create(self, i):
        return self.coll.create({"name": f"new-{i}", "qty": i % 100, "tags": ["b"]})

    def get(self, i):
        return self.coll.get(self.ids[i % len(self.ids)])

    def patch(self, i):
        e = self.coll.get(self.ids[i % len(self.ids)])
        return self.coll.patch(e._id, {"qty": (e.qty or 0) + 1}, expected_version=e._version)

    def page(self, i):
        return self.coll.query(("qty = ?", [i % 100]), order_by="name", page=1, size=20)


class _Raw:
    """The same operations as hand-written SQL on a DB-API connection."""

    def __init__(self, engine: str, n: int) -> None:
        self.engine = engine
        if engine == "sqlite3":
            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            self.conn.execute(DDL_SQLITE)
        else:
            import rustmemodb
            self.conn = rustmemodb.connect()
            self.conn.execute(DDL_RMDB)
        self.conn.execute("CREATE INDEX items_qty ON items (qty)")
        rows = [self._enc(r) for r in _rows(n)]
        self.conn.execute("BEGIN")
        self.conn.executemany(f"INSERT INTO items VALUES ({', '.join('?' * len(COLS))})", rows)
        self.conn.execute("COMMIT")
        self.ids = [r[0] for r in self.conn.execute("SELECT _id FROM items LIMIT 1000")]

    def _enc(self, row):
        if self.engine != "sqlite3":
            return row
        return tuple(str(v) if isinstance(v, (uuid.UUID, datetime)) else
                     json.dumps(v) if isinstance(v, list) else v for v in row)

    def create(self, i):
        now = datetime.now()
        self.conn.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          self._enc((uuid.uuid4(), 1, 1, now, now, f"new-{i}", i % 100,
                                     ["b"])))

    def get(self, i):
        return self.conn.execute("SELECT * FROM items WHERE _id = ?",
                                 (self.ids[i % len(self.ids)],)).fetchone()

    def patch(self, i):
        key = self.ids[i % len(self.ids)]
        self.conn.execute("BEGIN")
        version, qty = self.conn.execute("SELECT _version, qty FROM items WHERE _id = ?",
                                         (key,)).fetchone()
        self.conn.execute("UPDATE items SET qty = ?, _version = ?, _updated_at = ? "
                          "WHERE _id = ? AND _version = ?",
                          ((qty or 0) + 1, version + 1, str(datetime.now()), key, version))
        self.conn.execute("COMMIT")

    def page(self, i):
        total = self.conn.execute("SELECT count(*) FROM items WHERE qty = ?",
                                  (i % 100,)).fetchone()[0]
        return total, self.conn.execute("SELECT * FROM items WHERE qty = ? ORDER BY name, _id "
                                        "LIMIT 20 OFFSET 0", (i % 100,)).fetchall()


def _per_op(targets: dict, op: str, opts: Options) -> dict:
    """Seconds per ``op`` for each engine, the engines taking turns: ``--ops`` operations
    each, in rounds of ``ops / rounds`` per engine, so that a burst of load on the shared
    machine hits every engine alike; the median round per engine. Returns
    {engine: seconds or an exception}."""
    ops = opts.ops
    rounds = max(3, min(9, 2 * opts.repeat + 1))
    per_round = max(20, ops // rounds)
    counters = {e: iter(range(10**12)) for e in targets}
    samples: dict = {e: [] for e in targets}
    failed: dict = {}
    for rnd in range(rounds + 1):                  # round 0 warms up
        for engine, target in targets.items():
            if engine in failed:
                continue
            fn, counter = getattr(target, op), counters[engine]
            try:
                t0 = time.perf_counter()
                for _ in range(per_round):
                    fn(next(counter))
                elapsed = time.perf_counter() - t0
            except Exception as exc:   # noqa: BLE001 - shown as this engine's n/a
                failed[engine] = exc
                continue
            if rnd:
                samples[engine].append(elapsed / per_round)
    return {e: failed.get(e) or statistics.median(v) for e, v in samples.items()}


def _watch_delta(rows: int, opts: Options) -> float:
    """Patch + delivered Diff, minus the patch alone: the cost of the change feed."""
    target = _Persist(rows)
    got = []
    sub = target.coll.watch(got.append)
    n = max(10, opts.ops // 10)

    def patches():
        for i in range(n):
            target.patch(i)
    with_feed = measure(patches, opts, repeat=min(opts.repeat, 3)).median / n
    assert got and got[-1].counts["changed"] == 1, got[-1:]
    sub.cancel()
    alone = measure(patches, opts, repeat=min(opts.repeat, 3)).median / n
    return max(with_feed - alone, 0.0)


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    n = min(opts.rows, 20_000)
    table = report.table(f"per operation, {n:,} entities present", engines)
    targets = {}
    for engine in engines:
        build = (lambda e=engine: _Persist(n)) if engine == "persist" else \
            (lambda e=engine: _Raw(e, n))
        targets[engine], err = attempt(build, verbose=opts.verbose)
        if err is not None:
            for op in ("create", "get", "patch", "page"):
                table.add(op, engine, error=err)
    ratios = []
    live_targets = {e: t for e, t in targets.items() if t is not None}
    for op, label in (("create", "create"), ("get", "get by id"),
                      ("patch", "patch with expected_version"),
                      ("page", "query page (filter, order, 20 rows, total)")):
        values, err = attempt(lambda: _per_op(live_targets, op, opts), verbose=opts.verbose)
        for engine in live_targets:
            if err is not None:
                table.add(label, engine, error=err)
                continue
            value = values[engine]
            if isinstance(value, BaseException):
                table.add(label, engine, error=Failure.from_exc(value))
            else:
                table.add(label, engine, value)
        if err is None and isinstance(values.get("persist"), float) \
                and isinstance(values.get("rustmemodb"), float):
            ratios.append(f"{op} {values['persist'] / values['rustmemodb']:.2f}x")
    if ratios:
        report.notes.append("persist / the engine's raw SQL, same rounds: " + ", ".join(ratios)
                            + " (issue 13's target: create and get within 2x).")
    if opts.wants("persist"):
        live = report.table(f"watch: row delta of a 1-row patch on {opts.rows:,} entities",
                            ["persist"])
        value, err = attempt(lambda: _watch_delta(opts.rows, opts), verbose=opts.verbose)
        live.add("delta delivered to the callback (over the patch)", "persist", value,
                 error=err)
    report.notes.append("persist = validation + audit row + version check in one "
                        "transaction; rustmemodb/sqlite3 = the bare SQL of each operation.")
    return report
