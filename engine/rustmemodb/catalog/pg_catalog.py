"""``pg_catalog``: PostgreSQL's system catalogs, computed from the root, for client tools.

SQLAlchemy's reflection, psql's backslash commands and JDBC metadata read these
tables, so their column names follow PostgreSQL 15; the rows cover what the
engine has (the ``public`` schema's tables, views, indexes and constraints, the
engine's types, one database, the session's user). Columns no engine object can
fill (storage parameters, ACLs, statistics) hold PostgreSQL's defaults or NULL;
``pg_sequence`` is empty; ``pg_description`` holds the COMMENT ON texts. Object identifiers must stay the
same for one object across statements (clients join on them and cache them), so
a table's oid is derived from its name (``relation_oid``), not from its
position; names OIDs must not collide with the fixed ones below 16384.
pg_catalog is on every search path: ``pg_class`` resolves unqualified.
"""
from __future__ import annotations

import re
import zlib

from .. import composite, ranges, types
from ..storage import sequence_defs
from ..storage.namespaces import split
from ..storage.roles import (PSEUDO_SCHEMA_OWNER_OID, acl_text, column_acl_text, default_acl,
                             grants_text)
from ..storage.sequence_names import default_sequence, relation_name
from .information_schema import column_default, generation_text, view_columns_declared
from .pg_types import pg_type
from .virtual import CatalogSnapshot, VirtualTable, register_virtual_table, visible_tables

SCHEMA = "pg_catalog"
T, I, B, F = types.TEXT, types.INTEGER, types.BOOLEAN, types.FLOAT
IA, TA = "INTEGER[]", "TEXT[]"

NAMESPACES = {"pg_catalog": 11, "public": 2200, "information_schema": 13183}
DATABASE_OID, ROLE_OID = 5, 10
# classoid values: the pg_class oid of each catalog (PostgreSQL's fixed ones)
CATALOG_OIDS = {"pg_class": 1259, "pg_namespace": 2615, "pg_constraint": 2606,
                "pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255,
                "pg_database": 1262, "pg_authid": 1260, "pg_index": 2610,
                "pg_description": 2609, "pg_attrdef": 2604}

# typname -> (oid, typlen, typcategory, array oid, element oid)
TYPES = {
    "bool": (16, 1, "B", 1000, 0), "bytea": (17, -1, "U", 1001, 0),
    "char": (18, 1, "Z", 1002, 0), "name": (19, 64, "S", 1003, 0),
    "int8": (20, 8, "N", 1016, 0), "int2": (21, 2, "N", 1005, 0),
    "int2vector": (22, -1, "A", 1006, 21), "int4": (23, 4, "N", 1007, 0),
    "regproc": (24, 4, "N", 1008, 0), "text": (25, -1, "S", 1009, 0),
    "oid": (26, 4, "N", 1028, 0), "oidvector": (30, -1, "A", 1013, 26),
    "json": (114, -1, "U", 199, 0), "float4": (700, 4, "N", 1021, 0),
    "float8": (701, 8, "N", 1022, 0), "unknown": (705, -2, "X", 0, 0),
    "bpchar": (1042, -1, "S", 1014, 0), "varchar": (1043, -1, "S", 1015, 0),
    "date": (1082, 4, "D", 1182, 0), "time": (1083, 8, "D", 1183, 0),
    "timetz": (1266, 12, "D", 1270, 0),
    "timestamp": (1114, 8, "D", 1115, 0), "timestamptz": (1184, 8, "D", 1185, 0),
    "interval": (1186, 16, "T", 1187, 0), "numeric": (1700, -1, "N", 1231, 0),
    "regclass": (2205, 4, "N", 2210, 0), "regtype": (2206, 4, "N", 2211, 0),
    "uuid": (2950, 16, "U", 2951, 0), "jsonb": (3802, -1, "U", 3807, 0),
    # the range types (typtype 'r', category R: ranges/kinds.py)
    **{k.pg_name: (k.oid, -1, "R", k.array_oid, 0) for k in ranges.KINDS.values()},
    "inet": (869, -1, "I", 1041, 0), "cidr": (650, -1, "I", 651, 0),
    "macaddr": (829, 6, "U", 1040, 0), "macaddr8": (774, 8, "U", 775, 0),
    "money": (790, 8, "N", 791, 0),
    "bit": (1560, -1, "V", 1561, 0), "varbit": (1562, -1, "V", 1563, 0),
    "tsvector": (3614, -1, "U", 3643, 0), "tsquery": (3615, -1, "U", 3645, 0),
    "regconfig": (3734, 4, "N", 3735, 0), "regdictionary": (3769, 4, "N", 3770, 0),
}
# pseudo-types: no values have them, but functions and catalog queries name them
# ('trigger'::regtype in pgcli's function query, prorettype of a set-returning one)
PSEUDO_TYPES = {"record": 2249, "cstring": 2275, "any": 2276, "anyarray": 2277,
                "void": 2278, "trigger": 2279, "language_handler": 2280, "internal": 2281,
                "anyelement": 2283, "anynonarray": 2776, "event_trigger": 3838}
# array types: (oid, name, element oid)
ARRAYS = {arr: ("_" + name, oid) for name, (oid, _, _, arr, _) in TYPES.items() if arr}
TYPE_OIDS = {name: row[0] for name, row in TYPES.items()}
TYPE_OIDS.update(PSEUDO_TYPES)
TYPE_OIDS.update({name: oid for oid, (name, _) in ARRAYS.items()})
TYPE_NAMES = {oid: name for name, oid in TYPE_OIDS.items()}
# format_type()'s SQL spelling of a typname
SQL_NAMES = {"int8": "bigint", "int4": "integer", "int2": "smallint", "float8": "double precision",
             "float4": "real", "bool": "boolean", "varchar": "character varying",
             "bpchar": "character", "timestamp": "timestamp without time zone",
             "timestamptz": "timestamp with time zone", "time": "time without time zone",
             "timetz": "time with time zone",
             "char": '"char"', "varbit": "bit varying"}


def type_oid(sql_type: str) -> int:
    """The pg_type oid of an engine type (arrays included)."""
    if composite.is_record(sql_type):
        return record_oid(sql_type)
    return TYPE_OIDS.get(pg_type(sql_type).udt_name, TYPE_OIDS["text"])


# oid -> name of every composite type oid handed out (CREATE TYPE ... AS (...)), as
# ENUM_NAMES; its array type is its oid + 1
COMPOSITE_NAMES: dict[int, str] = {}


def composite_oid(name: str) -> int:
    """A stable oid for composite type ``name`` (even: its array type takes the next one)."""
    oid = 16384 + (zlib.crc32(f"c:{name}".encode()) % 1_000_000_000) * 2
    COMPOSITE_NAMES.setdefault(oid, name)
    return oid


def record_oid(sql_type: str) -> int:
    """The oid of a composite value's type: its named type's, else ``record`` (2249)."""
    name = composite.type_name(sql_type)
    return composite.RECORD_OID if name == "record" else composite_oid(name)


# oid -> name of every enum type oid handed out (format_type reads them back), as
# RELATION_NAMES below; an array of an enum is its oid + 1
ENUM_NAMES: dict[int, str] = {}


def enum_oid(name: str) -> int:
    """A stable oid for enum type ``name`` (even: its array type takes the next one)."""
    oid = 16384 + (zlib.crc32(f"e:{name}".encode()) % 1_000_000_000) * 2
    ENUM_NAMES.setdefault(oid, name)
    return oid


# oid -> name of every domain oid handed out (CREATE DOMAIN; format_type reads them back)
DOMAIN_NAMES: dict[int, str] = {}


def domain_oid(name: str) -> int:
    """A stable oid for domain ``name`` (even, as an enum's; a domain has no array)."""
    oid = 16384 + (zlib.crc32(f"d:{name}".encode()) % 1_000_000_000) * 2
    DOMAIN_NAMES.setdefault(oid, name)
    return oid


