"""A progress line for statements that run longer than about a second.

Statements run on the kernel's main thread, so that Ctrl-C / a kernel
interrupt (SIGINT → ``KeyboardInterrupt``) lands inside the engine, which
aborts and rolls the statement back. The progress line therefore comes from
one daemon *ticker* thread shared by all statements: a statement only sets
``ticker.current`` (no thread start per statement, which would cost more than
a point query). Once the statement has run ``after`` seconds, the ticker
displays ``running statement 2 of 5 on main… 3.2 s`` and updates it four
times a second; when the statement ends, the main thread replaces the line
with the final time.

ipykernel routes output from threads without a cell context to the cell
executing now, which is exactly the cell that started the statement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rustmemodb_lab.render.html import DIM, container, esc, format_ms

TICK = 0.25


class ProgressLine:
    """What the progress display shows (HTML and text)."""

    def __init__(self, label: str, elapsed: float, done: bool = False) -> None:
        self.label, self.elapsed, self.done = label, elapsed, done

    def text(self) -> str:
        verb = "finished" if self.done else "running"
        return f"{verb} {self.label} · {format_ms(self.elapsed)}" + ("" if self.done else " (interrupt to cancel)")

    def _repr_html_(self) -> str:
        spinner = "" if self.done else "⏳ "
        return container(f'<span class="rmdb-progress" style="color:{DIM}">{spinner}{esc(self.text())}</span>')

    def __repr__(self) -> str:
        return self.text()


class _Watch:
    """One statement being watched; ``handle`` is set once the line is shown."""

    def __init__(self, label: str, after: float) -> None:
        self.label, self.after = label, after
        self.start = time.monotonic()
        self.handle: Any = None
        self.finished = False
        self.lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


class Ticker:
    """The shared daemon thread that shows progress of the current statement."""

    def __init__(self, display: Callable[..., Any] | None = None) -> None:
        self._display = display
        self.current: _Watch | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, label: str, after: float) -> Iterator[None]:
        """Show progress for the ``with`` body if it outlives ``after`` seconds."""
        if after < 0:
            yield
            return
        watch = _Watch(label, after)
        self.current = watch
        self._ensure_thread()
        self._wake.set()
        try:
            yield
        finally:
            self.current = None
            self._finish(watch)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="rustmemodb-lab-progress", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while (watch := self.current) is not None:
                self._tick(watch)
                time.sleep(TICK)

    def _tick(self, watch: _Watch) -> None:
        elapsed = watch.elapsed()
        if elapsed < watch.after:
            return
        with watch.lock:
            if watch.finished:
                return
            line = ProgressLine(watch.label, elapsed)
            if watch.handle is None:
                watch.handle = self._show(line)
            else:
                watch.handle.update(line)

    def _show(self, line: ProgressLine) -> Any:
        display = self._display
        if display is None:
            from IPython.display import display
        return display(line, display_id=True)

    def _finish(self, watch: _Watch) -> None:
        with watch.lock:
            watch.finished = True
            if watch.handle is not None:
                watch.handle.update(ProgressLine(watch.label, watch.elapsed(), done=True))
