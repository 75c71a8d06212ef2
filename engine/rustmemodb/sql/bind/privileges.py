"""What a statement needs to run: the privileges the check in auth/check.py asks for.

Worked out once, when the statement is bound, and kept with the plan
(``BoundStatement.privileges``), so a cached plan costs no re-analysis; whether the
session's role holds them is checked at every execution (auth/check.py), against
the roles catalog of the transaction, so a GRANT or REVOKE takes effect at once.

A requirement is ``(what, name, privilege, view)``:

* ``("table", t, "SELECT", None)``: every table or view read, in FROM, joins,
  subqueries and CTEs (noted by the binder, ``StatementBinder.reads``);
  ``INSERT``/``UPDATE``/``DELETE``/``TRUNCATE`` on DML targets (UPDATE and DELETE
  also need SELECT when they read the table's columns: WHERE, RETURNING,
  expressions; ON CONFLICT with a target does too), ``REFERENCES`` on a foreign
  key's parent table;
* ``view`` set: a relation read *inside* that view's definition. As in PostgreSQL
  it is checked with the rights of the view's owner, not the caller;
* ``("schema", "public", "CREATE", None)``: CREATE TABLE / VIEW (PostgreSQL 15 no
  longer lets PUBLIC create in schema public);
* ``("owner", t, None, None)``: ALTER/DROP TABLE, CREATE INDEX, DROP/ALTER SEQUENCE
  (DROP INDEX: ``("owner", t, "index i", None)``, named so in the error; DROP FUNCTION
  and CREATE OR REPLACE FUNCTION: ``("owner", f, "function f", "function")``);
* ``("sequence", s, "USAGE|UPDATE", None)``: nextval and a SERIAL default (any of the
  privileges will do; currval/lastval USAGE or SELECT, setval UPDATE);
  ``("function", f, "EXECUTE", None)``: a SQL function called; both for the caller, in
  a view too (PostgreSQL runs a view's functions as the caller);
* ``("superuser", "read"|"write", None, None)``: server files (read_csv, COPY).
"""
from __future__ import annotations

from sqlglot import exp

from ...plan.expr import Expr
from ...plan.logical import LogicalCopyTo, LogicalFileScan, LogicalNode
from ...plan.walk import init_fields
from ...storage.namespaces import schema_of
from ...storage.root import owner_of_index
from ..parse_sequence import options_of


# Statements that store expressions without running them: the sequences and functions
# those use are checked when they run (a view's query, a column's DEFAULT, a body)
_DEFINES = frozenset({"CREATE VIEW", "CREATE FUNCTION", "CREATE TABLE", "ALTER TABLE",
                      "ALTER VIEW"})


def requirements(binder, node, kind: str, bound=None) -> tuple:
    """The requirements of a bound statement: reads noted by the binder (with the
    view they were read through) plus what its own kind and targets need."""
    out = []
    if bound is not None and not bound.cacheable and bound.plan is not None:
        out.extend(_file_access(bound.plan))    # plans touching files are never cached
    if kind != "CREATE VIEW":      # a view's reads are checked when it is used
        out.extend(("table", name, "SELECT", via) for name, via in binder.reads)
    out.extend(("table", name, "REFERENCES", None) for name in binder.references)
    if kind not in _DEFINES:        # a definition's functions run when it is used
        out.extend(getattr(binder, "routine_uses", ()))
    out.extend(getattr(binder, "view_writes", ()))
    for target in (node, *data_modifying_ctes(node)):
        _target_requirements(binder, target, out)
    if isinstance(node, exp.Select) and node.args.get("locks"):   # FOR UPDATE / SHARE
        from_ = node.args.get("from_")
        if from_ is not None and isinstance(from_.this, exp.Table):
            out.append(("table", from_.this.name, "UPDATE", None))
    return tuple(dict.fromkeys(out))


def data_modifying_ctes(node) -> list:
    """The INSERT/UPDATE/DELETE queries in ``node``'s own WITH (``WITH d AS (DELETE ...
    RETURNING *) SELECT ...``): each needs its privileges as a statement of its own."""
    with_ = node.args.get("with_") if isinstance(node, exp.Expression) else None
    if with_ is None:
        return []
    return [c.this for c in with_.expressions
            if isinstance(c.this, (exp.Insert, exp.Update, exp.Delete))]


