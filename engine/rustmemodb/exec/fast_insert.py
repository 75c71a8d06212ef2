"""Fast path for single-statement ``INSERT ... VALUES`` with row-compilable values.

Values are computed by row closures, defaults filled, NOT NULL checked and the
rows appended to the table's tail: no Arrow call at all. The commonest shape,
one row of bare placeholders covering every column in order
(``INSERT INTO t VALUES ($1, $2, ...)``), skips the closures: the row is the
parameter list itself, already converted to the slots' (= the columns') types; in
autocommit, with nothing to check but NOT NULL, it is published without a transaction
(``run.direct``, as exec/fast_update.py's).
"""
from __future__ import annotations

from decimal import Decimal

from ..lazy_import import arrow as pa

from .. import numeric_arrays
from ..plan import logical as L
from ..plan.expr import Param
from ..result import Result
from ..storage.table import TAIL_FREEZE, rows_to_batch
from . import constraints
from .expr.row import try_compile_row
from .fast_path import BOUNDED, COMPILERS
from .fast_update import SchemaFacts
from .typmods import check_ranges
from ..statement_limits import tick


def compile_insert(prepared):
    plan = prepared.plan
    if not isinstance(plan, L.LogicalInsert) or plan.returning is not None \
            or plan.on_conflict is not None or not isinstance(plan.source, L.LogicalValues):
        return None
    rows = []
    for row in plan.source.rows:
        tick()   # interrupt / timeout while compiling a huge VALUES list
        rows.append([try_compile_row(e) for e in row])
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

    facts: list = [None]     # SchemaFacts of the schema last seen

    def run(ctx):
        params = ctx.params
        txn = ctx.txn
        schema = txn.schema(table)
        if whole_params and len(params) == len(schema.columns):
            known = facts[0]
            if known is None or known.schema is not schema:
                known = facts[0] = SchemaFacts(schema, frozenset())
            row = tuple(params)
            if known.plain:     # then check_rows is NOT NULL and integer widths alone
                for i in known.required:
                    if row[i] is None:
                        raise constraints.not_null_violation(schema, i)
                if known.ranges:
                    check_ranges(known.ranges, row)
            else:
                row = constraints.check_rows(txn, schema, [row], ctx, inserting=True)[0]
            if txn.explicit:   # applied with the INSERTs after it (txn/transaction.py)
                txn.insert_row_deferred(table, row)
            else:
                txn.insert_rows(table, [row])
            return Result([], rowcount=1, kind="INSERT")
        out = []
        for row in rows:
            tick()
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
        out = constraints.check_rows(txn, schema, out, ctx, inserting=True)
        if txn.explicit and len(out) == 1:
            txn.insert_row_deferred(table, out[0])
        else:
            txn.insert_rows(table, out)
        return Result([], rowcount=len(out), kind="INSERT")

    def direct(root, params):
        """``run`` of a one-row ``INSERT INTO t VALUES ($1, ..., $n)`` from the committed
        ``root`` without a transaction, as the point UPDATE's ``direct``
        (exec/fast_update.py): (result, table, new version, ("insert", rows, rowids)),
        or None to decline (another shape, or a schema with more to check than NOT
        NULL). 23502 and 23505 are raised here, nothing done."""
        if not whole_params:
            return None
        version = root.tables[table]
        schema = version.schema
        known = facts[0]
        if known is None or known.schema is not schema:
            known = facts[0] = SchemaFacts(schema, frozenset())
        if not known.plain or len(params) != len(schema.columns):
            return None
        row = tuple(params)
        for i in known.required:
            if row[i] is None:
                raise constraints.not_null_violation(schema, i)
        if known.ranges:
            check_ranges(known.ranges, row)
        rows = [row]
        changed, rowids = version.insert_rows(rows)
        return Result([], rowcount=1, kind="INSERT"), table, changed, ("insert", rows, rowids)

    run.direct = direct

    def many(ctx, param_rows: list) -> int:
        """``executemany``: every parameter row's rows appended at once (one version,
        one constraint check, one index update), or none of them."""
        txn = ctx.txn
        schema = txn.working.tables[table].schema
        width = len(schema.columns)
        if whole_params and all(len(p) == width for p in param_rows):
            out = [tuple(p) for p in param_rows]
        else:
            out = []
            for params in param_rows:
                for row in rows:
                    values = [fn((), params) for fn in row]
                    full = [None] * width
                    for v, i in zip(values, targets):
                        full[i] = v
                    for i, fn in defaults.items():
                        full[i] = fn((), params)
                    out.append(tuple(full))
        if len(out) < TAIL_FREEZE:
            out = constraints.check_rows(txn, schema, out, ctx, inserting=True)
            txn.insert_rows(table, out)
            return len(out)
        # Many rows: one Arrow table and the bulk path (vectorised unique checks and
        # index builds, chunks of CHUNK_ROWS) instead of a tail of Python tuples.
        data = pa.Table.from_batches([rows_to_batch(out, schema.arrow_schema)])
        data = constraints.check_table(txn, schema, data, ctx, inserting=True)
        txn.insert_arrow(table, data)
        return len(out)

    run.many = many
    if whole_params:
        run.many_columns = lambda ctx, columns, slot_types: _insert_columns(
            ctx, table, columns, slot_types)
    return run


