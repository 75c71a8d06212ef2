"""Windows with no PARTITION BY, computed on the shards over ordered ranges.

Why: ``row_number() OVER (ORDER BY x)``, a running ``sum(v) OVER (ORDER BY ts)`` or
``rank()`` over all rows has one window partition, the whole table, so no hash
repartitioning puts it whole on one shard; the coordinator used to gather the columns
of every qualifying row and compute it alone. Here the rows are range-partitioned on
the first ORDER BY key instead:

1. each shard sends a sample of that key (``ntile`` boundaries of its own rows), and
   the coordinator picks one range per shard from their union;
2. one split aggregate per range (``stats_sql``) tells, for every range, its row
   count and the partial totals the windows need; prefix sums of those over the ranges
   before it (in the windows' order: DESC and NULLS FIRST / LAST reverse or move the
   ranges) are each range's *offsets*;
3. every row goes, shard to shard, to the shard of its range (``exchange.py``: the
   range number is a computed column, hash-partitioned; the numbers are chosen so
   that range ``j`` hashes to shard ``j``), and each shard computes the windows
   ``PARTITION BY`` its range plus the range's offsets: ``row_number`` and ``rank``
   add the rows of earlier ranges, ``dense_rank`` their distinct keys (on several
   keys, their distinct tuples, counted on the shards after an exchange of each
   shard's tuples by range: ``distinct_sql``), a ``count`` / ``sum`` / ``min`` /
   ``max`` / ``avg`` over a frame from UNBOUNDED PRECEDING or CURRENT ROW to CURRENT ROW
   or UNBOUNDED FOLLOWING (``open_frame``) combines its frame within the range with
   the earlier ranges' totals (from UNBOUNDED PRECEDING) and the later ones' (to
   UNBOUNDED FOLLOWING: suffix sums, the offsets read backwards).

Rows equal on the first key land in the same range, so ties (``rank``'s peers, a
RANGE frame's peer rows) never straddle two ranges. ``lag`` / ``lead`` by k rows read
rows of the ranges around: each shard also sends, as *ghost* rows flagged
``__ghost``, its last k rows of every range (by the windows' order) to every later
range (its first k to every earlier one, for ``lead``); a range's true neighbours are
among them. ``lag`` / ``lead`` are computed over the rows and their ghosts, and so is
an aggregate or ``first_value`` / ``last_value`` / ``nth_value`` over a bounded ROWS
frame (``ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING``: 2 ghost rows from before, 1 from
after), and over a RANGE or GROUPS frame with offsets (``halo_frame``): there the
ghost rows are a *halo*, every row of the ranges around whose key lies within the
frame's reach of the range's bounds (``RANGE BETWEEN 5 PRECEDING ...``: keys down to
the range's lowest bound minus 5), or of their last / first k peer groups (``GROUPS
k PRECEDING``); a row sent by several of these reasons goes once. An aggregate over
``ROWS BETWEEN n PRECEDING AND UNBOUNDED FOLLOWING`` (or from UNBOUNDED PRECEDING to n
FOLLOWING) is two frames (``split_frame``): the n rows before the current one over the
ghosts, the rest as a frame to UNBOUNDED FOLLOWING. Every other window runs over the
rows alone. ``percent_rank``, ``cume_dist`` and ``ntile`` need the
count of all rows too (the sum of the ranges' counts) and their range's offset;
``first_value`` / ``nth_value`` over a frame from UNBOUNDED PRECEDING read one row's
value, the first (n-th) of all rows, which a top-k query finds first, and
``last_value`` over one to UNBOUNDED FOLLOWING the last row's; over a frame ending
(starting) at CURRENT ROW ``last_value`` (``first_value``) reads the row's own range.
Windows of several orders run in stages, and over a join's rows, in
``select_plan.py``. A RANGE / GROUPS frame with an offset on one side of the row and
UNBOUNDED on the other is split in two as well (the offset part with EXCLUDE GROUP
over the halo); an EXCLUDE stays with its frame (what it leaves out, the row and its
peers, is in the row's range); ``nth_value`` from CURRENT ROW reads n - 1 ghost rows
ahead (``nth_ahead``). Rows no table column holds (a derived table's values) are split
at the quantiles of a sample drawn on the shards (``spread_sample_sql``). What this
does not cover (a frame from an offset ahead to UNBOUNDED FOLLOWING and its mirror)
stays on the path that gathers the columns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlglot import exp

from .. import types
from .ctes import with_of
from .partition import shard_of_key

RANGE_COLUMN = "__range"
ORDERABLE = {types.INTEGER, types.FLOAT, types.TEXT, types.DATE, types.TIMESTAMP}
SAMPLES_PER_SHARD = 32
SPREAD_SAMPLES = 16   # per range: drawn from rows no table column holds (a top-k each)
_RUNNING = (exp.Count, exp.Sum, exp.Min, exp.Max, exp.Avg)
_RANKING = (exp.RowNumber, exp.Rank, exp.DenseRank)
_SHIFTS = (exp.Lag, exp.Lead)
_VALUES = (exp.FirstValue, exp.LastValue, exp.NthValue)
GHOST_COLUMN = "__ghost"
MAX_SHIFT = 1000


def positive_literal(node) -> int | None:
    """The value of an integer literal above 0 (ntile's buckets, nth_value's position),
    None for anything else (the path that gathers then raises PostgreSQL's error)."""
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit() and \
            int(node.this) > 0:
        return int(node.this)
    return None


def value_sql(shape: RangeShape, window: exp.Window) -> str | None:
    """For ``first_value`` / ``nth_value`` (``window``, one of ``shape.windows``) over a
    frame from UNBOUNDED PRECEDING, and ``last_value`` over one to UNBOUNDED FOLLOWING:
    the query giving the value they read, that of the first (n-th; last) row of all rows
    by the windows' order (a top-k on the shards: only k rows per shard reach the
    coordinator). It is one value for every row (for nth_value, once the frame holds n
    rows); None for the other functions and frames."""
    fn = window.this
    frame = open_frame(window)
    if frame is None or not (isinstance(fn, (exp.FirstValue, exp.NthValue)) and frame[0] or
                             isinstance(fn, exp.LastValue) and frame[1]):
        return None
    q = exp.select(fn.this.copy()).from_(shape.table.copy())
    if shape.tree.args.get("where") is not None:
        q.set("where", shape.tree.args["where"].copy())
    order = window.args["order"].copy()
    if isinstance(fn, exp.LastValue):
        order = exp.Order(expressions=_reversed(order.expressions))
    q.set("order", order)
    q.set("limit", exp.Limit(expression=exp.Literal.number(1)))
    if isinstance(fn, exp.NthValue):
        q.set("offset", exp.Offset(expression=exp.Literal.number(
            positive_literal(fn.args["offset"]) - 1)))
    return q.sql(dialect="postgres")


def shift_of(fn: exp.Expression) -> int | None:
    """The offset of ``lag`` / ``lead`` (1 when not given), None unless a literal
    integer from 0 to ``MAX_SHIFT``."""
    offset = fn.args.get("offset")
    if offset is None:
        return 1
    if isinstance(offset, exp.Literal) and not offset.is_string and \
            offset.this.isdigit() and int(offset.this) <= MAX_SHIFT:
        return int(offset.this)
    return None


@dataclass
class RangeShape:
    """A SELECT whose windows all share one ORDER BY and no PARTITION BY."""
    tree: exp.Select
    table: exp.Table
    alias: str
    key: str                      # the first ORDER BY key: a column of the table
    desc: bool
    nulls_first: bool
    windows: list = field(default_factory=list)   # the exp.Window nodes of ``tree``


def _bound(node) -> str:
    return str(node or "").upper()


def open_frame(w: exp.Window) -> tuple[bool, bool] | None:
    """For a frame whose bounds are UNBOUNDED or CURRENT ROW (ROWS, RANGE or GROUPS; an
    EXCLUDE only for a running aggregate, whose part within the range keeps it: the
    rows it leaves out, the current one and its peers, are in that range), the default
    one included: ``(reaches the ranges before, reaches the ranges after)``, whether it
    starts at UNBOUNDED PRECEDING and ends at UNBOUNDED FOLLOWING. Its part within the
    row's range is the same frame over the range's rows (peers never straddle two
    ranges), the rest whole ranges. None for any other frame."""
    spec = w.args.get("spec")
    if spec is None:
        return True, False
    if spec.args.get("exclude") and not isinstance(w.this, _RUNNING):
        return None
    start = (_bound(spec.args.get("start")), _bound(spec.args.get("start_side")))
    end = (_bound(spec.args.get("end") or "CURRENT ROW"), _bound(spec.args.get("end_side")))
    if start not in (("UNBOUNDED", "PRECEDING"), ("CURRENT ROW", "")) or \
            end not in (("UNBOUNDED", "FOLLOWING"), ("CURRENT ROW", "")):
        return None
    return start[0] == "UNBOUNDED", end[0] == "UNBOUNDED"


def split_frame(w: exp.Window) -> tuple[exp.WindowSpec, exp.WindowSpec, int, int] | None:
    """A ROWS frame from n rows back to UNBOUNDED FOLLOWING (or from UNBOUNDED PRECEDING
    to n rows ahead), n from 1 to ``MAX_SHIFT``, as two frames that do not overlap:
    ``(bounded part, open part, rows back, rows ahead)``, ``ROWS BETWEEN n PRECEDING AND
    1 PRECEDING`` over the rows and their ghosts beside ``ROWS BETWEEN CURRENT ROW AND
    UNBOUNDED FOLLOWING`` (an ``open_frame``); an aggregate over the whole combines
    theirs. A RANGE or GROUPS frame from an offset back to UNBOUNDED FOLLOWING (or from
    UNBOUNDED PRECEDING to an offset ahead) likewise: ``RANGE BETWEEN 5 PRECEDING AND
    CURRENT ROW EXCLUDE GROUP`` over the rows and their halo (``frame_halo``: no rows
    back, none ahead) beside ``RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING``,
    the peers in the open part only. The frame's EXCLUDE goes to both parts (the rows
    it leaves out are the current one and its peers, in the row's range). None for
    any other frame."""
    spec = w.args.get("spec")
    kind = _bound(spec.args.get("kind")) if spec is not None else ""
    if kind in ("RANGE", "GROUPS"):
        return _split_offset_frame(spec, kind)
    if kind != "ROWS":
        return None
    start, start_side = spec.args.get("start"), _bound(spec.args.get("start_side"))
    end, end_side = spec.args.get("end"), _bound(spec.args.get("end_side"))
    exclude = spec.args.get("exclude")

    def rows(node) -> int | None:
        if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit() \
                and 1 <= int(node.this) <= MAX_SHIFT:
            return int(node.this)
        return None
    n = rows(start)
    if n is not None and start_side == "PRECEDING" and _bound(end) == "UNBOUNDED" and \
            end_side == "FOLLOWING":
        return (_excluding(exp.WindowSpec(kind="ROWS", start=exp.Literal.number(n),
                                          start_side="PRECEDING", end=exp.Literal.number(1),
                                          end_side="PRECEDING"), exclude),
                _excluding(exp.WindowSpec(kind="ROWS", start="CURRENT ROW", end="UNBOUNDED",
                                          end_side="FOLLOWING"), exclude), n, 0)
    n = rows(end)
    if n is not None and end_side == "FOLLOWING" and _bound(start) == "UNBOUNDED" and \
            start_side == "PRECEDING":
        return (_excluding(exp.WindowSpec(kind="ROWS", start=exp.Literal.number(1),
                                          start_side="FOLLOWING", end=exp.Literal.number(n),
                                          end_side="FOLLOWING"), exclude),
                _excluding(exp.WindowSpec(kind="ROWS", start="UNBOUNDED",
                                          start_side="PRECEDING", end="CURRENT ROW"),
                           exclude), 0, n)
    return None


def _excluding(spec: exp.WindowSpec, exclude) -> exp.WindowSpec:
    if exclude is not None:
        spec.set("exclude", exclude.copy())
    return spec


def _split_offset_frame(spec: exp.WindowSpec, kind: str):
    """``split_frame`` of a RANGE / GROUPS frame (see there)."""
    start, start_side = spec.args.get("start"), _bound(spec.args.get("start_side"))
    end, end_side = spec.args.get("end"), _bound(spec.args.get("end_side"))
    exclude = spec.args.get("exclude")
    group = exp.Var(this="GROUP")
    if _bound(start) == "UNBOUNDED" and start_side == "PRECEDING" and \
            end_side == "FOLLOWING" and _offset(end) is not None:
        bounded = exp.WindowSpec(kind=kind, start="CURRENT ROW", end=end.copy(),
                                 end_side="FOLLOWING", exclude=group)
        rest = exp.WindowSpec(kind=kind, start="UNBOUNDED", start_side="PRECEDING",
                              end="CURRENT ROW")
    elif _bound(end) == "UNBOUNDED" and end_side == "FOLLOWING" and \
            start_side == "PRECEDING" and _offset(start) is not None:
        bounded = exp.WindowSpec(kind=kind, start=start.copy(), start_side="PRECEDING",
                                 end="CURRENT ROW", exclude=group)
        rest = exp.WindowSpec(kind=kind, start="CURRENT ROW", end="UNBOUNDED",
                              end_side="FOLLOWING")
    else:
        return None
    if halo_frame(bounded) is None:
        return None
    return bounded, _excluding(rest, exclude), 0, 0


def frame_halo(w: exp.Window) -> tuple[str, object, object] | None:
    """``halo_frame`` of ``w``'s frame, or of the bounded part ``split_frame`` makes of
    it (a RANGE / GROUPS frame with one UNBOUNDED bound)."""
    halo = halo_frame(w)
    if halo is None and isinstance(w.this, _RUNNING):
        split = split_frame(w)
        if split is not None and _bound(split[0].args.get("kind")) != "ROWS":
            halo = halo_frame(split[0])
    return halo


def _offset(node) -> exp.Expression | None:
    """A frame offset PostgreSQL accepts as a constant: a number, or an INTERVAL."""
    if isinstance(node, exp.Literal) and not node.is_string:
        return node
    if isinstance(node, exp.Interval) and isinstance(node.this, exp.Literal):
        return node
    return None


def halo_frame(w: exp.Window | exp.WindowSpec) -> tuple[str, object, object] | None:
    """For a RANGE or GROUPS frame with an offset bound and no UNBOUNDED one (``RANGE
    BETWEEN 2 PRECEDING AND 1 FOLLOWING``, ``GROUPS 3 PRECEDING``; no EXCLUDE): ``(kind,
    back, forward)``, how far before the row (the start's offset when PRECEDING, else
    None) and after it (the end's offset when FOLLOWING) the frame reaches: a key
    distance for RANGE (the offset expression), a number of peer groups for GROUPS (an
    int up to ``MAX_SHIFT``). The rows of the ranges around within that reach come as
    ghost rows (a halo); None for any other frame. An EXCLUDE stays with the frame: the
    rows it leaves out are in the row's own range, never ghosts."""
    spec = w if isinstance(w, exp.WindowSpec) else w.args.get("spec")
    kind = _bound(spec.args.get("kind")) if spec is not None else ""
    if kind not in ("RANGE", "GROUPS"):
        return None
    reach = []
    offsets = 0
    for bound, side, toward in (("start", "start_side", "PRECEDING"),
                                ("end", "end_side", "FOLLOWING")):
        node = spec.args.get(bound) or "CURRENT ROW"
        if _bound(node) == "CURRENT ROW":
            reach.append(None)
            continue
        if _bound(node) == "UNBOUNDED":
            return None
        off = _offset(node)
        if off is None:
            return None
        offsets += 1
        if kind == "GROUPS" and (isinstance(off, exp.Interval) or
                                 not off.this.isdigit() or int(off.this) > MAX_SHIFT):
            return None
        reach.append((int(off.this) if kind == "GROUPS" else off)
                     if _bound(spec.args.get(side)) == toward else None)
    if not offsets:
        return None
    return kind, reach[0], reach[1]


def nth_ahead(w: exp.Window) -> int | None:
    """For ``nth_value(x, n)`` over a frame from CURRENT ROW (to CURRENT ROW or
    UNBOUNDED FOLLOWING): the rows ahead it reads, n - 1 (the frame's n-th row is at
    most n - 1 rows after the current one: among the ghost rows of the ranges after),
    computed over the rows and those ghosts. None for anything else."""
    frame = open_frame(w) if isinstance(w.this, exp.NthValue) else None
    if frame is None or frame[0]:
        return None
    n = positive_literal(w.this.args.get("offset"))
    return n - 1 if n is not None and n - 1 <= MAX_SHIFT else None


def bounded_rows(w: exp.Window) -> tuple[int, int] | None:
    """``(rows before, rows after)`` the current row that a bounded ROWS frame reaches
    (``ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING``: (2, 1)), each at most ``MAX_SHIFT``;
    None for any other frame (no frame, UNBOUNDED, RANGE / GROUPS). An EXCLUDE stays
    with the frame (what it leaves out is in the row's own range)."""
    spec = w.args.get("spec")
    if spec is None or str(spec.args.get("kind") or "").upper() != "ROWS":
        return None

    def reach(bound, side) -> tuple[int, int] | None:
        if str(bound or "CURRENT ROW").upper() == "CURRENT ROW":
            return 0, 0
        if not isinstance(bound, exp.Literal) or bound.is_string or \
                not bound.this.isdigit() or int(bound.this) > MAX_SHIFT:
            return None
        return (int(bound.this), 0) if str(side).upper() == "PRECEDING" else \
            (0, int(bound.this))
    start = reach(spec.args.get("start"), spec.args.get("start_side"))
    end = reach(spec.args.get("end"), spec.args.get("end_side"))
    if start is None or end is None:
        return None
    return max(start[0], end[0]), max(start[1], end[1])


def range_shape(tree: exp.Expression, table_name: Callable, info) -> RangeShape | None:
    """``tree`` as a ``RangeShape`` over sharded table ``info`` (read alone in its FROM,
    no join, no subquery, no aggregate outside the windows), None when it is not one."""
    if not isinstance(tree, exp.Select) or tree.args.get("joins") or \
            tree.args.get("windows") or with_of(tree) is not None or any(
                tree.args.get(k) for k in ("group", "having", "qualify", "distinct",
                                           "laterals")):
        return None
    from_ = tree.args.get("from_")
    table = from_.this if from_ is not None else None
    if not isinstance(table, exp.Table) or table_name(table) != info.name or \
            table.args.get("sample"):
        return None
    if any(isinstance(n, exp.Query) for n in tree.walk() if n is not tree) or any(
            isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
            for n in tree.walk()):
        return None
    windows = [n for n in tree.walk() if isinstance(n, exp.Window)]
    if not windows:
        return None
    order = None
    for w in windows:
        fn = w.this
        if w.args.get("partition_by") or w.args.get("order") is None or \
                w.find_ancestor(exp.Window) is not None:
            return None
        frame = open_frame(w)
        if frame is None and (bounded_rows(w) is None and halo_frame(w) is None or
                              not isinstance(fn, _RUNNING + _VALUES)) and \
                (split_frame(w) is None or not isinstance(fn, _RUNNING)):
            return None
        if frame is not None and not frame[0] and isinstance(fn, exp.NthValue) and \
                nth_ahead(w) is None:
            return None   # (its n-th row from the current one: n - 1 ghost rows ahead)
        if isinstance(fn, _RANKING):
            pass
        elif isinstance(fn, _SHIFTS):
            if shift_of(fn) is None or \
                    any(isinstance(n, exp.Window) for n in fn.walk() if n is not fn):
                return None
        elif isinstance(fn, (exp.PercentRank, exp.CumeDist)):
            pass
        elif isinstance(fn, exp.Ntile):
            if positive_literal(fn.this) is None:
                return None
        elif isinstance(fn, _RUNNING + _VALUES):
            if isinstance(fn.this, exp.Distinct) or \
                    any(isinstance(n, exp.Window) for n in fn.walk() if n is not fn):
                return None
            if isinstance(fn, exp.NthValue) and positive_literal(fn.args.get("offset")) is None:
                return None
        else:
            return None
        spelled = w.args["order"].sql(dialect="postgres")
        if order is not None and spelled != order:
            return None
        order = spelled
    for n in tree.walk():   # an aggregate outside a window: a grouped query
        if isinstance(n, exp.AggFunc) and not isinstance(n.parent, exp.Window):
            return None
    first = windows[0].args["order"].expressions[0]
    col = first.this
    alias = table.alias_or_name
    if not isinstance(col, exp.Column) or col.table not in ("", alias):
        return None
    name = col.name if col.this.quoted else col.name.lower()
    if name not in info.columns or info.types.get(name) not in ORDERABLE:
        return None
    for w in windows:   # a RANGE offset the key's type takes (else the engine's error)
        halo = frame_halo(w)
        if halo is not None and halo[0] == "RANGE" and any(
                r is not None and info.types[name] not in (
                    (types.DATE, types.TIMESTAMP) if isinstance(r, exp.Interval)
                    else (types.INTEGER, types.FLOAT, types.DATE))
                for r in halo[1:]):
            return None
    desc = bool(first.args.get("desc"))
    nulls_first = first.args.get("nulls_first")
    nulls_first = desc if nulls_first is None else bool(nulls_first)
    return RangeShape(tree, table, alias, name, desc, nulls_first, windows)


def dense_on_tuples(shape: RangeShape) -> bool:
    """Whether a ``dense_rank`` orders on several keys: a range's distinct keys are then
    tuples, which ``distinct_sql`` counts (``stats_sql`` counts those of one key)."""
    return len(shape.windows[0].args["order"].expressions) > 1 and any(
        isinstance(w.this, exp.DenseRank) for w in shape.windows)


def distinct_sql(shape: RangeShape, bounds: list, ids: list, literal: Callable,
                 sql_type: str, input_name: str) -> tuple[str, str]:
    """For ``dense_on_tuples``: ``(scan, partial)``, what each shard sends (its distinct
    tuples of the ORDER BY keys, with their range ``__range``: the exchange puts each
    range whole on one shard) and what each shard then runs over what it received
    (``input_name``): the distinct tuples of its ranges counted per range. Only those
    counts reach the coordinator, where ``COUNT(DISTINCT)`` of one key would gather the
    keys (and the tuples are nearly as many as the rows)."""
    alias = shape.alias
    keys = [o.this.copy() for o in shape.windows[0].args["order"].expressions]
    scan = exp.select(_range_expr(shape, bounds, ids, literal, sql_type, alias).as_(
        RANGE_COLUMN, quoted=True), *[k.as_(f"__o{i}", quoted=True)
                                      for i, k in enumerate(keys)]).from_(shape.table.copy())
    scan.set("distinct", exp.Distinct())
    if shape.tree.args.get("where") is not None:
        scan.set("where", shape.tree.args["where"].copy())
    rng = exp.column(RANGE_COLUMN, quoted=True)
    tuples = exp.select(exp.Star()).from_(exp.to_table(input_name))
    tuples.set("distinct", exp.Distinct())
    partial = exp.select(rng.copy().as_("r", quoted=True),
                         exp.Count(this=exp.Star()).as_("d", quoted=True)).from_(
        exp.Subquery(this=tuples, alias=exp.TableAlias(this=exp.to_identifier("__t"))))
    partial.set("group", exp.Group(expressions=[rng.copy()]))
    return scan.sql(dialect="postgres"), partial.sql(dialect="postgres")


def sample_sql(shape: RangeShape) -> str:
    """What each shard runs: ``SAMPLES_PER_SHARD`` quantile boundaries of the key over
    its rows that pass the WHERE."""
    key = exp.column(shape.key, table=shape.alias, quoted=True)
    inner = exp.select(key.copy().as_("__k"), exp.Window(
        this=exp.Anonymous(this="ntile", expressions=[
            exp.Literal.number(SAMPLES_PER_SHARD)]),
        order=exp.Order(expressions=[exp.Ordered(this=key.copy(), nulls_first=False)]),
        over="OVER").as_("__q")).from_(shape.table.copy())
    cond = exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null()))
    where = shape.tree.args.get("where")
    inner.set("where", exp.Where(this=exp.and_(where.this.copy(), cond)
                                 if where is not None else cond))
    outer = exp.select(exp.Min(this=exp.column("__k")).as_("k")).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__s"))))
    outer.set("group", exp.Group(expressions=[exp.column("__q")]))
    return outer.sql(dialect="postgres")


