"""One contiguous Arrow array from whatever an operator was handed; a scalar as rows.

Operators often need a plain ``pa.Array`` (to_numpy, dictionary indices, take by
position). ``ChunkedArray.combine_chunks()`` copies even when there is a single chunk: a
registered 5M-row DataFrame column costs ~0.1 s of copying and page faults per query for
nothing. ``contiguous`` returns that chunk as it is and concatenates only when needed.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa


def contiguous(values):
    """``values`` as one array: a single chunk is returned without a copy."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def repeated(value, n: int):
    """A scalar broadcast to ``n`` rows. ``pa.repeat`` of a list or struct scalar zero
    times raises "Must pass at least one array" (pyarrow 26): an empty input (a filter
    that kept nothing, then ``x = ANY(ARRAY[...])``) must give an empty array."""
    if n == 0:
        return pa.array([], type=value.type)
    return pa.repeat(value, n)
