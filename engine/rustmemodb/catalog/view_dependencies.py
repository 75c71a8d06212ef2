"""Which views read a table, a view or one of their columns.

PostgreSQL refuses to drop a relation or a column a view reads (2BP01) or to change
such a column's type (0A000), and ``DROP ... CASCADE`` drops the views with it. It
records a view's dependencies when the view is created (pg_depend); here a view keeps
its query's text and is bound again on every use, so its dependencies are read from
that text when something would be dropped or changed: the relations its FROM clauses
name (its own WITH queries excepted) and, per relation, the columns it names (qualified
by the relation's name or alias, or unqualified), every column where a star could take
it. A materialized view (a table with its query kept) depends the same way.

Used by the DDL operators (exec/operators/ddl.py, alter.py) on the transaction's
working root, so views made earlier in the same transaction count.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..storage.namespaces import PUBLIC, qualify


@dataclass(frozen=True)
class Reader:
    """A view (or materialized view) whose query reads a relation."""
    kind: str        # "view" or "materialized view"
    name: str


@dataclass(frozen=True)
class _Reads:
    relations: frozenset           # catalog keys
    columns: dict                  # catalog key -> frozenset of column names named
    starred: frozenset             # catalog keys a star may expand


def readers(root, relation: str, column: str | None = None) -> list[Reader]:
    """The views reading ``relation`` (a catalog key), or its ``column``, by name."""
    out = []
    for kind, name, sql in _queries(root):
        if name == relation:
            continue
        reads = _reads(sql)
        if relation not in reads.relations:
            continue
        if column is None or relation in reads.starred or \
                column in reads.columns.get(relation, ()):
            out.append(Reader(kind, name))
    return out


def cascade(root, relation: str, column: str | None = None) -> list[tuple[Reader, Reader | None]]:
    """Every view that goes when ``relation`` (or its ``column``) goes with CASCADE, each
    once with the view it reads through (None: ``relation`` itself): its readers, their
    readers, and so on."""
    found: dict[Reader, Reader | None] = {}
    pending = [(r, None) for r in readers(root, relation, column)]
    while pending:
        r, via = pending.pop(0)
        if r in found:
            continue
        found[r] = via
        pending += [(x, r) for x in readers(root, r.name)]
    return list(found.items())


def _queries(root):
    for name, view in sorted(root.views.items()):
        yield "view", name, view.sql
    for name, version in sorted(root.tables.items()):
        sql = version.schema.matview_sql
        if sql is not None:
            yield "materialized view", name, sql


def _parse(sql: str):
    """A view's query as the engine reads it when the view is used (None if it cannot:
    such a view is bound, and fails, only where it is read)."""
    from ..errors import Error
    from ..sql.parse import parse_one
    try:
        return parse_one(sql)
    except (Error, ValueError):
        return None


@lru_cache(maxsize=512)
def _reads(sql: str) -> _Reads:
    from sqlglot import exp
    tree = _parse(sql)
    if tree is None:
        return _Reads(frozenset(), {}, frozenset())
    aliases = _aliases(tree)           # name or alias as written -> catalog key
    relations = set(aliases.values())
    columns: dict[str, set] = {}
    for c in tree.find_all(exp.Column):
        targets = [aliases[c.table]] if c.table in aliases else \
            (list(relations) if not c.table else [])
        for key in targets:
            columns.setdefault(key, set()).add(c.name)
    starred = set()
    for s in tree.find_all(exp.Star):       # a select list's * or t.*, not count(*)
        owner = s.parent
        if isinstance(owner, exp.Column) and owner.table:
            starred |= {aliases[owner.table]} if owner.table in aliases else set()
        elif isinstance(owner, exp.Select):
            starred |= relations
    return _Reads(frozenset(relations), {k: frozenset(v) for k, v in columns.items()},
                  frozenset(starred))


# ---- following renames ---------------------------------------------------------------------
# PostgreSQL's views hold their relations and columns by oid and number, so they follow a
# RENAME; here the query's text is rewritten to the new names, keeping the view's output
# column names as they were.

def renamed_column(sql: str, relation: str, old: str, new: str) -> str | None:
    """``sql`` reading column ``old`` of ``relation`` as ``new``; None if it does not."""
    from sqlglot import exp
    reads = _reads(sql)
    if relation not in reads.relations or old not in reads.columns.get(relation, ()):
        return None
    tree = _parse(sql)
    aliases = _aliases(tree)
    top = tree
    while isinstance(top, exp.Union):    # a set operation's columns are its first SELECT's
        top = top.this
    top = top if isinstance(top, exp.Select) else None
    for c in list(tree.find_all(exp.Column)):
        if c.name != old or (c.table and aliases.get(c.table) != relation):
            continue
        if top is not None and c.parent is top and c in top.expressions:
            c.replace(exp.alias_(_column_named(c, new), old))   # the view's column keeps its name
        else:
            c.set("this", exp.to_identifier(new))
    return tree.sql(dialect="postgres")


def renamed_relation(sql: str, old: str, new: str) -> str | None:
    """``sql`` reading relation ``old`` (a catalog key) as ``new``; None if it does not."""
    from sqlglot import exp
    if old not in _reads(sql).relations:
        return None
    tree = _parse(sql)
    schema, _, bare = new.rpartition(".")
    for t, key in list(_relations(tree)):
        if key != old:
            continue
        if not t.alias:       # columns qualified by the old name still find it
            t.set("alias", exp.TableAlias(this=exp.to_identifier(t.name)))
        if t.db:           # written schema.name
            t.set("this", exp.to_identifier(bare))
            t.set("db", exp.to_identifier(schema or PUBLIC))
        else:              # the binder's form: the catalog key as one name ("s1.t")
            t.set("this", exp.to_identifier(new))
    return tree.sql(dialect="postgres")


def _relations(tree):
    """(Table node, catalog key) of each relation the query names (its own WITH queries'
    names are no relation)."""
    from sqlglot import exp
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for t in tree.find_all(exp.Table):
        if t.name and not (not t.db and t.name in ctes):
            yield t, qualify(t.db or PUBLIC, t.name)


def _aliases(tree) -> dict:
    """Name or alias as written -> catalog key."""
    out: dict[str, str] = {}
    for t, key in _relations(tree):
        out[t.alias_or_name] = key
        out.setdefault(t.name, key)
    return out


def _column_named(c, name: str):
    from sqlglot import exp
    out = c.copy()
    out.set("this", exp.to_identifier(name))
    return out
