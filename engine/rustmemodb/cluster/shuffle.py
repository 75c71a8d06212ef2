"""Repartitioning (shuffle) instead of gathering: joins off the partition key.

When a SELECT joins sharded tables on columns that are not their partition keys, the
rows that meet are on different shards. Instead of gathering every table at the
coordinator (or copying all but one to every shard), each table is *repartitioned*:
every shard scans its rows of the table (only the columns the query reads, with the
WHERE conjuncts on that table alone pushed down), hash-partitions them on the join key
with the same hash as placement (``partition.py``), keeps its own partition and sends
the others straight to their shards (``exchange.py``: the coordinator sees sizes and
tokens, never a row), so shard ``j`` receives exactly the rows whose key hashes to ``j``
from every shard. Then every shard runs the statement's
partial plan (``split.py``) over its repartitioned inputs, and only the partials are
gathered and merged, as for any split.

The join is correct per partition because every ON (or, for inner joins only, WHERE)
equality that links the tables puts matching rows on the same shard: the planner finds
one class of equal columns, one per sharded table and all of one type, that links every
sharded table of the FROM; outer joins are allowed as long as that equality is a
top-level conjunct of each join's ON (an unmatched row is then unmatched on its shard
as it is everywhere). A table whose partition key is its column of that class is
already placed by the same hash: it stays where it is and only the others move.
``plan_join`` returns ``None`` outside that; the caller then broadcasts or gathers.

The GROUP BY side of repartitioning (merging big partials on the shards, by the group
keys) is in ``connect.py``, which decides it from the partial sizes at run time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from .. import types
from .ctes import with_of

# Types whose equal values always have equal hashes (``partition.hash_value``) when
# both sides have the same type (integral floats hash as integers); an INTERVAL hashes
# by its span (months as 30 days, days as 24 hours), as SQL compares intervals: '1 mon'
# = '30 days' = '720 hours' land on one shard. NUMERIC is not here yet: its byte keys
# (numeric.py) read back from the shards' Arrow partials as bytea.
HASHABLE = {types.INTEGER, types.TEXT, types.BOOLEAN, types.DATE, types.TIMESTAMP,
            types.UUID, types.FLOAT, types.INTERVAL}


@dataclass
class Side:
    input: str          # the Arrow input name the statement reads instead of the table
    table: str
    key: str | int | None   # the column the rows are repartitioned on (int: by
                            # position; None: every row to every shard, a broadcast)
    scan: str | None    # SQL each shard runs to produce its rows (None: all of ``table``)
    once: str | None = None   # what shards other than 0 run instead (rows made once)
    reads: list | None = None  # sides whose exchange ``scan`` reads (moved first)


@dataclass
class JoinShuffle:
    tree: exp.Select                        # the statement reading the inputs
    sides: list = field(default_factory=list)
    in_place: list = field(default_factory=list)   # tables already placed by the key


def plan_join(tree: exp.Select, part: list, catalog: dict, table_name) -> JoinShuffle | None:
    """Repartition plan for ``tree`` whose top-level FROM joins sharded tables ``part``
    (``table_name`` maps a sqlglot Table to its catalog name, None for system tables)."""
    if not isinstance(tree, exp.Select) or with_of(tree) is not None:
        return None
    from_ = tree.args.get("from_")
    if from_ is None:
        return None
    joins = tree.args.get("joins") or []
    top = [from_.this] + [j.this for j in joins]
    if not all(isinstance(t, exp.Table) for t in top):
        return None
    if any(table_name(t) not in catalog or t.args.get("alias") is not None and
           t.args["alias"].columns for t in top):
        return None   # (column aliases rename what the scans would read by name)
    sharded = [t for t in top if table_name(t) in part]
    if len(sharded) < 2:
        return None
    top_ids = {id(t) for t in top}
    for t in tree.find_all(exp.Table):   # a sharded table elsewhere (subquery): no
        name = table_name(t)
        if name in catalog and not catalog[name].replicated and id(t) not in top_ids:
            return None
    outer = any((j.args.get("side") or "") for j in joins)
    if outer and len(sharded) != len(top):
        return None   # a REPLICATED table beside an outer join could repeat per shard
    if any(j.args.get("using") for j in joins) or any(
            isinstance(n, exp.TableSample) for n in tree.walk()):
        return None
    aliases = {}
    for t in top:
        alias = t.alias_or_name
        if alias in aliases:
            return None
        aliases[alias] = t

    def owner(col: exp.Column):
        if col.table:
            return aliases.get(col.table)
        found = [t for t in sharded if _has_column(catalog[table_name(t)], col.name)]
        others = [t for t in top if t not in sharded and table_name(t) in catalog and
                  _has_column(catalog[table_name(t)], col.name)]
        return found[0] if len(found) == 1 and not others else None

    # Union-find over (table alias, column) pairs linked by equalities.
    pairs: list = []

    def link(conds):
        for c in conds:
            if not (isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and
                    isinstance(c.expression, exp.Column)):
                continue
            a, b = owner(c.this), owner(c.expression)
            if a is None or b is None or a is b or a not in sharded or b not in sharded:
                continue
            ia, ib = catalog[table_name(a)], catalog[table_name(b)]
            ca, cb = column_of(ia, c.this.name), column_of(ib, c.expression.name)
            if ca is None or cb is None or ia.types[ca] != ib.types[cb] or \
                    ia.types[ca] not in HASHABLE:
                continue
            pairs.append(((a.alias_or_name, ca), (b.alias_or_name, cb)))

    for j in joins:
        on = j.args.get("on")
        if on is not None:
            link(conjuncts(on))
        elif (j.args.get("side") or ""):
            return None
    if not outer and tree.args.get("where") is not None:
        link(conjuncts(tree.args["where"].this))
    find = union_find(pairs)
    classes: dict = {}
    for node in dict.fromkeys(n for pair in pairs for n in pair):
        classes.setdefault(find(node), []).append(node)
    chosen = None
    for members in classes.values():
        by_alias = {}
        for alias, col in members:
            by_alias.setdefault(alias, col)
        if all(t.alias_or_name in by_alias for t in sharded):
            chosen = by_alias
            break
    if chosen is None:
        return None
    for j in joins:   # an outer join's table must be linked by its own ON
        if (j.args.get("side") or "") and j.args.get("on") is None:
            return None
    tree = tree.copy()
    new_top = [tree.args["from_"].this] + [j.this for j in tree.args.get("joins") or []]
    pushdown = [] if outer else list(conjuncts(tree.args["where"].this)) \
        if tree.args.get("where") is not None else []
    plan = JoinShuffle(tree)
    for i, (old, t) in enumerate(zip(top, new_top)):
        if old not in sharded:
            continue
        name = table_name(old)
        info = catalog[name]
        alias = old.alias_or_name
        if info.key == [chosen[alias]]:
            continue   # already placed by this key, with the same hash: it stays in place
        plan.sides.append(_side(tree, i, old, t, info, chosen[alias], pushdown, top, catalog,
                                table_name))
    # (No side to move: every table is placed by the key already. The plain split
    # sees that only for ON equalities of qualified keys; this also covers a comma
    # join's WHERE and unqualified names, and runs as a split, nothing moved.)
    plan.in_place = [table_name(t) for t in sharded
                     if catalog[table_name(t)].key == [chosen[t.alias_or_name]]]
    return plan


def _side(tree, i: int, old: exp.Table, t: exp.Table, info, key: str, pushdown: list,
          top: list, catalog: dict, table_name) -> Side:
    """Repartition table reference ``t`` of ``tree`` (``old``: the same reference in the
    original tree) on ``key``: the scan each shard runs (the columns the statement reads,
    WHERE conjuncts on this table alone pushed down) and ``t`` replaced by its input."""
    name, alias = info.name, old.alias_or_name
    cols = _needed_columns(tree, alias, info, None, catalog, table_name, key)
    filters = [c for c in pushdown if _only_on(c, alias, info, top, catalog, table_name)]
    source = exp.Table(this=exp.to_identifier(name, quoted=True),
                       alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
    scan = exp.Select(expressions=[exp.column(c, table=alias, quoted=True) for c in cols])
    scan.set("from_", exp.From(this=source))
    if filters:
        scan.set("where", exp.Where(this=exp.and_(*[f.copy() for f in filters])))
    input_name = f"__shuf{i}_{name}"
    new = t.copy()
    new.set("this", exp.to_identifier(input_name))
    new.set("db", None)
    if new.args.get("alias") is None:
        new.set("alias", exp.TableAlias(this=exp.to_identifier(t.name, quoted=t.this.quoted)))
    t.replace(new)
    return Side(input_name, name, key, scan.sql(dialect="postgres"))


def window_specs(tree: exp.Select) -> list:
    """The PARTITION BY expressions of every window function call of ``tree`` (named
    windows, ``OVER w``, resolved through its WINDOW clause); [] when it has none."""
    named = {}
    for w in tree.args.get("windows") or []:
        named[w.this.name if isinstance(w.this, exp.Identifier) else w.alias_or_name] = w
    out = []
    for n in tree.walk():
        if not isinstance(n, exp.Window) or n.arg_key == "windows":
            continue
        parts = n.args.get("partition_by") or []
        ref = n.args.get("alias")
        while not parts and ref is not None and ref.name in named:
            base = named[ref.name]
            parts = base.args.get("partition_by") or []
            ref = base.args.get("alias") if base.args.get("alias") is not ref else None
        out.append(list(parts))
    return out


def window_key(tree: exp.Select, table: exp.Table, info, top: list, catalog: dict,
               table_name) -> list:
    """The columns of sharded ``table`` (the only sharded table of the FROM) that are in
    the PARTITION BY of every window of ``tree``: rows equal on one of them are in the
    same window partition of every window, so placing the rows by it puts each window
    partition whole on one shard. [] when there is none (or a window has no PARTITION BY)."""
    specs = window_specs(tree)
    if not specs:
        return []
    alias = table.alias_or_name
    common = None
    for parts in specs:
        cols = set()
        for p in parts:
            if not isinstance(p, exp.Column):
                continue
            c = column_of(info, p.name)
            if c is None:
                continue
            if p.table:
                if p.table != alias:
                    continue
            elif any(t is not table and table_name(t) in catalog and
                     _has_column(catalog[table_name(t)], p.name) for t in top):
                continue   # an unqualified name another FROM table has too
            cols.add(c)
        common = cols if common is None else common & cols
    return [c for c in info.columns if c in (common or ())]


def plan_window(tree: exp.Select, table: exp.Table, key: str, catalog: dict,
                table_name) -> JoinShuffle:
    """Repartition the one sharded table of ``tree`` on ``key`` (a column of every
    window's PARTITION BY, ``window_key``) so each shard computes whole windows."""
    tree = tree.copy()
    top = [tree.args["from_"].this] + [j.this for j in tree.args.get("joins") or []]
    new = next(t for t in top if isinstance(t, exp.Table) and
               t.alias_or_name == table.alias_or_name)
    # WHERE filters the rows before any window sees them: its conjuncts on this table
    # alone can go into the scan (the statement still applies them too).
    pushdown = list(conjuncts(tree.args["where"].this)) \
        if tree.args.get("where") is not None else []
    plan = JoinShuffle(tree)
    plan.sides.append(_side(tree, 0, table, new, catalog[table_name(table)], key, pushdown,
                            top, catalog, table_name))
    return plan


WINDOW_KEY = "__wkey"


def common_partition_expression(tree: exp.Select, reads) -> exp.Expression | None:
    """An expression (not a bare column or constant) in the PARTITION BY of every window
    of ``tree`` whose columns all pass ``reads`` (a predicate on ``exp.Column``), with no
    subquery, aggregate, window or volatile call: rows equal on its value are in the
    same partition of every window. None when there is none. (One rule for a table's
    windows, ``window_expression``, and a join's, over its slots.)"""
    specs = window_specs(tree)
    if not specs or any(not parts for parts in specs):
        return None
    common = None
    by_text = {}
    for parts in specs:
        texts = set()
        for p in parts:
            if isinstance(p, (exp.Column, exp.Literal)) or any(
                    isinstance(n, (exp.Query, exp.Window, exp.AggFunc, exp.Rand, exp.Uuid))
                    for n in p.walk()):
                continue
            cols = list(p.find_all(exp.Column))
            if not cols or not all(reads(c) for c in cols):
                continue
            text = p.sql(dialect="postgres")
            texts.add(text)
            by_text.setdefault(text, p)
        common = texts if common is None else common & texts
    if not common:
        return None
    return by_text[sorted(common)[0]]


def window_expression(tree: exp.Select, table: exp.Table, info) -> exp.Expression | None:
    """``common_partition_expression`` over the columns of ``table`` (catalog entry
    ``info``) alone."""
    alias = table.alias_or_name
    return common_partition_expression(tree, lambda c: c.table in ("", alias) and
                                       column_of(info, c.name) is not None)


def plan_window_on_expression(tree: exp.Select, table: exp.Table, expr: exp.Expression,
                              catalog: dict, table_name) -> JoinShuffle:
    """Repartition the one sharded table of ``tree`` on the value of ``expr`` (see
    ``window_expression``): each shard's scan adds it as column ``__wkey`` and the
    rows go by its hash, so every window partition is whole on one shard; the
    statement itself still partitions by the expression."""
    info = catalog[table_name(table)]
    wplan = plan_window(tree, table, info.columns[0], catalog, table_name)
    side = wplan.sides[0]
    scan = parse_one_postgres(side.scan)
    scan.append("expressions", exp.alias_(expr.copy(), WINDOW_KEY, quoted=True))
    side.scan = scan.sql(dialect="postgres")
    side.key = WINDOW_KEY
    return wplan


def parse_one_postgres(sql: str) -> exp.Expression:
    import sqlglot
    return sqlglot.parse_one(sql, read="postgres")


def union_find(pairs: list):
    """``find`` over the classes of equal nodes that ``pairs`` link (path halving)."""
    parent: dict = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in pairs:
        parent[find(a)] = find(b)
    return find


def column_of(info, name: str) -> str | None:
    """The catalog spelling of column ``name`` of a table (None: it has none)."""
    if name in info.columns:
        return name
    low = name.lower()
    return low if low in info.columns else None


def _has_column(info, name: str) -> bool:
    return column_of(info, name) is not None


def conjuncts(node):
    """The AND-ed terms of a condition (parentheses looked through); connect.py's
    shard pinning reads WHERE the same way."""
    if isinstance(node, exp.And):
        yield from conjuncts(node.this)
        yield from conjuncts(node.expression)
    elif isinstance(node, exp.Paren):
        yield from conjuncts(node.this)
    else:
        yield node


def _needed_columns(tree, alias, info, sharded, catalog, table_name, key) -> list:
    """The columns of one side the statement reads (all of them when that is unclear:
    a star, a whole-row reference, a name this table does not have)."""
    if any(isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
           for n in tree.walk()):
        return list(info.columns)
    want = {key}
    for col in tree.find_all(exp.Column):
        if col.table == alias:
            c = column_of(info, col.name)
            if c is None:
                return list(info.columns)
            want.add(c)
        elif not col.table:
            c = column_of(info, col.name)
            if c is not None:
                want.add(c)
            elif col.name == alias:        # to_jsonb(t): the whole row
                return list(info.columns)
    if any(isinstance(n, exp.Identifier) and n.name == alias and
           not isinstance(n.parent, (exp.Column, exp.TableAlias, exp.Table))
           for n in tree.walk()):
        return list(info.columns)
    return [c for c in info.columns if c in want]


def _only_on(cond, alias, info, top, catalog, table_name) -> bool:
    """Does WHERE conjunct ``cond`` read only columns of this side (and nothing that
    could differ when evaluated early: subqueries, volatile functions)?"""
    bad = (exp.Subquery, exp.Select, exp.Exists, exp.AggFunc, exp.Window, exp.Rand,
           exp.Placeholder, exp.Parameter)
    if any(isinstance(n, bad) for n in cond.walk()):
        return False
    if any(isinstance(n, exp.Anonymous) for n in cond.walk()):
        return False
    cols = list(cond.find_all(exp.Column))
    if not cols:
        return False
    for col in cols:
        if col.table:
            if col.table != alias or column_of(info, col.name) is None:
                return False
        else:
            if column_of(info, col.name) is None:
                return False
            for t in top:
                name = table_name(t)
                if t.alias_or_name != alias and name in catalog and \
                        _has_column(catalog[name], col.name):
                    return False
    return True


def plan_staged_windows(tree: exp.Select, table: exp.Table, info,
                        hashable: set) -> tuple | None:
    """Windows over the one sharded table of ``tree`` (its whole FROM) whose PARTITION
    BYs share no column: computed in stages, each on rows repartitioned by a column of
    its windows' PARTITION BY. The rows are repartitioned by the first stage's column;
    each shard computes that stage's windows over its rows as the next exchange's scan
    (new columns ``__wv<stage>_<n>``) and sends the rows on by the next stage's column;
    the statement (reading the last input, each earlier window replaced by its column)
    computes the last stage's windows. No row reaches the coordinator. ``(tree, [the
    last Side], how)``, or None when a window has no usable PARTITION BY column (one
    without PARTITION BY needs every row in one place) or the shape is another."""
    if tree.args.get("windows") or tree.args.get("joins") or with_of(tree) is not None or \
            any(tree.args.get(a) for a in ("group", "having", "qualify", "distinct")):
        return None
    if any(isinstance(n, exp.Star) and not isinstance(n.parent, exp.Count)
           for n in tree.walk()):
        return None   # (``*`` over a stage's input would show its window columns)
    tree = tree.copy()
    from_ = tree.args["from_"].this
    alias = from_.alias_or_name
    windows = [w for w in tree.find_all(exp.Window) if w.arg_key != "windows"]
    if any(any(isinstance(n, exp.Window) for n in w.this.walk() if n is not w.this)
           for w in windows):
        return None
    keys = []
    for w in windows:
        cols = []
        for p in w.args.get("partition_by") or []:
            if isinstance(p, exp.Column) and (not p.table or p.table == alias):
                c = column_of(info, p.name)
                if c is not None and info.types.get(c) in hashable and c not in cols:
                    cols.append(c)
        if not cols:
            return None
        keys.append(cols)
    # Stages: the column the most remaining windows partition by, until all are placed.
    stages: list = []
    left = list(range(len(windows)))
    while left:
        counts: dict = {}
        for i in left:
            for c in keys[i]:
                counts[c] = counts.get(c, 0) + 1
        best = max(counts, key=lambda c: (counts[c], info.types[c] == types.INTEGER,
                                          -info.columns.index(c)))
        stages.append((best, [i for i in left if best in keys[i]]))
        left = [i for i in left if best not in keys[i]]
    if len(stages) < 2:
        return None
    name = info.name
    where = tree.args.get("where")
    scan = exp.select("*").from_(exp.Table(
        this=exp.to_identifier(name, quoted=True),
        alias=exp.TableAlias(this=exp.to_identifier(alias))))
    if where is not None:
        scan.set("where", where.copy())
        tree.set("where", None)
    side = Side("__wstage0", name, stages[0][0], scan.sql(dialect="postgres"))
    for k, (_, members) in enumerate(stages[:-1]):
        cols = [_col(c, alias) for c in info.columns] + \
            [f"__wv{k}_{j}" for j in range(len(members))]
        step = exp.Select(expressions=[
            c if isinstance(c, exp.Expression) else
            exp.alias_(windows[members[j - len(info.columns)]].copy(), c, quoted=True)
            for j, c in enumerate(cols)])
        step.set("from_", exp.From(this=exp.Table(
            this=exp.to_identifier(side.input),
            alias=exp.TableAlias(this=exp.to_identifier(alias)))))
        nxt = Side(f"__wstage{k + 1}", name, stages[k + 1][0], step.sql(dialect="postgres"),
                   reads=[side])
        for j, i in enumerate(members):
            windows[i].replace(_col(f"__wv{k}_{j}", alias))
        side = nxt
        info = _with_columns(info, [f"__wv{k}_{j}" for j in range(len(members))])
    from_.replace(exp.Table(this=exp.to_identifier(side.input),
                            alias=exp.TableAlias(this=exp.to_identifier(alias))))
    how = "staged: " + ", then ".join(f"repartitioned by {c}" for c, _ in stages)
    return tree, [side], how


def _with_columns(info, extra: list):
    """``info`` with ``extra`` columns after its own (a stage's input: its rows carry
    the windows computed so far)."""
    from dataclasses import replace
    return replace(info, columns=list(info.columns) + extra)


def _col(name: str, alias: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name, quoted=True),
                      table=exp.to_identifier(alias))
