"""Binding DDL: CREATE/DROP TABLE and VIEW, TRUNCATE, into plan nodes (plan/ddl.py).

Names, types, constraints and defaults are resolved and checked here; nothing is
changed: the executor applies the node inside the statement's transaction
(exec/operators/ddl.py), which checks existence against the transaction's own
catalog. Index and ALTER TABLE statements are delegated to hooks
(``bind_create_index``, ``bind_alter``) of the binder.
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors, types
from ...plan.ddl import (LogicalCreateSequence, LogicalCreateTable, LogicalCreateTableAs,
                         LogicalCreateView, LogicalDropSequence, LogicalDropTable,
                         LogicalDropView, LogicalRenameView, LogicalAlterSequence,
                         LogicalTruncate)
from ...plan.provenance import output_sources
from ...storage.root import ViewDef, relation_exists
from ...storage.schema import CheckConstraint, Column, ForeignKey, TableSchema, UniqueConstraint
from ...storage import sequence_defs
from ...storage.sequence_names import default_sequence, serial_default
from .. import parse_sequence
from ..parse import parse_one, position_of
from .bind_matview import bind_create_matview, bind_drop_matview, bind_refresh, is_materialized
from .bind_sql_functions import bind_create_function, bind_drop_function
from .bind_enum import bind_create_type, bind_drop_type
from .bind_constraints import generated_expr
from .bind_insert import default_expr
from .type_modifiers import declared_type
from .bind_select import bind_query
from .view_dml import query_detail
from . import view_stars


def bind_ddl(stmt, node: exp.Expression):
    if isinstance(node, exp.Create):
        kind = (node.args.get("kind") or "").upper()
        if kind == "TABLE":
            return "CREATE TABLE", bind_create_table(stmt, node)
        if kind == "VIEW" and is_materialized(node):
            return "CREATE MATERIALIZED VIEW", bind_create_matview(stmt, node, _create_table_as)
        if kind == "VIEW":
            return "CREATE VIEW", bind_create_view(stmt, node)
        if kind == "INDEX":
            return "CREATE INDEX", stmt.bind_create_index(node)
        if kind == "SEQUENCE":
            return "CREATE SEQUENCE", bind_create_sequence(node)
        if kind == "FUNCTION":
            return "CREATE FUNCTION", bind_create_function(stmt, node)
        if kind == "TYPE":
            return "CREATE TYPE", bind_create_type(node, stmt)
        raise errors.not_supported(f"CREATE {kind}")
    if isinstance(node, exp.Drop):
        kind = (node.args.get("kind") or "").upper()
        if kind == "TABLE":
            return "DROP TABLE", bind_drop_table(stmt, node)
        if kind == "VIEW" and node.args.get("materialized"):
            return "DROP MATERIALIZED VIEW", bind_drop_matview(node, drop_targets(node))
        if kind == "VIEW":
            return "DROP VIEW", bind_drop_view(stmt, node)
        if kind == "INDEX":
            return "DROP INDEX", stmt.bind_drop_index(node)
        if kind == "FUNCTION":
            return "DROP FUNCTION", bind_drop_function(node)
        if kind == "TYPE":
            return "DROP TYPE", bind_drop_type(stmt, node)
        if kind == "SEQUENCE":
            return "DROP SEQUENCE", LogicalDropSequence(
                columns=[], targets=tuple(drop_targets(node)),   # (unquoted: folded by parse)
                if_exists=bool(node.args.get("exists")))
        raise errors.not_supported(f"DROP {kind}")
    if isinstance(node, exp.Alter) and (node.args.get("kind") or "").upper() == "SEQUENCE":
        return "ALTER SEQUENCE", LogicalAlterSequence(
            [], node.this.name, parse_sequence.options_of(node), bool(node.args.get("exists")))
    if isinstance(node, exp.Alter) and _renames_view(stmt, node):
        return "ALTER VIEW", LogicalRenameView([], node.this.name,
                                               node.args["actions"][0].this.name,
                                               bool(node.args.get("exists")))
    if isinstance(node, exp.Alter) and (node.args.get("kind") or "").upper() == "INDEX":
        return "ALTER INDEX", stmt.bind_alter(node)     # RENAME TO (bind_alter.py)
    if isinstance(node, exp.Alter) and (node.args.get("kind") or "").upper() == "VIEW":
        return "ALTER VIEW", bind_alter_view_defaults(stmt, node)
    if isinstance(node, exp.Alter):
        return "ALTER TABLE", stmt.bind_alter(node)
    if isinstance(node, exp.TruncateTable):
        return "TRUNCATE TABLE", bind_truncate(stmt, node)
    if isinstance(node, exp.Refresh):
        return "REFRESH MATERIALIZED VIEW", bind_refresh(stmt, node)
    raise errors.not_supported(f"statement {type(node).__name__.upper()}",
                               hint=node.sql(dialect="postgres")[:80])


# ---- CREATE TABLE -----------------------------------------------------------------------

def bind_create_table(stmt, node: exp.Create):
    schema_node = node.this
    table_node = schema_node.this if isinstance(schema_node, exp.Schema) else schema_node
    name = table_node.name
    if_not_exists = bool(node.args.get("exists"))
    if node.expression is not None:  # CREATE TABLE ... AS SELECT
        plan = _create_table_as(stmt, name, node, if_not_exists)
        twice = errors.duplicate_column([c.name for c in plan.schema.columns])
        if twice is not None:
            raise twice
        return plan
    sequences: dict = {}
    schema = table_schema_from_ast(stmt, name, schema_node, sequences)
    return LogicalCreateTable([], name, schema, if_not_exists, sequences)


_LIKE_OPTIONS = ("DEFAULTS", "ALL", "COMMENTS", "CONSTRAINTS", "INDEXES", "IDENTITY",
                 "GENERATED", "STATISTICS", "STORAGE", "COMPRESSION")


def _like(stmt, table: str, item: exp.LikeProperty, offset: int, sequences: dict | None):
    """What ``LIKE other [INCLUDING ... | EXCLUDING ...]`` copies, as PostgreSQL 15:
    (columns, uniques, checks, indexes). Names, types and NOT NULL always; DEFAULTS the
    defaults (a SERIAL column's then draws from the other table's sequence), IDENTITY
    identity columns with a sequence of their own (same options, starting afresh),
    GENERATED the generation expressions, CONSTRAINTS the CHECKs (same names), INDEXES
    the primary key, unique constraints and indexes (named for the new table), COMMENTS
    the column comments; ALL is all of them, later options override earlier ones.
    ``offset``: the position of the first copied column in the new table."""
    source = stmt.table(item.this.name, position_of(item.this))
    stmt.note_read(item.this.name)
    included: set[str] = set()
    for p in item.expressions:
        if not isinstance(p, exp.Property):
            continue
        how, what = str(p.this).upper(), p.args["value"].name.upper()
        if what not in _LIKE_OPTIONS:
            raise errors.syntax_error(f"unknown LIKE option {how} {what}")
        chosen = set(_LIKE_OPTIONS[2:]) | {"DEFAULTS"} if what == "ALL" else {what}
        included = included | chosen if how == "INCLUDING" else included - chosen
    schema = source.schema
    columns = []
    for c in schema.columns:
        identity = c.identity if "IDENTITY" in included else None
        default = c.default_sql if "DEFAULTS" in included and c.identity is None and \
            c.generated is None else None
        if identity is not None:
            seq = f"{table}_{c.name}_seq"
            owned = default_sequence(c.default_sql, owned=True)
            spec = sequence_defs.definition(stmt.root, owned) if owned else \
                sequence_defs.DEFAULT
            if sequences is not None:
                sequences[seq] = dataclasses.replace(spec, owned_by=(table, c.name),
                                                     is_called=False)
            default = serial_default(seq)
        columns.append(dataclasses.replace(
            c, default_sql=default, identity=identity,
            generated=c.generated if "GENERATED" in included else None,
            comment=c.comment if "COMMENTS" in included else None))
    uniques, checks, indexes = [], [], []
    if "CONSTRAINTS" in included:
        checks = list(schema.checks)
    if "INDEXES" in included:
        shift = lambda cols: tuple(i + offset for i in cols)     # noqa: E731
        for u in schema.uniques:
            names = "_".join(schema.columns[i].name for i in u.columns)
            uniques.append(dataclasses.replace(
                u, name=f"{table}_pkey" if u.primary else f"{table}_{names}_key",
                columns=shift(u.columns), comment=None))
        for d in schema.indexes:
            if d.keyed:
                raise errors.not_supported("LIKE ... INCLUDING INDEXES of an expression index",
                                           hint=f'Create index "{d.name}" on the new table.')
            names = "_".join(schema.columns[i].name for i in d.columns)
            indexes.append(dataclasses.replace(d, name=f"{table}_{names}_idx",
                                               columns=shift(d.columns)))
    return columns, uniques, checks, indexes


def table_schema_from_ast(stmt, name: str, schema_node: exp.Schema,
                          sequences: dict | None = None) -> TableSchema:
    """The schema a CREATE TABLE's column list makes; ``sequences`` (when given) gets
    the definition of each SERIAL and identity column's sequence, by name."""
    columns: list[Column] = []
    uniques: list[UniqueConstraint] = []
    checks: list[CheckConstraint] = []
    fkeys: list[ForeignKey] = []
    indexes: list = []       # LIKE ... INCLUDING INDEXES: the other table's indexes
    pending = []     # table-level constraints, resolved after all columns are known
    for item in schema_node.expressions:
        if isinstance(item, exp.LikeProperty):       # (LIKE other [INCLUDING ...])
            copied, like_uniques, like_checks, like_indexes = _like(
                stmt, name, item, len(columns), sequences)
            for col in copied:
                if any(c.name == col.name for c in columns):
                    raise errors.sql_error("42701", f'column "{col.name}" specified more '
                                                    "than once", position=position_of(item))
                columns.append(col)
            uniques += like_uniques
            checks += like_checks
            indexes += like_indexes
            continue
        if isinstance(item, exp.ColumnDef):
            col, extra = _column(stmt, name, item, len(columns))
            if any(c.name == col.name for c in columns):
                raise errors.sql_error("42701", f'column "{col.name}" specified more than once',
                                       position=position_of(item))
            columns.append(col)
            for kind, payload in extra:
                if kind == "sequence":
                    if sequences is not None:
                        sequences[payload[0]] = payload[1]
                else:
                    pending.append((kind, payload))
        else:
            pending.append(item)
    positions = {c.name: i for i, c in enumerate(columns)}
    made = [_table_constraint(stmt, name, item, positions, columns) for item in pending]
    root = getattr(stmt, "root", None)
    # (a table already there: CREATE fails or, IF NOT EXISTS, skips; its names are its own)
    others = root is not None and not relation_exists(root, name)
    made = _named(name, made, [_given_name(item) for item in pending],
                  lambda n: n == name or (others and relation_exists(root, n)))
    for kind, payload in made:
        if kind == "unique":
            uniques.append(payload)
        elif kind == "check":
            checks.append(payload)
        elif kind == "fk":
            fkeys.append(payload)
    if sum(u.primary for u in uniques) > 1:
        raise errors.sql_error("42P16", f'multiple primary keys for table "{name}" are not allowed')
    for u in uniques:
        if u.primary:  # PRIMARY KEY implies NOT NULL
            for c in u.columns:
                columns[c] = dataclasses.replace(columns[c], not_null=True)
    uniques = _dedupe_names(uniques)     # LIKE ... INCLUDING INDEXES' names
    schema = TableSchema(name, tuple(columns), tuple(uniques), tuple(checks), tuple(fkeys),
                         tuple(indexes))
    _check_defaults(stmt, schema)
    stmt.validate_constraints(schema) if hasattr(stmt, "validate_constraints") else None
    return schema