# Python types a column of each SQL type takes as they are (session.convert_param would
# return them unchanged); anything else goes row by row through the conversions.
_AS_IS = {"INTEGER": {int}, "FLOAT": {float, int}, "TEXT": {str}, "BOOLEAN": {bool}}
_NONE = type(None)


def _insert_columns(ctx, table: str, columns: list, slot_types: list) -> int | None:
    """``executemany`` of ``INSERT INTO t VALUES ($1, .., $n)`` with the parameters
    given column-wise: each column becomes one Arrow array without a Python object
    per value, or None when some value needs converting (the row path then does it,
    with its errors)."""
    txn = ctx.txn
    schema = txn.working.tables[table].schema
    if len(columns) != len(schema.columns) or len(slot_types) != len(columns):
        return None
    arrays = []
    for values, sql_type, field in zip(columns, slot_types, schema.arrow_schema):
        if sql_type == "NUMERIC" and pa.types.is_binary(field.type):
            column = numeric_arrays.from_decimals(values)    # unconstrained numeric
            if column is None:
                return None
            arrays.append(column)
            continue
        allowed = _AS_IS.get(sql_type)
        if sql_type == "NUMERIC" and pa.types.is_decimal128(field.type):
            allowed = {Decimal, int}     # numeric(p, s): decimal128 (numeric_arrays.py)
        if allowed is None or not set(map(type, values)) <= allowed | {_NONE}:
            return None
        try:
            arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # e.g. an int past int64, a Decimal to round: say it / round it per row
            return None
    data = pa.Table.from_arrays(arrays, schema=pa.schema(
        [f.with_type(a.type) for f, a in zip(schema.arrow_schema, arrays)]))
    data = constraints.check_table(txn, schema, data, ctx, inserting=True)
    txn.insert_arrow(table, data)
    return data.num_rows


COMPILERS.append(compile_insert)

# A VALUES list this long or shorter may be a bounded INSERT (``bounded``).
BOUNDED_ROWS = 16


def bounded(prepared) -> bool:
    """An INSERT of up to ``BOUNDED_ROWS`` rows of VALUES whose expressions, RETURNING
    list and ON CONFLICT clauses compile to row closures (no subquery, no scan): a few
    index probes per row, whatever its defaults (``nextval`` of a serial key) or
    checks, though ``compile_insert`` declines it."""
    plan = prepared.plan
    if not isinstance(plan, L.LogicalInsert) or not isinstance(plan.source, L.LogicalValues) \
            or len(plan.source.rows) > BOUNDED_ROWS:
        return False
    exprs = [e for row in plan.source.rows for e in row]
    exprs += plan.returning or []
    conflict = plan.on_conflict
    if conflict is not None:
        exprs += list(conflict.assignments.values())
        if conflict.where is not None:
            exprs.append(conflict.where)
    return all(try_compile_row(e) is not None for e in exprs)


BOUNDED.append(bounded)
