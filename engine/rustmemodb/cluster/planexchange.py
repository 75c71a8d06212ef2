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
  partitioned on that column by its table's key stays in place;
* **broadcast**: the small input (the side an inner/left/semi/anti join may copy: the
  right one; for inner/right joins also the left) goes whole to every shard;
* the choice is ``connect.py``'s own: shuffle ships the moved rows × (n-1)/n, broadcast
  the small side's rows × n; shuffle wins ties and always under ``shuffle="always"``.

Each moved input is replaced in the plan by a scan of a temporary shard-local input
(``__pshuf<i>``, registered on the shard for the partial as the SQL path's inputs are),
whose placement the split then sees (partitioned on the key column, or replicated), so
the join becomes local and the rest of the plan splits as usual. A join over an input
made by an earlier exchange reads it (``Side.reads``: that exchange runs first). A
join's rows are never moved again (a chain of joins on different keys): their number is
unknown here and can be many times the tables'. Anything else (no equi-key and no side
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

MAX_EXCHANGES = 4        # joins repartitioned per statement (a longer chain falls back)
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
        size = _sizer(catalog, sizes, counts)
        left, right = placed(join.left), placed(join.right)
        key = _key(join, left, right)
        n = shards
        shuffle_cost = None
        if key is not None and join.kind in _SHUFFLE_KINDS:
            a, b = key
            moved = (0 if _by(left, a) else size(join.left)) + \
                (0 if _by(right, b) else size(join.right))
            shuffle_cost = moved * (n - 1) / n
        copy = [s for s, ok in (("right", join.kind in _COPY_RIGHT),
                                ("left", join.kind in _COPY_LEFT)) if ok]
        copy.sort(key=lambda s: size(getattr(join, s)))
        broadcast_cost = size(getattr(join, copy[0])) * n if copy else None
        if shuffle_cost is None and join.equi_keys:
            # Equal on an expression (o.ck + 1) or across types: correlated.py's
            # placement by such columns ships less than a copy; leave it to it.
            raise NotSplit("a join off the partition key on no column to repartition by")
        if shuffle_cost is None and broadcast_cost is None:
            raise NotSplit(f"a {join.kind} join off the partition key with no key to "
                           "repartition on")
        new = join
        if shuffle_cost is not None and (broadcast_cost is None or always_shuffle or
                                         shuffle_cost <= broadcast_cost):
            a, b = key
            for attr, at, where in (("left", a, left), ("right", b, right)):
                if _by(where, at):
                    continue   # partitioned on this column by its table's key already
                sub = getattr(join, attr)
                scan = _move(sub, at, len(checks), catalog, sides, checks,
                             shapes, sizes, size(sub), placed)
                new = _with(new, attr, scan)
        else:
            sub = getattr(join, copy[0])
            scan = _move(sub, None, len(checks), catalog, sides, checks,
                         shapes, sizes, size(sub), placed)
            new = _with(new, copy[0], scan)
        plan = _substitute(plan, join, new)
    if not sides:
        return None
    return Placed(plan, catalog, sides, checks, {s.input: shapes[s.input] for s in sides})


def _sizer(catalog: dict, sizes: dict, counts: dict) -> Callable[[L.LogicalNode], float]:
    """Rows an input reads, as the cost choice counts them: the rows of its partitioned
    tables (an earlier exchange's input: the rows it was made from), filters ignored,
    as ``connect.py`` counts them for the SQL-level choice."""
    def size(node: L.LogicalNode) -> float:
        return sum(sizes.get(n.table, counts.get(n.table, 0)) for n in _nodes(node)
                   if isinstance(n, L.LogicalScan) and not catalog[n.table].replicated)
    return size


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
    """One equi-key (left position, right position) to hash both inputs on: columns of
    one hashable type; one already placing a side is preferred (that side stays)."""
    best = None
    for a, b in join.equi_keys:
        if not (isinstance(a, ColRef) and isinstance(b, ColRef)) or a.type != b.type or \
                a.type not in HASHABLE:
            continue
        if _by(left, a.index) or _by(right, b.index):
            return a.index, b.index
        best = best or (a.index, b.index)
    return best


def _by(where, at: int) -> bool:
    return any(k == at for k, _ in where.keys)


def _move(sub: L.LogicalNode, at: int | None, i: int, catalog: dict, sides: list,
          checks: list, shapes: dict, sizes: dict, rows: float,
          placed: _Placement) -> L.LogicalScan:
    """Render input ``sub`` as the scan of an exchange (by column ``at``, None: a copy
    to every shard) and return the scan of its input that replaces it in the plan."""
    if any(is_volatile(e) for e in _expressions(sub)):
        raise NotSplit("a volatile function in a repartitioned input")
    if any(isinstance(n, L.LogicalJoin) and not (placed(n.left).replicated or
                                                  placed(n.right).replicated)
           for n in _nodes(sub)):
        # A join's rows can be many times its inputs' (measured: a chain of two joins
        # off the key moved 7 MB between shards where gathering the tables is 215 KB),
        # and nothing here knows how many: such a chain is left to the other strategies.
        raise NotSplit("a join's rows would be moved again (a chain of joins on "
                       "different keys)")
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
    catalog[name] = TableInfo(name, list(names), [] if at is None else [names[at]],
                              replicated=at is None, types=dict(zip(names, types_)))
    return L.LogicalScan([(n, t) for n, t in zip(names, types_)], name)


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
