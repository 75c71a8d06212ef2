"""Logical plan → SQL text, for the node and expression subset a distributed split uses.

Why SQL: a shard must never evaluate a pickled object from the network, and a plan
tree holds callables (``Call.impl``). So the fragment a shard runs is sent as SQL,
rendered from the coordinator's bound and optimized plan: predicates where the
optimizer pushed them, only the columns it kept, joins in its order. The shard binds
and optimizes that text again with its own data (index choice is then its own).

Rendering keeps one SELECT open as long as the next node fits into it (WHERE, GROUP
BY, HAVING, the select list, ORDER BY, LIMIT, in SQL's own order of evaluation) and
otherwise wraps what it has as a derived table. Every base table gets an alias of its
own and every column is written qualified, so no name is ever resolved to anything but
the column it was bound to. Anything outside the subset raises ``Unrenderable``: the
caller then uses the SQL-level split (``split.py``).

Example:
    >>> from rustmemodb.plan import logical as L
    >>> from rustmemodb.plan.expr import ColRef, make_call, Const
    >>> s = L.LogicalScan([("b", "INTEGER")], "t", projection=[1],
    ...                   filter=make_call("gt", [ColRef(0, "INTEGER"), Const(1, "INTEGER")]))
    >>> render(s, lambda t: ["a", "b"], ["b"])
    'SELECT "s0"."b" AS "b" FROM "t" AS "s0" WHERE ("s0"."a" > 1)'
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import errors, netaddr, types
from ..plan import logical as L
from ..plan.internal_functions import INTERNAL_SCHEMA, is_internal
from ..plan.expr import (
    AggCall,
    Call,
    Case,
    Cast,
    ColRef,
    Const,
    Expr,
    InList,
    WindowCall,
)

_INFIX = {
    "add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "eq": "=", "ne": "<>",
    "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "AND", "or": "OR",
    "concat_op": "||", "like": "LIKE", "ilike": "ILIKE", "is_distinct": "IS DISTINCT FROM",
    "is_not_distinct": "IS NOT DISTINCT FROM", "similar_to": "SIMILAR TO",
    "regexp_like": "~", "regexp_ilike": "~*",
}
_POSTFIX = {"is_null": "IS NULL", "is_not_null": "IS NOT NULL", "is_true": "IS TRUE",
            "is_false": "IS FALSE", "is_not_true": "IS NOT TRUE",
            "is_not_false": "IS NOT FALSE"}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE_NAME = re.compile(r"^[A-Z][A-Z ]*(\(\d+(, ?\d+)?\))?(\[\])?$")
# Literal types written back as text the binder reads as the same typed constant.
_LITERAL_TYPES = {types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN, types.DATE,
                  types.TIMESTAMP, types.INTERVAL, types.UUID, types.TIME, types.BYTEA,
                  types.TIMESTAMPTZ, types.MONEY, types.TSVECTOR, types.TSQUERY, types.TIMETZ,
                  types.NUMERIC} | \
    set(types.NETWORK_TYPES) | set(types.BIT_TYPES)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

TableColumns = Callable[[str], list]   # table name -> all its column names, in order


class Unrenderable(Exception):
    """The plan holds something the renderer does not write back as SQL."""


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Col:
    sql: str
    plain: bool = False     # a bare column of a FROM item (NULL when that item is)
    const: bool = False     # reads no column


@dataclass
class _Query:
    """One SELECT being built: what each output column is, over its FROM items."""
    froms: str
    items: int                                  # FROM items (1: a table or a derived table)
    cols: list
    where: list = field(default_factory=list)
    group: list | None = None                   # None: not grouped; []: one group
    having: list = field(default_factory=list)
    distinct: bool = False
    distinct_on: list | None = None             # DISTINCT ON keys (over ``order``)
    order: list | None = None
    limit: str | None = None
    offset: str | None = None
    windowed: bool = False                      # the select list holds window functions

    @property
    def plain(self) -> bool:
        """Nothing but FROM and WHERE: can be a join input as it is."""
        return self.group is None and not self.distinct and self.order is None and \
            self.limit is None and self.offset is None and not self.windowed and \
            self.distinct_on is None

    @property
    def closed(self) -> bool:
        """Past the select list (DISTINCT, ORDER BY, LIMIT): only a wrap reads on."""
        return self.distinct or self.order is not None or self.limit is not None or \
            self.offset is not None or self.distinct_on is not None


class _Renderer:
    def __init__(self, table_columns: TableColumns) -> None:
        self.table_columns = table_columns
        self.aliases = 0

    def alias(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases - 1}"

    # ---- nodes ----------------------------------------------------------------------
    def node(self, n: L.LogicalNode) -> _Query:
        fn = getattr(self, "_" + type(n).__name__, None)
        if fn is None:
            raise Unrenderable(type(n).__name__)
        return fn(n)

    def _LogicalScan(self, n: L.LogicalScan) -> _Query:
        if n.with_rowid or n.index_lookup is not None:
            raise Unrenderable("scan with row ids or an index lookup")
        a = self.alias("s")
        names = self.table_columns(n.table)
        full = [_Col(f"{quote(a)}.{quote(c)}", plain=True) for c in names]
        keep = n.projection if n.projection is not None else range(len(names))
        q = _Query(f"{quote(n.table)} AS {quote(a)}", 1, [full[i] for i in keep])
        if n.filter is not None:
            q.where.append(self.expr(n.filter, full))
        return q

    def _LogicalFilter(self, n: L.LogicalFilter) -> _Query:
        q = self.node(n.child)
        if q.closed or q.windowed:   # WHERE and HAVING come before windows
            q = self.wrap(q)
        cond = self.expr(n.predicate, q.cols)
        (q.having if q.group is not None else q.where).append(cond)
        return q

    def _LogicalProject(self, n: L.LogicalProject) -> _Query:
        q = self.node(n.child)
        if q.distinct:
            q = self.wrap(q)
        q.cols = [self.col(e, q.cols) for e in n.exprs]
        return q

    def _LogicalAggregate(self, n: L.LogicalAggregate) -> _Query:
        q = self.node(n.child)
        if not q.plain:
            q = self.wrap(q)
        groups = [self.col(g, q.cols) for g in n.groups]
        if any(g.const for g in groups):
            raise Unrenderable("a constant group key")   # GROUP BY 1 would be a position
        aggs = [_Col(self.aggregate(a, q.cols)) for a in n.aggregates]
        q.group = [g.sql for g in groups]
        if n.grouping_sets is not None:
            q.group = ["GROUPING SETS (" + ", ".join(
                "(" + ", ".join(q.group[i] for i in members) + ")"
                for members in n.grouping_sets) + ")"]
        q.cols = groups + aggs
        return q

    def _LogicalSort(self, n: L.LogicalSort) -> _Query:
        q = self.node(n.child)
        if q.closed or q.windowed:   # (after DISTINCT: sorted as a query apart, on its rows)
            q = self.wrap(q)
        keys = []
        for e, desc, nulls_first in n.keys:
            sql = self.expr(e, q.cols)
            keys.append(f"{sql} {'DESC' if desc else 'ASC'} "
                        f"NULLS {'FIRST' if nulls_first else 'LAST'}")
        q.order = keys
        return q

    def _LogicalLimit(self, n: L.LogicalLimit) -> _Query:
        q = self.node(n.child)
        if q.limit is not None or q.offset is not None:
            q = self.wrap(q)
        q.limit = None if n.limit is None else self.count(n.limit)
        q.offset = None if n.offset is None else self.count(n.offset)
        return q

    def _LogicalDistinct(self, n: L.LogicalDistinct) -> _Query:
        if n.on is not None:
            raise Unrenderable("DISTINCT ON")
        q = self.node(n.child)
        if q.closed or q.windowed:
            q = self.wrap(q)
        q.distinct = True
        return q

    def _LogicalDistinctOn(self, n: L.LogicalDistinctOn) -> _Query:
        q = self.node(n.child)
        # the first row of each group in the Sort's order: that Sort is this query's
        # ORDER BY (whose leading keys the binder made the DISTINCT ON keys)
        if q.order is None or q.distinct or q.distinct_on is not None or \
                q.limit is not None or q.offset is not None:
            raise Unrenderable("DISTINCT ON not right over its ORDER BY")
        q.distinct_on = [self.expr(k, q.cols) for k in n.keys]
        return q

    def _LogicalWindow(self, n: L.LogicalWindow) -> _Query:
        q = self.node(n.child)
        if q.closed or q.windowed:   # a window over a window's output: a query apart
            q = self.wrap(q)
        q.cols = q.cols + [_Col(self.window(f, q.cols)) for f in n.functions]
        q.windowed = True
        return q

    def _LogicalJoin(self, n: L.LogicalJoin) -> _Query:
        kind = n.kind
        if kind in ("semi", "anti"):
            return self.semi(n)
        if kind not in ("inner", "cross", "left", "right", "full"):
            raise Unrenderable(f"{kind} join")
        left, right = self.node(n.left), self.node(n.right)
        # An outer join's null side must be one FROM item whose columns are its own
        # bare columns (an expression over them would not turn NULL with the row).
        null_left, null_right = kind in ("right", "full"), kind in ("left", "full")
        left = self.joinable(left, single=null_left, null_side=null_left)
        right = self.joinable(right, single=True, null_side=null_right)
        cols = left.cols + right.cols
        on = [f"({self.expr(a, left.cols)} = {self.expr(b, right.cols)})"
              for a, b in n.equi_keys]
        if n.condition is not None:
            on.append(self.expr(n.condition, cols))
        where = []
        if null_right:
            on += right.where
        else:
            where += right.where
        if null_left:
            on += left.where
        else:
            where = left.where + where
        if kind == "cross" and not on:
            froms = f"{left.froms} CROSS JOIN {right.froms}"
        else:
            word = {"inner": "JOIN", "cross": "JOIN", "left": "LEFT JOIN",
                    "right": "RIGHT JOIN", "full": "FULL JOIN"}[kind]
            froms = f"{left.froms} {word} {right.froms} ON {' AND '.join(on) or 'TRUE'}"
        return _Query(froms, left.items + right.items, cols, where)

    def semi(self, n: L.LogicalJoin) -> _Query:
        """A semi (anti) join as ``[NOT] EXISTS (SELECT 1 FROM right WHERE on)`` in the
        left side's WHERE: the binder turns that back into the same join (the
        optimizer's decorrelation), and its output is the left side's columns."""
        left = self.joinable(self.node(n.left), single=False, null_side=False)
        right = self.joinable(self.node(n.right), single=True, null_side=False)
        on = [f"({self.expr(a, left.cols)} = {self.expr(b, right.cols)})"
              for a, b in n.equi_keys]
        if n.condition is not None:
            on.append(self.expr(n.condition, left.cols + right.cols))
        on += right.where
        where = f" WHERE {' AND '.join(on)}" if on else ""
        left.where.append(f"({'NOT ' if n.kind == 'anti' else ''}EXISTS "
                          f"(SELECT 1 FROM {right.froms}{where}))")
        return left

    def joinable(self, q: _Query, single: bool, null_side: bool) -> _Query:
        if not q.plain or (single and q.items > 1) or \
                (null_side and not all(c.plain for c in q.cols)):
            q = self.wrap(q)
        return q

    def wrap(self, q: _Query) -> _Query:
        """``q`` as a derived table: a fresh SELECT reading its columns by name."""
        a = self.alias("d")
        names = [f"c{i}" for i in range(len(q.cols))]
        body = self.select(q, names)
        cols = [_Col(f"{quote(a)}.{quote(n)}", plain=True) for n in names]
        return _Query(f"({body}) AS {quote(a)}", 1, cols)

    def select(self, q: _Query, names: list) -> str:
        if not q.cols:
            raise Unrenderable("a query without columns")
        items = ", ".join(f"{c.sql} AS {quote(n)}" for c, n in zip(q.cols, names))
        head = "DISTINCT " if q.distinct else ""
        if q.distinct_on is not None:
            head = f"DISTINCT ON ({', '.join(q.distinct_on)}) "
        out = f"SELECT {head}{items} FROM {q.froms}"
        if q.where:
            out += " WHERE " + " AND ".join(q.where)
        if q.group:
            out += " GROUP BY " + ", ".join(q.group)
        if q.having:
            out += " HAVING " + " AND ".join(q.having)
        if q.order:
            out += " ORDER BY " + ", ".join(q.order)
        if q.limit is not None:
            out += f" LIMIT {q.limit}"
        if q.offset is not None:
            out += f" OFFSET {q.offset}"
        return out

    # ---- expressions -----------------------------------------------------------------
    def col(self, e: Expr, cols: list) -> _Col:
        if isinstance(e, ColRef):
            return cols[e.index]
        reads = any(isinstance(n, ColRef) for n in e.walk())
        return _Col(self.expr(e, cols), const=not reads)

    def count(self, e: Expr) -> str:
        if isinstance(e, Const) and (e.value is None or isinstance(e.value, int)):
            return "NULL" if e.value is None else str(int(e.value))
        raise Unrenderable("a LIMIT that is not a constant")

    def aggregate(self, a: Expr, cols: list) -> str:
        if not isinstance(a, AggCall) or not _IDENT.match(a.fn):
            raise Unrenderable(str(a))
        if a.order_by or a.extra:
            out = self._ordered_aggregate(a, cols)
        else:
            inner = "*" if a.star else ", ".join(self.expr(x, cols) for x in a.args)
            out = f"{a.fn}({'DISTINCT ' if a.distinct else ''}{inner})"
        if a.filter is not None:
            out += f" FILTER (WHERE {self.expr(a.filter, cols)})"
        return out

    def _ordered_aggregate(self, a: AggCall, cols: list) -> str:
        """Aggregates whose binding carries an ORDER BY or constants (``extra``), written
        back as the binder reads them (``sql/bind/bind_aggregate_ext.py``,
        ``bind_array.py``, ``bind_ordered_set.py``)."""
        def keys(items) -> str:
            return ", ".join(f"{self.expr(e, cols)} {'DESC' if d else 'ASC'} "
                             f"NULLS {'FIRST' if nf else 'LAST'}" for e, d, nf in items)
        value = a.args[0] if a.args else None
        if isinstance(value, Call) and value.fn == "agg_pack":
            value = value.args[0]            # the value packed with its sort keys
        order = f" ORDER BY {keys(a.order_by)}" if a.order_by else ""
        if a.fn == "string_agg" and len(a.extra) == 1:
            sep = literal(a.extra[0], types.TEXT if a.extra[0] is not None else types.NULL)
            return f"string_agg({'DISTINCT ' if a.distinct else ''}" \
                   f"{self.expr(value, cols)}, {sep}{order})"
        if a.fn == "array_agg" and len(a.extra) == 2:
            return f"array_agg({'DISTINCT ' if a.extra[1] else ''}" \
                   f"{self.expr(value, cols)}{order})"
        if a.fn in ("json_agg", "jsonb_agg") and not a.extra:
            return f"{a.fn}({'DISTINCT ' if a.distinct else ''}{self.expr(value, cols)}{order})"
        if a.fn in ("percentile_cont", "percentile_disc", "mode") and len(a.extra) == 3 \
                and not a.order_by:
            q, desc, nulls_first = a.extra
            within = keys([(value, desc, nulls_first)])
            if a.fn == "mode":
                return f"mode() WITHIN GROUP (ORDER BY {within})"
            fraction = literal(list(q), types.array_of(types.FLOAT)) \
                if isinstance(q, (tuple, list)) else literal(float(q), types.FLOAT)
            return f"{a.fn}({fraction}) WITHIN GROUP (ORDER BY {within})"
        if a.fn in ("quantile_cont", "quantile_disc", "median") and len(a.extra) == 1 \
                and not a.order_by:
            head = "DISTINCT " if a.distinct else ""
            if a.fn == "median":
                return f"median({head}{self.expr(value, cols)})"
            return f"{a.fn}({head}{self.expr(value, cols)}, " \
                   f"{literal(float(a.extra[0]), types.FLOAT)})"
        raise Unrenderable(str(a))

    def window(self, w: Expr, cols: list) -> str:
        if not isinstance(w, WindowCall) or not _IDENT.match(w.fn):
            raise Unrenderable(str(w))
        inner = "*" if w.star else ", ".join(self.expr(x, cols) for x in w.args)
        out = f"{w.fn}({'DISTINCT ' if w.distinct else ''}{inner})"
        if w.filter is not None:
            out += f" FILTER (WHERE {self.expr(w.filter, cols)})"
        over = []
        if w.partition:
            over.append("PARTITION BY " + ", ".join(self.expr(p, cols) for p in w.partition))
        if w.order:
            over.append("ORDER BY " + ", ".join(
                f"{self.expr(e, cols)} {'DESC' if d else 'ASC'} NULLS {'FIRST' if nf else 'LAST'}"
                for e, d, nf in w.order))
        if w.frame is not None:
            over.append(_frame(w.frame))
        return f"{out} OVER ({' '.join(over)})"

    def expr(self, e: Expr, cols: list) -> str:
        if isinstance(e, ColRef):
            return cols[e.index].sql
        if isinstance(e, Const):
            return literal(e.value, e.type)
        if isinstance(e, Call):
            args = [self.expr(x, cols) for x in e.args]
            if e.fn in ("like", "ilike") and len(args) == 3:
                return f"({args[0]} {e.fn.upper()} {args[1]} ESCAPE {args[2]})"
            if e.fn in _INFIX and len(args) == 2:
                return f"({args[0]} {_INFIX[e.fn]} {args[1]})"
            if e.fn in _POSTFIX and len(args) == 1:
                return f"({args[0]} {_POSTFIX[e.fn]})"
            if e.fn == "not" and len(args) == 1:
                return f"(NOT {args[0]})"
            if e.fn == "neg" and len(args) == 1:
                return f"(- {args[0]})"
            if not _IDENT.match(e.fn):
                raise Unrenderable(e.fn)
            if is_internal(e.fn) and not getattr(e.impl, "user", False):
                # a helper of the binder's: the shard binds it in the internal schema
                return f"{INTERNAL_SCHEMA}.{e.fn}({', '.join(args)})"
            return f"{e.fn}({', '.join(args)})"
        if isinstance(e, Cast):
            return f"CAST({self.expr(e.arg, cols)} AS {type_name(e.type)})"
        if isinstance(e, Case):
            whens = " ".join(f"WHEN {self.expr(c, cols)} THEN {self.expr(v, cols)}"
                             for c, v in e.whens)
            tail = f" ELSE {self.expr(e.default, cols)}" if e.default is not None else ""
            return f"(CASE {whens}{tail} END)"
        if isinstance(e, InList):
            values = ", ".join(self.expr(v, cols) for v in e.values)
            return f"({self.expr(e.arg, cols)} {'NOT ' if e.negated else ''}IN ({values}))"
        raise Unrenderable(type(e).__name__)


_BOUNDS = {"unbounded_preceding": "UNBOUNDED PRECEDING", "current": "CURRENT ROW",
           "unbounded_following": "UNBOUNDED FOLLOWING"}
_EXCLUDE = {"current": "EXCLUDE CURRENT ROW", "group": "EXCLUDE GROUP", "ties": "EXCLUDE TIES"}


def _frame(frame: tuple) -> str:
    """A window frame ``(mode, start, end[, exclusion])`` as SQL (integer offsets only)."""
    mode, start, end = frame[:3]

    def bound(b) -> str:
        kind, offset = b
        if kind in _BOUNDS:
            return _BOUNDS[kind]
        if kind in ("preceding", "following") and isinstance(offset, int) and \
                not isinstance(offset, bool):
            return f"{offset} {kind.upper()}"
        raise Unrenderable(f"frame bound {b!r}")
    if mode not in ("rows", "range", "groups"):
        raise Unrenderable(f"frame {mode}")
    out = f"{mode.upper()} BETWEEN {bound(start)} AND {bound(end)}"
    if len(frame) > 3 and frame[3] is not None:
        if frame[3] not in _EXCLUDE:
            raise Unrenderable(f"frame exclusion {frame[3]!r}")
        out += " " + _EXCLUDE[frame[3]]
    return out


def type_name(t: str) -> str:
    if not _TYPE_NAME.match(t):
        raise Unrenderable(f"type {t}")
    return types.sql_name(t)


def literal(value, sql_type: str) -> str:
    """A constant as SQL the binder reads back as the same value of the same type. JSON
    constants are their canonical text (``CAST('...' AS JSONB)`` reads back the same
    text), json ones their text as written; a 1-D array is ``CAST(ARRAY[...] AS X[])``
    of its elements' literals."""
    if sql_type == types.NULL and value is None:   # a bare NULL, typed by its context
        return "NULL"
    if sql_type in types.JSON_TYPES:
        name = types.sql_name(sql_type)
        if value is None:
            return f"CAST(NULL AS {name})"
        if isinstance(value, str) and (_canonical_json(value) if sql_type == types.JSON
                                       else _json_text(value)):
            return "CAST('" + value.replace("'", "''") + f"' AS {name})"
        raise Unrenderable(f"constant {value!r} of type {sql_type}")
    if types.is_array(sql_type):
        element = types.element_type(sql_type)
        if value is None:
            return f"CAST(NULL AS {type_name(sql_type)})"
        if not isinstance(value, list) or types.is_array(element) or \
                element not in _LITERAL_TYPES | set(types.JSON_TYPES):
            raise Unrenderable(f"constant {value!r} of type {sql_type}")
        items = ", ".join(literal(v, element) for v in value)
        return f"CAST(ARRAY[{items}] AS {type_name(sql_type)})"
    if sql_type not in _LITERAL_TYPES:
        raise Unrenderable(f"a {sql_type} constant")
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if sql_type == types.BOOLEAN:
        return "TRUE" if value else "FALSE"
    if sql_type == types.INTEGER and isinstance(value, int) and not isinstance(value, bool):
        return str(value) if value >= 0 else f"({value})"
    if sql_type == types.FLOAT and isinstance(value, float):
        if math.isfinite(value) and "e" not in repr(value):
            return repr(value) if value >= 0 else f"({value!r})"
        return f"CAST('{value!r}' AS FLOAT)"
    if sql_type == types.TEXT and isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if sql_type == types.DATE and type(value) is _dt.date:
        return f"DATE '{value.isoformat()}'"
    if sql_type == types.TIMESTAMP and isinstance(value, _dt.datetime) and value.tzinfo is None:
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if sql_type == types.TIMESTAMPTZ and isinstance(value, _dt.datetime) and \
            value.utcoffset() is not None:    # with its offset: the same instant in any zone
        return f"TIMESTAMPTZ '{value.isoformat(sep=' ')}'"
    if sql_type == types.INTERVAL and all(isinstance(getattr(value, f, None), int)
                                          for f in ("months", "days", "micros")):
        return (f"INTERVAL '{value.months} months {value.days} days "
                f"{value.micros} microseconds'")
    if sql_type == types.TIME and type(value) is _dt.time and value.tzinfo is None:
        return f"TIME '{value.isoformat()}'"
    if sql_type == types.BYTEA and isinstance(value, bytes):
        return f"CAST('\\x{value.hex()}' AS BYTEA)"
    if sql_type == types.UUID and isinstance(value, str) and _UUID.match(value):
        return f"CAST('{value}' AS UUID)"
    if sql_type in types.NETWORK_TYPES and isinstance(value, bytes) and \
            netaddr.valid_key(sql_type, value):     # the text that reads back as this key
        return f"CAST('{netaddr.as_text(sql_type, value)}' AS {sql_type})"
    if sql_type == types.MONEY and type(value) is int:
        return f"CAST('{types.money.format(value)}' AS MONEY)"
    if sql_type == types.NUMERIC and type(value) is bytes and types.numeric.valid(value):
        return f"CAST('{types.numeric.text_of(value)}' AS NUMERIC)"
    if sql_type == types.TIMETZ and type(value) is int and types.timetz.valid(value):
        return f"CAST('{types.timetz.format(value)}' AS TIMETZ)"
    if sql_type in types.BIT_TYPES and isinstance(value, str) and \
            all(c in "01" for c in value):            # B'..' keeps its length
        return f"B'{value}'" if sql_type == types.BIT else f"CAST(B'{value}' AS VARBIT)"
    if sql_type in (types.TSVECTOR, types.TSQUERY) and isinstance(value, str):
        # canonical text, which the shards' cast reads back to the same value
        return "CAST('" + value.replace("'", "''") + f"' AS {sql_type})"
    raise Unrenderable(f"constant {value!r} of type {sql_type}")


def _json_text(text: str) -> bool:
    """``text`` is json (kept as written)."""
    try:
        types.parse_json_text(text)
    except errors.Error:
        return False
    return True


def _canonical_json(text: str) -> bool:
    """``text`` is JSON in the engine's canonical form (what the binder makes of it)."""
    try:
        return types.parse_json(text) == text
    except errors.Error:   # not JSON at all: not rendered
        return False


def render(plan: L.LogicalNode, table_columns: TableColumns, names: list) -> str:
    """``plan`` as one SQL SELECT whose output columns are called ``names``."""
    r = _Renderer(table_columns)
    return r.select(r.node(plan), names)
