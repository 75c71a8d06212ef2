"""WITH queries on the cluster: the one place that reads a statement's WITH, and the
rewrite that lets the planner split them.

Why: the planner's modules (``split.py``, ``shuffle.py``, ``setops.py``, ...) plan the
FROM / JOIN / WHERE shapes they know. A CTE reference is none of them (its name is no
cluster table), so before this rewrite every WITH query was run gathered, and the
modules tested sqlglot's old ``with`` key (sqlglot 30 keeps it as ``with_``), so a check
meant to refuse a WITH refused nothing. ``with_of`` reads the WITH under either key for
every module; ``inline_ctes`` writes each non-recursive CTE into its references as a
derived table, where that gives the same rows as computing it once:

* the CTE writes nothing (a data-modifying CTE runs once, gathered) and calls no
  volatile function (``random()`` twice is not ``random()`` once);
* it is read once, or it is NOT MATERIALIZED, or its rows do not depend on how it is
  computed: no LIMIT / OFFSET / FETCH, no DISTINCT ON, no window function (ties make
  those choose rows, and two computations could choose differently), no TABLESAMPLE.
  A MATERIALIZED CTE of such a body is inlined too: PostgreSQL's MATERIALIZED is an
  optimisation fence, not a change of result;
* no WITH nested inside its scope redefines its name or a name its body reads;
* it reads no CTE of its WITH that stays (computed once: ``held.py`` then holds both).

What stays (recursive CTEs, the others above) is run first by ``connect.py`` when it is
small enough to ship as VALUES, else held on the shards for the statement (``held.py``);
recursive ones past that size are gathered.
"""
from __future__ import annotations

from typing import Callable

from sqlglot import exp
from .. import infinity

WITH_KEYS = ("with_", "with")


def with_of(node: exp.Expression) -> exp.With | None:
    """The WITH of a statement (sqlglot 30 keeps it as ``with_``, earlier ``with``)."""
    for key in WITH_KEYS:
        w = node.args.get(key)
        if w is not None:
            return w
    return None


def set_with(node: exp.Expression, w: exp.With | None) -> None:
    """Give ``node`` the WITH ``w`` (None: drop its WITH), under the key its sqlglot uses."""
    for key in WITH_KEYS:
        if node.args.get(key) is not None:
            node.set(key, None)
    if w is not None:
        node.set("with_" if "with_" in node.arg_types else "with", w)


# Volatile however the registry marks them (sequences are not registry functions).
VOLATILE_NAMES = frozenset({"nextval", "setval", "random", "gen_random_uuid",
                            "clock_timestamp", "timeofday", "pg_sleep"})
_NONDETERMINISTIC = (exp.Limit, exp.Offset, exp.Fetch, exp.Window, exp.TableSample)
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)


def _name(node: exp.Expression) -> str:
    return node.name.lower()


def _refs(scope: list, name: str) -> list[exp.Table]:
    """The unqualified tables named ``name`` under the nodes of ``scope``."""
    out = []
    for root in scope:
        for t in root.find_all(exp.Table):
            if not t.args.get("db") and not t.args.get("catalog") and _name(t) == name:
                out.append(t)
    return out


def _nested_names(scope: list) -> set[str]:
    """Names defined by WITHs inside ``scope`` (they shadow ours where they are)."""
    names = set()
    for root in scope:
        for w in root.find_all(exp.With):
            names |= {c.alias_or_name.lower() for c in w.expressions}
    return names


def _volatile(body: exp.Expression, is_volatile: Callable[[str], bool]) -> bool:
    for f in body.find_all(exp.Func):
        name = f.name if isinstance(f, exp.Anonymous) else f.sql_name()
        if name.lower() in VOLATILE_NAMES or is_volatile(name.lower()) or isinstance(f, (exp.Rand, exp.Uuid)):
            return True
    return False


def _deterministic(body: exp.Expression) -> bool:
    if any(True for _ in body.find_all(*_NONDETERMINISTIC)):
        return False
    return not any(isinstance(s.args.get("distinct"), exp.Distinct) and
                   s.args["distinct"].args.get("on") is not None
                   for s in body.find_all(exp.Select))


