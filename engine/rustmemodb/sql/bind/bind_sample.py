"""Binding TABLESAMPLE (PostgreSQL) and USING SAMPLE (DuckDB) into a ``LogicalSample``.

``FROM t TABLESAMPLE BERNOULLI (p) [REPEATABLE (seed)]`` samples one table
before WHERE; ``SYSTEM (p)`` samples blocks of rows instead of rows. DuckDB's
``USING SAMPLE p% | n ROWS [(method[, seed])]`` samples the whole FROM result
(after joins, before WHERE), as DuckDB does; ``n ROWS`` is a reservoir sample of
exactly n rows. The size and seed are expressions evaluated once per execution
(constants or parameters); their checks at run time give PostgreSQL's ``2202H``.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Cast
from ...plan.logical import LogicalNode, LogicalSample
from ..parse import position_of
from .bind_expr import ExprBinder
from .coerce import adapt
from .scope import Scope

_METHODS = ("bernoulli", "system", "reservoir")


def bind_sample(stmt, sample: exp.TableSample, plan: LogicalNode,
                default_method: str = "bernoulli") -> LogicalSample:
    method_node = sample.args.get("method")
    method = method_node.name.lower() if method_node is not None else None
    if method is not None and method not in _METHODS:
        raise errors.sql_error("42704", f'tablesample method "{method}" does not exist',
                               position=position_of(sample))
    percent, size = sample.args.get("percent"), sample.args.get("size")
    binder = ExprBinder(stmt, Scope(), clause="TABLESAMPLE")
    # sqlglot leaves seed=False for a method given without one: ``(bernoulli)``
    seed = _number(binder, sample.args.get("seed") or None, types.FLOAT, "REPEATABLE")
    if size is not None:
        if method not in (None, "reservoir"):
            raise errors.not_supported(f"a {method.upper()} sample of a number of rows",
                                       hint="Give the size as a percentage, or use "
                                            "reservoir sampling.")
        rows = _number(binder, size, types.INTEGER, "the sample size")
        return LogicalSample(plan.columns, plan, "reservoir", rows=rows, seed=seed)
    if method == "reservoir":
        raise errors.not_supported("a reservoir sample of a percentage",
                                   hint="Give the reservoir size in ROWS.")
    pct = _number(binder, percent, types.FLOAT, "TABLESAMPLE")
    return LogicalSample(plan.columns, plan, method or default_method, percent=pct, seed=seed)


def _number(binder: ExprBinder, node, target: str, what: str):
    if node is None:
        return None
    e = adapt(binder.bind(node), target)
    if e.type == types.INTEGER and target == types.FLOAT:
        e = Cast(e, types.FLOAT)
    if e.type not in (target, types.NULL):
        raise errors.datatype_mismatch(f"argument of {what} must be type "
                                       f"{'bigint' if target == types.INTEGER else 'double precision'}"
                                       f", not type {e.type.lower()}", position=position_of(node))
    return e


def refuse_sample(item: exp.Expression, what: str) -> None:
    """PostgreSQL samples only stored tables (and here pandas/Arrow data)."""
    if item.args.get("sample") is not None:
        raise errors.sql_error("0A000", f"TABLESAMPLE clause can only be applied to tables "
                                        f"and materialized views, not to {what}",
                               position=position_of(item))
