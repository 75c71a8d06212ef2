"""Split the engine's own bound and optimized plan into per-shard partials and a merge.

The coordinator binds and optimizes a SELECT on its schema mirror exactly as the single
engine would (``bind_and_optimize``), index selection left out: an index lookup is a
choice each shard makes over its own rows. This module then walks that plan:

* **where rows stay local** (``placement``): a scan of a hash-partitioned table is
  partitioned; of a REPLICATED table, whole on every shard; a join keeps its inputs'
  placement when they are partitioned on the same key column of one type and joined on
  it (an equi-key of the optimizer's; or on the computed key an exchange placed both
  by, ``planexchange.py``), or when the side that may lose or gain NULL rows
  is the partitioned one and the other is replicated; filters and projections keep
  their input's; so does an aggregate grouped by the partition key (or a DISTINCT of
  rows holding it): its groups are whole on one shard. Any other node needs rows from
  every shard.
* **the cut**: the highest node whose subtree is local. Above it the plan needs every
  shard's rows, so the cut's output is what each shard computes: the **partial**. The
  node right above the cut is pushed down where it can be, in part: an Aggregate as a
  partial aggregate (COUNT/SUM/MIN/MAX/BOOL_* as themselves, AVG as a float sum and a
  count, STDDEV/VARIANCE as count, sum and sum of squares, corr/covar_*/regr_* as the
  pair count, sums and centred sums of each shard (``_pair_partials``), DISTINCT
  aggregates by grouping the partial by their argument too; GROUPING SETS, ROLLUP and
  CUBE by grouping the partial by every key and computing each set in the merge, where
  a set without a key combines the partials of all its groups; arg_max/arg_min as each
  shard's winner and the value it won by); a DISTINCT ON over its Sort as each shard's
  first rows per key; a Sort under a LIMIT as the top
  LIMIT + OFFSET rows of each shard; a LIMIT without a Sort as LIMIT + OFFSET rows; a
  DISTINCT as itself. Windows partitioned by the partition key are local too; other
  windows only above an aggregate (over the merged groups).
* **the merge** is the plan above the cut over a scan of the gathered partials
  (``__partials``): the aggregate's merged forms rebuilt in the original aggregate's
  output layout, so every node above it (HAVING, the select list, ORDER BY, LIMIT) is
  the optimizer's own, unchanged.

Both halves are rendered as SQL (``render.py``: nothing but text crosses to a shard)
and each rendering is checked by binding it again: same output types, same set of
operations and constants. Anything this does not cover raises ``NotSplit``; the caller
then uses the SQL-level split (``split.py``) or the other strategies. A join whose
inputs are not co-partitioned is made local first by ``planexchange.py`` (its inputs
repartitioned by the join key or the small one broadcast), and split over the result.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from .. import numeric_arrays, types
from ..database import Database
from ..plan import logical as L
from ..plan.walk import map_children
from ..plan.aggregates import PAIR_EXTREMES, PAIR_STATISTICS
from ..plan.expr import (
    AggCall,
    Call,
    Case,
    Cast,
    ColRef,
    Const,
    InList,
    WindowCall,
    is_volatile,
    make_call,
)
from ..sql import params as placeholders
from ..sql.plan_cache import Prepared
from .held import HELD_PREFIX
from .render import Unrenderable, quote, render
from .split import PARTIALS

F, I, NU = types.FLOAT, types.INTEGER, types.NUMERIC
# Index choice needs the rows: each shard makes it when it optimizes its partial.
SHARD_DECIDES = frozenset({"use_index", "use_index_join"})
_SIMPLE = ("sum", "min", "max", "bool_and", "bool_or", "every")
_SPREAD = {"stddev": (True, False), "stddev_samp": (True, False), "stddev_pop": (True, True),
           "variance": (False, False), "var_samp": (False, False), "var_pop": (False, True)}
_PASS = (L.LogicalProject, L.LogicalFilter, L.LogicalSort, L.LogicalLimit,
         L.LogicalDistinct, L.LogicalDistinctOn, L.LogicalAggregate, L.LogicalWindow)


class NotSplit(Exception):
    """The plan is outside what the plan-level split covers."""


class AggregateNotSplit(NotSplit):
    """An aggregate with no partial form (an ordered string_agg, a percentile, ...): its
    rows can still be repartitioned by a group key (``planexchange.place_grouping``)."""


@dataclass
class PlanSplit:
    partial: L.LogicalNode      # the fragment every shard runs
    merge: L.LogicalNode        # the rest, over a scan of __partials
    kind: str                   # aggregate | top-k | scan
    partial_sql: str
    merge_sql: str
    keys: list                  # the partial's group key columns (names)
    in_place: tuple = ()        # partitioned tables joined on their key on each shard
    windows: str | None = None  # windows on the shards: what keeps their partitions whole
    sides: list = field(default_factory=list)   # exchanges run first (planexchange.py)


@dataclass(frozen=True)
class _Placed:
    """Rows of a subtree: whole on every shard, or partitioned (``keys``: output
    positions holding the single partition key column, by SQL type; ``computed``: the
    key expressions, over the output, an exchange placed the rows by)."""
    replicated: bool
    keys: tuple = ()            # ((position, sql type), ...)
    computed: tuple = ()        # (expression, ...): the very objects of a join's equi-key


def bind_and_optimize(conn, sql: str) -> L.LogicalNode:
    """The optimized logical plan of SELECT ``sql`` on ``conn``'s (mirror) session."""
    from ..optimize import FLAT, SMALL_TABLE_SHORTCUT, optimize
    session = conn._session
    ph = placeholders.normalize(sql)
    root = session._catalog_root()
    bound, _ = session._parse_and_bind(ph, root, None)
    if isinstance(bound, Prepared) or bound.plan is None or bound.kind != "SELECT":
        raise NotSplit("not a query")
    off = SHARD_DECIDES | {SMALL_TABLE_SHORTCUT}
    return _held_as_scans(optimize(bound.plan, root,
                                   disabled=off if bound.nested else off | FLAT))