def bounds_from(samples: list, ranges: int) -> list:
    """``ranges - 1`` increasing bounds from the shards' samples (fewer when the key
    has fewer distinct values): range ``j`` holds keys in ``[bound j-1, bound j)``."""
    values = sorted(v for v in samples if v is not None and v == v)   # (not NaN: it
    # sorts above every number in SQL, and its rows fall in the last range)
    if not values or ranges < 2:
        return []
    out = []
    for j in range(1, ranges):
        v = values[min(len(values) - 1, j * len(values) // ranges)]
        if (not out or v > out[-1]) and v > values[0]:
            out.append(v)
    return out


def spread_sample_sql(shape: RangeShape, rows: int, columns: list) -> str:
    """About ``rows`` values of the key drawn from the shape's rows that pass the WHERE
    (NULLs left out: they have a range of their own), for rows no table column holds (a
    derived table's values, a window's): the first ``rows`` in the order of a hash of
    each row's ``columns`` (``ORDER BY substr(md5(...)) LIMIT rows``: a top-k on the
    shards, ``rows`` short values per shard reach the coordinator; ``random()`` would
    not split). Rows differing in any of those columns are drawn apart, so a key
    repeated by many rows is drawn as often as it is repeated: their quantiles
    (``bounds_from``) split the rows evenly, where even steps between the key's min and
    max put most rows of a skewed key in one range, and split no text at all."""
    key = exp.column(shape.key, table=shape.alias, quoted=True)
    cond = exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null()))
    where = shape.tree.args.get("where")
    q = exp.select(key.copy().as_("k")).from_(shape.table.copy()).where(
        exp.and_(where.this.copy(), cond) if where is not None else cond)
    spelled = exp.Anonymous(this="concat_ws", expressions=[exp.Literal.string("|")] + [
        exp.cast(exp.column(c, table=shape.alias, quoted=True), "TEXT") for c in columns])
    q.set("order", exp.Order(expressions=[exp.Ordered(this=exp.Substring(
        this=exp.MD5(this=spelled), start=exp.Literal.number(1),
        length=exp.Literal.number(8)))]))
    q.set("limit", exp.Limit(expression=exp.Literal.number(rows)))
    return q.sql(dialect="postgres")


