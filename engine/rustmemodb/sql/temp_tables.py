"""Temporary tables: CREATE TEMP TABLE, private to the session that made it.

A temporary table is stored like any other, under a name no other session resolves:
``pg_temp_<session id>.<name>``. Before binding, a session that has temporary tables
(or creates one) has its statement's table references renamed (``rename``): an
unqualified name (or ``pg_temp.name``) that is one of its temporary tables means that
table, as PostgreSQL's search path puts ``pg_temp`` first; a FROM item keeps the name the
user wrote as its alias, so ``t.col`` still reads. Such statements bypass the shared plan
cache (session.py), since the same text means different tables in different sessions.

The session drops its temporary tables when it closes; tables of sessions that ended
without closing are dropped when the database is next opened (``orphans``). Until then
other sessions cannot name them, and catalogs list only the session's own.
"""
from __future__ import annotations

import secrets

from .. import errors
from ..storage.root import TEMP_PREFIX as PREFIX, is_temporary


def new_prefix() -> str:
    """A session's namespace: random, so a restarted process never reuses one."""
    return f"{PREFIX}{secrets.token_hex(4)}."


def own_names(tables, prefix: str) -> frozenset:
    """The session's temporary tables, by the names it wrote."""
    return frozenset(n[len(prefix):] for n in tables if n.startswith(prefix))


def orphans(tables) -> list[str]:
    """Temporary tables (of sessions of an earlier run: all of them at open)."""
    return [n for n in tables if is_temporary(n)]


def creates_temporary(ast) -> bool:
    if type(ast).__name__ != "Create":   # most statements: no import statement run
        return False
    from sqlglot import exp      # not at import: a session's first statements need no sqlglot
    if not isinstance(ast, exp.Create) or (ast.args.get("kind") or "").upper() != "TABLE":
        return False
    props = ast.args.get("properties")
    return props is not None and any(isinstance(p, exp.TemporaryProperty)
                                     for p in props.expressions)


def store_name(table, stored: str) -> bool:
    """Point the Table node ``table`` at the relation stored as ``stored``. A FROM item or a
    DML target without an alias keeps its written name as its alias (so ``t.col`` still
    reads); DDL targets (DROP, TRUNCATE, ALTER, CREATE INDEX ... ON) take none. Returns
    whether an alias was added. Shared by temporary tables and schemas (sql/schemas.py)."""
    from sqlglot import exp
    parent = table.parent
    if isinstance(parent, exp.Schema) and isinstance(parent.parent, exp.Insert):
        parent = parent.parent
    added = isinstance(parent, (exp.From, exp.Join, exp.Update, exp.Delete, exp.Merge,
                                exp.Insert)) and table.args.get("alias") is None
    if added:
        table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
    table.set("this", exp.to_identifier(stored, quoted=True))
    table.set("db", None)
    return added


def rename(ast, prefix: str, temps: frozenset):
    """``ast`` with its references to the session's temporary tables (and the target of a
    CREATE TEMP TABLE) renamed to their stored names."""
    from sqlglot import exp
    if creates_temporary(ast):
        _create_target(ast, prefix)
    if not temps:
        return ast
    ctes = {c.alias_or_name for c in ast.find_all(exp.CTE)}
    target = _created(ast)
    for table in list(ast.find_all(exp.Table)):
        if isinstance(table.this, exp.Func) or table.args.get("catalog") or table is target:
            continue
        db, name = table.db, table.name
        if db not in ("", "pg_temp") or name not in temps or (not db and name in ctes):
            continue
        store_name(table, prefix + name)
    return ast


def _created(ast):
    """The relation a CREATE (not TEMP) makes: never a temporary table's name, since
    pg_temp is not where PostgreSQL creates (CREATE TABLE t beside a temporary t makes the
    permanent one, which the temporary one then hides)."""
    from sqlglot import exp
    if not isinstance(ast, exp.Create) or creates_temporary(ast):
        return None
    target = ast.this.this if isinstance(ast.this, exp.Schema) else ast.this
    return target if isinstance(target, exp.Table) else None


def _create_target(ast, prefix: str) -> None:
    from sqlglot import exp
    props = ast.args["properties"]
    kept = [p for p in props.expressions if not isinstance(p, exp.TemporaryProperty)]
    ast.set("properties", exp.Properties(expressions=kept) if kept else None)
    target = ast.this
    table = target.this if isinstance(target, exp.Schema) else target
    if table.db not in ("", "pg_temp"):
        raise errors.sql_error("42P16", "cannot create temporary relation in non-temporary "
                                        "schema")
    table.set("this", exp.to_identifier(prefix + table.name, quoted=True))
    table.set("db", None)
