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

A CTE may read columns of an enclosing query (a WITH inside a correlated subquery, as
asyncpg's type introspection writes): it is then computed again for each outer row its
subquery runs for, never shared between them. It can be read only at its own level (a
reference from a subquery nested deeper would see other outer rows: ``0A000``).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ... import errors
from ...plan.logical import (LogicalCTERef, LogicalNode, LogicalProject, LogicalRecursiveCTE,
                             LogicalWithWrites)
from ...plan.expr import ColRef
from ...plan.walk import reads_outer
from ..parse import position_of
from .bind_select import bind_query
from .bind_setop import conform, unify_types


@dataclass(eq=False)
class BoundCTE:
    name: str
    columns: list
    plan: LogicalNode | None      # None for the working table of a recursive CTE
    working: bool = False
    writes: bool = False          # INSERT/UPDATE/DELETE: referencing it needs RETURNING
    # reads columns of an enclosing query: computed per outer row (exec/operators/cte.py),
    # readable only where its outer rows are the ones it was bound against (``parent``)
    correlated: bool = False
    parent: object = None

    def describe(self) -> str:
        return self.name


def bind_with(stmt, node, with_, parent, body_binder=None) -> LogicalNode:
    """The CTEs of ``with_`` in scope while the rest of ``node`` is bound: by
    ``bind_query``, or by ``body_binder(node)`` for INSERT/UPDATE/DELETE."""
    recursive = bool(with_.args.get("recursive"))
    stmt.nested = True
    frame: dict = {}
    writes: list = []
    stmt.ctes.append(frame)
    try:
        for cte in with_.expressions:
            name = cte.alias_or_name
            if name in frame:
                raise errors.sql_error("42712", f'WITH query name "{name}" specified more than '
                                                "once", position=position_of(cte))
            aliases = [c.name for c in (cte.args["alias"].columns or [])] \
                if cte.args.get("alias") is not None else []
            if isinstance(cte.this, _WRITES):
                plan = _bind_write(stmt, node, cte, name, aliases)
            elif recursive and _references(cte.this, name):
                plan = _bind_recursive(stmt, cte.this, name, aliases, parent, frame)
            else:
                plan = _rename(bind_query(stmt, cte.this, parent), aliases, name)
            # optimized with the statement
            frame[name] = BoundCTE(name, plan.columns, plan, correlated=_reads_outer(plan),
                                   parent=parent)
            if isinstance(cte.this, _WRITES):
                frame[name].writes = True
                writes.append(LogicalCTERef(list(plan.columns), name, frame[name]))
        body = node.copy()
        body.set("with_" if "with_" in body.args else "with", None)
        plan = body_binder(body) if body_binder is not None else bind_query(stmt, body, parent)
        if writes:
            _one_writer_per_table(node, with_)
            plan = LogicalWithWrites(plan.columns, plan, tuple(writes))
        return plan
    finally:
        stmt.ctes.pop()


_WRITES = (exp.Insert, exp.Update, exp.Delete)


def _bind_write(stmt, node, cte, name: str, aliases: list) -> LogicalNode:
    """``WITH name AS (INSERT | UPDATE | DELETE ... [RETURNING ...])``: the write's plan,
    whose rows are its RETURNING rows. As in PostgreSQL, only the statement's own WITH
    may hold one, and it cannot refer to itself."""
    if node is not stmt.ast:
        raise errors.sql_error("0A000", "WITH clause containing a data-modifying statement "
                                        "must be at the top level", position=position_of(cte))
    if _references(cte.this, name):
        raise errors.sql_error("42P19", f'recursive query "{name}" must not contain '
                                        "data-modifying statements", position=position_of(cte))
    return _rename(stmt.bind_dml(cte.this), aliases, name)


def _one_writer_per_table(node, with_) -> None:
    """Every part of a statement reads the state from before it. Plain INSERTs only add
    rows, which no other part sees (``WITH i AS (INSERT INTO t ...) UPDATE t ...``
    updates the rows t had, as in PostgreSQL; a key two parts insert is 23505), so any
    number of them may go with one other part changing the table. Two parts that update,
    delete or upsert one table would each miss the other's change to a row both reach
    (PostgreSQL keeps one of them, which one being unpredictable): refused instead."""
    parts = [c.this for c in with_.expressions if isinstance(c.this, _WRITES)]
    if isinstance(node, (*_WRITES, exp.Merge)):
        parts.append(node)
    by_table: dict = {}
    for part in parts:
        table = part.this.this if isinstance(part.this, exp.Schema) else part.this
        by_table.setdefault(table.name, []).append(part)
    for name, writers in by_table.items():
        changing = [p for p in writers
                    if not (isinstance(p, exp.Insert) and p.args.get("conflict") is None)]
        # an upsert or MERGE decides by the rows it sees: alone on its table
        deciding = any(isinstance(p, (exp.Insert, exp.Merge)) for p in changing)
        if len(changing) > 1 or (deciding and len(writers) > 1):
            raise errors.sql_error(
                "0A000", f'table "{name}" is changed by more than one part of this statement',
                hint="Each WITH query and the main statement read the table as it was before "
                     "the statement; update or delete its rows in one place (plain INSERTs "
                     "may join it), or use two statements.",
                position=position_of(writers[-1]))


def cte_plan(stmt, cte: BoundCTE, parent=None) -> LogicalNode:
    """A reference to ``cte`` from a query bound against ``parent`` (its enclosing scope)."""
    if cte.correlated and parent is not cte.parent:
        raise errors.not_supported("a WITH query that reads columns of an enclosing query, "
                                   "read from a subquery nested inside it",
                                   hint="Read it in the query the WITH belongs to.")
    if cte.writes and not cte.columns:
        raise errors.sql_error("0A000", f'WITH query "{cte.name}" does not have a RETURNING '
                                        "clause")
    return LogicalCTERef(list(cte.columns), cte.name, cte)


def _bind_recursive(stmt, query, name, aliases, parent, frame) -> LogicalNode:
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
