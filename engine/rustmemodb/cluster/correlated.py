"""Correlated subqueries off the partition key, run on the shards by placing their rows.

Decorrelating ``EXISTS (SELECT … FROM l WHERE l.a = o.b …)`` gives a semi-join of ``o``
and ``l`` on ``o.b = l.a`` (NOT EXISTS an anti-join, a scalar aggregate a grouped
aggregate of ``l`` by ``a`` joined back, ``x IN (…)`` a semi-join on both equalities).
A distributed engine runs those joins by hash-partitioning both sides on the join
columns. Here the join *is* the placement: ``o`` is repartitioned on ``b`` and ``l`` on
``a`` with the same hash (shard to shard, ``exchange.py``), so for every outer row all
the rows its subquery can see are on the outer row's shard, and each shard's engine
runs the statement, subquery unchanged, over its partition. That gives exactly the one
engine's answer whatever the subquery's kind: EXISTS / NOT EXISTS, IN / NOT IN with
their NULLs (the subquery's whole row set for that outer row is there), scalar
aggregates with their empty groups (an empty group is empty on every shard), ANY /
ALL, scalar subqueries in the SELECT list; nested subqueries the same way, level by
level.

What links the rows: classes of equal columns over every scope of the statement,
``(table occurrence, column)`` pairs joined by top-level ``=`` conjuncts of each
SELECT's WHERE or inner-join ON (a column is looked up in its own SELECT first, then
in the enclosing ones: that is the correlation). A positive ``x IN (SELECT y FROM …)``
that is a top-level conjunct of a WHERE, or a CASE WHEN's condition, links ``x`` and
``y`` too (a row passes iff some ``y`` equals ``x``; NULL and FALSE both drop it), when
that subquery neither groups, aggregates nor limits: so an uncorrelated ``IN`` of more
values than are written in as a list also runs on the shards. One class holding a table of the outer
FROM is chosen (the one that moves the fewest rows); every sharded table occurrence
with a column in it is repartitioned on that column (or stays where it is when that
is its single-column partition key), and every other sharded occurrence is
broadcast (a full copy on every shard: exact inside any subquery, and beside
partitioned tables in an inner join). Outer joins of the statement's own FROM are
placed by their ON equalities only (every table of it in the class, none copied, no
WHERE conjunct pushed into a scan). Outer joins inside subqueries, derived tables, set
operations, LATERAL and subqueries in GROUP BY / HAVING / ON are left to the other
plans.

``plan_correlated`` returns the statement reading the moved inputs and the ``Side``s
(``shuffle.py``) to move, or None.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from .ctes import with_of
from .shuffle import HASHABLE, JoinShuffle, Side, column_of, conjuncts, union_find

_VOLATILE = (exp.Rand, exp.Placeholder, exp.Parameter)


class _No(Exception):
    pass


@dataclass
class _Scope:
    select: exp.Select
    parent: "_Scope | None"
    tables: list                 # top-level exp.Table nodes of its FROM / JOINs
    exists: bool = False         # the body of an EXISTS (its SELECT list is irrelevant)


@dataclass
class CorrelatedPlan:
    shuffle: JoinShuffle
    linked: list = field(default_factory=list)     # "alias.column" of the chosen class
    broadcast: list = field(default_factory=list)  # tables copied to every shard


def has_sharded_subquery(tree: exp.Expression, catalog: dict, table_name) -> bool:
    """Does ``tree`` have a subquery (not a derived table) reading a sharded table?"""
    for n in tree.find_all(exp.Subquery, exp.Exists, exp.Any, exp.All):
        if isinstance(n.parent, (exp.From, exp.Join)):
            continue
        for t in n.find_all(exp.Table):
            name = table_name(t)
            if name in catalog and not catalog[name].replicated:
                return True
    return False


def plan_correlated(tree: exp.Select, catalog: dict, table_name, counts: dict,
                    shards: int, always: bool = False) -> CorrelatedPlan | None:
    """The placement plan for ``tree`` (see the module docstring), None outside it or
    when its broadcasts would move more rows than gathering the tables."""
    try:
        return _plan(tree, catalog, table_name, counts, shards, always)
    except _No:
        return None


def _same(a: str, b: str) -> bool:
    return a == b or a.lower() == b.lower()


def _plan(tree, catalog, table_name, counts, shards, always):
    if not isinstance(tree, exp.Select) or with_of(tree) is not None:
        raise _No
    tree = tree.copy()
    scopes = _scopes(tree, catalog, table_name)
    root = scopes[id(tree)]
    outer = any(j.args.get("side") for j in tree.args.get("joins") or [])
    if outer and any(catalog[table_name(t)].replicated for t in root.tables):
        raise _No   # a REPLICATED row beside an outer join would repeat on every shard
    info_of = {id(t): catalog[table_name(t)] for s in scopes.values() for t in s.tables}
    scope_of_table = {id(t): s for s in scopes.values() for t in s.tables}

    def scope_of(node) -> _Scope:
        up = node.parent
        while up is not None and not (isinstance(up, exp.Select) and id(up) in scopes):
            up = up.parent
        if up is None:
            raise _No
        return scopes[id(up)]

    def resolve(col: exp.Column, scope: _Scope):
        """(table node, column) the column names, None when it names none (an output
        name); raises on what is unclear."""
        name = col.name
        s = scope
        while s is not None:
            if col.table:
                hits = [t for t in s.tables if _same(t.alias_or_name, col.table)]
                if hits:
                    c = column_of(info_of[id(hits[0])], name)
                    if c is None:
                        raise _No   # a whole-row or unknown reference
                    return hits[0], c
            else:
                hits = [(t, column_of(info_of[id(t)], name)) for t in s.tables]
                hits = [(t, c) for t, c in hits if c is not None]
                if len(hits) > 1:
                    raise _No
                if hits:
                    return hits[0]
            s = s.parent
        return None

    # Which columns of each occurrence the statement reads (for the scans).
    uses: dict[int, set] = {k: set() for k in info_of}
    everything: set = set()
    for col in tree.find_all(exp.Column):
        if isinstance(col.this, exp.Star):
            hit = [t for s in _chain(scope_of(col)) for t in s.tables
                   if _same(t.alias_or_name, col.table)]
            if not hit:
                raise _No
            everything.add(id(hit[0]))
            continue
        r = resolve(col, scope_of(col))
        if r is not None:
            uses[id(r[0])].add(r[1])
    for s in scopes.values():
        for e in s.select.expressions:
            if isinstance(e, exp.Star):
                if s.exists:
                    e.replace(exp.Literal.number(1))   # EXISTS does not read its list
                else:
                    everything.update(id(t) for t in s.tables)
    for n in tree.walk():   # a table alias used as a value: the whole row
        if isinstance(n, exp.Identifier) and not isinstance(
                n.parent, (exp.Column, exp.TableAlias, exp.Table, exp.Alias)):
            if any(_same(t.alias_or_name, n.name) for s in scopes.values() for t in s.tables):
                raise _No

    # Edges: equal columns, each found in one scope (valid for that scope's rows).
    edges: dict[int, list] = {id(s.select): [] for s in scopes.values()}

    def link(a, b, scope):
        if a is None or b is None or a[0] is b[0]:
            return
        if not (any(a[0] is t for t in scope.tables) or any(b[0] is t for t in scope.tables)):
            return   # two columns of enclosing queries: not this scope's rows
        ta, tb = info_of[id(a[0])].types[a[1]], info_of[id(b[0])].types[b[1]]
        if ta != tb or ta not in HASHABLE:
            return
        edges[id(scope.select)].append(((id(a[0]), a[1]), (id(b[0]), b[1])))

    for s in scopes.values():
        conds = []
        if s.select.args.get("where") is not None and not (s is root and outer):
            # (under an outer join a WHERE equality does not place the rows that meet:
            # the null-extended ones are filtered after the join)
            conds += list(conjuncts(s.select.args["where"].this))
        for j in s.select.args.get("joins") or []:
            if j.args.get("on") is not None:
                conds += list(conjuncts(j.args["on"]))
        # A CASE WHEN's condition is taken only when TRUE, like a WHERE's conjunct.
        conds += [n.this for n in s.select.find_all(exp.If)
                  if isinstance(n.this, exp.In) and scope_of(n) is s]
        for c in conds:
            if isinstance(c, exp.EQ) and isinstance(c.this, exp.Column) and \
                    isinstance(c.expression, exp.Column):
                link(resolve(c.this, s), resolve(c.expression, s), s)
            elif isinstance(c, exp.In) and isinstance(c.this, exp.Column) and \
                    isinstance(c.args.get("query"), exp.Subquery) and \
                    id(c.args["query"].this) in scopes:
                inner = scopes[id(c.args["query"].this)]
                out = plain_output(inner.select)
                if out is not None:
                    r = resolve(out, inner)
                    if r is not None and any(r[0] is t for t in inner.tables):
                        link(resolve(c.this, s), r, inner)

    # A scope's tables join a class through its own edges and its enclosing scopes'
    # (never through a subquery's: a subquery's equality does not put the outer rows
    # that meet on one shard).
    finders = {k: union_find([e for s in _chain(sc) for e in edges[id(s.select)]])
               for k, sc in scopes.items()}
    occurrences = [t for s in scopes.values() for t in s.tables]
    sharded = [t for t in occurrences if not info_of[id(t)].replicated]
    root_sharded = [t for t in root.tables if not info_of[id(t)].replicated]
    if not root_sharded:
        raise _No
    find_root = finders[id(tree)]
    candidates = []
    for t in root_sharded:
        key = info_of[id(t)].key
        if len(key) == 1:
            candidates.append((id(t), key[0]))
        # (a column of it any scope equates: the correlation columns)
        candidates += [a for es in edges.values() for e in es for a in e if a[0] == id(t)]
    gathered = sum(counts.get(n, 0) for n in {info_of[id(t)].name for t in sharded})
    best = None
    seen = set()
    for rep in candidates:
        if find_root(rep) in seen:
            continue
        seen.add(find_root(rep))
        member = {}
        for t in sharded:
            find = finders[id(scope_of_table[id(t)].select)]
            for c in info_of[id(t)].columns:
                if find((id(t), c)) == find(rep):
                    member[id(t)] = c
                    break
        if outer and any(id(t) not in member for t in root_sharded):
            continue   # (no copies of the statement's own tables beside an outer join)
        moved = bcast = 0
        for t in sharded:
            rows = counts.get(info_of[id(t)].name, 0)
            col = member.get(id(t))
            if col is None:
                bcast += rows
            elif info_of[id(t)].key != [col]:
                moved += rows
        if bcast and bcast * shards >= gathered and not always:
            continue   # copying to every shard would move more than gathering
        cost = (moved * (shards - 1) / shards + bcast * (shards - 1), bcast)
        if best is None or cost < best[0]:
            best = (cost, member)
    if best is None:
        raise _No
    member = best[1]

    plan = JoinShuffle(tree)
    out = CorrelatedPlan(plan)
    moves = []
    for t in sharded:
        info = info_of[id(t)]
        col = member.get(id(t))
        if col is not None:
            out.linked.append(f"{t.alias_or_name}.{col}")
        if col is not None and info.key == [col]:
            if info.name not in plan.in_place:
                plan.in_place.append(info.name)
            continue
        scope = scope_of_table[id(t)]
        cols = set(info.columns) if id(t) in everything else uses[id(t)] | {col} - {None}
        filters = []
        if scope.select.args.get("where") is not None and not (scope is root and outer):
            for c in conjuncts(scope.select.args["where"].this):
                if _only_on(c, t, scope, resolve):
                    filters.append(c.copy())
        moves.append((t, info, col, cols, filters))
    # Occurrences of one table moved by one column with no filter of their own share
    # one exchange (``l`` and ``l2`` of a self-correlated subquery: Q17's shape).
    shared: dict = {}
    for t, info, col, cols, filters in moves:
        if not filters:
            shared.setdefault((info.name, col), set()).update(cols)
    replace, made = [], {}
    for i, (t, info, col, cols, filters) in enumerate(moves):
        alias = t.alias_or_name
        if not filters and (info.name, col) in made:
            replace.append((t, made[(info.name, col)]))
            continue
        if not filters:
            cols = shared[(info.name, col)]
        cols = [c for c in info.columns if c in cols] or info.columns[:1]
        source = exp.Table(this=exp.to_identifier(info.name, quoted=True),
                           alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        scan = exp.Select(expressions=[exp.column(c, table=alias, quoted=True) for c in cols])
        scan.set("from_", exp.From(this=source))
        if filters:
            scan.set("where", exp.Where(this=exp.and_(*filters)))
        name = f"__corr{i}_{info.name}"
        if not filters:
            made[(info.name, col)] = name
        plan.sides.append(Side(name, info.name, col, scan.sql(dialect="postgres")))
        if col is None:
            out.broadcast.append(info.name)
        replace.append((t, name))
    for t, name in replace:
        new = t.copy()
        new.set("this", exp.to_identifier(name))
        new.set("db", None)
        if new.args.get("alias") is None:
            new.set("alias", exp.TableAlias(this=exp.to_identifier(t.name,
                                                                   quoted=t.this.quoted)))
        t.replace(new)
    return out


def _chain(scope: _Scope):
    while scope is not None:
        yield scope
        scope = scope.parent


def plain_output(select: exp.Select) -> exp.Column | None:
    """The one output column of a subquery that neither groups, aggregates, limits nor
    computes windows (so ``x IN`` it means ``x`` equals one of its rows' column)."""
    if len(select.expressions) != 1 or any(select.args.get(a) is not None for a in (
            "group", "having", "limit", "offset", "qualify", "windows")):
        return None
    d = select.args.get("distinct")
    if d is not None and d.args.get("on") is not None:
        return None
    if any(isinstance(n, (exp.AggFunc, exp.Window)) for e in select.expressions
           for n in e.walk()):
        return None
    e = select.expressions[0]
    e = e.this if isinstance(e, exp.Alias) else e
    return e if isinstance(e, exp.Column) and not isinstance(e.this, exp.Star) else None


def _only_on(cond, table, scope, resolve) -> bool:
    """Does WHERE conjunct ``cond`` of ``scope`` read only columns of ``table`` (and
    nothing that could differ when evaluated early)?"""
    bad = (exp.Subquery, exp.Select, exp.Exists, exp.AggFunc, exp.Window, exp.Anonymous,
           *_VOLATILE)
    if any(isinstance(n, bad) for n in cond.walk()):
        return False
    cols = list(cond.find_all(exp.Column))
    if not cols:
        return False
    try:
        return all((r := resolve(c, scope)) is not None and r[0] is table for c in cols)
    except _No:
        return False


def _scopes(tree: exp.Select, catalog: dict, table_name) -> dict:
    """Every SELECT of the statement as a scope (the root and its subqueries), checked
    to be of the shapes this plan handles."""
    scopes: dict[int, _Scope] = {}
    root_clauses = ("group", "having", "order", "joins", "qualify")
    for node in tree.walk():
        if isinstance(node, (exp.SetOperation, exp.Lateral, exp.Values, exp.Unnest,
                             exp.TableSample)):
            raise _No
        if not isinstance(node, exp.Select):
            continue
        if node is tree:
            parent = None
        else:
            holder = node.parent
            if isinstance(holder, (exp.Exists, exp.Any, exp.All)):
                pass
            elif isinstance(holder, exp.Subquery) and not holder.alias and \
                    not isinstance(holder.parent, (exp.From, exp.Join)):
                pass
            else:
                raise _No   # derived table, CTE, ...
            up = holder.parent
            while up is not None and not isinstance(up, exp.Select):
                up = up.parent
            if up is None or id(up) not in scopes:
                raise _No
            parent = scopes[id(up)]
            if up is tree:   # where in the root: WHERE or the SELECT list only
                clause = holder
                while clause.parent is not tree:
                    clause = clause.parent
                if clause.arg_key in root_clauses:
                    raise _No
        if with_of(node) is not None or node.args.get("locks"):
            raise _No
        from_ = node.args.get("from_")
        if from_ is None:
            raise _No
        joins = node.args.get("joins") or []
        # Outer joins in the statement's own FROM only (each with an ON), placed as
        # plan_join places them; inside subqueries inner joins only.
        if any(j.args.get("side") and (node is not tree or j.args.get("on") is None) or
               j.args.get("kind") and j.args["kind"].upper() not in ("INNER", "CROSS", "OUTER")
               or j.args.get("using") or j.args.get("method") for j in joins):
            raise _No
        tables = [from_.this] + [j.this for j in joins]
        for t in tables:
            if not isinstance(t, exp.Table) or table_name(t) not in catalog or \
                    t.args.get("alias") is not None and t.args["alias"].columns:
                raise _No
        scopes[id(node)] = _Scope(node, parent, tables,
                                  exists=isinstance(node.parent, exp.Exists))
    known = {id(t) for s in scopes.values() for t in s.tables}
    if any(id(t) not in known for t in tree.find_all(exp.Table)):
        raise _No
    for s in scopes.values():   # one alias per FROM
        own = [t.alias_or_name.lower() for t in s.tables]
        if len(set(own)) != len(own):
            raise _No
    return scopes
