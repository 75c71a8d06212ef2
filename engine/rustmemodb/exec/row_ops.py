"""Row path for small inputs: scans, aggregates and joins over Python tuples.

Every Arrow operator costs 150-220 µs even on ten rows (DESIGN.md), so a filter,
GROUP BY or join over small tables paid more for the kernels' calls than for the
data. ``exec/fast_select.py`` compiles a SELECT's plan into row closures once per
cached plan; this module adds the operators a small query needs beyond index
lookups. Each closure checks the sizes it meets at run time: past
``SMALL_ROWS`` live rows in a scanned table (or a value the row code would treat
differently from the vectorised kernels: an int64 sum overflow, a NaN among
min/max or join keys) it raises ``TooMany`` and the session runs the generic
vectorised plan instead, so the two paths never disagree on an answer.
"""
from __future__ import annotations

import operator
import weakref
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable

from .. import numeric, types
from ..plan import logical as L
from ..plan.expr import Call, ColRef, Const, Expr, OuterRef, Param, SubqueryExpr
from ..plan.walk import map_expressions
from .expr.row import compile_row
from .jsonb_keys import hash_text

# Live rows in a scanned table up to which the row path runs (plan/logical.py).
SMALL_ROWS = L.SMALL_ROWS
_INT64 = (-(1 << 63), (1 << 63) - 1)


class Unsupported(Exception):
    """The plan has a shape the row path does not compile."""


class TooMany(Exception):
    """At run time: leave this statement to the vectorised path."""


def table_rows(version, width: int) -> list:
    """The live rows of a small table version (storage form), or raise TooMany. The list
    is shared (``_ROWS``): the caller must not change it."""
    if version.live_rows > SMALL_ROWS:
        raise TooMany()
    hit = _ROWS.get(id(version))
    if hit is not None and hit[0]() is version and hit[1] == width:
        return hit[2]
    out = _table_rows(version, width)
    if len(_ROWS) >= _ROWS_MAX:
        _ROWS.clear()
    _ROWS[id(version)] = (weakref.ref(version), width, out)
    return out


# id(table version) -> (weak reference to it, width, its live rows): a version is
# immutable, and a correlated subquery scans its table once per outer row (a file of
# small statements scans the same version once per statement). Bounded, and no version
# is kept alive by it.
_ROWS: dict = {}
_ROWS_MAX = 64


def _table_rows(version, width: int) -> list:
    if version.patches:
        version = version.settled()
    out: list = []
    for chunk, mask in zip(version.chunks, version.dead):
        rows = list(zip(*chunk.py_columns())) if width else [()] * len(chunk)
        if mask is not None:
            rows = [r for r, dead in zip(rows, mask.tolist()) if not dead]
        out.extend(rows)
    if version.tail_len:
        rows = version.tail.rows[: version.tail_len]
        if version.tail_dead:
            first = version.tail_rowid0
            dead = version.tail_dead
            rows = [r for i, r in enumerate(rows) if first + i not in dead]
        out.extend(rows)
    return out


def compile_scan(node: L.LogicalScan, row_fn):
    """A whole-table scan (no index) with its pushed-down filter and projection."""
    if node.with_rowid or node.index_lookup is not None:
        raise Unsupported()
    pred = row_fn(node.filter) if node.filter is not None else None
    proj = node.projection
    table = node.table

    def scan(ctx):
        version = ctx.root.tables[table]
        rows = table_rows(version, len(version.schema.columns))
        if pred is not None:
            p = ctx.params
            rows = [r for r in rows if pred(r, p) is True]
        if proj is not None:
            rows = [tuple([r[i] for i in proj]) for r in rows]
        elif pred is None:
            rows = list(rows)       # table_rows' list is shared
        return rows
    return scan


# ---- aggregates ---------------------------------------------------------------------------

def _nan_free(values) -> bool:
    return not any(type(v) is float and v != v for v in values)


def _count(values):
    return sum(1 for v in values if v is not None)


