"""``json[b]_to_record(doc) AS x(a int, b text)`` and ``json[b]_to_recordset(docs) AS
x(...)``: JSON objects as rows of the columns the definition list names.

Each is bound as the query PostgreSQL's definition amounts to: a field per column,
read by name from the object (``->`` for a json/jsonb column, else ``->>`` cast to the
column's type, so a value that does not fit is the cast's own 22P02); a missing key is
NULL. The recordset form reads the array's elements (``jsonb_array_elements``). A
column of an earlier FROM item may be the argument, as for any function in FROM.

``json[b]_populate_record(null::t, doc)`` and ``_recordset`` are the same with the
fields of composite type ``t`` (composite.py) as the definition list; in the select
list, the record one is ``ROW(<those fields>)::t``.
"""
from __future__ import annotations

from sqlglot import exp

from ... import composite, errors, types
from ..parse import parse_one
from .type_modifiers import composite_of

# name -> whether it reads an array of objects (a set of records)
RECORD_FUNCTIONS = {"jsonb_to_recordset": True, "json_to_recordset": True,
                    "jsonb_to_record": False, "json_to_record": False}
_ELEMENT = '"?record"'


def is_record_function(func: exp.Expression) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() in RECORD_FUNCTIONS


# json[b]_populate_record(set)(base, doc): name -> whether it reads a set of records
POPULATE_FUNCTIONS = {"jsonb_populate_recordset": True, "json_populate_recordset": True,
                      "jsonb_populate_record": False, "json_populate_record": False}


def is_populate_function(func: exp.Expression) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() in POPULATE_FUNCTIONS


def populate_target(stmt, func: exp.Anonymous) -> str:
    """The composite type a populate call fills: its first argument must be a NULL of
    the type (``null::t``), as applications write it; another base record is 0A000."""
    name = func.name.lower()
    if len(func.expressions) != 2:
        raise errors.undefined_function(f"function {name} with {len(func.expressions)} "
                                        "arguments does not exist")
    base = func.expressions[0]
    target = composite_of(stmt.root, base.to, stmt.deps) if isinstance(base, exp.Cast) \
        else None
    if target is None or not isinstance(base.this, exp.Null):
        raise errors.not_supported(f"{name} with a base other than NULL of a composite type",
                                   hint=f"Write {name}(null::t, doc), t a composite type "
                                        "or a table.")
    return target


def populate_query(stmt, func: exp.Anonymous) -> tuple[exp.Select, list[str]]:
    """``json[b]_populate_record(set)(null::t, doc)`` as the json[b]_to_record(set) query
    of t's fields, and those fields' names."""
    target = populate_target(stmt, func)
    name = func.name.lower().replace("_populate_", "_to_")
    columns = [exp.ColumnDef(this=exp.to_identifier(f, quoted=True),
                             kind=parse_one(f"SELECT CAST(NULL AS {_type_sql(t)})")
                             .expressions[0].to)
               for f, t in composite.fields_of(target)]
    call = exp.Anonymous(this=name, expressions=[func.expressions[1].copy()])
    alias = exp.TableAlias(this=exp.to_identifier("?populate"), columns=columns)
    return record_query(call, alias), [f for f, _ in composite.fields_of(target)]


def populate_value(stmt, func: exp.Anonymous) -> exp.Expression:
    """``json[b]_populate_record(null::t, doc)`` in an expression: ``ROW(...)::t`` of
    the fields read from the object (as the FROM form reads them)."""
    if POPULATE_FUNCTIONS[func.name.lower()]:
        raise errors.not_supported(f"{func.name.lower()} in the select list",
                                   hint=f"Call it in FROM: SELECT * FROM {func.name.lower()}"
                                        "(null::t, doc).")
    target = populate_target(stmt, func)
    query, _names = populate_query(stmt, func)
    fields = [e.this if isinstance(e, exp.Alias) else e for e in query.expressions]
    return exp.Cast(this=exp.Anonymous(this="row", expressions=fields),
                    to=func.expressions[0].to.copy())


def _type_sql(sql_type: str) -> str:
    if composite.is_record(sql_type):
        return '"' + composite.type_name(sql_type).replace('"', '""') + '"'
    return types.sql_name(sql_type)


def record_query(func: exp.Anonymous, alias: exp.TableAlias | None) -> exp.Select:
    """The SELECT that ``func`` with ``alias``'s column definition list stands for."""
    name = func.name.lower()
    columns = alias.columns if alias is not None else []
    if not columns or not all(isinstance(c, exp.ColumnDef) and c.args.get("kind") is not None
                              for c in columns):
        raise errors.syntax_error(
            'a column definition list is required for functions returning "record"',
            hint=f"{name}(...) AS x(a integer, b text)")
    if len(func.expressions) != 1:
        raise errors.undefined_function(f"function {name} with {len(func.expressions)} "
                                        "arguments does not exist")
    doc = func.expressions[0].sql(dialect="postgres")
    # the json_ forms read json (a field keeps its text as written), the jsonb_ ones jsonb
    doc = f"CAST({doc} AS {'JSONB' if name.startswith('jsonb') else 'JSON'})"
    many = RECORD_FUNCTIONS[name]
    source = _ELEMENT if many else f"({doc})"
    items = []
    for column in columns:
        key = "'" + column.name.replace("'", "''") + "'"
        type_sql = column.args["kind"].sql(dialect="postgres")
        if type_sql.upper() in ("JSON", "JSONB"):
            value = f"({source} -> {key})::{type_sql}"
        else:
            value = f"({source} ->> {key})::{type_sql}"
        items.append(f'{value} AS "{column.name.replace(chr(34), chr(34) * 2)}"')
    sql = "SELECT " + ", ".join(items)
    if many:
        elements = "jsonb_array_elements" if name.startswith("jsonb") else "json_array_elements"
        sql += f' FROM {elements}({doc}) AS "?records"({_ELEMENT})'
    return parse_one(sql)
