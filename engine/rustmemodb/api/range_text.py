"""Range columns of a result as PostgreSQL's text, for people to read.

A result's Arrow table holds ranges in their ordered byte form (ranges/codec.py): that
is what the engine compares and what the cluster moves between shards. A DataFrame, a
notebook grid or a polars frame shows the text instead (``[1,5)``, ``empty``), as
PostgreSQL's range_out writes it.
"""
from __future__ import annotations

from ..lazy_import import arrow as pa

from .. import ranges


def ranges_as_text(table: "pa.Table", sql_types: list[str]) -> "pa.Table":
    """``table`` with each column whose SQL type is a range type as text."""
    for i, t in enumerate(sql_types):
        kind = ranges.KINDS.get(t)
        if kind is None or i >= table.num_columns:
            continue
        text = pa.array([None if v is None else ranges.format_range(kind, ranges.decode(kind, v))
                         for v in table.column(i).to_pylist()], pa.large_string())
        table = table.set_column(i, table.field(i).name, text)
    return table
