"""Clauses the binder does not implement are errors, never silently dropped.

sqlglot parses far more syntax than the engine runs (other dialects' clauses,
PostgreSQL features not built yet), and the binders read only the AST args they
know. An arg nobody reads would vanish: ``SELECT ... FOR UPDATE`` would run
without locks, ``FETCH FIRST 1 PERCENT`` as one row. So before binding,
``check_clauses`` walks the statement once and, for each clause-carrying node
type listed in ``HANDLED``, raises ``0A000`` naming the first set arg that is
not in that node's allow-list.

Some args matter by value, not presence (a join ``kind`` of SEMI, ``FETCH ...
PERCENT``, a schema qualifier, CREATE TABLE properties, an index method): the
``_VALUE_CHECKS`` of a node type look at those. Qualified names are checked here
too where a binder reads only the bare name (DML targets, DDL).

Adding a feature means adding its arg to ``HANDLED`` here, next to the binder
code that reads it. Node types not listed (expressions, most DDL nodes) are not
checked: the expression binder already rejects classes it does not know, and
the DDL binders reject column constraints they do not know.
"""
from __future__ import annotations

import re

from sqlglot import exp

from ... import errors
from ..limits import statement_limits
from ..parse import position_of
from ...catalog.virtual import is_schema

_QUERY_TAIL = {"with_", "order", "limit", "offset"}

# node type -> the args some binder reads (everything else set on the node is 0A000)
HANDLED: dict[type, frozenset[str]] = {
    exp.Select: frozenset({"with_", "expressions", "distinct", "from_", "joins",
                           "where", "group", "having", "windows", "order", "limit", "offset",
                           "sample", "qualify", "locks"}),     # locks: bind_locks.py
    exp.Union: frozenset({"this", "expression", "distinct", "by_name"} | _QUERY_TAIL),
    exp.Intersect: frozenset({"this", "expression", "distinct"} | _QUERY_TAIL),
    exp.Except: frozenset({"this", "expression", "distinct"} | _QUERY_TAIL),
    exp.Subquery: frozenset({"this", "alias", "joins", "pivots"} | _QUERY_TAIL),
    exp.Values: frozenset({"expressions", "alias", "order", "limit", "offset", "joins"}),
    exp.Table: frozenset({"this", "alias", "db", "catalog", "sample", "only", "joins",
                          "ordinality",       # f(...) WITH ORDINALITY (bind_lateral.py)
                          "rows_from",        # ROWS FROM (f(), g()) (bind_from.py)
                          "pivots"}),         # FROM t PIVOT (...) (bind_pivot.py)
    exp.Join: frozenset({"this", "on", "side", "kind", "using", "method"}),
    exp.With: frozenset({"expressions", "recursive"}),
    exp.CTE: frozenset({"this", "alias", "materialized"}),
    exp.Ordered: frozenset({"this", "desc", "nulls_first"}),
    exp.Limit: frozenset({"this", "expression"}),
    exp.Offset: frozenset({"this", "expression"}),
    exp.Fetch: frozenset({"direction", "count", "limit_options"}),
    exp.Group: frozenset({"expressions", "all"}),    # all: DuckDB's GROUP BY ALL
    exp.Distinct: frozenset({"on", "expressions"}),    # expressions: count(DISTINCT x)
    exp.Star: frozenset({"except_", "replace"}),     # DuckDB's * EXCLUDE / * REPLACE
    exp.Column: frozenset({"this", "table", "db", "catalog"}),
    exp.TableSample: frozenset({"method", "percent", "size", "seed"}),
    exp.Update: frozenset({"with_", "this", "expressions", "from_", "where", "returning"}),
    exp.Delete: frozenset({"with_", "this", "using", "where", "returning"}),
    exp.Insert: frozenset({"with_", "this", "expression", "conflict", "returning",
                           "default", "by_name"}),     # by_name: DuckDB's BY NAME
    # DDL: CREATE TABLE/VIEW/INDEX options no binder reads
    exp.Create: frozenset({"this", "kind", "expression", "exists", "properties", "replace",
                           "unique", "concurrently"}),
    exp.Properties: frozenset({"expressions"}),
    exp.Index: frozenset({"this", "table", "unique", "params"}),
    exp.IndexParameters: frozenset({"using", "columns", "where", "include"}),  # bind_index.py
    exp.ColumnDef: frozenset({"this", "kind", "constraints", "exists"}),
    exp.CollateColumnConstraint: frozenset({"this"}),
    exp.Drop: frozenset({"this", "kind", "tables", "exists", "cascade", "restrict",
                         "concurrently", "materialized",
                         "expressions"}),     # DROP FUNCTION f(argument types)
    exp.Cast: frozenset({"this", "to"}),
    exp.In: frozenset({"this", "expressions", "query"}),
    exp.Window: frozenset({"this", "partition_by", "order", "spec", "alias", "over"}),
    exp.WindowSpec: frozenset({"kind", "start", "start_side", "end", "end_side", "exclude"}),
    # window modifiers the window binder does not read
    exp.IgnoreNulls: frozenset({"this"}),
    exp.RespectNulls: frozenset({"this"}),
}

