"""Shared benchmark machinery: options, timing, error capture, result tables, JSON.

Every suite module (`fork`, `load`, `analytics`, `oltp`, `lab`) exposes

    NAME: str                  the suite name used on the command line
    DESCRIPTION: str           one line for `python -m bench --list`
    run(opts: Options) -> Report

and builds its Report from `ResultTable`s. A table has one row per *case* and one column
per *engine*; each cell holds a number in base units (seconds or bytes) or the error an
engine raised. Printing adds, for time tables, each cell's ratio to the fastest engine on
that row (1.00x = fastest) and a bottom line with each engine's geometric-mean ratio.

Timing rules (see `measure`): wall clock with `time.perf_counter`; a full `gc.collect()`
before each repeat; the garbage collector stays *enabled* while timing unless
`--no-gc` is given, because a pure-Python engine's collector pauses are a real cost to
its users; the reported value is the median of the repeats. A single call that runs past
`--timeout` seconds is interrupted (SIGALRM, main thread only) and reported as an error.

An engine feature that raises (the engine is young) never stops a suite: `attempt` turns
the exception into a cell printed as `n/a (<ErrorClass>: <message>)`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import gc
import json
import math
import os
import platform
import signal
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------- options

@dataclasses.dataclass
class Options:
    """Knobs shared by all suites; each suite derives its sizes from `rows`/`ops`."""

    rows: int = 1_000_000      # main data size (fork max size, load rows, lineitem rows, ...)
    scale_rows: int | None = None  # rows of the `scale` suite (None: 5M, quick: rows)
    ops: int = 10_000          # operations per OLTP case
    repeat: int = 5            # timed repeats per measurement (median reported)
    timeout: float = 120.0     # seconds allowed for one timed call
    quick: bool = False        # small sizes, one repeat: for smoke tests
    gc_off: bool = False       # disable the collector while timing
    engines: tuple[str, ...] | None = None   # restrict to these engines (None = all)
    out_dir: Path | None = RESULTS_DIR       # where latest-<suite>.json goes (None = don't save)
    verbose: bool = False      # print tracebacks of engine errors

    @classmethod
    def quick_defaults(cls, **overrides: Any) -> "Options":
        base = dict(rows=10_000, ops=200, repeat=1, timeout=60.0, quick=True)
        base.update(overrides)
        return cls(**base)

    def wants(self, engine: str) -> bool:
        """Whether `engine` (e.g. "sqlite3", "rustmemodb") is selected by --engines."""
        return self.engines is None or any(e in engine for e in self.engines)


# --------------------------------------------------------------------------- errors

@dataclasses.dataclass(frozen=True)
class Failure:
    """An exception an engine raised, kept as data for the table and the JSON."""

    error_class: str
    message: str

    @classmethod
    def from_exc(cls, exc: BaseException) -> "Failure":
        msg = " ".join(str(exc).split()) or repr(exc)
        return cls(type(exc).__name__, msg)

    def short(self, width: int = 48) -> str:
        msg = self.message if len(self.message) <= width else self.message[: width - 1] + "…"
        return f"n/a ({self.error_class}: {msg})"

    def to_json(self) -> dict:
        return {"error_class": self.error_class, "message": self.message}


def attempt(fn: Callable[[], Any], *, verbose: bool = False) -> tuple[Any, Failure | None]:
    """Run fn(); return (value, None) or (None, Failure) if it raised an Exception."""
    try:
        return fn(), None
    except Exception as exc:  # noqa: BLE001 - an engine may raise anything while in progress
        if verbose:
            traceback.print_exc()
        return None, Failure.from_exc(exc)


class BenchTimeout(Exception):
    """A timed call ran past --timeout."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise BenchTimeout in the block after `seconds` (main thread only; otherwise no limit).

    Saves and restores any SIGALRM handler and timer already set (pytest-timeout uses one),
    so it nests inside a test's own time limit.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _on_alarm(signum, frame):
        raise BenchTimeout(f"no result within {seconds:g} s")

    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            remaining = max(old_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining, old_interval)


# --------------------------------------------------------------------------- timing

