"""Join order: a tree of inner/cross joins is rebuilt left-deep in a cheaper order.

The binder joins tables in FROM order. For three or more relations under inner
and cross joins (after ``pushdown_join_filters`` has turned WHERE equalities into
join conditions and pushed single-table filters into the scans), this rule:

1. flattens the tree into its relations and its join conjuncts, the conjuncts
   rewritten over the columns of all relations in FROM order;
2. estimates each relation's rows (``optimize/estimate.py``, which knows index
   lookups and pushed filters) and each equality's selectivity from the two
   columns' distinct counts (1 / the larger, PostgreSQL's rule for equi-joins;
   unique keys count every row as distinct);
3. orders greedily: the smallest relation first, then always the connected
   relation that keeps the running result smallest (a cross product only when
   nothing connects), and compares the summed intermediate sizes with those of
   the FROM order; the new order is used only if it is at least
   ``MIN_GAIN`` times cheaper, so plans do not churn on ties;
4. rebuilds a left-deep tree in that order, each conjunct at the lowest join
   that has all its columns, and projects the columns back into FROM order so
   the operators above see the same columns.

Outer, semi and anti joins are not reordered (they are relations of the flattened
tree); nor are two-relation joins, whose build side the executor picks by size.
This is a simple greedy approach without dynamic programming over subsets.

Example (FROM a, b, c WHERE a.x = c.z AND b.y = c.z; c is small):
    >>> from rustmemodb.plan.expr import ColRef, conjoin, make_call
    >>> from rustmemodb.plan.logical import LogicalJoin, LogicalValues
    >>> v = lambda n, rows: LogicalValues([(n, "INTEGER")], [[] for _ in range(rows)])
    >>> a, b, c = v("x", 1000), v("y", 1000), v("z", 10)
    >>> ab = LogicalJoin(a.columns + b.columns, a, b, "cross")
    >>> on = conjoin([make_call("eq", [ColRef(0, "INTEGER"), ColRef(2, "INTEGER")]),
    ...               make_call("eq", [ColRef(1, "INTEGER"), ColRef(2, "INTEGER")])])
    >>> out = reorder_joins(LogicalJoin(ab.columns + c.columns, ab, c, "inner", on), object())
    >>> [n for n, _ in out.child.columns]      # c first, never the a x b cross product
    ['z', 'x', 'y']
    >>> [n for n, _ in out.columns]            # the FROM order is restored above
    ['x', 'y', 'z']
"""
from __future__ import annotations

import dataclasses

from ..plan.expr import (Call, ColRef, column_refs, conjoin, conjuncts, remap_columns,
                         shift_columns)
from ..plan.logical import (LogicalFilter, LogicalJoin, LogicalNode, LogicalProject,
                            LogicalScan)
from ..plan.walk import map_children
from .estimate import DEFAULT_EQ, DEFAULT_RANGE, column_stats, estimate

MIN_GAIN = 2.0        # reorder only when the FROM order is estimated this much costlier
MAX_RELATIONS = 12    # greedy is O(n^2) per join tree; beyond this keep FROM order


def reorder_joins(plan: LogicalNode, ctx=None) -> LogicalNode:
    if ctx is None:
        return plan
    if isinstance(plan, LogicalJoin) and _flattenable(plan):
        leaves: list[LogicalNode] = []
        conds: list = []
        _flatten(plan, leaves, conds, 0)
        leaves = [reorder_joins(leaf, ctx) for leaf in leaves]
        if 3 <= len(leaves) <= MAX_RELATIONS:
            better = _reordered(plan, leaves, conds, ctx)
            if better is not None:
                return better
        return _with_leaves(plan, iter(leaves))
    return map_children(plan, lambda c: reorder_joins(c, ctx))


def _with_leaves(node, leaves):
    """The join tree as it was, its relations replaced in order (they may have changed)."""
    if isinstance(node, LogicalJoin) and _flattenable(node):
        left = _with_leaves(node.left, leaves)
        right = _with_leaves(node.right, leaves)
        if left is node.left and right is node.right:
            return node
        return dataclasses.replace(node, left=left, right=right)
    return next(leaves)


def _flattenable(j: LogicalJoin) -> bool:
    return j.kind in ("inner", "cross") and not j.equi_keys and j.index_probe is None


def _flatten(node, leaves: list, conds: list, offset: int) -> None:
    """Relations in FROM order; conjuncts over the concatenation of their columns."""
    if isinstance(node, LogicalJoin) and _flattenable(node):
        _flatten(node.left, leaves, conds, offset)
        _flatten(node.right, leaves, conds, offset + len(node.left.columns))
        conds.extend(shift_columns(c, offset) for c in conjuncts(node.condition))
    else:
        leaves.append(node)


