"""Range and numeric columns of a result as people read them.

A result's Arrow table holds ranges and numerics in their ordered byte forms
(ranges/codec.py, numeric.py): that is what the engine compares and what the cluster
moves between shards. A DataFrame, a notebook grid or a polars frame shows a range's
text instead (``[1,5)``, ``empty``), as PostgreSQL's range_out writes it, and a numeric
as an exact Arrow decimal (``numeric_frame_column``).
"""
from __future__ import annotations

from ..lazy_import import arrow as pa

from .. import numeric, ranges, types


def ranges_as_text(table: "pa.Table", sql_types: list[str]) -> "pa.Table":
    """``table`` with each column whose SQL type is a range type as text, and each
    numeric column as exact decimals."""
    for i, t in enumerate(sql_types):
        if t == types.NUMERIC and i < table.num_columns and \
                pa.types.is_binary(table.column(i).type):
            table = table.set_column(i, table.field(i).name,
                                     numeric_frame_column(table.column(i)))
            continue
        kind = ranges.KINDS.get(t)
        if kind is None or i >= table.num_columns:
            continue
        text = pa.array([None if v is None else ranges.format_range(kind, ranges.decode(kind, v))
                         for v in table.column(i).to_pylist()], pa.large_string())
        table = table.set_column(i, table.field(i).name, text)
    return table


def numeric_frame_column(column) -> pa.Array:
    """A numeric column (storage keys) as DataFrames take it: Arrow ``decimal128(38, s)``
    (``decimal256(76, s)`` past 38 digits), s the largest scale among its values, so
    pandas holds exact ``decimal.Decimal`` objects and polars its Decimal type (a value
    shown with fewer digits after the point than s gains zeros: 1.5 beside 1.25 is
    1.50). A column holding NaN or ±Infinity, which no Arrow decimal holds, or past 76
    digits, is numeric_out's text instead."""
    values = [None if k is None else numeric.decode(k) for k in column.to_pylist()]
    finite = [d for d in values if d is not None]
    if any(not d.is_finite() for d in finite):
        return pa.array([None if d is None else numeric.format(d) for d in values],
                        pa.large_string())
    scale = max((numeric.scale_of(d) for d in finite), default=0)
    digits = max((max(d.adjusted() + 1, 1) + scale for d in finite), default=1)
    if scale > 76 or digits > 76:
        return pa.array([None if d is None else numeric.format(d) for d in values],
                        pa.large_string())
    kind = pa.decimal128(38, scale) if digits <= 38 else pa.decimal256(76, scale)
    return pa.array(values, kind)