def _target_requirements(binder, node, out: list) -> None:
    """What ``node``'s own kind and targets need, appended to ``out``."""
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
    elif isinstance(node, exp.Merge):
        name = _table_name(node.this)
        out.append(("table", name, "SELECT", None))     # the ON condition reads it
        whens = node.args.get("whens")
        for when in (whens.expressions if isinstance(whens, exp.Whens) else whens or []):
            then = when.args.get("then")
            what = "UPDATE" if isinstance(then, exp.Update) else "INSERT" if isinstance(
                then, exp.Insert) else "DELETE" if isinstance(then, exp.Var) and \
                then.name.upper() == "DELETE" else None
            if what is not None:
                out.append(("table", name, what, None))
    elif isinstance(node, exp.TruncateTable):
        out.extend(("table", _table_name(t), "TRUNCATE", None) for t in node.expressions)
    elif isinstance(node, exp.Copy):
        target = node.this
        if isinstance(target, (exp.Table, exp.Schema)):
            out.append(("table", _table_name(target), "INSERT" if node.args.get("kind")
                        else "SELECT", None))
    elif isinstance(node, exp.Create):
        k = (node.args.get("kind") or "").upper()
        if k in ("TABLE", "VIEW", "SEQUENCE", "FUNCTION", "TYPE"):
            schema = "public" if k in ("FUNCTION", "TYPE") else \
                schema_of(_table_name(node.this), binder.root.auth.schemas)
            out.append(("schema", schema, "CREATE", None))
            udf = node.this
            if k == "FUNCTION" and node.args.get("replace") and \
                    isinstance(udf, exp.UserDefinedFunction) and \
                    udf.this.name.lower() in binder.root.functions:   # OR REPLACE: its owner
                out.append(_function_owner(binder.root, udf.this.name.lower()))
        elif k == "INDEX":
            table = node.this.args.get("table") if isinstance(node.this, exp.Index) else None
            if table is not None:
                out.append(("owner", table.name, None, None))
    elif isinstance(node, exp.Drop):
        k = (node.args.get("kind") or "").upper()
        root = binder.root
        for t in node.args.get("tables") or ([node.this] if node.this is not None else []):
            # the name resolved first (a session's own temporary table is already its
            # stored name here, sql/temp_tables.py): only an existing relation of the kind
            # named needs its owner; for another, the statement's own NOTICE (IF EXISTS),
            # 42P01 or 42809 comes first, as in PostgreSQL
            # (a materialized view is kept with the tables)
            kept = root.tables if k == "TABLE" or node.args.get("materialized") else \
                root.views if k == "VIEW" else ()
            if t.name in kept:
                out.append(("owner", t.name, None, None))
            elif k == "SEQUENCE" and t.name in root.sequences:
                out.append(_sequence_owner(root, t.name))
            elif k == "FUNCTION":
                name = (t.this.name if isinstance(t, exp.UserDefinedFunction) else t.name)
                if name.lower() in root.functions:
                    out.append(_function_owner(root, name.lower()))
            elif k == "TYPE":   # no owner here: creators may drop
                out.append(("schema", "public", "CREATE", None))
            elif k == "INDEX":
                found = owner_of_index(binder.root, t.name)
                if found is not None:     # its table's owner; the message names the index
                    out.append(("owner", found[0], f"index {t.name}", None))
    elif isinstance(node, exp.Alter) and (node.args.get("kind") or "").upper() == "SEQUENCE":
        if _table_name(node.this) in binder.root.sequences:
            out.append(_sequence_owner(binder.root, _table_name(node.this)))
    elif isinstance(node, exp.Alter):
        out.append(("owner", _table_name(node.this), None, None))
    elif isinstance(node, exp.Refresh):     # REFRESH MATERIALIZED VIEW: its owner
        out.append(("owner", _table_name(node.this), None, None))


def _sequence_owner(root, name: str) -> tuple:
    """What DROP / ALTER SEQUENCE needs: its owner; CREATE on schema public for a sequence
    made before sequences had owners (by a role, in an older database)."""
    if root.auth.owner("table", name) is not None:
        return ("owner", name, None, None)
    return ("schema", "public", "CREATE", None)


def _function_owner(root, name: str) -> tuple:
    """What DROP FUNCTION and CREATE OR REPLACE of an existing one need: its owner
    (CREATE on schema public for one made before functions had owners)."""
    if root.auth.owner("function", name) is not None:
        return ("owner", name, f"function {name}", "function")
    return ("schema", "public", "CREATE", None)


def _file_access(plan) -> list:
    """``("superuser", "read"|"write", ...)`` for plans that read or write server files
    (read_csv, COPY ... FROM/TO 'file'): PostgreSQL reserves that to superusers (and
    pg_read/write_server_files), since the files are the server's, not the client's."""
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


# Statements that may make or drop sequences and functions: the roles catalog then
# compares the roots before and after (auth/check.py ``after_ddl``), which also catches
# the sequences a SERIAL or identity column makes and the ones its table takes along.
_ROUTINES = ("routines",)


def ddl_objects(node) -> tuple:
    """What a DDL statement does to named objects, for owners and grants to follow:
    ``("create", name)``, ``("drop", name)``, ``("rename", old, new)``,
    ``("drop_column", table, column)``, ``("rename_column", table, old, new)``, and
    ``("routines",)`` when sequences or functions may come or go."""
    kind = (node.args.get("kind") or "").upper() if isinstance(node, (exp.Create, exp.Drop,
                                                                      exp.Alter)) else ""
    if isinstance(node, exp.Create) and kind in ("TABLE", "VIEW"):
        return (("create", _table_name(node.this)), _ROUTINES)
    if isinstance(node, (exp.Create, exp.Drop)) and kind in ("SEQUENCE", "FUNCTION"):
        return (_ROUTINES,)
    if isinstance(node, exp.Drop) and kind in ("TABLE", "VIEW"):
        return tuple(("drop", t.name) for t in node.args.get("tables") or [node.this]) + \
            (_ROUTINES,)
    if isinstance(node, exp.Alter) and kind == "SEQUENCE":
        new = options_of(node).get("rename")
        if new is None:
            return ()
        old = _table_name(node.this)
        return (("rename", old, old.rsplit(".", 1)[0] + "." + new if "." in old else new),)
    if isinstance(node, exp.Alter):
        table = _table_name(node.this)
        out = []
        for action in node.args.get("actions") or ():
            if isinstance(action, exp.AlterRename):
                return (("rename", table, action.this.name),)
            # a column's grants go and are renamed with it
            if isinstance(action, exp.RenameColumn):
                out.append(("rename_column", table, action.this.name, action.args["to"].name))
            elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() \
                    == "COLUMN":
                out.extend(("drop_column", table, c.name)
                           for c in action.args.get("tables") or [action.this] if c is not None)
        return tuple(out) + (_ROUTINES,)     # ADD COLUMN serial, DROP COLUMN of one
    return ()


def _table_name(node) -> str:
    if isinstance(node, exp.Schema):
        node = node.this
    return node.name
