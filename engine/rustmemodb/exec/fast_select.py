"""Fast path for SELECTs over index lookups and small tables: rows as Python tuples.

Compiled once per cached plan. Accepts trees of Project / Filter / Sort / Limit /
Aggregate / Join / Distinct / Values whose leaves are ``LogicalScan``s, every
expression compiling to a row closure (exec/expr/row.py). A scan with an
``index_lookup`` (``use_index`` chose one) probes the index: for ``SELECT * FROM
t WHERE pk = $1`` the work per execution is one hash probe, one cached row
fetch, one projection — a few µs. A scan without one reads the whole table, and
the aggregate and join operators come from ``row_ops.py`` (the row path for
small inputs). If a lookup finds more than ``MAX_ROWS`` rows, or a table is past
``row_ops.SMALL_ROWS`` live rows, the closure returns None and the session runs
the generic (vectorised) plan instead.
"""
from __future__ import annotations

from ..deep import deep
import operator

from ..plan import logical as L
from ..plan.expr import Call, ColRef, SubqueryExpr, has_subquery, transform
from ..result import Result
from .. import types
from .expr.row import lazy_pair, numeric_value, try_compile_row
from . import row_ops
from .fast_path import COMPILERS
from .operators.index_scan import compile_keys, fetch_rows, rowids_for, with_ties

MAX_ROWS = 2048
# Closures a session keeps for reused expressions (_Env.row_fn) before starting over.
_ROW_FNS = 4096


_Unsupported, _TooMany = row_ops.Unsupported, row_ops.TooMany


def compile_select(prepared):
    plan = prepared.plan
    if prepared.bound is None or prepared.bound.kind != "SELECT":
        return None
    env = _Env(prepared)
    try:
        rows_of = compile_rows(plan, env)
    except _Unsupported:
        return None
    columns = plan.columns
    with_subqueries = env.subqueries

    def run(ctx):
        if with_subqueries:   # subquery closures reach the statement through its params
            ctx.params = row_ops.StatementParams(ctx.params, ctx)
        try:
            rows = rows_of(ctx)
        except _TooMany:
            return None
        return Result(columns, rows=rows, rowcount=len(rows), kind="SELECT")

    read = getattr(rows_of, "read", None)
    if read is not None and not with_subqueries:
        def direct(root, params):
            """``run`` of a bare primary-key probe (``SELECT * FROM t WHERE pk = $1``)
            on ``root``, with no transaction or context: an autocommit read of the
            newest root (Session._run_fast)."""
            rows = read(root, params)
            return Result(columns, rows=rows, rowcount=len(rows), kind="SELECT")
        run.read = direct
        run.rows = read         # the rows alone (session.PointRead)
    return run


