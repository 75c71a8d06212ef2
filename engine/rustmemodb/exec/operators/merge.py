"""MERGE: every source row takes the first WHEN clause it meets, all against the target
as it was when the statement began; then the chosen deletes, updates and inserts are
written in that order, through the same checks as DELETE, UPDATE and INSERT
(constraints, foreign keys, column type modifiers, unique keys).

A target row that two source rows would update or delete is ``21000``, as in PostgreSQL
("MERGE command cannot affect row a second time"); a row no clause takes is left alone
(and so is a second match that no clause takes, or that DO NOTHING takes).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from ... import errors, numeric_arrays
from ...plan.logical import LogicalMerge
from .. import constraints, generated
from ..expr.vector import as_array, evaluate
from ..run import operator, run_plan
from .dml import _EMPTY, _pyrows, _write_versions


@operator(LogicalMerge)
def merge(node: LogicalMerge, ctx) -> pa.Table:
    txn = ctx.txn
    schema = txn.table(node.table).schema
    width, ns = len(schema.columns), node.source_width
    data = run_plan(node.source, ctx)
    n = data.num_rows
    rowid = data.column(ns + width)
    matched = pc.is_valid(rowid).to_numpy(zero_copy_only=False) if n else np.zeros(0, bool)
    taken = np.zeros(n, bool)
    writes = np.zeros(n, bool)         # source rows that update or delete their match
    chosen = []
    for action in node.actions:
        mask = (matched if action.matched else ~matched) & ~taken
        if action.condition is not None and mask.any():
            cond = as_array(evaluate(action.condition, data, ctx), n)
            mask &= pc.fill_null(cond, False).to_numpy(zero_copy_only=False)
        taken |= mask
        if action.kind in ("update", "delete"):
            writes |= mask
        if mask.any() and action.kind != "nothing":
            chosen.append((action, data.filter(pa.array(mask))))
    # a target row two source rows would change (not one a second row matches without a
    # clause taking it, or DO NOTHING): PostgreSQL's "second time"
    hit = pc.drop_null(rowid.filter(pa.array(writes))).to_numpy(zero_copy_only=False) \
        if writes.any() else np.zeros(0)
    if len(np.unique(hit)) != len(hit):
        raise errors.sql_error("21000", "MERGE command cannot affect row a second time",
                               hint="Ensure that not more than one source row matches any "
                                    "one target row.")
    total = 0
    for action, rows in chosen:          # deletes first, then updates, then inserts
        if action.kind == "delete":
            total += _delete(txn, node.table, schema, rows, ns, width, ctx)
    updated = [(a, rows) for a, rows in chosen if a.kind == "update"]
    if updated:
        total += _update(txn, node.table, schema, updated, ns, width, ctx)
    for action, rows in chosen:
        if action.kind == "insert":
            total += _insert(txn, node.table, schema, action, rows, ctx)
    ctx.rowcount = total
    return _EMPTY


def _target(rows: pa.Table, ns: int, width: int) -> pa.Table:
    """The target's columns and _rowid of joined rows."""
    return rows.select(range(ns, ns + width + 1))


def _delete(txn, table: str, schema, rows: pa.Table, ns: int, width: int, ctx) -> int:
    old = _target(rows, ns, width)
    if constraints.is_referenced(txn, table):
        constraints.before_delete(txn, schema, _pyrows(old.select(range(width))), ctx)
    txn.delete_rows(table, old.column(width).to_numpy().tolist())
    return rows.num_rows


def _update(txn, table: str, schema, updated: list, ns: int, width: int, ctx) -> int:
    """Every UPDATE clause's rows in one write (a row takes one clause only)."""
    olds, news, assigned = [], [], set()
    for action, rows in updated:
        old = _target(rows, ns, width)
        arrays = []
        for i, f in enumerate(schema.arrow_schema):
            if i in action.assignments:
                v = as_array(evaluate(action.assignments[i], rows, ctx), rows.num_rows)
                arrays.append(v if v.type == f.type else numeric_arrays.cast_to(v, f.type))
            else:
                arrays.append(old.column(i))
        olds.append(old)
        news.append(generated.fill_table(
            schema, pa.Table.from_arrays(arrays, schema=schema.arrow_schema), ctx))
        assigned.update(action.assignments)
    assigned.update(i for i, c in enumerate(schema.columns) if c.generated is not None)
    old, new = pa.concat_tables(olds), pa.concat_tables(news)
    _write_versions(txn, table, schema, old.column(width).to_numpy(), new, old, ctx,
                    frozenset(assigned))
    return new.num_rows


def _insert(txn, table: str, schema, action, rows: pa.Table, ctx) -> int:
    n = rows.num_rows
    arrays = [None] * len(schema.columns)
    for e, i in zip(action.values, action.targets):
        arrays[i] = as_array(evaluate(e, rows, ctx), n)
    for i, e in action.defaults.items():
        arrays[i] = as_array(evaluate(e, rows, ctx), n)
    fields = schema.arrow_schema
    arrays = [a if a.type == f.type else numeric_arrays.cast_to(a, f.type)
              for a, f in zip(arrays, fields)]
    full = generated.fill_table(schema, pa.Table.from_arrays(arrays, schema=fields), ctx)
    full = constraints.check_table(txn, schema, full, ctx, inserting=True)
    txn.insert_arrow(table, full)
    return n
