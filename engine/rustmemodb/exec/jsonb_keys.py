"""jsonb documents as hashing must see them: equal documents, equal keys.

A jsonb document is stored as its canonical text (types.canonical_json), which keeps each
number as written (``1.0``, ``1.00`` and ``1`` print apart, as in PostgreSQL), but ``=``
compares numbers by value (exec/functions/jsonb_order.py). GROUP BY, DISTINCT [ON], set
operations, hash joins, ``IN (SELECT ..)``, PARTITION BY and ``count(DISTINCT)`` hash a
document by ``hash_text``: its text with every number in one form (``{"a": 1.0}`` and
``{"a": 1}`` are both ``{"a": 1}``). The stored text writes a number as numeric_out
does (no exponent), so a number is already in its one form unless its fraction ends in
a zero (``1.0``, ``2.50``): texts without such a number are their own keys, unparsed; a
column is screened by byte scans (a point anywhere? then a point, digits and a zero) and
only the documents they point at are read.
"""
from __future__ import annotations

import re
from decimal import Decimal

from ..lazy_import import arrow as pa, numpy as np
from .. import numeric, types

# where a number may be written in a form another text writes differently (1.0, 1e3)
NUMBER_FORM = re.compile(r"[0-9][.eE]")
# a stored number not in its one form: a fraction ending in zero (1.0, 2.50, 0.00)
_TRAILING_ZERO = re.compile(r"[0-9]\.[0-9]*0(?![0-9])")


def hash_text(text: str) -> str:
    """jsonb's hash key of a document's text (see the module docstring)."""
    if _TRAILING_ZERO.search(text) is None:
        return text
    return types.canonical_json(_one_form(types.load_jsonb(text)))


def _one_form(v):
    if type(v) is Decimal:
        n = v.normalize(numeric.CTX)                 # 1.50 -> 1.5, 100.0 -> 1E+2, -0 -> 0
        return int(n) if n.as_tuple().exponent >= 0 else n
    if type(v) is list:
        return [_one_form(x) for x in v]
    if type(v) is dict:
        return {k: _one_form(x) for k, x in v.items()}
    return v


def hash_keys(values):
    """``hash_text`` over an Arrow array (or scalar) of documents: the same array when no
    document has a number in doubt."""
    if isinstance(values, pa.Scalar):
        return values if not values.is_valid else pa.scalar(hash_text(values.as_py()),
                                                            values.type)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    if not any(_has_point(c) for c in chunks):
        return values          # one memchr scan, cheaper than a regex per document
    given = values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    # candidates: one regex pass over the text bytes (a point, digits, a zero: a superset
    # of the numbers in doubt, whatever the document boundaries), mapped to their rows
    data = values.buffers()[2]
    hits = [m.start() for m in _CANDIDATE.finditer(memoryview(data))]
    if not hits:
        return given
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset:values.offset + n + 1]
    rows = np.unique(np.searchsorted(offsets, np.asarray(hits, np.int64), side="right") - 1)
    rows = rows[(rows >= 0) & (rows < n)]
    texts = None
    for i, t in zip(rows.tolist(), values.take(pa.array(rows)).to_pylist()):
        k = t if t is None else hash_text(t)
        if k != t:
            if texts is None:
                texts = values.to_pylist()
            texts[i] = k
    return given if texts is None else pa.array(texts, values.type)


def _has_point(chunk) -> bool:
    """Whether a point is anywhere in the chunk's text bytes: copied and searched by
    16 MB (bytes.find is memchr; re over the buffer is two to three times slower)."""
    data = chunk.buffers()[2] if len(chunk) else None
    if data is None:
        return False
    size = data.size
    return any(data.slice(at, min(_SPAN, size - at)).to_pybytes().find(b".") >= 0
               for at in range(0, size, _SPAN))


_SPAN = 1 << 24
_CANDIDATE = re.compile(rb"\.[0-9]*0")     # the point first: re looks for it fast