# How an arg is named in messages (the SQL a user wrote), when its name is not enough.
_CLAUSE = {
    "locks": "SELECT ... FOR UPDATE/FOR SHARE (row locks)",
    "into": "SELECT ... INTO",
    "qualify": "QUALIFY",
    "connect": "CONNECT BY",
    "match": "MATCH_RECOGNIZE",
    "prewhere": "PREWHERE",
    "hint": "optimizer hints",
    "hints": "table hints",
    "laterals": "LATERAL VIEW",
    "pivots": "PIVOT/UNPIVOT",
    "distribute": "DISTRIBUTE BY",
    "sort": "SORT BY",
    "cluster": "CLUSTER BY",
    "settings": "SETTINGS",
    "format": "FORMAT",
    "options": "query OPTIONS",
    "for_": "FOR XML/JSON",
    "operation_modifiers": "SELECT modifiers",
    "ordinality": "WITH ORDINALITY",
    "rows_from": "ROWS FROM (...)",
    "system_time": "FOR SYSTEM_TIME",
    "version": "time travel (AS OF)",
    "partition": "PARTITION",
    "joins": "a parenthesized join in FROM",
    "search": "WITH ... SEARCH",
    "cycle": "WITH ... CYCLE",
    "with_fill": "ORDER BY ... WITH FILL",
    "grouping_sets": "GROUPING SETS",
    "cube": "CUBE",
    "rollup": "ROLLUP",
    "totals": "WITH TOTALS",
    "all": "GROUP BY ALL",
    "by_name": "UNION BY NAME",
    "except": "SELECT * EXCEPT/EXCLUDE",
    "replace": "SELECT * REPLACE",
    "rename": "SELECT * RENAME",
    "join_mark": "the (+) outer join mark",
    "bucket_numerator": "TABLESAMPLE BUCKET",
    "using": "USING",
    "order": "ORDER BY",
    "limit": "LIMIT",
    "global_": "GLOBAL JOIN",
    "match_condition": "ASOF JOIN",
    "expressions": "this form",
    "include": "INCLUDE (covering index columns)",
    "with_storage": "index storage parameters (WITH ...)",
    "tablespace": "TABLESPACE",
    "materialized": "MATERIALIZED VIEW",
    "temporary": "DROP TEMPORARY",
    "position": "column positions (FIRST/AFTER)",
    "default": "DEFAULT VALUES",
    (exp.Cast, "format"): "CAST ... FORMAT",
    (exp.Cast, "default"): "CAST ... DEFAULT ON CONVERSION ERROR",
    (exp.In, "unnest"): "IN UNNEST(...)",
}

