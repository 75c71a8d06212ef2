"""Common table expressions: materialised once per statement; recursive ones iterated.

A ``LogicalCTERef`` runs its CTE's plan the first time it is read in a
statement and keeps the Arrow table in ``ctx.cte_results``; later references
share it (so a CTE used twice is computed once, and a volatile CTE gives the
same rows to every reader, as in PostgreSQL).

``LogicalWithWrites`` runs a statement's data-modifying WITH queries (INSERT, UPDATE,
DELETE ... RETURNING) before the statement, so they happen exactly once even when
nothing reads them.

``LogicalRecursiveCTE`` is the fixpoint loop:

    result = working = anchor            (deduplicated for UNION)
    while working has rows:
        working = recursive term over working
        UNION: drop rows already in result (a Python set of row tuples)
        result += working

Each iteration is vectorised; the loop itself runs once per level of the
recursion. Cancellation is checked every iteration (an infinite UNION ALL
recursion runs until cancelled, as in PostgreSQL). Read directly under a LIMIT,
the loop stops once it has produced enough rows, as PostgreSQL's lazy evaluation
does for ``WITH RECURSIVE ... SELECT ... LIMIT n``.
"""
from __future__ import annotations

import pyarrow as pa

from ... import numeric_arrays, types
from ...plan.logical import LogicalCTERef, LogicalRecursiveCTE, LogicalWithWrites
from ..run import operator, run_plan
from ..semantics import jsonb_hash_columns
from .relational import distinct_table


@operator(LogicalCTERef)
def cte_ref(node: LogicalCTERef, ctx) -> pa.Table:
    cte = node.cte
    memo = ctx.cte_results
    if cte.working:
        return _named(memo[("working", id(cte))], node.columns)
    if cte.correlated:      # reads the outer row of its subquery's run: never shared
        return _named(run_plan(cte.plan, ctx), node.columns)
    key = ("cte", id(cte), ctx.cte_limits.get(id(getattr(cte, "plan", None))))
    table = memo.get(key)
    if table is None:
        table = memo[key] = run_plan(cte.plan, ctx)
    return _named(table, node.columns)


@operator(LogicalWithWrites)
def with_writes(node: LogicalWithWrites, ctx) -> pa.Table:
    """Data-modifying WITH queries first (materialised where their references find
    them), then the statement. Every part reads the state from before the statement
    (as PostgreSQL's one snapshot): the main query does not see the rows the WITH
    queries changed, except through their RETURNING. The row count is the statement's."""
    outer = ctx.read_root
    ctx.read_root = ctx.root
    try:
        for ref in node.writes:
            cte_ref(ref, ctx)
        ctx.rowcount = -1
        return run_plan(node.child, ctx)
    finally:
        ctx.read_root = outer


@operator(LogicalRecursiveCTE)
def recursive_cte(node: LogicalRecursiveCTE, ctx) -> pa.Table:
    anchor = _typed(run_plan(node.anchor, ctx), node.columns)
    seen: set | None = None
    if not node.union_all:
        anchor = distinct_table(anchor, node.types)
        seen = set(_rows(anchor, node.types))
    parts, working = [anchor], anchor
    key = ("working", id(node.cte))
    budget = ctx.cte_limits.get(id(node))      # rows a LIMIT above will keep
    produced = anchor.num_rows
    while working.num_rows and (budget is None or produced < budget):
        ctx.check_cancel()
        ctx.cte_results[key] = working
        _forget_subqueries(ctx)
        step = _typed(run_plan(node.recursive, ctx), node.columns)
        if seen is not None and step.num_rows:
            step = distinct_table(step, node.types)
            fresh = [r not in seen for r in _rows(step, node.types)]
            step = step.filter(pa.array(fresh, pa.bool_()))
            seen.update(_rows(step, node.types))
        parts.append(step)
        produced += step.num_rows
        working = step
    ctx.cte_results.pop(key, None)
    _forget_subqueries(ctx)
    return pa.concat_tables(parts)


def _rows(t: pa.Table, sql_types):
    """The rows as hashable tuples, a jsonb document as its hash key (UNION's equality)."""
    cols = [types.py_values(c) for c in jsonb_hash_columns(t.columns, sql_types)[0]]
    return list(zip(*cols)) if cols else [() for _ in range(t.num_rows)]


def _forget_subqueries(ctx) -> None:
    """Subquery results memoised during an iteration may depend on the working table."""
    for k in [k for k in ctx.cte_results if k[0] == "subquery"]:
        del ctx.cte_results[k]


def _typed(t: pa.Table, columns) -> pa.Table:
    want = [types.arrow_type(ty if ty != types.NULL else types.TEXT) for _, ty in columns]
    # (a numeric(p,s) anchor's decimal128 becomes keys: each step's scale may differ)
    arrays = [numeric_arrays.cast_to(c, w) for c, w in zip(t.columns, want)]
    return pa.Table.from_arrays(arrays, names=[n for n, _ in columns])


def _named(t: pa.Table, columns) -> pa.Table:
    names = [n for n, _ in columns]
    return t if t.column_names == names else t.rename_columns(names)
