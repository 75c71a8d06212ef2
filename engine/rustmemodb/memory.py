"""Keeping the cyclic garbage collector off the database's long-lived objects.

A full collection walks every tracked container in the process: with pyarrow,
numpy and sqlglot loaded that is already 40-60 ms, and every big Python list the
engine keeps (the per-chunk Python columns of point reads: 64k elements each)
or persistent map adds to it (DESIGN.md: a 1M-entry map adds ~75 ms). Writes
keep allocating survivors (row tuples, map nodes), so full collections recur
every few thousand statements, a 50 ms stall each time, while nothing the
engine stores ever forms garbage cycles.

So after a bulk load, an index build or a recovery (and after building a
chunk's Python columns), ``settle_heap`` moves every object alive at that point
into the collector's permanent generation (``gc.freeze()``, as DESIGN.md
recommends), after collecting the young generations so that little garbage is
frozen with them. Objects frozen and later dropped are still freed by reference
counting; only a cycle among them would stay until ``gc.unfreeze()``. Set
``RUSTMEMODB_GC_FREEZE=0`` to turn this off.
"""
from __future__ import annotations

import gc
import os

# Below this many rows a load leaves too few long-lived objects to matter.
BULK_ROWS = 65536

_enabled = os.environ.get("RUSTMEMODB_GC_FREEZE", "1") != "0"


def settle_heap(rows: int = BULK_ROWS) -> None:
    """Freeze the heap after an operation that created ``rows`` rows' worth of
    long-lived objects (no-op for small ones or when disabled)."""
    if not _enabled or rows < BULK_ROWS:
        return
    gc.collect(1)   # young garbage is collected, not frozen; cheap (young gens are small)
    gc.freeze()