def _held_as_scans(plan: L.LogicalNode) -> L.LogicalNode:
    """``plan`` with its reads of statement tables (``held.py``: Arrow tables the mirror
    registered, empty there) as scans of the sharded tables they stand for."""
    if isinstance(plan, L.LogicalArrowScan) and plan.name.startswith(HELD_PREFIX):
        return L.LogicalScan(list(plan.columns), plan.name)
    return map_children(plan, _held_as_scans)


def split_plan(plan: L.LogicalNode, catalog: dict) -> PlanSplit:
    """Partial and merge of ``plan`` over the cluster tables of ``catalog``."""
    placed = _Placement(catalog)
    path, node = [], plan
    while placed(node) is None:
        if not isinstance(node, _PASS):
            raise NotSplit(type(node).__name__)
        if isinstance(node, L.LogicalAggregate):
            if placed(node.child) is None:
                raise NotSplit("an aggregate over rows from several shards")
            return _aggregate(path, node, placed)
        path.append(node)
        node = node.child
    if placed(node).replicated:
        raise NotSplit("reads only replicated tables")
    if any(isinstance(n, L.LogicalWindow) for n in path):
        # Windows over rows of several shards: the SQL-level strategies gather only
        # the columns they read, and only each shard's first rows under a LIMIT.
        raise NotSplit("windows over rows from several shards")
    kind, partial, up = "scan", node, len(path) - 1
    if up >= 0 and isinstance(path[up], L.LogicalDistinct) and path[up].on is None:
        partial, up = path[up], up - 1          # DISTINCT on each shard, then again
    above = path[up] if up >= 0 else None
    if isinstance(above, L.LogicalSort) and up > 0 and \
            isinstance(path[up - 1], L.LogicalDistinctOn):
        # DISTINCT ON: each shard's first row per key in the sort order, then the first
        # of those; a LIMIT over it keeps that many of them on each shard too
        kind = "distinct-on"
        partial = replace(path[up - 1], child=replace(above, child=partial))
        if up > 1 and isinstance(path[up - 2], L.LogicalLimit) and \
                _top(path[up - 2]) is not None:
            partial = _limited(partial, path[up - 2])
    elif isinstance(above, L.LogicalSort) and up > 0 and \
            isinstance(path[up - 1], L.LogicalLimit) and _top(path[up - 1]) is not None:
        kind = "top-k"                          # each shard's first LIMIT + OFFSET rows
        partial = _limited(replace(above, child=partial), path[up - 1])
    elif isinstance(above, L.LogicalLimit) and _top(above) is not None:
        partial = _limited(partial, above)
    names = [f"c{i}" for i in range(len(partial.columns))]
    partial = _renamed(partial, names)
    scan = L.LogicalScan(list(partial.columns), PARTIALS)
    merge = _rebuild(path, scan)
    return _finish(partial, merge, kind, [], catalog)