def _column(stmt, table: str, item: exp.ColumnDef, position: int):
    name = item.name
    kind = item.args.get("kind")
    if kind is None:
        raise errors.syntax_error(f'column "{name}" needs a type', position=position_of(item))
    type_sql = kind.sql(dialect="postgres")
    if type_sql.upper() in _SERIAL_ALIASES:      # serial2/4/8: smallserial, serial, bigserial
        type_sql = _SERIAL_ALIASES[type_sql.upper()]
        kind = exp.DataType.build(type_sql, dialect="postgres")
    sql_type, typmod = declared_type(stmt, kind, item)
    serial = type_sql.upper() in _SERIAL_TYPES or \
        kind.this in (exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL,
                      exp.DataType.Type.SMALLSERIAL)
    not_null = serial
    default = serial_default(f"{table}_{name}_seq") if serial else None
    identity = None
    generated = None
    extra = []
    if serial:      # PostgreSQL's serial is an integer sequence, bigserial a bigint one
        extra.append(("sequence", (f"{table}_{name}_seq", sequence_defs.apply_options(None, {
            "as": _SERIAL_TYPES.get(type_sql.upper(), "integer"),
            "owned_by": (table, name)})[0])))
    for c in item.args.get("constraints") or []:
        ck = c.args.get("kind")
        cname = c.name or None      # CONSTRAINT name ...: kept as given, as PostgreSQL does
        if isinstance(ck, exp.ComputedColumnConstraint):    # GENERATED ALWAYS AS (..) STORED
            generated = ck.this.sql(dialect="postgres", normalize_functions="lower")
            continue
        if isinstance(ck, exp.NotNullColumnConstraint):
            not_null = not ck.args.get("allow_null")
        elif isinstance(ck, exp.PrimaryKeyColumnConstraint):
            extra.append(("pk", (name, cname)))
            not_null = True
        elif isinstance(ck, exp.UniqueColumnConstraint):
            extra.append(("unique", (name, bool(ck.args.get("nulls")), cname)))
        elif isinstance(ck, exp.DefaultColumnConstraint):
            default = default_text(ck.this)
        elif isinstance(ck, exp.CheckColumnConstraint):
            extra.append(("check", (name, ck.this, cname)))
        elif isinstance(ck, exp.Reference):
            extra.append(("fk_col", (name, ck, cname)))
        elif isinstance(ck, exp.GeneratedAsIdentityColumnConstraint):
            spec = identity_sequence(ck, sql_type, kind, item, (table, name))
            identity = ("always" if ck.this else "by default", spec.start)
            not_null, default = True, serial_default(f"{table}_{name}_seq")
            extra.append(("sequence", (f"{table}_{name}_seq", spec)))
        elif type(ck).__name__ in ("CollateColumnConstraint", "CommentColumnConstraint"):
            continue
        elif ck is None:
            continue
        else:
            raise errors.not_supported(f"column constraint {c.sql(dialect='postgres')!r}")
    if generated is not None and (default is not None or identity is not None):
        raise errors.sql_error("42601", f'both default and generation expression specified '
                                        f'for column "{name}" of table "{table}"',
                               position=position_of(item))
    return Column(name, sql_type, not_null, default,
                  typmod=typmod, identity=identity,
                  generated=generated), extra


