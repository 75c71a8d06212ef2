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
import inspect
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


# The wrapper is generated with the wrapped function's own parameters when they are all
# plain (positional-or-keyword, defaults allowed): a ``*args, **kwargs`` wrapper packed a
# tuple and a dict on every call and unpacked them again, more than half of its ~0.3 µs,
# and a one-off statement makes ~120 such calls. Same body as the generic one below.
_EXACT = """
def make(_w_fn, _w_BUDGET, _w_headroom, _w_fresh{defaults}):
    def wrapper({params}):
        _w_budget = _w_BUDGET
        _w_levels = _w_budget.levels
        if _w_levels:
            _w_budget.levels = _w_levels - 1
        else:
            _w_granted = _w_headroom()
            if not _w_granted:
                return _w_fresh(_w_fn, {args})
            _w_budget.levels = _w_granted - 1
        try:
            return _w_fn({args})
        finally:
            _w_budget.levels = _w_levels
    return wrapper
"""


def _exact_wrapper(fn):
    """The wrapper of ``fn`` taking exactly its parameters, or None if they are not all
    plain positional-or-keyword ones."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    names, defaults = [], {}
    for i, p in enumerate(params):
        if p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD or \
                p.name.startswith(("_d", "_w_")) or p.name in ("make", "wrapper"):
            return None
        if p.default is not inspect.Parameter.empty:
            defaults[f"_d{i}"] = p.default
            names.append(f"{p.name}=_d{i}")
        else:
            names.append(p.name)
    args = ", ".join(p.name for p in params)
    code = _EXACT.format(defaults="".join(", " + d for d in defaults), params=", ".join(names),
                         args=args)
    space: dict = {}
    exec(code, space)    # our own source text, built from a signature: no data in it
    return space["make"](fn, _BUDGET, _headroom, on_fresh_stack, *defaults.values())


def deep(fn):
    """Decorator for recursive tree walks: continue on a fresh stack when deep."""
    exact = _exact_wrapper(fn)
    if exact is not None:
        return functools.wraps(fn)(exact)

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