class _Env:
    """What compiling one plan shares: the tables too big to scan whole here (already
    past the row path's size when planned: every run would fall back), and how many
    parameter slots the statement has (a subquery's outer values go after them)."""

    def __init__(self, prepared=None, *, sizes=(), n_params: int = 0, nested: bool = True,
                 row_fns=None) -> None:
        if prepared is not None:
            sizes = prepared.sizes
            lifted = prepared.lifted
            n_params = prepared.placeholders.count + (
                len(lifted.slots) + len(lifted.pinned) if lifted is not None else 0)
            nested = prepared.bound.nested
            row_fns = prepared.row_fns
        self.big = {name for name, rows in sizes if rows > row_ops.SMALL_ROWS}
        self.n_params = n_params
        self.subqueries = False
        # Whether the binder made any subquery (sql/bound.py): if not, no expression is
        # walked looking for one.
        self.nested = nested
        # The session's closures for expressions it binds once and reuses (Prepared.row_fns).
        self.row_fns = row_fns
        self.big_key = tuple(sorted(self.big))

    def row_fn(self, e, depth: int = 0):
        memo = self.row_fns
        key = id(e)
        if memo is not None:
            # kept under its id alone: an expression with no subquery (one with a
            # subquery is kept under a longer key, below), so no walk looks for one
            hit = memo.get(key)
            if hit is not None and hit[0] is e:
                return hit[1]
            if depth < 8 and type(e) is Call and (e.fn == "and" or e.fn == "or") \
                    and len(e.args) == 2:
                # a new AND/OR of conditions compiled before: its sides' closures reused
                # (a side with a subquery notes it). Not kept itself: a statement's own
                # AND/OR (sql/pieces.py and piece_plan.py join known conditions anew each
                # time) would only keep garbage alive long enough for the collector to
                # promote it to its oldest generation
                return lazy_pair(e.fn, self.row_fn(e.args[0], depth + 1),
                                 self.row_fn(e.args[1], depth + 1))
        sub = self.nested and has_subquery(e)
        if sub:
            # a subquery's closure reads its outer values from the slots after the
            # statement's own, and declines tables too big for the row path: kept for
            # statements with as many slots and the same big tables
            self.subqueries = True
            key = (key, self.n_params, self.big_key)
            if memo is not None:
                hit = memo.get(key)
                if hit is not None and hit[0] is e:
                    return hit[1]
        bound = e
        if sub:
            e = transform(e, lambda n: row_ops.compile_subquery(n, self, compile_rows)
                          if isinstance(n, SubqueryExpr) else n)
        fn = try_compile_row(e)
        if fn is None:
            raise _Unsupported()
        if memo is not None:
            if len(memo) >= _ROW_FNS:
                memo.clear()
            memo[key] = (bound, fn)
        return fn


@deep
def compile_rows(node, env: "_Env"):
    """fn(ctx) -> list of row tuples for ``node``, or raise _Unsupported."""
    kind = type(node)
    if kind is L.LogicalScan:
        if node.index_lookup is None and node.table in env.big:
            raise _Unsupported()
        return _scan(node, env)
    if kind is L.LogicalProject:
        child = compile_rows(node.child, env)
        if all(type(e) is ColRef for e in node.exprs):   # column picks: no closures
            idx = [e.index for e in node.exprs]
            width = len(node.child.columns)
            if idx == list(range(width)):
                return child
            pick = operator.itemgetter(*idx)
            read = getattr(child, "read", None)    # a bare key probe: picks keep it one
            if len(idx) == 1:
                picked = lambda ctx: [(pick(r),) for r in child(ctx)]   # noqa: E731
                if read is not None:
                    picked.read = lambda root, params: [(pick(r),) for r in read(root, params)]
            else:
                picked = lambda ctx: [pick(r) for r in child(ctx)]      # noqa: E731
                if read is not None:
                    picked.read = lambda root, params: [pick(r) for r in read(root, params)]
            return picked
        fns = [env.row_fn(e) for e in node.exprs]
        if len(fns) == 1:
            f0 = fns[0]
            return lambda ctx: [(f0(r, ctx.params),) for r in child(ctx)]

        def project(ctx):
            p = ctx.params
            return [tuple([f(r, p) for f in fns]) for r in child(ctx)]
        return project
    if kind is L.LogicalFilter:
        child = compile_rows(node.child, env)
        pred = env.row_fn(node.predicate)
        return lambda ctx: [r for r in child(ctx) if pred(r, ctx.params) is True]
    if kind is L.LogicalLimit:
        return _limit(node, env)
    if _array_keys(node):     # Python hashes and orders no lists as SQL does arrays
        raise _Unsupported()
    if kind is L.LogicalSort:
        return _sort(node, env)
    if kind is L.LogicalAggregate:
        return row_ops.compile_aggregate(node, compile_rows(node.child, env), env.row_fn)
    if kind is L.LogicalJoin:
        return row_ops.compile_join(node, compile_rows(node.left, env),
                                    compile_rows(node.right, env), env.row_fn)
    if kind is L.LogicalDistinct:
        return row_ops.compile_distinct(node, compile_rows(node.child, env))
    if kind is L.LogicalValues:
        return row_ops.compile_values(node, env.row_fn)
    raise _Unsupported()


