"""Generated columns (GENERATED ALWAYS AS (expr) STORED): their values, computed from the
row's other columns as rows are inserted or updated (exec/operators/dml.py).

The expressions are bound once per schema by the database's CHECK binder
(sql/bind/bind_constraints.py ``bind_generated``), reached through the statement's
context; writes that bypass the operators (the point fast paths, executemany's append)
decline tables with generated columns, so every write comes through here.
"""
from __future__ import annotations

from typing import Any

from ..lazy_import import arrow as pa
from .expr.vector import as_array, evaluate
from .. import infinity, numeric_arrays


def has_generated(schema) -> bool:
    return any(c.generated is not None for c in schema.columns)


def _bound(schema, ctx) -> list:
    root = ctx.root
    return ctx.checks(schema, ctx.functions, (root.functions or None) if root is not None
                      else None, "generated")


def fill_rows(schema, rows: list[tuple], ctx) -> list[tuple]:
    """Python rows (in table column order) with their generated columns computed."""
    if not rows or not has_generated(schema):
        return rows
    out = [list(r) for r in rows]
    for i, expr, fn in _bound(schema, ctx):
        if fn is None:                      # no row form: evaluate over the rows as Arrow
            table = pa.Table.from_pylist([dict(zip(schema.names, r)) for r in out],
                                         schema=schema.arrow_schema)
            values = infinity.pylist(as_array(evaluate(expr, table, ctx), len(out)))
            for r, v in zip(out, values):
                r[i] = v
            continue
        for r in out:
            r[i] = fn(tuple(r), ctx.params)
    return [tuple(r) for r in out]


def fill_table(schema, table: Any, ctx):
    """An Arrow table (in table column order) with its generated columns computed."""
    if table.num_rows == 0 or not has_generated(schema):
        return table
    table = numeric_arrays.cast_table(table, schema.arrow_schema)    # numerics as keys
    columns = list(table.columns)
    for i, expr, _ in _bound(schema, ctx):
        current = pa.Table.from_arrays(columns, schema=schema.arrow_schema)
        v = as_array(evaluate(expr, current, ctx), table.num_rows)
        field = schema.arrow_schema.field(i)
        columns[i] = v if v.type == field.type else numeric_arrays.cast_to(v, field.type)
    return pa.Table.from_arrays(columns, schema=schema.arrow_schema)