def _as_derived(cte: exp.CTE, ref: exp.Table) -> exp.Subquery:
    """``ref`` (a reference to ``cte``) as the derived table ``(body) AS alias(cols)``."""
    own = ref.args.get("alias")
    alias = exp.TableAlias(this=(own.this if own is not None and own.this is not None
                                 else cte.args["alias"].this).copy())
    columns = (own.columns if own is not None and own.columns else
               cte.args["alias"].columns)
    if columns:
        alias.set("columns", [c.copy() for c in columns])
    return exp.Subquery(this=cte.this.copy(), alias=alias)


def _as_table(cte: exp.CTE, ref: exp.Table, table_columns: Callable,
              cte_names: set) -> bool:
    """Write ``ref`` as the table ``cte`` reads, when ``cte`` is ``SELECT columns FROM
    table [WHERE p]`` (its columns unrenamed): ``table AS ref`` with ``p`` added to the
    WHERE of ``ref``'s query (to the ON of a LEFT JOIN that ``ref`` is the right side
    of). The planner then sees the table itself, placed and partitioned as it is, where
    a derived table would hide it. False (nothing changed) when the shape differs, or
    when a column the CTE leaves out could be read in its place (an unqualified name,
    a ``*``, a NATURAL join)."""
    body = cte.this
    if not isinstance(body, exp.Select) or cte.args["alias"].columns:
        return False
    for key, value in body.args.items():
        if key not in ("expressions", "from_", "where", "order") and value:
            return False
    src = body.args["from_"].this if body.args.get("from_") is not None else None
    if not isinstance(src, exp.Table) or any(
            src.args.get(k) for k in ("db", "catalog", "sample", "pivots", "laterals")):
        return False
    ident = src.this
    base = ident.this if isinstance(ident, exp.Identifier) and ident.quoted else _name(src)
    columns = table_columns(base) if _name(src) not in cte_names else None
    own = ref.args.get("alias")
    container = ref.parent
    outer = container.parent if container is not None else None
    if columns is None or own is not None and own.columns or \
            not isinstance(container, (exp.From, exp.Join)) or \
            not isinstance(outer, exp.Select):
        return False
    names = [c.lower() for c in columns]
    out: list[str] = []
    for e in body.expressions:
        if isinstance(e, exp.Alias) and isinstance(e.this, exp.Column) and \
                e.alias.lower() == e.this.name.lower():
            e = e.this
        if isinstance(e, exp.Star) or isinstance(e, exp.Column) and \
                isinstance(e.this, exp.Star):
            out += names
        elif isinstance(e, exp.Column) and e.name.lower() in names:
            out.append(e.name.lower())
        else:
            return False
    hidden = set(names) - set(out)
    where = body.args.get("where")
    joins = outer.args.get("joins") or []
    if len(set(out)) != len(out) or \
            where is not None and any(True for _ in where.find_all(exp.Query)) or \
            any((j.args.get("side") or "").upper() in ("RIGHT", "FULL") or
                j.args.get("method") for j in joins):
        return False
    stars = any(isinstance(e, exp.Star) or isinstance(e, exp.Column) and
                isinstance(e.this, exp.Star) for e in outer.expressions)
    if stars and out != names or hidden and any(
            not c.table and c.name.lower() in hidden and c.find_ancestor(exp.CTE) is None
            for c in outer.find_all(exp.Column)):
        return False
    left = isinstance(container, exp.Join) and \
        (container.args.get("side") or "").upper() == "LEFT"
    if left and where is not None and container.args.get("on") is None:
        return False   # (LEFT JOIN ... USING: no ON to hold the filter)
    alias = (own.this if own is not None and own.this is not None
             else cte.args["alias"].this).copy()
    table = src.copy()
    table.set("alias", exp.TableAlias(this=alias))
    if where is not None:
        cond = where.this.copy()
        for c in cond.find_all(exp.Column):
            c.set("table", alias.copy())
            c.set("db", None)
            c.set("catalog", None)
        if left:
            container.set("on", exp.and_(container.args["on"], cond))
        else:
            old = outer.args.get("where")
            outer.set("where", exp.Where(this=exp.and_(old.this, cond) if old is not None
                                          else cond))
    ref.replace(table)
    return True


