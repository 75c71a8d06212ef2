"""Converting what users hand us (pandas, Arrow, polars) into Arrow tables, zero-copy where possible.

pandas is imported only when a DataFrame is actually passed (the engine never
imports it at module import, DESIGN.md).

Conversion failures are the user's data, not the engine's: they leave here as
SQL errors naming the object, the column and the first offending value, never
as a raw pyarrow exception, and nothing is remembered about a failed object (the
next query converts it afresh, so fixing the DataFrame fixes the query):

* a pandas ``object`` column mixing Python types (``[1, "two", 3.0]``): 42804;
* values the engine's types cannot hold, e.g. a ``uint64`` above the int64
  maximum (there is no NUMERIC type): 22003;
* Arrow types without an SQL type here (structs, binary, ...): 42804.

The notebook (``rustmemodb_lab.frames``) converts its variables through here
too, naming them as the user wrote them (``label``), so a mixed column reads
the same in ``%sql`` as in ``Connection.register``.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa

from .. import errors, types

_INT64_MAX = 2 ** 63 - 1


def to_arrow_table(obj, name: str | None = None, *, label: str | None = None) -> pa.Table:
    """``obj`` as an Arrow table whose every column the engine can read.

    Errors name ``obj`` as ``label`` if given (e.g. a notebook variable, bare),
    else as its ``name`` double-quoted like an SQL identifier."""
    what = label or _what(name)
    table = _as_arrow(obj, name, what)
    check_columns(table, name, label=label)
    return table


def _as_arrow(obj, name: str | None, what: str) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        import pandas as pd
        if isinstance(obj, pd.DataFrame):
            return _from_pandas(obj, name, what)
    if module == "polars":
        return obj.to_arrow()
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj)
    raise errors.ProgrammingError(
        f"cannot register a {type(obj).__name__}: expected a pandas DataFrame or an Arrow table",
        sqlstate="42804")


def _from_pandas(df, name: str | None, what: str) -> pa.Table:
    _check_object_columns(df, name, what)
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
            OverflowError) as exc:
        raise _pandas_error(df, name, what, exc) from None


def _pandas_error(df, name: str | None, what: str, exc: Exception) -> errors.Error:
    """The column pyarrow could not convert and its first value of another type."""
    for column in df.columns:
        values = df[column]
        if values.dtype != object:
            continue
        try:
            pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
                OverflowError):
            return _mixed_column(name, what, str(column), list(values))
    return errors.sql_error("42804", f"cannot read {what}: {exc}",
                            hint="Give each column one type (DataFrame.astype).")


def _check_object_columns(df, name: str | None, what: str) -> None:
    """pyarrow reads some mixes silently wrong ([date, 5] becomes two dates): refuse
    every object column whose values are of more than one kind (ints and floats
    together are one kind, a float column)."""
    from pandas.api.types import infer_dtype
    for column in df.columns:
        values = df[column]
        if values.dtype != object or infer_dtype(values, skipna=True) not in (
                "mixed", "mixed-integer"):
            continue
        kinds = {_kind(v) for v in values if not _missing(v)}
        if len(kinds) > 1:
            raise _mixed_column(name, what, str(column), list(values))


def _mixed_column(name: str | None, what: str, column: str, values: list) -> errors.Error:
    first = next(((i, v) for i, v in enumerate(values) if not _missing(v)), None)
    bad = None
    if first is not None:
        kind = _kind(first[1])
        bad = next(((i, v) for i, v in enumerate(values)
                    if not _missing(v) and _kind(v) != kind), None)
    big = next(((i, v) for i, v in enumerate(values) if isinstance(v, int)
                and not isinstance(v, bool) and not -_INT64_MAX - 1 <= v <= _INT64_MAX), None)
    if bad is None and big is not None:
        return _out_of_range(big[1], column, name, what, big[0])
    if first is None or bad is None:
        return errors.sql_error("42804", f'column "{column}" of {what} holds values '
                                         f"without an SQL type (first: {values[:1]!r})",
                                hint="Convert the column to one type (DataFrame.astype).")
    (i, v), (j, w) = first, bad
    frame = _python_name(name)
    return errors.sql_error(
        "42804",
        f'column "{column}" of {what} mixes types: {w!r} ({_kind(w)}) at row {j}, '
        f"after {_kind(v)} values such as {v!r} at row {i}",
        hint=f"Give the column one type, e.g. {frame}[{column!r}] = {frame}[{column!r}].astype(str), "
             f'or pd.to_numeric({frame}[{column!r}], errors="coerce"), or fix the odd values.')


def _kind(v) -> str:
    """Values pyarrow puts in one column together: all numbers, or one exact type
    (named for the message: text, boolean, else the Python type)."""
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "text"
    return type(v).__name__


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _what(name: str | None) -> str:
    return f'"{name}"' if name else "the registered data"


def _python_name(name: str | None) -> str:
    """How a hint spells the object in Python code."""
    return name if name and name.isidentifier() else "df"


def check_columns(table: pa.Table, name: str | None = None, *, label: str | None = None) -> None:
    """Every column has an SQL type, and its values fit that type."""
    what = label or _what(name)
    for field, column in zip(table.schema, table.columns):
        try:
            types.sql_type_of_arrow(field.type)
        except errors.Error:
            raise errors.sql_error(
                "42804", f'column "{field.name}" of {what} has type {field.type}, '
                         "which has no SQL type here",
                hint="Convert or drop the column before querying it (e.g. to text).") from None
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_uint64(value_type):
            _check_uint64(column.cast(value_type), field.name, name, what)


def _check_uint64(column, field_name: str, name: str | None, what: str) -> None:
    import pyarrow.compute as pc
    too_big = pc.greater(column, pa.scalar(_INT64_MAX, pa.uint64()))
    if not pc.any(too_big).as_py():
        return
    row = pc.index(too_big, True).as_py()
    raise _out_of_range(column[row].as_py(), field_name, name, what, row)


def _out_of_range(value: int, column: str, name: str | None, what: str, row: int) -> errors.Error:
    frame = _python_name(name)
    return errors.sql_error(
        "22003", f'column "{column}" of {what}: value {value} at row {row} is out of range '
                 "for INTEGER (64-bit)",
        hint=f"INTEGER is 64-bit and there is no NUMERIC type: convert the column first, e.g. "
             f"{frame}[{column!r}].astype('float64') (approximate) or .astype(str).")
