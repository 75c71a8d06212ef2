"""Random version-4 UUIDs for entity ids, audit records and request ids, cheaply.

``uuid.uuid4()`` reads 16 bytes with one ``os.urandom`` call per id: a system call
that also lets go of the interpreter, so under a busy web server each id can cost a
thread switch. Here each thread takes its ids from its own pool of ``os.urandom``
bytes (the same source, read 256 ids at a time), so ids stay as unpredictable as
``uuid4()``'s. A pool remembers the process it was filled in: a forked child never
reuses its parent's bytes.
"""
from __future__ import annotations

import os
import threading
import uuid

__all__ = ["uuid4"]

_IDS_PER_READ = 256
_local = threading.local()
_new_uuid = object.__new__
_set = object.__setattr__
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (4 << 76) | (0x8000 << 48)      # version 4, RFC 4122 variant


def uuid4() -> uuid.UUID:
    """A random (version 4) UUID, as ``uuid.uuid4()`` makes."""
    state = _local.__dict__
    pool = state.get("pool")
    pid = os.getpid()
    if not pool or state.get("pid") != pid:
        raw = os.urandom(16 * _IDS_PER_READ)
        pool = state["pool"] = [int.from_bytes(raw[i:i + 16], "big")
                                for i in range(0, len(raw), 16)]
        state["pid"] = pid
    # UUID(int=...) re-checks the range and the version it was given: made directly
    u = _new_uuid(uuid.UUID)
    _set(u, "int", (pool.pop() & _V4_CLEAR) | _V4_SET)
    _set(u, "is_safe", uuid.SafeUUID.unknown)
    return u
