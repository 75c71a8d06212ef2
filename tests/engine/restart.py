"""A file-backed database made, optionally checkpointed, closed and opened again: what
the durability tests of one feature after another need (recovery from the log alone,
or from a checkpoint)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import rustmemodb


def reopened(path: Path, make: Callable, checkpoint: bool):
    """``make(conn)`` on a new database at ``path``, a CHECKPOINT if asked, then the
    database opened again: its connection."""
    conn = rustmemodb.connect(str(path))
    make(conn)
    if checkpoint:
        conn.execute("CHECKPOINT")
    conn.close()
    return rustmemodb.connect(str(path))
