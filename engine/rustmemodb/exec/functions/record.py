"""record_out: a whole row as PostgreSQL prints a composite value, ``(1,"x y",)``.

``SELECT t FROM t`` names the row itself. The engine has no composite type, so the
binder (sql/bind/whole_row.py) turns such a reference into ``record_out(col, ...)``,
whose text is what psql shows for the record and which groups and compares as the
rows do (``count(DISTINCT t)``): each field in its type's output form, NULL as nothing,
a field quoted when empty or holding a quote, backslash, parenthesis, comma or space.
"""
from __future__ import annotations

from ... import types
from ...lazy_import import arrow as pa
from ..expr.rowwise import map_rows
from .array import format_array
from .quoting import as_text
from .registry import ScalarFunction

_SPECIAL = frozenset('"\\(),')


def output_text(v) -> str:
    """A stored value in its type's output form, told by its Python type (storage forms
    differ per type: types.py); arrays with their elements quoted as in a literal."""
    if isinstance(v, list):
        first = next((x for x in v if x is not None), None)
        element = types.from_python(first)[1] if first is not None else types.TEXT
        return format_array(v, element if element != types.NULL else types.TEXT)
    return as_text(v)


def _field(v) -> str:
    if v is None:
        return ""
    text = output_text(v)
    if text == "" or any(c in _SPECIAL or c.isspace() for c in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '""') + '"'
    return text


def record_out(*values) -> str:
    return "(" + ",".join(_field(v) for v in values) + ")"


def _record_vec(*args):
    return map_rows(record_out, args, out_type=pa.large_string(), strict=False)


def register(reg) -> None:
    # ROW(a, b, ...) as a value: the record's text too (the engine has no composite type)
    for name in ("record_out", "row"):
        reg.add(ScalarFunction(name, lambda ts: types.TEXT if ts else None, _record_vec,
                               record_out, strict=False))