def _sum(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    total = sum(vals)
    if type(total) is int and not _INT64[0] <= total <= _INT64[1]:
        raise TooMany()     # the vectorised path raises the overflow error
    return total


def _avg(values):
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _extreme(pick):
    def agg(values):
        vals = [v for v in values if v is not None]
        if not vals:
            return None
        if not _nan_free(vals) or type(vals[0]) is list or len({type(v) for v in vals}) > 1:
            # NaN sorts above every number in SQL, arrays element by element, numerics
            # come as keys and as Decimals: leave them to the kernels
            raise TooMany()
        return pick(vals)
    return agg


_AGGREGATES = {"count": _count, "sum": _sum, "avg": _avg,
               "min": _extreme(min), "max": _extreme(max)}


def _group_value(v):
    """A grouping key as SQL compares floats: -0.0 is 0.0, and every NaN is one NaN."""
    if type(v) is float:
        if v != v:
            return _NAN
        if v == 0.0:
            return 0.0
    return v


_NAN = object()


def _jsonb_value(v):
    """A jsonb grouping key: its hash key (numbers in one form, as ``=`` compares)."""
    return v if v is None else hash_text(v)


def _key_parts(sql_types) -> list:
    return [_jsonb_value if t == types.JSON else _group_value for t in sql_types]


def _key_of(parts: list, key: tuple) -> tuple:
    return tuple([f(v) for f, v in zip(parts, key)])


def compile_aggregate(node: L.LogicalAggregate, child, row_fn):
    if node.grouping_sets is not None:
        raise Unsupported()
    if any(g.type == types.NUMERIC for g in node.groups):
        raise Unsupported()     # numerics group by value, not scale: the vector path
    groups = [row_fn(g) for g in node.groups]
    jsonb = types.JSON in [g.type for g in node.groups]
    parts = _key_parts([g.type for g in node.groups])
    aggs = []
    for a in node.aggregates:
        if a.distinct or a.filter is not None or a.order_by or a.extra or \
                (a.type in (types.INTERVAL, types.NUMERIC) and a.fn in ("sum", "avg")):
            raise Unsupported()
        fn = _AGGREGATES.get(a.fn)
        if fn is None or (not a.star and len(a.args) != 1):
            raise Unsupported()
        aggs.append((None if a.star else row_fn(a.args[0]), fn))

    def aggregate(ctx):
        rows = child(ctx)
        p = ctx.params
        if len(rows) > SMALL_ROWS:
            raise TooMany()
        buckets: dict = {}
        keys_of: dict = {}
        for r in rows:
            key = tuple([g(r, p) for g in groups])
            k = _key_of(parts, key) if jsonb else tuple(map(_group_value, key))
            members = buckets.get(k)
            if members is None:
                members = buckets[k] = []
                keys_of[k] = key
            members.append(r)
        if not groups and not buckets:
            buckets[()] = []
            keys_of[()] = ()
        out = []
        for k, members in buckets.items():
            values = []
            for arg, fn in aggs:
                if arg is None:
                    values.append(len(members))
                else:
                    values.append(fn([arg(r, p) for r in members]))
            out.append(keys_of[k] + tuple(values))
        return out
    return aggregate


def compile_distinct(node: L.LogicalDistinct, child):
    if node.on is not None or any(t == types.NUMERIC for _, t in node.columns):
        raise Unsupported()     # numerics are distinct by value, not scale: the kernels

    jsonb = types.JSON in node.types
    parts = _key_parts(node.types)

    def distinct(ctx):
        seen, out = set(), []
        for r in child(ctx):
            k = _key_of(parts, r) if jsonb else tuple(map(_group_value, r))
            if k not in seen:
                seen.add(k)
                out.append(r)
        return out
    return distinct


def compile_values(node: L.LogicalValues, row_fn):
    rows = [[row_fn(e) for e in row] for row in node.rows]
    return lambda ctx: [tuple([f((), ctx.params) for f in row]) for row in rows]


# ---- joins --------------------------------------------------------------------------------

def compile_join(node: L.LogicalJoin, left, right, row_fn):
    kind = node.kind
    if kind not in ("inner", "left", "right", "full", "cross", "semi", "anti") or any(
            le.type == types.NUMERIC for le, _ in node.equi_keys):
        raise Unsupported()     # numerics match by value, not scale: the kernels
    lkeys = [_jsonb_key(row_fn(le), le.type) for le, _ in node.equi_keys]
    rkeys = [_jsonb_key(row_fn(re_), le.type) for le, re_ in node.equi_keys]
    cond = row_fn(node.condition) if node.condition is not None else None
    lw, rw = len(node.left.columns), len(node.right.columns)
    lnull, rnull = (None,) * lw, (None,) * rw

    lkey, rkey = (_key_fn(lkeys), _key_fn(rkeys)) if rkeys else (None, None)
    plain = kind == "inner" and cond is None

    def join(ctx):
        lrows, rrows = left(ctx), right(ctx)
        if len(lrows) * max(1, len(rrows)) > SMALL_ROWS * 64:
            raise TooMany()
        p = ctx.params
        every = range(len(rrows))
        table: dict = {}
        if rkey is not None:     # the right rows by key: a probe per left row
            for j, rrow in enumerate(rrows):
                k = rkey(rrow, p)
                if k is not None:
                    hits = table.get(k)
                    if hits is None:
                        table[k] = [j]
                    else:
                        hits.append(j)
        out = []
        matched_right = set()
        for lrow in lrows:
            if rkey is None:
                candidates = every
            else:
                lk = lkey(lrow, p)
                candidates = table.get(lk, ()) if lk is not None else ()
            if plain:
                out.extend([lrow + rrows[j] for j in candidates])
                continue
            hit = False
            for j in candidates:
                both = lrow + rrows[j]
                if cond is not None and cond(both, p) is not True:
                    continue
                hit = True
                if kind in ("semi", "anti"):
                    break
                matched_right.add(j)
                out.append(both)
            if kind == "semi" and hit or kind == "anti" and not hit:
                out.append(lrow)
            elif not hit and kind in ("left", "full"):
                out.append(lrow + rnull)
        if kind in ("right", "full"):
            out.extend(lnull + rrow for j, rrow in enumerate(rrows) if j not in matched_right)
        return out
    return join


def _jsonb_key(fn, sql_type: str):
    """A join key function; a jsonb key as its hash key ({"a": 1.0} meets {"a": 1})."""
    if sql_type != types.JSON:
        return fn
    return lambda row, params: _jsonb_value(fn(row, params))


def _key_fn(fns):
    """fn(row, params) -> the row's join key (the value itself for one column, else a
    tuple), or None when a part is NULL (a NULL key matches nothing)."""
    def check(v):
        t = type(v)
        if t is float and (v != v or v == 0.0):
            raise TooMany()   # NaN = NaN and -0.0 = 0.0 in SQL: leave it to the kernels
        if t is list or t is dict:
            raise TooMany()   # arrays, JSON: not hashable; the kernels compare them

    if len(fns) == 1:
        f = fns[0]

        def one(r, p):
            v = f(r, p)
            if type(v) not in _PLAIN_KEYS:
                check(v)
            return v
        return one

    def many(r, p):
        out = tuple([f(r, p) for f in fns])
        for v in out:
            if v is None:
                return None
            if type(v) not in _PLAIN_KEYS:
                check(v)
        return out
    return many


_PLAIN_KEYS = frozenset((int, str, type(None), bool))


# ---- subqueries ---------------------------------------------------------------------------

class StatementParams(list):
    """A statement's parameter values, carrying what subquery closures need: the
    statement's context (its transaction) and the results of uncorrelated subqueries."""

    __slots__ = ("ctx", "memo", "work")

    def __init__(self, values, ctx) -> None:
        super().__init__(values)
        self.ctx = ctx
        self.memo: dict = {}
        self.work = 0


class _SubContext:
    """What a row-path subquery reads through: the statement's root (ExecContext.root)
    and the parameters."""
    __slots__ = ("root", "params")

    def __init__(self, root, params) -> None:
        self.root = root
        self.params = params


@dataclass(frozen=True, eq=False)
class RowSubquery(Expr):
    """A subquery compiled for the row path: ``row_fn`` is its row closure."""
    type: str
    row_fn: Callable = None
    source: Any = None


# Rows a statement's correlated subqueries may read in all before the vectorised path
# (one run per distinct outer key) is the better deal.
_SUBQUERY_WORK = SMALL_ROWS * 64


def compile_subquery(expr: SubqueryExpr, env, compile_rows) -> RowSubquery:
    """A scalar, EXISTS or IN subquery as a row closure. Its plan reads the outer row's
    correlated values as parameters placed after the statement's own; only one level
    (a subquery inside it is left to the vectorised path)."""
    if expr.kind not in ("scalar", "exists", "in"):
        raise Unsupported()
    base = env.n_params

    def outer_as_param(n):
        if isinstance(n, OuterRef):
            if n.depth != 1:
                raise Unsupported()
            return Param(base + n.index, n.type)
        if isinstance(n, (SubqueryExpr, RowSubquery)):
            raise Unsupported()
        return n

    rows_of = compile_rows(map_expressions(expr.plan, outer_as_param), env)
    corr = [compile_row(c) for c in expr.correlated]
    arg = compile_row(expr.arg) if expr.arg is not None else None
    kind, negated = expr.kind, expr.negated
    key = object()

    def rows_for(row, params):
        if not corr:
            hit = params.memo.get(key)
            if hit is None:
                hit = params.memo[key] = rows_of(_SubContext(params.ctx.root, params))
            return hit
        inner = StatementParams(params + [f(row, params) for f in corr], params.ctx)
        out = rows_of(_SubContext(params.ctx.root, inner))
        params.work += len(out) + 1
        if params.work > _SUBQUERY_WORK:
            raise TooMany()
        return out

    if kind == "scalar":
        def scalar(row, params):
            rows = rows_for(row, params)
            if len(rows) > 1:
                raise TooMany()          # the vectorised path raises 21000
            return rows[0][0] if rows else None
        counted = _counting(expr, corr, scalar)
        return RowSubquery(expr.type, counted or scalar, expr)

    if kind == "exists":
        def exists(row, params):
            found = bool(rows_for(row, params))
            return not found if negated else found
        counted = _existing(expr, corr, exists)
        return RowSubquery(expr.type, counted or exists, expr)

    # numerics are equal by value whatever their scales or forms (keys, Decimals)
    numbers = expr.arg is not None and expr.arg.type == types.NUMERIC
    # jsonb documents by their hash keys ({"a": 1.0} IN (SELECT '{"a": 1}'))
    documents = expr.arg is not None and expr.arg.type == types.JSON

    def in_(row, params):
        values = [r[0] for r in rows_for(row, params)]
        if not values:
            return negated
        x = arg(row, params)
        if numbers and x is not None:
            x = numeric.key_value(x)
            values = [None if v is None else numeric.key_value(v) for v in values]
        elif documents and x is not None:
            x = hash_text(x)
            values = [_jsonb_value(v) for v in values]
        if type(x) is float and x != x or not _nan_free(values):
            raise TooMany()
        if x is None:
            return None
        if any(v is x or v == x for v in values if v is not None):   # (NaN: one NAN)
            return not negated
        return None if any(v is None for v in values) else negated
    return RowSubquery(expr.type, in_, expr)


# ---- count(*) under one inequality ----------------------------------------------------------

# column OP outer value -> how many of the sorted values ``vals`` satisfy it, for ``k``
_COUNTS = {
    "lt": lambda vals, k: bisect_left(vals, k),
    "le": lambda vals, k: bisect_right(vals, k),
    "gt": lambda vals, k: len(vals) - bisect_right(vals, k),
    "ge": lambda vals, k: len(vals) - bisect_left(vals, k),
}
_FLIPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}


