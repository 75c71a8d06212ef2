"""INSERT, UPDATE and DELETE: compute new rows, check constraints, write to the txn.

Small changes travel as Python row tuples into the table's row tail (no tiny
Arrow chunks, which would slow every later scan); large ones as Arrow tables
appended as whole chunks. UPDATE changes rows in place, keeping their rowids.
INSERT ... ON CONFLICT goes row by row through exec/operators/upsert.py. The
sources of UPDATE ... FROM and DELETE ... USING carry the FROM/USING columns
after the target row and its rowid (one row per target row: the binder keeps
the first join match), and RETURNING may read them. A large UPDATE is set-based
(TableVersion.update_arrow), a large DELETE passes its rowids as one numpy array
(TableVersion.delete's bulk path) and, when nothing reads the deleted rows, scans
only their rowids.
Every check happens before the first write of the statement, and the session
restores the transaction's working root if anything fails, so a failed
statement leaves no trace. RETURNING rows are the operator's output.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from ... import errors, numeric_arrays
from ...types import py_values
from ...plan.logical import (LogicalDelete, LogicalInsert, LogicalScan, LogicalUpdate,
                             LogicalViewCheck,
                             LogicalValues)
from ...storage.bulk_write import sorted_distinct
from ...storage.table import TAIL_FREEZE, rows_to_batch
from .. import constraints, generated
from ..expr.row import try_compile_row
from ..expr.vector import as_array, evaluate
from ..run import operator, run_plan
from .relational import project_table
from .scan import evaluate_value_rows
from ... import infinity


@operator(LogicalInsert)
def insert(node: LogicalInsert, ctx) -> pa.Table:
    txn = ctx.txn
    schema = txn.table(node.table).schema
    if isinstance(node.source, LogicalValues):
        rows = _full_rows(node, evaluate_value_rows(node.source, ctx), schema, ctx)
        return _insert_rows(node, schema, generated.fill_rows(schema, rows, ctx), ctx)
    data = run_plan(node.source, ctx)
    if node.on_conflict is not None:
        from .upsert import upsert_rows
        rows = _full_rows(node, _pyrows(data), schema, ctx)
        return upsert_rows(node, schema, generated.fill_rows(schema, rows, ctx), ctx)
    if data.num_rows < TAIL_FREEZE:
        rows = _full_rows(node, _pyrows(data), schema, ctx)
        return _insert_rows(node, schema, generated.fill_rows(schema, rows, ctx), ctx)
    full = generated.fill_table(schema, _full_table(node, data, schema, ctx), ctx)
    full = constraints.check_table(txn, schema, full, ctx, inserting=True)
    txn.insert_arrow(node.table, full)
    ctx.rowcount = full.num_rows
    return _returning(node.returning, node.columns, full, ctx)


def _pyrows(table: pa.Table) -> list[tuple]:
    return list(zip(*[py_values(c) for c in table.columns])) if table.num_columns else \
        [()] * table.num_rows


def _full_rows(node: LogicalInsert, rows: list[tuple], schema, ctx) -> list[tuple]:
    """Target values plus defaults, in table column order."""
    width = len(schema.columns)
    if node.targets == list(range(width)):
        return rows
    defaults = {i: try_compile_row(e) for i, e in node.defaults.items()}
    out = []
    for r in rows:
        full = [None] * width
        for v, i in zip(r, node.targets):
            full[i] = v
        for i, fn in defaults.items():
            full[i] = fn((), ctx.params) if fn is not None else \
                _vector_default(node.defaults[i], ctx)
        out.append(tuple(full))
    return out


def _vector_default(e, ctx):
    v = evaluate(e, pa.table({"_": [None]}).select([]), ctx)
    return infinity.pyscalar(v if isinstance(v, pa.Scalar) else v[0])


def _insert_rows(node: LogicalInsert, schema, rows: list[tuple], ctx) -> pa.Table:
    txn = ctx.txn
    if node.on_conflict is not None:
        from .upsert import upsert_rows
        return upsert_rows(node, schema, rows, ctx)
    rows = constraints.check_rows(txn, schema, rows, ctx, inserting=True)
    if rows:
        txn.insert_rows(node.table, rows)
    ctx.rowcount = len(rows)
    if node.returning is None:
        return _EMPTY
    return _returning(node.returning, node.columns, rows_to_table(rows, schema), ctx)


def rows_to_table(rows: list[tuple], schema) -> pa.Table:
    return pa.Table.from_batches([rows_to_batch(rows, schema.arrow_schema)])


def _full_table(node: LogicalInsert, data: pa.Table, schema, ctx) -> pa.Table:
    n = data.num_rows
    arrays = [None] * len(schema.columns)
    for k, i in enumerate(node.targets):
        arrays[i] = data.column(k)
    for i, e in node.defaults.items():
        arrays[i] = as_array(evaluate(e, data, ctx), n)
    fields = schema.arrow_schema
    # (an unconstrained numeric stays decimal128: TableVersion._numeric_form)
    arrays = [a if a.type == f.type else numeric_arrays.store_cast(a, f.type)
              for a, f in zip(arrays, fields)]
    return pa.Table.from_arrays(arrays, schema=pa.schema(
        [f.with_type(a.type) for f, a in zip(fields, arrays)], fields.metadata))


_EMPTY = pa.table({})


def _returning(exprs, columns, rows_table: pa.Table, ctx) -> pa.Table:
    if exprs is None:
        return _EMPTY
    return project_table(rows_table, exprs, columns, ctx)


@operator(LogicalUpdate)
def update(node: LogicalUpdate, ctx) -> pa.Table:
    txn = ctx.txn
    schema = txn.table(node.table).schema
    source = run_plan(node.source, ctx)
    n = source.num_rows
    ctx.rowcount = n
    if n == 0:
        return _returning(node.returning, node.columns, source, ctx)
    width = len(schema.columns)
    rowids = source.column(width).to_numpy()
    arrays = []
    for i, f in enumerate(schema.arrow_schema):
        if i in node.assignments:
            v = as_array(evaluate(node.assignments[i], source, ctx), n)
            arrays.append(v if v.type == f.type else numeric_arrays.store_cast(v, f.type))
        else:       # (an unconstrained numeric may be decimal128: store_cast)
            v = source.column(i)
            arrays.append(v if v.type == f.type else numeric_arrays.store_cast(v, f.type))
    new = generated.fill_table(schema, pa.Table.from_arrays(arrays, schema=pa.schema(
        [f.with_type(a.type) for f, a in zip(schema.arrow_schema, arrays)])), ctx)
    changed = frozenset(node.assignments) | frozenset(
        i for i, c in enumerate(schema.columns) if c.generated is not None)
    new = _write_versions(txn, node.table, schema, rowids, new, source, ctx, changed)
    if node.returning is not None and source.num_columns > width + 1:   # UPDATE ... FROM
        new = pa.Table.from_arrays(new.columns + source.columns[width:],
                                   names=new.column_names + source.column_names[width:])
    return _returning(node.returning, node.columns, new, ctx)


def _write_versions(txn, table: str, schema, rowids: np.ndarray, new: pa.Table, old: pa.Table,
                    ctx, columns: frozenset) -> pa.Table:
    """Write an UPDATE in place: every row keeps its rowid, which is its identity for
    concurrent-write checks and for branch diff and merge (an UPDATE shows there as a
    changed row, not a removed one plus an added one). Returns the new rows as stored
    (column type modifiers applied), for RETURNING."""
    if len(sorted_distinct(rowids)) != len(rowids):
        raise errors.sql_error("21000", "UPDATE command cannot affect row a second time")
    width = len(schema.columns)
    if new.num_rows < TAIL_FREEZE:
        rowids = rowids.tolist()
        new_rows = _pyrows(new)
        rows = constraints.check_rows(txn, schema, new_rows, ctx)
        if constraints.is_referenced(txn, table):
            constraints.before_update(txn, schema, _pyrows(old.select(range(width))), rows, ctx)
        txn.update_rows(table, rowids, rows, None, columns)
        return rows_to_table(rows, schema) if rows is not new_rows else new
    else:
        new = constraints.check_table(txn, schema, new, ctx)
        version = txn.working.tables[table]
        if constraints.is_referenced(txn, table):
            constraints.before_update(txn, schema, _pyrows(old.select(range(width))),
                                      _pyrows(new), ctx)
        # the rows read are still current unless a cascade changed this table
        same = txn.working.tables[table] is version
        txn.update_arrow(table, rowids, new, old.select(range(width)) if same else None,
                         columns)
        return new


@operator(LogicalDelete)
def delete(node: LogicalDelete, ctx) -> pa.Table:
    txn = ctx.txn
    schema = txn.table(node.table).schema
    width = len(schema.columns)
    plan, rowid_at = node.source, width
    scan = plan
    if isinstance(scan, LogicalScan) and scan.with_rowid and scan.index_lookup is None and \
            scan.projection is None and node.returning is None and \
            not constraints.is_referenced(txn, node.table):
        # Nobody reads the deleted rows' values: the scan keeps only the rowid column
        # (a 25% DELETE of 5M rows filtered every column just to drop them).
        plan = dataclasses.replace(scan, projection=[width], columns=[scan.columns[width]])
        rowid_at = 0
    source = run_plan(plan, ctx)
    rowids = source.column(rowid_at).to_numpy()
    if len(rowids) < TAIL_FREEZE:
        rowids = rowids.tolist()
    ctx.rowcount = len(rowids)
    if len(rowids):
        if constraints.is_referenced(txn, node.table):
            constraints.before_delete(txn, schema, _pyrows(source.select(range(width))), ctx)
        txn.delete_rows(node.table, rowids)
    return _returning(node.returning, node.columns, source, ctx)


@operator(LogicalViewCheck)
def view_check(node: LogicalViewCheck, ctx) -> pa.Table:
    """WITH CHECK OPTION: 44000 for the first written row a view's condition does not
    hold for (false or null), innermost view first, as PostgreSQL checks them."""
    out = run_plan(node.child, ctx)
    for view, at in node.checks:
        ok = infinity.pylist(out.column(at))
        if all(v is True for v in ok):
            continue
        i = next(k for k, v in enumerate(ok) if v is not True)
        row = [out.column(c)[i].as_py() for c in range(*node.row)]
        raise errors.sql_error(
            "44000", f'new row violates check option for view "{view}"',
            detail="Failing row contains (" + ", ".join(
                "null" if v is None else ("t" if v else "f") if isinstance(v, bool)
                else str(v) for v in row) + ").")
    if node.returning is None:
        return _EMPTY
    return out.select(range(len(node.columns)))
