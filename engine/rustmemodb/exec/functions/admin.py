"""Server administration functions monitoring tools call: pg_cancel_backend,
pg_terminate_backend, pg_is_in_recovery, pg_postmaster_start_time, pg_conf_load_time,
pg_stat_force_next_flush, pg_notify.

The signalling ones act for the session whose statement runs (its ``Backend``, reached
through the statement's limits: statement_limits.py) on another live session of the
same database (backends.py checks the privilege: superuser, or the same role, 42501
otherwise). Values that only the binder can see (inet_client_addr, pg_database_size)
are bound in sql/bind/bind_session_functions.py.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ... import errors, statement_limits, types
from .registry import ScalarFunction, fixed

# The "postmaster" is this process: it started, and read its configuration, when the
# engine was first imported.
STARTED = datetime.now(timezone.utc)


def _signal(terminate: bool):
    def run(pid):
        limits = statement_limits._CURRENT.get()
        backend = getattr(limits, "backend", None) if limits is not None else None
        session = backend.session() if backend is not None else None
        if session is None:
            raise errors.not_supported("pg_cancel_backend outside a session")
        return backend.registry.signal(session, int(pid), terminate)
    return run


def _notify(channel, payload):
    """pg_notify(channel, payload): NOTIFY with computed arguments (backends.py)."""
    limits = statement_limits._CURRENT.get()
    backend = getattr(limits, "backend", None) if limits is not None else None
    if backend is None:
        raise errors.not_supported("pg_notify outside a session")
    backend.registry.notify(backend, channel or "", payload)
    return ""


def register(reg) -> None:
    reg.add(ScalarFunction("pg_notify", fixed((types.TEXT, types.TEXT, types.TEXT)), None,
                           _notify, strict=False, volatile=True))
    for name, terminate in (("pg_cancel_backend", False), ("pg_terminate_backend", True)):
        reg.add(ScalarFunction(name, fixed((types.INTEGER, types.BOOLEAN),
                                           (types.INTEGER, types.INTEGER, types.BOOLEAN)),
                               None, (lambda run: lambda pid, timeout=0: run(pid))(
                                   _signal(terminate)), volatile=True))
    reg.add(ScalarFunction("pg_is_in_recovery", fixed((types.BOOLEAN,)),
                           lambda: False, lambda: False))
    # statistics are counted as rows change, never pending: flushing them is a no-op (void)
    reg.add(ScalarFunction("pg_stat_force_next_flush", fixed((types.TEXT,)), None, lambda: "",
                           volatile=True))
    for name in ("pg_postmaster_start_time", "pg_conf_load_time"):
        reg.add(ScalarFunction(name, fixed((types.TIMESTAMPTZ,)), None, lambda: STARTED))