_SERIAL_TYPES = {"SERIAL": "integer", "BIGSERIAL": "bigint", "SMALLSERIAL": "smallint"}
_SERIAL_ALIASES = {"SERIAL2": "SMALLSERIAL", "SERIAL4": "SERIAL", "SERIAL8": "BIGSERIAL"}
_IDENTITY_TYPES = {exp.DataType.Type.INT: "integer", exp.DataType.Type.BIGINT: "bigint",
                   exp.DataType.Type.SMALLINT: "smallint"}


def default_text(node: exp.Expression) -> str:
    """A DEFAULT's SQL as kept (and shown by pg_get_expr, information_schema and psql):
    ``now()`` stays now() where sqlglot would write CURRENT_TIMESTAMP for both."""
    if isinstance(node, exp.CurrentTimestamp) and node._meta and \
            node._meta.get("written") == "now":
        return "now()"
    return node.sql(dialect="postgres")


def identity_sequence(ck, sql_type: str, kind, item, owner: tuple):
    """The sequence of GENERATED ... AS IDENTITY [(options)]: AS the column's integer
    type, the options as CREATE SEQUENCE takes them (sql/parse.py normalised their
    text), owned by the column."""
    if sql_type != types.INTEGER:
        raise errors.sql_error("22023", "identity column type must be smallint, integer, or "
                               "bigint", position=position_of(item))
    options = {}
    for key in ("start", "increment", "minvalue", "maxvalue"):
        value = ck.args.get(key)
        if value is not None:
            text = value.sql(dialect="postgres").replace(" ", "")
            try:
                options[key] = int(text)
            except ValueError:
                raise errors.syntax_error(f"identity option {key.upper()} needs an integer, "
                                          f"not {text!r}") from None
    if ck.args.get("cycle"):
        options["cycle"] = True
    return identity_definition(options, _IDENTITY_TYPES.get(kind.this, "bigint"), owner)


