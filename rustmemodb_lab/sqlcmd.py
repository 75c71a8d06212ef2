"""``%sqlcmd``: jupysql's helper commands, computed in the engine.

* ``%sqlcmd tables`` lists tables, views and snippets of the current branch
  (with row counts), or the tables of a SQLAlchemy connection;
* ``%sqlcmd columns -t T``: name, type, nullable, default, primary key;
* ``%sqlcmd profile -t T``: per column count, nulls, distinct, min, max,
  mean, std and the most frequent value with its frequency. Two queries,
  whatever the table's size or width: one row of aggregates over every column,
  and one ``UNION ALL`` of per-column ``GROUP BY ... ORDER BY count(*) DESC
  LIMIT 1``; only those two small results leave the engine (or the database
  of a SQLAlchemy connection: the SQL is portable to SQLite, DuckDB and
  PostgreSQL);
* ``%sqlcmd explore -t T``: a paged grid widget (``widgets/explore.py``);
  each page is a ``LIMIT/OFFSET`` query;
* ``%sqlcmd snippets [-d NAME]``: saved snippets (``--save``), or delete one.

``-t`` may name a table, a view, a DataFrame variable or a snippet;
``--with NAME`` adds snippets explicitly, as in ``%sql``.
"""

from __future__ import annotations

import argparse
import math
import shlex
from typing import Any

import pyarrow as pa

from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.source import Source

#: column types (base names, as rustmemodb and SQLAlchemy's inspectors spell them)
NUMERIC = {"INTEGER", "INT", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "FLOAT",
           "REAL", "DOUBLE", "DOUBLE PRECISION", "NUMERIC", "DECIMAL", "FLOAT4", "FLOAT8", "INT4", "INT8"}
UNORDERED = {"JSON", "JSONB", "JSONT", "BLOB", "BYTEA", "BINARY", "VARBINARY", "ARRAY", "MAP",
             "STRUCT", "LIST", "TSVECTOR", "TSQUERY"}   # (no min/max of these in PostgreSQL either)
NO_GROUPING = {"JSON", "JSONB", "JSONT", "ARRAY", "MAP", "STRUCT", "LIST"}


def base_type(sql_type: str) -> str:
    """``NUMERIC(8, 2)`` → ``NUMERIC``; ``VARCHAR(20)`` → ``VARCHAR``."""
    return sql_type.split("(")[0].strip().upper()


STATS = ["count", "nulls", "distinct", "min", "max", "mean", "std", "top", "freq"]

COMMANDS = ("tables", "columns", "profile", "explore", "snippets")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit the kernel
        raise LabUsageError(f"%sqlcmd: {message}")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="%sqlcmd", add_help=False,
                description="tables | columns -t T | profile -t T | explore -t T | snippets")
    p.add_argument("command", choices=COMMANDS)
    p.add_argument("-t", "--table", help="table, view, DataFrame variable or snippet")
    p.add_argument("-s", "--schema", help="schema of the table (SQLAlchemy connections)")
    p.add_argument("-o", "--output", metavar="NAME", help="store the result (a DataFrame) in NAME")
    p.add_argument("-w", "--with", dest="with_", action="append", metavar="NAME", help="snippet(s) to use")
    p.add_argument("-d", "--delete", metavar="NAME", help="with snippets: delete snippet NAME")
    p.add_argument("--page-size", type=int, default=10, help="with explore: rows per page")
    return p


def run_sqlcmd(line: str, ctx: Context) -> Any:
    """Parse and run one ``%sqlcmd`` line; the value to display."""
    try:
        args = parser().parse_args(shlex.split(line))
    except ValueError as exc:  # shlex: unbalanced quotes
        raise LabUsageError(f"%sqlcmd: {exc}") from None
    if args.command in ("columns", "profile", "explore") and not args.table:
        raise LabUsageError(f"%sqlcmd {args.command} needs a table: %sqlcmd {args.command} -t NAME")
    table = f"{args.schema}.{args.table}" if args.schema and args.table else args.table
    source = Source(ctx, [n.strip() for v in args.with_ or [] for n in v.split(",") if n.strip()])
    if args.command == "tables":
        value = ResultSet(source.tables(args.schema), displaylimit=None)
    elif args.command == "columns":
        value = columns(source, table)
    elif args.command == "profile":
        value = profile(source, table)
    elif args.command == "explore":
        from rustmemodb_lab.widgets.explore import Explorer

        if args.page_size < 1:
            raise LabUsageError("--page-size must be at least 1")
        return Explorer(source, table, page_size=args.page_size)
    else:
        value = snippets(ctx, source, args.delete)
    if args.output:
        if not args.output.isidentifier():
            raise LabUsageError(f"-o needs a Python variable name, not {args.output!r}")
        ctx.ns.user_ns[args.output] = value.profile_frame() if isinstance(value, Profile) else value.to_pandas()
    return value


