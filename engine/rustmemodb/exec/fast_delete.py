"""Fast path for ``DELETE ... WHERE <indexed> = $1``: no Arrow calls for a few rows.

Like exec/fast_update.py: the index lookup gives the rows, foreign-key actions
run first (exec/constraints.py ``before_delete``), then one delete op on the
transaction. Falls back to the generic operator for big results. ``WHERE pk = $1``
(one probe of a unique index, no other filter) has a runner of its own, as in
exec/fast_update.py: one row, no lists (Transaction.delete_row), and in autocommit
no transaction at all (``run.direct``, published by Database.commit_change).
"""
from __future__ import annotations

from ..plan import logical as L
from ..result import Result
from . import constraints
from .fast_path import COMPILERS
from .fast_update import dml_result, point_dml, point_key, point_row


def compile_delete(prepared):
    plan = prepared.plan
    parts = point_dml(plan, L.LogicalDelete)
    if parts is None:
        return None
    rows_of, returning = parts
    table, columns = plan.table, plan.columns
    point = point_key(plan.source)
    if point is not None:
        return _point_delete(table, columns, point, returning)

    def run(ctx):
        txn, params = ctx.txn, ctx.params
        version = txn.working.tables[table]
        found = rows_of(version, params)
        if found is None:
            return None
        width = len(version.schema.columns)
        if found:
            old = [r[:width] for r in found]
            if constraints.is_referenced(txn, table):
                constraints.before_delete(txn, version.schema, old, ctx)
            txn.delete_rows(table, [r[width] for r in found])
        return dml_result("DELETE", columns, found, returning, params)
    return run


def _point_delete(table: str, columns, point, returning):
    """The runner of ``DELETE FROM table WHERE pk = $1``: the row straight from the
    unique index, foreign-key actions if the table is referenced, one delete."""
    index, key_of = point

    def run(ctx):
        txn, params = ctx.txn, ctx.params
        version = txn.working.tables[table]
        rowid, row = point_row(version, index, key_of(params))
        if row is None:
            return dml_result("DELETE", columns, [], returning, params)
        if constraints.is_referenced(txn, table):
            constraints.before_delete(txn, version.schema, [row], ctx)
            if txn.working.tables[table] is not version:   # a cascade changed this table
                txn.delete_rows(table, [rowid])
                return dml_result("DELETE", columns, [row + (rowid,)], returning, params)
        txn.delete_row(table, version, rowid, row)
        if returning is None:
            return Result([], rowcount=1, kind="DELETE")
        return dml_result("DELETE", columns, [row + (rowid,)], returning, params)

    def direct(root, params):
        """``run`` from the committed ``root`` without a transaction, as the point
        UPDATE's ``direct`` (exec/fast_update.py): (result, table, new version,
        ("delete", rowid)), or None to decline when a foreign key references the table."""
        version = root.tables[table]
        rowid, row = point_row(version, index, key_of(params))
        if row is None:
            return dml_result("DELETE", columns, [], returning, params), table, None, None
        if constraints.referenced_in(root.tables, table):
            return None
        changed = version.delete_one(rowid, row)
        if returning is None:
            return Result([], rowcount=1, kind="DELETE"), table, changed, ("delete", rowid)
        return (dml_result("DELETE", columns, [row + (rowid,)], returning, params), table,
                changed, ("delete", rowid))

    run.direct = direct
    return run


COMPILERS.append(compile_delete)