def identity_definition(options: dict, data_type: str, owner: tuple):
    """An identity column's sequence: ``options`` (CREATE SEQUENCE's) AS ``data_type``,
    owned by ``owner`` (table, column)."""
    return sequence_defs.apply_options(None, {**options, "as": data_type,
                                              "owned_by": owner})[0]


def _table_constraint(stmt, table, item, positions, columns):
    def cols_of(names, node):
        out = []
        for n in names:
            if n not in positions:
                raise errors.sql_error("42703", f'column "{n}" named in key does not exist',
                                       position=position_of(node))
            out.append(positions[n])
        return tuple(out)

    if isinstance(item, tuple):  # from a column definition
        kind, payload = item
        cname = payload[-1]
        if kind == "pk":
            return "unique", UniqueConstraint(cname or f"{table}_pkey",
                                              cols_of(payload[:1], None), True)
        if kind == "unique":     # (column, NULLS NOT DISTINCT, constraint name)
            return "unique", UniqueConstraint(cname or f"{table}_{payload[0]}_key",
                                              cols_of(payload[:1], None),
                                              nulls_not_distinct=payload[1])
        if kind == "check":   # named as a table CHECK: after the expression's first column
            return "check", CheckConstraint(cname or _check_name(table, payload[1]),
                                            payload[1].sql(dialect="postgres"))
        if kind == "fk_col":
            col, ref, _ = payload
            return "fk", stmt.bind_reference(table, (positions[col],), ref, columns, name=cname)
    cname = None
    if isinstance(item, exp.Constraint):
        cname = item.name
        item = item.expressions[0] if item.expressions else item
    if isinstance(item, exp.PrimaryKey):
        names = [e.name for e in item.expressions]
        return "unique", UniqueConstraint(cname or f"{table}_pkey", cols_of(names, item), True)
    if isinstance(item, exp.UniqueColumnConstraint):
        target = item.this
        names = [e.name for e in (target.expressions if isinstance(target, exp.Schema)
                                  else item.expressions)]
        return "unique", UniqueConstraint(cname or f"{table}_{'_'.join(names)}_key",
                                          cols_of(names, item),
                                          nulls_not_distinct=bool(item.args.get("nulls")))
    if isinstance(item, exp.CheckColumnConstraint) or type(item).__name__ == "Check":
        return "check", CheckConstraint(cname or _check_name(table, item.this),
                                        item.this.sql(dialect="postgres"))
    if isinstance(item, exp.ForeignKey):
        names = [e.name for e in item.expressions]
        return "fk", stmt.bind_reference(table, cols_of(names, item), item.args.get("reference"),
                                         columns, name=cname, fk_node=item)
    raise errors.not_supported(f"table constraint {item.sql(dialect='postgres')!r}")