def check_clauses(ast: exp.Expression) -> None:
    """Raise 0A000 for the first clause in ``ast`` that no binder would read.

    Node types match exactly (``type(node) in HANDLED``): an isinstance test against
    this many sqlglot classes costs ~3 µs a node, the exact lookup ~50 ns."""
    handled = HANDLED
    seen = 0
    for node in ast.walk():
        seen += 1
        if not seen & 127:        # interrupt / timeout over huge statements
            statement_limits.check()
        allowed = handled.get(type(node))
        if allowed is not None:
            _check_node(node, allowed)


def check_node(node: exp.Expression) -> None:
    """``check_clauses`` for ``node`` alone, not the nodes under it."""
    allowed = HANDLED.get(type(node))
    if allowed is not None:
        _check_node(node, allowed)


def _check_node(node: exp.Expression, allowed: frozenset) -> None:
    for key, value in node.args.items():
        if key in allowed or value is None or value is False or \
                (type(value) is list and not value):
            continue
        raise _unsupported(node, key)
    extra = _VALUE_CHECKS.get(type(node))
    if extra is not None:
        extra(node)


def _unsupported(node: exp.Expression, key: str) -> errors.Error:
    what = _CLAUSE.get((type(node), key)) or _CLAUSE.get(key, key.upper())
    where = type(node).__name__.upper()
    err = errors.not_supported(f"{what} (in {where})" if key == "expressions" else what,
                               hint="This clause is parsed but not implemented; rewrite the "
                                    "query without it.")
    err.position = position_of(node)
    return err


# ---- args whose values (not only presence) matter ---------------------------------------

def _check_join(node: exp.Join) -> None:
    method = str(node.args.get("method") or "").upper()
    if method and method != "NATURAL":
        raise _named(node, f"{method} JOIN")
    kind = str(node.args.get("kind") or "").upper()
    if kind not in ("", "INNER", "OUTER", "CROSS", "SEMI", "ANTI") or \
            (kind in ("SEMI", "ANTI") and (node.side or method)):
        raise _named(node, " ".join(w for w in (node.side, method, kind, "JOIN") if w))


def _check_fetch(node: exp.Fetch) -> None:
    options = node.args.get("limit_options")
    if options is not None and options.args.get("percent"):
        raise _named(node, "FETCH ... PERCENT")


def _named(node: exp.Expression, what: str) -> errors.Error:
    err = errors.not_supported(what)
    err.position = position_of(node)
    return err


def _check_table(node: exp.Table) -> None:
    """Qualified names: those of existing schemas were renamed to their catalog keys
    before binding (sql/schemas.py); FROM items are resolved by bind_from; elsewhere
    (INSERT/UPDATE/DELETE targets, DDL) binders read only the bare name, so a schema
    left here does not exist (3F000) or is a read-only catalog (42809)."""
    if node.args.get("catalog") is not None:
        raise _named(node, f"cross-database references ({node.sql(dialect='postgres')})")
    schema = node.db
    if not schema or schema == "public" or isinstance(node.parent, (exp.From, exp.Join,
                                                                    exp.Subquery)) \
            or node.arg_key in ("using", "joins"):
        return
    if is_schema(schema):
        raise errors.sql_error("42809", f'"{schema}.{node.name}" is a read-only catalog view',
                               position=position_of(node))
    raise errors.sql_error("3F000", f'schema "{schema}" does not exist',
                           position=position_of(node))