def _top(limit: L.LogicalLimit) -> int | None:
    """LIMIT + OFFSET of a constant LIMIT (the rows each shard must keep), else None."""
    def value(e):
        if e is None:
            return 0
        if isinstance(e, Const) and isinstance(e.value, int) and e.value >= 0:
            return e.value
        return None
    n, m = value(limit.limit), value(limit.offset)
    if limit.limit is None or n is None or m is None:
        return None
    return n + m


def _limited(node: L.LogicalNode, limit: L.LogicalLimit) -> L.LogicalNode:
    return L.LogicalLimit(list(node.columns), node, Const(_top(limit), I), None)


def _renamed(node: L.LogicalNode, names: list) -> L.LogicalNode:
    return replace(node, columns=[(n, t) for n, (_, t) in zip(names, node.columns)])


def _rebuild(path: list, base: L.LogicalNode) -> L.LogicalNode:
    """The nodes of ``path`` (top first) again, the last one reading ``base``."""
    out = base
    for node in reversed(path):
        out = replace(node, child=out)
    return out


# ---- where rows are ---------------------------------------------------------------------

class _Placement:
    def __init__(self, catalog: dict) -> None:
        self.catalog = catalog
        self.memo: dict[int, _Placed | None] = {}

    def __call__(self, node: L.LogicalNode) -> _Placed | None:
        key = id(node)
        if key not in self.memo:
            self.memo[key] = self.place(node)
        return self.memo[key]

    def place(self, node: L.LogicalNode) -> _Placed | None:
        if isinstance(node, L.LogicalScan):
            info = self.catalog.get(node.table)
            if info is None or node.with_rowid:
                return None
            if info.replicated:
                return _Placed(True)
            computed = getattr(info, "computed", None)
            if computed is not None:
                # An exchange's input placed by a computed key (planexchange.py): its
                # last column, read by no one; the others are the moved rows'.
                whole = node.projection is None or \
                    list(node.projection) == list(range(len(info.columns) - 1))
                return _Placed(False, (), (computed,) if whole else ())
            if len(info.key) != 1:
                return _Placed(False)
            at = info.columns.index(info.key[0])
            keep = node.projection if node.projection is not None else \
                list(range(len(info.columns)))
            return _Placed(False, tuple((i, node.columns[i][1]) for i, p in enumerate(keep)
                                        if p == at))
        if isinstance(node, L.LogicalFilter):
            return self(node.child)
        if isinstance(node, L.LogicalProject):
            inner = self(node.child)
            if inner is None or inner.replicated:
                return inner
            keys = tuple((i, t) for i, e in enumerate(node.exprs) for k, t in inner.keys
                         if isinstance(e, ColRef) and e.index == k)
            return _Placed(False, keys)
        if isinstance(node, L.LogicalJoin):
            return self.join(node)
        if isinstance(node, L.LogicalWindow):
            # Every window partitioned by the partition key: each partition is whole on
            # one shard, so the shard computes the final values (the input's columns
            # keep their positions).
            inner = self(node.child)
            if inner is None or inner.replicated:
                return inner
            at = {k for k, _ in inner.keys}
            if all(isinstance(f, WindowCall) and any(
                    isinstance(p, ColRef) and p.index in at for p in f.partition)
                    for f in node.functions):
                return inner
            return None
        if isinstance(node, L.LogicalAggregate) and node.grouping_sets is None or \
                isinstance(node, L.LogicalDistinct) and node.on is None:
            # Grouped by the partition key (DISTINCT rows holding it): every group is
            # whole on one shard, so the shard's groups are the final ones.
            inner = self(node.child)
            if inner is None or inner.replicated:
                return inner
            groups = node.groups if isinstance(node, L.LogicalAggregate) else \
                [ColRef(i, t) for i, (_, t) in enumerate(node.columns)]
            keys = tuple((i, t) for i, g in enumerate(groups) for k, t in inner.keys
                         if isinstance(g, ColRef) and g.index == k)
            return _Placed(False, keys) if keys else None
        return None

    def join(self, node: L.LogicalJoin) -> _Placed | None:
        left, right = self(node.left), self(node.right)
        if left is None or right is None:
            return None
        kind, width = node.kind, len(node.left.columns)
        shifted = tuple((i + width, t) for i, t in right.keys)
        if left.replicated and right.replicated:
            return left
        if right.replicated:   # every left row meets all right rows on its own shard
            return left if kind in ("inner", "cross", "left", "semi", "anti") else None
        if left.replicated:
            return _Placed(False, shifted) if kind in ("inner", "cross", "right") else None
        lk, rk = dict(left.keys), dict(right.keys)

        def on_key(e, where, at) -> bool:
            return any(e is c for c in where.computed) or \
                isinstance(e, ColRef) and e.index in at and at[e.index] == e.type
        linked = any(a.type == b.type and on_key(a, left, lk) and on_key(b, right, rk)
                     for a, b in node.equi_keys)
        if not linked or kind not in ("inner", "left", "right", "full", "semi", "anti"):
            return None
        keys = {"inner": left.keys + shifted, "left": left.keys, "right": shifted,
                "full": (), "semi": left.keys, "anti": left.keys}[kind]
        return _Placed(False, keys)