def _check_name(table: str, expr) -> str:
    """PostgreSQL names a CHECK (a column's too) after the column it reads when it reads
    exactly one, else ``<table>_check``."""
    read = {c.name for c in expr.find_all(exp.Column)}
    return f"{table}_{read.pop()}_check" if len(read) == 1 else f"{table}_check"


def _given_name(item) -> str | None:
    """The name a CONSTRAINT clause gives (column or table constraint), else None."""
    if isinstance(item, tuple):
        return item[1][-1]
    return item.name if isinstance(item, exp.Constraint) else None


def _named(table: str, made: list, given: list, relation) -> list:
    """CREATE TABLE's constraints with PostgreSQL's names: a given name twice is an
    error, as is a key's given name that ``relation`` says another relation has (an
    index's name is a relation's: 42P07); a default name that a given one, an earlier
    default or (a key's) a relation took gets a number, as PostgreSQL picks
    ``t_a_key1``."""
    taken: dict = {}
    for (kind, payload), name in zip(made, given):
        if name is None:
            continue
        if kind == "unique" and relation(name):
            raise errors.sql_error("42P07", f'relation "{name}" already exists')
        if name in taken:
            first = taken[name]
            if kind == first == "unique":
                raise errors.sql_error("42P07", f'relation "{name}" already exists')
            if kind == first == "check":
                raise errors.sql_error("42710", f'check constraint "{name}" already exists')
            raise errors.sql_error("42710", f'constraint "{name}" for relation "{table}" '
                                            "already exists")
        taken[name] = kind
    out = []
    for (kind, payload), name in zip(made, given):
        def free(n: str) -> bool:
            return n not in taken and not (kind == "unique" and relation(n))
        if name is None and not free(payload.name):
            n = 1
            while not free(f"{payload.name}{n}"):
                n += 1
            payload = dataclasses.replace(payload, name=f"{payload.name}{n}")
        taken.setdefault(payload.name, kind)
        out.append((kind, payload))
    return out


