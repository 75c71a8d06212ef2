"""Fast path for ``UPDATE ... WHERE <indexed> = $1``: Python rows in, Python rows out.

The rows to change come from the index lookup ``use_index`` attached to the
UPDATE's scan; new row versions are computed with row closures, checked
(NOT NULL, CHECK, foreign keys: exec/constraints.py) and written as one
delete + one insert on the transaction, exactly what the generic operator
does, minus every Arrow call. Falls back (returns None) when the lookup finds
more than ``MAX_ROWS`` rows.

The commonest shape, ``WHERE pk = $1`` (one probe of a unique index, no other
filter), has a runner of its own (``_point_update``): one row, so no lists, and
per table schema it knows once whether the row needs more than a NOT NULL check
and whether the SET list touches an indexed column (if not, the new table version
shares every index: TableVersion.update_one). In autocommit it has a second entry,
``run.direct(root, params)``: the same change computed from the committed root with no
transaction, context or log op, which the session publishes as one new root
(Database.commit_change) when nothing was committed meanwhile.
"""
from __future__ import annotations

from ..plan import logical as L
from ..plan.expr import Param
from ..result import Result
from . import constraints
from .expr.row import try_compile_row
from .fast_path import COMPILERS
from .fast_select import MAX_ROWS
from .operators.index_scan import compile_keys, fetch_rows, rowids_for
from .typmods import check_ranges, int_ranges, value_modifiers


def point_key(scan):
    """(index name, fn(params) -> key) of a scan that is one probe of a one-column
    unique index (``WHERE pk = $1``) with no other filter, else None."""
    if not isinstance(scan, L.LogicalScan) or scan.index_lookup is None or not scan.with_rowid \
            or scan.filter is not None:
        return None
    lookup = scan.index_lookup
    if lookup.kind != "unique" or lookup.mode != "eq" or len(lookup.keys) != 1:
        return None
    key = lookup.keys[0]
    if type(key) is Param:     # the usual case: the key is a parameter as given
        slot = key.slot
        return lookup.index, lambda params: params[slot]
    fn = try_compile_row(key)
    if fn is None:
        return None
    return lookup.index, lambda params: fn((), params)


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


def point_row(version, index: str, key) -> tuple:
    """(rowid, row) of ``key`` in the table version's unique ``index`` (the runners of
    ``point_key`` statements); (None, None) when absent or the key is NULL."""
    rowid = version.indexes[index].get(key) if key is not None else None
    return rowid, (version.row(rowid) if rowid is not None else None)


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
    point = point_key(plan.source)
    if point is not None:
        return _point_update(table, columns, point, items, assigned, returning)

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


class SchemaFacts:
    """What a point write needs to know of its table's schema, worked out once per
    schema object (schemas are immutable; a new one means a new definition):
    ``plain``: nothing to check but NOT NULL and integer widths (no modifiers that change
    values, CHECKs or foreign keys of its own); ``required``: the NOT NULL positions;
    ``ranges``: the SMALLINT and INTEGER columns' bounds (exec/typmods.int_ranges), of
    the ``assigned`` columns alone for an UPDATE (the others keep stored values);
    ``keyed``: some index has a column in ``assigned``."""

    __slots__ = ("keyed", "plain", "ranges", "required", "schema")

    def __init__(self, schema, assigned: frozenset, update: bool = False) -> None:
        self.schema = schema
        self.plain = not (schema.checks or schema.foreign_keys or value_modifiers(schema))
        self.required = constraints.not_null_columns(schema)
        self.ranges = tuple(r for r in int_ranges(schema) if not update or r[0] in assigned)
        keys = [u.columns for u in schema.uniques] + [d.columns for d in schema.indexes]
        self.keyed = any(not assigned.isdisjoint(cols) for cols in keys)


def _point_update(table: str, columns, point, items: list, assigned: frozenset, returning):
    """The runner of ``UPDATE table SET ... WHERE pk = $1``: the row straight from the
    unique index, the new row from the SET closures, the checks (all of them only when
    the schema has more than NOT NULL), foreign-key actions if the table is referenced,
    then one patch on the table (Transaction.update_row)."""
    index, key_of = point
    facts: list = [None]     # SchemaFacts of the schema last seen

    def run(ctx):
        txn, params = ctx.txn, ctx.params
        version = txn.working.tables[table]
        rowid, old = point_row(version, index, key_of(params))
        if old is None:
            return dml_result("UPDATE", columns, [], returning, params)
        known = facts[0]
        schema = version.schema
        if known is None or known.schema is not schema:
            known = facts[0] = SchemaFacts(schema, assigned, update=True)
        r = old + (rowid,)      # the scan's row: the table's columns, then the rowid
        values = list(old)
        for i, fn in items:
            values[i] = fn(r, params)
        new = tuple(values)
        if known.plain:
            for i in known.required:
                if new[i] is None:
                    raise constraints.not_null_violation(schema, i)
            if known.ranges:
                check_ranges(known.ranges, new)
        else:
            new = constraints.check_rows(txn, schema, [new], ctx)[0]
        if constraints.is_referenced(txn, table):
            constraints.before_update(txn, schema, [old], [new], ctx)
            if txn.working.tables[table] is not version:   # a cascade changed this table
                txn.update_rows(table, [rowid], [new], None, assigned)
                return dml_result("UPDATE", columns, [new], returning, params)
        txn.update_row(table, version, rowid, old, new, known.keyed)
        if returning is None:
            return Result([], rowcount=1, kind="UPDATE")
        return dml_result("UPDATE", columns, [new], returning, params)

    def direct(root, params):
        """What ``run`` does, computed from the committed ``root`` without a transaction,
        for an autocommit statement that Session publishes itself (Database.commit_change):
        (result, table, new table version, ("update", rowid, new row)), the version
        None when no row matched; None (declined, nothing done) when the write needs a
        transaction: the schema has more to check than NOT NULL, or a foreign key
        references the table."""
        version = root.tables[table]
        key = key_of(params)            # point_row, inlined
        rowid = version.indexes[index].get(key) if key is not None else None
        old = version.row(rowid) if rowid is not None else None
        if old is None:
            return dml_result("UPDATE", columns, [], returning, params), table, None, None
        known = facts[0]
        schema = version.schema
        if known is None or known.schema is not schema:
            known = facts[0] = SchemaFacts(schema, assigned, update=True)
        if not known.plain or constraints.referenced_in(root.tables, table):
            return None
        r = old + (rowid,)
        values = list(old)
        for i, fn in items:
            values[i] = fn(r, params)
        new = tuple(values)
        for i in known.required:
            if new[i] is None:
                raise constraints.not_null_violation(schema, i)
        if known.ranges:
            check_ranges(known.ranges, new)
        changed = version.update_one(rowid, old, new, known.keyed)
        change = ("update", rowid, new)
        if returning is None:
            return Result([], rowcount=1, kind="UPDATE"), table, changed, change
        return dml_result("UPDATE", columns, [new], returning, params), table, changed, change

    run.direct = direct
    return run


COMPILERS.append(compile_update)
