"""Optimizing the plans nested in a statement: subqueries and WITH queries, first.

The binder hands over one unoptimized plan per statement (it never calls the
optimizer); plans nested in it are out of reach of the other rules, which walk
plan nodes, not the expressions or CTE references that hold subplans. This rule,
first in the list, optimizes each of them once, innermost first, so that the
decorrelation rules after it move already-optimized subplans into the enclosing
plan:

* a subquery used as a value (scalar, EXISTS, IN, ANY/ALL, ARRAY(...)) with every
  rule but ``prune_columns``: decorrelation moves its conjuncts into the enclosing
  plan, where they must still address whole-table columns; the enclosing plan's
  own ``prune_columns`` narrows it afterwards;
* a WITH query with every rule, once per statement however often it is read: all
  references to one CTE keep sharing one (new) CTE object, as the executor
  materializes a CTE once per object. The working table of a recursive CTE has no
  plan of its own and stays the same object.

Example: the filter of an EXISTS subquery moves into its scan.
    >>> from rustmemodb.optimize import optimize
    >>> from rustmemodb.plan.expr import ColRef, Const, SubqueryExpr, make_call
    >>> from rustmemodb.plan.logical import LogicalFilter, LogicalScan, LogicalValues
    >>> b = LogicalScan([("y", "INTEGER")], "b")
    >>> gt = make_call("gt", [ColRef(0, "INTEGER"), Const(1, "INTEGER")])
    >>> sub = SubqueryExpr("exists", LogicalFilter(b.columns, b, gt), "BOOLEAN")
    >>> outer = LogicalFilter([], LogicalValues([], []), sub)
    >>> out = optimize_subqueries(outer, None, optimize)
    >>> type(out.predicate.plan).__name__, str(out.predicate.plan.filter)
    ('LogicalScan', '(#0 > 1)')

LATERAL right sides are walked (their subqueries and CTE references are handled
here) and then optimized as a whole by ``optimize_lateral``, last in the list.
"""
from __future__ import annotations

from ..deep import deep
import dataclasses
import weakref

from ..plan.expr import Call, Expr, SubqueryExpr
from ..plan.logical import LogicalCTERef, LogicalNode, LogicalRecursiveCTE
from ..plan.walk import walk_fields

_LEAVES = (str, int, float, bool, type(None), bytes)
# The nested optimize() calls skip this rule: the walk below already went innermost first.
SELF = "optimize_subqueries"
# id(expression holding a subquery) -> (expression, weak reference to the root it was
# optimized against, optimized expression). A session hands the same bound expression
# to each statement that writes the piece again (sql/bind/reuse.py), so a file of
# statements made of recurring pieces optimizes each piece's subqueries once per root:
# the result depends on nothing else (the nested optimize() runs a fixed rule list
# against the root's catalog and sizes). Entries hold the expression, so its id is not
# reused while it is here; bounded.
_DONE: dict = {}
_DONE_MAX = 512


def optimize_subqueries(plan: LogicalNode, ctx=None, optimize=None) -> LogicalNode:
    """``optimize``: the optimizer itself (``rustmemodb.optimize.optimize``), which
    passes itself in: a nested rule runs the whole rule list on subplans."""
    return _Walk(optimize, ctx).value(plan)


