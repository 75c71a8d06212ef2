"""Fast path for ``UPDATE ... WHERE <indexed> = $1``: Python rows in, Python rows out.

The rows to change come from the index lookup ``use_index`` attached to the
UPDATE's scan; new row versions are computed with row closures, checked
(NOT NULL, CHECK, foreign keys: exec/constraints.py) and written as one
delete + one insert on the transaction, exactly what the generic operator
does, minus every Arrow call. Falls back (returns None) when the lookup finds
more than ``MAX_ROWS`` rows.
"""
from __future__ import annotations

from ..plan import logical as L
from ..result import Result
from . import constraints
from .expr.row import try_compile_row
from .fast_path import COMPILERS
from .fast_select import MAX_ROWS
from .operators.index_scan import compile_keys, fetch_rows, rowids_for


def source_rows(scan):
    """fn(version, params) -> live rows (+ rowid) of an index scan, or None to fall back."""
    if not isinstance(scan, L.LogicalScan) or scan.index_lookup is None or not scan.with_rowid:
        return None
    lookup = scan.index_lookup
    try:
        compiled = compile_keys(lookup)
    except ValueError:
        return None
    pred = None
    if scan.filter is not None:
        pred = try_compile_row(scan.filter)
        if pred is None:
            return None
    if lookup.kind == "unique" and lookup.mode == "eq" and len(lookup.keys) == 1 \
            and pred is None:
        key_fn, name = compiled[0][0], lookup.index

        def point(version, params):   # WHERE pk = $1: one probe, one row
            key = key_fn((), params)
            rowid = version.indexes[name].get(key) if key is not None else None
            row = version.row(rowid) if rowid is not None else None
            return [] if row is None else [row + (rowid,)]
        return point

    def rows(version, params):
        ids = rowids_for(lookup, version, params, compiled)
        if len(ids) > MAX_ROWS:
            return None
        return fetch_rows(version, ids, pred, params, None, True)
    return rows


def compile_returning(plan):
    if plan.returning is None:
        return None
    fns = [try_compile_row(e) for e in plan.returning]
    return None if any(f is None for f in fns) else fns


def dml_result(kind: str, columns, rows: list, returning, params):
    """The Result of a point DML statement: a row count, plus RETURNING rows if asked."""
    if returning is None:
        return Result([], rowcount=len(rows), kind=kind)
    out = [tuple(f(r, params) for f in returning) for r in rows]
    return Result(columns, rows=out, rowcount=len(rows), kind=kind)


def point_dml(plan, node_type):
    """(rows_of, returning) for an UPDATE/DELETE plan of ``node_type`` whose rows come
    from an index lookup and whose RETURNING compiles to row closures; else None."""
    if not isinstance(plan, node_type):
        return None
    rows_of = source_rows(plan.source)
    if rows_of is None:
        return None
    returning = compile_returning(plan)
    if plan.returning is not None and returning is None:
        return None
    return rows_of, returning


def compile_update(prepared):
    plan = prepared.plan
    parts = point_dml(plan, L.LogicalUpdate)
    if parts is None:
        return None
    rows_of, returning = parts
    assign = {i: try_compile_row(e) for i, e in plan.assignments.items()}
    if any(f is None for f in assign.values()):
        return None
    table, columns = plan.table, plan.columns
    items = sorted(assign.items())
    assigned = frozenset(assign)

    def run(ctx):
        txn, params = ctx.txn, ctx.params
        version = txn.working.tables[table]
        found = rows_of(version, params)
        if found is None:
            return None
        schema = version.schema
        width = len(schema.columns)
        rowids, old, new = [], [], []
        for r in found:
            values = list(r[:width])
            for i, fn in items:
                values[i] = fn(r, params)
            rowids.append(r[width])
            old.append(r[:width])
            new.append(tuple(values))
        if new:
            new = constraints.check_rows(txn, schema, new, ctx)
            if constraints.is_referenced(txn, table):
                constraints.before_update(txn, schema, old, new, ctx)
            # the rows just read are still current unless a cascade changed this table
            txn.update_rows(table, rowids, new,
                            old if txn.working.tables[table] is version else None, assigned)
        return dml_result("UPDATE", columns, new, returning, params)
    return run


COMPILERS.append(compile_update)
