"""Live grids: how long after a 1-row commit the LiveFrame's redraw is complete.

The issue's target for persist collections shown as live dataframes: a live grid
refresh after a 1-row change on a 1M-row table within 20 ms, as a delta, not a
re-query. A ``rustmemodb_lab`` LiveFrame (50-row page) follows the --rows table
``items`` (``live("items")``: a table source, kept by row deltas); each sample
commits one change and times from just before the COMMIT to the end of the
frame's redraw (delta or re-query, change marks, DataFrame, HTML). Samples are
spaced past the frame's debounce interval (``live.MIN_INTERVAL``), so the
numbers are the redraw's own latency, not the coalescing delay a burst of
commits would see.

Cases: a 1-row UPDATE of a row on the page (unsorted = key order; sorted by an
indexed column ``qty``; by an unindexed one ``score``; filtered and sorted), an
INSERT past the page (the total changes, the page does not), and a DELETE of a
row on the page (a row leaves a full page: the next row is read from the index
on ``qty``, through a 1,000-row run of equal values ordered by key). The
``path`` table counts how each case's refreshes went (delta, or re-query).
Next to them, the page statements (count and page) re-run directly after the
same change (rustmemodb to a DataFrame, sqlite3 in memory with the same index
to tuples). p50 and p99 per case.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time

from bench.harness import Options, Report, attempt

NAME = "live"
DESCRIPTION = "live grid redraw latency after a 1-row commit vs re-running the page query"
ENGINES = ("rustmemodb live", "rustmemodb", "sqlite3")   # the last two: the page re-queried
PAGE = 50
# case label -> (sort column or None, descending, filter or None, change kind)
CASES = {
    "update on page, unsorted (key order)": (None, False, None, "update"),
    "update, ORDER BY qty (indexed)": ("qty", False, None, "update"),
    "update, ORDER BY score (unindexed)": ("score", False, None, "update"),
    "update, WHERE qty < 500 ORDER BY score": ("score", False, "qty < 500", "update"),
    "insert past the page, ORDER BY score": ("score", False, None, "insert"),
    "delete on page, ORDER BY qty (index fill)": ("qty", False, None, "delete"),
}
DDL = ("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, "
       "score DOUBLE PRECISION NOT NULL)")
FILL = ("INSERT INTO items SELECT g, 'item-' || g, g % 1000, (g * 7919) % 1000003 "
        "FROM generate_series(1, {n}) AS g")
FILL_SQLITE = ("WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
               "INSERT INTO items SELECT g, 'item-' || g, g % 1000, (g * 7919) % 1000003 FROM s")


def _samples(opts: Options) -> int:
    return 5 if opts.quick else max(10, min(60, opts.ops // 150))


def _page_sql(order: str | None, where: str | None) -> tuple[str, str]:
    """The statements a table's LiveFrame runs for page 1 (total, then the page)."""
    w = f" WHERE {where}" if where else ""
    order_by = f' ORDER BY "{order}", "id"' if order else ' ORDER BY "id"'
    return f"SELECT count(*) FROM items{w}", f"SELECT * FROM items{w}{order_by} LIMIT {PAGE} OFFSET 0"


def _rustmemodb(rows: int):
    import rustmemodb
    db = rustmemodb.Database()
    conn = db.connect()
    conn.execute(DDL)
    conn.execute(FILL.format(n=rows))
    conn.execute("CREATE INDEX items_qty ON items (qty)")
    return db, conn