def _scope(node: exp.Expression) -> list:
    """What a WITH attached to ``node`` covers besides its CTEs: every argument but the
    WITH (and a write's target, which is never a CTE)."""
    skip = set(WITH_KEYS) | ({"this"} if isinstance(node, _WRITES) else set())
    out = []
    for key, value in node.args.items():
        if key in skip or value is None:
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, exp.Expression):
                out.append(v)
    return out


def inline_ctes(tree: exp.Expression, is_volatile: Callable[[str], bool],
                table_columns: Callable[[str], list | None] = lambda name: None,
                once: bool = True) -> tuple[exp.Expression, list[str]]:
    """``tree`` (a copy when anything changed) with every CTE that can be inlined written
    into its references: as the table it filters (``_as_table``; ``table_columns(name)``:
    the columns of a cluster table, None for another name), else as a derived table
    (see the module docstring), innermost WITH first; the WITH goes when none of its CTEs
    is left. ``once`` False: a CTE whose rows depend on how it is computed is left even
    when read once (``connect.py`` first tries to compute it once and ship its rows,
    which splits where a derived table with a LIMIT would not). Returns ``(tree, names
    of the CTEs inlined)``."""
    holders = [n for n in tree.walk() if with_of(n) is not None]
    if not holders:
        return tree, []
    tree = tree.copy()
    holders = [n for n in tree.walk() if with_of(n) is not None]
    cte_names = {c.alias_or_name.lower() for n in holders for c in with_of(n).expressions}
    done: list[str] = []
    for node in reversed(holders):   # innermost first: theirs are whole when ours move
        w = with_of(node)
        ctes = list(w.expressions)
        recursive = bool(w.args.get("recursive"))
        kept = []
        for i, cte in enumerate(ctes):
            name = cte.alias_or_name.lower()
            body = cte.this
            later = [c.this for c in ctes[i + 1:]]
            scope = later + _scope(node)
            shadowed = _nested_names(scope)
            reads = {_name(t) for t in body.find_all(exp.Table)}
            refs = _refs(scope, name)
            if recursive and (_refs([body], name) or
                              any(_refs([c.this], name) for c in ctes[:i])):
                kept.append(cte)
                continue
            single = cte.args.get("materialized") is False or once and len(refs) <= 1
            if reads & {c.alias_or_name.lower() for c in kept}:
                # (over a CTE computed once: both are, the second from the first's rows,
                # where the first's computation would otherwise hide in a derived table)
                kept.append(cte)
                continue
            if not isinstance(body, (exp.Select, exp.SetOperation, exp.Subquery)) or \
                    any(True for _ in body.find_all(*_WRITES)) or \
                    _volatile(body, is_volatile) or name in shadowed or \
                    reads & shadowed or not (single or _deterministic(body)):
                kept.append(cte)
                continue
            for ref in refs:
                if ref.args.get("pivots") or ref.args.get("laterals") or \
                        ref.args.get("sample"):
                    break
            else:
                for ref in refs:
                    if not _as_table(cte, ref, table_columns, cte_names):
                        ref.replace(_as_derived(cte, ref))
                done.append(name)
                continue
            kept.append(cte)
        if len(kept) == len(ctes):
            continue
        if kept:
            w.set("expressions", kept)
        else:
            set_with(node, None)
    return tree, done


# A CTE kept by ``inline_ctes`` that reads the cluster's tables is run first, alone
# (split like any query), and written into the statement as a VALUES table when it has
# at most this many rows: its rows then travel once, inside the statement's text.
CTE_ROWS = 1_000


def _values_table(alias: exp.TableAlias, rows: list, columns: list,
                  literal: Callable) -> exp.Expression:
    """``rows`` (of ``columns`` ``[(name, type)]``) as a FROM item aliased ``alias``
    (``alias``'s own column names, else ``columns``'): ``(VALUES ...) AS alias(...)``,
    which the planner joins on each shard like a replicated table."""
    if not alias.columns:
        alias.set("columns", [exp.to_identifier(n, quoted=True) for n, _ in columns])
    if rows:
        return exp.Subquery(this=exp.Values(expressions=[
            exp.Tuple(expressions=[literal(v, t) for v, (_, t) in zip(row, columns)])
            for row in rows]), alias=alias)
    names = [c.name for c in alias.columns]
    nulls = exp.select(*[exp.alias_(literal(None, t), n, quoted=True)
                         for n, (_, t) in zip(names, columns)]).where(exp.false())
    alias.set("columns", None)
    return exp.Subquery(this=nulls, alias=alias)