# ---- aggregates -------------------------------------------------------------------------

def _aggregate(path: list, agg: L.LogicalAggregate, placed: _Placement) -> PlanSplit:
    groups = list(agg.groups)
    distinct_args: list = []
    partials: list[AggCall] = []
    merges: list[AggCall] = []
    g = len(groups)

    def partial(call: AggCall) -> int:
        """Index of ``call`` among the partial aggregates (their columns follow the group
        keys and the DISTINCT arguments, whose number is known only at the end)."""
        partials.append(call)
        return len(partials) - 1

    def merged(fn: str, at: int, sql_type: str, distinct: bool = False) -> int:
        merges.append(AggCall(fn, (("p", at, sql_type),), sql_type, distinct=distinct))
        return len(merges) - 1

    recon = []   # per original aggregate: how to rebuild it from the merged aggregates
    for a in agg.aggregates:
        if not isinstance(a, AggCall) or a.order_by or a.extra:
            raise AggregateNotSplit(f"aggregate {a}")
        arg_type = a.args[0].type if a.args else None
        if a.fn == "grouping":      # which set a row is of: known to the merge alone
            merges.append(replace(a, args=tuple(("k", groups.index(x), x.type)
                                                for x in a.args)))
            recon.append(("same", len(merges) - 1))
        elif a.distinct:
            if a.fn not in ("count", "sum", "avg", "min", "max") or a.filter is not None \
                    or len(a.args) != 1:
                raise AggregateNotSplit(f"aggregate {a}")
            if a.args[0] not in distinct_args:
                distinct_args.append(a.args[0])
            at = ("d", distinct_args.index(a.args[0]), arg_type)
            merges.append(AggCall(a.fn, (at,), a.type, distinct=True))
            recon.append(("same", len(merges) - 1))
        elif a.fn == "count":
            recon.append(("count", merged("sum", partial(a), I)))
        elif a.fn in _SIMPLE:
            recon.append(("same", merged(a.fn, partial(a), a.type)))
        elif a.fn == "avg" and arg_type in (I, F, NU):
            # numeric (of integers and numerics): exact partial sums of numerics, merged
            # and divided as numeric_avg divides; float8: float sums
            st = NU if a.type == NU else F
            x = a.args[0] if arg_type == st else Cast(a.args[0], st)
            s = merged("sum", partial(AggCall("sum", (x,), st, filter=a.filter)), st)
            c = merged("sum", partial(AggCall("count", a.args, I, filter=a.filter)), I)
            recon.append(("avg", s, c))
        elif a.fn in _SPREAD and a.type == NU and arg_type in (I, NU):
            # numeric (of integers and numerics): the count and exact numeric sums of x
            # and x*x, finished as PostgreSQL's numeric_stddev_internal (spread_merge)
            x = a.args[0] if arg_type == NU else Cast(a.args[0], NU)
            n = merged("sum", partial(AggCall("count", a.args, I, filter=a.filter)), I)
            s = merged("sum", partial(AggCall("sum", (x,), NU, filter=a.filter)), NU)
            q = merged("sum", partial(AggCall("sum", (make_call("mul", [x, x]),), NU,
                                              filter=a.filter)), NU)
            recon.append(("numeric_spread", a.fn, n, s, q))
        elif a.fn in _SPREAD and arg_type == F:
            x = _as_float(a.args[0])
            n = merged("sum", partial(AggCall("count", a.args, I, filter=a.filter)), I)
            s = merged("sum", partial(AggCall("sum", (x,), F, filter=a.filter)), F)
            q = merged("sum", partial(AggCall("sum", (make_call("mul", [x, x]),), F,
                                              filter=a.filter)), F)
            recon.append(("spread", a.fn, n, s, q))
        elif a.fn in PAIR_EXTREMES and len(a.args) == 2:
            # each shard's winner and the value it won by (over the rows arg_max reads:
            # neither argument NULL), then the winner among those
            arg, val = a.args
            both = [make_call("not", [make_call("is_null", [x])]) for x in (arg, val)]
            won = AggCall("max" if a.fn == "arg_max" else "min", (val,), val.type,
                          filter=_conj(([a.filter] if a.filter is not None else []) + both))
            w = partial(a)
            v = partial(won)
            merges.append(AggCall(a.fn, (("p", w, a.type), ("p", v, val.type)), a.type))
            recon.append(("same", len(merges) - 1))
        elif a.fn in PAIR_STATISTICS and len(a.args) == 2 and \
                all(x.type in (I, F) for x in a.args):
            recon.append(("pairs", a.fn) + _pair_partials(a, partial, merged, merges))
        else:
            raise AggregateNotSplit(f"aggregate {a}")
    if not groups and not distinct_args and not partials:
        raise NotSplit("an aggregate of nothing")
    nd = len(distinct_args)
    key_names = [f"k{i}" for i in range(g)] + [f"d{i}" for i in range(nd)]
    cols = [(n, e.type) for n, e in zip(key_names, groups + distinct_args)] + \
        [(f"a{i}", p.type) for i, p in enumerate(partials)]
    part = L.LogicalAggregate(cols, agg.child, groups + distinct_args, partials)

    def ref(slot) -> ColRef:
        kind, i, sql_type = slot
        at = i if kind == "k" else g + i if kind == "d" else g + nd + i
        return ColRef(at, sql_type, cols[at][0])

    scan = L.LogicalScan(list(cols), PARTIALS)
    merge_aggs = [replace(m, args=tuple(s(ref) if callable(s) else ref(s) for s in m.args))
                  for m in merges]
    # GROUPING SETS / ROLLUP / CUBE: the shards group by every key (the finest sets'
    # groups); each set is then computed from those partials, as every merged aggregate
    # combines partials of any grouping
    merge_agg = L.LogicalAggregate(
        [(n, t) for n, t in cols[:g]] + [(f"m{i}", m.type) for i, m in enumerate(merge_aggs)],
        scan, [ColRef(i, cols[i][1], cols[i][0]) for i in range(g)], merge_aggs,
        grouping_sets=agg.grouping_sets)
    out = [ColRef(i, cols[i][1], cols[i][0]) for i in range(g)]
    for r, want in zip(recon, agg.columns[g:]):
        out.append(_rebuilt(r, merge_agg, g, want[1]))
    project = L.LogicalProject(list(agg.columns), merge_agg, out)
    merge = _rebuild(path, project)
    # Windows over the merged groups see all of them: such a merge runs whole on the
    # coordinator, never repartitioned by the group keys onto the shards.
    # So does a merge of grouping sets: a set without a key needs every group of it.
    windows = any(isinstance(n, L.LogicalWindow) for n in path)
    # A jsonb key is not placed by hash either: equal documents ({"a": 1.0}, {"a": 1})
    # are not equal texts (shuffle.HASHABLE), so their partials merge on the coordinator.
    documents = any(t == types.JSON for _, t in cols[:g])
    keys = [] if windows or documents or agg.grouping_sets is not None else \
        [f"k{i}" for i in range(g)]
    return _finish(part, merge, "aggregate", keys, placed.catalog)


