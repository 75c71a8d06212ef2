"""record_out: a whole row as PostgreSQL prints a composite value, ``(1,"x y",)``; and the
kernels of composite values (composite.py): ROW(...) made into one, a field read from
one, and ``IS [NOT] NULL`` of one (every field NULL / none).

``SELECT t FROM t`` names the row itself. The engine has no composite type, so the
binder (sql/bind/whole_row.py) turns such a reference into ``record_out(col, ...)``,
whose text is what psql shows for the record and which groups and compares as the
rows do (``count(DISTINCT t)``): each field in its type's output form, NULL as nothing,
a field quoted when empty or holding a quote, backslash, parenthesis, comma or space.
"""
from __future__ import annotations

from ... import composite, types
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


def _make(*args):
    """ROW(a, b, ...) of a composite type (its type string is the last argument)."""
    return composite.encode(args[-1], args[:-1])


def _make_vec(*args):
    return map_rows(_make, args, out_type=pa.large_binary(), strict=False)


def _get_field(data, index, sql_type):
    return None if data is None else composite.field(sql_type, data, index)


def _field_vec(data, index, sql_type):
    t = sql_type.as_py()
    out = types.arrow_type(composite.fields_of(t)[index.as_py()][1])
    return map_rows(_get_field, [data, index, sql_type], out_type=out, strict=False)


def _zip(*args):
    """Arrays of the fields' values (one per field) as one array of records."""
    sql_type, arrays = args[-1], args[:-1]
    if any(a is None for a in arrays):
        return None
    return [composite.encode(sql_type, values) for values in zip(*arrays)]


def _zip_vec(*args):
    return map_rows(_zip, args, out_type=pa.list_(pa.large_binary()), strict=False)


def _is_null(data, sql_type):
    return composite.all_null(data, sql_type)


def _not_null(data, sql_type):
    return composite.none_null(data, sql_type)


def _flag_vec(fn):
    return lambda data, t: map_rows(fn, [data, t], out_type=pa.bool_(), strict=False)


def register(reg) -> None:
    # the binder (sql/bind/bind_composite.py) builds these calls with their return type,
    # which the type-string argument says (the resolved TEXT is not used)
    reg.add(ScalarFunction("record_make", lambda ts: types.TEXT if ts else None, _make_vec,
                           _make, strict=False))
    reg.add(ScalarFunction("record_field", lambda ts: types.TEXT if len(ts) == 3 else None,
                           _field_vec, _get_field, strict=False))
    reg.add(ScalarFunction("record_zip", lambda ts: types.TEXT if ts else None, _zip_vec,
                           _zip, strict=False))
    for name, fn in (("record_is_null", _is_null), ("record_not_null", _not_null)):
        reg.add(ScalarFunction(name, lambda ts: types.BOOLEAN if len(ts) == 2 else None,
                               _flag_vec(fn), fn, strict=False))
    # ROW(a, b, ...) as a value: the record's text too (the engine has no composite type)
    for name in ("record_out", "row"):
        reg.add(ScalarFunction(name, lambda ts: types.TEXT if ts else None, _record_vec,
                               record_out, strict=False))