def range_ids(shards: int, ranges: int) -> list[int]:
    """An integer per range that hashes to shard ``range % shards`` (the exchange
    places rows by the hash of the range column)."""
    ids, used, candidate = [], set(), 0
    for j in range(ranges):
        while True:
            if candidate not in used and shard_of_key((candidate,), shards) == j % shards:
                ids.append(candidate)
                used.add(candidate)
                candidate = 0
                break
            candidate += 1
    return ids


def _range_expr(shape: RangeShape, bounds: list, ids: list, literal: Callable,
                sql_type: str, alias: str | None) -> exp.Expression:
    """``CASE WHEN key IS NULL THEN <NULL range> WHEN key < b1 THEN id0 ... ELSE idm
    END``: the range a row belongs to (NULLs: a range of their own, the last id)."""
    key = exp.column(shape.key, table=alias, quoted=True)
    case = exp.Case(ifs=[exp.If(this=exp.Is(this=key.copy(), expression=exp.Null()),
                                true=exp.Literal.number(ids[-1]))])
    for j, b in enumerate(bounds):
        case.append("ifs", exp.If(this=exp.LT(this=key.copy(), expression=literal(b, sql_type)),
                                  true=exp.Literal.number(ids[j])))
    case.set("default", exp.Literal.number(ids[len(bounds)]))
    return case