def _pair_partials(a: AggCall, partial, merged, merges: list) -> tuple:
    """corr, covar_* and regr_* of (Y, X) from mergeable partial states, PostgreSQL's
    float8_regr_combine generalised to any number of partials: per shard and group the
    pair count n, the sums sx, sy and the centred sums sxx, syy, sxy (the engine's own
    regr_* aggregates, Youngs-Cramer); merged as N = sum(n), Sx = sum(sx), and
    Sxx = sum(sxx) + sum(sx * sx / n) - Sx * Sx / N (the spread of the partials' means
    about the whole mean; exactly 0 when every partial's mean is the same), likewise
    Syy and Sxy. Returns the merged aggregates' indexes the final function reads."""
    y, x = a.args
    both = [make_call("not", [make_call("is_null", [v])]) for v in (y, x)]   # as bound
    pair = _conj(([a.filter] if a.filter is not None else []) + both)
    n = partial(AggCall("regr_count", a.args, I, filter=a.filter))
    sx = partial(AggCall("sum", (_as_float(x),), F, filter=pair))
    sy = partial(AggCall("sum", (_as_float(y),), F, filter=pair))
    sxx, syy, sxy = (partial(AggCall(fn, a.args, F, filter=a.filter))
                     for fn in ("regr_sxx", "regr_syy", "regr_sxy"))

    def spread(u: int, v: int):
        """sum(u * v / n) over the partials (their means' products, weighted)."""
        def build(ref):
            cnt = ref(("p", n, I))
            return make_call("div", [make_call("mul", [ref(("p", u, F)), ref(("p", v, F))]),
                                     make_call("nullif", [cnt, Const(0, I)])])
        merges.append(AggCall("sum", (build,), F))
        return len(merges) - 1

    def mean(u: int, fn: str):
        def build(ref):
            return make_call("div", [ref(("p", u, F)),
                                     make_call("nullif", [ref(("p", n, I)), Const(0, I)])])
        merges.append(AggCall(fn, (build,), F))
        return len(merges) - 1
    return (merged("sum", n, I), merged("sum", sx, F), merged("sum", sy, F),
            merged("sum", sxx, F), merged("sum", syy, F), merged("sum", sxy, F),
            spread(sx, sx), spread(sy, sy), spread(sx, sy),
            mean(sx, "min"), mean(sx, "max"), mean(sy, "min"), mean(sy, "max"))


