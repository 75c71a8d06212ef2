"""jsonb documents as hashing must see them: equal documents, equal keys.

A jsonb document is stored as its canonical text (types.canonical_json), which keeps each
number as written (``1.0``, ``1.00`` and ``1`` print apart, as in PostgreSQL), but ``=``
compares numbers by value (exec/functions/jsonb_order.py). GROUP BY, DISTINCT [ON], set
operations, hash joins, ``IN (SELECT ..)``, PARTITION BY and ``count(DISTINCT)`` hash a
document by ``hash_text``: its text with every number in one form (``{"a": 1.0}`` and
``{"a": 1}`` are both ``{"a": 1}``). Texts without a number in doubt are their own keys,
unparsed; a column is screened with one byte scan, since the stored text writes numbers
without exponents (numeric_out's form), so a number in doubt has a point.
"""
from __future__ import annotations

import re
from decimal import Decimal

from ..lazy_import import arrow as pa, compute as pc
from .. import numeric, types

# where a number may be written in a form another text writes differently (1.0, 1e3)
NUMBER_FORM = re.compile(r"[0-9][.eE]")
_POINT = re.compile(rb"\.")


def hash_text(text: str) -> str:
    """jsonb's hash key of a document's text (see the module docstring)."""
    if NUMBER_FORM.search(text) is None:
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
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    data = values.buffers()[2] if len(values) else None
    if data is None or _POINT.search(memoryview(data)) is None:
        return values          # one memchr-like scan, cheaper than a regex per document
    doubtful = pc.match_substring_regex(values, NUMBER_FORM.pattern)
    if not pc.any(doubtful).as_py():
        return values
    flags = doubtful.to_pylist()
    return pa.array([hash_text(t) if f else t for t, f in zip(values.to_pylist(), flags)],
                    values.type)
