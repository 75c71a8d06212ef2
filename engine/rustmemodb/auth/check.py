"""The privilege check: what a statement needs, and whether the session's role has it.

What a statement needs is worked out once, when it is bound (``requirements``),
and kept with the plan (``BoundStatement.privileges``), so a cached plan costs no
re-analysis; *whether* the role has it is checked on every execution
(``check``) against the roles catalog of the transaction's working root, so a
GRANT or REVOKE takes effect at once, for cached plans too. A database without
roles, or a session without a role (the embedded implicit superuser), skips it.

A requirement is ``(what, name, privilege, view)``:

* ``("table", t, "SELECT", None)``: every table or view read, in FROM, joins,
  subqueries and CTEs; ``INSERT``/``UPDATE``/``DELETE``/``TRUNCATE`` on DML
  targets (UPDATE and DELETE also need SELECT when they read the table's
  columns: WHERE, RETURNING, expressions), ``REFERENCES`` on a foreign key's
  parent table;
* ``view`` set: a relation read *inside* that view's definition. As in
  PostgreSQL it is checked with the rights of the view's owner, not the caller;
* ``("schema", "public", "CREATE", None)``: CREATE TABLE / VIEW (PostgreSQL 15
  no longer lets PUBLIC create in schema public);
* ``("owner", t, None, None)``: ALTER/DROP TABLE, CREATE/DROP INDEX.

Denial is ``42501 permission denied for table t`` (``view v``, ``schema s``;
``must be owner of table t``), raised before the statement changes anything.
"""
from __future__ import annotations

from sqlglot import exp

from .. import errors
from .catalog import PUBLIC, SCHEMA_PRIVS, TABLE_PRIVS, AuthCatalog

PSEUDO_SCHEMA_OWNER = "pg_database_owner"


def effective_role(session) -> str | None:
    """The role whose rights apply: SET ROLE's, else the logged-in user's; None for a
    session that never logged in as a role (the implicit superuser)."""
    return getattr(session, "role", None) or getattr(session, "auth_user", None)


# ---- answering: has role R privilege P on object O? ------------------------------------

def has_privilege(cat: AuthCatalog, role: str | None, kind: str, name: str, priv: str,
                  grant_option: bool = False, roles: set | None = None) -> bool:
    """``roles``: ``cat.member_of(role)`` when the caller has it already."""
    if role is None or not cat.active or cat.is_superuser(role):
        return True
    if roles is None:
        roles = cat.member_of(role)
    owner = cat.owner(kind, name)
    if (kind, name) not in cat.acl:
        if owner is not None and owner in roles:
            return True
        if kind == "schema" and name == "public" and priv == "USAGE" and not grant_option:
            return True
        return False
    for g in cat.grants(kind, name):
        if g.privilege == priv and (g.grantee in roles or g.grantee == PUBLIC) \
                and (g.grantable or not grant_option or g.grantee == owner):
            return True
    # The owner always holds the grant options of what it still has.
    return False


def is_owner(cat: AuthCatalog, role: str | None, kind: str, name: str) -> bool:
    if role is None or not cat.active or cat.is_superuser(role):
        return True
    owner = cat.owner(kind, name)
    return owner is not None and owner in cat.member_of(role)


def default_acl(cat: AuthCatalog, kind: str, name: str) -> tuple:
    """The grants an object has before its first GRANT/REVOKE (PostgreSQL's NULL acl):
    the owner's full rights; schema public also USAGE for PUBLIC."""
    from .catalog import Grant
    if kind == "schema":
        if name != "public":
            return ()
        return (Grant(PSEUDO_SCHEMA_OWNER, "USAGE", False, PSEUDO_SCHEMA_OWNER),
                Grant(PSEUDO_SCHEMA_OWNER, "CREATE", False, PSEUDO_SCHEMA_OWNER),
                Grant(PUBLIC, "USAGE", False, PSEUDO_SCHEMA_OWNER))
    owner = cat.owner(kind, name)
    if owner is None:
        return ()
    return tuple(Grant(owner, p, False, owner) for p in TABLE_PRIVS)


# ---- what a statement needs (at bind time) ---------------------------------------------

