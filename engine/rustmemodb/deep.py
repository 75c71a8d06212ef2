"""Deep recursion without touching the recursion limit: continue on a fresh thread.

The parser (sqlglot), the binder, the optimizer's rewrites and the expression compiler
are recursive over the syntax tree, a few Python frames per tree level. A statement
nested 1,000 levels deep (``1+(1+(1+...))``, nested CASE, ``abs(abs(...))``, nested
subqueries) needs several thousand frames, while the recursion limit is 1,000 and a
library may not raise it, nor change the thread stack size (both are process-wide).

The recursion limit counts the frames of one thread. So the recursive functions that
walk trees are wrapped with ``@deep``: when the calling thread is already within
``RESERVE`` frames of the limit, the call runs on a new short-lived thread -- which
starts with an empty stack -- while the caller waits for it. The call sees the same
context variables (the statement's interrupt flag, timeout and memory budget live in
one) and its result or exception comes back to the caller as if it had run in place.

A probe (``sys._getframe`` failing with ValueError) costs ~0.6 us, and a one-off
statement makes ~200 ``@deep`` calls while planning: probing each of them was a tenth
of its planning time. So a probe that finds the stack shallow grants a budget of
``BUDGET_LEVELS`` nested ``@deep`` calls that need no probe of their own (each level
adds at most ``LEVEL_FRAMES`` frames); each thread keeps the budget left at its current
level. A shallow statement probes once per outermost call, a deep one once per level
near the threshold, as before.

Each hop hands the walk a fresh stack, so the depth a statement may reach is bounded
by ``sql/limits.MAX_NESTING`` (checked before any recursive pass runs), not by where
the caller's stack happens to stand (a notebook cell starts 30-60 frames deep).
"""
from __future__ import annotations

import contextvars
import functools
import sys
import threading

# Frames kept free below the recursion limit: a hop happens once the stack is deeper
# than (limit - RESERVE). Must cover the deepest stretch between two ``@deep`` calls
# (measured: under 40 frames per tree level on every path) plus what a callee that is
# not wrapped (sqlglot's SQL generator for a short name, numpy, pyarrow) needs.
RESERVE = 350
# A probe finding the stack this many levels below the hop threshold lets that many
# nested calls run unprobed; a level is at most ``LEVEL_FRAMES`` frames (the measurement
# above).
BUDGET_LEVELS = 8
LEVEL_FRAMES = 40

_getrecursionlimit = sys.getrecursionlimit
_getframe = sys._getframe


def _headroom() -> int:
    """How many levels of ``@deep`` calls may nest from the caller's frame, this one
    included, before the next probe: 0 when it must hop to a fresh stack now."""
    limit = _getrecursionlimit()
    hop_at = max(limit - RESERVE, limit // 2)   # a host may have lowered the limit
    low = hop_at - BUDGET_LEVELS * LEVEL_FRAMES
    if low > 0:
        try:
            _getframe(low)
        except ValueError:
            return BUDGET_LEVELS
    try:
        _getframe(hop_at)
    except ValueError:
        return 1
    return 0


def _too_deep() -> bool:
    return not _headroom()


class _Budget(threading.local):
    """Per thread: the nested ``@deep`` calls that may still run unprobed at the current
    level (a class attribute gives every thread 0, "probe", without an initialiser)."""
    levels = 0


_BUDGET = _Budget()


# Parked stack threads: creating a thread per hop costs ~0.5 ms, handing a call to a
# parked one a few microseconds of work (two lock hand-offs). Idle threads exit after
# ``IDLE_SECONDS``, so a process that stops running deep statements keeps none.
MAX_IDLE = 8
IDLE_SECONDS = 2.0
_POOL_LOCK = threading.Lock()
_IDLE: list["_Worker"] = []


class _Worker:
    __slots__ = ("go", "task")

    def __init__(self) -> None:
        self.go = threading.Lock()
        self.go.acquire()
        self.task = None
        threading.Thread(target=self._loop, name="rustmemodb-deep", daemon=True).start()

    def _loop(self) -> None:
        while True:
            if not self.go.acquire(timeout=IDLE_SECONDS):
                with _POOL_LOCK:
                    if self in _IDLE:
                        _IDLE.remove(self)
                        return
                self.go.acquire()    # claimed just as the wait timed out: a task follows
            ctx, fn, args, kwargs, box, done = self.task
            self.task = None
            try:
                box[0] = ctx.run(fn, *args, **kwargs)
            except BaseException as exc:   # handed back to the caller, re-raised there
                box[1] = exc
            del ctx, fn, args, kwargs
            with _POOL_LOCK:
                keep = len(_IDLE) < MAX_IDLE
                if keep:
                    _IDLE.append(self)
            done.release()
            if not keep:
                return


def on_fresh_stack(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` run on another thread's (empty) stack with the caller's
    context variables; returns its result or re-raises its exception in the caller."""
    with _POOL_LOCK:
        worker = _IDLE.pop() if _IDLE else None
    if worker is None:
        worker = _Worker()
    done = threading.Lock()
    done.acquire()
    box: list = [None, None]
    worker.task = (contextvars.copy_context(), fn, args, kwargs, box, done)
    worker.go.release()
    done.acquire()
    if box[1] is not None:
        exc = box[1]
        box[1] = None
        raise exc
    return box[0]


def deep(fn):
    """Decorator for recursive tree walks: continue on a fresh stack when deep."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        budget = _BUDGET
        levels = budget.levels
        if levels:
            budget.levels = levels - 1
        else:
            granted = _headroom()
            if not granted:
                return on_fresh_stack(fn, *args, **kwargs)
            budget.levels = granted - 1
        try:
            return fn(*args, **kwargs)
        finally:
            budget.levels = levels     # the caller's level: its budget as it was
    return wrapper
