"""Schema-qualified names and ``search_path``: which stored relation a written name means.

Relations of a schema other than ``public`` are stored under the key ``"s.name"``
(storage/namespaces.py). Before binding, a statement's table references are renamed
to those keys (``qualify_names``), as temporary tables are (sql/temp_tables.py):

* ``s.t`` where ``s`` is a schema becomes the key ``"s.t"``; ``public.t`` becomes
  ``t``; a FROM item or DML target keeps the bare name as its alias, so ``t.col`` and
  ``s.t.col`` still read;
* an unqualified name is looked up along the session's search path (PostgreSQL's
  default ``"$user", public``: the user's own schema when one exists; public's
  relations are not found when public is not on it) and a new relation is created in
  the path's first existing schema;
* a schema that does not exist is left for the binder to report, as before.

With the default path and no schema named after the user, unqualified names mean
public's tables and nothing is renamed: the statement text alone decides what it
reads, so the shared plan cache serves it. A session whose path says otherwise
plans its statements privately (session.py), as one with temporary tables does.
"""
from __future__ import annotations

from .. import errors
from ..storage.namespaces import PUBLIC, qualify, split
from ..storage.root import relation_exists
from ..storage.roles import EMBEDDED_USER
from .temp_tables import store_name

DEFAULT_PATH = '"$user", public'


def parse_path(text: str | None) -> list[str]:
    """The schema names of a ``search_path`` value (``s, "My S", public``)."""
    if text is None or text.strip().lower() in ("", "default"):
        text = DEFAULT_PATH
    out = []
    for item in text.split(","):
        item = item.strip().strip("'").strip()
        if item.startswith('"') and item.endswith('"') and len(item) > 1:
            out.append(item[1:-1].replace('""', '"'))
        elif item:
            out.append(item.lower())
    return out


def effective_path(text: str | None, user: str | None, schemas) -> tuple[str, ...]:
    """The existing schemas of the path, in order (``$user`` read as ``user``); what
    unqualified names are looked up in and created in."""
    out = []
    for name in parse_path(text):
        if name == "$user":
            name = user or EMBEDDED_USER
        if (name == PUBLIC or name in schemas) and name not in out:
            out.append(name)
    return tuple(out)


def session_path(session, root) -> tuple[str, ...]:
    """The session's effective search path against ``root``'s schemas."""
    schemas = root.auth.schemas
    text = session.settings.get("search_path") if session is not None else None
    if not schemas and (text is None or text == DEFAULT_PATH):
        return (PUBLIC,)
    user = (getattr(session, "role", None) or getattr(session, "auth_user", None)
            or getattr(session, "user_name", None))
    return effective_path(text, user, schemas)


def creation_schema(path: tuple[str, ...]) -> str:
    if not path:
        raise errors.sql_error("3F000", "no schema has been selected to create in")
    return path[0]


def _exists(root, key: str) -> bool:
    return relation_exists(root, key) or key in root.sequences


_CREATES = ("TABLE", "VIEW", "SEQUENCE")


