"""Fork: the cost of an independent copy of a whole in-memory database.

Data: the `trades` table (id PK, sym, px, qty, ts) at rows/100, rows/10 and rows rows
(10k, 100k, 1M by default). Copies compared:

    rustmemodb  conn.fork()                                  (shares the immutable root)
    sqlite3     sqlite3.connect(':memory:').deserialize(src.serialize())
    DuckDB      ATTACH ':memory:' AS c; COPY FROM DATABASE memory TO c

Measured: time to make the copy; time to make it and change one row in it (for
rustmemodb this is where copy-on-write pays); and the memory the copy keeps alive,
as tracemalloc + pyarrow allocations (what a Python/Arrow engine allocates) and as the
process RSS growth (the only place sqlite's and DuckDB's native copies show up; it is an
under-estimate when the allocator reuses freed pages).
"""

from __future__ import annotations

from typing import Any, Callable

from bench import engines as E
from bench.harness import Failure, Options, Report, attempt, measure, memory_of

NAME = "fork"
DESCRIPTION = "O(1) fork vs sqlite serialize/deserialize vs DuckDB COPY FROM DATABASE"
ENGINES = (E.RUSTMEMODB, E.SQLITE, E.DUCKDB)


def sizes(opts: Options) -> list[int]:
    return sorted({max(1, opts.rows // 100), max(1, opts.rows // 10), max(1, opts.rows)})


class _Copier:
    """make() returns a handle on a fresh copy; drop(handle) releases it."""

    def __init__(self, engine: str, src: Any):
        self.engine, self.src, self.n = engine, src, 0

    def make(self) -> Any:
        if self.engine == E.RUSTMEMODB:
            return self.src.fork()
        if self.engine == E.SQLITE:
            dst = E.connect(E.SQLITE)
            dst.deserialize(self.src.serialize())
            return dst
        self.n += 1
        name = f"copy{self.n}"
        self.src.execute(f"ATTACH ':memory:' AS {name}")
        self.src.execute(f"COPY FROM DATABASE memory TO {name}")
        return name

    def write(self, handle: Any) -> None:
        sql = "UPDATE {}trades SET px = px + 1 WHERE id = 1"
        if self.engine == E.DUCKDB:
            self.src.execute(sql.format(f"{handle}."))
        else:
            handle.execute(sql.format(""))

    def drop(self, handle: Any) -> None:
        if self.engine == E.DUCKDB:
            self.src.execute(f"DETACH {handle}")
        else:
            E.close(handle)


def _isolation_note(src: Any, copier: _Copier) -> str:
    """Check that a write in the copy is invisible in the source (rustmemodb only)."""
    before = src.execute("SELECT px FROM trades WHERE id = 1").fetchall()
    copy = copier.make()
    copier.write(copy)
    after_src = src.execute("SELECT px FROM trades WHERE id = 1").fetchall()
    after_copy = copy.execute("SELECT px FROM trades WHERE id = 1").fetchall()
    copier.drop(copy)
    ok = before == after_src and after_copy != before
    return "copy isolated: yes" if ok else f"copy isolated: NO ({before} → {after_src})"


def run(opts: Options) -> Report:
    from datasets import trades

    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    t_fork = report.table("time to copy the whole database", engines)
    t_write = report.table("copy + UPDATE one row in the copy", engines)
    t_mem = report.table("memory kept alive by one copy", engines, unit="bytes",
                         note="tracemalloc+Arrow = Python heap and Arrow pool growth; "
                              "RSS = process growth (covers native engines, approximate)")
    for n in sizes(opts):
        data = trades.generate(n)
        case = f"{n:,} rows"
        for engine in engines:
            src, err = attempt(lambda: _loaded(engine, data), verbose=opts.verbose)
            if err:
                for t in (t_fork, t_write):
                    t.add(case, engine, error=err)
                t_mem.add(f"{case}: tracemalloc+Arrow", engine, error=err)
                t_mem.add(f"{case}: RSS", engine, error=err)
                continue
            copier = _Copier(engine, src)
            _memory(t_mem, case, engine, copier, opts)
            _time(t_fork, case, engine, copier, opts, write=False)
            _time(t_write, case, engine, copier, opts, write=True)
            if engine == E.RUSTMEMODB:
                note, err = attempt(lambda: _isolation_note(src, copier), verbose=opts.verbose)
                t_fork.set_note(case, note or err.short())
            E.close(src)
    return report


def _loaded(engine: str, data) -> Any:
    conn = E.connect(engine)
    E.load(engine, conn, "trades", data, primary_key=("id",))
    return conn


def _memory(table, case: str, engine: str, copier: _Copier, opts: Options) -> None:
    result, err = attempt(lambda: memory_of(copier.make), verbose=opts.verbose)
    if err:
        table.add(f"{case}: tracemalloc+Arrow", engine, error=err)
        table.add(f"{case}: RSS", engine, error=err)
        return
    handle, delta = result
    table.add(f"{case}: tracemalloc+Arrow", engine, delta.python_arrow)
    table.add(f"{case}: RSS", engine, delta.rss)
    copier.drop(handle)


def _time(table, case: str, engine: str, copier: _Copier, opts: Options, write: bool) -> None:
    made: list[Any] = []

    def once() -> None:
        h = copier.make()
        made.append(h)
        if write:
            copier.write(h)

    def release() -> None:
        while made:
            copier.drop(made.pop())

    def timed() -> float:
        try:
            return measure(once, opts, setup=release, warmup=1).median
        finally:
            release()

    value, err = attempt(timed, verbose=opts.verbose)
    table.add(case, engine, value, err)