def _dedupe_names(uniques):
    seen, out = {}, []
    for u in uniques:
        name = u.name
        if name in seen:
            seen[name] += 1
            name = f"{name}{seen[u.name]}"
        else:
            seen[name] = 0
        out.append(dataclasses.replace(u, name=name) if name != u.name else u)
    return out


def _check_defaults(stmt, schema: TableSchema) -> None:
    for i, c in enumerate(schema.columns):
        if c.default_sql is not None and not c.default_sql.startswith("nextval("):
            default_expr(stmt, schema, i)   # raises 42804 on a mistyped default
        if c.generated is not None:
            generated_expr(stmt, schema, i)


def _create_table_as(stmt, name: str, node: exp.Create, if_not_exists: bool):
    query = node.expression
    props = node.args.get("properties")
    if props is not None and any(isinstance(p, exp.WithDataProperty) and p.args.get("no")
                                 for p in props.expressions):
        # WITH NO DATA: the query's columns, none of its rows
        query = exp.select("*").from_(exp.Subquery(this=query.copy(),
                                                   alias=exp.TableAlias(this="_no_data"))
                                      ).limit(0)
    plan = bind_query(stmt, query, None)
    widths = _int_widths(stmt, plan)
    columns = tuple(Column(n, t if t != types.NULL else types.TEXT, typmod=w)
                    for (n, t), w in zip(plan.columns, widths))
    return LogicalCreateTableAs([], plan, name, TableSchema(name, columns), if_not_exists)


def _int_widths(stmt, plan) -> list:
    """Per output column of a CREATE TABLE AS query: the declared width (``("int2",)``,
    ``("int4",)``) of the table column it passes straight through, as PostgreSQL's new
    column is of that column's type; else None (an expression over it is int8 here)."""
    schemas = {n: schema for kind, n, schema in stmt.deps if kind == "table"}
    out = []
    for src in output_sources(plan):
        schema = schemas.get(src[0]) if src is not None else None
        typmod = schema.columns[src[1]].typmod \
            if schema is not None and src[1] < len(schema.columns) else None
        out.append(typmod if typmod in (("int2",), ("int4",)) else None)
    return out


