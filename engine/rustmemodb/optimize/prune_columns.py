"""Projection pruning: every node outputs only the columns someone above reads.

A scan of a 16-column table feeding ``sum(l_extendedprice)`` should touch one
column: filtering, joining (the ``take`` of matched rows) and sorting all cost
per column carried. The rule walks the plan top-down with the set of output
positions the parent needs, and each node asks its child for what it needs
itself (its expressions' column references) plus what it passes through.
Scans get ``projection`` (table positions to keep; their filter still reads the
full batch), projections drop unused expressions, joins split the need between
their sides, and every expression above is renumbered to the narrower layout.

Nodes this rule does not know (DML, set operations, DISTINCT, CTEs, VALUES)
keep all their columns; pruning simply restarts below them. Index scans are
left whole (the point fast paths read them). The statement's own output is
never narrowed.

Example:
    >>> from rustmemodb.plan.expr import ColRef
    >>> from rustmemodb.plan.logical import LogicalProject, LogicalScan
    >>> s = LogicalScan([("a", "INTEGER"), ("b", "INTEGER"), ("c", "INTEGER")], "t")
    >>> p = prune_columns(LogicalProject([("c", "INTEGER")], s, [ColRef(2, "INTEGER", "c")]))
    >>> p.child.projection, p.exprs
    ([2], [ColRef(index=0, type='INTEGER', name='c')])
"""
from __future__ import annotations

from ..deep import deep
import dataclasses

from ..plan import logical as L
from ..plan.walk import init_fields, map_children
from ..plan.expr import ColRef, column_refs, remap_columns


def prune_columns(plan: L.LogicalNode, ctx=None) -> L.LogicalNode:
    if ctx is not None and _only_small_tables(plan, ctx):
        return plan
    if not isinstance(plan, (L.LogicalProject, L.LogicalSort, L.LogicalLimit,
                             L.LogicalAggregate, L.LogicalFilter, L.LogicalJoin,
                             L.LogicalWindow, L.LogicalDistinctOn)):
        return _keep_all(plan)
    new, mapping = _prune(plan, set(range(len(plan.columns))))
    return new


def _only_small_tables(plan: L.LogicalNode, root) -> bool:
    """Whether every scan under ``plan`` reads a stored table of at most
    ``plan.logical.SMALL_ROWS`` live rows. Such a plan runs on the row path
    (exec/row_ops.py), where narrowing buys nothing: a narrowed scan copies every row
    into a narrower tuple (for each outer row, under a correlated subquery), and
    narrowing itself -- renumbering every expression above the scan -- was a fifth of
    optimizing a small SELECT. A plan cached for small tables is planned again once one
    has grown past that (sql/plan_cache.py). Plans nested in expressions are optimized
    without this rule anyway (optimize_subqueries.py)."""
    tables = root.tables
    stack = [plan]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is L.LogicalScan:
            version = tables.get(node.table)
            if version is None or version.live_rows > L.SMALL_ROWS:
                return False
        elif kind in _OTHER_SOURCES:
            return False
        for name in init_fields(kind):
            v = getattr(node, name)
            if isinstance(v, L.LogicalNode):
                stack.append(v)
    return True


# Leaves that read something other than a stored table: pruned as before.
_OTHER_SOURCES = frozenset({L.LogicalArrowScan, L.LogicalVirtualScan, L.LogicalFileScan,
                            L.LogicalTableFunction, L.LogicalCTERef, L.LogicalRecursiveCTE,
                            L.LogicalValues})


@deep
def _prune(node: L.LogicalNode, need: set[int]) -> tuple[L.LogicalNode, dict[int, int]]:
    """(narrowed node, old output position -> new position for the kept columns)."""
    fn = _RULES.get(type(node))
    if fn is None:
        return _keep_all(node), {i: i for i in range(len(node.columns))}
    return fn(node, need)


def _keep_all(node: L.LogicalNode) -> L.LogicalNode:
    return map_children(node, lambda v: _prune(v, set(range(len(v.columns))))[0])


def _refs(exprs) -> set[int]:
    out: set[int] = set()
    for e in exprs:
        if e is not None:
            out |= column_refs(e)
    return out


def _remap(e, mapping):
    if e is None:
        return None
    if all(k == v for k, v in mapping.items()):
        return e      # nothing narrowed below: the expression is shared as it is

    def move(c: ColRef) -> ColRef:
        # a column that keeps its position keeps its node, so unchanged subtrees are shared
        new = mapping[c.index]
        return c if new == c.index else ColRef(new, c.type, c.name)
    return remap_columns(e, move)


def _identity(n: int) -> dict[int, int]:
    return {i: i for i in range(n)}


