"""Fast path for single-statement ``INSERT ... VALUES`` with row-compilable values.

Values are computed by row closures, defaults filled, NOT NULL checked and the
rows appended to the table's tail: no Arrow call at all. The commonest shape,
one row of bare placeholders covering every column in order
(``INSERT INTO t VALUES ($1, $2, ...)``), skips the closures: the row is the
parameter list itself, already converted to the slots' (= the columns') types.
"""
from __future__ import annotations

from ..plan import logical as L
from ..plan.expr import Param
from ..result import Result
from . import constraints
from .expr.row import try_compile_row
from .fast_path import COMPILERS


def compile_insert(prepared):
    plan = prepared.plan
    if not isinstance(plan, L.LogicalInsert) or plan.returning is not None \
            or plan.on_conflict is not None or not isinstance(plan.source, L.LogicalValues):
        return None
    rows = [[try_compile_row(e) for e in row] for row in plan.source.rows]
    if any(fn is None for row in rows for fn in row):
        return None
    defaults = {i: try_compile_row(e) for i, e in plan.defaults.items()}
    if any(fn is None for fn in defaults.values()):
        return None
    targets = plan.targets
    table = plan.table
    identity = not defaults and targets == sorted(targets) and targets == list(range(len(targets)))
    # One row whose values are $1..$n in order: the row is tuple(params).
    whole_params = identity and len(plan.source.rows) == 1 and all(
        type(e) is Param and e.slot == i for i, e in enumerate(plan.source.rows[0]))

    def run(ctx):
        params = ctx.params
        txn = ctx.txn
        schema = txn.working.tables[table].schema
        if whole_params and len(params) == len(schema.columns):
            out = [tuple(params)]
            constraints.check_rows(txn, schema, out, ctx)
            txn.insert_rows(table, out)
            return Result([], rowcount=1, kind="INSERT")
        out = []
        for row in rows:
            values = [fn((), params) for fn in row]
            if identity and len(values) == len(schema.columns):
                out.append(tuple(values))
                continue
            full = [None] * len(schema.columns)
            for v, i in zip(values, targets):
                full[i] = v
            for i, fn in defaults.items():
                full[i] = fn((), params)
            out.append(tuple(full))
        constraints.check_rows(txn, schema, out, ctx)
        txn.insert_rows(table, out)
        return Result([], rowcount=len(out), kind="INSERT")
    return run


COMPILERS.append(compile_insert)
