"""Exchanges placed from the optimized plan: joins whose inputs are not co-partitioned.

``plansplit.split_plan`` keeps a join on the shards only when its inputs already sit
right (partitioned on the same key and joined on it, or one side replicated). For any
other join of two partitioned inputs, this module rewrites the optimized plan before the
split so that they do sit right, with the same exchange machinery the SQL-level path
uses (``shuffle.py``'s ``Side``, run by ``connect.py``'s ``_exchange`` through
``exchange.py``, shard to shard):

* the deepest join whose inputs are each local to a shard (their subtrees place) but
  which does not place itself is taken; each input is a subtree of the plan that every
  shard can compute over its own rows, so it is rendered as SQL (``render.py``) and run
  on every shard as the exchange's scan;
* **repartition** (shuffle): the inputs are hash-partitioned on one equi-key of the
  join (equal types, hashed like placement, ``shuffle.HASHABLE``); an input already
  partitioned on that column by its table's key stays in place. A key that is an
  expression (``ON lower(a.k) = lower(b.k)``, ``ON a.x + 1 = b.y``) is computed by the
  sending shard as one more column of the moved rows, which they are hashed by; the
  join on the shard still evaluates the optimizer's own ON;
* **broadcast**: the small input (the side an inner/left/semi/anti join may copy: the
  right one; for inner/right joins also the left) goes whole to every shard;
* the choice is ``connect.py``'s own: shuffle ships the moved rows × (n-1)/n, broadcast
  the small side's rows × n; shuffle wins ties and always under ``shuffle="always"``.

Each moved input is replaced in the plan by a scan of a temporary shard-local input
(``__pshuf<i>``, registered on the shard for the partial as the SQL path's inputs are),
whose placement the split then sees (partitioned on the key column, or replicated), so
the join becomes local and the rest of the plan splits as usual. A join over an input
made by an earlier exchange reads it (``Side.reads``: that exchange runs first). In a
chain of joins on different keys the joins are placed one by one, deepest first; a
join's rows are moved again (by the next key, or copied) only when an estimate from the
tables' row counts (``_rows``: equal on a unique key, at most the other side's rows;
otherwise the product) bounds them below the rows of the tables they come from (what
gathering would move): their number can be many times the tables'. Otherwise the
other input is copied to every shard when the join allows it; when it does not (an
outer join that must keep the other input's unmatched rows), the join below is placed
with that in view (``_ahead``): one of its inputs copied, the other repartitioned by
the outer join's key (a column, or a computed key of the left input), so its rows come
out placed by it and never move again. Anything else (no equi-key and no side
to copy, replicated inputs of outer joins, a volatile function in an input) leaves the
plan as it was: the caller's fallbacks run.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

from ..plan import logical as L
from ..plan.expr import ColRef, is_volatile
from .partition import TableInfo
from .plansplit import NotSplit, _expressions, _nodes, _Placement
from .render import Unrenderable, render
from .shuffle import HASHABLE, Side

MAX_EXCHANGES = 8        # joins placed by exchanges per statement (a longer chain falls back)
INPUT = "__pshuf"
_SHUFFLE_KINDS = ("inner", "left", "right", "full", "semi", "anti")
# A copied input is whole on every shard: each row of the other input meets all of it
# there (so the copied side must be one whose unmatched rows are not kept).
_COPY_RIGHT = ("inner", "cross", "left", "semi", "anti")
_COPY_LEFT = ("inner", "cross", "right")


@dataclass
class Placed:
    """The plan with its moved inputs replaced by scans of them, the catalog those scans
    are placed by, and the exchanges to run first (top level: what the partial reads)."""
    plan: L.LogicalNode
    catalog: dict
    sides: list
    checks: list          # (Side, subtree, {input: (names, types)} it reads) to bind again
    inputs: dict          # input name -> (names, types): what the partial reads


def place_exchanges(plan: L.LogicalNode, catalog: dict, rows: Callable[[], dict],
                    shards: int, always_shuffle: bool = False) -> Placed | None:
    """Exchanges that make every join of ``plan`` local, or None when none is needed.
    ``rows()`` gives the rows per cluster table (called only when a choice is made).
    Raises ``NotSplit`` for a join it cannot place."""
    catalog = dict(catalog)
    sides: list[Side] = []
    checks: list = []
    shapes: dict[str, tuple] = {}
    sizes: dict[str, float] = {}
    counts: dict | None = None
    for i in range(MAX_EXCHANGES + 1):
        placed = _Placement(catalog)
        join = _unplaced_join(plan, placed)
        if join is None:
            break
        if i == MAX_EXCHANGES:
            raise NotSplit("more joins to repartition than the plan split places")
        if counts is None:
            counts = rows()
        size = _sizer(catalog, sizes, counts, shards)
        left, right = placed(join.left), placed(join.right)
        key = _key(join, left, right)

        def gathered(sub: L.LogicalNode) -> float:
            """The rows of the partitioned tables ``sub`` reads: what gathering moves."""
            return sum(sizes.get(t.table, counts.get(t.table, 0)) for t in _nodes(sub)
                       if isinstance(t, L.LogicalScan) and not catalog[t.table].replicated)
        n = shards
        shuffle_cost = None
        if key is not None and join.kind in _SHUFFLE_KINDS:
            a, b = key
            moving = [sub for sub, at, where in ((join.left, a, left), (join.right, b, right))
                      if not _by(where, at)]
            # A join's rows are moved again only while the estimate bounds them below
            # its tables' rows; otherwise copy the other input, or leave the statement.
            if not any(_joined(sub, placed) and size(sub) > gathered(sub) for sub in moving):
                shuffle_cost = sum(size(sub) for sub in moving) * (n - 1) / n
        copy = [s for s, ok in (("right", join.kind in _COPY_RIGHT),
                                ("left", join.kind in _COPY_LEFT)) if ok]
        copy.sort(key=lambda s: size(getattr(join, s)))
        broadcast_cost = size(getattr(join, copy[0])) * n if copy else None
        new = join
        ahead = None
        if shuffle_cost is None and broadcast_cost is None or \
                _joined(join, placed) and size(join) > gathered(join):
            ahead = _ahead(plan, join, placed, size, gathered, key)
        if ahead is not None:
            # This join's rows could not be moved on to the next join (an outer join
            # that copies neither input): copy one input here and repartition the
            # other by the next join's key, so this join's rows are placed by it.
            copied, attr, at = ahead
            for side, by in ((copied, None), (attr, at)):
                sub = getattr(join, side)
                if by is not None and _by(placed(sub), by):
                    continue
                scan = _move(sub, by, len(checks), catalog, sides, checks,
                             shapes, sizes, size(sub), placed, gathered(sub))
                new = _with(new, side, scan)
        elif shuffle_cost is None and key is not None and broadcast_cost is None:
            raise NotSplit("a join's rows would be moved again (a chain of joins on "
                           "different keys) and may be more than its tables'")
        elif shuffle_cost is None and join.equi_keys and broadcast_cost is None:
            raise NotSplit("a join off the partition key on no key to repartition by")
        elif shuffle_cost is None and broadcast_cost is None:
            raise NotSplit(f"a {join.kind} join off the partition key with no key to "
                           "repartition on")
        elif shuffle_cost is not None and (broadcast_cost is None or always_shuffle or
                                           shuffle_cost <= broadcast_cost):
            a, b = key
            for attr, at, where in (("left", a, left), ("right", b, right)):
                if _by(where, at):
                    continue   # partitioned on this column by its table's key already
                sub = getattr(join, attr)
                scan = _move(sub, at, len(checks), catalog, sides, checks,
                             shapes, sizes, size(sub), placed, gathered(sub))
                new = _with(new, attr, scan)
        else:
            sub = getattr(join, copy[0])
            scan = _move(sub, None, len(checks), catalog, sides, checks,
                         shapes, sizes, size(sub), placed, gathered(sub))
            new = _with(new, copy[0], scan)
        plan = _substitute(plan, join, new)
    if not sides:
        return None
    return Placed(plan, catalog, sides, checks, {s.input: shapes[s.input] for s in sides})


def place_grouping(plan: L.LogicalNode, catalog: dict) -> Placed | None:
    """For an aggregate with no partial form (``plansplit.AggregateNotSplit``) over rows
    every shard can compute: its input repartitioned by one of its group columns, so
    each group is whole on one shard, which computes its final values (an ordered
    ``string_agg``, a percentile, ``json_agg``) as the single engine does. None when
    there is no such aggregate, or it has no group column to hash by."""
    catalog = dict(catalog)
    placed = _Placement(catalog)
    agg = _unplaced_aggregate(plan, placed)
    if agg is None:
        return None
    width = len(agg.child.columns)
    at = next((g.index for g in agg.groups if isinstance(g, ColRef) and g.index < width
               and g.type in HASHABLE), None)
    if at is None:
        return None
    sides: list = []
    checks: list = []
    shapes: dict = {}
    scan = _move(agg.child, at, 0, catalog, sides, checks, shapes, {}, 0.0, placed)
    plan = _substitute(plan, agg, replace(agg, child=scan))
    return Placed(plan, catalog, sides, checks, {s.input: shapes[s.input] for s in sides})


def _unplaced_aggregate(plan: L.LogicalNode, placed: _Placement) -> L.LogicalAggregate | None:
    """The topmost grouped aggregate (no grouping sets) whose input is local and
    partitioned but which is not local itself."""
    if isinstance(plan, L.LogicalAggregate) and plan.groups and \
            plan.grouping_sets is None and placed(plan) is None:
        inner = placed(plan.child)
        if inner is not None and not inner.replicated:
            return plan
    for child in plan.children():
        found = _unplaced_aggregate(child, placed)
        if found is not None:
            return found
    return None


def _ahead(plan: L.LogicalNode, join: L.LogicalJoin, placed: _Placement, size,
           gathered, key) -> tuple | None:
    """For a join whose rows the next join up cannot take as they will be (moving them
    again may ship more than their tables; that join, outer, copies neither input):
    (input to copy to every shard, input to repartition, by its column) so that this
    join's rows come out placed by the next join's key. None when that does not fit."""
    parent = _parent(plan, join)
    if not isinstance(parent, L.LogicalJoin) or parent.kind not in _SHUFFLE_KINDS:
        return None
    mine = "left" if parent.left is join else "right"
    other = "right" if mine == "left" else "left"
    if parent.kind in (_COPY_RIGHT if other == "right" else _COPY_LEFT):
        return None   # the next join copies its other input instead
    width = len(join.left.columns)
    for a, b in parent.equi_keys:
        pos, there = (a, b) if mine == "left" else (b, a)
        if pos.type != there.type or pos.type not in HASHABLE or is_volatile(pos):
            continue
        if not isinstance(pos, ColRef):
            # a computed key over this join's left input alone: the left rows carry it
            # (the same expression object, so the next join sees them placed by it)
            if any(isinstance(e, ColRef) and e.index >= width for e in pos.walk()) and \
                    join.kind not in ("semi", "anti"):
                continue
            attr, at, copied = "left", pos, "right"
        elif join.kind in ("semi", "anti") or pos.index < width:
            attr, at, copied = "left", pos.index, "right"
        else:
            attr, at, copied = "right", pos.index - width, "left"
        if key is not None and key[0 if attr == "left" else 1] == at:
            return None   # repartitioned by this join's key, its rows are placed by it
        if join.kind not in (_COPY_RIGHT if copied == "right" else _COPY_LEFT):
            continue
        sub = getattr(join, copied)
        if _joined(sub, placed) and size(sub) > gathered(sub):
            continue
        return copied, attr, at
    return None


def _parent(node: L.LogicalNode, target: L.LogicalNode) -> L.LogicalNode | None:
    for child in node.children():
        if child is target:
            return node
        found = _parent(child, target)
        if found is not None:
            return found
    return None


def _joined(sub: L.LogicalNode, placed: _Placement) -> bool:
    """``sub`` joins rows of partitioned inputs (its rows are a join's, not a table's)."""
    return any(isinstance(n, L.LogicalJoin) and not (placed(n.left).replicated or
                                                      placed(n.right).replicated)
               for n in _nodes(sub))


def _sizer(catalog: dict, sizes: dict, counts: dict,
           shards: int) -> Callable[[L.LogicalNode], float]:
    """Rows an input holds, as the cost choice counts them: a partitioned table's rows
    (an earlier exchange's input: the rows it was made from), filters ignored, as
    ``connect.py`` counts them for the SQL-level choice; a join's rows by a simple
    estimate (``_rows``). Replicated tables move nothing: 0 outside a join."""
    def size(node: L.LogicalNode) -> float:
        if not any(isinstance(n, L.LogicalJoin) for n in _nodes(node)):
            return sum(sizes.get(n.table, counts.get(n.table, 0)) for n in _nodes(node)
                       if isinstance(n, L.LogicalScan) and not catalog[n.table].replicated)
        return _rows(node, catalog, sizes, counts, shards)
    return size


def _rows(node: L.LogicalNode, catalog: dict, sizes: dict, counts: dict,
          shards: int) -> float:
    """An estimate of ``node``'s rows from the tables' row counts alone: a join equal on
    a column unique on one side (a table's own primary key, its partition key) has at
    most the other side's rows; any other join is bounded by the product (no guess
    below it: a join's rows can be many times its inputs')."""
    if isinstance(node, L.LogicalScan):
        info = catalog.get(node.table)
        rows = sizes.get(node.table, counts.get(node.table, 0))
        if info is not None and info.replicated and node.table not in sizes:
            rows = rows / shards          # (every shard counted its full copy)
        return rows
    if isinstance(node, L.LogicalJoin):
        left, right = (_rows(c, catalog, sizes, counts, shards)
                       for c in (node.left, node.right))
        if node.kind in ("semi", "anti"):
            return left
        lu, ru = _unique(node.left, catalog), _unique(node.right, catalog)
        keyed = [(isinstance(a, ColRef) and a.index in lu, isinstance(b, ColRef) and
                  b.index in ru) for a, b in node.equi_keys]
        if any(r for _, r in keyed):
            out = left + (right if node.kind in ("right", "full") else 0)
        elif any(lf for lf, _ in keyed):
            out = right + (left if node.kind in ("left", "full") else 0)
        else:
            out = left * max(right, 1) + (left + right if node.kind != "inner" else 0)
        return out
    return sum(_rows(c, catalog, sizes, counts, shards) for c in node.children())


def _unique(node: L.LogicalNode, catalog: dict) -> set:
    """Output positions of ``node`` whose values are unique: a table's single-column
    primary key (its implicit partition key), through filters and projections."""
    if isinstance(node, L.LogicalScan):
        info = catalog.get(node.table)
        if info is None or info.explicit or len(info.key) != 1 or \
                node.table.startswith(INPUT):
            return set()
        at = info.columns.index(info.key[0])
        keep = node.projection if node.projection is not None else \
            list(range(len(info.columns)))
        return {i for i, p in enumerate(keep) if p == at}
    if isinstance(node, (L.LogicalFilter, L.LogicalSort, L.LogicalLimit)):
        return _unique(node.child, catalog)
    if isinstance(node, L.LogicalProject):
        inner = _unique(node.child, catalog)
        return {i for i, e in enumerate(node.exprs) if isinstance(e, ColRef) and e.index in inner}
    return set()


def _unplaced_join(plan: L.LogicalNode, placed: _Placement) -> L.LogicalJoin | None:
    """The deepest join (post-order: inputs first) whose inputs are each local and
    partitioned but which is not local itself."""
    for child in plan.children():
        found = _unplaced_join(child, placed)
        if found is not None:
            return found
    if isinstance(plan, L.LogicalJoin) and placed(plan) is None:
        left, right = placed(plan.left), placed(plan.right)
        if left is not None and right is not None and not left.replicated and \
                not right.replicated and plan.index_probe is None:
            return plan
    return None


def _key(join: L.LogicalJoin, left, right) -> tuple | None:
    """One equi-key (left, right) to hash both inputs on, each a column position or a
    computed key (the equi-key's expression: ``lower(a.k)``, ``a.x + 1``), of one
    hashable type: one already placing a side is preferred (that side stays), then a
    pair of columns, then a computed key (each side's rows carry its value, computed
    once on the shard that sends them)."""
    best = computed = None
    for a, b in join.equi_keys:
        if a.type != b.type or a.type not in HASHABLE or is_volatile(a) or is_volatile(b):
            continue
        ka = a.index if isinstance(a, ColRef) else a
        kb = b.index if isinstance(b, ColRef) else b
        if _by(left, ka) or _by(right, kb):
            return ka, kb
        if isinstance(ka, int) and isinstance(kb, int):
            best = best or (ka, kb)
        else:
            computed = computed or (ka, kb)
    return best or computed


def _by(where, at) -> bool:
    """``where`` (a placement) is partitioned by ``at``: a column position or a
    computed key (the same expression object)."""
    if not isinstance(at, int):
        return any(at is c for c in where.computed)
    return any(k == at for k, _ in where.keys)


def _move(sub: L.LogicalNode, at, i: int, catalog: dict, sides: list,
          checks: list, shapes: dict, sizes: dict, rows: float,
          placed: _Placement, gather: float = 0.0) -> L.LogicalScan:
    """Render input ``sub`` as the scan of an exchange (by column ``at``, or by a
    computed key expression over its columns, carried as one more column; None: a copy
    to every shard) and return the scan of its input that replaces it in the plan."""
    computed = None
    if at is not None and not isinstance(at, int):
        computed, width = at, len(sub.columns)
        sub = L.LogicalProject(list(sub.columns) + [("jk", computed.type)], sub,
                               [ColRef(i, t, n) for i, (n, t) in enumerate(sub.columns)]
                               + [computed])
        at = width
    if any(is_volatile(e) for e in _expressions(sub)):
        raise NotSplit("a volatile function in a repartitioned input")
    if _joined(sub, placed) and rows > gather:
        # A join's rows can be many times its inputs' (measured: a chain of two joins
        # off the key moved 7 MB between shards where gathering the tables is 215 KB):
        # moved again only when the estimate bounds them below the tables' rows.
        raise NotSplit("a join's rows would be moved again (a chain of joins on "
                       "different keys) and may be more than its tables'")
    seen: dict = {}
    names = []
    for j, (name, _) in enumerate(sub.columns):
        # The plan's names where they are unique (EXPLAIN reads them), else by position.
        good = name and name.isidentifier() and not name.startswith("__")
        names.append(name if good and name not in seen else f"c{j}")
        seen[name] = True
    if len(set(names)) < len(names):
        names = [f"c{j}" for j in range(len(names))]

    def columns(table: str) -> list:
        return list(catalog[table].columns)
    try:
        sql = render(sub, columns, names)
    except Unrenderable as exc:
        raise NotSplit(f"not rendered: {exc}") from exc
    name = f"{INPUT}{i}"
    read = {n.table for n in _nodes(sub) if isinstance(n, L.LogicalScan)}
    reads = [s for s in sides if s.input in read]
    for s in reads:
        sides.remove(s)
    tables = [n.table for n in _nodes(sub) if isinstance(n, L.LogicalScan)]
    labels = {s.input: f"({s.table})" for s, _, _ in checks}
    label = " ⋈ ".join(dict.fromkeys(labels.get(t, t) for t in reversed(tables)))
    side = Side(name, label, None if at is None else names[at], sql, reads=reads or None)
    sides.append(side)
    types_ = [t for _, t in sub.columns]
    shapes[name] = (names, types_)
    checks.append((side, sub, {s.input: shapes[s.input] for s in reads}))
    sizes[name] = rows
    if computed is not None:
        catalog[name] = ComputedInput(name, list(names), [names[at]],
                                      types=dict(zip(names, types_)), computed=computed)
        return L.LogicalScan([(n, t) for n, t in zip(names[:at], types_[:at])], name,
                             projection=list(range(at)))
    catalog[name] = TableInfo(name, list(names), [] if at is None else [names[at]],
                              replicated=at is None, types=dict(zip(names, types_)))
    return L.LogicalScan([(n, t) for n, t in zip(names, types_)], name)


@dataclass
class ComputedInput(TableInfo):
    """An exchange's input placed by a computed key: its last column holds the key's
    value; ``computed`` is the join's equi-key expression over the other columns (the
    placement the split reads, ``plansplit._Placement``)."""
    computed: object = None


def _with(join: L.LogicalJoin, attr: str, scan: L.LogicalScan) -> L.LogicalJoin:
    return replace(join, **{attr: scan})


def _substitute(node: L.LogicalNode, target: L.LogicalNode, new: L.LogicalNode):
    """``node`` with ``target`` (by identity) replaced by ``new`` (copies on the path)."""
    if node is target:
        return new
    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, L.LogicalNode):
            got = _substitute(value, target, new)
            if got is not value:
                changes[f.name] = got
        elif isinstance(value, list) and value and all(isinstance(v, L.LogicalNode)
                                                       for v in value):
            got = [_substitute(v, target, new) for v in value]
            if any(g is not v for g, v in zip(got, value)):
                changes[f.name] = got
    if not changes:
        return node
    return replace(node, **changes)
