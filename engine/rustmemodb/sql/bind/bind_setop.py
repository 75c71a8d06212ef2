"""Binding UNION / INTERSECT / EXCEPT [ALL], with ORDER BY / LIMIT on the result.

Both sides are bound as queries of their own (sqlglot already nests a chain by
precedence: INTERSECT binds tighter). They must have the same number of
columns (``42601``); each column pair gets one type as for CASE branches —
INTEGER and FLOAT give FLOAT, anything else must be equal (``42804``) — and a
side whose type differs is cast in a projection. Output names come from the
left side. ORDER BY may use output names and ordinals only.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Call, Cast, ColRef, Const, make_call
from ...plan.logical import LogicalNode, LogicalProject, LogicalSetOp, LogicalSort
from ..parse import position_of
from .scope import Scope
from .bind_select import bind_query, null_outputs, _explicit_nulls, _limit
from .bind_expr import ExprBinder
from . import sort_keys
from .json_equality import require_equality

_KINDS = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}


def bind_set_operation(stmt, node, parent) -> LogicalNode:
    kind = _KINDS[type(node)]
    all_ = node.args.get("distinct") is False    # sqlglot: True for plain UNION
    left = bind_query(stmt, node.this, parent)
    right = bind_query(stmt, node.expression, parent)
    if node.args.get("by_name"):
        left, right = _by_name(left, right, node)
    plan = set_operation(left, right, kind, all_, node,
                         (literal_outputs(node.this), literal_outputs(node.expression)))
    return order_and_limit(stmt, node, plan)


def literal_outputs(side) -> frozenset[int]:
    """The output positions of a SELECT that are a bare quoted literal: of unknown type
    in PostgreSQL, so the other side's type (``SELECT d UNION SELECT '2020-01-01'``)."""
    if not isinstance(side, exp.Select):
        return frozenset()
    items = [e.unalias() if isinstance(e, exp.Alias) else e for e in side.expressions]
    return frozenset(i for i, e in enumerate(items)
                     if isinstance(e, exp.Literal) and e.is_string)


def _by_name(left: LogicalNode, right: LogicalNode, node) -> tuple[LogicalNode, LogicalNode]:
    """DuckDB's UNION [ALL] BY NAME: columns matched by name, the left's first, then the
    right's new ones; a side without a column gives NULLs for it."""
    for side in (left, right):
        seen: set = set()
        for name in side.names:
            if name in seen:
                raise errors.sql_error("42702", f'column name "{name}" appears more than once '
                                                "in a UNION BY NAME input",
                                       position=position_of(node))
            seen.add(name)
    first = set(left.names)
    names = list(left.names) + [n for n in right.names if n not in first]

    def aligned(plan: LogicalNode) -> LogicalNode:
        where = {n: i for i, n in enumerate(plan.names)}
        columns, exprs = [], []
        for name in names:
            i = where.get(name)
            t = plan.types[i] if i is not None else types.NULL
            columns.append((name, t))
            exprs.append(ColRef(i, t, name) if i is not None else Const(None, types.NULL))
        return LogicalProject(columns, plan, exprs)
    return aligned(left), aligned(right)


def set_operation(left: LogicalNode, right: LogicalNode, kind: str, all_: bool,
                  node=None, literals=(frozenset(), frozenset())) -> LogicalSetOp:
    """``literals``: each side's outputs that are a quoted literal (literal_outputs)."""
    if len(left.columns) != len(right.columns):
        raise errors.sql_error("42601", f"each {kind.upper()} query must have the same number "
                                        "of columns", position=position_of(node) if node else None)
    lnull, rnull = null_outputs(left), null_outputs(right)
    out_types = [unify_types(_side_type(i, lt, rt, lnull, literals[0]),
                             _side_type(i, rt, lt, rnull, literals[1]), kind)
                 for i, (lt, rt) in enumerate(zip(left.types, right.types))]
    out_types = [types.TEXT if t in (types.NULL, types.UNKNOWN) else t for t in out_types]
    # char(n) beside text or another char: char values of the longest n, each side padded
    # to it, so equal values are equal rows (sql/bind/bpchar.py)
    out_types = [_char_type(lt, rt) or t for lt, rt, t in zip(left.types, right.types,
                                                               out_types)]
    if not all_:      # rows are compared: json has no equality (json_equality.py)
        require_equality(out_types, position_of(node) if node else None)
    columns = [(n, t) for n, t in zip(left.names, out_types)]
    return LogicalSetOp(columns, conform(left, out_types), conform(right, out_types), kind, all_)


