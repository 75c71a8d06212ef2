"""What a GRANT or REVOKE names: its objects, resolved, and the privileges each may take.

PostgreSQL reads the object kind from the statement (``ON TABLE``, ``ON SEQUENCE``,
``ON FUNCTION f(int)``, ``ON ALL SEQUENCES IN SCHEMA s``) and checks the privileges
named against it before touching anything: one a kind does not have is ``0LP01
invalid privilege type X for sequence`` (``for function``, ``for schema``; ``for
relation`` under ON TABLE, which takes a table's and a sequence's). Objects resolve
to the keys of the roles catalog (storage/roles.py): ``("table", name)`` for tables,
views and sequences (all relations, as in pg_class), ``("function", name)``,
``("schema", name)``.

Two PostgreSQL quirks kept: ``GRANT ... ON [TABLE] s`` of a sequence grants what a
sequence has and warns (``sequence "s" only supports USAGE, SELECT, and UPDATE
privileges``) about the rest, while USAGE on a table is an error (``for table``);
and a function is named with its argument types, whose words may include a
parameter name and mode (``f(IN x int)``), matched against the declared ones.
"""
from __future__ import annotations

from .. import errors, notices, types
from ..catalog.pg_catalog import format_type, type_oid
from ..sql.schemas import check_qualified
from ..storage.namespaces import PUBLIC as PUBLIC_SCHEMA, in_schema
from ..storage.root import is_temporary
from ..storage.roles import (FUNCTION_PRIVS, SCHEMA_PRIVS, SEQUENCE_PRIVS, TABLE_PRIVS)

# ON TABLE takes both kinds' privileges; each object then keeps those of its own kind
RELATION_PRIVS = TABLE_PRIVS + ("USAGE",)
_MODES = ("in", "out", "inout", "variadic")


def need_schema(root, name: str) -> None:
    if name != PUBLIC_SCHEMA and name not in root.auth.schemas:
        raise errors.sql_error("3F000", f'schema "{name}" does not exist')


def allowed_privileges(target: str) -> tuple[tuple, str]:
    """The privileges a target kind takes and its word in PostgreSQL's 0LP01 message."""
    if target in ("schema", "schemas"):
        return SCHEMA_PRIVS, "schema"
    if target in ("sequence", "all_sequences", "sequences"):
        return SEQUENCE_PRIVS, "sequence"
    if target in ("function", "routine", "procedure", "all_functions", "all_procedures",
                  "functions"):
        return FUNCTION_PRIVS, "function" if target != "procedure" else "procedure"
    if target == "tables":          # ALTER DEFAULT PRIVILEGES ... ON TABLES
        return TABLE_PRIVS, "relation"
    return RELATION_PRIVS, "relation"


def privileges(stmt) -> list[str]:
    """The privileges a GRANT/REVOKE names (ALL spelled out for its kind), 0LP01 for one
    the kind does not have."""
    allowed, word = allowed_privileges(stmt.target)
    if stmt.privileges == ["ALL"]:
        return list(TABLE_PRIVS if allowed is RELATION_PRIVS else allowed)
    for p in stmt.privileges:
        if p not in allowed:
            raise errors.sql_error("0LP01", f"invalid privilege type {p} for {word}")
    return list(dict.fromkeys(stmt.privileges))


def for_object(root, kind: str, name: str, privs: list, all_privs: bool) -> list[str]:
    """The privileges ``privs`` (of a statement ON TABLE) that relation ``name`` takes:
    a sequence's with a WARNING for the others, a table's with 0LP01 for USAGE."""
    if kind != "table":
        return privs
    if name in root.sequences:
        if all_privs:
            return list(SEQUENCE_PRIVS)
        if any(p not in SEQUENCE_PRIVS for p in privs):
            notices.emit(f'sequence "{name.rsplit(".", 1)[-1]}" only supports USAGE, '
                         "SELECT, and UPDATE privileges", "0LP01", "WARNING")
        return [p for p in privs if p in SEQUENCE_PRIVS]
    for p in privs:
        if p not in TABLE_PRIVS:
            raise errors.sql_error("0LP01", f"invalid privilege type {p} for table")
    return privs


