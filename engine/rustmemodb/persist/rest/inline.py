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

Unkeyed creates on the loop go through ``CreateGroup``: those that arrive in the
same turn of the loop share one transaction (group commit), which costs a fraction
of a transaction each (the engine's per-statement and per-commit work is most of a
lone create's cost); a failing group falls back to ``write`` for each request.
"""
from __future__ import annotations

import asyncio
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


class CreateGroup:
    """Unkeyed POST creates of one collection that arrive in the same turn of the
    event loop, written as one transaction (group commit).

    A create that can run on the loop (``write``'s rule, no role acting: roles are
    checked per statement) joins the turn's group. The first one yields to the loop
    (while others join, up to ``MAX_TURNS`` turns), so the requests the server has
    already read run up to their create too, then writes the whole group with
    ``Collection.create_batch`` (one statement for the rows and their audit records,
    one commit) and hands each request its entity. Every entity still commits
    together with its audit record, before its response is sent; what changes is
    that entities created by concurrent requests may share a commit (a ``watch``
    callback sees them in one diff). If the group's transaction fails for any reason
    (a unique value taken, a write-write conflict), nothing of it was committed and
    each request runs ``write`` alone, so it gets exactly the answer it would have
    got by itself. A create with nothing else runnable in the loop writes at once
    (no group, no yield); a group of one is simply ``write``.
    """

    def __init__(self, coll) -> None:
        self.coll = coll
        # (event loop, requests) of the group forming in that loop's turn: one
        # attribute, so another thread's loop never joins a group it does not run
        self.forming: tuple | None = None

    async def create(self, data: dict, validated):
        coll = self.coll
        app = coll.app
        if app.role is not None or commits_wait(app.database):
            return await write(app, coll.create, data, None, validated)
        loop = asyncio.get_running_loop()
        forming = self.forming
        if forming is not None and forming[0] is loop:   # a group is forming: join it
            future = loop.create_future()
            pending = forming[1]
            pending.append((data, validated, future))
            result = await future
            if result is _ALONE:
                return await write(app, coll.create, data, None, validated)
            return result
        if forming is not None:         # another thread's loop is forming one: alone
            return await write(app, coll.create, data, None, validated)
        ready = getattr(loop, "_ready", None)     # asyncio's queue of runnable callbacks
        if ready is not None and not ready:
            # Nothing else runs in this turn, so nothing could join: no group, no yield
            # (a loop without that queue, uvloop's, always yields once).
            return await write(app, coll.create, data, None, validated)
        pending = []
        self.forming = (loop, pending)
        made = None
        try:
            try:
                # The turn's other requests join; while some do, one more turn (the
                # requests read from the sockets meanwhile), up to MAX_TURNS.
                joined, turns = -1, 0
                while len(pending) != joined and turns < MAX_TURNS:
                    joined, turns = len(pending), turns + 1
                    await asyncio.sleep(0)
            finally:
                self.forming = None
            pending = [p for p in pending if not p[2].done()]   # (cancelled meanwhile)
            if pending:
                try:
                    made = app.run_once(coll.create_batch, [(data, validated)] +
                                        [(d, v) for d, v, _ in pending])
                except Exception:
                    made = None                     # nothing committed: each alone
        finally:
            # Every request that joined gets its entity, or is told to write alone
            # (also when this one is cancelled or fails: none is left waiting).
            for i, (_, _, future) in enumerate(pending):
                if not future.done():
                    future.set_result(_ALONE if made is None else made[i + 1])
        if made is None:
            return await write(app, coll.create, data, None, validated)
        return made[0]


_ALONE = object()
MAX_TURNS = 4        # a group waits at most this many turns of the loop for members
