"""UNION / INTERSECT / EXCEPT [ALL] run on the shards instead of on gathered tables.

A set operation compares whole rows: it is right on each shard alone when every pair
of equal rows (from any of its SELECTs) is on one shard, and then the union of the
shards' results is the whole answer (for the ALL forms too: all the copies of a row are
counted on the one shard that has them). A UNION ALL alone needs nothing of the kind: every SELECT runs on every
shard (one reading only REPLICATED tables on shard 0 alone). Otherwise, two ways:

* **co-located**: at some output position every SELECT outputs the partition key of
  its one sharded table (the same type everywhere). Equal rows have equal keys, so they
  are already on one shard: each shard runs the statement over its own rows.
* **exchanged**: otherwise each SELECT runs on every shard (one over REPLICATED tables
  only on shard 0) and its rows are repartitioned by the value at one output position
  (an output column of one hashable type in every SELECT), shard to shard
  (``exchange.py``); each shard then runs the set operation over those inputs.

A SELECT that aggregates, or has its own ORDER BY / LIMIT (or window functions,
subqueries), cannot be made row by row on the shards: it runs **first**, as a query of
its own (the caller splits it like any SELECT, so only its small result reaches the
coordinator), and its rows are handed to the shards as an input: to shard 0 for a
UNION ALL, else hash-partitioned by the exchange position like the shards' own sends.

Either way the statement's ORDER BY … LIMIT runs on every shard as a top-k (LIMIT n +
OFFSET), and the coordinator sorts and limits the union of the shards' results (merge
SQL over ``__partials``, by output position). ``plan_setop`` returns ``None`` for shapes
outside this (ORDER BY an expression, no column to exchange by); the caller then
gathers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from .. import types as sqltypes
from .ctes import with_of
from .shuffle import HASHABLE, Side
from .split import PARTIALS, _has_forbidden, _limits, _Unsupported


@dataclass
class SetOpPlan:
    shard_sql: str             # what each shard runs (over its tables or the inputs)
    merge: str                 # over __partials, columns by position (c0, c1, ...)
    position: int | None       # the output position equal rows meet by (None: UNION ALL)
    sides: list = field(default_factory=list)   # exchanged SELECTs (empty: co-located)
    others: str | None = None  # what shards other than 0 run, when it differs
    # SELECTs run first as queries of their own: (input name, SQL, position to
    # hash-partition their rows by; None: all rows to shard 0).
    first: list = field(default_factory=list)


def leaves(node: exp.Expression) -> list | None:
    """The SELECTs of a set operation tree, left to right (None: an inner part has its
    own ORDER BY / LIMIT, or is not a plain SELECT)."""
    if isinstance(node, exp.Subquery) and not node.alias:
        if any(node.args.get(a) for a in ("order", "limit", "offset")):
            return None
        return leaves(node.this)
    if isinstance(node, exp.SetOperation):
        left, right = leaves(node.this), leaves(node.expression)
        return None if left is None or right is None else left + right
    if isinstance(node, exp.Select):
        return [node]
    return None


def _plain_leaf(select: exp.Select) -> bool:
    """Does each output row of ``select`` come from one row of its FROM (so it can be
    made on the shard of that row)?"""
    if with_of(select) is not None or any(select.args.get(a) for a in (
            "group", "having", "order", "limit", "offset", "locks", "qualify", "windows")):
        return False
    distinct = select.args.get("distinct")
    if distinct is not None and distinct.args.get("on"):
        return False
    if _has_forbidden(select):
        return False
    return not any(isinstance(n, exp.AggFunc) for n in select.walk())


def _order_positions(top: exp.SetOperation, names: list) -> list | None:
    """The statement's ORDER BY by output position (1-based), None when an item is not
    an output name or position."""
    order = top.args.get("order")
    if order is None:
        return []
    lower = [n.lower() for n in names]
    out = []
    for o in order.expressions:
        t = o.this
        if isinstance(t, exp.Literal) and not t.is_string and t.this.isdigit():
            pos = int(t.this)
        elif isinstance(t, exp.Column) and not t.table:
            name = t.name if t.this.quoted else t.name.lower()
            hits = [i for i, n in enumerate(names) if n == name] or \
                [i for i, n in enumerate(lower) if n == name.lower()]
            if len(hits) != 1:
                return None
            pos = hits[0] + 1
        else:
            return None
        if not 1 <= pos <= len(names):
            return None
        new = o.copy()
        new.set("this", exp.Literal.number(pos))
        out.append(new)
    return out


def _with_order(node: exp.SetOperation, order: list, limit: int | None,
                offset: int) -> exp.SetOperation:
    node.set("order", exp.Order(expressions=[o.copy() for o in order]) if order else None)
    node.set("offset", None)
    node.set("limit", exp.Limit(expression=exp.Literal.number(limit + offset))
             if limit is not None else None)
    return node


def _reader(name: str, columns: list, distinct: bool = False) -> exp.Select:
    """``SELECT c0 AS "name0", ... FROM name``: an exchanged input (its columns named by
    position) under the names the SELECT it replaces gives them (a derived table over
    the set operation reads them by name)."""
    reader = exp.Select(expressions=[
        exp.alias_(exp.column(f"c{i}"), exp.to_identifier(n, quoted=True))
        for i, (n, _) in enumerate(columns)])
    reader.set("from_", exp.From(this=exp.to_table(name)))
    if distinct:
        reader.set("distinct", exp.Distinct())
    return reader


def plan_setop(tree: exp.SetOperation, want: list, leaf_info, placed_by,
               columns_of=None) -> SetOpPlan | None:
    """The plan for set operation ``tree`` whose result columns are ``want``.

    ``leaf_info(select)``: ``(sharded, columns)`` for one SELECT: the number of sharded
    tables it reads (None when its FROM cannot run on each shard alone) and its output
    columns ``[(name, type)]``; ``placed_by(select, position)``: does the SELECT output
    the partition key of its one sharded table there? ``columns_of(select)``: its output
    columns (None: unknown), for SELECTs run first; without it they are not planned."""
    if with_of(tree) is not None:
        return None
    selects = leaves(tree)
    if not selects:
        return None
    first = [i for i, s in enumerate(selects) if not _plain_leaf(s)]
    if first and columns_of is None:
        return None
    info = []
    for i, s in enumerate(selects):
        if i in first:
            cols = columns_of(s)
            info.append(None if cols is None else (0, list(cols)))
        else:
            info.append(leaf_info(s))
    if any(i is None or i[0] is None or len(i[1]) != len(want) for i in info):
        return None
    names = [n for n, _ in want]
    order = _order_positions(tree, names)
    if order is None:
        return None
    try:
        limit, offset = _limits(tree)
    except _Unsupported:
        return None
    merge = exp.Select(expressions=[exp.Star()])
    merge.set("from_", exp.From(this=exp.to_table(PARTIALS)))
    if order:
        merge.set("order", exp.Order(expressions=[o.copy() for o in order]))
    for arg in ("limit", "offset"):
        if tree.args.get(arg) is not None:
            merge.set(arg, tree.args[arg].copy())
    merge_sql = merge.sql(dialect="postgres")
    # Only UNION ALL: no row meets another, each SELECT runs on every shard as it is
    # (one over REPLICATED tables only on shard 0: elsewhere it makes no rows; one run
    # first: its rows are an input of shard 0). A SELECT DISTINCT is only distinct on
    # one shard: it needs its rows met (below).
    if all(isinstance(n, exp.Union) and not n.args.get("distinct")
           for n in tree.walk() if isinstance(n, exp.SetOperation)) and \
            not any(s.args.get("distinct") for s in selects):
        base = tree.copy()
        pre = []
        for i, new in enumerate(leaves(base)):
            if i in first:
                name = f"__first{i}"
                pre.append((name, selects[i].sql(dialect="postgres"), None))
                new.replace(_reader(name, info[i][1]))
        shard = _with_order(base.copy(), order, limit, offset)
        others = base.copy()
        for i, new in enumerate(leaves(others)):
            if info[i][0] == 0:
                new.set("limit", exp.Limit(expression=exp.Literal.number(0)))
        others = _with_order(others, order, limit, offset).sql(dialect="postgres")
        sql = shard.sql(dialect="postgres")
        return SetOpPlan(sql, merge_sql, None, others=others if others != sql else None,
                         first=pre)
    # Co-located: one position where every SELECT outputs its table's partition key.
    types = [[t for _, t in cols] for _, cols in info]
    if all(n == 1 for n, _ in info):
        for p in range(len(want)):
            if len({ts[p] for ts in types}) == 1 and types[0][p] in HASHABLE and \
                    all(placed_by(s, p) for s in selects):
                shard = _with_order(tree.copy(), order, limit, offset)
                return SetOpPlan(shard.sql(dialect="postgres"), merge_sql, p)
    # Exchanged: a position of one hashable type in every SELECT (an integer first).
    positions = [p for p in range(len(want))
                 if len({ts[p] for ts in types}) == 1 and types[0][p] in HASHABLE]
    if not positions:
        return None
    position = min(positions, key=lambda p: (types[0][p] != sqltypes.INTEGER, p))
    shard = tree.copy()
    sides, pre = [], []
    for i, (old, new) in enumerate(zip(selects, leaves(shard))):
        name = f"__set{i}"
        if i in first:
            pre.append((name, old.sql(dialect="postgres"), position))
            new.replace(_reader(name, info[i][1]))
            continue
        scan = old.copy()
        once = None
        if info[i][0] == 0:   # only REPLICATED tables (or none): its rows once, on shard 0
            empty = old.copy()
            empty.set("limit", exp.Limit(expression=exp.Literal.number(0)))
            once = empty.sql(dialect="postgres")
        sides.append(Side(name, "", position, scan.sql(dialect="postgres"), once))
        # DISTINCT again where all the copies of a row have met.
        new.replace(_reader(name, info[i][1], bool(old.args.get("distinct"))))
    shard = _with_order(shard, order, limit, offset)
    return SetOpPlan(shard.sql(dialect="postgres"), merge_sql, position, sides, first=pre)