def _conj(parts: list):
    out = parts[0]
    for p in parts[1:]:
        out = make_call("and", [out, p])
    return out


def _pairs_final(fn: str, m, slots: tuple):
    """The final function of a pair statistic over the merged states (PostgreSQL's
    float8_corr, float8_regr_slope, ...), as ``aggregate_pairs.finish`` computes it."""
    (n, sx, sy, a, b, c, pxx, pyy, pxy, x_lo, x_hi, y_lo, y_hi) = (m(i) for i in slots)
    zero = Const(0.0, F)
    if fn == "regr_count":
        return make_call("coalesce", [n, Const(0, I)])

    def call(name, *args):
        return make_call(name, list(args))

    def between(p, s1, s2, same):
        # the spread of the partials' means about the whole mean (0 when all are one)
        return Case(((same, zero),), call("sub", p, call("div", call("mul", s1, s2), n)), F)
    same_x, same_y = call("eq", x_lo, x_hi), call("eq", y_lo, y_hi)
    sxx = call("greatest", call("add", a, between(pxx, sx, sx, same_x)), zero)
    syy = call("greatest", call("add", b, between(pyy, sy, sy, same_y)), zero)
    sxy = call("add", c, between(pxy, sx, sy, call("or", same_x, same_y)))
    one = Const(1, I)
    if fn == "regr_sxx":
        cond, v = call("ge", n, one), sxx
    elif fn == "regr_syy":
        cond, v = call("ge", n, one), syy
    elif fn == "regr_sxy":
        cond, v = call("ge", n, one), sxy
    elif fn == "regr_avgx":
        cond, v = call("ge", n, one), call("div", sx, n)
    elif fn == "regr_avgy":
        cond, v = call("ge", n, one), call("div", sy, n)
    elif fn == "covar_pop":
        cond, v = call("ge", n, one), call("div", sxy, n)
    elif fn == "covar_samp":
        cond, v = call("ge", n, Const(2, I)), call("div", sxy, call("sub", n, one))
    elif fn == "corr":
        cond = call("and", call("ge", n, one), call("and", call("ne", sxx, zero),
                                                    call("ne", syy, zero)))
        v = call("div", sxy, call("sqrt", call("mul", sxx, syy)))
    elif fn == "regr_r2":
        cond = call("and", call("ge", n, one), call("ne", sxx, zero))
        v = Case(((call("eq", syy, zero), Const(1.0, F)),),
                 call("div", call("mul", sxy, sxy), call("mul", sxx, syy)), F)
    elif fn in ("regr_slope", "regr_intercept"):
        cond = call("and", call("ge", n, one), call("ne", sxx, zero))
        v = call("div", sxy, sxx) if fn == "regr_slope" else \
            call("div", call("sub", sy, call("div", call("mul", sx, sxy), sxx)), n)
    else:
        raise NotSplit(f"aggregate {fn}")
    return Case(((cond, v),), None, F)


def _as_float(x):
    return x if x.type == F else Cast(x, F)