def window_order(shape: RangeShape, ids: list, bounds: list) -> list[int]:
    """The range ids in the order the windows see them: by key ascending or descending,
    the NULL range (``ids[-1]``) first or last."""
    values = ids[:len(bounds) + 1]
    if shape.desc:
        values = values[::-1]
    return [ids[-1]] + values if shape.nulls_first else values + [ids[-1]]


def stats_sql(shape: RangeShape, bounds: list, ids: list, literal: Callable,
              sql_type: str) -> tuple[str, list]:
    """A grouped query giving, per range, what the offsets are made of: its rows,
    distinct keys and, per running aggregate, its total over the range (an ``avg``: its
    sum and count). Returns ``(SQL, [(window, column position, how totals combine:
    "count", "sum", "min" or "max")])``."""
    alias = shape.alias
    dense = any(isinstance(w.this, exp.DenseRank) for w in shape.windows) and \
        not dense_on_tuples(shape)
    cols = [_range_expr(shape, bounds, ids, literal, sql_type, alias).as_("r"),
            exp.Count(this=exp.Star()).as_("n"),
            # (distinct keys only for dense_rank: COUNT(DISTINCT) moves the keys)
            (exp.Count(this=exp.Distinct(expressions=[
                exp.column(shape.key, table=alias, quoted=True)])) if dense
             else exp.Literal.number(0)).as_("d")]
    where_of = []
    kinds = {exp.Count: "count", exp.Sum: "sum", exp.Min: "min", exp.Max: "max"}
    for w in shape.windows:
        fn = w.this
        if open_frame(w) is None and split_frame(w) is None:   # (computed over its
            continue                                           # rows and ghosts)
        if isinstance(fn, exp.Avg):
            for part, kind in ((exp.Sum(this=fn.this.copy()), "sum"),
                               (exp.Count(this=fn.this.copy()), "count")):
                cols.append(part.as_(f"w{len(cols)}"))
                where_of.append((w, len(cols) - 1, kind))
        elif isinstance(fn, _RUNNING):
            cols.append(fn.copy().as_(f"w{len(cols)}"))
            where_of.append((w, len(cols) - 1, kinds[type(fn)]))
    q = exp.select(*cols).from_(shape.table.copy())
    if shape.tree.args.get("where") is not None:
        q.set("where", shape.tree.args["where"].copy())
    q.set("group", exp.Group(expressions=[exp.Literal.number(1)]))
    return q.sql(dialect="postgres"), where_of


