"""The privilege check: whether the session's role holds what a statement needs.

What a statement needs is worked out when it is bound (sql/bind/privileges.py,
``BoundStatement.privileges``); whether the role has it is checked here on every
execution, against the roles catalog of the transaction's working root
(storage/roles.py), so a GRANT or REVOKE takes effect at once, for cached plans
too. A database without roles, or a session without a role (the embedded implicit
superuser), skips it.

Denial is ``42501 permission denied for table t`` (``view v``, ``schema s``;
``must be owner of table t``), raised before the statement changes anything.

A table privilege a role lacks may be made up by column privileges (``GRANT SELECT
(a) ON t``), as in PostgreSQL: the statement then needs the column's privilege on every
column it uses that way (sql/bind/column_uses.py). That path runs only once the table
check failed and the table has column grants, so superusers and roles holding the
table privilege pay nothing for it.
"""
from __future__ import annotations

from .. import errors
from ..storage.namespaces import schema_of
from ..storage.roles import (COLUMN_PRIVS, EMBEDDED_USER, has_column_privilege,
                             has_privilege, initial_grants, is_owner)


def effective_role(session) -> str | None:
    """The role whose rights apply: SET ROLE's, else the logged-in user's; None for a
    session that never logged in as a role (the implicit superuser)."""
    return getattr(session, "role", None) or getattr(session, "auth_user", None)


# ---- checking (at every execution) -----------------------------------------------------

def check(session, root, bound) -> None:
    """42501 unless the session's role may run ``bound`` against ``root``."""
    cat = root.auth
    role = effective_role(session)
    if role is None or cat.is_superuser(role):
        return
    if ("schema", "public") in cat.acl and not has_privilege(cat, role, "schema", "public",
                                                             "USAGE"):
        # USAGE was revoked: PostgreSQL's search path then skips the schema, so its
        # tables are not found at all (a schema-qualified name would be 42501 there)
        for what, name, _priv, via in bound.privileges:
            if what == "table" and via is None:
                raise errors.sql_error("42P01", f'relation "{name}" does not exist',
                                       hint="The role has no USAGE on schema public.")
    mine = cat.member_of(role)
    if cat.schemas:
        _check_usage(cat, role, mine, bound)
    for what, name, priv, via in bound.privileges:
        if what == "superuser":
            raise errors.sql_error("42501", f"must be superuser to {name} server files",
                                   hint="Reading and writing the server's files (read_csv, "
                                        "COPY ... 'file') is reserved to superusers.")
        if what == "owner":
            # ``via`` names the owned object's kind when it is no relation (a function)
            if not is_owner(cat, role, via or "table", name):
                raise errors.sql_error("42501", "must be owner of "
                                       + (priv or f"{_relkind(root, name)} {name}"))
            continue
        if what == "schema":
            if not has_privilege(cat, role, "schema", name, priv):
                raise errors.sql_error("42501", f"permission denied for schema {name}")
            continue
        who, roles = role, mine
        if via is not None:
            who, roles = cat.owner("table", via), None
            if who is None:          # a view made by the implicit superuser
                continue
        if what in ("sequence", "function"):
            # any of the privileges will do (nextval: USAGE or UPDATE); a sequence's
            # grants are a relation's
            key = "table" if what == "sequence" else what
            if not any(has_privilege(cat, who, key, name, p, roles=roles)
                       for p in priv.split("|")):
                raise errors.sql_error("42501", f"permission denied for {what} {name}")
            continue
        if not has_privilege(cat, who, "table", name, priv, roles=roles) and not (
                priv in COLUMN_PRIVS and cat.columns and cat.has_column_grants(name)
                and _columns_held(session, root, bound, who, roles, name, priv, via)):
            raise errors.sql_error("42501", f"permission denied for {_relkind(root, name)} "
                                            f"{name}")


# ---- column privileges -------------------------------------------------------------------

def relation_columns(root, name: str, functions=None) -> list[str] | None:
    """A table's or view's column names (None: no such relation, or a view that no
    longer binds). A view's are its query's output names, bound with ``functions``
    (the binder and sqlglot are imported only then)."""
    version = root.tables.get(name)
    if version is not None:
        return [c.name for c in version.schema.columns]
    if name not in root.views:
        return None
    from ..sql.bind.binder import StatementBinder
    if functions is None:
        from ..exec.functions.registry import FunctionRegistry
        functions = FunctionRegistry()
    try:
        return StatementBinder(root, functions).relation_names(name)
    except errors.Error:
        return None


def _columns_held(session, root, bound, who, roles, name: str, priv: str, via) -> bool:
    """Whether column privileges make up for the missing table privilege ``priv`` on
    ``name``: held on every column the statement (or, ``via``, the view's query) uses so,
    or on any column when it uses none."""
    uses = _uses(session, root, bound, via)
    if uses is None:
        return False
    cat = root.auth
    cols = uses.out.get((name, priv))
    if cols is None:    # a DML target none of whose columns is read needs no SELECT
        return priv == "SELECT" and name in uses.targets
    if not cols:
        cols = relation_columns(root, name, _functions(session)) or ()
        return any(has_column_privilege(cat, who, name, c, priv, roles=roles) for c in cols)
    return all(has_column_privilege(cat, who, name, c, priv, roles=roles) for c in cols)