class _Changes:
    """The change of each sample: one statement, keyed so every case touches what it
    says (a row on the page, a row past it, ...) on whatever page the case shows."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.next_id = rows + 1

    def apply(self, conn, kind: str, i: int, page_ids: list[int]) -> None:
        if kind == "update":      # a row on the page: new name, the sort keys nudged
            rowid = page_ids[i % len(page_ids)]
            conn.execute("UPDATE items SET name = ?, qty = qty, score = score WHERE id = ?",
                         (f"changed-{i}", rowid))
        elif kind == "insert":    # sorts past the first page
            conn.execute("INSERT INTO items VALUES (?, ?, ?, ?)",
                         (self.next_id, f"new-{i}", 999, 2e6 + i))
            self.next_id += 1
        else:                     # a row on the page disappears
            conn.execute("DELETE FROM items WHERE id = ?", (page_ids[i % len(page_ids)],))


def _live_latencies(db, conn, rows: int, case: tuple, n: int, changes: _Changes):
    from rustmemodb_lab.live import MIN_INTERVAL, LiveFrame

    order, desc, where, kind = case
    frame = LiveFrame(db, "SELECT * FROM items", page_size=PAGE, tables={"items"}, table="items")
    done = threading.Event()
    finished = [0.0]
    refresh = frame.refresh

    def timed_refresh() -> None:
        refresh()
        finished[0] = time.perf_counter()
        done.set()
    frame.refresh = timed_refresh   # what the frame's timer calls after a commit
    try:
        if where:
            frame.filter(where)
        if order:
            frame.sort(order, desc)
        out, paths = [], {}
        for i in range(n + 1):                       # the first sample warms up
            time.sleep(MIN_INTERVAL * 1.5)      # past the debounce window
            page_ids = [int(v) for v in frame.frame["id"]]
            done.clear()
            conn.execute("BEGIN")
            changes.apply(conn, kind, i, page_ids)
            t0 = time.perf_counter()
            conn.execute("COMMIT")
            if not done.wait(30):
                raise TimeoutError("the live grid did not redraw within 30 s")
            if i:
                out.append(finished[0] - t0)
                paths[frame.path] = paths.get(frame.path, 0) + 1
        assert frame.version == db.root.version and frame.error is None, frame.error
        return out, paths
    finally:
        frame.close()


def _requery_latencies(conn, case: tuple, n: int, df: bool, changes: _Changes) -> list[float]:
    order, _desc, where, kind = case
    count_sql, page_sql = _page_sql(order, where)
    out = []
    for i in range(n + 1):
        page_ids = [r[0] for r in conn.execute(page_sql).fetchall()]
        changes.apply(conn, kind, 10_000 + i, page_ids)
        t0 = time.perf_counter()
        conn.execute(count_sql).fetchone()
        cur = conn.execute(page_sql)
        cur.df() if df else cur.fetchall()
        if i:
            out.append(time.perf_counter() - t0)
    return out


def _sqlite(rows: int):
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(DDL.replace("DOUBLE PRECISION", "REAL"))
    conn.execute(FILL_SQLITE.format(n=rows))
    conn.execute("CREATE INDEX items_qty ON items (qty)")
    return conn


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    n = _samples(opts)
    rows = opts.rows
    engines = [e for e in ENGINES if opts.wants(e)]
    p50 = report.table(f"p50: 1-row commit → page of {PAGE} redrawn, {rows:,} rows ({n} samples); "
                       "rustmemodb, sqlite3: the page re-queried directly", engines)
    p99 = report.table(f"p99: same, {n} samples", engines)
    paths = report.table("rustmemodb live: refreshes by path", ["delta", "query"], unit="count")

    def add(case: str, engine: str, samples: list[float] | None, err) -> None:
        if err is not None:
            p50.add(case, engine, error=err)
            p99.add(case, engine, error=err)
            return
        p50.add(case, engine, statistics.median(samples))
        p99.add(case, engine, _p99(samples))

    if opts.wants("rustmemodb"):   # "rustmemodb live" contains it
        built, err = attempt(lambda: _rustmemodb(rows), verbose=opts.verbose)
        changes = _Changes(rows)
        for case, spec in CASES.items():
            if err is not None:
                for engine in ("rustmemodb live", "rustmemodb"):
                    if opts.wants(engine):
                        add(case, engine, None, err)
                continue
            db, conn = built
            if opts.wants("rustmemodb live"):
                value, e = attempt(lambda: _live_latencies(db, conn, rows, spec, n, changes),
                                   verbose=opts.verbose)
                add(case, "rustmemodb live", None if e else value[0], e)
                if e is None:
                    for path in ("delta", "query"):
                        paths.add(case, path, float(value[1].get(path, 0)))
            if opts.wants("rustmemodb") and "rustmemodb" in engines:
                value, e = attempt(lambda: _requery_latencies(conn, spec, n, True, changes),
                                   verbose=opts.verbose)
                add(case, "rustmemodb", value, e)
    if opts.wants("sqlite3"):
        built, err = attempt(lambda: _sqlite(rows), verbose=opts.verbose)
        changes = _Changes(rows)
        for case, spec in CASES.items():
            if err is not None:
                add(case, "sqlite3", None, err)
                continue
            value, e = attempt(lambda: _requery_latencies(built, spec, n, False, changes),
                               verbose=opts.verbose)
            add(case, "sqlite3", value, e)
    report.notes.append("live = COMMIT to the end of LiveFrame.refresh (row delta applied to the page, or "
                        "the page re-queried; change marks, DataFrame, HTML), samples spaced past its 100 ms "
                        "debounce; re-query = the count and page statements run directly after the same "
                        "change (rustmemodb to a DataFrame, sqlite3 to tuples). Target (issue 13): live ≤ 20 ms "
                        "on 1M rows, as a delta.")
    return report
