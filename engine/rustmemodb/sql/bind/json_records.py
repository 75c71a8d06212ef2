"""``json[b]_to_record(doc) AS x(a int, b text)`` and ``json[b]_to_recordset(docs) AS
x(...)``: JSON objects as rows of the columns the definition list names.

Each is bound as the query PostgreSQL's definition amounts to: a field per column,
read by name from the object (``->`` for a json/jsonb column, else ``->>`` cast to the
column's type, so a value that does not fit is the cast's own 22P02); a missing key is
NULL. The recordset form reads the array's elements (``jsonb_array_elements``). A
column of an earlier FROM item may be the argument, as for any function in FROM.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from ..parse import parse_one

# name -> whether it reads an array of objects (a set of records)
RECORD_FUNCTIONS = {"jsonb_to_recordset": True, "json_to_recordset": True,
                    "jsonb_to_record": False, "json_to_record": False}
_ELEMENT = '"?record"'


def is_record_function(func: exp.Expression) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() in RECORD_FUNCTIONS


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