def offsets(order: list, stats: dict, positions: list, null_range: int,
            tuples: dict | None = None) -> dict:
    """``{range id: {"n": rows before, "d": distinct keys before, position: total of
    that running aggregate's column before}}`` from ``stats`` (``{range id: row}``);
    a total is None where no earlier range had a value (0 for a count). The NULL range
    (``null_range``) holds one distinct key, NULL, which COUNT(DISTINCT) leaves out.
    ``tuples``: ``{range id: distinct tuples}`` (``distinct_sql``, NULLs counted) in
    place of the distinct keys of ``stats``."""
    out = {}
    n = d = 0
    totals: dict = {p: (0 if kind == "count" else None, kind) for p, kind in positions}
    for rid in order:
        out[rid] = {"n": n, "d": d, **{p: totals[p][0] for p, _ in positions}}
        row = stats.get(rid)
        if row is None:
            continue
        n += row[1]
        if tuples is not None:
            d += tuples.get(rid, 0)
        else:
            d += 1 if rid == null_range and row[1] else row[2]
        for p, kind in positions:
            v = row[p]
            old = totals[p][0]
            if v is None:
                continue
            if old is None:
                new = v
            elif kind in ("sum", "count"):
                new = old + v
            elif kind == "min":
                new = v if _sql_less(v, old) else old
            else:
                new = v if _sql_less(old, v) else old
            totals[p] = (new, kind)
    return out