def columns(source: Source, table: str) -> ResultSet:
    cols = source.columns(table)
    data = pa.table({
        "name": pa.array([c["name"] for c in cols], pa.string()),
        "type": pa.array([c["type"] for c in cols], pa.string()),
        "nullable": pa.array([c["nullable"] for c in cols], pa.bool_()),
        "default": pa.array([c["default"] for c in cols], pa.string()),
        "primary_key": pa.array([c["primary_key"] for c in cols], pa.bool_()),
    })
    return ResultSet(data, sql_types=["TEXT", "TEXT", "BOOLEAN", "TEXT", "BOOLEAN"], displaylimit=None)


def snippets(ctx: Context, source: Source, delete: str | None) -> ResultSet:
    store = ctx.session.snippets
    key = source._key()
    if delete:
        store.delete(key, delete)
    saved = store.of(key)
    data = pa.table({
        "snippet": pa.array(list(saved), pa.string()),
        "query": pa.array([s.sql for s in saved.values()], pa.string()),
        "uses": pa.array([", ".join(s.uses) for s in saved.values()], pa.string()),
    })
    return ResultSet(data, sql_types=["TEXT", "TEXT", "TEXT"], displaylimit=None)


# -- profile -------------------------------------------------------------------------------

class Profile(ResultSet):
    """The profile grid (stats as rows, the table's columns as columns)."""

    def __init__(self, table: pa.Table, values: dict[str, dict[str, Any]], name: str,
                 types: list[str] | None = None) -> None:
        # under each header: the profiled column's own type (the cells are text)
        super().__init__(table, sql_types=["", *(types or ["TEXT"] * (table.num_columns - 1))], displaylimit=None)
        self.values = values
        self.name = name

    def profile_frame(self) -> Any:
        """A pandas DataFrame (stats as index) with the values as Python objects."""
        import pandas as pd

        return pd.DataFrame({col: [stats.get(s) for s in STATS] for col, stats in self.values.items()},
                            index=pd.Index(STATS, name="stat"))


def profile(source: Source, table: str) -> Profile:
    cols = source.columns(table)
    if not cols:
        raise LabUsageError(f"{table} has no columns to profile")
    target = source.quote(table)
    aggregates = ["count(*) AS total"]
    for i, c in enumerate(cols):
        q, t = source.quote(c["name"]), base_type(c["type"])
        aggregates.append(f"count({q}) AS n{i}")
        if t not in NO_GROUPING:
            aggregates.append(f"count(DISTINCT {q}) AS d{i}")
        if t not in UNORDERED and not (source.dialect == "postgresql" and t in {"BOOLEAN", "UUID"}):
            aggregates += [f"min({q}) AS min{i}", f"max({q}) AS max{i}"]  # PostgreSQL has no min(bool/uuid)
        if t in NUMERIC:
            x = f"CAST({q} AS {source.double})"
            aggregates.append(f"avg({x}) AS mean{i}")
            aggregates.append(f"stddev_samp({x}) AS std{i}" if source.has_stddev else f"avg({x} * {x}) AS sq{i}")
    row = source.query(f"SELECT {', '.join(aggregates)} FROM {target}").to_pylist()[0]
    tops = {}
    groupable = [(i, c) for i, c in enumerate(cols) if base_type(c["type"]) not in NO_GROUPING]
    if groupable:
        # each member wrapped as a derived table: SQLite allows no ORDER BY/LIMIT in a bare member
        parts = [
            f"SELECT * FROM (SELECT {i} AS col, CAST({source.quote(c['name'])} AS TEXT) AS value, count(*) AS freq "
            f"FROM {target} WHERE {source.quote(c['name'])} IS NOT NULL GROUP BY {source.quote(c['name'])} "
            f"ORDER BY 3 DESC, 2 LIMIT 1) AS top{i}"
            for i, c in groupable
        ]
        for r in source.query(" UNION ALL ".join(parts)).to_pylist():
            tops[r["col"]] = (r["value"], r["freq"])
    total = row["total"]
    values: dict[str, dict[str, Any]] = {}
    for i, c in enumerate(cols):
        top, freq = tops.get(i, (None, None))
        values[c["name"]] = {
            "count": row[f"n{i}"], "nulls": total - row[f"n{i}"], "distinct": row.get(f"d{i}"),
            "min": row.get(f"min{i}"), "max": row.get(f"max{i}"),
            "mean": row.get(f"mean{i}"), "std": row.get(f"std{i}", _std_from_moments(row, i)),
            "top": top, "freq": freq,
        }
    arrays = [pa.array(STATS, pa.string())]
    arrays += [pa.array([_cell(stats[s]) for s in STATS], pa.string()) for stats in values.values()]
    grid = pa.Table.from_arrays(arrays, names=["stat", *values])
    return Profile(grid, values, table, [c["type"] for c in cols])


def _std_from_moments(row: dict[str, Any], i: int) -> float | None:
    """Sample standard deviation from count, mean and mean of squares (no stddev_samp)."""
    n, mean, sq = row.get(f"n{i}"), row.get(f"mean{i}"), row.get(f"sq{i}")
    if sq is None or mean is None or not n or n < 2:
        return None
    return math.sqrt(max(0.0, (sq - mean * mean) * n / (n - 1)))


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