def targets(stmt, root) -> list[tuple[str, str]]:
    """The (kind, name) keys a GRANT/REVOKE names, each existing (42P01, 42809, 42883,
    3F000 otherwise)."""
    schemas = root.auth.schemas
    if stmt.target == "schema":
        for s in stmt.objects:
            need_schema(root, s)
        return [("schema", s) for s in stmt.objects]
    if stmt.target.startswith("all_"):
        pool = {"all_tables": {*root.tables, *root.views}, "all_sequences": root.sequences,
                "all_functions": root.functions, "all_procedures": ()}[stmt.target]
        kind = "function" if stmt.target in ("all_functions", "all_procedures") else "table"
        out = []
        for s in stmt.objects:
            need_schema(root, s)
            out.extend((kind, n) for n in sorted(in_schema(pool, s, schemas))
                       if not is_temporary(n))
        return out
    if stmt.target in ("function", "routine", "procedure"):
        return [("function", routine(root, stmt.target, name, args))
                for name, args in stmt.objects]
    out = []
    for n in stmt.objects:
        check_qualified(root, n)
        relation = n in root.tables or n in root.views
        if not relation and n not in root.sequences:
            raise errors.sql_error("42P01", f'relation "{n}" does not exist')
        if stmt.target == "sequence" and relation:
            raise errors.sql_error("42809", f'"{n.rsplit(".", 1)[-1]}" is not a sequence')
        out.append(("table", n))
    return out


def signature(root, name: str) -> str:
    """Function ``name`` as PostgreSQL names it in messages: ``f(bigint, text)``."""
    fn = root.functions.get(name)
    return _shown(name, [t for _, t in fn.params] if fn is not None else ())


def routine(root, target: str, name: str, args) -> str:
    """The function ``name(args)`` names (``args`` None: the only one of that name)."""
    typed = None if args is None else [t for t in (_arg_type(a) for a in args)
                                       if t is not None]
    wanted = None if typed is None else [t for t, _written in typed]
    fn = root.functions.get(name)
    if fn is not None and wanted is not None and [t for _, t in fn.params] != wanted:
        fn = None
    if target == "procedure":
        # there are no procedures here: a function so named is PostgreSQL's 42809
        if fn is not None:
            shown = signature(root, name) if typed is None else _written(name, typed)
            raise errors.sql_error("42809", f"{shown} is not a procedure")
        raise errors.sql_error("42883", f"procedure {_written(name, typed)} does not exist")
    if fn is None:
        if args is None:
            raise errors.sql_error("42883", f'could not find a function named "{name}"')
        raise errors.sql_error("42883", f"function {_written(name, typed)} does not exist")
    return name


def _arg_type(text: str) -> tuple[str, str] | None:
    """An argument's type from its words (``IN x int``: INTEGER) and those words of it;
    None for OUT ones, which are no part of a signature."""
    words = text.split()
    if words and words[0].lower() in _MODES:
        if words[0].lower() == "out":
            return None
        words = words[1:]
    try:
        return types.normalize_type_name(" ".join(words)), " ".join(words)
    except errors.Error:
        if len(words) < 2:
            raise
        # the first word is the parameter's name
        return types.normalize_type_name(" ".join(words[1:])), " ".join(words[1:])


# PostgreSQL's names of the spellings of its types that rustmemodb folds into one
# (``int`` and ``bigint`` are both INTEGER here): a message names the type as written
_PG_NAMES = {"int": "integer", "int4": "integer", "integer": "integer", "int8": "bigint",
             "bigint": "bigint", "int2": "smallint", "smallint": "smallint",
             "float8": "double precision", "float4": "real", "real": "real",
             "numeric": "numeric", "decimal": "numeric", "bool": "boolean",
             "varchar": "character varying"}


def _written(name: str, typed) -> str:
    """``f(integer, text)``: a signature as asked for, in PostgreSQL's type names."""
    return f"{name}(" + ", ".join(_PG_NAMES.get(w.lower()) or format_type(type_oid(t))
                                  or t.lower() for t, w in typed or ()) + ")"


def _shown(name: str, wanted) -> str:
    return f"{name}({', '.join(format_type(type_oid(t)) or t.lower() for t in wanted or ())})"