def _sql_less(a, b) -> bool:
    """``a < b`` as SQL orders floats: NaN above every number (Python's ``<`` says
    False both ways, so ``max`` / ``min`` would drop or keep it by position)."""
    if isinstance(a, float) and a != a:
        return False
    if isinstance(b, float) and b != b:
        return True
    return a < b


def _by_range(alias: str, values: dict, literal: Callable, sql_type: str | None):
    """``CASE alias.__range WHEN id THEN value ... END`` (NULL where a value is None)."""
    case = exp.Case(this=exp.column(RANGE_COLUMN, table=alias, quoted=True))
    for rid, v in values.items():
        case.append("ifs", exp.If(this=exp.Literal.number(rid),
                                  true=exp.Literal.number(v) if sql_type is None
                                  else literal(v, sql_type)))
    return case


def _reversed(order: list) -> list:
    """``order`` (``exp.Ordered`` with explicit NULLS placement) read backwards."""
    out = []
    for o in order:
        desc = bool(o.args.get("desc"))
        nulls_first = o.args.get("nulls_first")
        nulls_first = desc if nulls_first is None else bool(nulls_first)
        out.append(exp.Ordered(this=o.this.copy(), desc=not desc, nulls_first=not nulls_first))
    return out


def _halo(shape: RangeShape, bounds: list, ids: list, literal: Callable, key_type: str,
          reaches: list, backwards: bool) -> Callable | None:
    """For RANGE offset frames reaching ``reaches`` (offset expressions) before the row
    (``backwards``; else after it): a function of the key column giving the condition
    ``CASE __m.tgt WHEN <range id> THEN <the key within reach of that range's keys>
    ... END`` that sends a row of another range to range ``tgt`` as a ghost row. A
    range ``[lo, hi)`` needs, ascending, the keys from ``lo - reach`` before it and to
    ``hi + reach`` after it (descending, the other way round). NULL keys are within
    no reach (a NULL row's frame is its NULL peers). None when nothing reaches."""
    if not reaches:
        return None
    use_lo = backwards != shape.desc

    def condition(key: exp.Expression) -> exp.Expression:
        case = exp.Case(this=exp.column("tgt", table="__m"))
        for j in range(len(bounds) + 1):
            edge = (bounds[j - 1] if j > 0 else None) if use_lo else \
                (bounds[j] if j < len(bounds) else None)
            if edge is None:
                continue
            edge = literal(edge, key_type)
            case.append("ifs", exp.If(this=exp.Literal.number(ids[j]), true=exp.or_(*[
                exp.GTE(this=key.copy(), expression=exp.Sub(this=edge.copy(),
                                                             expression=r.copy()))
                if use_lo else
                exp.LTE(this=key.copy(), expression=exp.Add(this=edge.copy(),
                                                            expression=r.copy()))
                for r in reaches])))
        if not case.args.get("ifs"):   # (one range of keys: nothing around it)
            return exp.false()
        case.set("default", exp.false())
        return case
    return condition


def _ghosts(shape: RangeShape, range_expr: exp.Expression, scan_columns: list,
            order_ids: list, rows: int, backwards: bool, groups: int = 0,
            halo: Callable | None = None) -> exp.Select | None:
    """Each shard's ghost rows: of every range, its last ``rows`` rows by the windows'
    order (``backwards`` False: its first ``rows``), the rows of its last (first)
    ``groups`` peer groups and the rows ``halo`` (``_halo``) says are within a RANGE
    frame's reach, each with ``__range`` set to the later ranges (earlier, for the
    first rows) that read it and ``__ghost`` TRUE. A row goes to a range once,
    whatever sent it. Over each shard's own rows these are a superset of the true
    neighbours (the last k rows of all shards are among the shards' last k), and a
    superset of whole rows ordered as all rows are gives the same windows."""
    alias = shape.alias
    order = [o.copy() for o in shape.windows[0].args["order"].expressions]
    pairs = [(src, tgt) for i, src in enumerate(order_ids)
             for tgt in (order_ids[i + 1:] if backwards else order_ids[:i])]
    if not pairs or rows == 0 and groups == 0 and halo is None:
        return None
    by = exp.Order(expressions=_reversed(order) if backwards else order)
    ranked = exp.select(
        *[exp.column(c, table=alias, quoted=True) for c in scan_columns],
        range_expr.copy().as_("__r", quoted=True),
        exp.column(shape.key, table=alias, quoted=True).as_("__k", quoted=True),
        exp.Window(this=exp.RowNumber(), partition_by=[range_expr.copy()],
                   order=by.copy(), over="OVER").as_("__rn", quoted=True),
        exp.Window(this=exp.DenseRank(), partition_by=[range_expr.copy()],
                   order=by.copy(), over="OVER").as_("__gn", quoted=True),
    ).from_(shape.table.copy())
    if shape.tree.args.get("where") is not None:
        ranked.set("where", shape.tree.args["where"].copy())
    moves = exp.Subquery(this=exp.Values(expressions=[
        exp.Tuple(expressions=[exp.Literal.number(a), exp.Literal.number(b)])
        for a, b in pairs]), alias=exp.TableAlias(
            this=exp.to_identifier("__m"),
            columns=[exp.to_identifier("src"), exp.to_identifier("tgt")]))
    ghost = exp.select(
        *[exp.column(c, table="__s", quoted=True) for c in scan_columns],
        exp.column("tgt", table="__m").as_(RANGE_COLUMN, quoted=True),
        exp.true().as_(GHOST_COLUMN, quoted=True)).from_(
        exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("__s"))))
    ghost = ghost.join(moves, on=exp.EQ(this=exp.column("src", table="__m"),
                                         expression=exp.column("__r", table="__s",
                                                               quoted=True)))
    sends = []
    if rows:
        sends.append(exp.LTE(this=exp.column("__rn", table="__s", quoted=True),
                             expression=exp.Literal.number(rows)))
    if groups:
        sends.append(exp.LTE(this=exp.column("__gn", table="__s", quoted=True),
                             expression=exp.Literal.number(groups)))
    if halo is not None:
        sends.append(exp.Paren(this=halo(exp.column("__k", table="__s", quoted=True))))
    return ghost.where(exp.or_(*sends))