# ---- per node ---------------------------------------------------------------------------

def _scan(node: L.LogicalScan, need):
    if node.index_lookup is not None or node.with_rowid or node.projection is not None:
        return node, _identity(len(node.columns))
    keep = sorted(need)
    if not keep:
        keep = [0] if node.columns else []
    if len(keep) == len(node.columns):
        return node, _identity(len(node.columns))
    cols = [node.columns[i] for i in keep]
    return dataclasses.replace(node, columns=cols, projection=keep), \
        {old: new for new, old in enumerate(keep)}


def _filter(node: L.LogicalFilter, need):
    child, m = _prune(node.child, need | _refs([node.predicate]))
    cols = [node.columns[old] for old in sorted(m, key=m.get)]
    return L.LogicalFilter(cols, child, _remap(node.predicate, m)), m


def _project(node: L.LogicalProject, need):
    keep = sorted(need) if need else ([0] if node.exprs else [])
    exprs = [node.exprs[i] for i in keep]
    child, m = _prune(node.child, _refs(exprs))
    out = L.LogicalProject([node.columns[i] for i in keep], child, [_remap(e, m) for e in exprs])
    return out, {old: new for new, old in enumerate(keep)}


def _sort(node: L.LogicalSort, need):
    child, m = _prune(node.child, need | _refs([k[0] for k in node.keys]))
    cols = [node.columns[old] for old in sorted(m, key=m.get)]
    keys = [(_remap(e, m), d, nf) for e, d, nf in node.keys]
    return dataclasses.replace(node, columns=cols, child=child, keys=keys), m


def _limit(node: L.LogicalLimit, need):
    child, m = _prune(node.child, need)
    cols = [node.columns[old] for old in sorted(m, key=m.get)]
    return dataclasses.replace(node, columns=cols, child=child), m


def _distinct_on(node: L.LogicalDistinctOn, need):
    child, m = _prune(node.child, need | _refs(node.keys))
    cols = [node.columns[old] for old in sorted(m, key=m.get)]
    return dataclasses.replace(node, columns=cols, child=child,
                               keys=[_remap(k, m) for k in node.keys]), m


def _aggregate(node: L.LogicalAggregate, need):
    exprs = list(node.groups)
    for a in node.aggregates:
        exprs.extend(a.args)
        exprs.append(a.filter)
        exprs.extend(k[0] for k in a.order_by)
    child, m = _prune(node.child, _refs(exprs))
    groups = [_remap(g, m) for g in node.groups]
    aggs = [_remap(a, m) for a in node.aggregates]
    return dataclasses.replace(node, child=child, groups=groups, aggregates=aggs), \
        _identity(len(node.columns))


def _window(node: L.LogicalWindow, need):
    n_in = len(node.child.columns)
    child_need = {i for i in need if i < n_in} | _refs(node.functions)
    child, m = _prune(node.child, child_need)
    k = len(child.columns)
    funcs = [_remap(f, m) for f in node.functions]
    mapping = dict(m)
    for j in range(len(node.functions)):
        mapping[n_in + j] = k + j
    cols = list(child.columns) + list(node.columns[n_in:])
    return dataclasses.replace(node, columns=cols, child=child, functions=funcs), mapping


def _join(node: L.LogicalJoin, need):
    nl = len(node.left.columns)
    cond = _refs([node.condition])
    lneed = {i for i in need | cond if i < nl} | _refs([k[0] for k in node.equi_keys])
    rneed = {i - nl for i in need | cond if i >= nl} | _refs([k[1] for k in node.equi_keys])
    if node.kind in ("semi", "anti"):
        lneed |= {i for i in need if i < nl}
    left, lm = _prune(node.left, lneed)
    right, rm = _prune(node.right, rneed)
    kl = len(left.columns)
    both = dict(lm)
    both.update({nl + o: kl + n for o, n in rm.items()})
    keys = [(_remap(a, lm), _remap(b, rm)) for a, b in node.equi_keys]
    if node.kind in ("semi", "anti"):
        cols = list(left.columns)
        mapping = lm
    else:
        cols = list(left.columns) + list(right.columns)
        mapping = both
    return dataclasses.replace(node, columns=cols, left=left, right=right,
                               condition=_remap(node.condition, both), equi_keys=keys), mapping


_RULES = {L.LogicalScan: _scan, L.LogicalFilter: _filter, L.LogicalProject: _project,
          L.LogicalSort: _sort, L.LogicalLimit: _limit, L.LogicalAggregate: _aggregate,
          L.LogicalWindow: _window, L.LogicalJoin: _join, L.LogicalDistinctOn: _distinct_on}