def _array_keys(node) -> bool:
    """Whether a sort, grouping, DISTINCT or join keys on an array (types X[])."""
    kind = type(node)
    if kind is L.LogicalSort:
        keys = [k[0].type for k in node.keys]
    elif kind is L.LogicalAggregate:
        keys = [g.type for g in node.groups]
    elif kind is L.LogicalDistinct:
        keys = node.types
    elif kind is L.LogicalJoin:
        keys = [e.type for pair in node.equi_keys for e in pair]
    else:
        return False
    return any(t.endswith("[]") for t in keys)


def _scan(node: L.LogicalScan, env):
    lookup = node.index_lookup
    if lookup is None:
        return row_ops.compile_scan(node, env.row_fn)
    # Imported on the first index lookup compiled, not with this module: it loads numpy
    # and pyarrow, which a process whose statements touch no table need not (start-up).
    try:
        compiled = compile_keys(lookup)
    except ValueError:
        raise _Unsupported() from None
    pred = env.row_fn(node.filter) if node.filter is not None else None
    table, with_rowid = node.table, node.with_rowid
    limit_fn = compiled[3]
    unique_eq = lookup.kind == "unique" and lookup.mode == "eq" and len(lookup.keys) == 1
    if unique_eq and pred is None and not with_rowid:
        key_fn, name = compiled[0][0], lookup.index

        def point(ctx):   # the PK probe, inlined
            version = ctx.root.tables[table]
            key = key_fn((), ctx.params)
            rowid = version.indexes[name].get(key) if key is not None else None
            if rowid is None:
                return []
            row = version.row(rowid)
            return [] if row is None else [row]

        def read(root, params):   # the same from a root, with no context (compile_select)
            key = key_fn((), params)
            version = root.tables[table]
            rowid = version.indexes[name].get(key) if key is not None else None
            if rowid is None:
                return []
            row = version.row(rowid)
            return [] if row is None else [row]
        point.read = read
        return point

    def scan(ctx):
        version = ctx.root.tables[table]
        params = ctx.params
        ids = rowids_for(lookup, version, params, compiled)
        limit = limit_fn((), params) if limit_fn is not None else None
        if len(ids) > MAX_ROWS and (limit is None or limit > MAX_ROWS):
            raise _TooMany()
        rows = fetch_rows(version, ids, pred, params, limit, with_rowid)
        if lookup.ties and limit is not None and rows and len(rows) >= limit:
            rows = with_ties(version, lookup, ids, rows, pred, params, with_rowid)
        return rows
    return scan


def _count(e, env):
    if e is None:
        return None
    fn = env.row_fn(e)

    def value(params):
        v = fn((), params)
        if v is not None and v < 0:
            raise _TooMany()    # the generic path raises the proper error
        return v
    return value


def _limit(node: L.LogicalLimit, env):
    child = compile_rows(node.child, env)
    lim, off = _count(node.limit, env), _count(node.offset, env)

    def limit(ctx):
        rows = child(ctx)
        o = (off(ctx.params) or 0) if off is not None else 0
        n = lim(ctx.params) if lim is not None else None
        return rows[o:] if n is None else rows[o:o + n]
    return limit


def _sort(node: L.LogicalSort, env):
    child = compile_rows(node.child, env)
    sort = sorter(node.keys, env.row_fn)
    return lambda ctx: sort(child(ctx), ctx.params)