def _constraint_columns(root, table: str, name: str | None) -> list[str] | None:
    """The columns of ``table``'s constraint ``name`` (None: its primary key)."""
    version = root.tables.get(table)
    if version is None:
        return None
    schema = version.schema
    found = next((u for u in schema.uniques
                  if (u.primary if name is None else u.name == name)), None)
    return None if found is None else [schema.columns[i].name for i in found.columns]


def _functions(session):
    db = getattr(session, "db", None)
    return getattr(db, "functions", None)


def _uses(session, root, bound, via):
    """The column uses of the statement (``via`` None) or of a view it reads, worked out
    once per bound statement; None when they cannot be (the check then denies)."""
    from ..sql.bind.column_uses import Unknown, column_uses
    from ..sql.parse import parse_one
    memo = getattr(bound, "column_uses", None)
    if memo is not None and via in memo:
        return memo[via]
    source = getattr(bound, "source", None) if via is None else \
        getattr(root.views.get(via), "sql", None)
    uses = None
    try:
        if isinstance(source, str):
            source = parse_one(source)
        if source is not None:
            functions = _functions(session)
            uses = column_uses(source, lambda n: relation_columns(root, n, functions),
                               lambda t, c: _constraint_columns(root, t, c))
    except (Unknown, errors.Error):
        uses = None
    if hasattr(bound, "column_uses"):
        if bound.column_uses is None:
            bound.column_uses = {}
        bound.column_uses[via] = uses
    return uses


def _check_usage(cat, role: str, mine: set, bound) -> None:
    """A relation of a schema other than public needs USAGE on its schema (the
    schema's owner has it; others by GRANT USAGE ON SCHEMA)."""
    for what, name, _priv, via in bound.privileges:
        if what in ("table", "owner", "sequence", "function") and via in (None, "function"):
            schema = schema_of(name, cat.schemas)
            if schema != "public" and not has_privilege(cat, role, "schema", schema, "USAGE",
                                                        roles=mine):
                raise errors.sql_error("42501", f"permission denied for schema {schema}")


def _relkind(root, name: str) -> str:
    """A relation's kind as PostgreSQL's 42501 messages name it."""
    if name in root.views:
        return "view"
    if name in root.sequences:
        return "sequence"
    version = root.tables.get(name)
    return "materialized view" if version is not None and \
        version.schema.matview_sql is not None else "table"


def after_ddl(txn, bound, before_root, session) -> None:
    """Owners and grants follow the objects a DDL statement created, dropped or renamed:
    a new table or view is owned by the role that created it and starts with that role's
    default privileges (ALTER DEFAULT PRIVILEGES) for its schema."""
    role = effective_role(session)
    before = cat = txn.working.auth
    working = txn.working
    for effect in bound.ddl_objects:
        if effect[0] == "create":
            name = effect[1]
            exists = name in working.tables or name in working.views
            new = name not in before_root.tables and name not in before_root.views
            if exists and new and (role is not None or cat.defaults):
                cat = cat.without_object("table", name).with_owner("table", name, role)
                grants = initial_grants(cat, role or EMBEDDED_USER,
                                        schema_of(name, cat.schemas), "r")
                if grants is not None:
                    cat = cat.with_grants("table", name, grants)
        elif effect[0] == "drop":
            name = effect[1]
            if name not in working.tables and name not in working.views:
                cat = cat.without_object("table", name)
        elif effect[0] == "rename":
            cat = cat.renamed_object("table", effect[1], effect[2])
        elif effect[0] == "rename_column":
            cat = cat.renamed_column(effect[1], effect[2], effect[3])
        elif effect[0] == "drop_column":
            version = working.tables.get(effect[1])
            if version is None or all(c.name != effect[2] for c in version.schema.columns):
                cat = cat.without_column(effect[1], effect[2])
        elif effect[0] == "routines":
            cat = _routines_followed(cat, before_root, working, role)
    if cat is not before:
        txn.set_auth(cat)


def _routines_followed(cat, before_root, working, role):
    """Sequences and functions the statement made are owned by the role that made it
    (a SERIAL's or identity column's sequence by its table's maker, as PostgreSQL's
    table owner) and start with its default privileges (``S``, ``f``); those it dropped
    take their owners and grants with them."""
    for names, old, kind, objtype in ((working.sequences, before_root.sequences, "table", "S"),
                                      (working.functions, before_root.functions, "function",
                                       "f")):
        if names is old:
            continue
        for name in old:
            if name not in names:
                cat = cat.without_object(kind, name)
        for name in names:
            if name in old:
                continue
            cat = cat.without_object(kind, name)
            if role is None and not cat.defaults:
                continue
            cat = cat.with_owner(kind, name, role)
            grants = initial_grants(cat, role or EMBEDDED_USER, schema_of(name, cat.schemas),
                                    objtype)
            if grants is not None:
                cat = cat.with_grants(kind, name, grants)
    return cat


def require_table_privilege(session, table: str, priv: str) -> None:
    """For paths that write or read a table without a bound statement (the wire server's
    COPY FROM STDIN / TO STDOUT): 42501 unless the session's role holds ``priv``."""
    root = session._catalog_root()
    if not root.auth.active or effective_role(session) is None:
        return
    from types import SimpleNamespace
    check(session, root, SimpleNamespace(privileges=(("table", table, priv, None),)))
