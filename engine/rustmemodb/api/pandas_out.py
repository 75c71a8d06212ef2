"""Results as pandas DataFrames without losing values.

``pyarrow.Table.to_pandas()`` turns an integer column holding a NULL into float64, so
a BIGINT above 2**53 comes back changed (9007199254740993 reads 9007199254740992.0),
and a boolean column holding a NULL into Python objects. Such columns take pandas'
nullable dtypes (``Int64``, ``boolean``) instead, as DuckDB's ``df()`` gives them;
columns without NULLs keep numpy's dtypes, as before. Every result that becomes a
DataFrame (the cursor's ``df()``, a diff, the notebook's results) goes through here.
"""
from __future__ import annotations

from typing import Any

from ..lazy_import import arrow as pa, compute as pc

from .. import infinity


def to_pandas(table: "pa.Table") -> Any:
    """``table`` as a pandas DataFrame; integer and boolean columns with NULLs stay exact,
    and an infinite date/timestamp is ``date.max``/``datetime.max`` (``min`` for
    ``-infinity``), as the cursor's rows hold it."""
    for i, column in enumerate(table.columns):
        if infinity.in_arrow(column):
            table = table.set_column(i, table.field(i), _finite(column))
    frame = table.to_pandas()
    for i, column in enumerate(table.columns):
        if column.null_count and (pa.types.is_integer(column.type)
                                  or pa.types.is_boolean(column.type)):
            dtype = _nullable_dtype(column.type)
            frame.isetitem(i, column.to_pandas(types_mapper=lambda _t, d=dtype: d))
    return frame


def _nullable_dtype(arrow_type) -> Any:
    import pandas as pd
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    name = ("Int" if pa.types.is_signed_integer(arrow_type) else "UInt") + \
        str(arrow_type.bit_width)
    return getattr(pd, f"{name}Dtype")()


def _finite(column):
    """A date/timestamp column with its infinities as Python's largest/smallest value."""
    import datetime as dt
    kind = infinity.arrow_kind(column.type)
    raw_type = pa.int32() if kind == "DATE" else pa.int64()
    raw = pc.cast(column, raw_type)
    if kind == "DATE":
        top, low = (dt.date.max - dt.date(1970, 1, 1)).days, (dt.date.min - dt.date(1970, 1, 1)).days
        sentinels = (infinity.INT32_MAX, infinity.INT32_MIN)
    else:
        top = (dt.datetime.max - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
        low = (dt.datetime.min - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
        sentinels = (infinity.INT64_MAX, infinity.INT64_MIN)
    raw = pc.if_else(pc.equal(raw, pa.scalar(sentinels[0], raw_type)), pa.scalar(top, raw_type), raw)
    raw = pc.if_else(pc.equal(raw, pa.scalar(sentinels[1], raw_type)), pa.scalar(low, raw_type), raw)
    return raw.cast(column.type)
