"""``information_schema``: the SQL-standard catalog views, computed from the root.

Column names, order and values follow PostgreSQL 15 (``SELECT *`` has the same
shape), with the rows limited to what the engine has: the ``public`` schema's
tables and views, their columns, and PRIMARY KEY / UNIQUE / FOREIGN KEY / CHECK
constraints. Not reproduced: the NOT NULL pseudo-constraints PostgreSQL lists
in ``table_constraints`` (their names embed OIDs), privileges, and the rows of
``pg_catalog`` / ``information_schema`` themselves in ``tables`` and ``columns``.
``view_definition`` is the view's SQL as written, not PostgreSQL's deparsed form.
"""
from __future__ import annotations

import dataclasses

import re

from .. import composite, errors, types
from ..storage import sequence_defs
from ..storage.namespaces import split
from ..storage.sequence_names import default_sequence, quote_name
from ..lazy_import import LazyModule
from .pg_types import DECLARED_TYPES, PgType, pg_type
from .virtual import CatalogSnapshot, VirtualTable, register_virtual_table, visible_tables

# Which views are updatable is the rewrite's own rule (it parses the view's query with
# sqlglot): imported when a view's row is first computed, not with the catalog families.
_view_dml = LazyModule("rustmemodb.sql.bind.view_dml")

SCHEMA = "information_schema"
T, I = types.TEXT, types.INTEGER


def _table(name: str, columns: str, rows, typed: dict | None = None) -> None:
    """Register ``information_schema.<name>``; columns are TEXT unless in ``typed``."""
    cols = tuple((c, (typed or {}).get(c, T)) for c in columns.split())
    register_virtual_table(VirtualTable(SCHEMA, name, cols, rows))


def _user_tables(snap: CatalogSnapshot):
    return visible_tables(snap)


def _user_views(snap: CatalogSnapshot):
    return sorted(snap.root.views.items())


def _split(snap: CatalogSnapshot, key: str) -> tuple[str, str]:
    """(schema, name) of a catalog key (storage/namespaces.py)."""
    return split(key, snap.root.auth.schemas)


def _bare(snap: CatalogSnapshot, name: str) -> str:
    """A constraint's name without the schema prefix its generated name took from its
    table's key (``s.t_pkey`` is ``t_pkey`` of schema s)."""
    return split(name, snap.root.auth.schemas)[1]


# ---- schemata ---------------------------------------------------------------------------------

def _schemata(snap: CatalogSnapshot):
    from .virtual import schema_names
    cat = snap.root.auth
    for name in sorted(set(schema_names()) | {"public"} | set(cat.schemas)):
        owner = "pg_database_owner" if name == "public" else \
            cat.owner("schema", name) or snap.user
        yield (snap.database, name, owner, None, None, None, None)


_table("schemata", "catalog_name schema_name schema_owner default_character_set_catalog "
                   "default_character_set_schema default_character_set_name sql_path",
       _schemata)


# ---- tables -------------------------------------------------------------------------------------

def _tables(snap: CatalogSnapshot):
    rows = [(name, "BASE TABLE", "YES") for name, _ in _user_tables(snap)]
    rows += [(name, "VIEW", "YES" if "INSERT" in _view_dml.updatable_events(
        snap.root, name, _names_of(snap)) else "NO") for name, _ in _user_views(snap)]
    for schema, name, kind, insertable in sorted((*_split(snap, n), k, i) for n, k, i in rows):
        yield (snap.database, schema, name, kind, None, None, None, None, None, insertable,
               "NO", None)


_table("tables", "table_catalog table_schema table_name table_type self_referencing_column_name "
                 "reference_generation user_defined_type_catalog user_defined_type_schema "
                 "user_defined_type_name is_insertable_into is_typed commit_action", _tables)


# ---- columns ------------------------------------------------------------------------------------

_COLUMNS = ("table_catalog table_schema table_name column_name ordinal_position column_default "
            "is_nullable data_type character_maximum_length character_octet_length "
            "numeric_precision numeric_precision_radix numeric_scale datetime_precision "
            "interval_type interval_precision character_set_catalog character_set_schema "
            "character_set_name collation_catalog collation_schema collation_name "
            "domain_catalog domain_schema domain_name udt_catalog udt_schema udt_name "
            "scope_catalog scope_schema scope_name maximum_cardinality dtd_identifier "
            "is_self_referencing is_identity identity_generation identity_start "
            "identity_increment identity_maximum identity_minimum identity_cycle is_generated "
            "generation_expression is_updatable")
