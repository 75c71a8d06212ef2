"""Fast path for ``DELETE ... WHERE <indexed> = $1``: no Arrow calls for a few rows.

Like exec/fast_update.py: the index lookup gives the rows, foreign-key actions
run first (exec/constraints.py ``before_delete``), then one delete op on the
transaction. Falls back to the generic operator for big results.
"""
from __future__ import annotations

from ..plan import logical as L
from . import constraints
from .fast_path import COMPILERS
from .fast_update import dml_result, point_dml


def compile_delete(prepared):
    plan = prepared.plan
    parts = point_dml(plan, L.LogicalDelete)
    if parts is None:
        return None
    rows_of, returning = parts
    table, columns = plan.table, plan.columns

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


COMPILERS.append(compile_delete)
