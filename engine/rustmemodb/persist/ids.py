"""Random version-4 UUIDs for entity ids, audit records and request ids, cheaply.

``uuid.uuid4()`` reads 16 bytes with one ``os.urandom`` call per id: a system call
that also lets go of the interpreter, so under a busy web server each id can cost a
thread switch. Here each thread takes its ids from its own pool of ``os.urandom``
bytes (the same source, read 4 KiB at a time), so ids stay as unpredictable as
``uuid4()``'s. A pool remembers the process it was filled in: a forked child never
reuses its parent's bytes.
"""
from __future__ import annotations

import os
import threading
import uuid

__all__ = ["uuid4"]

_POOL_BYTES = 4096
_local = threading.local()


def uuid4() -> uuid.UUID:
    """A random (version 4) UUID, as ``uuid.uuid4()`` makes."""
    state = _local.__dict__
    pool = state.get("pool")
    pos = state.get("pos", _POOL_BYTES)
    pid = os.getpid()
    if pool is None or pos >= _POOL_BYTES or state.get("pid") != pid:
        pool, pos = os.urandom(_POOL_BYTES), 0
        state["pool"], state["pid"] = pool, pid
    state["pos"] = pos + 16
    return uuid.UUID(bytes=pool[pos:pos + 16], version=4)