def _counting(expr: SubqueryExpr, corr: list, general):
    """For ``(SELECT count(*) FROM t WHERE t.c1 OP outer.x [AND t.c2 OP outer.y ...])``
    with each OP one of < <= > >= between INTEGER or FLOAT values of one type: a closure
    that sorts the rows by the first condition's column once per statement run, finds
    the rows meeting that condition by binary search and tests the others on those
    alone, instead of running the filter's closures over every row per outer row; or
    None for any other subquery. NULL on either side meets no condition (a NULL outer
    value counts 0), as the scan's filter would; a NaN (which SQL sorts above every
    number) leaves that run to ``general``."""
    plan = expr.plan
    if type(plan) is L.LogicalProject:
        if len(plan.exprs) != 1 or type(plan.exprs[0]) is not ColRef \
                or plan.exprs[0].index != 0:
            return None
        plan = plan.child
    if type(plan) is not L.LogicalAggregate or plan.groups or plan.grouping_sets is not None \
            or len(plan.aggregates) != 1:
        return None
    agg = plan.aggregates[0]
    if agg.fn != "count" or not agg.star or agg.distinct or agg.filter is not None \
            or agg.order_by or agg.extra:
        return None
    return _count_fn(plan.child, corr, general, None)


def _existing(expr: SubqueryExpr, corr: list, general):
    """``EXISTS (SELECT <constants> FROM t WHERE <inequalities as _counting's>)``: the
    rows meeting the conditions counted as ``_counting`` counts them (never NULL)."""
    plan = expr.plan
    if type(plan) is L.LogicalProject:
        if any(type(e) is not Const for e in plan.exprs):
            return None     # the select list is evaluated by the scan: left to it
        plan = plan.child
    return _count_fn(plan, corr, general, expr.negated)