class _Walk:
    def __init__(self, optimize, ctx) -> None:
        self.optimize = optimize
        self.ctx = ctx
        self.ctes: dict[int, object] = {}   # id(CTE as bound) -> CTE with optimized plan
        self.keep: list = []                # the bound CTEs, alive while ids are in use
        self.cte_reads = 0                  # CTE references met (self.cte)

    def value(self, value):
        # Atoms are passed over here and below, with no call (and no depth probe) each.
        return value if isinstance(value, _LEAVES) else self._value(value)

    def _expr(self, value):
        """``_value`` of an expression holding a subquery, remembered per root (_DONE)."""
        ctx = self.ctx
        hit = _DONE.get(id(value))
        if hit is not None and hit[0] is value and hit[1]() is ctx and ctx is not None:
            return hit[2]
        reads = self.cte_reads
        out = self._walk(value)
        if self.cte_reads != reads:     # its CTEs are this statement's own objects
            return out
        try:
            ref = weakref.ref(ctx)
        except TypeError:
            return out
        if len(_DONE) >= _DONE_MAX:
            _DONE.clear()
        _DONE[id(value)] = (value, ref, out)
        return out

    @deep
    def _value(self, value):
        if isinstance(value, Expr):
            if not _holds(value):
                return value      # most expressions: one flat walk instead of a rebuild
            return self._expr(value)
        return self._walk(value)

    def _walk(self, value):
        if isinstance(value, (list, tuple)):
            out = [v if isinstance(v, _LEAVES) else self._value(v) for v in value]
            if all(a is b for a, b in zip(out, value)):
                return value
            return out if isinstance(value, list) else tuple(out)
        if isinstance(value, dict):
            out = {k: v if isinstance(v, _LEAVES) else self._value(v) for k, v in value.items()}
            return value if all(out[k] is value[k] for k in value) else out
        names = _fields(type(value))
        if names is None:     # not a dataclass
            return value
        changes = {}
        for name in names:
            v = getattr(value, name)
            if isinstance(v, _LEAVES):
                continue
            if name == "cte" and isinstance(value, (LogicalCTERef, LogicalRecursiveCTE)):
                nv = self.cte(v)
            else:
                nv = self._value(v)
            if nv is not v:
                changes[name] = nv
        if changes:
            value = dataclasses.replace(value, **changes)
        if isinstance(value, SubqueryExpr) and value.kind != "lateral":
            value = dataclasses.replace(value, plan=self.optimize(
                value.plan, self.ctx, disabled=frozenset({"prune_columns", SELF})))
        return value

    def cte(self, cte):
        self.cte_reads += 1
        hit = self.ctes.get(id(cte))
        if hit is not None:
            return hit
        plan = getattr(cte, "plan", None)
        if plan is None:    # the working table of a recursive CTE: keep its identity
            out = cte
        else:
            plan = self.optimize(self.value(plan), self.ctx, disabled=frozenset({SELF}))
            out = dataclasses.replace(cte, plan=plan)
        self.keep.append(cte)
        self.ctes[id(cte)] = out
        return out


def _fields(cls) -> tuple | None:
    """``walk_fields(cls)``, without a plan node's ``columns``: (name, type) pairs of
    strings, which hold no subplan (a walk over them was a third of this rule's work on
    a small statement)."""
    names = _FIELDS.get(cls, False)
    if names is False:
        names = walk_fields(cls)
        if names is not None and issubclass(cls, LogicalNode):
            names = tuple(n for n in names if n != "columns")
        _FIELDS[cls] = names
    return names


_FIELDS: dict = {}


def _holds(e: Expr) -> bool:
    """``_holds_subquery(e)``, remembered per expression object (_HOLDS): the pieces a
    session reuses are the same objects statement after statement; an AND/OR is
    answered from its sides (a new combination of known conditions)."""
    hit = _HOLDS.get(id(e))
    if hit is not None and hit[0] is e:
        return hit[1]
    if type(e) is Call and (e.fn == "and" or e.fn == "or") and len(e.args) == 2:
        out = _holds(e.args[0]) or _holds(e.args[1])
    else:
        out = _holds_subquery(e)
    if len(_HOLDS) >= _HOLDS_MAX:
        _HOLDS.clear()
    _HOLDS[id(e)] = (e, out)
    return out


# id(expression) -> (expression, whether a subquery is under it); bounded.
_HOLDS: dict = {}
_HOLDS_MAX = 2048


def _holds_subquery(e: Expr) -> bool:
    """Whether a SubqueryExpr is anywhere under ``e``: iterative, over every field the
    walk above would visit (not only ``Expr.children``), so nothing it would rewrite is
    passed over."""
    stack = [e]
    while stack:
        value = stack.pop()
        if isinstance(value, SubqueryExpr):
            return True
        if isinstance(value, (list, tuple)):
            stack.extend(v for v in value if not isinstance(v, _LEAVES))
        elif isinstance(value, dict):
            stack.extend(v for v in value.values() if not isinstance(v, _LEAVES))
        else:
            names = walk_fields(type(value))
            if names:
                for name in names:
                    v = getattr(value, name)
                    if not isinstance(v, _LEAVES):
                        stack.append(v)
    return False
