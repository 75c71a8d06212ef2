"""LATERAL in FROM, and set-returning functions whose arguments read earlier items.

``FROM a, LATERAL (SELECT ... WHERE b.x = a.x) s``, ``a CROSS JOIN LATERAL
generate_series(1, a.n)`` and ``a LEFT JOIN LATERAL (...) s ON true`` bind the
right-hand item with the left-hand scope as its *parent*, the way a correlated
subquery sees its enclosing query: a left column read on the right becomes an
``OuterRef`` and is renumbered into a frame slot (``bind_subquery._renumber``).
A function in FROM is implicitly lateral, as in PostgreSQL.

If the right side reads nothing from outside itself it is an ordinary join. Else
the plan is a ``LogicalLateralJoin`` holding the right plan as a ``SubqueryExpr``
of kind ``lateral``: the executor runs it once per distinct combination of the
left values it reads (``exec/operators/lateral.py``). Only INNER/CROSS and LEFT
joins may be lateral (``42P10`` otherwise, as in PostgreSQL).
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import ColRef, SubqueryExpr, Const, Param
from ...plan.logical import (LogicalArrowScan, LogicalJoin, LogicalLateralJoin, LogicalNode,
                             LogicalTableFunction)
from ...plan.walk import reads_outer as walk_reads_outer
from ..parse import position_of
from .scope import Scope
from .bind_from import _aliased, bind_from_item
from .bind_expr import ExprBinder, _retype
from .bind_subquery import _renumber
from ...exec.functions.series import generate_series
from .bind_jsonb import json_table_function, json_unnest
from .bind_files import bind_read_function, read_function_format
from .json_records import is_record_function, record_query
from .coerce import adapt
from .bind_array import settle_series_args
from .bind_select import bind_query


def is_lateral_item(item: exp.Expression) -> bool:
    return isinstance(item, (exp.Lateral, exp.Unnest)) or \
        (isinstance(item, exp.Table) and isinstance(item.this, exp.Func))


def bind_lateral_item(stmt, item: exp.Expression, parent: Scope | None
                      ) -> tuple[LogicalNode, Scope]:
    """The right-hand item bound with ``parent`` (the left side's scope) visible."""
    if isinstance(item, exp.Lateral):
        body = item.this
        if isinstance(body, exp.Subquery):
            plan = bind_query(stmt, body.this, parent)
            return _aliased(plan, item.alias or None, item, parent)
        if isinstance(body, exp.Unnest):
            return stmt.bind_from_unnest_aliased(body, parent, item.args.get("alias"))
        alias_node = item.args.get("alias")
        if is_record_function(body):          # LATERAL jsonb_to_recordset(doc) AS x(...)
            plan = bind_query(stmt, record_query(body, alias_node), parent)
            return _aliased(plan, item.alias or body.name.lower(), item, parent)
        plain_alias = item.alias if alias_node is not None and not alias_node.columns else None
        plan = stmt.bind_table_function(body, parent, plain_alias,
                                        ordinality=bool(item.args.get("ordinality")))
        return _aliased(plan, item.alias or plan.columns[0][0], item, parent)
    return bind_from_item(stmt, item, parent)


def bind_lateral_join(stmt, left: LogicalNode, left_scope: Scope, join: exp.Join,
                      parent: Scope | None):
    """(plan, scope) for a join whose right item may read the left one."""
    right, right_scope = bind_lateral_item(stmt, join.this, left_scope)
    side = (join.side or "").lower()
    scope = Scope(parent=parent)
    scope.extend(left_scope)
    scope.extend(right_scope)
    on = join.args.get("on")
    if join.args.get("using"):
        raise errors.not_supported("JOIN LATERAL ... USING", hint="Use ON.")
    cond = ExprBinder(stmt, scope, clause="JOIN conditions").bind_boolean(on, "JOIN/ON") \
        if on is not None else None
    columns = left.columns + right.columns
    if not reads_outer(right):
        kind = side or ("inner" if cond is not None else "cross")
        return LogicalJoin(columns, left, right, kind, cond), scope
    if side not in ("", "left"):
        raise errors.sql_error("42P10", "invalid reference to FROM-clause entry for table",
                               hint="The combining JOIN type must be INNER or LEFT for a "
                                    "LATERAL reference.", position=position_of(join))
    slots: dict[int, int] = {}
    right = _renumber(right, 0, slots, set())
    cols = left_scope.columns
    correlated = tuple(ColRef(i, cols[i].type, cols[i].name)
                       for i, _ in sorted(slots.items(), key=lambda kv: kv[1]))
    sub = SubqueryExpr("lateral", right, types.NULL, correlated=correlated)
    return LogicalLateralJoin(columns, left, sub, side or "inner", cond), scope


def reads_outer(plan: LogicalNode) -> bool:
    """Whether anything in the plan (nested subqueries and WITH queries too) reads an
    enclosing scope."""
    return walk_reads_outer(plan)


# ---- set-returning functions in FROM ---------------------------------------------------

_SPLIT_TABLES = {"regexp_split_to_table": "regexp_split_to_array",
                 "string_to_table": "string_to_array"}


def bind_table_function(stmt, func, parent, column_name=None, ordinality: bool = False):
    """``generate_series(start, stop [, step])`` (integers, or dates/timestamps by an
    interval). Constant arguments build the series once, here; otherwise (a column
    of a LATERAL left side, a parameter) it is a ``LogicalTableFunction``."""
    if read_function_format(func) is not None:
        return bind_read_function(stmt, func, column_name)
    if isinstance(func, exp.ExplodingGenerateSeries):
        nodes = [func.args.get(k) for k in ("start", "end", "step")
                 if func.args.get(k) is not None]
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "generate_series":
        nodes = list(func.expressions)
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "pg_partition_ancestors" \
            and len(func.expressions) == 1:
        # psql's \d: no table is partitioned, so a relation's only ancestor is itself
        oid = exp.Cast(this=func.expressions[0], to=exp.ObjectIdentifier(this="REGCLASS"))
        nodes, column_name = [oid, oid.copy()], column_name or "relid"
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "range":
        nodes, column_name = _range_as_series(func), column_name or "range"
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "regexp_matches":
        return _bind_regexp_matches(stmt, func, parent, column_name, ordinality)
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "ts_debug":
        return _bind_ts_debug(stmt, func, parent, ordinality)
    elif isinstance(func, exp.Anonymous) and func.name.lower() == "pg_get_keywords":
        if func.expressions:
            raise errors.undefined_function("function pg_get_keywords(" + ", ".join(
                "unknown" for _ in func.expressions) + ") does not exist",
                position=position_of(func))
        columns = list(_KEYWORD_COLUMNS) + ([("ordinality", types.INTEGER)] if ordinality
                                            else [])
        return LogicalTableFunction(columns, "pg_get_keywords", [], ordinality)
    elif isinstance(func, exp.Anonymous) and func.name.lower() in _SPLIT_TABLES:
        # regexp_split_to_table(s, p) / string_to_table(s, d): unnest of the array form
        name = func.name.lower()
        array = exp.Anonymous(this=_SPLIT_TABLES[name], expressions=list(func.expressions))
        alias = exp.TableAlias(this=exp.to_identifier(column_name or name))
        plan, _ = stmt.bind_from_unnest(exp.Unnest(expressions=[array], alias=alias,
                                                   offset=ordinality or None), parent)
        return plan
    elif isinstance(func, exp.Anonymous) and json_table_function(func.name.lower()):
        # jsonb_array_elements(doc), jsonb_each(doc), ...: unnest of per-document arrays
        unnest = json_unnest(func.name.lower(), func, column_name)
        unnest.set("offset", ordinality or None)
        plan, _ = stmt.bind_from_unnest(unnest, parent)
        return plan
    else:
        raise errors.not_supported(f"table function {func.sql(dialect='postgres')!r} in FROM")
    binder = ExprBinder(stmt, Scope(parent=parent), clause="FROM")
    args = [binder.bind(a) for a in nodes]
    element, args = settle_series_args(args)
    if element is None:
        raise errors.undefined_function(
            "function generate_series(" + ", ".join(a.type.lower() for a in args) +
            ") does not exist", position=position_of(func))
    args = [_settle(a, element if i < 2 else a.type) for i, a in enumerate(args)]
    name = column_name or "generate_series"   # `FROM generate_series(..) g`: column g
    columns = [(name, element)] + ([("ordinality", types.INTEGER)] if ordinality else [])
    if all(isinstance(a, Const) for a in args) and not ordinality:
        import pyarrow as pa
        data = pa.table({name: generate_series([a.value for a in args], element)})
        return LogicalArrowScan(columns, name, data)
    return LogicalTableFunction(columns, "generate_series", args, ordinality)


def _range_as_series(func: exp.Anonymous) -> list:
    """DuckDB's ``range([start,] stop [, step])``: integers from start (0) up to, not
    including, stop: ``generate_series(start, stop - sign(step), step)``."""
    args = list(func.expressions)
    if not 1 <= len(args) <= 3:
        raise errors.undefined_function(f"function range with {len(args)} arguments does not "
                                        "exist", position=position_of(func))
    start, stop = (exp.Literal.number(0), args[0]) if len(args) == 1 else (args[0], args[1])
    step = args[2] if len(args) == 3 else exp.Literal.number(1)
    last = exp.Sub(this=exp.paren(stop.copy()),
                   expression=exp.Anonymous(this="sign", expressions=[step.copy()]))
    return [start, last, step]


def _bind_regexp_matches(stmt, func, parent, column_name, ordinality: bool):
    """``regexp_matches(s, pattern [, flags])`` in FROM: one TEXT[] column, a row per
    match (exec/functions/regex.regexp_matches_rows), none when an argument is NULL."""
    binder = ExprBinder(stmt, Scope(parent=parent), clause="FROM")
    args = [binder.bind(a) for a in func.expressions]
    if len(args) not in (2, 3) or any(a.type not in (types.TEXT, types.NULL) and
                                      not _is_param(a) for a in args):
        raise errors.undefined_function(
            "function regexp_matches(" + ", ".join(a.type.lower() for a in args) +
            ") does not exist", position=position_of(func))
    args = [adapt(a, types.TEXT) for a in args]
    name = column_name or "regexp_matches"
    columns = [(name, types.array_of(types.TEXT))] + \
        ([("ordinality", types.INTEGER)] if ordinality else [])
    return LogicalTableFunction(columns, "regexp_matches", args, ordinality)


_TS_DEBUG_COLUMNS = [("alias", types.TEXT), ("description", types.TEXT), ("token", types.TEXT),
                     ("dictionaries", types.array_of(types.TEXT)),
                     ("dictionary", types.TEXT), ("lexemes", types.array_of(types.TEXT))]


# pg_get_keywords()'s columns (catalog/pg_keywords.py); catcode is "char" in PostgreSQL
_KEYWORD_COLUMNS = (("word", types.TEXT), ("catcode", types.TEXT), ("barelabel", types.BOOLEAN),
                    ("catdesc", types.TEXT), ("baredesc", types.TEXT))


def _bind_ts_debug(stmt, func, parent, ordinality: bool):
    """``ts_debug([config,] document)`` in FROM: a row per token of the default parser
    (textsearch/configs.debug_rows); without a configuration, the session's default."""
    binder = ExprBinder(stmt, Scope(parent=parent), clause="FROM")
    args = [binder.bind(a) for a in func.expressions]
    if len(args) not in (1, 2) or any(a.type not in (types.TEXT, types.NULL) and
                                      not _is_param(a) for a in args):
        raise errors.undefined_function(
            "function ts_debug(" + ", ".join(a.type.lower() for a in args) +
            ") does not exist", position=position_of(func))
    args = [adapt(a, types.TEXT) for a in args]
    columns = list(_TS_DEBUG_COLUMNS) + ([("ordinality", types.INTEGER)] if ordinality else [])
    return LogicalTableFunction(columns, "ts_debug", args, ordinality)


def _is_param(e) -> bool:
    return isinstance(e, Param)


def _settle(e, t):
    return _retype(e, t) if e.type == types.NULL else e