def qualify_names(ast, root, path: tuple[str, ...]):
    """``ast`` with its relation names renamed to their catalog keys (see the module
    docstring); ``path``: ``session_path``. Mutates and returns ``ast``."""
    from sqlglot import exp    # not at import: a session's first statements need no sqlglot
    schemas = root.auth.schemas
    default = path == (PUBLIC,)
    if default and not schemas:
        return ast          # public's names as written: the binders read them so
    ctes = {c.alias_or_name for c in ast.find_all(exp.CTE)}
    renames = []
    for table in list(ast.find_all(exp.Table)):
        if isinstance(table.this, exp.Func) or table.args.get("catalog") \
                or isinstance(table.parent, exp.AlterRename):
            continue
        db, name = table.db, table.name
        if db:
            if db == PUBLIC:
                table.set("db", None)
                continue
            if db not in schemas:
                continue          # pg_catalog, information_schema, or the binder's 3F000
            key = qualify(db, name)
        else:
            if default or name in ctes:
                continue
            if _is_created(table, exp):
                key = qualify(creation_schema(path), name)
            else:
                key = next((qualify(s, name) for s in path if _exists(root, qualify(s, name))),
                           name)
                if key == name and PUBLIC not in path and _exists(root, name):
                    # public's relation, but public is not on the path: not found, as in
                    # PostgreSQL (catalogs and notebook variables still resolve: binder)
                    raise errors.undefined_table(name)
            if key == name:
                continue
        if store_name(table, key):
            renames.append((table, key, name))
    # FROM s.t JOIN public.t: PostgreSQL lets two relations share a bare name when neither
    # has an alias (columns then name them qualified): such an item is aliased by its key
    keyed = set()
    for table, key, name in renames:
        select = table.parent_select
        if select is not None and sum(1 for t in _from_items(select, exp)
                                      if t.alias_or_name == name) > 1:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(key, quoted=True)))
            keyed.add(key)
    for column in ast.find_all(exp.Column):
        db = column.args.get("db")
        if db is not None and (db.name == PUBLIC or db.name in schemas):
            key = qualify(db.name, column.table)
            if key in keyed:
                column.set("table", exp.to_identifier(key, quoted=True))
            column.set("db", None)        # s.t.col: the FROM item is aliased t
    _follow_target_schema(ast, schemas, exp)
    return ast


def _from_items(select, exp) -> list:
    from_ = select.args.get("from_")
    items = [from_.this] if from_ is not None else []
    items += [j.this for j in select.args.get("joins") or ()]
    return [t for t in items if isinstance(t, exp.Table)]


def _is_created(table, exp) -> bool:
    """Whether ``table`` names the relation a CREATE TABLE / VIEW / SEQUENCE makes."""
    parent = table.parent
    if isinstance(parent, exp.Schema) and parent.this is table:
        parent = parent.parent
    return isinstance(parent, exp.Create) and (parent.this is table
                                                or parent.this is table.parent) \
        and (parent.args.get("kind") or "").upper() in _CREATES


def _follow_target_schema(ast, schemas, exp) -> None:
    """Names that live in their table's schema: ``ALTER TABLE s.t RENAME TO u`` makes
    ``s.u``; ``CREATE INDEX i ON s.t`` makes index ``s.i``."""
    if isinstance(ast, exp.Alter):
        target = ast.this
        schema = split(target.name, schemas)[0] if isinstance(target, exp.Table) else PUBLIC
        for action in ast.args.get("actions") or ():
            if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
                new = action.this
                if new.db and new.db != schema:
                    raise errors.sql_error("42601", "syntax error at or near \".\"")
                new.set("db", None)
                if schema != PUBLIC:
                    new.set("this", exp.to_identifier(qualify(schema, new.name), quoted=True))
    if isinstance(ast, exp.Create) and (ast.args.get("kind") or "").upper() == "INDEX":
        index = ast.this
        table = index.args.get("table") if isinstance(index, exp.Index) else None
        name = index.this if isinstance(index, exp.Index) else None
        if table is not None and isinstance(name, exp.Identifier):
            schema = split(table.name, schemas)[0]
            if schema != PUBLIC:
                index.set("this", exp.to_identifier(qualify(schema, name.name), quoted=True))


def reserved_schema(name: str) -> bool:
    """PostgreSQL's reserved schema names (``pg_``...): 42939 before anything else."""
    return name.startswith("pg_")


DEFAULT_SCHEMAS = (PUBLIC,)


def show_path(text: str) -> str:
    """A ``SET search_path`` value as SHOW prints it: ``s, "My S", public``."""
    out = []
    for name in parse_path(text):
        plain = name == "$user" or (name.replace("_", "a").isalnum() and name == name.lower()
                                    and not name[0].isdigit())
        out.append('"$user"' if name == "$user" else name if plain
                   else '"' + name.replace('"', '""') + '"')
    return ", ".join(out)


def check_qualified(root, key: str) -> None:
    """3F000 when ``key`` (a name a hand-parsed statement qualified: COMMENT ON, GRANT,
    ALTER ... OWNER TO) names a schema that does not exist."""
    if "." in key and not _exists(root, key):
        schema = key.partition(".")[0]
        if schema not in root.auth.schemas:
            raise errors.sql_error("3F000", f'schema "{schema}" does not exist')