def _rebuilt(r: tuple, merge_agg: L.LogicalAggregate, g: int, sql_type: str):
    def m(i: int) -> ColRef:
        return ColRef(g + i, merge_agg.columns[g + i][1], merge_agg.columns[g + i][0])
    if r[0] == "same":
        return m(r[1])
    if r[0] == "count":
        return make_call("coalesce", [m(r[1]), Const(0, I)])
    if r[0] == "pairs":
        return _pairs_final(r[1], m, r[2:])
    if r[0] == "avg":
        return make_call("div", [m(r[1]), make_call("nullif", [m(r[2]), Const(0, I)])])
    if r[0] == "numeric_spread":
        return make_call("spread_merge", [Const(r[1], types.TEXT), m(r[2]), m(r[3]),
                                          m(r[4])])
    _, fn, n, s, q = r
    root, pop = _SPREAD[fn]
    n, s, q = m(n), m(s), m(q)
    denom = n if pop else make_call("sub", [n, Const(1, I)])
    spread = make_call("sub", [q, make_call("div", [make_call("mul", [s, s]), n])])
    var = make_call("greatest", [make_call("div", [spread, denom]), Const(0.0, F)])
    body = make_call("sqrt", [var]) if root else var
    cond = make_call("gt", [n, Const(0 if pop else 1, I)])
    out = Case(((cond, body),), None, F)
    if sql_type != F:
        raise NotSplit(f"{fn} of type {sql_type}")
    return out


# ---- rendering and its check -------------------------------------------------------------

def _finish(partial: L.LogicalNode, merge: L.LogicalNode, kind: str, keys: list,
            catalog: dict) -> PlanSplit:
    names = [n for n, _ in partial.columns]

    def columns(table: str) -> list:
        if table == PARTIALS:
            return names
        return list(catalog[table].columns)
    if any(is_volatile(e) for e in _expressions(partial)):
        # random() & co. on every shard would not be the single engine's sequence
        raise NotSplit("a volatile function")
    scanned = [n.table for n in _nodes(partial) if isinstance(n, L.LogicalScan)
               and not catalog[n.table].replicated]
    joined = any(isinstance(n, L.LogicalJoin) for n in _nodes(partial))
    try:
        partial_sql = render(partial, columns, names)
        merge_sql = render(merge, columns, [f"c{i}" for i in range(len(merge.columns))])
    except Unrenderable as exc:
        raise NotSplit(f"not rendered: {exc}") from exc
    windows = None
    if any(isinstance(n, L.LogicalWindow) for n in _nodes(partial)):
        keyed = [catalog[t].key[0] for t in scanned if len(catalog[t].key) == 1]
        windows = f"partitioned by {keyed[0]}" if keyed else "partitioned by the key"
    return PlanSplit(partial, merge, kind, partial_sql, merge_sql, keys,
                     tuple(dict.fromkeys(scanned)) if joined and len(scanned) > 1 else (),
                     windows)


def _expressions(plan: L.LogicalNode):
    from ..plan.walk import expressions
    return expressions(plan)


def _nodes(plan: L.LogicalNode):
    stack = [plan]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children())


class RenderCheck:
    """Binds renderings again to check them (``check``). The merge binds over a table of
    the partial's column types in a schema-only scratch database of its own, one table
    per shape of partials, made once (creating a database per query costs more than the
    query). Not thread-safe: the caller holds a lock."""

    MAX_SHAPES = 256

    def __init__(self) -> None:
        self.scratch = None
        self.shapes: dict[tuple, str] = {}

    def check(self, split: PlanSplit, mirror, placed=None) -> None:
        """Bind both renderings again (the partial on the mirror, the merge over the
        partial's types) and compare with the plans they came from: the same output
        types and the same operations and constants. A rendering that reads back
        differently raises ``NotSplit`` rather than run. ``placed``: the exchanges
        (``planexchange.Placed``) whose scans are checked the same way, the inputs
        they make registered on the mirror as empty Arrow tables of their types."""
        if placed is None:
            _same(split.partial, bind_and_optimize(mirror, split.partial_sql))
        else:
            for side, sub, reads in placed.checks:
                with _registered(mirror, reads):
                    _same(sub, bind_and_optimize(mirror, side.scan))
            with _registered(mirror, placed.inputs):
                _same(split.partial, bind_and_optimize(mirror, split.partial_sql))
        table = self.table([t for _, t in split.partial.columns], split.partial.names)
        merge_sql = split.merge_sql.replace(f"FROM {quote(PARTIALS)} AS",
                                            f"FROM {quote(table)} AS")
        _same(split.merge, bind_and_optimize(self.scratch, merge_sql))

    def table(self, sql_types: list, names: list) -> str:
        shape = (tuple(sql_types), tuple(names))
        name = self.shapes.get(shape)
        if name is not None:
            return name
        if self.scratch is None or len(self.shapes) >= self.MAX_SHAPES:
            if self.scratch is not None:
                self.scratch.close()
            self.scratch, self.shapes = Database().connect(), {}
        name = f"__partials_{len(self.shapes)}"
        cols = ", ".join(f"{quote(n)} {types.TEXT if t == types.NULL else types.sql_name(t)}"
                         for n, t in zip(names, sql_types))
        self.scratch.execute(f"CREATE TABLE {quote(name)} ({cols})")
        self.shapes[shape] = name
        return name