def format_type(oid: int | None, typmod: int | None = None) -> str | None:
    if oid is None:
        return None
    name = TYPE_NAMES.get(oid)
    if name is None:
        if oid in DOMAIN_NAMES:
            return DOMAIN_NAMES[oid]
        if oid in ENUM_NAMES:
            return ENUM_NAMES[oid]
        if oid in COMPOSITE_NAMES:
            return COMPOSITE_NAMES[oid]
        if oid - 1 in COMPOSITE_NAMES:
            return COMPOSITE_NAMES[oid - 1] + "[]"
        if oid - 1 in ENUM_NAMES:
            return ENUM_NAMES[oid - 1] + "[]"
        return "???"
    if name.startswith("_"):
        return SQL_NAMES.get(name[1:], name[1:]) + "[]"
    if typmod is not None and typmod >= 0 and name in ("bit", "varbit"):   # typmod: n
        return f"{SQL_NAMES.get(name, name)}({typmod})"
    if typmod is not None and typmod >= 0 and name in ("timestamp", "timestamptz", "time",
                                                              "timetz"):
        return {"timestamp": f"timestamp({typmod}) without time zone",
                "timestamptz": f"timestamp({typmod}) with time zone",
                "time": f"time({typmod}) without time zone",
                "timetz": f"time({typmod}) with time zone"}[name]
    if typmod is not None and typmod >= 4 and name in ("varchar", "bpchar", "numeric"):
        if name == "varchar":                    # PostgreSQL's typmod: length + 4
            return f"character varying({typmod - 4})"
        if name == "bpchar":
            return f"character({typmod - 4})"
        mod = typmod - 4                         # (precision << 16 | scale) + 4
        scale = mod & 0x7FF
        scale = scale - 0x800 if scale & 0x400 else scale   # 11-bit signed, as in PG 15
        return f"numeric({mod >> 16},{scale})"
    return SQL_NAMES.get(name, name)


def column_type(column) -> tuple[int, int]:
    """(atttypid, atttypmod) of a table column: a VARCHAR(n), NUMERIC(p, s), SMALLINT ...
    column is described as PostgreSQL describes it, though its values are text, float8
    and int8 here."""
    return declared_type_oid(column.type, column.typmod)


def declared_type_oid(sql_type: str, typmod: tuple | None) -> tuple[int, int]:
    """``column_type`` of engine type ``sql_type`` declared with modifier ``typmod``
    (a domain's column is of the domain; its base type is the domain's typbasetype)."""
    if typmod is None:
        return type_oid(sql_type), -1
    if typmod[0] == "domain":
        return domain_oid(typmod[1]), -1
    if typmod[0] == "enum":
        return enum_oid(typmod[1]), -1
    if len(typmod) == 1:                # declared smallint, integer, numeric, real
        return TYPE_OIDS[typmod[0]], -1
    if typmod[0] in ("varchar", "bpchar"):
        return TYPE_OIDS[typmod[0]], typmod[1] + 4
    if typmod[0] in ("bit", "varbit"):   # bit(n) / bit varying(n): atttypmod n
        return TYPE_OIDS[typmod[0]], typmod[1]
    if typmod[0] == "precision":        # timestamp(p), time(p): PostgreSQL's typmod is p
        return type_oid(sql_type), typmod[1]
    return TYPE_OIDS["numeric"], ((typmod[1] << 16) | (typmod[2] & 0x7FF)) + 4


# oid -> relation name for every relation oid handed out (regclass::text reads it back);
# bounded by the number of distinct relation names a process ever sees.
RELATION_NAMES: dict[int, str] = {}


def relation_oid(kind: str, name: str) -> int:
    """A stable oid for a user object from its name: tables, views and indexes share one
    name space (as in PostgreSQL, so ``'t'::regclass`` needs no kind), constraints and
    defaults ("c", "d") have their own."""
    if kind in ("r", "v", "i"):
        if name in CATALOG_OIDS:
            return CATALOG_OIDS[name]
        oid = 16384 + zlib.crc32(name.encode()) % 2_000_000_000
        RELATION_NAMES.setdefault(oid, name)
        return oid
    return 16384 + zlib.crc32(f"{kind}:{name}".encode()) % 2_000_000_000


def proc_oid(kind: str, name: str, args) -> int:
    """A stable pg_proc oid for a function from its kind, name and argument types."""
    return 16384 + zlib.crc32(f"proc:{kind}:{name}({','.join(args)})".encode()) % 2_000_000_000


def function_oids(root) -> dict[str, int]:
    """SQL function name -> its pg_proc oid: what ``'name'::regproc::oid`` gives."""
    return {name: proc_oid("f", name, [t for _, t in fn.params])
            for name, fn in root.functions.items()}


def function_bodies(root) -> dict[int, str]:
    """SQL function oid -> ``pg_get_function_sqlbody``'s text: ``RETURN expr``, the
    expression parenthesized as PostgreSQL deparses it (``RETURN (x + 1)``)."""
    return {proc_oid("f", name, [t for _, t in fn.params]): f"RETURN {deparse_wrapped(fn.body)}"
            for name, fn in root.functions.items()}


def function_defs(root) -> dict[int, str]:
    """SQL function oid -> ``pg_get_functiondef``'s text: a CREATE OR REPLACE FUNCTION
    that makes it again (its body as the RETURN form keeps it)."""
    out = {}
    for name, fn in sorted(root.functions.items()):
        params = ", ".join(
            " ".join(p for p in (pname, format_type(type_oid(t)) or t.lower()) if p)
            + (f" DEFAULT {d}" if d is not None else "")
            for (pname, t), d in zip(fn.params, fn.defaults or (None,) * len(fn.params)))
        kind = "" if fn.volatility == "VOLATILE" else f" {fn.volatility}\n"
        schema, bare = split(name, root.auth.schemas)
        out[proc_oid("f", name, [t for _, t in fn.params])] = (
            f"CREATE OR REPLACE FUNCTION {schema}.{bare}({params})\n"
            f" RETURNS {format_type(type_oid(fn.returns)) or fn.returns.lower()}\n"
            f" LANGUAGE sql\n{kind}RETURN {deparse_wrapped(fn.body)}\n")
    return out


def regclass_in(text: str) -> int:
    """``'name'::regclass``: the oid of a relation name (schema prefix dropped, unquoted
    names folded to lower case)."""
    name = text.strip()
    if name.isdigit():                      # '16398'::regclass is that oid
        return int(name)
    return relation_oid("r", relation_name(name))


def regclass_out(oid: int) -> str:
    for name, catalog_oid in CATALOG_OIDS.items():
        if catalog_oid == oid:
            return name
    return RELATION_NAMES.get(oid, str(oid))


def regtype_in(text: str) -> int | None:
    """``to_regtype('name')``: a type's oid by its typname or SQL name, else NULL."""
    name = text.strip().lower()
    if name.startswith("pg_catalog."):
        name = name[len("pg_catalog."):]
    by_sql = {sql: typ for typ, sql in SQL_NAMES.items()}
    oid = TYPE_OIDS.get(by_sql.get(name, name))
    if oid is None:       # a composite type this process has described (catalog scans)
        oid = next((o for o, n in COMPOSITE_NAMES.items() if n == name.strip('"')), None)
    return oid


def _table(name: str, columns: str, rows, typed: dict | None = None) -> None:
    cols = tuple((c, (typed or {}).get(c, T)) for c in columns.split())
    register_virtual_table(VirtualTable(SCHEMA, name, cols, rows), searched=True)


def _typed(spec: str) -> dict:
    """'I: a b; B: c' -> {a: INTEGER, b: INTEGER, c: BOOLEAN}."""
    out = {}
    for part in spec.split(";"):
        kind, names = part.split(":")
        for n in names.split():
            out[n] = {"I": I, "B": B, "F": F, "IA": IA, "TA": TA}[kind.strip()]
    return out


def _relations(snap: CatalogSnapshot):
    """(oid, name, relkind, table name, schema or None) of every user relation."""
    prefix = snap.temp_prefix or "\0"
    for name, version in visible_tables(snap):
        s = version.schema
        yield relation_oid("r", name), name, "r" if s.matview_sql is None else "m", name, s
        for ix in (*s.uniques, *s.indexes):    # a temporary table's: named as written
            shown = ix.name.removeprefix(prefix)
            yield relation_oid("i", shown), shown, "i", name, s
    for name, _ in sorted(snap.root.views.items()):
        yield relation_oid("r", name), name, "v", name, None
    for name in sorted(snap.root.sequences):
        yield relation_oid("r", name), name, "S", name, None


# ---- pg_namespace, pg_database, pg_roles ---------------------------------------------------

def namespace_oid(root, schema: str) -> int:
    """pg_namespace.oid of a schema: the fixed ones, else the oid CREATE SCHEMA drew."""
    return NAMESPACES.get(schema) or root.auth.schemas.get(schema, NAMESPACES["public"])


def split_key(root, key: str) -> tuple[str, int]:
    """(bare name, namespace oid) of a catalog key (storage/namespaces.py)."""
    schema, bare = split(key, root.auth.schemas)
    return bare, namespace_oid(root, schema)


def _namespaces(snap):
    cat = snap.root.auth
    for name, oid in NAMESPACES.items():
        if name == "public":
            # PostgreSQL 15: owned by pg_database_owner, its ACL set at initdb (never NULL)
            acl = acl_text(cat, "schema", name)
            yield oid, name, PSEUDO_SCHEMA_OWNER_OID, \
                grants_text(default_acl(cat, "schema", name)) if acl is None else acl
            continue
        yield oid, name, ROLE_OID, None
    from .pg_auth import role_oid
    for name, oid in sorted(cat.schemas.items()):
        yield oid, name, role_oid(snap, cat.owner("schema", name)), acl_text(cat, "schema", name)