# ---- DROP / TRUNCATE ------------------------------------------------------------------------

def drop_targets(node: exp.Drop) -> list[str]:
    """Names in ``DROP TABLE/VIEW/INDEX a, b``."""
    items = node.args.get("tables") or [node.this]
    return [t.name for t in items if isinstance(t, exp.Table)]


def bind_drop_table(stmt, node: exp.Drop):
    return LogicalDropTable([], tuple(drop_targets(node)), bool(node.args.get("exists")),
                            bool(node.args.get("cascade")))


def _renames_view(stmt, node: exp.Alter) -> bool:
    """ALTER VIEW v RENAME TO w, or ALTER TABLE v RENAME TO w naming a view (PostgreSQL
    takes both)."""
    actions = node.args.get("actions") or []
    kind = (node.args.get("kind") or "").upper()
    return len(actions) == 1 and isinstance(actions[0], exp.AlterRename) and \
        (kind == "VIEW" or (kind == "TABLE" and node.this.name in stmt.root.views))


def bind_truncate(stmt, node):
    """TRUNCATE t [, ...] [RESTART | CONTINUE IDENTITY] [CASCADE | RESTRICT]: a table
    another table's foreign key references is refused unless that table is truncated
    too, named or by CASCADE (which adds every referencing table, transitively), as in
    PostgreSQL; emptying only the referenced one would leave orphans."""
    names = [t.name for t in node.expressions]
    for n in names:
        stmt.table(n)
    named = len(names)
    cascade = str(node.args.get("option") or "").lower() == "cascade"
    tables = stmt.root.tables
    i = 0
    while i < len(names):
        for other, version in sorted(tables.items()):
            if other in names:
                continue
            if any(fk.ref_table == names[i] for fk in version.schema.foreign_keys):
                if not cascade:
                    raise errors.sql_error(
                        "0A000", "cannot truncate a table referenced in a foreign key "
                                 "constraint",
                        detail=f'Table "{other}" references "{names[i]}".',
                        hint=f'Truncate table "{other}" at the same time, or use TRUNCATE '
                             "... CASCADE.")
                names.append(other)
        i += 1
    restart = str(node.args.get("identity") or "").upper() == "RESTART"
    return LogicalTruncate([], tuple(names), restart, tuple(names[named:]))


# ---- views -------------------------------------------------------------------------------

def bind_create_view(stmt, node: exp.Create):
    target = node.this
    table_node = target.this if isinstance(target, exp.Schema) else target
    name = table_node.name
    columns = tuple(e.name for e in target.expressions) if isinstance(target, exp.Schema) else ()
    query = node.expression
    stars = view_stars.recording(stmt)
    try:
        plan = bind_query(stmt, query, None)   # validates the query now
    finally:
        stmt.star_expansions = None
    query = view_stars.fixed_stars(query, stars)
    if columns and len(columns) > len(plan.columns):
        raise errors.sql_error("42601", "CREATE VIEW specifies more column names than columns")
    twice = errors.duplicate_column(list(columns) + [n for n, _ in plan.columns][len(columns):])
    if twice is not None:       # (a view's columns are a table's: one name each)
        raise twice
    if node.args.get("replace") and name in stmt.root.views:
        _check_replaced_columns(stmt, stmt.root.views[name], columns, plan)
    view = ViewDef(name, query.sql(dialect="postgres"), columns, check_option=_check_option(node))
    if view.check_option is not None:
        detail = query_detail(stmt.root, query)
        if detail is not None:
            raise errors.sql_error("0A000", "WITH CHECK OPTION is supported only on "
                                            "automatically updatable views", hint=detail)
    return LogicalCreateView([], view, bool(node.args.get("replace")))


