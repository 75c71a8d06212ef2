"""Where a route's engine call runs: on the event loop itself, or in a worker thread.

A point read, or a short write whose commit does not wait for an fsync, is tens of
microseconds of work in this process; handing it to Starlette's thread pool and
back cost more than the work (a thread hop is ~100 µs on a busy machine). So the
routes that make one such call (GET by id, POST create) are ``async`` and make it
on the loop, and everything that may wait goes to a worker thread as before:

- a commit that waits for its log's fsync (a durable database in ``sync`` mode);
- a write-write conflict's retries, which sleep (the first attempt runs on the loop
  with ``PersistApp.single_attempt``; a conflict re-runs the call in a thread under
  the app's retry policy: nothing of the failed attempt was committed);
- a write with an ``Idempotency-Key``: a second request with the same key must be
  able to find the first still running (409), which only a thread allows.

Model code runs in either place: validators are expected to be quick, as for any
``async`` FastAPI route (``@command`` methods, which may do anything, keep their
worker thread: commands.py).
"""
from __future__ import annotations

from typing import Callable, TypeVar

from starlette.concurrency import run_in_threadpool

from ..errors import ConflictError

T = TypeVar("T")


def commits_wait(database) -> bool:
    """Whether a commit to ``database`` waits for an fsync (durable, ``sync`` mode)."""
    wal = getattr(database, "wal", None)
    if wal is None:
        return False
    mode = getattr(wal, "mode", None)
    return getattr(mode, "value", mode) not in ("async", "none")


async def write(app, fn: Callable[..., T], *args) -> T:
    """``fn(*args)`` (one persist write) on the loop when it cannot wait, else (and
    for the retries after a write-write conflict) in a worker thread."""
    if not commits_wait(app.database):
        try:
            return app.run_once(fn, *args)
        except ConflictError as exc:
            if exc.kind != "write_write":
                raise
    return await run_in_threadpool(fn, *args)