_INT_COLUMNS = {c: I for c in ("ordinal_position", "character_maximum_length",
                               "character_octet_length", "numeric_precision",
                               "numeric_precision_radix", "numeric_scale", "datetime_precision",
                               "interval_precision", "maximum_cardinality")}


def _columns(snap: CatalogSnapshot):
    for name, version in _user_tables(snap):
        schema = version.schema
        key = set(schema.primary_key.columns) if schema.primary_key else set()
        for i, c in enumerate(schema.columns):
            yield _column_row(snap, name, i, c.name, c.type, c.not_null or i in key,
                              None if c.identity is not None else
                              column_default(c.default_sql, c.type, snap.root.auth.schemas),
                              "YES", c.typmod, _identity(snap, c),
                              None if c.generated is None else generation_text(c.generated))
    names_of = _names_of(snap)
    for name, view in _user_views(snap):
        for i, (col, sql_type, typmod) in enumerate(view_columns_declared(snap, view)):
            events = _view_dml.updatable_events(snap.root, name, names_of, i)
            default = dict(view.defaults).get(col)
            yield _column_row(snap, name, i, col, sql_type, False,
                              column_default(default, sql_type, snap.root.auth.schemas),
                              "YES" if {"UPDATE", "DELETE"} <= events else "NO", typmod)


def _identity(snap: CatalogSnapshot, column) -> tuple:
    """is_identity .. identity_cycle of a column: an identity column's generation and its
    sequence's options, as character data."""
    if column.identity is None:
        return ("NO", None, None, None, None, None, "NO")
    seq = default_sequence(column.default_sql, owned=True)
    d = sequence_defs.definition(snap.root, seq) if seq else sequence_defs.DEFAULT
    return ("YES", column.identity[0].upper(), str(d.start), str(d.increment), str(d.maxvalue),
            str(d.minvalue), "YES" if d.cycle else "NO")


def _described(sql_type: str, typmod) -> tuple[PgType, int | None, str]:
    """(type, character_maximum_length, udt_schema) of a column type as declared."""
    t = pg_type(sql_type)
    length = None
    udt_schema = "pg_catalog"
    if composite.is_record(sql_type):                     # CREATE TYPE ... AS (...)
        udt_schema = "public"
    if typmod is not None and typmod[0] == "enum":        # CREATE TYPE ... AS ENUM
        t, udt_schema = PgType("USER-DEFINED", typmod[1]), "public"
    elif typmod is not None and typmod[0] == "varchar":   # as PostgreSQL describes them
        length = typmod[1]
        t = PgType("character varying", "varchar", character_octet_length=4 * length)
    elif typmod is not None and typmod[0] == "bpchar":
        length = typmod[1]
        t = PgType("character", "bpchar", character_octet_length=4 * length)
    elif typmod is not None and typmod[0] in ("bit", "varbit"):   # bit(n), bit varying(n)
        length = typmod[1]
    elif typmod is not None and typmod[0] == "precision":   # timestamp(p): its digits
        t = dataclasses.replace(t, datetime_precision=typmod[1])
    elif typmod is not None and len(typmod) == 1:       # declared smallint, int, numeric, real
        t = DECLARED_TYPES[typmod[0]]
    elif typmod is not None:
        t = PgType("numeric", "numeric", typmod[1], 10, typmod[2])
    return t, length, udt_schema


def generation_text(sql: str) -> str:
    """A generated column's expression as PostgreSQL deparses it: an operator expression
    in parentheses (``(v * 2)``), a lone call or column as it is."""
    if re.fullmatch(r'[\w."]+', sql) or (re.fullmatch(r"\w+\(.*\)", sql, re.S) and
                                           _balanced_call(sql)):
        return sql
    return f"({sql})"


def _balanced_call(sql: str) -> bool:
    """Whether ``f(...)`` is one call (its first parenthesis closes at the end)."""
    depth = 0
    for k, ch in enumerate(sql):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and ch == ")":
            return k == len(sql) - 1
    return False


def _column_row(snap, table, i, name, sql_type, not_null, default, updatable,
                typmod=None, identity=("NO", None, None, None, None, None, "NO"),
                generated: str | None = None) -> tuple:
    domain = (None, None, None)
    if typmod is not None and typmod[0] == "domain":      # its base type, and the domain
        domain, typmod = (snap.database, "public", typmod[1]), typmod[2]
    t, length, udt_schema = _described(sql_type, typmod)
    return (snap.database, *_split(snap, table), name, i + 1, default, "NO" if not_null else "YES",
            t.data_type, length, t.character_octet_length, t.numeric_precision,
            t.numeric_precision_radix, t.numeric_scale, t.datetime_precision, None, None,
            None, None, None, None, None, None, *domain,
            snap.database, udt_schema, t.udt_name, None, None, None, None, str(i + 1),
            "NO", *identity, "NEVER" if generated is None else "ALWAYS", generated, updatable)