def _check_replaced_columns(stmt, old, columns: tuple, plan) -> None:
    """CREATE OR REPLACE VIEW keeps the view's columns, as PostgreSQL requires (42P16):
    same names and types in the same order, new ones only at the end. A view whose
    query no longer binds (its table was dropped) may be replaced by anything."""
    try:
        before = bind_query(stmt, parse_one(old.sql), None).columns
    except errors.Error:
        return
    before = [(n, t) for (_, t), n in zip(before, list(old.columns) + [
        n for n, _ in before][len(old.columns):])]
    after = [(n, t) for (_, t), n in zip(plan.columns, list(columns) + [
        n for n, _ in plan.columns][len(columns):])]
    if len(after) < len(before):
        raise errors.sql_error("42P16", "cannot drop columns from view")
    for (was, was_type), (now, now_type) in zip(before, after):
        if was != now:
            raise errors.sql_error(
                "42P16", f'cannot change name of view column "{was}" to "{now}"',
                hint="Use ALTER VIEW ... RENAME COLUMN ... to change name of view column "
                     "instead.")
        if was_type != now_type and types.NULL not in (was_type, now_type):
            raise errors.sql_error(
                "42P16", f'cannot change data type of view column "{was}" from '
                         f"{was_type.lower()} to {now_type.lower()}")


def _check_option(node: exp.Create) -> str | None:
    """WITH [LOCAL | CASCADED] CHECK OPTION, as sql/parse.py reads it (or as written in
    WITH (check_option = ...)): 'local', 'cascaded' or None."""
    props = node.args.get("properties")
    for prop in props.expressions if props is not None else ():
        if type(prop) is exp.Property and prop.name.lower() == "check_option":
            return prop.args["value"].name.lower()
    return None


def bind_alter_view_defaults(stmt, node: exp.Alter) -> LogicalCreateView:
    """ALTER VIEW v ALTER [COLUMN] c SET DEFAULT expr | DROP DEFAULT: the default an INSERT
    or UPDATE through the view uses for that column (before the base table's)."""
    actions = node.args.get("actions") or []
    if not actions or not all(isinstance(a, exp.AlterColumn) and set(
            k for k, v in a.args.items() if v) in ({"this", "default"}, {"this", "drop"})
            for a in actions):
        raise errors.not_supported("ALTER VIEW other than RENAME TO and ALTER COLUMN ... "
                                   "SET/DROP DEFAULT", hint="Use CREATE OR REPLACE VIEW.")
    name = node.this.name
    view = stmt.root.views.get(name)
    if view is None:
        if name in stmt.root.tables:
            raise errors.sql_error("42809", f'"{name}" is not a view')
        raise errors.undefined_table(name)
    stmt.view(name)
    columns = stmt.relation_names(name)
    defaults = dict(view.defaults)
    for a in actions:
        col = a.this.name
        if col not in columns:
            raise errors.sql_error("42703", f'column "{col}" of relation "{name}" does not '
                                            "exist")
        if a.args.get("default") is not None:
            defaults[col] = a.args["default"].sql(dialect="postgres")
        else:
            defaults.pop(col, None)
    return LogicalCreateView([], dataclasses.replace(view, defaults=tuple(defaults.items())),
                             or_replace=True, keep_defaults=False)


def bind_drop_view(stmt, node: exp.Drop):
    return LogicalDropView([], tuple(drop_targets(node)), bool(node.args.get("exists")),
                           bool(node.args.get("cascade")))


# ---- sequences ----------------------------------------------------------------------------

def bind_create_sequence(node: exp.Create) -> LogicalCreateSequence:
    """CREATE SEQUENCE [IF NOT EXISTS] name [options] (sql/parse_sequence.py): the
    definition is checked here, as PostgreSQL's init_params checks it (22023)."""
    options = parse_sequence.options_of(node)
    spec, _ = sequence_defs.apply_options(None, options)
    return LogicalCreateSequence(columns=[], name=node.this.name, definition=spec,
                                 if_not_exists=bool(node.args.get("exists")))