# ---- choosing the order -------------------------------------------------------------------

def _layout(leaves) -> tuple[list[int], list[int]]:
    """(first FROM-order column of each relation, relation of each column)."""
    starts, pos = [], 0
    for leaf in leaves:
        starts.append(pos)
        pos += len(leaf.columns)
    return starts, [i for i, leaf in enumerate(leaves) for _ in leaf.columns]


def _reordered(plan, leaves, conds, root):
    starts, owner = _layout(leaves)
    rows = [max(estimate(leaf, root), 1.0) for leaf in leaves]
    edges = []   # (set of relations, selectivity)
    for c in conds:
        rels = frozenset(owner[r] for r in column_refs(c))
        edges.append((rels, _selectivity(c, leaves, starts, owner, root)))
    original = list(range(len(leaves)))
    greedy = _greedy(rows, edges)
    if greedy == original or _cost(original, rows, edges) < MIN_GAIN * _cost(greedy, rows, edges):
        return None
    return _rebuild(plan, leaves, conds, greedy, starts, owner)


def _greedy(rows: list[float], edges) -> list[int]:
    n = len(rows)
    order = [min(range(n), key=lambda i: rows[i])]
    done = {order[0]}
    size = rows[order[0]]
    while len(order) < n:
        best = None
        for i in range(n):
            if i in done:
                continue
            joined = done | {i}
            sel, connected = 1.0, False
            for rels, s in edges:
                if i in rels and rels <= joined:
                    sel *= s
                    connected = connected or len(rels) > 1
            out = size * rows[i] * sel
            key = (not connected, out, rows[i])
            if best is None or key < best[0]:
                best = (key, i, out)
        _, i, size = best
        order.append(i)
        done.add(i)
    return order


def _cost(order: list[int], rows: list[float], edges) -> float:
    """Summed sizes of the intermediate results of the left-deep join in ``order``."""
    done = {order[0]}
    size, total = rows[order[0]], 0.0
    for i in order[1:]:
        done.add(i)
        sel = 1.0
        for rels, s in edges:
            if i in rels and rels <= done:
                sel *= s
        size = size * rows[i] * sel
        total += size
    return total


def _selectivity(c, leaves, starts, owner, root) -> float:
    if isinstance(c, Call) and c.fn == "eq" and all(isinstance(a, ColRef) for a in c.args):
        ndvs = [_distinct(leaves[owner[a.index]], a.index - starts[owner[a.index]], root)
                for a in c.args]
        known = [d for d in ndvs if d]
        return 1.0 / max(known) if known else DEFAULT_EQ
    if isinstance(c, Call) and c.fn == "eq":
        return DEFAULT_EQ
    return DEFAULT_RANGE


def _distinct(leaf, col: int, root) -> float | None:
    """Distinct values of output column ``col`` of a relation, when it is a table column."""
    while isinstance(leaf, LogicalFilter):
        leaf = leaf.child
    if not isinstance(leaf, LogicalScan) or leaf.projection is not None:
        return None
    version = root.tables.get(leaf.table)
    if version is None or col >= len(version.schema.columns):
        return None
    return column_stats(version, col).distinct


# ---- rebuilding ------------------------------------------------------------------------------

def _rebuild(plan, leaves, conds, order: list[int], starts, owner) -> LogicalNode:
    """A left-deep join of ``leaves`` in ``order`` under a projection that puts the
    columns back in FROM order (``plan.columns``)."""
    new_pos: dict[int, int] = {}
    placed = [False] * len(conds)
    needs = [frozenset(owner[r] for r in column_refs(c)) for c in conds]
    cur, done, width = None, set(), 0
    for i in order:
        leaf = leaves[i]
        for k in range(len(leaf.columns)):
            new_pos[starts[i] + k] = width + k
        width += len(leaf.columns)
        done.add(i)
        if cur is None:
            cur = leaf
            continue
        here = []
        for j, c in enumerate(conds):
            if not placed[j] and needs[j] <= done:
                placed[j] = True
                here.append(remap_columns(c, lambda r: ColRef(new_pos[r.index], r.type, r.name)))
        cond = conjoin(here)
        cur = LogicalJoin(cur.columns + leaf.columns, cur, leaf,
                          "inner" if cond is not None else "cross", cond)
    exprs = [ColRef(new_pos[p], t, n) for p, (n, t) in enumerate(plan.columns)]
    return LogicalProject(plan.columns, cur, exprs)
