"""Index selection: a scan's filter or an ORDER BY ... LIMIT becomes an index lookup.

For each ``LogicalScan`` with a pushed-down filter, the conjuncts of the form
``col = k``, ``col IN (k, ...)``, ``col <op> k`` and ``col IS NULL`` — where
``k`` reads no column (a constant, a parameter, a cast of those) — are matched
against the table's indexes: a unique (hash) index whose columns are all
pinned by equalities gives a point lookup; an ordered index whose leading
column(s) are constrained gives an equality-prefix, IN, range or IS NULL
lookup. The candidates are priced with ``optimize/estimate.py`` against a full
scan (a fetched row costs ~1 µs in Python; a scanned row ~0.02 µs in Arrow plus
a fixed cost), and the cheapest wins. Consumed conjuncts leave the filter.

Then ``Limit(Sort(Project(Scan)))`` sorting first on a column that leads an ordered
index (with PostgreSQL's default NULL placement) reads the index in order and
stops after LIMIT + OFFSET rows that pass the filter — with more sort keys after
it (a grid's stable ``ORDER BY col, key``), after every row tied with the last
one on that column too; the Sort stays, over those few rows.

Example:
    >>> # SELECT * FROM t WHERE id = $1        (id is the primary key)
    >>> # Project -> Seq Scan on t filter: (id = $1)
    >>> # becomes Project -> Index Scan using t_pkey (id = $1) on t

Example (through EXPLAIN):
    >>> import rustmemodb
    >>> c = rustmemodb.connect()
    >>> _ = c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    >>> [r[0] for r in c.execute("EXPLAIN SELECT v FROM t WHERE id = 5").fetchall()]
    ['Project  (v)  [rows=1]', '->  Index Scan using t_pkey on t (id = 5)  [rows=1]']
"""
from __future__ import annotations

import dataclasses

from ..plan.walk import map_children
from ..plan.access import IndexLookup
from ..plan.expr import Call, ColRef, Const, Expr, InList, Param, conjoin, conjuncts
from ..plan.logical import LogicalLimit, LogicalNode, LogicalProject, LogicalScan, LogicalSort
from .estimate import DEFAULT_BETWEEN, column_stats
from .fold_constants import lifted
from ..exec.expr.row import try_compile_row