@dataclasses.dataclass
class Timing:
    """Seconds per call: the median of `samples`."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def measure(
    fn: Callable[[], Any],
    opts: Options,
    *,
    repeat: int | None = None,
    warmup: int = 0,
    setup: Callable[[], Any] | None = None,
    budget: float = 10.0,
) -> Timing:
    """Time fn() `repeat` times (default opts.repeat) and return the samples.

    `setup` runs untimed before every call (and warm-up). Repeats stop early once their
    total passes `budget` seconds, so a slow engine costs one or two runs, not five.
    Raises what fn raises, or BenchTimeout past opts.timeout.
    """
    repeat = repeat or opts.repeat
    for _ in range(warmup):
        if setup:
            setup()
        with time_limit(opts.timeout):
            fn()
    samples: list[float] = []
    spent = 0.0
    for _ in range(repeat):
        if setup:
            setup()
        gc.collect()
        was_enabled = gc.isenabled()
        if opts.gc_off:
            gc.disable()
        try:
            with time_limit(opts.timeout):
                t0 = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - t0
        finally:
            if was_enabled:
                gc.enable()
        samples.append(elapsed)
        spent += elapsed
        if spent > budget:
            break
    return Timing(samples)


def geomean(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


# --------------------------------------------------------------------------- memory

def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@dataclasses.dataclass
class MemoryDelta:
    python_arrow: int   # tracemalloc (Python allocations) + pyarrow pool, retained
    rss: int            # resident set growth: includes native engines (sqlite, DuckDB)


def memory_of(make: Callable[[], Any]) -> tuple[Any, MemoryDelta]:
    """Call make() and measure what the object it returns keeps alive.

    Python-side bytes come from tracemalloc, Arrow buffers from
    `pyarrow.total_allocated_bytes()`, native memory only shows in the RSS delta (which
    allocator reuse can make an under-estimate). The caller keeps the returned object
    alive until it has read the delta.
    """
    import tracemalloc

    import pyarrow as pa

    gc.collect()
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        py0 = tracemalloc.get_traced_memory()[0]
        pa0 = pa.total_allocated_bytes()
        rss0 = rss_bytes()
        obj = make()
        gc.collect()
        py1 = tracemalloc.get_traced_memory()[0]
        pa1 = pa.total_allocated_bytes()
        rss1 = rss_bytes()
    finally:
        if started_here:
            tracemalloc.stop()
    return obj, MemoryDelta(python_arrow=(py1 - py0) + (pa1 - pa0), rss=max(rss1 - rss0, 0))


# --------------------------------------------------------------------------- tables

def _num(x: float) -> str:
    """3 significant digits without scientific notation (999.7 -> '1000', 12.34 -> '12.3')."""
    ax = abs(x)
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_seconds(s: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale:
            return f"{_num(s / scale)} {unit}"
    return f"{_num(s / 1e-9)} ns"


def fmt_bytes(b: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if abs(b) >= size:
            return f"{_num(b / size)} {unit}"
    return f"{b:.0f} B"


FORMATS = {"s": fmt_seconds, "bytes": fmt_bytes, "check": lambda v: "ok",
           "count": lambda v: f"{v:,.0f}"}


@dataclasses.dataclass
class Row:
    case: str
    values: dict[str, float] = dataclasses.field(default_factory=dict)
    errors: dict[str, Failure] = dataclasses.field(default_factory=dict)
    note: str = ""


class ResultTable:
    """Cases x engines. `unit` is "s" (lower is better, ratios shown), "bytes", "count"
    (plain numbers: operations, errors, rates), or "check" (a pass/fail grid: a value
    means ok, an error says what differed)."""

    def __init__(self, title: str, engines: list[str], unit: str = "s",
                 ratios: bool | None = None, note: str = ""):
        self.title = title
        self.engines = list(engines)
        self.unit = unit
        self.ratios = (unit == "s") if ratios is None else ratios
        self.note = note
        self.rows: list[Row] = []

    def row(self, case: str) -> Row:
        for r in self.rows:
            if r.case == case:
                return r
        r = Row(case)
        self.rows.append(r)
        return r

    def add(self, case: str, engine: str, value: float | None = None,
            error: Failure | None = None) -> None:
        if engine not in self.engines:
            self.engines.append(engine)
        r = self.row(case)
        if error is not None:
            r.errors[engine] = error
        elif value is not None:
            r.values[engine] = float(value)

    def set_note(self, case: str, note: str) -> None:
        self.row(case).note = note

    # -- derived numbers
    def ratio(self, row: Row, engine: str) -> float | None:
        best = min((v for v in row.values.values() if v > 0), default=None)
        v = row.values.get(engine)
        if best is None or v is None:
            return None
        return v / best

    def geomean_ratios(self) -> dict[str, float | None]:
        return {e: geomean([self.ratio(r, e) for r in self.rows]) for e in self.engines}

    def geomean_values(self) -> dict[str, float | None]:
        return {e: geomean([r.values.get(e) for r in self.rows]) for e in self.engines}

    # -- output
    def cell(self, row: Row, engine: str) -> str:
        if engine in row.errors:
            return row.errors[engine].short()
        if engine not in row.values:
            return "—"
        text = FORMATS[self.unit](row.values[engine])
        ratio = self.ratio(row, engine) if self.ratios else None
        if ratio is not None:
            text += f" ({ratio:.2f}x)"
        return text

    def render(self) -> str:
        header = ["case"] + self.engines + (["note"] if any(r.note for r in self.rows) else [])
        body = []
        for r in self.rows:
            line = [r.case] + [self.cell(r, e) for e in self.engines]
            if len(header) > len(self.engines) + 1:
                line.append(r.note)
            body.append(line)
        if self.ratios and len(self.rows) > 1:
            gm_r, gm_v = self.geomean_ratios(), self.geomean_values()
            foot = ["geomean"]
            for e in self.engines:
                if gm_v[e] is None:
                    foot.append("—")
                else:
                    foot.append(f"{fmt_seconds(gm_v[e])} ({gm_r[e]:.2f}x)")
            if len(header) > len(self.engines) + 1:
                foot.append("")
            body.append(foot)
        widths = [max(len(str(x[i])) for x in [header] + body) for i in range(len(header))]
        out = [f"\n## {self.title}"]
        if self.note:
            out.append(self.note)
        sep = "-+-".join("-" * w for w in widths)
        out.append(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
        out.append(sep)
        for i, line in enumerate(body):
            if self.ratios and len(self.rows) > 1 and i == len(body) - 1:
                out.append(sep)
            out.append(" | ".join(str(c).ljust(w) for c, w in zip(line, widths)))
        return "\n".join(out)

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "unit": self.unit,
            "engines": self.engines,
            "note": self.note,
            "rows": [
                {
                    "case": r.case,
                    "values": r.values,
                    "ratios": {e: self.ratio(r, e) for e in r.values} if self.ratios else {},
                    "errors": {e: f.to_json() for e, f in r.errors.items()},
                    "note": r.note,
                }
                for r in self.rows
            ],
            "geomean_ratio": self.geomean_ratios() if self.ratios else {},
            "geomean_value": self.geomean_values() if self.ratios else {},
        }


@dataclasses.dataclass
class Report:
    """What one suite run produced: its tables plus free-form notes."""

    suite: str
    opts: Options
    tables: list[ResultTable] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    def table(self, *args: Any, **kwargs: Any) -> ResultTable:
        t = ResultTable(*args, **kwargs)
        self.tables.append(t)
        return t

    def render(self) -> str:
        head = f"# bench {self.suite}  ({describe_opts(self.opts)})"
        parts = [head] + [t.render() for t in self.tables]
        if self.notes:
            parts.append("\n" + "\n".join(f"note: {n}" for n in self.notes))
        return "\n".join(parts)

    def to_json(self) -> dict:
        opts = dataclasses.asdict(self.opts)
        opts["out_dir"] = str(opts["out_dir"]) if opts["out_dir"] else None
        return {
            "suite": self.suite,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "options": opts,
            "environment": environment(),
            "tables": [t.to_json() for t in self.tables],
            "notes": self.notes,
        }

    def save(self) -> Path | None:
        if self.opts.out_dir is None:
            return None
        out = Path(self.opts.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"latest-{self.suite}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, default=str) + "\n")
        tmp.replace(path)
        return path


def describe_opts(opts: Options) -> str:
    bits = [f"rows={opts.rows:,}", f"ops={opts.ops:,}", f"repeat={opts.repeat}"]
    if opts.quick:
        bits.append("quick")
    if opts.gc_off:
        bits.append("gc off while timing")
    return ", ".join(bits)


def environment() -> dict[str, Any]:
    """Versions of everything that shapes the numbers."""
    import sqlite3

    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
    }
    for mod in ("rustmemodb", "pyarrow", "numpy", "pandas", "duckdb", "sqlglot", "IPython", "sql"):
        try:
            m = __import__(mod)
            env[mod if mod != "sql" else "jupysql"] = getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001 - absent or broken: just not reported
            pass
    try:
        import subprocess

        repo = Path(__file__).resolve().parent.parent
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "engine"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if head:
            env["git"] = head + ("+engine-changes" if dirty else "")
    except Exception:  # noqa: BLE001 - not a git checkout
        pass
    try:
        from sqlglot.tokens import SQLGLOTC_INSTALLED  # type: ignore[attr-defined]

        env["sqlglotc"] = bool(SQLGLOTC_INSTALLED)
    except Exception:  # noqa: BLE001
        pass
    return env