_table("pg_namespace", "oid nspname nspowner nspacl", _namespaces, _typed("I: oid nspowner; TA: nspacl"))


def _databases(snap):
    yield (DATABASE_OID, snap.database, ROLE_OID, 6, "c", False, True, -1, 0, 0, 1663,
           "C", "C", None, None, None)


_table("pg_database", "oid datname datdba encoding datlocprovider datistemplate datallowconn "
                      "datconnlimit datfrozenxid datminmxid dattablespace datcollate datctype "
                      "daticulocale datcollversion datacl", _databases,
       _typed("I: oid datdba encoding datconnlimit datfrozenxid datminmxid dattablespace; "
              "B: datistemplate datallowconn; TA: datacl"))


# pg_roles, pg_authid, pg_user and pg_auth_members: catalog/pg_auth.py (the roles catalog)


# ---- pg_class ------------------------------------------------------------------------------

def fk_referenced(root) -> set[str]:
    """The tables some foreign key references."""
    return {fk.ref_table for v in root.tables.values() for fk in v.schema.foreign_keys}


_AM_OIDS = {"btree": 403, "hash": 405, "gist": 783, "gin": 2742}


def _index_method(schema, shown: str) -> str:
    """The access method an index was created with (``USING gin``), btree by default."""
    for ix in schema.indexes if schema is not None else ():
        if ix.name == shown or ix.name.endswith("." + shown):
            return getattr(ix, "method", "btree")
    return "btree"


