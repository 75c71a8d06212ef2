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

from ..lazy_import import arrow as pa


def to_pandas(table: "pa.Table") -> Any:
    """``table`` as a pandas DataFrame; integer and boolean columns with NULLs stay exact."""
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