def _count_fn(scan, corr: list, general, negated):
    """The counting closure of ``_counting`` over ``scan`` (or None when its filter is
    not an AND of inequalities); ``negated``: None for the count itself, else the
    closure answers EXISTS (False) or NOT EXISTS (True)."""
    if type(scan) is not L.LogicalScan or scan.with_rowid or scan.index_lookup is not None \
            or scan.projection is not None or scan.filter is None:
        return None
    conds = []      # (column, op, outer slot)
    todo = [scan.filter]
    while todo:
        cond = todo.pop()
        if type(cond) is not Call or len(cond.args) != 2 or len(conds) > 4:
            return None
        if cond.fn == "and":
            todo.append(cond.args[1])
            todo.append(cond.args[0])
            continue
        op = cond.fn
        if op not in _COUNTS:
            return None
        left, right = cond.args
        if type(left) is OuterRef and type(right) is ColRef:
            left, right, op = right, left, _FLIPPED[op]
        if type(left) is not ColRef or type(right) is not OuterRef or right.depth != 1 \
                or left.type != right.type or left.type not in (types.INTEGER, types.FLOAT) \
                or not 0 <= right.index < len(corr):
            return None
        conds.append((left.index, op, right.index))
    column, op, slot = conds[0]
    table, count, outer = scan.table, _COUNTS[op], corr[slot]
    rest = [(c, _TESTS[o], corr[s]) for c, o, s in conds[1:]]
    side = _SIDES[op]
    key = object()

    def counted(row, params):
        memo = params.memo
        got = memo.get(key)
        if got is None:
            version = params.ctx.root.tables[table]
            rows = [r for r in table_rows(version, len(version.schema.columns))
                    if r[column] is not None]
            rows.sort(key=itemgetter(column))
            vals = [r[column] for r in rows]
            if any(type(v) is float and v != v for r in rows
                   for v in [r[column]] + [r[c] for c, _, _ in rest]):
                got = False
            else:
                got = (vals, [[r[c] for r in rows] for c, _, _ in rest])
            memo[key] = got
        k = outer(row, params)
        if got is False or type(k) is float and k != k:
            return general(row, params)
        if k is None:
            n = 0
        elif not rest:
            n = count(got[0], k)
        else:
            n = _count_rest(got, k, rest, side, row, params)
            if n is None:
                return general(row, params)
        if negated is None:
            return n
        return (n == 0) if negated else (n > 0)
    return counted


def _count_rest(got, k, rest, side, row, params):
    """The rows meeting the first condition (by binary search) and the others (tested),
    or None for a NaN outer value."""
    vals, others = got
    ks = []
    for _, _, f in rest:
        v = f(row, params)
        if v is None:
            return 0
        if type(v) is float and v != v:
            return None
        ks.append(v)
    lo, hi = side(vals, k)
    if len(rest) == 1:
        test, k2 = rest[0][1], ks[0]
        return sum(1 for v in others[0][lo:hi] if v is not None and test(v, k2))
    return sum(1 for i in range(lo, hi)
               if all(col[i] is not None and t(col[i], kv)
                      for col, (_, t, _), kv in zip(others, rest, ks)))


# op -> the slice [lo, hi) of the sorted values meeting ``value OP k``
_SIDES = {
    "lt": lambda vals, k: (0, bisect_left(vals, k)),
    "le": lambda vals, k: (0, bisect_right(vals, k)),
    "gt": lambda vals, k: (bisect_right(vals, k), len(vals)),
    "ge": lambda vals, k: (bisect_left(vals, k), len(vals)),
}
_TESTS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge}
