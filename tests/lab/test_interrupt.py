"""Ctrl-C / kernel interrupt and conn.interrupt() cancel a running statement; progress lines."""

from __future__ import annotations

import _thread
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from rustmemodb_lab.progress import ProgressLine, Ticker

SLOW = "SELECT count(*) FROM slow_big a JOIN slow_big b ON a.x < b.x - 1000000000"


@pytest.fixture
def slow_sql(ip, cell):
    """A statement that runs for a minute or more: a theta self-join of a notebook frame.

    The frame's size comes from timed probes, so the statement is long on any
    machine; every test interrupts it long before it ends. The fastest of three
    probes counts: one probe slowed by a busy machine (or by first-use work) made the
    frame so small that the statement ended before the interrupt came.
    """
    probe_n = 3000
    ip.user_ns["slow_big"] = pd.DataFrame({"x": np.arange(probe_n)})
    fastest = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        cell("%sql " + SLOW)
        fastest = min(fastest, time.perf_counter() - start)
    per_pair = max(fastest / probe_n**2, 1e-10)
    n = int(min((60.0 / per_pair) ** 0.5, 300_000))
    print(f"slow_sql: fastest probe {fastest:.3f} s at {probe_n} rows -> {n} rows, "
          f"SIGINT handler {signal.getsignal(signal.SIGINT)!r}")
    ip.user_ns["slow_big"] = pd.DataFrame({"x": np.arange(n)})
    return SLOW


@pytest.fixture(autouse=True)
def python_sigint_handler():
    """Ctrl-C as a kernel gets it: Python's default handler raising KeyboardInterrupt
    (``_thread.interrupt_main`` calls whatever handler is installed; a library used by an
    earlier test in this process may have left another one)."""
    old = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@pytest.fixture
def magics(ip):
    return ip.magics_manager.registry["SqlMagics"]


def when_running(magics, action, after: float = 0.5, label: str = "") -> threading.Thread:
    """Call ``action`` once a statement (whose label contains ``label``) has run ``after`` s."""

    def wait_then_act():
        deadline = time.monotonic() + 30
        seen = None
        while time.monotonic() < deadline:
            watch = magics.ticker.current
            if watch is not None:
                seen = (watch.label, round(watch.elapsed(), 3))
            if watch is not None and label in watch.label and watch.elapsed() >= after:
                print(f"when_running: acting on {watch.label!r} at {watch.elapsed():.3f} s")
                action()
                return
            time.sleep(0.02)
        print(f"when_running: no statement labelled {label!r} ran {after} s; last seen {seen}")

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread


def _count(cell):
    return cell("%sql SELECT count(*) FROM trades").value.rows()[0][0]


def test_keyboard_interrupt_cancels_promptly_and_rolls_back(cell, magics, session, trades, slow_sql):
    when_running(magics, _thread.interrupt_main, label="statement 3 of 3")
    start = time.monotonic()
    try:
        out = cell(f"%%sql\nBEGIN;\nDELETE FROM trades;\n{slow_sql}", fails=True)
    except KeyboardInterrupt:  # pragma: no cover - the interrupt missed the statement
        pytest.fail("the interrupt arrived outside the statement")
    assert time.monotonic() - start < 10
    err = out.error
    assert err.sqlstate == "57014" and err.index == 2
    assert "canceling statement due to user request" in out.stdout
    assert "rolled back" in out.stdout
    assert session.registry.active.conn.in_transaction is False
    assert _count(cell) == 5


def test_conn_interrupt_cancels_the_statement(cell, magics, session, trades, slow_sql):
    conn = session.registry.active.conn
    if not hasattr(conn, "interrupt"):
        pytest.skip("the engine has no conn.interrupt()")
    when_running(magics, conn.interrupt)
    out = cell(f"%%sql\nDELETE FROM trades WHERE id = 1;\n{slow_sql};\nDELETE FROM trades", fails=True)
    assert out.error.sqlstate == "57014" and out.error.index == 1
    assert _count(cell) == 4  # statement 1 ran (autocommit); 3 did not


def test_kernel_stays_usable_after_an_interrupt(cell, magics, trades, slow_sql):
    when_running(magics, _thread.interrupt_main)
    cell(f"%sql {slow_sql}", fails=True)
    assert cell("%sql SELECT 1 AS ok").value.rows() == [(1,)]


def test_progress_line_appears_for_long_statements(cell, magics, trades, slow_sql):
    cell("%config RustmemodbLab.progress_after = 0.2")
    when_running(magics, _thread.interrupt_main, after=1.0)
    out = cell(f"%sql {slow_sql}", fails=True)
    texts = [d.get("text/plain", "") for d in out.displayed]
    assert any(t.startswith("running statement 1 of 1 on main") for t in texts), texts


def test_no_progress_line_for_quick_statements(cell, trades):
    out = cell("%sql SELECT count(*) FROM trades")
    assert out.displayed == []


# -- the ticker on its own --------------------------------------------------------------

class FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(obj)


def test_ticker_shows_updates_and_finishes():
    shown: list[ProgressLine] = []
    ticker = Ticker(display=lambda obj, display_id: (shown.append(obj), FakeHandle(shown))[1])
    with ticker.watch("statement 1 of 1 on main", after=0.1):
        time.sleep(0.7)
    assert shown[0].text().startswith("running statement 1 of 1 on main")
    assert len(shown) >= 3
    assert shown[-1].done and shown[-1].text().startswith("finished")
    assert "⏳" in shown[0]._repr_html_()


def test_ticker_stays_quiet_for_short_work_and_when_disabled():
    shown: list = []
    ticker = Ticker(display=lambda obj, display_id: shown.append(obj))
    with ticker.watch("quick", after=0.5):
        time.sleep(0.05)
    with ticker.watch("disabled", after=-1):
        time.sleep(0.3)
    time.sleep(0.3)
    assert shown == []