def view_columns(snap: CatalogSnapshot, view) -> list:
    """A view's output columns, by binding its query against the same root."""
    return [(name, sql_type) for name, sql_type, _ in view_columns_declared(snap, view)]


def view_columns_declared(snap: CatalogSnapshot, view) -> list:
    """A view's output columns as (name, engine type, typmod): a column the query passes
    through unchanged keeps its table column's declared modifier (``varchar(20)``,
    ``numeric(10,2)``, an enum, a domain), as PostgreSQL describes the view's column."""
    from ..errors import Error
    from ..sql.bind.binder import StatementBinder
    from ..sql.parse import parse_one
    try:
        query = parse_one(view.sql)
        plan = StatementBinder(snap.root, snap.functions).bind_statement(query).plan
    except Error:        # a view over a dropped table: no columns to show
        return []
    names = list(view.columns) + plan.names[len(view.columns):]
    typmods = _passed_through(snap.root, query, len(names))
    return list(zip(names, plan.types, typmods))


def _passed_through(root, query, count: int) -> list:
    """Per output column of a SELECT, the typmod of the table column it names as it is
    (``t.c``, ``c``, ``c AS x``) when one FROM table (or an alias of one) has it, else
    None; a star or anything computed is None too."""
    from sqlglot import exp
    if not isinstance(query, exp.Select) or any(
            isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
            for e in query.expressions):
        return [None] * count
    tables: dict[str, object] = {}
    for source in [query.args.get("from_") or query.args.get("from")] + list(
            query.args.get("joins") or []):
        item = source.this if source is not None else None
        if isinstance(item, exp.Table) and not item.args.get("db"):
            version = root.tables.get(item.name)
            if version is not None:
                tables[item.alias_or_name] = version.schema
    out = []
    for e in query.expressions:
        col = e.this if isinstance(e, exp.Alias) else e
        found = None
        if isinstance(col, exp.Column):
            schemas = [tables[col.table]] if col.table in tables else \
                (list(tables.values()) if not col.table else [])
            hits = [sc.columns[sc.position(col.name)] for sc in schemas
                    if sc.position(col.name) is not None]
            if len(hits) == 1:
                found = hits[0].typmod
        out.append(found)
    return (out + [None] * count)[:count]


_TYPE_SUFFIX = {types.TEXT: "text", types.DATE: "date", types.UUID: "uuid", types.JSON: "jsonb",
                types.JSONT: "json",
                types.TIMESTAMP: "timestamp without time zone", types.INTERVAL: "interval",
                types.TIMESTAMPTZ: "timestamp with time zone",
                types.TIME: "time without time zone", types.BYTEA: "bytea",
                types.TSVECTOR: "tsvector", types.TSQUERY: "tsquery"}


def column_default(sql: str | None, sql_type: str, schemas=None) -> str | None:
    """A DEFAULT as PostgreSQL shows it: typed literals, lower-case keywords; ``schemas``:
    the user schemas, for a sequence of one (``nextval('s.t_id_seq'::regclass)``)."""
    if sql is None:
        return None
    sequence = default_sequence(sql, owned=True)
    if sequence is not None:                             # nextval('"Q_id_seq"'::regclass)
        schema, bare = split(sequence, schemas)
        if schema != "public":
            name = f"{quote_name(schema)}.{quote_name(bare)}".replace("'", "''")
            return f"nextval('{name}'::regclass)"
        return sql[:-1] + "::regclass)"
    if sql.upper() in ("TRUE", "FALSE", "NULL"):
        return sql.lower()
    if re.fullmatch(r"'(?:[^']|'')*'", sql) and sql_type in _TYPE_SUFFIX:
        return f"{sql}::{_TYPE_SUFFIX[sql_type]}"
    if re.fullmatch(r"'(?:[^']|'')*'", sql) and (sql_type in types.NETWORK_TYPES or
                                                sql_type in (types.MONEY, types.TIMETZ)):
        # stored in its canonical text, as PostgreSQL keeps the parsed constant
        text = sql[1:-1].replace("''", "'")
        try:
            value = types.parse_literal_as(sql_type, text)
        except errors.Error:
            return sql
        if sql_type == types.TIMETZ:
            return f"'{types.timetz.format(value)}'::time with time zone"
        shown = types.money.format(value) if sql_type == types.MONEY else \
            types.netaddr.output(sql_type, value)
        return f"'{shown}'::{sql_type.lower()}"
    return sql