def _classes(snap):
    # PostgreSQL enforces foreign keys with triggers on both tables; psql shows the
    # "Foreign-key constraints" / "Referenced by" sections only when relhastriggers
    referenced = fk_referenced(snap.root)
    sizes = None
    for oid, name, kind, table, s in _relations(snap):
        stored = kind in ("r", "m")         # a table, or a materialized view's rows
        triggers = kind == "r" and s is not None and bool(s.foreign_keys or name in referenced)
        natts = len(s.columns) if s is not None and stored else 0
        if kind == "v":
            natts = 0
        has_index = stored and s is not None and bool(s.uniques or s.indexes)
        checks = len(s.checks) if kind == "r" and s is not None else 0
        am = _AM_OIDS.get(_index_method(s, name), 403) if kind == "i" else (
            2 if stored else 0)   # an index's method (btree unless gin/gist), heap
        from .pg_auth import owner_oid, relacl
        owned = kind if kind != "i" else "r"
        relname, nsp = split_key(snap.root, name)
        pages, tuples = 0, -1.0         # a table: never analyzed (PostgreSQL 15's -1)
        if kind == "i":
            # CREATE INDEX counts an index's entries, which it always has here: one per
            # row; its pages are its bytes in 8 kB units, at least the one metapage
            sizes = relation_sizes(snap.root) if sizes is None else sizes
            version = snap.root.tables.get(table)
            tuples = float(version.live_rows) if version is not None else 0.0
            pages = max(1, -(-sizes.get(oid, (0, 0))[0] // 8192))
            ix = next((i for i in (*s.uniques, *s.indexes) if i.name == name), None)
            natts = len(index_key_parts(s, ix)) + len(getattr(ix, "include", ())) if ix else 0
        yield (oid, relname, nsp, 0, 0, owner_oid(snap, table), am, oid, 0, pages,
               tuples, 0, 0, has_index, False, "p", kind, natts, checks, False, triggers, False,
               False, False, True, "d", False, 0, 0, 0,
               relacl(snap, name) if owned != "i" else None, None, None)
    yield from _composite_classes(snap)


def _composite_classes(snap):
    """A composite type's pg_class row (relkind 'c'), as PostgreSQL keeps one."""
    public = NAMESPACES["public"]
    for name, sql_type in sorted(snap.root.composites.items()):
        oid = relation_oid("r", name)
        yield (oid, name, public, composite_oid(name), 0, ROLE_OID, 0, 0, 0, 0,
               -1.0, 0, 0, False, False, "p", "c", len(composite.fields_of(sql_type)), 0,
               False, False, False, False, False, True, "n", False, 0, 0, 0, None, None, None)


_table("pg_class", "oid relname relnamespace reltype reloftype relowner relam relfilenode "
                   "reltablespace relpages reltuples relallvisible reltoastrelid relhasindex "
                   "relisshared relpersistence relkind relnatts relchecks relhasrules "
                   "relhastriggers relhassubclass relrowsecurity relforcerowsecurity "
                   "relispopulated relreplident relispartition relrewrite relfrozenxid "
                   "relminmxid relacl reloptions relpartbound", _classes,
       {**_typed("I: oid relnamespace reltype reloftype relowner relam relfilenode "
                 "reltablespace relpages relallvisible reltoastrelid relnatts relchecks "
                 "relrewrite relfrozenxid relminmxid; B: relhasindex relisshared relhasrules "
                 "relhastriggers relhassubclass relrowsecurity relforcerowsecurity "
                 "relispopulated relispartition; TA: relacl reloptions"), "reltuples": F})


# ---- pg_attribute, pg_attrdef ----------------------------------------------------------------

def _attributes(snap):
    cat = snap.root.auth
    for oid, name, kind, table, s in _relations(snap):
        if kind == "v":              # a view's columns: its query's output, bound now
            for num, (col, sql_type, typmod) in enumerate(
                    view_columns_declared(snap, snap.root.views[name]), 1):
                toid, mod = declared_type_oid(sql_type, typmod)
                yield _attribute(oid, col, sql_type, toid, mod, num, False, False, "",
                                 acl=column_acl_text(cat, name, col))
            continue
        if s is None:
            continue
        key = set(s.primary_key.columns) if s.primary_key else set()
        if kind in ("r", "m"):
            cols = [(i + 1, c, c.not_null or i in key,
                     (c.default_sql is not None and c.identity is None) or
                     c.generated is not None)
                    for i, c in enumerate(s.columns)]
        else:
            con = next((u for u in list(s.uniques) + list(s.indexes) if u.name == name), None)
            if con is None:
                continue
            yield from _index_attributes(oid, s, con)
            continue
        for num, column, not_null, has_def in cols:
            toid, typmod = column_type(column)
            identity = "" if column.identity is None or kind != "r" else \
                ("a" if column.identity[0] == "always" else "d")
            yield _attribute(oid, column.name, column.type, toid, typmod, num, not_null,
                             has_def, identity,
                             "s" if column.generated is not None and kind == "r" else "",
                             column_acl_text(cat, name, column.name)
                             if kind in ("r", "m") else None)
    yield from _composite_attributes(snap)


def _composite_attributes(snap):
    for name, sql_type in sorted(snap.root.composites.items()):
        oid = relation_oid("r", name)
        for num, (field, ft) in enumerate(composite.fields_of(sql_type), 1):
            yield _attribute(oid, field, ft, type_oid(ft), -1, num, False, False, "")


def _type_length(sql_type: str, toid: int) -> int:
    """pg_type.typlen of a column's type: an enum's is 4 (its label's oid), a domain's its
    base type's (the engine type ``sql_type``)."""
    if toid in ENUM_NAMES:
        return 4
    if toid in DOMAIN_NAMES:
        toid = type_oid(sql_type)
    return TYPES.get(TYPE_NAMES.get(toid, ""), (0, -1))[1]


def _index_attributes(oid: int, s, ix):
    """An index's pg_attribute rows: one per key part, then one per INCLUDE column. A
    key on an expression is named as PostgreSQL names it (the function's name for a call,
    else ``expr``; a repeated name gets 1, 2, ... appended) and typed by the bound
    expression."""
    parts = index_key_parts(s, ix)
    # the keyer binds every key part, in order (a keyed index's parts are all in exprs)
    bound = s.keyer(ix).exprs if any(pos is None for _, pos in parts) else ()
    used: set[str] = set()
    every = parts + [(s.columns[i].name, i) for i in getattr(ix, "include", ())]
    for num, (text, pos) in enumerate(every, 1):
        if pos is not None:
            column = s.columns[pos]
            toid, typmod = column_type(column)
            used.add(column.name)
            yield _attribute(oid, column.name, column.type, toid, typmod, num, False, False, "")
            continue
        expr = bound[num - 1]
        base = text[:text.index("(")].rsplit(".", 1)[-1] if _is_call(text) else "expr"
        col, n = base, 0
        while col in used:
            n += 1
            col = f"{base}{n}"
        used.add(col)
        toid, typmod = declared_type_oid(expr.type, None)
        yield _attribute(oid, col, expr.type, toid, typmod, num, False, False, "")


def _attribute(oid: int, col: str, sql_type: str, toid: int, typmod: int, num: int,
               not_null: bool, has_def: bool, identity: str, generated: str = "",
               acl: list | None = None) -> tuple:
    length = _type_length(sql_type, toid)
    storage = "p" if length > 0 else ("m" if toid == TYPE_OIDS["numeric"] else "x")
    return (oid, col, toid, -1, length, num, 1 if sql_type.endswith("[]") else 0, -1, typmod,
            length in (1, 2, 4, 8), "d", storage, "", not_null, has_def, False, identity,
            generated, False, True, 0, 100 if toid == 25 else 0, acl, None, None, None)


_table("pg_attribute", "attrelid attname atttypid attstattarget attlen attnum attndims "
                       "attcacheoff atttypmod attbyval attalign attstorage attcompression "
                       "attnotnull atthasdef atthasmissing attidentity attgenerated "
                       "attisdropped attislocal attinhcount attcollation attacl attoptions "
                       "attfdwoptions attmissingval", _attributes,
       _typed("I: attrelid atttypid attstattarget attlen attnum attndims attcacheoff "
              "atttypmod attinhcount attcollation; B: attbyval attnotnull atthasdef "
              "atthasmissing attisdropped attislocal; TA: attacl attoptions attfdwoptions"))


def _attrdefs(snap):
    for name, version in visible_tables(snap):
        for i, c in enumerate(version.schema.columns):
            if c.generated is not None:           # a generated column's expression
                yield (relation_oid("d", f"{name}.{c.name}"), relation_oid("r", name), i + 1,
                       generation_text(c.generated))
            elif c.default_sql is not None and c.identity is None:   # identity: no attrdef
                yield (relation_oid("d", f"{name}.{c.name}"), relation_oid("r", name), i + 1,
                       column_default(c.default_sql, c.type, snap.root.auth.schemas))


# adbin holds the default's SQL text (PostgreSQL: a node tree), so pg_get_expr returns it.
_table("pg_attrdef", "oid adrelid adnum adbin", _attrdefs, _typed("I: oid adrelid adnum"))


# ---- pg_type ---------------------------------------------------------------------------------

def _types(snap):
    rows = [(oid, name, length, cat, arr, elem)
            for name, (oid, length, cat, arr, elem) in TYPES.items()]
    rows += [(oid, name, -1, "A", 0, elem) for oid, (name, elem) in ARRAYS.items()]
    rows += [(oid, name, 4 if name in ("void", "trigger") else -1, "P", 0, 0)
             for name, oid in PSEUDO_TYPES.items()]
    for oid, name, length, cat, arr, elem in sorted(rows):
        # typinput: array_in for arrays (pgjdbc asks ``typinput = 'array_in'::regproc``)
        # (a pseudo-type's is record_in, void_in, ...: PostgreSQL's names)
        put = "array_in" if cat == "A" else _INPUT_FUNCTIONS.get(
            name, name + ("_in" if cat == "P" else "in"))
        yield (oid, name, NAMESPACES["pg_catalog"], ROLE_OID, length, length in (1, 2, 4, 8),
               "p" if cat == "P" else "r" if cat == "R" else "b", cat, False, True, ",", 0, "-", elem, arr, put,
               put[:-2] + "out",
               "-", "-", "-", "-",
               "-", "i", "p", False, 0, -1, 0, 100 if cat == "S" else 0, None, None, None)
    public = NAMESPACES["public"]
    for name in sorted(snap.root.enums):        # CREATE TYPE ... AS ENUM, and its array
        oid = enum_oid(name)
        yield (oid, name, public, ROLE_OID, 4, True, "e", "E", False, True, ",", 0, "-", 0,
               oid + 1, "enum_in", "enum_out", "enum_recv", "enum_send", "-", "-", "-",
               "i", "p", False, 0, -1, 0, 0, None, None, None)
        yield (oid + 1, "_" + name, public, ROLE_OID, -1, False, "b", "A", False, True, ",",
               0, "array_subscript_handler", oid, 0, "array_in", "array_out", "array_recv",
               "array_send", "-", "-", "array_typanalyze", "i", "x", False, 0, -1, 0, 0,
               None, None, None)
    yield from _domain_types(snap)
    yield from _composite_types(snap)


def _composite_types(snap):
    """CREATE TYPE ... AS (...): typtype 'c', its pg_class row (relkind 'c') holding the
    fields as pg_attribute rows; and its array type."""
    public = NAMESPACES["public"]
    for name in sorted(snap.root.composites):
        oid = composite_oid(name)
        yield (oid, name, public, ROLE_OID, -1, False, "c", "C", False, True, ",",
               relation_oid("r", name), "-", 0, oid + 1, "record_in", "record_out",
               "record_recv", "record_send", "-", "-", "-", "d", "x", False, 0, -1, 0, 0,
               None, None, None)
        yield (oid + 1, "_" + name, public, ROLE_OID, -1, False, "b", "A", False, True, ",",
               0, "array_subscript_handler", oid, 0, "array_in", "array_out", "array_recv",
               "array_send", "-", "-", "array_typanalyze", "d", "x", False, 0, -1, 0, 0,
               None, None, None)


def _domain_types(snap):
    """CREATE DOMAIN: typtype 'd', the base type's storage, its NOT NULL and DEFAULT."""
    public = NAMESPACES["public"]
    for name, d in sorted(snap.root.domains.items()):
        if d.parent is not None and d.parent in snap.root.domains:
            base, typmod = domain_oid(d.parent), -1
        else:
            base, typmod = declared_type_oid(d.type, d.typmod)
        bname = TYPE_NAMES.get(base, "")
        _, length, cat, _, _ = TYPES.get(bname, (0, -1, "U", 0, 0))
        if base in ENUM_NAMES:
            length, cat = 4, "E"
        elif base in DOMAIN_NAMES:
            length, cat = -1, "U"
        out = "enum_out" if base in ENUM_NAMES else _INPUT_FUNCTIONS.get(
            bname, bname + "in")[:-2] + "out"
        yield (domain_oid(name), name, public, ROLE_OID, length, length in (1, 2, 4, 8), "d",
               cat, False, True, ",", 0, "-", 0, 0, "domain_in", out, "domain_recv",
               out[:-3] + "send", "-", "-", "-", "i", "p", d.not_null, base, typmod, 0,
               100 if d.type == types.TEXT else 0, None, d.default, None)


def _enums(snap):
    """pg_enum: each enum type's labels in order."""
    for name, labels in sorted(snap.root.enums.items()):
        toid = enum_oid(name)
        for i, label in enumerate(labels):
            yield (relation_oid("l", f"{name}.{label}"), toid, float(i + 1), label)


_table("pg_enum", "oid enumtypid enumsortorder enumlabel", _enums,
       _typed("I: oid enumtypid; F: enumsortorder"))


# pg_type.typinput where it is not the type's name + "in"
_INPUT_FUNCTIONS = {"date": "date_in", "timestamp": "timestamp_in",
                    "timestamptz": "timestamptz_in", "time": "time_in", "uuid": "uuid_in",
                    "json": "json_in", "jsonb": "jsonb_in", "interval": "interval_in",
                    "numeric": "numeric_in",
                    **{k.pg_name: "range_in" for k in ranges.KINDS.values()}}


def _ranges(snap):
    """pg_range: each range type's subtype, and the canonical function of discrete ones
    (asyncpg's type introspection reads rngsubtype; regproc columns hold names here, as
    typinput does)."""
    for k in ranges.KINDS.values():
        yield (k.oid, k.element_oid, 0, 0, 0,
               k.pg_name + "_canonical" if k.discrete else "-", k.pg_name + "_subdiff")


_table("pg_range", "rngtypid rngsubtype rngmultitypid rngcollation rngsubopc rngcanonical "
                   "rngsubdiff", _ranges,
       _typed("I: rngtypid rngsubtype rngmultitypid rngcollation rngsubopc"))


_table("pg_type", "oid typname typnamespace typowner typlen typbyval typtype typcategory "
                  "typispreferred typisdefined typdelim typrelid typsubscript typelem typarray "
                  "typinput typoutput typreceive typsend typmodin typmodout typanalyze "
                  "typalign typstorage typnotnull typbasetype typtypmod typndims typcollation "
                  "typdefaultbin typdefault typacl", _types,
       _typed("I: oid typnamespace typowner typlen typrelid typelem typarray typbasetype "
              "typtypmod typndims typcollation; B: typbyval typispreferred typisdefined "
              "typnotnull; TA: typacl"))


# ---- pg_index, pg_constraint -----------------------------------------------------------------

def _indexes(snap):
    for name, version in visible_tables(snap):
        s = version.schema
        for ix in list(s.uniques) + list(s.indexes):
            primary = getattr(ix, "primary", False)
            unique = primary or getattr(ix, "unique", True)
            parts = index_key_parts(s, ix)
            keys = [0 if pos is None else pos + 1 for _, pos in parts]
            exprs = [text for text, pos in parts if pos is None]
            # (PostgreSQL stores node trees; the SQL text here is what pg_get_expr returns)
            indexprs = ", ".join(exprs) if exprs else None
            pred = getattr(ix, "predicate", None)
            every = keys + [i + 1 for i in getattr(ix, "include", ())]
            yield (relation_oid("i", ix.name), relation_oid("r", name), len(every), len(keys),
                   unique, ix.nulls_not_distinct, primary, False, True, False, True, False,
                   True, True, False,
                   every, [0] * len(keys), [0] * len(keys),
                   " ".join(str(o) for o in (getattr(ix, "options", ()) or [0] * len(keys))),
                   indexprs, None if pred is None else deparse_wrapped(pred))


def index_key_parts(schema, ix) -> list[tuple[str, int | None]]:
    """(text, column position or None for an expression) of each key part of an index."""
    exprs = getattr(ix, "exprs", ())
    if not exprs:
        return [(schema.columns[i].name, i) for i in ix.columns]
    return list(zip(exprs, schema.key_part_positions(ix)))


_CALL = re.compile(r"[a-z_][a-z0-9_]*\(.*\)", re.S)


def deparse_wrapped(text: str) -> str:
    """An index expression or predicate as PostgreSQL deparses it inside the index's
    definition: a column, a constant or a function call as is, any other expression
    parenthesized."""
    if _is_call(text):
        return text
    if re.fullmatch(r'[a-z_][a-z0-9_$]*|"([^"]|"")+"|\d+(\.\d+)?|\'([^\']|\'\')*\'', text):
        return text     # a column or a constant
    return f"({text})"


def _is_call(text: str) -> bool:
    return bool(_CALL.fullmatch(text)) and _balanced(text[text.index("("):])


def _balanced(text: str) -> bool:
    """Whether ``(...)`` is one parenthesized group (``f(a) + g(b)`` is not a call)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and i < len(text) - 1:
            return False
    return depth == 0


_table("pg_index", "indexrelid indrelid indnatts indnkeyatts indisunique indnullsnotdistinct "
                   "indisprimary indisexclusion indimmediate indisclustered indisvalid "
                   "indcheckxmin indisready indislive indisreplident indkey indcollation "
                   "indclass indoption indexprs indpred", _indexes,
       _typed("I: indexrelid indrelid indnatts indnkeyatts; B: indisunique "
              "indnullsnotdistinct indisprimary indisexclusion indimmediate indisclustered "
              "indisvalid indcheckxmin indisready indislive indisreplident; "
              "IA: indkey indcollation indclass"))
# indkey/indclass are int2vector/oidvector in PostgreSQL; here INTEGER[] so that unnest()
# works. indoption keeps int2vector's text form ("0 3"), which clients split (SQLAlchemy);
# subscripts of all of them count from 0 as PostgreSQL's (sql/bind/bind_array.py).

_FK_ACTIONS = {"NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n",
               "SET DEFAULT": "d"}


def _constraints(snap):
    tables = snap.root.tables
    for name, version in sorted(tables.items()):
        s = version.schema
        rel = relation_oid("r", name)
        nsp = split_key(snap.root, name)[1]      # a constraint is in its table's schema
        for u in s.uniques:
            yield (relation_oid("c", u.name), *split_key(snap.root, u.name),
                   "p" if u.primary else "u", False, False, True, rel, 0,
                   relation_oid("i", u.name), 0, 0, " ", " ", " ", True, 0, True,
                   [i + 1 for i in u.columns], None, None, None)
        for fk in s.foreign_keys:
            ref = tables.get(fk.ref_table)
            ref_keys = [ref.schema.position(c) + 1 for c in fk.ref_columns] if ref else None
            # conindid: the referenced key's unique index (pgjdbc's getImportedKeys joins it)
            key = next((u for u in ref.schema.uniques
                        if sorted(u.columns) == sorted(k - 1 for k in ref_keys)), None) \
                if ref else None
            yield (relation_oid("c", fk.name), split_key(snap.root, fk.name)[0], nsp,
                   "f", fk.deferrable, fk.deferred,
                   fk.validated, rel, 0, relation_oid("i", key.name) if key else 0, 0,
                   relation_oid("r", fk.ref_table),
                   _FK_ACTIONS.get(fk.on_update, "a"), _FK_ACTIONS.get(fk.on_delete, "a"),
                   "f" if fk.match_full else "s",
                   True, 0, True, [i + 1 for i in fk.columns], ref_keys, None,
                   [i + 1 for i in fk.delete_set_columns] or None)
        for ck in s.checks:
            yield (relation_oid("c", ck.name), split_key(snap.root, ck.name)[0], nsp,
                   "c", False, False,
                   ck.validated, rel, 0, 0, 0, 0, " ", " ", " ", True, 0, False, None, None, ck.sql,
                   None)
    public = NAMESPACES["public"]
    for name, d in sorted(snap.root.domains.items()):    # a domain's CHECKs: contypid
        for cname, sql, validated in d.checks:
            yield (relation_oid("k", f"{name}.{cname}"), cname, public, "c", False, False,
                   validated, 0, domain_oid(name), 0, 0, 0, " ", " ", " ", True, 0, False,
                   None, None, sql, None)


_table("pg_constraint", "oid conname connamespace contype condeferrable condeferred "
                        "convalidated conrelid contypid conindid conparentid confrelid "
                        "confupdtype confdeltype confmatchtype conislocal coninhcount "
                        "connoinherit conkey confkey conbin confdelsetcols", _constraints,
       _typed("I: oid connamespace conrelid contypid conindid conparentid confrelid "
              "coninhcount; B: condeferrable condeferred convalidated conislocal "
              "connoinherit; IA: conkey confkey confdelsetcols"))


# ---- settings, empty catalogs ----------------------------------------------------------------

# pg_settings names the few mixed-case parameters as PostgreSQL spells them
_SETTING_NAMES = {"datestyle": "DateStyle", "intervalstyle": "IntervalStyle",
                  "timezone": "TimeZone"}


def _settings(snap):
    return iter(settings_rows(None))


def settings_rows(session) -> list[tuple]:
    """pg_settings of ``session`` (None: the defaults): each setting's current value
    (current_setting's text) and where it came from: ``client`` for what the startup
    packet set and still holds, ``session`` for a SET, else ``default``."""
    from ..utility import _DEFAULT_SETTINGS, all_settings
    values = all_settings(session) if session is not None else dict(_DEFAULT_SETTINGS)
    changed = getattr(session, "settings", None) or {}
    client = getattr(session, "client_settings", None) or {}
    out = []
    for name, value in sorted(values.items()):
        if name not in _DEFAULT_SETTINGS or value is None:
            continue
        boot = _DEFAULT_SETTINGS[name]
        source = "default"
        if name in changed:
            source = "client" if client.get(name) == value else "session"
        reset = client.get(name, boot)
        out.append((_SETTING_NAMES.get(name, name), value, None, "Ungrouped", "", None, "user",
                    "string", source, None, None, None, boot, reset, None, None, False))
    return out


register_virtual_table(VirtualTable(
    SCHEMA, "pg_settings", tuple((c, {"sourceline": I, "pending_restart": B}.get(c, T))
                                 for c in "name setting unit category short_desc extra_desc "
                                          "context vartype source min_val max_val enumvals "
                                          "boot_val reset_val sourcefile sourceline "
                                          "pending_restart".split()),
    _settings, session_rows="settings_rows"), searched=True)


def _empty(snap):
    return iter(())


def descriptions(root) -> list[tuple[int, int, int, str]]:
    """(objoid, classoid, objsubid, text) of every comment (COMMENT ON) in ``root``:
    tables, views and indexes are pg_class objects (objsubid 0), a column is its
    table's objsubid = its attnum."""
    klass = CATALOG_OIDS["pg_class"]
    # the comment initdb gives schema public
    out = [(NAMESPACES["public"], CATALOG_OIDS["pg_namespace"], 0, "standard public schema")]
    for name, version in sorted(root.tables.items()):
        s = version.schema
        if s.comment is not None:
            out.append((relation_oid("r", name), klass, 0, s.comment))
        for i, c in enumerate(s.columns):
            if c.comment is not None:
                out.append((relation_oid("r", name), klass, i + 1, c.comment))
        for ix in list(s.uniques) + list(s.indexes):
            if ix.comment is not None:
                out.append((relation_oid("i", ix.name), klass, 0, ix.comment))
    for name, view in sorted(root.views.items()):
        if view.comment is not None:
            out.append((relation_oid("v", name), klass, 0, view.comment))
    return out


def _descriptions(snap):
    return iter(descriptions(snap.root))


_table("pg_description", "objoid classoid objsubid description", _descriptions,
       _typed("I: objoid classoid objsubid"))
_SEQ_TYPE_OIDS = {"smallint": 21, "integer": 23, "bigint": 20}


def _sequences(snap):
    for name in sorted(snap.root.sequences):
        d = sequence_defs.definition(snap.root, name)
        yield (relation_oid("r", name), _SEQ_TYPE_OIDS[d.data_type], d.start, d.increment,
               d.maxvalue, d.minvalue, d.cache, d.cycle)


def _depends(snap):
    """pg_depend: only what psql's ``\\d sequence`` asks, a sequence's owning column
    ('a': SERIAL or OWNED BY; 'i': an identity column's), as pg_get_serial_sequence
    finds it."""
    root = snap.root
    klass = CATALOG_OIDS["pg_class"]
    for seq, (table, attnum, kind) in sorted(owned_sequences(root).items()):
        yield klass, relation_oid("r", seq), 0, klass, relation_oid("r", table), attnum, kind


def owned_sequences(root) -> dict[str, tuple[str, int, str]]:
    """sequence -> (table, attnum, 'a' or 'i') of each sequence a column owns: a
    SERIAL's or an OWNED BY sequence ('a'), an identity column's ('i')."""
    owned = {}
    for name, version in root.tables.items():
        for i, c in enumerate(version.schema.columns):
            seq = default_sequence(c.default_sql, owned=True)
            if seq is not None:
                owned[seq] = (name, i + 1, "i" if c.identity is not None else "a")
    for seq, spec in root.seqdefs.items():
        if spec.owned_by is not None and seq not in owned:
            version = root.tables.get(spec.owned_by[0])
            pos = version.schema.position(spec.owned_by[1]) if version is not None else None
            if pos is not None:
                owned[seq] = (spec.owned_by[0], pos + 1, "a")
    return {seq: spec for seq, spec in owned.items() if seq in root.sequences}


_table("pg_depend", "classid objid objsubid refclassid refobjid refobjsubid deptype", _depends,
       _typed("I: classid objid objsubid refclassid refobjid refobjsubid"))
_table("pg_sequence", "seqrelid seqtypid seqstart seqincrement seqmax seqmin seqcache seqcycle",
       _sequences, _typed("I: seqrelid seqtypid seqstart seqincrement seqmax seqmin seqcache; "
                      "B: seqcycle"))
_table("pg_inherits", "inhrelid inhparent inhseqno inhdetachpending", _empty,
       _typed("I: inhrelid inhparent inhseqno; B: inhdetachpending"))


def _am(snap):
    yield 2, "heap", "heap_tableam_handler", "t"
    yield 403, "btree", "bthandler", "i"
    yield 405, "hash", "hashhandler", "i"
    yield 783, "gist", "gisthandler", "i"
    yield 2742, "gin", "ginhandler", "i"


_table("pg_am", "oid amname amhandler amtype", _am, _typed("I: oid"))


def _collations(snap):
    yield 100, "default", NAMESPACES["pg_catalog"], ROLE_OID, "d", True, -1, None, None, None, None
    yield 950, "C", NAMESPACES["pg_catalog"], ROLE_OID, "c", True, -1, "C", "C", None, None


_table("pg_collation", "oid collname collnamespace collowner collprovider collisdeterministic "
                       "collencoding collcollate collctype colliculocale collversion",
       _collations, _typed("I: oid collnamespace collowner collencoding; "
                           "B: collisdeterministic"))


# ---- definitions as text (pg_get_constraintdef, pg_get_indexdef) ---------------------------

def unwrapped(text: str) -> str:
    """An expression's text as PostgreSQL's pretty form prints it: without the one pair of
    parentheses around all of it (``(v * 2)`` is ``v * 2``; ``(a) + (b)`` stays)."""
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for k, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return text[1:-1] if k == len(text) - 1 else text
    return text


def constraint_defs(root, pretty: bool = False) -> dict[int, str]:
    """oid -> PostgreSQL's deparsed text of every constraint in ``root``; ``pretty``:
    pg_get_constraintdef(oid, true)'s (a CHECK's condition without the parentheses
    around each operation)."""
    out = {}
    for name, version in sorted(root.tables.items()):
        s = version.schema
        cols = lambda positions: ", ".join(s.columns[i].name for i in positions)  # noqa: E731
        for u in s.uniques:
            kind = "PRIMARY KEY" if u.primary else \
                "UNIQUE NULLS NOT DISTINCT" if u.nulls_not_distinct else "UNIQUE"
            out[relation_oid("c", u.name)] = f"{kind} ({cols(u.columns)})"
        for fk in s.foreign_keys:
            text = (f"FOREIGN KEY ({cols(fk.columns)}) REFERENCES {fk.ref_table}"
                    f"({', '.join(fk.ref_columns)})") + (" MATCH FULL" if fk.match_full else "")
            if fk.on_update != "NO ACTION":
                text += f" ON UPDATE {fk.on_update}"
            if fk.on_delete != "NO ACTION":
                text += f" ON DELETE {fk.on_delete}"
                if fk.delete_set_columns:
                    text += f" ({cols(fk.delete_set_columns)})"
            if fk.deferrable:
                text += " DEFERRABLE" + (" INITIALLY DEFERRED" if fk.deferred else "")
            out[relation_oid("c", fk.name)] = text + ("" if fk.validated else " NOT VALID")
        for ck in s.checks:
            from .pg_viewdef import pretty_condition   # (sqlglot: not on a first session's path)
            condition = pretty_condition(ck.sql, s.columns, pretty)
            if condition is None:         # a shape pg_viewdef does not print: as stored
                condition = unwrapped(f"({ck.sql})") if pretty else f"({ck.sql})"
            out[relation_oid("c", ck.name)] = f"CHECK ({condition})" + (
                "" if ck.validated else " NOT VALID")
    for name, d in sorted(root.domains.items()):
        for cname, sql, validated in d.checks:
            condition = f"({_value_upper(sql)})"
            out[relation_oid("k", f"{name}.{cname}")] = \
                f"CHECK ({unwrapped(condition) if pretty else condition})" + (
                    "" if validated else " NOT VALID")
    return out


_QUOTED_OR_VALUE = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\bvalue\b""", re.I)


def _value_upper(sql: str) -> str:
    """A domain CHECK as PostgreSQL deparses it: the placeholder VALUE in capitals
    (quoted text and quoted names untouched)."""
    return _QUOTED_OR_VALUE.sub(
        lambda m: "VALUE" if m.group(0)[0] not in "'\"" else m.group(0), sql)


# Bytes a row of the shared tail, a patched row or an index entry takes, roughly: a
# tuple of boxed atoms, a dict slot. Sizes below are estimates of memory held, not of
# pages on disk (there are none): what psql's \\dt+ and \\di+ print as "Size".
_ROW_BYTES_PER_VALUE = 24
_INDEX_ENTRY_BYTES = 48


def relation_sizes(root) -> dict[int, tuple[int, int]]:
    """relation oid -> (its own bytes in memory, its indexes' bytes): for a table the
    Arrow buffers of its chunks plus its unfrozen rows, and the entries of its indexes
    (pg_table_size, pg_indexes_size; their sum is pg_total_relation_size); for an
    index its entries, and 0; a view 0; a sequence its one row."""
    out = {}
    for name, version in root.tables.items():
        width = max(1, len(version.schema.columns))
        table = sum(c.batch.nbytes for c in version.chunks) \
            + (version.tail_len + len(version.patches)) * width * _ROW_BYTES_PER_VALUE
        indexes = 0
        s = version.schema
        for ix in list(s.uniques) + list(s.indexes):
            size = version.live_rows * _INDEX_ENTRY_BYTES * len(ix.columns)
            out[relation_oid("i", ix.name)] = (size, 0)
            indexes += size
        out[relation_oid("r", name)] = (table, indexes)
    for name in root.views:             # a view holds no rows (PostgreSQL: 0 bytes too)
        out[relation_oid("r", name)] = (0, 0)
    for name in root.sequences:         # one row: last value, count and is_called
        out[relation_oid("r", name)] = (3 * _ROW_BYTES_PER_VALUE, 0)
    return out


def size_pretty(size: int) -> str:
    """pg_size_pretty(bigint), PostgreSQL 15's rules: bytes below 10 kB, then each unit
    while the half-rounded value stays below 20 * 1024 - 1."""
    units = (("bytes", 10 * 1024, False, 0), ("kB", 20 * 1024 - 1, True, 10),
             ("MB", 20 * 1024 - 1, True, 20), ("GB", 20 * 1024 - 1, True, 30),
             ("TB", 20 * 1024 - 1, True, 40), ("PB", 20 * 1024 - 1, True, 50))
    for k, (name, limit, rounded, bits) in enumerate(units):
        last = k == len(units) - 1
        if last or abs(size) < limit:
            if rounded:
                size = _div_trunc(size + (1 if size > 0 else -1), 2)
            return f"{size} {name}"
        nxt = units[k + 1]
        shift = nxt[3] - bits - (1 if nxt[2] else 0) + (1 if rounded else 0)
        size = _div_trunc(size, 1 << shift)
    raise AssertionError("unreachable")


def _div_trunc(a: int, b: int) -> int:
    """C's integer division (toward zero), which PostgreSQL's arithmetic uses."""
    q = abs(a) // b
    return q if a >= 0 else -q


def view_definition(sql: str, root=None, pretty: bool = False) -> str:
    """pg_get_viewdef's text of a stored view query: as PostgreSQL prints it for the shapes
    catalog/pg_viewdef.py knows (``root`` given), else the query as the engine keeps it
    (normalised by sqlglot) with a leading space and a trailing ``;``. A table of another
    schema is stored by its key, aliased by its bare name (sql/schemas.py: ``"s.t" AS t``):
    shown as written, ``s.t``."""
    if root is not None:
        from .pg_viewdef import pretty_viewdef     # (sqlglot: not on a first session's path)
        text = pretty_viewdef(sql, root.tables, root.auth.schemas, pretty)
        if text is not None:
            return text
    if '"' in sql:
        sql = _KEYED.sub(lambda m: m.group(1) + "." + m.group(2), sql)
    return f" {sql};"


_KEYED = re.compile(r'"([a-z_][a-z0-9_$]*)\.([a-z_][a-z0-9_$]*)" AS \2\b')


def view_defs(root, pretty: bool = False) -> dict[int, str]:
    """view or materialized view oid -> its definition, for pg_get_viewdef(oid [, pretty])."""
    out = {relation_oid("r", name): view_definition(v.sql, root, pretty)
           for name, v in root.views.items()}
    for name, version in root.tables.items():
        if version.schema.matview_sql is not None:
            out[relation_oid("r", name)] = view_definition(version.schema.matview_sql, root,
                                                           pretty)
    return out


def index_columns(root, pretty: bool = True) -> dict[tuple[int, int], str]:
    """(index oid, key position from 1) -> the key's column name: what
    ``pg_get_indexdef(oid, n, pretty)`` prints for n > 0 (psql's ``\\d idx``, pretty;
    pgjdbc's getIndexInfo, not: an expression that is no call gets a second pair of
    parentheses, ``((a + b))``)."""
    out = {}
    for version in root.tables.values():
        s = version.schema
        for ix in (*s.uniques, *s.indexes):
            parts = [text if pos is not None else
                     deparse_wrapped(text) if pretty or _is_call(text) else
                     f"({deparse_wrapped(text)})"
                     for text, pos in index_key_parts(s, ix)] + [
                s.columns[i].name for i in getattr(ix, "include", ())]
            for k, text in enumerate(parts):
                out[(relation_oid("i", ix.name), k + 1)] = text
    return out


# pg_index.indoption -> how pg_get_indexdef prints it after the key part
_ORDER = {0: "", 1: " DESC NULLS LAST", 2: " NULLS FIRST", 3: " DESC"}


def index_defs(root, pretty: bool = False) -> dict[int, str]:
    """index oid -> ``CREATE [UNIQUE] INDEX name ON public.t USING btree (cols)``; with
    ``pretty`` (pg_get_indexdef(oid, 0, true): psql's ``\\d``) one level of parentheses
    less around expressions and the predicate, as PostgreSQL prints it."""
    out = {}
    for name, version in sorted(root.tables.items()):
        s = version.schema
        for ix in list(s.uniques) + list(s.indexes):
            unique = getattr(ix, "primary", False) or getattr(ix, "unique", True)
            method = getattr(ix, "method", "btree")
            # a key that is not a column or a call gets parentheses of its own: ((a + b)),
            # pretty: (a + b)
            options = getattr(ix, "options", ()) or (0,) * len(index_key_parts(s, ix))
            cols = ", ".join((text if pos is not None or _is_call(text) else
                              f"({text if pretty else deparse_wrapped(text)})") + _ORDER[o]
                             for (text, pos), o in zip(index_key_parts(s, ix), options))
            include = getattr(ix, "include", ())
            if include:
                cols += ") INCLUDE (" + ", ".join(s.columns[i].name for i in include)
            pred = getattr(ix, "predicate", None)
            where = "" if pred is None else f" WHERE {pred if pretty else deparse_wrapped(pred)}"
            nulls = " NULLS NOT DISTINCT" if ix.nulls_not_distinct else ""
            schema, bare = split(name, root.auth.schemas)
            out[relation_oid("i", ix.name)] = (f"CREATE {'UNIQUE ' if unique else ''}INDEX "
                                              f"{split(ix.name, root.auth.schemas)[1]} ON "
                                              f"{schema}.{bare} USING {method} ({cols})"
                                              f"{nulls}{where}")
    return out


# pg_index.indclass holds 0 for every key column, so no operator class is ever looked up.
_table("pg_opclass", "oid opcmethod opcname opcnamespace opcowner opcfamily opcintype "
                     "opcdefault opckeytype", _empty,
       _typed("I: oid opcmethod opcnamespace opcowner opcfamily opcintype opckeytype; "
              "B: opcdefault"))


# The open cursors of the session asking (server/cursors.py keeps them for the wire
# session: ``Session.open_cursors``); an embedded session has none.
register_virtual_table(VirtualTable(
    SCHEMA, "pg_cursors", (("name", T), ("statement", T), ("is_holdable", types.BOOLEAN),
                           ("is_binary", types.BOOLEAN), ("is_scrollable", types.BOOLEAN),
                           ("creation_time", types.TIMESTAMP)),
    _empty, session_rows="open_cursors"), searched=True)


# The locks held and awaited in the asking session's database: advisory locks only
# (advisory.py; row locks are claims checked at commit, not locks anyone waits on).
register_virtual_table(VirtualTable(
    SCHEMA, "pg_locks", tuple((c, {"I": I, "B": B}.get(k, T if k == "T" else
                                                        types.TIMESTAMPTZ))
                              for c, k in (
        ("locktype", "T"), ("database", "I"), ("relation", "I"), ("page", "I"),
        ("tuple", "I"), ("virtualxid", "T"), ("transactionid", "I"), ("classid", "I"),
        ("objid", "I"), ("objsubid", "I"), ("virtualtransaction", "T"), ("pid", "I"),
        ("mode", "T"), ("granted", "B"), ("fastpath", "B"), ("waitstart", "Z"))),
    _empty, session_rows="lock_rows"), searched=True)


# Statistics views monitoring tools read (pgAdmin, DBeaver, Metabase). Only the live row
# counts are kept; the scan and tuple counters PostgreSQL's collector keeps are 0.
_STAT_TABLE_COLUMNS = (
    ("relid", I), ("schemaname", T), ("relname", T), ("seq_scan", I), ("seq_tup_read", I),
    ("idx_scan", I), ("idx_tup_fetch", I), ("n_tup_ins", I), ("n_tup_upd", I),
    ("n_tup_del", I), ("n_tup_hot_upd", I), ("n_live_tup", I), ("n_dead_tup", I),
    ("n_mod_since_analyze", I), ("n_ins_since_vacuum", I), ("last_vacuum", types.TIMESTAMPTZ),
    ("last_autovacuum", types.TIMESTAMPTZ), ("last_analyze", types.TIMESTAMPTZ),
    ("last_autoanalyze", types.TIMESTAMPTZ), ("vacuum_count", I), ("autovacuum_count", I),
    ("analyze_count", I), ("autoanalyze_count", I))


def _stat_tables(snap):
    for name, version in visible_tables(snap):
        s = version.schema
        if s.matview_sql is not None:
            continue
        schema, bare = split(name, snap.root.auth.schemas)
        indexed = bool(s.uniques or s.indexes)
        yield (relation_oid("r", name), schema, bare, 0, 0, 0 if indexed else None,
               0 if indexed else None, 0, 0, 0, 0, version.live_rows, 0, 0, 0,
               None, None, None, None, 0, 0, 0, 0)


for _view in ("pg_stat_user_tables", "pg_stat_all_tables"):
    register_virtual_table(VirtualTable(SCHEMA, _view, _STAT_TABLE_COLUMNS, _stat_tables),
                           searched=True)

# One row per live session of the asking session's database (backends.py): the wire
# server's clients and embedded connections alike.
register_virtual_table(VirtualTable(
    SCHEMA, "pg_stat_activity", tuple((c, {"I": I, "Z": types.TIMESTAMPTZ,
                                           "N": types.INET}.get(k, T))
                                      for c, k in (
        ("datid", "I"), ("datname", "T"), ("pid", "I"), ("leader_pid", "I"),
        ("usesysid", "I"), ("usename", "T"), ("application_name", "T"),
        ("client_addr", "N"), ("client_hostname", "T"), ("client_port", "I"),
        ("backend_start", "Z"), ("xact_start", "Z"), ("query_start", "Z"),
        ("state_change", "Z"), ("wait_event_type", "T"), ("wait_event", "T"),
        ("state", "T"), ("backend_xid", "I"), ("backend_xmin", "I"), ("query_id", "I"),
        ("query", "T"), ("backend_type", "T"))),
    _empty, session_rows="activity_rows"), searched=True)

register_virtual_table(VirtualTable(
    SCHEMA, "pg_stat_database", tuple((c, {"T": T, "Z": types.TIMESTAMPTZ,
                                           "F": F}.get(k, I)) for c, k in (
        ("datid", "I"), ("datname", "T"), ("numbackends", "I"), ("xact_commit", "I"),
        ("xact_rollback", "I"), ("blks_read", "I"), ("blks_hit", "I"),
        ("tup_returned", "I"), ("tup_fetched", "I"), ("tup_inserted", "I"),
        ("tup_updated", "I"), ("tup_deleted", "I"), ("conflicts", "I"),
        ("temp_files", "I"), ("temp_bytes", "I"), ("deadlocks", "I"),
        ("checksum_failures", "I"), ("checksum_last_failure", "Z"), ("blk_read_time", "F"),
        ("blk_write_time", "F"), ("session_time", "F"), ("active_time", "F"),
        ("idle_in_transaction_time", "F"), ("sessions", "I"), ("sessions_abandoned", "I"),
        ("sessions_fatal", "I"), ("sessions_killed", "I"), ("stats_reset", "Z"))),
    _empty, session_rows="database_stat_rows"), searched=True)


def _tablespaces(snap):
    yield 1663, "pg_default", ROLE_OID, None, None
    yield 1664, "pg_global", ROLE_OID, None, None


_table("pg_tablespace", "oid spcname spcowner spcacl spcoptions", _tablespaces,
       _typed("I: oid spcowner; TA: spcacl spcoptions"))


# Catalogs of features the engine does not have, empty but with PostgreSQL's columns so
# that psql's \d queries (which join them) run.
for _name, _cols, _spec in (
        ("pg_policy", "oid polname polrelid polcmd polpermissive polroles polqual polwithcheck",
         "I: oid polrelid; B: polpermissive; IA: polroles"),
        ("pg_statistic_ext", "oid stxrelid stxname stxnamespace stxowner stxstattarget stxkeys "
                             "stxkind stxexprs",
         "I: oid stxrelid stxnamespace stxowner stxstattarget; IA: stxkeys; TA: stxkind"),
        ("pg_publication", "oid pubname pubowner puballtables pubinsert pubupdate pubdelete "
                           "pubtruncate pubviaroot",
         "I: oid pubowner; B: puballtables pubinsert pubupdate pubdelete pubtruncate "
         "pubviaroot"),
        ("pg_publication_rel", "oid prpubid prrelid prqual prattrs",
         "I: oid prpubid prrelid; IA: prattrs"),
        ("pg_publication_namespace", "oid pnpubid pnnspid", "I: oid pnpubid pnnspid"),
        ("pg_trigger", "oid tgrelid tgparentid tgname tgfoid tgtype tgenabled tgisinternal "
                       "tgconstrrelid tgconstrindid tgconstraint tgdeferrable tginitdeferred "
                       "tgnargs tgattr tgargs tgqual tgoldtable tgnewtable",
         "I: oid tgrelid tgparentid tgfoid tgtype tgconstrrelid tgconstrindid tgconstraint "
         "tgnargs; B: tgisinternal tgdeferrable tginitdeferred; IA: tgattr"),
        ("pg_rewrite", "oid rulename ev_class ev_type ev_enabled is_instead ev_qual ev_action",
         "I: oid ev_class; B: is_instead"),
        ("pg_foreign_table", "ftrelid ftserver ftoptions", "I: ftrelid ftserver; TA: ftoptions"),
        # nothing of these kinds exists here; psql's \dx \dc \dy \des \dew \dF \drds
        # \do \dC list them (empty, as a fresh PostgreSQL database without plpgsql would)
        # no operator families beyond the built-in ones (psql's \dd lists their comments)
        ("pg_opfamily", "oid opfmethod opfname opfnamespace opfowner",
         "I: oid opfmethod opfnamespace opfowner"),
        ("pg_extension", "oid extname extowner extnamespace extrelocatable extversion "
                         "extconfig extcondition",
         "I: oid extowner extnamespace; B: extrelocatable; IA: extconfig; TA: extcondition"),
        ("pg_conversion", "oid conname connamespace conowner conforencoding contoencoding "
                          "conproc condefault",
         "I: oid connamespace conowner conforencoding contoencoding; B: condefault"),
        ("pg_event_trigger", "oid evtname evtevent evtowner evtfoid evtenabled evttags",
         "I: oid evtowner evtfoid; TA: evttags"),
        ("pg_foreign_data_wrapper", "oid fdwname fdwowner fdwhandler fdwvalidator fdwacl "
                                    "fdwoptions",
         "I: oid fdwowner fdwhandler fdwvalidator; TA: fdwacl fdwoptions"),
        ("pg_foreign_server", "oid srvname srvowner srvfdw srvtype srvversion srvacl "
                              "srvoptions",
         "I: oid srvowner srvfdw; TA: srvacl srvoptions"),
        ("pg_user_mapping", "oid umuser umserver umoptions", "I: oid umuser umserver; "
                                                             "TA: umoptions"),
        ("pg_ts_config", "oid cfgname cfgnamespace cfgowner cfgparser",
         "I: oid cfgnamespace cfgowner cfgparser"),
        ("pg_ts_parser", "oid prsname prsnamespace prsstart prstoken prsend prsheadline "
                         "prslextype", "I: oid prsnamespace"),
        ("pg_ts_dict", "oid dictname dictnamespace dictowner dicttemplate dictinitoption",
         "I: oid dictnamespace dictowner dicttemplate"),
        ("pg_ts_template", "oid tmplname tmplnamespace tmplinit tmpllexize",
         "I: oid tmplnamespace"),
        ("pg_operator", "oid oprname oprnamespace oprowner oprkind oprcanmerge oprcanhash "
                        "oprleft oprright oprresult oprcom oprnegate oprcode oprrest oprjoin",
         "I: oid oprnamespace oprowner oprleft oprright oprresult oprcom oprnegate; "
         "B: oprcanmerge oprcanhash"),
        ("pg_cast", "oid castsource casttarget castfunc castcontext castmethod",
         "I: oid castsource casttarget castfunc"),
        ("pg_partitioned_table", "partrelid partstrat partnatts partdefid partattrs partclass "
                                 "partcollation partexprs",
         "I: partrelid partnatts partdefid; IA: partattrs partclass partcollation"),
        # psql's \\deu, \\dRs, \\dAo, \\dAp, \\dl (\\lo_list) read these
        ("pg_user_mappings", "umid srvid srvname umuser usename umoptions",
         "I: umid srvid umuser; TA: umoptions"),
        ("pg_subscription", "oid subdbid subskiplsn subname subowner subenabled subbinary "
                            "substream subtwophasestate subdisableonerr subconninfo "
                            "subslotname subsynccommit subpublications",
         "I: oid subdbid subowner; B: subenabled subbinary substream subdisableonerr; "
         "TA: subpublications"),
        ("pg_amop", "oid amopfamily amoplefttype amoprighttype amopstrategy amoppurpose "
                    "amopopr amopmethod amopsortfamily",
         "I: oid amopfamily amoplefttype amoprighttype amopstrategy amopopr amopmethod "
         "amopsortfamily"),
        ("pg_amproc", "oid amprocfamily amproclefttype amprocrighttype amprocnum amproc",
         "I: oid amprocfamily amproclefttype amprocrighttype amprocnum amproc"),
        ("pg_largeobject_metadata", "oid lomowner lomacl", "I: oid lomowner; TA: lomacl")):
    _table(_name, _cols, _empty, _typed(_spec))