def requirements(binder, node, kind: str, bound=None) -> tuple:
    """The requirements of a bound statement: reads noted by the binder (with the
    view they were read through) plus what its own kind and targets need."""
    out = []
    if bound is not None and not bound.cacheable and bound.plan is not None:
        out.extend(_file_access(bound.plan))    # plans touching files are never cached
    if kind != "CREATE VIEW":      # a view's reads are checked when it is used
        out.extend(("table", name, "SELECT", via) for name, via in binder.reads)
    out.extend(("table", name, "REFERENCES", None) for name in binder.references)
    if isinstance(node, exp.Insert):
        name = _table_name(node.this)
        out.append(("table", name, "INSERT", None))
        if node.args.get("returning") is not None:
            out.append(("table", name, "SELECT", None))
        conflict = node.args.get("conflict")
        if conflict is not None and conflict.args.get("expressions"):
            out.append(("table", name, "UPDATE", None))
        if conflict is not None and (conflict.args.get("expressions")
                                     or conflict.args.get("conflict_keys")
                                     or conflict.args.get("constraint")):
            # a conflict target (and DO UPDATE) reads the arbiter columns: SELECT too
            out.append(("table", name, "SELECT", None))
    elif isinstance(node, exp.Update):
        name = _table_name(node.this)
        out.append(("table", name, "UPDATE", None))
        if node.args.get("where") is not None or node.args.get("returning") is not None \
                or any(e.expression.find(exp.Column) is not None
                       for e in node.expressions if isinstance(e, exp.EQ)):
            out.append(("table", name, "SELECT", None))
    elif isinstance(node, exp.Delete):
        name = _table_name(node.this)
        out.append(("table", name, "DELETE", None))
        if node.args.get("where") is not None or node.args.get("returning") is not None:
            out.append(("table", name, "SELECT", None))
    elif isinstance(node, exp.TruncateTable):
        out.extend(("table", _table_name(t), "TRUNCATE", None) for t in node.expressions)
    elif isinstance(node, exp.Copy):
        target = node.this
        if isinstance(target, (exp.Table, exp.Schema)):
            out.append(("table", _table_name(target), "INSERT" if node.args.get("kind")
                        else "SELECT", None))
    elif isinstance(node, exp.Create):
        k = (node.args.get("kind") or "").upper()
        if k in ("TABLE", "VIEW"):
            out.append(("schema", "public", "CREATE", None))
        elif k == "INDEX":
            table = node.this.args.get("table") if isinstance(node.this, exp.Index) else None
            if table is not None:
                out.append(("owner", table.name, None, None))
    elif isinstance(node, exp.Drop):
        k = (node.args.get("kind") or "").upper()
        for t in node.args.get("tables") or ([node.this] if node.this is not None else []):
            if k in ("TABLE", "VIEW"):
                out.append(("owner", t.name, None, None))
            elif k == "INDEX":
                from ..sql.bind.bind_index import owner_of_index
                found = owner_of_index(binder.root, t.name)
                if found is not None:
                    out.append(("owner", found[0], None, None))
    elif isinstance(node, exp.Alter):
        out.append(("owner", _table_name(node.this), None, None))
    return tuple(dict.fromkeys(out))


def _file_access(plan) -> list:
    """``("superuser", "read"|"write", ...)`` for plans that read or write server files
    (read_csv, COPY ... FROM/TO 'file'): PostgreSQL reserves that to superusers (and
    pg_read/write_server_files), since the files are the server's, not the client's."""
    from ..plan.expr import Expr
    from ..plan.logical import LogicalCopyTo, LogicalFileScan, LogicalNode
    from ..plan.walk import init_fields
    found = set()
    todo = [plan]
    while todo:
        node = todo.pop()
        if isinstance(node, LogicalFileScan):
            found.add("read")
        elif isinstance(node, LogicalCopyTo):
            found.add("write")
        todo.extend(node.children())
        for name in init_fields(type(node)):
            value = getattr(node, name)
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, Expr):
                    for e in v.walk():
                        sub = getattr(e, "plan", None)
                        if isinstance(sub, LogicalNode):
                            todo.append(sub)
    return [("superuser", what, None, None) for what in sorted(found)]


def ddl_objects(node) -> tuple:
    """What a DDL statement does to named objects, for owners and grants to follow:
    ``("create", name)``, ``("drop", name)``, ``("rename", old, new)``."""
    if isinstance(node, exp.Create) and (node.args.get("kind") or "").upper() in ("TABLE",
                                                                               "VIEW"):
        return (("create", _table_name(node.this)),)
    if isinstance(node, exp.Drop) and (node.args.get("kind") or "").upper() in ("TABLE", "VIEW"):
        return tuple(("drop", t.name) for t in node.args.get("tables") or [node.this])
    if isinstance(node, exp.Alter):
        for action in node.args.get("actions") or ():
            if isinstance(action, exp.AlterRename):
                return (("rename", _table_name(node.this), action.this.name),)
    return ()


def _table_name(node) -> str:
    if isinstance(node, exp.Schema):
        node = node.this
    return node.name


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
    for what, name, priv, via in bound.privileges:
        if what == "superuser":
            raise errors.sql_error("42501", f"must be superuser to {name} server files",
                                   hint="Reading and writing the server's files (read_csv, "
                                        "COPY ... 'file') is reserved to superusers.")
        if what == "owner":
            if not is_owner(cat, role, "table", name):
                raise errors.sql_error("42501", f"must be owner of {_relkind(root, name)} "
                                                f"{name}")
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
        if not has_privilege(cat, who, "table", name, priv, roles=roles):
            raise errors.sql_error("42501", f"permission denied for {_relkind(root, name)} "
                                            f"{name}")


def _relkind(root, name: str) -> str:
    return "view" if name in root.views else "table"


def after_ddl(txn, bound, before_root, session) -> None:
    """Owners and grants follow the objects a DDL statement created, dropped or renamed:
    a new table or view is owned by the role that created it."""
    role = effective_role(session)
    before = cat = txn.working.auth
    working = txn.working
    for effect in bound.ddl_objects:
        if effect[0] == "create":
            name = effect[1]
            exists = name in working.tables or name in working.views
            new = name not in before_root.tables and name not in before_root.views
            if exists and new and role is not None:
                cat = cat.without_object("table", name).with_owner("table", name, role)
        elif effect[0] == "drop":
            name = effect[1]
            if name not in working.tables and name not in working.views:
                cat = cat.without_object("table", name)
        elif effect[0] == "rename":
            cat = cat.renamed_object("table", effect[1], effect[2])
    if cat is not before:
        txn.set_auth(cat)


def privilege_names(kind: str) -> tuple:
    return TABLE_PRIVS if kind == "table" else SCHEMA_PRIVS


def require_table_privilege(session, table: str, priv: str) -> None:
    """For paths that write or read a table without a bound statement (the wire server's
    COPY FROM STDIN / TO STDOUT): 42501 unless the session's role holds ``priv``."""
    root = session._catalog_root()
    if not root.auth.active or effective_role(session) is None:
        return
    from types import SimpleNamespace
    check(session, root, SimpleNamespace(privileges=(("table", table, priv, None),)))