_table("columns", _COLUMNS, _columns, _INT_COLUMNS)


# ---- views -----------------------------------------------------------------------------------------

def _views(snap: CatalogSnapshot):
    names_of = _names_of(snap)
    for name, view in _user_views(snap):
        events = _view_dml.updatable_events(snap.root, name, names_of)
        yield (snap.database, *_split(snap, name), view.sql,
               (view.check_option or "none").upper(),
               "YES" if {"UPDATE", "DELETE"} <= events else "NO",
               "YES" if "INSERT" in events else "NO", "NO", "NO", "NO")


def _names_of(snap: CatalogSnapshot):
    """A relation's column names (for which view columns are updatable)."""
    def names(name: str) -> list:
        version = snap.root.tables.get(name)
        if version is not None:
            return [c.name for c in version.schema.columns]
        return [n for n, _ in view_columns(snap, snap.root.views[name])]
    return names


_table("views", "table_catalog table_schema table_name view_definition check_option "
                "is_updatable is_insertable_into is_trigger_updatable is_trigger_deletable "
                "is_trigger_insertable_into", _views)


# ---- constraints -------------------------------------------------------------------------------

def _constraints(snap: CatalogSnapshot):
    """(table, name, type, schema, constraint) for every constraint, in a stable order."""
    for name, version in _user_tables(snap):
        s = version.schema
        for u in s.uniques:
            yield name, u.name, "PRIMARY KEY" if u.primary else "UNIQUE", s, u
        for fk in s.foreign_keys:
            yield name, fk.name, "FOREIGN KEY", s, fk
        for ck in s.checks:
            yield name, ck.name, "CHECK", s, ck


def _table_constraints(snap: CatalogSnapshot):
    for table, cname, kind, _, con in _constraints(snap):
        nulls = "YES" if kind in ("PRIMARY KEY", "UNIQUE") else None
        schema, bare = _split(snap, table)
        deferrable = getattr(con, "deferrable", False)
        deferred = getattr(con, "deferred", False)
        yield (snap.database, schema, _bare(snap, cname), snap.database, schema, bare, kind,
               "YES" if deferrable else "NO", "YES" if deferred else "NO", "YES", nulls)


_table("table_constraints", "constraint_catalog constraint_schema constraint_name "
                            "table_catalog table_schema table_name constraint_type "
                            "is_deferrable initially_deferred enforced nulls_distinct",
       _table_constraints)


def _key_column_usage(snap: CatalogSnapshot):
    tables = snap.root.tables
    for table, cname, kind, schema, con in _constraints(snap):
        if kind == "CHECK":
            continue
        for k, pos in enumerate(con.columns):
            ref_pos = None
            if kind == "FOREIGN KEY":
                ref_pos = _position_in_unique(tables.get(con.ref_table), con.ref_columns,
                                              con.ref_columns[k])
            ns, bare = _split(snap, table)
            yield (snap.database, ns, _bare(snap, cname), snap.database, ns, bare,
                   schema.columns[pos].name, k + 1, ref_pos)


def _position_in_unique(ref_version, ref_columns, column: str) -> int | None:
    """Where the referenced column sits in the referenced key's column list."""
    if ref_version is None:
        return None
    s = ref_version.schema
    wanted = {s.position(c) for c in ref_columns}
    for u in s.uniques:
        if set(u.columns) == wanted:
            return list(u.columns).index(s.position(column)) + 1
    return None


_table("key_column_usage", "constraint_catalog constraint_schema constraint_name table_catalog "
                           "table_schema table_name column_name ordinal_position "
                           "position_in_unique_constraint", _key_column_usage,
       {"ordinal_position": I, "position_in_unique_constraint": I})


def _referential_constraints(snap: CatalogSnapshot):
    tables = snap.root.tables
    for table, cname, kind, schema, fk in _constraints(snap):
        if kind != "FOREIGN KEY":
            continue
        ref = tables.get(fk.ref_table)
        unique = None
        if ref is not None:
            wanted = {ref.schema.position(c) for c in fk.ref_columns}
            unique = next((u.name for u in ref.schema.uniques if set(u.columns) == wanted), None)
        ns = _split(snap, table)[0]
        yield (snap.database, ns, _bare(snap, cname), snap.database,
               _split(snap, fk.ref_table)[0], unique and _bare(snap, unique), "NONE",
               fk.on_update, fk.on_delete)


_table("referential_constraints", "constraint_catalog constraint_schema constraint_name "
                                  "unique_constraint_catalog unique_constraint_schema "
                                  "unique_constraint_name match_option update_rule delete_rule",
       _referential_constraints)