def _side_type(i: int, t: str, other: str, nulls, literals) -> str:
    """A side's type for output ``i`` as the union resolves it: a bare NULL has none, and
    a quoted literal takes the other side's type, except a number's (a quoted literal
    never becomes a number here: DESIGN.md)."""
    if i in nulls:
        return types.NULL
    if i in literals and t == types.TEXT and not types.is_numeric(other):
        return types.UNKNOWN
    return t


def _char_type(a: str, b: str) -> str | None:
    lengths = [t.length for t in (a, b) if types.is_bpchar(t)]
    if not lengths or not all(t == types.TEXT or t in (types.NULL, types.UNKNOWN)
                              for t in (a, b)):
        return None
    return types.bpchar_type(None if None in lengths else max(lengths))


def unify_types(a: str, b: str, what: str) -> str:
    if a == b:
        return a
    if types.is_numeric(a) and types.is_numeric(b):
        return types.wider_number((a, b))
    if a in (types.NULL, types.UNKNOWN):
        return b
    if b in (types.NULL, types.UNKNOWN):
        return a
    if {a, b} == {types.DATE, types.TIMESTAMP}:
        return types.TIMESTAMP
    if types.TIMESTAMPTZ in (a, b) and {a, b} <= {types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ}:
        return types.TIMESTAMPTZ
    raise errors.datatype_mismatch(f"{what.upper()} types {types.sql_name(a).lower()} and "
                                   f"{types.sql_name(b).lower()} cannot be matched")


def conform(plan: LogicalNode, out_types: list[str]) -> LogicalNode:
    """``plan`` with its columns cast to ``out_types`` where they differ (char(n): padded
    to n)."""
    if list(plan.types) == list(out_types) and not any(
            types.is_bpchar(w) and t is not w for t, w in zip(plan.types, out_types)):
        return plan
    exprs = []
    for i, ((name, t), want) in enumerate(zip(plan.columns, out_types)):
        ref = ColRef(i, t, name)
        if types.is_bpchar(want) and t is not want and want.length is not None:
            pad = make_call("bpchar_pad", [ref, Const(want.length, types.INTEGER)])
            exprs.append(Call("bpchar_pad", pad.args, want, pad.impl))
            continue
        exprs.append(ref if t == want else Cast(ref, want))
    return LogicalProject([(n, t) for (n, _), t in zip(plan.columns, out_types)], plan, exprs)


def order_and_limit(stmt, node, plan: LogicalNode) -> LogicalNode:
    """ORDER BY (output names / ordinals) and LIMIT/OFFSET of a set operation or VALUES."""
    order = node.args.get("order")
    if order is not None:
        scope = Scope()
        for n, t in plan.columns:
            scope.add(None, n, t)
        binder = ExprBinder(stmt, scope, clause="ORDER BY")
        keys = []
        for o in order.expressions:
            e = o.this
            desc = bool(o.args.get("desc"))
            nulls_first = bool(o.args.get("nulls_first")) if _explicit_nulls(o) else desc
            if isinstance(e, exp.Literal) and not e.is_string:
                k = int(e.this)
                if not 1 <= k <= len(plan.columns):
                    raise errors.sql_error("42P10", f"ORDER BY position {k} is not in select "
                                                    "list", position=position_of(e))
                n, t = plan.columns[k - 1]
                key = ColRef(k - 1, t, n)
            else:
                key = binder.bind(e)
            keys.append((sort_keys.sort_key(stmt.functions, key), desc, nulls_first))
        plan = LogicalSort(plan.columns, plan, keys)
    return _limit(stmt, node, plan)
