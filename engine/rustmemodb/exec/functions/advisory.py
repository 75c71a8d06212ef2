"""The advisory lock functions: pg_advisory_lock, pg_try_advisory_xact_lock_shared...

Each acts for the session whose statement is running: its ``Backend`` (backends.py),
reached through the statement's limits (statement_limits.py), holds the locks in its
database's table (advisory.py). Volatile, so never folded; their calls make a plan
uncacheable (bind_session_functions.py), so the wire server runs them on a worker
thread, never on its event loop. The void ones (pg_advisory_lock...) answer an empty
text: PostgreSQL's void value, as its text output reads ('', not NULL).
"""
from __future__ import annotations

from ... import errors, statement_limits, types
from .registry import ScalarFunction

_ONE_OR_TWO = ((types.INTEGER,), (types.INTEGER, types.INTEGER))

# name -> (exclusive, transaction level, waits, returns a boolean)
LOCKERS = {
    "pg_advisory_lock": (True, False, True, False),
    "pg_advisory_lock_shared": (False, False, True, False),
    "pg_try_advisory_lock": (True, False, False, True),
    "pg_try_advisory_lock_shared": (False, False, False, True),
    "pg_advisory_xact_lock": (True, True, True, False),
    "pg_advisory_xact_lock_shared": (False, True, True, False),
    "pg_try_advisory_xact_lock": (True, True, False, True),
    "pg_try_advisory_xact_lock_shared": (False, True, False, True),
}
UNLOCKERS = {"pg_advisory_unlock": True, "pg_advisory_unlock_shared": False}
NAMES = frozenset([*LOCKERS, *UNLOCKERS, "pg_advisory_unlock_all"])


INT32 = 1 << 32


def key_of(args: tuple) -> tuple[int, int, int]:
    """pg_locks' (classid, objid, objsubid) of a lock: one bigint key is split into its
    high and low 32 bits with objsubid 1, two int keys are kept with objsubid 2 (so the
    two spaces never meet, as in PostgreSQL)."""
    if len(args) == 1:
        key = int(args[0]) % (1 << 64)
        return key >> 32, key & (INT32 - 1), 1
    for a in args:
        if not -(1 << 31) <= int(a) < (1 << 31):
            raise errors.sql_error("22003", "integer out of range")
    return int(args[0]) % INT32, int(args[1]) % INT32, 2


def _backend():
    limits = statement_limits._CURRENT.get()
    backend = getattr(limits, "backend", None) if limits is not None else None
    if backend is None:
        raise errors.not_supported("advisory locks outside a session")
    return backend


def _resolver(ret: str):
    def resolve(ts):
        if (len(ts) in (1, 2) and all(t in (types.INTEGER, types.NULL, types.UNKNOWN)
                                      for t in ts)):
            return ret
        return None
    resolve.signatures = tuple((*sig, ret) for sig in _ONE_OR_TWO)
    return resolve


def _locker(name: str):
    exclusive, xact, wait, boolean = LOCKERS[name]

    def run(*keys):
        backend = _backend()
        got = backend.locks.acquire(backend, key_of(keys), exclusive, xact, wait)
        return got if boolean else ""
    return run


def _unlocker(name: str):
    exclusive = UNLOCKERS[name]

    def run(*keys):
        backend = _backend()
        return backend.locks.release(backend, key_of(keys), exclusive)
    return run


def _unlock_all():
    backend = _backend()
    backend.locks.release_all(backend, True, False)
    return ""


def register(reg) -> None:
    for name, (_, _, _, boolean) in LOCKERS.items():
        reg.add(ScalarFunction(name, _resolver(types.BOOLEAN if boolean else types.TEXT), None,
                               _locker(name), volatile=True))
    for name in UNLOCKERS:
        reg.add(ScalarFunction(name, _resolver(types.BOOLEAN), None, _unlocker(name),
                               volatile=True))
    reg.add(ScalarFunction("pg_advisory_unlock_all", lambda ts: types.TEXT if not ts else None,
                           None, _unlock_all, volatile=True))