def _double(e: exp.Expression) -> exp.Expression:
    return exp.cast(exp.Paren(this=e), "DOUBLE PRECISION")


def _distribution(fn: exp.Expression, local: exp.Window, before: exp.Expression,
                  total: int) -> exp.Expression:
    """``percent_rank``, ``cume_dist`` or ``ntile`` over all ``total`` rows from a
    window over the range's rows (``local``, changed here) and the rows of the ranges
    before (``before``), by the engine's (PostgreSQL's) formulas: ``(rank - 1) / (N -
    1)``, ``(rows up to the last peer) / N``, and ntile's buckets of ``N // k`` rows,
    the first ``N % k`` one row larger."""
    local.set("spec", None)   # (these read no frame; cume_dist counts to the last peer)
    if isinstance(fn, exp.PercentRank):
        local.set("this", exp.Rank())
        if total <= 1:
            return exp.cast(exp.Literal.number(0), "DOUBLE PRECISION")
        rank = exp.Add(this=exp.Sub(this=local, expression=exp.Literal.number(1)),
                       expression=before)
        return exp.Div(this=_double(rank), expression=exp.Literal.number(total - 1))
    if isinstance(fn, exp.CumeDist):
        local.set("this", exp.Count(this=exp.Star()))
        return exp.Div(this=_double(exp.Add(this=local, expression=before)),
                       expression=exp.Literal.number(max(total, 1)))
    k = positive_literal(fn.this)
    local.set("this", exp.RowNumber())
    r = exp.Paren(this=exp.Add(this=exp.Sub(this=local, expression=exp.Literal.number(1)),
                               expression=before))
    q, rem = divmod(total, k)
    if q == 0:   # as many buckets as rows, or more: a bucket per row
        return exp.Add(this=r, expression=exp.Literal.number(1))
    big = rem * (q + 1)
    # integer / integer truncates (``r / k``): div() is numeric's, as in PostgreSQL
    return exp.Case(ifs=[exp.If(
        this=exp.LT(this=r.copy(), expression=exp.Literal.number(big)),
        true=exp.Add(this=exp.Div(this=r.copy(), expression=exp.Literal.number(q + 1),
                                  typed=True),
                     expression=exp.Literal.number(1)))],
        default=exp.Add(this=exp.Div(
            this=exp.Paren(this=exp.Sub(this=r.copy(), expression=exp.Literal.number(big))),
            expression=exp.Literal.number(q), typed=True),
            expression=exp.Literal.number(rem + 1)))