@contextmanager
def _registered(conn, inputs: dict):
    """``inputs`` ({name: (names, SQL types)}) readable on ``conn`` while binding, as
    the shards register the exchanged inputs they read (never left behind)."""
    import pyarrow as pa
    for name, (names, sql_types) in inputs.items():
        conn.register(name, numeric_arrays.tag_keys(pa.table(
            {n: pa.array([], types.arrow_type(t)) for n, t in zip(names, sql_types)}),
            sql_types))
    try:
        yield
    finally:
        for name in inputs:
            conn.unregister(name)


def _same(made: L.LogicalNode, again: L.LogicalNode) -> None:
    if [t for _, t in made.columns] != [t for _, t in again.columns]:
        raise NotSplit("the rendering binds to other types")
    if _operations(made) != _operations(again):
        raise NotSplit("the rendering binds to other operations")


def _operations(plan: L.LogicalNode) -> set:
    """What a plan computes, position-free: every call, cast, constant and aggregate of
    its filters, projections, joins, groups and sort keys."""
    found: set = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        stack.extend(node.children())
        exprs: list = []
        if isinstance(node, L.LogicalScan) and node.filter is not None:
            exprs.append(node.filter)
        elif isinstance(node, L.LogicalFilter):
            exprs.append(node.predicate)
        elif isinstance(node, L.LogicalProject):
            exprs += node.exprs
        elif isinstance(node, L.LogicalJoin):
            exprs += [e for pair in node.equi_keys for e in pair]
            found.update(("call", "eq", types.BOOLEAN, (_kind(a), _kind(b)))
                         for a, b in node.equi_keys)
            if node.condition is not None:
                exprs.append(node.condition)
        elif isinstance(node, L.LogicalAggregate):
            exprs += list(node.groups) + list(node.aggregates)
        elif isinstance(node, L.LogicalWindow):
            exprs += list(node.functions)
        elif isinstance(node, L.LogicalSort):
            exprs += [k[0] for k in node.keys]
            found.update(("key", d, nf) for _, d, nf in node.keys)
        elif isinstance(node, L.LogicalDistinctOn):
            exprs += list(node.keys)
            found.add(("distinct on", len(node.keys)))
        for e in exprs:
            for n in e.walk():
                if isinstance(n, Call):   # with the kind of each argument, in order
                    found.add(("call", n.fn, n.type, tuple(map(_kind, n.args))))
                elif isinstance(n, Cast):
                    found.add(("cast", n.type))
                elif isinstance(n, Const):
                    found.add(("const", repr(n.value), n.type))
                elif isinstance(n, AggCall):
                    found.add(("agg", n.fn, n.type, n.distinct, n.star, n.filter is not None))
                elif isinstance(n, InList):
                    found.add(("in", n.negated))
                elif isinstance(n, WindowCall):
                    found.add(("window", n.fn, n.type, n.distinct, n.star, repr(n.frame),
                               tuple(map(_kind, n.args)), len(n.partition),
                               tuple((d, nf) for _, d, nf in n.order), n.filter is not None))
                elif isinstance(n, Case):
                    found.add(("case", n.type))
                elif not isinstance(n, ColRef):
                    found.add(("other", type(n).__name__))
    return found


def _kind(e) -> tuple:
    """An argument as the check compares it: a constant, or a value of a type (a column
    or an expression: rendering writes a projected expression in where the plan reads
    its column, and the expression itself is compared on its own)."""
    if isinstance(e, Const):
        return ("const", repr(e.value), e.type)
    return ("value", e.type)