def _check_properties(node: exp.Properties) -> None:
    """CREATE TABLE options: TEMPORARY, PARTITION BY, INHERITS, WITH (...),
    TABLESPACE ... would all be dropped by the DDL binder."""
    for prop in node.expressions:
        if isinstance(prop, exp.TemporaryProperty):
            what = "CREATE TEMPORARY TABLE"   # (session.py renames those it can make)
        elif type(prop) is exp.Property and _fillfactor(prop):
            continue
        elif type(prop) is exp.Property and _check_option(prop):
            continue     # CREATE VIEW ... WITH CHECK OPTION (bind_ddl.bind_create_view)
        elif isinstance(prop, exp.UnloggedProperty):
            continue     # kept as durable as any table: stronger than UNLOGGED's promise
                         # (pgbench -i --unlogged-tables, test fixtures that ask for speed)     # how full heap pages are packed: no pages here (pgbench -i sets it)
        elif isinstance(prop, exp.SequenceProperties):
            continue     # CREATE SEQUENCE options: checked by bind_ddl.bind_create_sequence
        elif isinstance(prop, exp.MaterializedProperty):
            continue     # CREATE MATERIALIZED VIEW (bind_matview.py)
        elif isinstance(prop, exp.WithDataProperty):
            continue     # CREATE TABLE ... AS ... WITH [NO] DATA (bind_ddl._create_table_as)
        elif isinstance(prop, (exp.ReturnsProperty, exp.LanguageProperty,
                               exp.StabilityProperty)):
            continue     # CREATE FUNCTION (bind_sql_functions.py checks the rest)
        elif type(prop) is exp.Property:
            what = "storage parameters (WITH ...)"
        elif type(prop) in _PROPERTY_NAMES:
            what = _PROPERTY_NAMES[type(prop)]
        else:
            what = re.sub(r"(?<!^)(?=[A-Z])", " ", type(prop).__name__.replace("Property", "")
                          ).upper()
        raise _named(prop, what)


def _check_option(prop: exp.Property) -> bool:
    """A view's ``check_option`` (``local`` or ``cascaded``; 22023 for other values)."""
    create = prop.parent.parent if prop.parent is not None else None
    if prop.name.lower() != "check_option" or not isinstance(create, exp.Create) or \
            (create.args.get("kind") or "").upper() != "VIEW":
        return False
    value = prop.args.get("value")
    text = value.name.lower() if value is not None else ""
    if text not in ("local", "cascaded"):
        raise errors.sql_error("22023", f'invalid value for enum option "check_option": {text}',
                               detail='Valid values are "local" and "cascaded".')
    return True


def _fillfactor(prop: exp.Property) -> bool:
    """``WITH (fillfactor = n)``, n in PostgreSQL's range 10..100 (22023 outside it)."""
    if prop.name.lower() != "fillfactor":
        return False
    value = prop.args.get("value")
    text = value.name if value is not None else ""
    if not text.isdigit() or not 10 <= int(text) <= 100:
        raise errors.sql_error("22023", f'value {text} out of bounds for option "fillfactor"',
                               detail="Valid values are between \"10\" and \"100\".")
    return True


_PROPERTY_NAMES = {exp.PartitionedByProperty: "PARTITION BY", exp.TableSpaceProperty: "TABLESPACE"}


def _check_index_method(node: exp.IndexParameters) -> None:
    using = node.args.get("using")
    method = using.name.lower() if using is not None else "btree"
    if method not in ("btree", "hash", "gin", "gist"):    # gin/gist: bind_index.py
        raise _named(node, f"index method {method}")


def _check_collation(node: exp.CollateColumnConstraint) -> None:
    name = node.this.name if isinstance(node.this, exp.Expression) else str(node.this)
    if name not in ("C", "POSIX", "default", "ucs_basic"):
        err = errors.not_supported(f'collation "{name}"',
                                   hint='Text compares bytewise here (COLLATE "C").')
        err.position = position_of(node)
        raise err


def _refuse(what: str):
    def check(node: exp.Expression) -> None:
        raise _named(node, what)
    return check


_VALUE_CHECKS = {exp.Join: _check_join, exp.Fetch: _check_fetch, exp.Table: _check_table,
                 exp.Properties: _check_properties, exp.IndexParameters: _check_index_method,
                 exp.CollateColumnConstraint: _check_collation,
                 exp.IgnoreNulls: _refuse("IGNORE NULLS"),
                 exp.RespectNulls: _refuse("RESPECT NULLS")}