_FLIP = {"eq": "eq", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
ROW_FETCH_US = 1.0       # cost model, in µs
SCAN_ROW_US = 0.02
SCAN_FIXED_US = 60.0


def use_index(plan: LogicalNode, ctx=None) -> LogicalNode:
    if ctx is None:
        return plan
    return _visit(plan, ctx)


def _visit(plan: LogicalNode, root) -> LogicalNode:
    plan = map_children(plan, lambda c: _visit(c, root))
    if isinstance(plan, LogicalScan) and plan.filter is not None and plan.index_lookup is None:
        return _choose(plan, root)
    if isinstance(plan, LogicalLimit):
        return _order_limit(plan, root)
    return plan


# ---- predicates -------------------------------------------------------------------------

def _and(parts: list[Expr], whole: Expr) -> Expr | None:
    """Re-join conjuncts (plan.expr.conjoin: balanced when long)."""
    return conjoin(parts)


def is_key_expr(e: Expr) -> bool:
    """Reads no column and is stable within a statement (so it can be evaluated once)."""
    for n in e.walk():
        if isinstance(n, ColRef) or type(n).__name__ in ("OuterRef", "SubqueryExpr", "AggCall",
                                                          "WindowCall"):
            return False
        if isinstance(n, Call) and (n.impl is None or n.impl.volatile or n.impl.row is None):
            return False
    return try_compile_row(e) is not None


def _sargable(e: Expr, width: int):
    """(column, op, key) for an indexable conjunct, else None. op: eq/lt/le/gt/ge/in/null."""
    if isinstance(e, Call) and e.fn in _FLIP and len(e.args) == 2:
        a, b = e.args
        if isinstance(a, ColRef) and a.index < width and _same_type(a, b) and is_key_expr(b):
            return a.index, e.fn, b
        if isinstance(b, ColRef) and b.index < width and _same_type(b, a) and is_key_expr(a):
            return b.index, _FLIP[e.fn], a
    if isinstance(e, InList) and not e.negated and isinstance(e.arg, ColRef) \
            and e.arg.index < width and all(_same_type(e.arg, v) and is_key_expr(v)
                                            for v in e.values):
        return e.arg.index, "in", e.values
    if isinstance(e, Call) and e.fn == "is_null" and isinstance(e.args[0], ColRef) \
            and e.args[0].index < width:
        return e.args[0].index, "null", None
    return None


def _same_type(col: ColRef, key: Expr) -> bool:
    if col.type == "NUMERIC" or col.type == "JSON":
        # an index holds a numeric's key with its scale (numeric.py): 2 and 2.00 are
        # equal numbers but different keys, so numeric predicates are scanned; a jsonb
        # index holds canonical text, whose order is not jsonb's (jsonb_order.py)
        return False
    return key.type == col.type or key.type in ("NULL", "UNKNOWN")


# ---- choosing ----------------------------------------------------------------------------

def _choose(scan: LogicalScan, root) -> LogicalNode:
    version = root.tables.get(scan.table)
    if version is None or not (version.indexes or version.ordered):
        return scan
    width = len(version.schema.columns)
    parts = conjuncts(scan.filter)
    preds = [(i, _sargable(p, width)) for i, p in enumerate(parts)]
    preds = [(i, s) for i, s in preds if s is not None]
    keyed = list(_expression_candidates(version, parts))
    if not preds and not keyed:
        return scan
    n = max(version.live_rows, 1)
    best = None   # (cost, lookup, consumed conjunct positions)
    for cand in keyed + list(_candidates(version, preds, n)):
        if best is None or cand[0] < best[0]:
            best = cand
    if best is None or best[0] >= SCAN_FIXED_US + SCAN_ROW_US * n:
        return scan
    _, lookup, used = best
    index = version.indexes.get(lookup.index) if lookup.kind == "unique" else None
    names = (index.keyer.text,) if index is not None and index.keyed else \
        tuple(version.schema.columns[c].name for c in lookup.columns)
    lookup = dataclasses.replace(lookup, column_names=names)
    rest = _and([p for i, p in enumerate(parts) if i not in used], scan.filter)
    return dataclasses.replace(scan, index_lookup=lookup, filter=rest)


def _expression_candidates(version, parts: list[Expr]):
    """Point lookups in a unique index on an expression: ``lower(email) = $1`` against
    ``UNIQUE (lower(email))``, or in a partial one when the filter implies its predicate
    (has each of its ANDed parts: ``email = $1 AND NOT deleted`` against ``UNIQUE (email)
    WHERE NOT deleted``; the index holds only the rows the predicate accepts). The
    conjuncts stay in the filter, which checks the fetched row with SQL's equality."""
    have = None
    for name, ix in version.indexes.items():
        if not ix.keyed or len(ix.keyer.exprs) != 1:
            continue
        if ix.keyer.pred_expr is not None:
            if have is None:
                have = {_shape(p) for p in parts}
            need = {_shape(p) for p in conjuncts(ix.keyer.pred_expr)}
            if None in need or not need <= have:
                continue
        shape = _shape(ix.keyer.exprs[0])
        if shape is None:
            continue
        for e in parts:
            if not (isinstance(e, Call) and e.fn == "eq" and len(e.args) == 2):
                continue
            for a, b in (e.args, e.args[::-1]):
                if _shape(a) == shape and b.type in (a.type, "NULL", "UNKNOWN") \
                        and is_key_expr(b):
                    yield (1.0, IndexLookup(name, "unique", tuple(ix.columns), "eq", (b,),
                                            est=1.0), set())
                    break


def _shape(e: Expr):
    """An expression's structure with column references by position only (a filter's
    ColRef may carry another name than the index's), or None for other node kinds."""
    if isinstance(e, ColRef):
        return ("col", e.index)
    if isinstance(e, Const):
        return ("const", e.value, e.type)
    if isinstance(e, Call):
        args = tuple(_shape(a) for a in e.args)
        return None if None in args else ("call", e.fn, e.type, args)
    if type(e).__name__ == "Cast":
        inner = _shape(e.arg)
        return None if inner is None else ("cast", e.type, inner)
    return None


def _candidates(version, preds, n):
    by_col: dict[int, list] = {}
    for i, (col, op, key) in preds:
        by_col.setdefault(col, []).append((i, op, key))
    for name, ix in version.indexes.items():
        if ix.keyed:    # its key is an expression of the columns, not the columns
            continue
        cols = tuple(ix.columns)
        eqs = [_first(by_col.get(c, ()), "eq") for c in cols]
        if all(e is not None for e in eqs):
            yield (1.0, IndexLookup(name, "unique", cols, "eq", tuple(k for _, _, k in eqs),
                                    est=1.0), {i for i, _, _ in eqs})
        elif len(cols) == 1 and _first(by_col.get(cols[0], ()), "in") is not None:
            i, _, values = _first(by_col[cols[0]], "in")
            yield (1.0 + len(values), IndexLookup(name, "unique", cols, "in", tuple(values),
                                                  est=float(len(values))), {i})
    for name, ix in version.ordered.items():
        cand = _ordered_candidate(version, name, ix, by_col, n)
        if cand is not None:
            yield cand


def _first(entries, op):
    for e in entries:
        if e[1] == op:
            return e
    return None


def _ordered_candidate(version, name, ix, by_col, n):
    cols = tuple(ix.columns)
    stats = column_stats(version, cols[0])
    prefix = []
    for c in cols:
        e = _first(by_col.get(c, ()), "eq")
        if e is None:
            break
        prefix.append(e)
    if prefix:
        est = n * stats.eq_fraction() * (0.1 ** (len(prefix) - 1))
        lookup = IndexLookup(name, "ordered", cols, "eq", tuple(k for _, _, k in prefix), est=est)
        return _priced(est, lookup, {i for i, _, _ in prefix})
    entries = by_col.get(cols[0], ())
    e = _first(entries, "in")
    if e is not None:
        est = n * stats.eq_fraction() * len(e[2])
        return _priced(est, IndexLookup(name, "ordered", cols, "in", tuple(e[2]), est=est), {e[0]})
    if len(cols) == 1:
        e = _first(entries, "null")
        if e is not None:
            est = float(stats.nulls if stats.nulls is not None else n * 0.1)
            return _priced(est, IndexLookup(name, "ordered", cols, "null", est=est), {e[0]})
    lows = [x for x in entries if x[1] in ("gt", "ge")]
    highs = [x for x in entries if x[1] in ("lt", "le")]
    if not lows and not highs:
        return None
    low, high = _tightest(lows, True), _tightest(highs, False)
    lo_v, lo_known = _value(low)
    hi_v, hi_known = _value(high)
    frac = stats.range_fraction(lo_v, hi_v, lo_known, hi_known)
    if low is not None and high is not None and not lo_known and not hi_known:
        frac = DEFAULT_BETWEEN
    est = max(1.0, n * frac)
    lookup = IndexLookup(name, "ordered", cols, "range",
                         low=low[2] if low else None, high=high[2] if high else None,
                         low_inc=low is None or low[1] == "ge",
                         high_inc=high is None or high[1] == "le", est=est)
    used = {x[0] for x in (low, high) if x is not None}
    return _priced(est, lookup, used)


def _priced(est, lookup, used):
    return (2.0 + ROW_FETCH_US * est, lookup, used)


def _tightest(entries, lower: bool):
    """Of several bounds on one side, a constant one that is tightest, else the first."""
    if not entries:
        return None
    # A lifted literal (slot set) is a parameter in the cached plan: its value may differ
    # next time, so it cannot decide which bound is the tightest.
    consts = [e for e in entries if isinstance(e[2], Const) and e[2].value is not None
              and not lifted(e[2])]
    if len(consts) > 1:
        try:
            return (max if lower else min)(consts, key=lambda e: e[2].value)
        except TypeError:
            pass
    return consts[0] if consts else entries[0]


def _value(entry):
    """(value, known): a constant bound's value; parameters are unknown at plan time."""
    if entry is None:
        return None, True
    k = entry[2]
    if isinstance(k, Const):
        return k.value, True
    return None, False


# ---- ORDER BY ... LIMIT -------------------------------------------------------------------

def _order_limit(limit: LogicalLimit, root) -> LogicalNode:
    sort = limit.child
    if limit.limit is None or not isinstance(sort, LogicalSort) or not sort.keys:
        return limit
    if not all(x is None or isinstance(x, (Const, Param)) for x in (limit.limit, limit.offset)):
        return limit
    proj = sort.child
    scan = proj.child if isinstance(proj, LogicalProject) else proj
    if not isinstance(scan, LogicalScan):
        return limit
    key, desc, nulls_first = sort.keys[0]
    if not isinstance(key, ColRef) or bool(nulls_first) != bool(desc):
        return limit
    col = key.index
    if isinstance(proj, LogicalProject):
        target = proj.exprs[col] if col < len(proj.exprs) else None
        if not isinstance(target, ColRef):
            return limit
        col = target.index
    version = root.tables.get(scan.table)
    if version is None:
        return limit
    order = "desc" if desc else "asc"
    ties = len(sort.keys) > 1
    found = scan.index_lookup
    if found is not None:
        if found.kind != "ordered" or found.columns[0] != col or \
                found.mode not in ("range", "eq") or (ties and len(found.columns) > 1):
            return limit
        lookup = dataclasses.replace(found, order=order, nulls_first=bool(nulls_first),
                                     limit=limit.limit, offset=limit.offset, ties=ties)
    else:
        # ties are gathered by one equality lookup: single-column indexes only
        name = next((nm for nm, ix in version.ordered.items() if ix.columns[0] == col
                     and not (ties and len(ix.columns) > 1)), None)
        if name is None:
            return limit
        ix = version.ordered[name]
        names = tuple(version.schema.columns[c].name for c in ix.columns)
        lookup = IndexLookup(name, "ordered", tuple(ix.columns), "order", order=order,
                             nulls_first=bool(nulls_first), limit=limit.limit,
                             offset=limit.offset, est=float(version.live_rows),
                             column_names=names, ties=ties)
    new_scan = dataclasses.replace(scan, index_lookup=lookup)
    new_proj = dataclasses.replace(proj, child=new_scan) if proj is not scan else new_scan
    return dataclasses.replace(limit, child=dataclasses.replace(sort, child=new_proj))