def _check_constraints(snap: CatalogSnapshot):
    for table, cname, kind, schema, ck in _constraints(snap):
        if kind == "CHECK":
            # PostgreSQL deparses an operator expression in parentheses, then wraps it
            yield (snap.database, _split(snap, table)[0], _bare(snap, cname),
                   f"(({ck.sql}))")


_table("check_constraints", "constraint_catalog constraint_schema constraint_name check_clause",
       _check_constraints)


# ---- sequences ------------------------------------------------------------------------------

_SEQ_PRECISION = {"smallint": 16, "integer": 32, "bigint": 64}


def _sequences(snap: CatalogSnapshot):
    """information_schema.sequences: the bounds and increment as character data, as the
    standard (and PostgreSQL) has them."""
    root = snap.root
    for name in sorted(root.sequences):
        d = sequence_defs.definition(root, name)
        yield (snap.database, *_split(snap, name), d.data_type, _SEQ_PRECISION[d.data_type],
               2, 0, str(d.start), str(d.minvalue), str(d.maxvalue), str(d.increment),
               "YES" if d.cycle else "NO")


_table("sequences", "sequence_catalog sequence_schema sequence_name data_type numeric_precision "
                    "numeric_precision_radix numeric_scale start_value minimum_value "
                    "maximum_value increment cycle_option", _sequences,
       {"numeric_precision": I, "numeric_precision_radix": I, "numeric_scale": I})


# ---- domains (CREATE DOMAIN) ----------------------------------------------------------------

def _domains(snap: CatalogSnapshot):
    for name, d in sorted(snap.root.domains.items()):
        t, length, udt_schema = _described(d.type, d.typmod)
        yield (snap.database, "public", name, t.data_type, length, t.character_octet_length,
               None, None, None, None, None, None, t.numeric_precision,
               t.numeric_precision_radix, t.numeric_scale, t.datetime_precision, None, None,
               d.default, snap.database, udt_schema, t.udt_name, None, None, None, None, "1")


_table("domains", "domain_catalog domain_schema domain_name data_type character_maximum_length "
                  "character_octet_length character_set_catalog character_set_schema "
                  "character_set_name collation_catalog collation_schema collation_name "
                  "numeric_precision numeric_precision_radix numeric_scale datetime_precision "
                  "interval_type interval_precision domain_default udt_catalog udt_schema "
                  "udt_name scope_catalog scope_schema scope_name maximum_cardinality "
                  "dtd_identifier", _domains,
       {c: I for c in ("character_maximum_length", "character_octet_length",
                       "numeric_precision", "numeric_precision_radix", "numeric_scale",
                       "datetime_precision", "interval_precision", "maximum_cardinality")})


def _attributes(snap: CatalogSnapshot):
    """The fields of each composite type (CREATE TYPE ... AS (...)), as columns are."""
    for name, sql_type in sorted(snap.root.composites.items()):
        for num, (field, ft) in enumerate(composite.fields_of(sql_type), 1):
            t, length, udt_schema = _described(ft, None)
            yield (snap.database, "public", name, field, num, None, "YES", t.data_type,
                   length, t.character_octet_length, None, None, None, None, None, None,
                   t.numeric_precision, t.numeric_precision_radix, t.numeric_scale,
                   t.datetime_precision, None, None, snap.database, udt_schema, t.udt_name,
                   None, None, None, None, str(num), "NO")


_table("attributes", "udt_catalog udt_schema udt_name attribute_name ordinal_position "
                     "attribute_default is_nullable data_type character_maximum_length "
                     "character_octet_length character_set_catalog character_set_schema "
                     "character_set_name collation_catalog collation_schema collation_name "
                     "numeric_precision numeric_precision_radix numeric_scale "
                     "datetime_precision interval_type interval_precision "
                     "attribute_udt_catalog attribute_udt_schema attribute_udt_name "
                     "scope_catalog scope_schema scope_name maximum_cardinality "
                     "dtd_identifier is_derived_reference_attribute", _attributes,
       {c: I for c in ("ordinal_position", "character_maximum_length",
                       "character_octet_length", "numeric_precision",
                       "numeric_precision_radix", "numeric_scale", "datetime_precision",
                       "interval_precision", "maximum_cardinality")})


def _domain_constraints(snap: CatalogSnapshot):
    for name, d in sorted(snap.root.domains.items()):
        for cname, _, _ in d.checks:
            yield (snap.database, "public", cname, snap.database, "public", name, "NO", "NO")


_table("domain_constraints", "constraint_catalog constraint_schema constraint_name "
                             "domain_catalog domain_schema domain_name is_deferrable "
                             "initially_deferred", _domain_constraints)
