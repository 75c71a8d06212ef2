"""Notebook data (pandas, Arrow) → the Arrow table the engine reads, or a clear SQL error.

The variable bridge (``session.scan``) and ``--persist`` / ``--append`` hand
the engine Arrow tables. Converting a DataFrame can fail in ways pyarrow
reports poorly: an ``object`` column holding ``1`` and ``'x'`` raises
``ArrowInvalid`` deep in pandas' conversion (a long traceback that names
neither the value's row nor what to do), and a ``uint64`` above int64's
maximum reaches the engine's INTEGER (int64) storage as an internal error.

This module converts with those cases checked first and raises the engine's
own PEP 249 errors instead, so a ``%sql`` cell shows SQLSTATE, message and
hint like any SQL error and the session stays usable:

* a column mixing Python types → ``42804`` (datatype mismatch) naming the
  column, the first value of another kind, its row and the kind before it;
* an integer beyond int64 (``uint64`` or a Python int in an object column)
  → ``22003`` (numeric value out of range) naming the column and value;
* an Arrow type with no SQL counterpart (lists, structs, binary) →
  ``42804`` naming the column and the type.

``uint64`` columns whose values fit are cast to int64 (lossless), which is
how the engine's INTEGER stores them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

INT64_MAX = 2**63 - 1


def to_engine_table(value: Any, name: str) -> pa.Table:
    """``value`` (pandas DataFrame or Arrow table) as an Arrow table the engine can scan."""
    if isinstance(value, pa.Table):
        table = value
    else:
        table = _from_pandas(value, name)
    return _check_arrow(table, name)


def _from_pandas(df: Any, name: str) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as exc:
        for column in df.columns:
            try:
                pa.array(df[column], from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError) as col_exc:
                raise column_error(df[column], str(column), name, col_exc) from None
        raise _error("42804", f"DataFrame {name} cannot be read as a table: {exc}",
                     hint="Give every column a single type (df.dtypes shows them).") from None


def column_error(series: Any, column: str, frame: str, exc: BaseException) -> Exception:
    """The error for one column pyarrow could not convert."""
    odd = first_odd_value(series)
    if odd is not None:
        row, value, kind, first_row, first_value, first_kind = odd
        return _error(
            "42804",
            f'column "{column}" of {frame} mixes types: {value!r} ({kind}) at row {row}, '
            f"after {first_kind} values such as {first_value!r} at row {first_row}",
            hint=f"Give the column one type, e.g. {frame}[{column!r}] = {frame}[{column!r}].astype(str), "
                 "or fix the odd values.",
        )
    big = first_big_int(series)
    if big is not None:
        row, value = big
        return out_of_range(column, frame, value, row)
    return _error("42804", f'column "{column}" of {frame} cannot be read as one SQL type: {exc}',
                  hint=f"Check {frame}[{column!r}].map(type).value_counts().")


def first_odd_value(series: Any) -> tuple[int, Any, str, int, Any, str] | None:
    """``(row, value, kind, first_row, first_value, first_kind)`` of the first value
    whose kind differs from the first non-null value's, or None."""
    first: tuple[int, Any, str] | None = None
    for row, value in enumerate(series.tolist()):
        kind = value_kind(value)
        if kind is None:
            continue
        if first is None:
            first = (row, value, kind)
        elif kind != first[2]:
            return row, value, kind, first[0], first[1], first[2]
    return None


def value_kind(value: Any) -> str | None:
    """A coarse kind of ``value`` (ints and floats are both numbers); None for nulls."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "boolean"
    if isinstance(value, (int, float, decimal.Decimal)) or type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iuf":
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes):
        return "bytes"
    if isinstance(value, dt.datetime) or type(value).__name__ == "Timestamp":
        return "timestamp"
    if isinstance(value, dt.date):
        return "date"
    return type(value).__name__


def first_big_int(series: Any) -> tuple[int, int] | None:
    for row, value in enumerate(series.tolist()):
        if isinstance(value, int) and not isinstance(value, bool) and not -INT64_MAX - 1 <= value <= INT64_MAX:
            return row, value
    return None


def out_of_range(column: str, frame: str, value: Any, row: int) -> Exception:
    return _error(
        "22003",
        f'column "{column}" of {frame}: value {value} at row {row} is out of range for INTEGER (64-bit)',
        hint=f"Convert it first, e.g. {frame}[{column!r}].astype('float64') (approximate) or .astype(str).",
    )


def _check_arrow(table: pa.Table, name: str) -> pa.Table:
    """Cast fitting uint64 columns to int64; refuse values and types the engine cannot hold."""
    from rustmemodb.types import sql_type_of_arrow

    for i, field in enumerate(table.schema):
        t = field.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_uint64(t):
            table = table.set_column(i, field.name, _uint64_as_int64(table.column(i), field.name, name))
            continue
        try:
            sql_type_of_arrow(t)
        except Exception:  # the engine's NotSupportedError: say which column
            raise _error("42804", f'column "{field.name}" of {name} has type {t}, which has no SQL type here',
                         hint="Convert or drop the column before querying (e.g. to text).") from None
    return table


def _uint64_as_int64(column: pa.ChunkedArray, field: str, frame: str) -> pa.ChunkedArray:
    biggest = pc.max(column).as_py()
    if biggest is not None and biggest > INT64_MAX:
        too_big = pc.greater(column, pa.scalar(INT64_MAX, pa.uint64()))
        row = pc.index(too_big, True).as_py()
        raise out_of_range(field, frame, column[row].as_py(), row)
    return column.cast(pa.int64())


def _error(sqlstate: str, message: str, hint: str | None = None) -> Exception:
    from rustmemodb.errors import DataError

    return DataError(message, sqlstate=sqlstate, hint=hint)