def ctes_first(tree: exp.Expression, run: Callable[[str], "object"],
               columns_of: Callable, literal: Callable,
               holdable: Callable[[list | None], bool] = lambda columns: False
               ) -> tuple[exp.Expression, list[str]]:
    """``literal(value, type)``: the value as a typed SQL literal, None when none spells
    it (the CTE then stays). The CTEs left in ``tree``'s own WITH that bind alone (no
    earlier CTE, no outer column; a recursive one as ``WITH RECURSIVE`` it) and write
    nothing, each run first by ``run(sql)`` (an Arrow table; the caller splits it
    over the shards; None when it would gather the tables it reads) and, when it has at
    most ``CTE_ROWS`` rows, written at each reference as a VALUES table: computed once, as PostgreSQL
    computes a MATERIALIZED or volatile CTE. A CTE whose own LIMIT is above
    ``CTE_ROWS`` and whose columns are ``holdable`` is not run here (its rows would be
    computed twice, here and where it is held: ``held.py``). Returns ``(tree, SQL of each CTE run)``."""
    w = with_of(tree)
    if w is None:
        return tree, []
    tree = tree.copy()
    w = with_of(tree)
    ctes = list(w.expressions)
    recursive = bool(w.args.get("recursive"))
    kept, ran = [], []
    for i, cte in enumerate(ctes):
        name = cte.alias_or_name.lower()
        body = cte.this
        if any(True for _ in body.find_all(*_WRITES)) or \
                _nested_names([c.this for c in ctes[i + 1:]] + _scope(tree)) & {name}:
            kept.append(cte)
            continue
        limit = body.args.get("limit") if isinstance(body, exp.Select) else None
        if limit is not None and isinstance(limit.expression, exp.Literal) and \
                limit.expression.is_int and int(limit.expression.this) > CTE_ROWS and \
                holdable(columns_of(body)):
            kept.append(cte)
            continue
        if recursive and _refs([body], name):   # run as WITH RECURSIVE it SELECT * FROM it
            alone = exp.select("*").from_(exp.to_table(cte.alias_or_name))
            set_with(alone, exp.With(expressions=[cte.copy()], recursive=True))
            body = alone
        columns = columns_of(body)
        if columns is None:
            kept.append(cte)
            continue
        names = [c.name for c in cte.args["alias"].columns] or [n for n, _ in columns]
        if len(names) != len(columns):
            kept.append(cte)
            continue
        capped = exp.select("*").from_(exp.Subquery(this=body.copy(),
                                                    alias=exp.TableAlias(this="__c")))
        capped = capped.limit(CTE_ROWS + 1)
        sql = capped.sql(dialect="postgres")
        if body is cte.this and holdable(columns):
            # (counted first: over CTE_ROWS it is held, and a capped probe can cost the
            # whole body's rows where the LIMIT does not reach the shards)
            counted = run(exp.select(exp.Count(this=exp.Star())).from_(exp.Subquery(
                this=body.copy(), alias=exp.TableAlias(this="__c"))).sql(dialect="postgres"))
            if counted is None or counted.column(0)[0].as_py() > CTE_ROWS:
                kept.append(cte)
                continue
        table = run(sql)
        if table is None or table.num_rows > CTE_ROWS:
            kept.append(cte)
            continue
        typed = [(n, t) for n, (_, t) in zip(names, columns)]
        rows = list(zip(*[infinity.pylist(c) for c in table.columns]))
        if any(literal(v, t) is None for row in rows for v, (_, t) in zip(row, typed)) or \
                any(literal(None, t) is None for _, t in typed):
            kept.append(cte)
            continue
        for ref in _refs([c.this for c in ctes[i + 1:]] + _scope(tree), name):
            own = ref.args.get("alias")
            alias = exp.TableAlias(this=(own.this if own is not None and own.this is not None
                                         else cte.args["alias"].this).copy())
            if own is not None and own.columns:
                alias.set("columns", [c.copy() for c in own.columns])
            ref.replace(_values_table(alias, rows, typed, literal))
        ran.append(sql)
    if len(kept) < len(ctes):
        if kept:
            w.set("expressions", kept)
        else:
            set_with(tree, None)
    return tree, ran
