"""Binding WITH and WITH RECURSIVE.

Each CTE is bound once, in order, so a later CTE (and the main query) can read
an earlier one; a CTE name shadows a table of the same name. A reference is a
``LogicalCTERef``: the CTE's rows are computed once per statement and shared
by every reference (``exec/operators/cte.py``).

A recursive CTE must be ``anchor UNION [ALL] recursive-term`` where only the
recursive term names the CTE. The anchor is bound first and fixes the column
types (numbers widen to FLOAT if the recursive term needs it, other mismatches
are ``42804`` as in PostgreSQL); inside the recursive term the name means the
*working table* — the rows the previous iteration produced. The executor
iterates to a fixpoint; with UNION rows already seen are discarded, so a walk
over a cyclic graph terminates.

Not supported (clear ``0A000``): a CTE that reads columns of an enclosing query.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ... import errors
from ...plan.logical import LogicalCTERef, LogicalNode, LogicalProject, LogicalRecursiveCTE
from ...plan.expr import ColRef
from ...plan.walk import reads_outer
from ..parse import position_of


@dataclass(eq=False)
class BoundCTE:
    name: str
    columns: list
    plan: LogicalNode | None      # None for the working table of a recursive CTE
    working: bool = False

    def describe(self) -> str:
        return self.name


def bind_with(stmt, node, with_, parent, body_binder=None) -> LogicalNode:
    """The CTEs of ``with_`` in scope while the rest of ``node`` is bound: by
    ``bind_query``, or by ``body_binder(node)`` for INSERT/UPDATE/DELETE."""
    from .bind_select import bind_query
    recursive = bool(with_.args.get("recursive"))
    frame: dict = {}
    stmt.ctes.append(frame)
    try:
        for cte in with_.expressions:
            name = cte.alias_or_name
            if name in frame:
                raise errors.sql_error("42712", f'WITH query name "{name}" specified more than '
                                                "once", position=position_of(cte))
            aliases = [c.name for c in (cte.args["alias"].columns or [])] \
                if cte.args.get("alias") is not None else []
            if recursive and _references(cte.this, name):
                plan = _bind_recursive(stmt, cte.this, name, aliases, parent, frame)
            else:
                plan = _rename(bind_query(stmt, cte.this, parent), aliases, name)
            if _reads_outer(plan):
                raise errors.not_supported("a WITH query that reads columns of an enclosing "
                                           "query")
            frame[name] = BoundCTE(name, plan.columns, plan)   # optimized with the statement
        body = node.copy()
        body.set("with_" if "with_" in body.args else "with", None)
        if body_binder is not None:
            return body_binder(body)
        return bind_query(stmt, body, parent)
    finally:
        stmt.ctes.pop()


def cte_plan(stmt, cte: BoundCTE) -> LogicalNode:
    return LogicalCTERef(list(cte.columns), cte.name, cte)


def _bind_recursive(stmt, query, name, aliases, parent, frame) -> LogicalNode:
    from .bind_select import bind_query
    from .bind_setop import conform, order_and_limit, unify_types
    if not isinstance(query, exp.Union) or _references(query.this, name):
        raise errors.sql_error(
            "42P19", f'recursive query "{name}" does not have the form non-recursive-term '
                     "UNION [ALL] recursive-term", position=position_of(query))
    if query.args.get("order") or query.args.get("limit"):
        raise errors.not_supported("ORDER BY/LIMIT in a recursive query")
    anchor = _rename(bind_query(stmt, query.this, parent), aliases, name)
    work = BoundCTE(name, list(anchor.columns), None, working=True)
    frame[name] = work
    try:
        step = bind_query(stmt, query.expression, parent)
    finally:
        del frame[name]
    if len(step.columns) != len(anchor.columns):
        raise errors.sql_error("42601", "each UNION query must have the same number of columns")
    out = []
    for i, ((n, at), st) in enumerate(zip(anchor.columns, step.types)):
        t = unify_types(at, st, "UNION")
        if t != at:
            raise errors.datatype_mismatch(
                f'recursive query "{name}" column {i + 1} has type {at.lower()} in '
                f"non-recursive term but type {t.lower()} overall",
                hint="Cast the output of the non-recursive term to the correct type.")
        out.append(t)
    all_ = query.args.get("distinct") is False
    return LogicalRecursiveCTE(list(anchor.columns), name, anchor, conform(step, out), all_, work)


def _rename(plan: LogicalNode, aliases: list[str], name: str) -> LogicalNode:
    if not aliases:
        return plan
    if len(aliases) > len(plan.columns):
        raise errors.sql_error("42P10", f'WITH query "{name}" has {len(plan.columns)} columns '
                                        f"available but {len(aliases)} columns specified")
    names = aliases + plan.names[len(aliases):]
    cols = list(zip(names, plan.types))
    return LogicalProject(cols, plan, [ColRef(i, t, n) for i, (n, t) in enumerate(cols)])


def _references(query, name: str) -> bool:
    return any(t.name == name and not t.db for t in query.find_all(exp.Table))


def _reads_outer(plan: LogicalNode) -> bool:
    return reads_outer(plan)