def _combined(fn: exp.Expression, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """``count`` / ``sum`` / ``min`` / ``max`` of two parts of a frame from theirs (a
    part's value NULL where it holds no value; a count's 0)."""
    if isinstance(fn, exp.Count):
        return exp.Add(this=a, expression=b)
    null_a = exp.Is(this=a.copy(), expression=exp.Null())
    null_b = exp.Is(this=b.copy(), expression=exp.Null())
    if isinstance(fn, exp.Sum):
        return exp.Case(ifs=[exp.If(this=null_b, true=a.copy()),
                             exp.If(this=null_a, true=b.copy())],
                        default=exp.Add(this=a.copy(), expression=b.copy()))
    better = exp.LT if isinstance(fn, exp.Min) else exp.GT
    return exp.Case(ifs=[exp.If(this=null_b, true=a.copy()),
                         exp.If(this=null_a, true=b.copy()),
                         exp.If(this=better(this=a.copy(), expression=b.copy()),
                                true=a.copy())],
                    default=b.copy())


def rewrite(shape: RangeShape, bounds: list, ids: list, per_range: dict, positions: dict,
            types_of: dict, literal: Callable, key_type: str, input_name: str,
            scan_columns: list, total: int = 0, values: dict | None = None,
            after: dict | None = None) -> tuple[exp.Select, str, exp.Select | None]:
    """The statement each shard runs over the rows it received (``input_name``, with
    their range column), every window partitioned by range and shifted by its offsets,
    and the scan each shard runs to send its rows: ``(statement, scan SQL, shifts)``.
    ``total``: the rows of all ranges; ``values``: ``{id(window): literal}``, the value
    each ``first_value`` / ``nth_value`` / ``last_value`` reads (``value_sql``);
    ``after``: ``per_range`` of the ranges after each (a frame to UNBOUNDED FOLLOWING).
    ``shifts`` (None without lag / lead or a frame over ghost rows): the SELECT over
    ``input_name`` and its ghost rows computing each such window as a column
    ``__shift<n>``, which the caller puts in place of ``input_name`` in the statement
    (whose WHERE drops the ghosts)."""
    tree = shape.tree.copy()
    alias = shape.alias
    windows = [n for n in tree.walk() if isinstance(n, exp.Window)]
    shifted = []

    def by_range(offsets: dict, what, sql_type):
        return _by_range(alias, {r: o[what] for r, o in offsets.items()}, literal, sql_type)
    for w, original in zip(windows, shape.windows):
        local = w.copy()
        local.set("partition_by", [exp.column(RANGE_COLUMN, table=alias, quoted=True)])
        fn = w.this
        frame = open_frame(original)
        if nth_ahead(original) is not None:
            frame = None   # (over the rows and the ghosts ahead: ``nth_ahead``)
        split = split_frame(original) if frame is None and isinstance(fn, _RUNNING) else None
        part = None   # (the bounded part of a split frame: columns over the ghosts)
        if split is not None:
            local.set("spec", split[1])
            frame = open_frame(local)
            part = []
            for what in ((exp.Sum, exp.Count) if isinstance(fn, exp.Avg) else (type(fn),)):
                bounded = local.copy()
                bounded.set("spec", split[0].copy())
                bounded.set("this", what(this=fn.this.copy()))
                name = f"__shift{len(shifted)}"
                shifted.append(bounded.as_(name, quoted=True))
                part.append(exp.column(name, table=alias, quoted=True))
        if isinstance(fn, _SHIFTS) or frame is None:
            name = f"__shift{len(shifted)}"
            shifted.append(local.as_(name, quoted=True))
            w.replace(exp.column(name, table=alias, quoted=True))
            continue
        # the parts of the frame outside the row's range: whole ranges before, after
        sides = [o for o, reached in ((per_range, frame[0]), (after, frame[1])) if reached]
        if isinstance(fn, (exp.PercentRank, exp.CumeDist, exp.Ntile)):
            new = _distribution(fn, local, by_range(per_range, "n", None), total)
        elif isinstance(fn, exp.LastValue):   # ends in the range (peers too), or the last
            new = values[id(original)].copy() if frame[1] else local
        elif isinstance(fn, exp.FirstValue):   # starts in the range, or the first row
            new = values[id(original)].copy() if frame[0] else local
        elif isinstance(fn, exp.NthValue):   # NULL until the frame holds n rows
            if frame[1]:   # (the frame: every row)
                new = values[id(original)].copy()
            else:
                local.set("this", exp.Count(this=exp.Star()))
                new = exp.Case(ifs=[exp.If(this=exp.GTE(
                    this=exp.Add(this=local, expression=by_range(per_range, "n", None)),
                    expression=exp.Literal.number(positive_literal(fn.args["offset"]))),
                    true=values[id(original)].copy())])
        elif isinstance(fn, (exp.RowNumber, exp.Rank, exp.DenseRank)):
            what = "d" if isinstance(fn, exp.DenseRank) else "n"
            new = exp.Add(this=local, expression=by_range(per_range, what, None))
        elif isinstance(fn, exp.Avg):   # (the parts' sums) / (their counts)
            p_sum, p_count = positions[id(original)]
            local_sum = local.copy()
            local_sum.set("this", exp.Sum(this=fn.this.copy()))
            local_count = local.copy()
            local_count.set("this", exp.Count(this=fn.this.copy()))
            sums = exp.Coalesce(this=local_sum, expressions=[exp.Literal.number(0)])
            count = local_count
            if part is not None:
                sums = exp.Add(this=sums, expression=exp.Coalesce(
                    this=part[0], expressions=[exp.Literal.number(0)]))
                count = exp.Add(this=count, expression=part[1])
            for o in sides:
                sums = exp.Add(this=sums, expression=exp.Coalesce(
                    this=by_range(o, p_sum, types_of[p_sum]),
                    expressions=[exp.Literal.number(0)]))
                count = exp.Add(this=count, expression=by_range(o, p_count,
                                                                types_of[p_count]))
            # avg of integers or numerics is numeric (sum / count at numeric's division
            # scale, as the engine's and PostgreSQL's avg), of floats float8
            quotient = "DOUBLE PRECISION" if types_of[p_sum] == types.FLOAT else "NUMERIC"
            new = exp.Div(this=exp.cast(sums, quotient),
                          expression=exp.Nullif(this=count,
                                                expression=exp.Literal.number(0)))
        else:
            p = positions[id(original)][0]
            new = local
            for o in sides:
                new = _combined(fn, new, by_range(o, p, types_of[p]))
            if part is not None:
                new = _combined(fn, new, part[0])
        w.replace(exp.Paren(this=new))
    range_expr = _range_expr(shape, bounds, ids, literal, key_type, alias)
    scan = exp.select(*[exp.column(c, table=alias, quoted=True) for c in scan_columns],
                      range_expr.copy().as_(RANGE_COLUMN, quoted=True)).from_(
        shape.table.copy())
    if shape.tree.args.get("where") is not None:
        scan.set("where", shape.tree.args["where"].copy())
        tree.set("where", None)
    new_table = exp.Table(this=exp.to_identifier(input_name),
                          alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    tree.args["from_"].set("this", new_table)
    if not shifted:
        return tree, scan.sql(dialect="postgres"), None
    scan.append("expressions", exp.false().as_(GHOST_COLUMN, quoted=True))
    order_ids = window_order(shape, ids, bounds)
    lags = [shift_of(w.this) for w in shape.windows if isinstance(w.this, exp.Lag)]
    leads = [shift_of(w.this) for w in shape.windows if isinstance(w.this, exp.Lead)]
    for w in shape.windows:   # a bounded frame reaches as far as a lag / lead would
        split = split_frame(w) if open_frame(w) is None else None
        reach = bounded_rows(w) or (split[2:] if split is not None else None)
        if reach is not None:
            lags.append(reach[0])
            leads.append(reach[1])
        if nth_ahead(w) is not None:
            leads.append(nth_ahead(w))
    halos = [h for h in (frame_halo(w) for w in shape.windows) if h is not None]
    sent: exp.Expression = scan
    for rows, backwards, at in ((max(lags, default=0), True, 1),
                                (max(leads, default=0), False, 2)):
        groups = max((h[at] for h in halos if h[0] == "GROUPS" and h[at] is not None),
                     default=0)
        halo = _halo(shape, bounds, ids, literal, key_type,
                     [h[at] for h in halos if h[0] == "RANGE" and h[at] is not None],
                     backwards)
        ghost = _ghosts(shape, range_expr, scan_columns, order_ids, rows, backwards,
                        groups, halo)
        if ghost is not None:
            sent = exp.union(sent, ghost, distinct=False)
    shifts = exp.select(exp.Star(), *shifted).from_(new_table.copy())
    tree.set("where", exp.Where(this=exp.Not(this=exp.column(GHOST_COLUMN, table=alias,
                                                             quoted=True))))
    return tree, sent.sql(dialect="postgres"), shifts

