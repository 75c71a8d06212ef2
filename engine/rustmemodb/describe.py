"""DuckDB's catalog questions a notebook asks first: DESCRIBE, SHOW TABLES, SUMMARIZE.

``DESCRIBE t`` (or ``DESCRIBE SELECT ...``, or ``SHOW t`` for a name that is not a
setting) lists a relation's columns; ``SHOW TABLES`` the relations a query can name;
``SUMMARIZE t`` (or a query) profiles every column in one aggregate pass. They are
utility statements (sql/dispatch.py peels them off by their first word) answered from
the bound plan of ``SELECT * FROM <target>``, so tables, views and registered
DataFrames are described alike, with the caller's privileges. Types are printed as
PostgreSQL's ``format_type`` prints them (psql's ``\\d`` shows the same), not in
DuckDB's spelling.
"""
from __future__ import annotations

import re

from . import errors, types
from .catalog.pg_catalog import column_type, format_type, type_oid
from .exec.functions.quoting import quote_ident
from .result import Result

_T, _I = types.TEXT, types.INTEGER

# The first word of a query, as opposed to a relation's name.
_QUERY = re.compile(r"\s*(\(|select\b|with\b|values\b|from\b|table\b)", re.I)
# A relation's name: plain or quoted, optionally schema-qualified.
_NAME = re.compile(r'\s*(?:(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*\.\s*)?'
                   r'("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*$')

DESCRIBE_COLUMNS = [("column_name", _T), ("column_type", _T), ("null", _T), ("key", _T),
                    ("default", _T), ("extra", _T)]
SUMMARIZE_COLUMNS = [("column_name", _T), ("column_type", _T), ("min", _T), ("max", _T),
                     ("approx_unique", _I), ("avg", _T), ("std", _T), ("q25", _T),
                     ("q50", _T), ("q75", _T), ("count", _I), ("null_percentage", types.FLOAT)]

_NUMERIC = {types.INTEGER, types.FLOAT, "NUMERIC"}
_ORDERED = _NUMERIC | {types.TEXT, types.DATE, types.TIMESTAMP, "TIMESTAMPTZ", "TIME",
                       types.INTERVAL, "UUID", types.BYTEA}


def _source(target: str) -> tuple[str, str | None]:
    """(query text whose output is described, stored relation name or None)."""
    if not target.strip():
        raise errors.syntax_error("DESCRIBE and SUMMARIZE need a table name or a query",
                                  hint="For example: DESCRIBE my_table")
    if _QUERY.match(target):
        return target, None
    m = _NAME.match(target)
    if m is None:
        raise errors.syntax_error(f"syntax error at or near {target.split()[0]!r}: expected "
                                  "a table name or a query")
    part = m.group(1)
    name = part[1:-1].replace('""', '"') if part.startswith('"') else part.lower()
    return f"SELECT * FROM {target}", name


def _output_columns(session, query: str) -> list[tuple[str, str]]:
    prepared = session._prepare(query)
    if prepared.plan is None or prepared.bound.kind != "SELECT":
        raise errors.sql_error("42809", "only a table, view or query can be described")
    return list(prepared.plan.columns)


def _stored(session, name: str | None):
    """The stored table's version when the target names one, else None."""
    return session._catalog_root().tables.get(name) if name is not None else None


def _type_names(version, columns: list) -> list[str]:
    """Column types as printed: a stored column's with its modifier (numeric(10,2))."""
    if version is not None:
        return [format_type(*column_type(c)) for c in version.schema.columns]
    return [format_type(type_oid(t)) for _, t in columns]


def describe(session, target: str) -> Result:
    query, name = _source(target)
    columns = _output_columns(session, query)
    version = _stored(session, name)
    if version is None:
        rows = [(n, t, "YES", None, None, None)
                for (n, _), t in zip(columns, _type_names(None, columns))]
    else:
        schema = version.schema
        keys = {}
        for u in schema.uniques:
            for i in u.columns:
                keys.setdefault(i, "PRI" if u.primary else "UNI")
        rows = [(c.name, t, "NO" if c.not_null else "YES", keys.get(i), c.default_sql, None)
                for i, (c, t) in enumerate(zip(schema.columns, _type_names(version, columns)))]
    return Result(DESCRIBE_COLUMNS, rows=rows, rowcount=len(rows), kind="SELECT")


def show_tables(session) -> Result:
    """Every relation a query can name: tables, views and registered DataFrames."""
    root = session._catalog_root()
    names = set(root.tables) | set(root.views)
    connection = session.connection
    if connection is not None:
        names |= set(connection._registered)
    rows = [(n,) for n in sorted(names)]
    return Result([("name", _T)], rows=rows, rowcount=len(rows), kind="SELECT")


def summarize(session, target: str) -> Result:
    """Per column: min, max, distinct count, mean, standard deviation, quartiles, rows
    and the share of NULLs, from one aggregate query over the target."""
    query, name = _source(target)
    columns = _output_columns(session, query)
    type_names = _type_names(_stored(session, name), columns)
    if not columns:
        return Result(SUMMARIZE_COLUMNS, rows=[], rowcount=0, kind="SELECT")
    exprs = ["count(*)"]
    for i, (name, t) in enumerate(columns):
        c = f"s.{quote_ident(name)}"
        ordered, numeric = t in _ORDERED, t in _NUMERIC
        exprs += [
            f"min({c})::text" if ordered else "NULL::text",
            f"max({c})::text" if ordered else "NULL::text",
            f"count(DISTINCT {c})" if ordered or t == types.BOOLEAN else "NULL::bigint",
            f"avg({c}::float8)::text" if numeric else "NULL::text",
            f"stddev_samp({c}::float8)::text" if numeric else "NULL::text",
            *(f"percentile_cont({q}) WITHIN GROUP (ORDER BY {c}::float8)::text" if numeric
              else f"percentile_disc({q}) WITHIN GROUP (ORDER BY {c})::text" if ordered
              else "NULL::text" for q in (0.25, 0.5, 0.75)),
            f"count({c})",
        ]
    stats = session.execute(f"SELECT {', '.join(exprs)} FROM ({query}) AS s").arrow()
    values = [stats.column(i)[0].as_py() for i in range(stats.num_columns)]
    total, rows = values[0], []
    for i, (name, t) in enumerate(columns):
        got = values[1 + 9 * i: 1 + 9 * (i + 1)]
        nulls = total - got[8]
        share = round(100.0 * nulls / total, 2) if total else 0.0
        rows.append((name, type_names[i], *got[:8], total, share))
    return Result(SUMMARIZE_COLUMNS, rows=rows, rowcount=len(rows), kind="SELECT")