def sorter(keys, row_fn):
    """fn(rows, params) -> ``rows`` in the order of ``keys`` ((expression, descending,
    nulls first), as LogicalSort's), each key's closure made by ``row_fn``."""
    # an output column's closure made here: compiling it (a recursion guard per call)
    # was a tenth of a one-off statement planned from its pieces (sql/piece_plan.py)
    keys_fns = [(_column(e.index) if type(e) is ColRef else row_fn(e), bool(desc), bool(nf))
                for e, desc, nf in keys]
    # a numeric sorts by its value, not its display scale: 2.5 and 2.50 tie for the next key
    keys_fns = [(numeric_value(fn) if e.type == types.NUMERIC else fn, desc, nf)
                for (fn, desc, nf), (e, _, _) in zip(keys_fns, keys)]

    def by_keys(rows, p):
        for fn, desc, nulls_first in reversed(keys_fns):   # stable: last key first
            rows = _sorted_by(rows, fn, p, desc, nulls_first)
        return rows

    cols = [e.index for e, _, _ in keys if type(e) is ColRef]
    directions = {bool(desc) for _, desc, _ in keys}
    if len(cols) != len(keys_fns) or len(directions) != 1:
        return by_keys
    # Output columns, one direction (ORDER BY 1, 2, 3): one sort by the columns' values
    # together, the same order as a stable sort per key from the last (ties keep their
    # order), unless a key column holds a NULL or a NaN (placed by ``_sorted_by``) or a
    # value of another type.
    desc = directions.pop()
    pick = operator.itemgetter(*cols)
    # per key from the last: (its column's item getter, its index, NULLs first)
    passes = [(operator.itemgetter(e.index), e.index, bool(nf))
              for e, _, nf in reversed(keys)]

    def sort(rows, p):
        if len(rows) < 2:
            return rows
        nulls = False
        for i in cols:
            col = [r[i] for r in rows]
            kinds = set(map(type, col))
            if not kinds <= _PLAIN_KEYS:
                if not kinds <= _PLAIN_OR_NULL:
                    return by_keys(rows, p)
                nulls = True
            if float in kinds and any(v != v for v in col):
                return by_keys(rows, p)
        if not nulls:
            return sorted(rows, key=pick, reverse=desc)
        return sorted_with_nulls(rows, passes, desc)
    return sort


def sorted_with_nulls(rows: list, passes, desc: bool) -> list:
    """Output columns of plain values and NULLs sorted as ``by_keys`` sorts them: a stable
    sort per key from the last (``passes``: its column's item getter, index, NULLs
    first), each by the getter over the rows without a NULL there, the rows with one
    kept in their order at the end ``nulls first`` says (``_sorted_by``)."""
    for get, i, nulls_first in passes:
        valued = [r for r in rows if r[i] is not None]
        if len(valued) == len(rows):
            rows = sorted(rows, key=get, reverse=desc)
            continue
        valued.sort(key=get, reverse=desc)
        missing = [r for r in rows if r[i] is None]
        rows = missing + valued if nulls_first else valued + missing
    return rows


def _column(i: int):
    """The row closure of output column ``i`` (compile_row's for a ColRef)."""
    return lambda row, params: row[i]


# Python types whose own order is SQL's for a sort key (NULL, NaN: ``_sorted_by``).
_PLAIN_KEYS = frozenset({int, float, str, bool})
_PLAIN_OR_NULL = _PLAIN_KEYS | {type(None)}


def _sorted_by(rows: list, fn, p, desc: bool, nulls_first: bool) -> list:
    """``rows`` stably sorted by ``fn``'s value: the values computed once and sorted
    by the list's own item lookup (no Python key call per comparison), the NULLs kept
    in their order at the end ``nulls_first`` says; with a NaN among the values, by
    ``_sort_key`` (NaN sorts above every number, as in PostgreSQL)."""
    vals = [fn(r, p) for r in rows]
    if any(type(v) is float and v != v for v in vals):
        null_high = nulls_first == desc
        return [r for _, r in sorted(zip(vals, rows), key=lambda vr: _sort_key(vr[0], null_high),
                                     reverse=desc)]
    if None in vals:
        order = [i for i, v in enumerate(vals) if v is not None]
        nulls = [i for i, v in enumerate(vals) if v is None]
    else:
        order, nulls = list(range(len(vals))), None
    order.sort(key=vals.__getitem__, reverse=desc)
    if nulls:
        order = nulls + order if nulls_first else order + nulls
    return [rows[i] for i in order]


def _sort_key(v, null_high: bool):
    if v is None:
        return (1 if null_high else 0, 0, 0)
    if type(v) is float and v != v:   # NaN sorts above every number, as in PostgreSQL
        return (0 if null_high else 1, 1, 0)
    return (0 if null_high else 1, 0, v)


COMPILERS.append(compile_select)
