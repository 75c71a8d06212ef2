"""Binding INSERT: target columns, strict typing of values, defaults, RETURNING.

Each value must already have the target column's type, up to the allowed
implicit rules (INTEGER -> FLOAT, quoted literal -> DATE/TIMESTAMP/UUID/JSON);
anything else is ``42804`` naming the column, the expected and the given type,
as the spec's "Column 'age' expects INTEGER, got TEXT". Omitted columns and
``DEFAULT`` take the column default (bound from its SQL) or NULL; without a column
list, fewer values than columns fill the leading columns (PostgreSQL's rule).
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Cast, ColRef, Const, Expr, Param
from ...plan.logical import LogicalInsert, LogicalNode, LogicalProject, LogicalValues
from ..parse import parse_one, position_of
from .bind_expr import ExprBinder
from .coerce import adapt
from .scope import Scope
from .bind_select import null_outputs, output_name
from .bind_select import bind_query


def target_columns(schema, target) -> list[int]:
    """Positions of the columns an INSERT or COPY FROM names (``t (b, a)``), or all of
    them: 42703 for an unknown column, 42701 for one named twice (as PostgreSQL)."""
    if not (isinstance(target, exp.Schema) and target.expressions):
        return list(range(len(schema.columns)))
    targets: list[int] = []
    for ident in target.expressions:
        pos = schema.position(ident.name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{ident.name}" of relation '
                                   f'"{schema.name}" does not exist', position=position_of(ident))
        if pos in targets:
            raise errors.sql_error("42701", f'column "{ident.name}" specified more than once',
                                   position=position_of(ident))
        targets.append(pos)
    return targets


def bind_insert(stmt, node: exp.Insert) -> LogicalInsert:
    target = node.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    targets = target_columns(schema, target)
    listed = isinstance(target, exp.Schema) and bool(target.expressions)
    source_node = node.expression
    overriding = node.meta.get("overriding")      # sql/parse.py: SYSTEM | USER VALUE
    if node.args.get("by_name") and not isinstance(source_node, (exp.Select, exp.SetOperation,
                                                                 exp.Subquery)):
        raise errors.syntax_error("INSERT BY NAME needs a query (INSERT INTO t BY NAME "
                                  "SELECT ...)", position=position_of(node))
    if source_node is None:   # INSERT ... DEFAULT VALUES
        targets = []
        source = LogicalValues([], [[]])
    elif isinstance(source_node, exp.Values):
        rows = source_node.expressions
        widths = {len(r.expressions) for r in rows}
        if 0 in widths:
            raise errors.syntax_error('syntax error at or near ")"')
        if len(widths) > 1:
            raise errors.syntax_error("VALUES lists must all be the same length",
                                      position=position_of(rows[0]))
        if not listed and widths and min(widths) < len(targets):
            targets = targets[:min(widths)]   # PostgreSQL: the leading columns, in order
        source = _bind_values(stmt, source_node, schema, targets, overriding)
    else:
        query = bind_query(stmt, source_node, None)
        if node.args.get("by_name"):        # DuckDB: INSERT INTO t BY NAME SELECT ...
            targets, listed = _by_name(schema, query, listed, source_node), True
        if not listed and len(query.columns) < len(targets):
            targets = targets[:len(query.columns)]
        for col in targets:
            if overriding == "user" and schema.columns[col].identity is not None:
                raise errors.not_supported("OVERRIDING USER VALUE with INSERT ... SELECT",
                                           hint="Leave the identity column out of the "
                                                "column list instead.")
            if overriding != "system" or schema.columns[col].generated is not None:
                refuse_identity_value(schema, col, source_node)
        source = _settle_params(stmt, query, schema, targets)
        source = _conform_query(source, schema, targets, source_node)
    defaults = {i: default_expr(stmt, schema, i) for i in range(len(schema.columns))
                if i not in targets}
    alias = table_node.alias_or_name      # INSERT INTO t AS x: the row is x, not t
    returning = bind_returning(stmt, node, schema, alias)
    conflict = node.args.get("conflict")
    on_conflict = stmt.bind_on_conflict(conflict, version, alias) \
        if conflict is not None else None
    cols = returning[1] if returning else []
    return LogicalInsert(cols, schema.name, source, targets, defaults,
                         returning[0] if returning else None, on_conflict)


def _by_name(schema, query, listed: bool, source_node) -> list[int]:
    """The target column of each query column, matched by name (DuckDB's BY NAME)."""
    if listed:
        raise errors.syntax_error("INSERT BY NAME takes no column list",
                                  position=position_of(source_node))
    targets: list[int] = []
    for name, _ in query.columns:
        pos = schema.position(name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{name}" of relation "{schema.name}" '
                                            "does not exist",
                                   hint="INSERT BY NAME matches the query's column names "
                                        "with the table's.")
        if pos in targets:
            raise errors.sql_error("42701", f'column "{name}" specified more than once')
        targets.append(pos)
    return targets


def _bind_values(stmt, node: exp.Values, schema, targets,
                 overriding: str | None = None) -> LogicalValues:
    """The VALUES rows; ``overriding``: OVERRIDING SYSTEM VALUE ("system": a GENERATED
    ALWAYS identity column takes the value given) or USER VALUE ("user": every identity
    column takes its sequence's next value, whatever was given)."""
    binder = ExprBinder(stmt, Scope(), clause="VALUES")
    rows = []
    for tup in node.expressions:
        values = tup.expressions
        if len(values) > len(targets):
            raise errors.syntax_error("INSERT has more expressions than target columns",
                                      position=position_of(values[len(targets)]))
        if len(values) < len(targets):
            raise errors.syntax_error("INSERT has more target columns than expressions",
                                      position=position_of(tup))
        row = []
        for v, col in zip(values, targets):
            if isinstance(v, exp.Var) and v.name.upper() == "DEFAULT" or (
                    overriding == "user" and schema.columns[col].identity is not None):
                row.append(default_expr(stmt, schema, col))
            else:
                if overriding != "system" or schema.columns[col].generated is not None:
                    refuse_identity_value(schema, col, v)
                row.append(assign_to_column(stmt, binder.bind(v), schema, col, v))
        rows.append(row)
    cols = [(schema.columns[c].name, schema.columns[c].type) for c in targets]
    return LogicalValues(cols, rows)


def is_default(node: exp.Expression) -> bool:
    """The keyword DEFAULT as a value (sqlglot parses it as a Var, or in SET as a column)."""
    if isinstance(node, exp.Var):
        return node.name.upper() == "DEFAULT"
    return isinstance(node, exp.Column) and not node.table \
        and isinstance(node.this, exp.Identifier) and not node.this.quoted \
        and node.name.upper() == "DEFAULT"


def refuse_identity_value(schema, col: int, node=None, update: bool = False) -> None:
    """A value written into a GENERATED ALWAYS identity column: 428C9, as PostgreSQL
    (only DEFAULT may go there)."""
    column = schema.columns[col]
    if column.generated is not None:         # GENERATED ALWAYS AS (expr) STORED
        detail = f'Column "{column.name}" is a generated column.'
        if update:
            raise errors.sql_error("428C9", f'column "{column.name}" can only be updated to '
                                            "DEFAULT", detail=detail,
                                   position=position_of(node) if node else None)
        raise errors.sql_error("428C9", f'cannot insert a non-DEFAULT value into column '
                                        f'"{column.name}"', detail=detail,
                               position=position_of(node) if node else None)
    if column.identity is None or column.identity[0] != "always":
        return
    detail = f'Column "{column.name}" is an identity column defined as GENERATED ALWAYS.'
    if update:
        raise errors.sql_error("428C9", f'column "{column.name}" can only be updated to DEFAULT',
                               detail=detail, position=position_of(node) if node else None)
    raise errors.sql_error("428C9", f'cannot insert a non-DEFAULT value into column '
                                    f'"{column.name}"', detail=detail,
                           hint="Use OVERRIDING SYSTEM VALUE to override.",
                           position=position_of(node) if node else None)


def assign_to_column(stmt, e: Expr, schema, col: int, node=None) -> Expr:
    """``e`` typed for storing into column ``col``, or error 42804."""
    column = schema.columns[col]
    target = column.type
    e = adapt(e, target)
    if isinstance(e, Param):
        if e.type in (types.UNKNOWN, types.NULL):
            return Param(e.slot, stmt.param_type(e.slot, target))
        if (e.type, target) in _ASSIGNMENT_CASTS:      # $1::timestamptz into a timestamp
            return Cast(e, target)
        return e if e.type == target else _checked_cast(e, target, column, node)
    if e.type == target or e.type == types.NULL:
        return e if e.type == target else Const(None, target)
    if (e.type, target) in _ASSIGNMENT_CASTS:
        return Cast(e, target)
    return _checked_cast(e, target, column, node)


# The implicit conversions a stored value may take (PostgreSQL's assignment casts we
# keep): INTEGER widens to FLOAT, and timestamp <-> timestamptz through the session's
# TimeZone (``DEFAULT now()`` into a timestamp column), json <-> jsonb (normalized into
# jsonb, jsonb's text into json).
_ASSIGNMENT_CASTS = frozenset({
    (types.INTEGER, types.FLOAT), ("INTEGER[]", "FLOAT[]"),
    (types.TIMESTAMPTZ, types.TIMESTAMP), (types.TIMESTAMP, types.TIMESTAMPTZ),
    (types.DATE, types.TIMESTAMPTZ), (types.JSON, types.JSONT), (types.JSONT, types.JSON),
    (types.INTEGER, types.MONEY), (types.FLOAT, types.MONEY),    # int8_cash, numeric_cash
    (types.MONEY, types.FLOAT),                                   # cash_numeric
    (types.BIT, types.VARBIT), (types.VARBIT, types.BIT),         # one representation
    (types.TIME, types.TIMETZ), (types.TIMETZ, types.TIME),       # time_timetz, timetz_time
    # numeric: integers and float8 into it (float8 by its 15 digits), it into float8
    # and money (numeric_cash, cash_numeric); never silently into an integer
    (types.INTEGER, types.NUMERIC), (types.FLOAT, types.NUMERIC), (types.NUMERIC, types.FLOAT),
    ("INTEGER[]", "NUMERIC[]"), ("NUMERIC[]", "FLOAT[]"), ("FLOAT[]", "NUMERIC[]"),
    (types.NUMERIC, types.MONEY), (types.MONEY, types.NUMERIC)})


def _checked_cast(e: Expr, target: str, column, node) -> Expr:
    # Strict like the spec: only INTEGER widens to FLOAT; FLOAT into INTEGER needs a CAST.
    shown = ""
    if isinstance(e, Const) and e.value is not None:
        shown = f" ({e})"
    raise errors.datatype_mismatch(
        f'column "{column.name}" is of type {types.sql_name(target)} but expression is of type '
        f'{types.sql_name(e.type)}{shown}',
        hint=f"Column '{column.name}' expects {types.sql_name(target)}, got "
             f"{types.sql_name(e.type)}. "
             f"Rewrite the value or CAST it explicitly.",
        position=position_of(node) if node is not None else None)


def default_expr(stmt, schema, col: int) -> Expr:
    column = schema.columns[col]
    sql = column.default_sql
    if sql is None and column.typmod is not None and column.typmod[0] == "domain":
        sql = column.typmod[5]           # a domain's DEFAULT, when the column has none
    if sql is None:
        return Const(None, column.type)
    node = parse_one(f"SELECT {sql}").expressions[0]
    uses = len(stmt.routine_uses)
    e = ExprBinder(stmt, Scope(), clause="DEFAULT").bind(node)
    if column.identity is not None:
        # an identity column draws from its sequence without the sequence's privileges
        # (PostgreSQL 15); a SERIAL's nextval() default needs USAGE, as any nextval()
        del stmt.routine_uses[uses:]
    return assign_to_column(stmt, e, schema, col)


def _settle_params(stmt, source: LogicalNode, schema, targets) -> LogicalNode:
    """``INSERT ... SELECT $1, ...``: an untyped parameter selected straight into a
    column takes that column's type, as in PostgreSQL."""
    if not isinstance(source, LogicalProject) or len(source.exprs) != len(targets):
        return source
    exprs, cols, changed = list(source.exprs), list(source.columns), False
    for i, (e, col) in enumerate(zip(exprs, targets)):
        if isinstance(e, Param) and e.type == types.UNKNOWN:
            t = stmt.param_type(e.slot, schema.columns[col].type)
            exprs[i], cols[i], changed = Param(e.slot, t), (cols[i][0], t), True
    return LogicalProject(cols, source.child, exprs) if changed else source


def _conform_query(source: LogicalNode, schema, targets, node) -> LogicalNode:
    if len(source.columns) > len(targets):
        raise errors.syntax_error("INSERT has more expressions than target columns")
    if len(source.columns) < len(targets):
        raise errors.syntax_error("INSERT has more target columns than expressions")
    exprs, changed = [], False
    nulls = null_outputs(source)
    for i, ((name, t), col) in enumerate(zip(source.columns, targets)):
        column = schema.columns[col]
        ref = ColRef(i, t, name)
        if t == column.type or t == types.NULL or i in nulls:
            exprs.append(ref if t == column.type else Cast(ref, column.type))
            changed |= t != column.type
        elif (t, column.type) in _ASSIGNMENT_CASTS:
            exprs.append(Cast(ref, column.type))
            changed = True
        else:
            raise errors.datatype_mismatch(
                f'column "{column.name}" is of type {types.sql_name(column.type)} but '
                f'expression is of type {types.sql_name(t)}',
                hint="You will need to rewrite or cast the expression.")
    if not changed:
        return source
    cols = [(schema.columns[c].name, schema.columns[c].type) for c in targets]
    return LogicalProject(cols, source, exprs)


def bind_returning(stmt, node, schema, alias: str):
    """(exprs over the table row, output columns) for RETURNING, or None."""
    scope = Scope()
    for c in schema.columns:
        scope.add(alias, c.name, c.type)
    return bind_returning_in(stmt, node, scope)


def bind_returning_in(stmt, node, scope: Scope):
    """RETURNING over ``scope``: (exprs, output columns) or None. ``*`` is every visible
    column: the target's, plus those of FROM/USING items (as in PostgreSQL)."""
    ret = node.args.get("returning")
    if ret is None:
        return None
    binder = ExprBinder(stmt, scope, clause="RETURNING")
    exprs, cols = [], []
    for e in ret.expressions:
        star_of = None
        if isinstance(e, exp.Star):
            star_of = ""
        elif isinstance(e, exp.Column) and isinstance(e.this, exp.Star):
            star_of = e.table
        if star_of is not None:
            for i in scope.star(star_of or None):
                c = scope.columns[i]
                exprs.append(ColRef(i, c.type, c.name))
                cols.append((c.name, c.type))
            continue
        bound = binder.bind(e.this if isinstance(e, exp.Alias) else e)
        exprs.append(bound)
        cols.append((output_name(e), bound.type if bound.type != types.NULL else types.TEXT))
    return exprs, cols
