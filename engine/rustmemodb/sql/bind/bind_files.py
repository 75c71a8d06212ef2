"""Binding file access: ``read_csv``/``read_parquet``/``read_json`` in FROM and ``COPY``.

* ``read_csv(path [, header => bool, delim => ',', quote => '"', nullstr => '',
  skip => n, columns => ARRAY['a INTEGER', 'b TEXT']])``, ``read_parquet(path)``,
  ``read_json(path)`` (newline-delimited, or one array of objects): ``path`` is a
  string, a glob pattern or an array of them; options are written ``name = value``
  or ``name := value``. The columns are inferred here (exec/files.py) and the plan
  is a ``LogicalFileScan`` that reads at execution.
* ``COPY table [(cols)] FROM 'file' [WITH] (FORMAT csv|text|parquet|json, HEADER,
  DELIMITER ',', NULL '', QUOTE '"')`` is an INSERT whose source is a file scan
  typed as the target columns, so every constraint of INSERT holds and a value
  that does not fit is ``22P02`` naming the line. PostgreSQL's default format is
  ``text`` (tab-separated, ``\\N`` for NULL) and HEADER is off.
* ``COPY table | (query) TO 'file' (FORMAT ...)`` is a ``LogicalCopyTo``.
* ``FROM 'data/*.csv'`` (DuckDB): a quoted name with a file suffix that names no
  table, view or registered object reads the file(s) with the defaults.

Paths are resolved, and checked against the session's file root, here (the
binder's ``file_root``); plans that read or write files are never cached.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Cast, ColRef, Const
from ...plan.logical import (LogicalCopyTo, LogicalFileScan, LogicalInsert, LogicalNode,
                             LogicalProject)
from ..parse import position_of
from .scope import Scope
from ...exec import files
from .bind_expr import ExprBinder
from .bind_select import bind_query
from .bind_insert import default_expr, target_columns

_READERS = {"read_csv": "csv", "read_csv_auto": "csv", "read_parquet": "parquet",
            "parquet_scan": "parquet", "read_json": "json", "read_json_auto": "json",
            "read_ndjson": "json", "read_ndjson_auto": "json"}
_OPTION_NAMES = {"header": "header", "delim": "delimiter", "sep": "delimiter",
                 "delimiter": "delimiter", "quote": "quote", "escape": "escape",
                 "nullstr": "null", "null": "null", "skip": "skip", "columns": "columns",
                 "format": "format"}
# A file column of the first type goes into a column of the second (timestamps with and
# without a zone: a file format may not say which).
_FILE_CASTS = frozenset({(types.INTEGER, types.FLOAT), (types.TIMESTAMP, types.TIMESTAMPTZ),
                         (types.TIMESTAMPTZ, types.TIMESTAMP), (types.DATE, types.TIMESTAMPTZ)})
# Column types a reader produces directly; others are read as text and cast.
_DIRECT = (types.INTEGER, types.FLOAT, types.BOOLEAN, types.DATE, types.TIMESTAMP, types.TEXT)


def read_function_format(func) -> str | None:
    if isinstance(func, exp.ReadCSV):
        return "csv"
    if isinstance(func, exp.ReadParquet):
        return "parquet"
    if isinstance(func, exp.Anonymous):
        return _READERS.get(func.name.lower())
    return None


def bind_read_function(stmt, func, column_name=None) -> LogicalNode:
    fmt = read_function_format(func)
    args = ([func.this] if func.args.get("this") is not None and
            not isinstance(func, exp.Anonymous) else []) + list(func.expressions)
    patterns, options = [], {}
    for a in args:
        if isinstance(a, (exp.EQ, exp.PropertyEQ, exp.Kwarg)):
            name = a.this.name.lower()
            key = _OPTION_NAMES.get(name)
            if key is None:
                raise errors.sql_error("22023", f'unknown option "{name}" of '
                                                f"{fmt} reader", position=position_of(a))
            options[key] = _option_value(stmt, key, a.expression)
        else:
            patterns.extend(_paths(stmt, a))
    if not patterns:
        raise errors.syntax_error("a file path is required", position=position_of(func))
    if fmt == "json" and options.get("format") not in (None, "auto", "newline_delimited",
                                                       "array"):
        raise errors.sql_error("22023", f"unknown JSON format {options['format']!r}")
    if fmt == "csv":
        options.setdefault("header", True)       # as DuckDB's read_csv on a typical file
    stmt.cacheable = False
    paths = [p for pattern in patterns for p in files.resolve_paths(
        pattern, getattr(stmt, "file_root", None))]
    columns = files.infer_columns(fmt, paths, options)
    return LogicalFileScan(columns, fmt, paths, _frozen(options))


_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet",
             ".json": "json", ".ndjson": "json", ".jsonl": "json"}


def file_format_of(name: str) -> str | None:
    """DuckDB's ``FROM 'data/*.csv'``: the reader a quoted table name stands for."""
    lowered = name.lower()
    for suffix, fmt in _SUFFIXES.items():
        if lowered.endswith(suffix) or lowered.endswith(suffix + ".gz"):
            return fmt
    return None


def bind_file_name(stmt, name: str) -> LogicalNode:
    """``FROM 'file.csv'``: read_csv / read_parquet / read_json with default options."""
    fmt = file_format_of(name)
    options = {"header": True, "delimiter": "\t"} if name.lower().endswith(".tsv") else \
        ({"header": True} if fmt == "csv" else {})
    stmt.cacheable = False
    paths = files.resolve_paths(name, getattr(stmt, "file_root", None))
    return LogicalFileScan(files.infer_columns(fmt, paths, options), fmt, paths,
                           _frozen(options))


def _frozen(options: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v)
                        for k, v in options.items()))


def _paths(stmt, node) -> list[str]:
    value = _const(stmt, node)
    if isinstance(value, list):
        return [str(v) for v in value]
    if not isinstance(value, str):
        raise errors.datatype_mismatch("a file path must be a string or an array of strings",
                                       position=position_of(node))
    return [value]


def _const(stmt, node):
    e = ExprBinder(stmt, Scope(), clause="file options").bind(node)
    if not isinstance(e, Const):
        raise errors.not_supported("a non-constant file option", position=position_of(node))
    return e.value


def _option_value(stmt, key: str, node):
    if key == "columns":
        value = _const(stmt, node)
        if not isinstance(value, list):
            raise errors.datatype_mismatch("columns must be an array of 'name TYPE' strings",
                                           position=position_of(node))
        out = []
        for spec in value:
            name, _, type_name = str(spec).strip().partition(" ")
            if not type_name.strip():
                raise errors.syntax_error(f"column spec {spec!r} needs a type",
                                          position=position_of(node))
            out.append((name, types.normalize_type_name(type_name.strip())))
        return out
    if isinstance(node, (exp.Var, exp.Column)) and key == "format":
        return node.name.lower()
    value = _const(stmt, node)
    if key == "header":
        if not isinstance(value, bool):
            raise errors.datatype_mismatch("header must be a boolean", position=position_of(node))
    elif key == "skip":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise errors.datatype_mismatch("skip must be a non-negative integer",
                                           position=position_of(node))
    elif not isinstance(value, str):
        raise errors.datatype_mismatch(f"{key} must be a string", position=position_of(node))
    return value.lower() if key == "format" else value


# ---- COPY -------------------------------------------------------------------------------------

def bind_copy(stmt, node: exp.Copy) -> LogicalNode:
    stmt.cacheable = False
    targets = node.args.get("files") or []
    if len(targets) != 1 or not isinstance(targets[0], exp.Literal) or not targets[0].is_string:
        raise errors.not_supported("COPY to or from anything but a file name",
                                   hint="COPY ... FROM STDIN / TO STDOUT is spoken by the wire "
                                        "server; embedded, name a file.")
    path = targets[0].this
    options = _copy_options(stmt, node.args.get("params") or [])
    fmt = options.pop("format", "text")
    options.setdefault("header", False)          # PostgreSQL: no header unless asked
    if fmt not in files.FORMATS:
        raise errors.not_supported(f"COPY format {fmt}")
    root = getattr(stmt, "file_root", None)
    if "force_quote" in options and (node.args.get("kind") or fmt != "csv"):
        raise errors.sql_error("0A000", "COPY force quote only available using COPY TO"
                               if node.args.get("kind") else
                               "COPY force quote available only in CSV mode")
    for force in ("force_not_null", "force_null"):
        # CSV input only; checked in PostgreSQL's order (the mode first)
        if force in options:
            said = force.replace("_", " ")
            if fmt != "csv":
                raise errors.sql_error("0A000", f"COPY {said} available only in CSV mode")
            if not node.args.get("kind"):
                raise errors.sql_error("0A000", f"COPY {said} only available using COPY FROM")
    if node.args.get("kind"):
        return _copy_from(stmt, node.this, files.resolve_paths(path, root), fmt, options)
    out = files.resolve_paths(path, root, for_write=True)[0]
    return LogicalCopyTo([], _copy_source(stmt, node.this), out, fmt, _frozen(options))


def _copy_options(stmt, params) -> dict:
    options: dict = {}
    for p in params:
        name = p.this.name.lower()
        value = p.args.get("expression")
        if name == "format":
            options["format"] = value.name.lower() if value is not None else "text"
        elif name == "header":
            options["header"] = True if value is None else bool(_flag(stmt, value))
        elif name == "force_quote":          # TO, CSV: these columns' values always quoted
            if isinstance(value, exp.Star):
                options[name] = ("*",)
            else:
                items = value.expressions if isinstance(value, exp.Tuple) else \
                    [value.this if isinstance(value, exp.Paren) else value]
                if not all(isinstance(i, exp.Column) for i in items):
                    raise errors.syntax_error("FORCE_QUOTE takes * or a list of column names")
                options[name] = tuple(i.name for i in items)
        elif name in ("force_null", "force_not_null"):
            # FROM, CSV: a quoted value equal to the NULL string is NULL too (force_null),
            # an unquoted one is not NULL (force_not_null), in these columns
            items = value.expressions if isinstance(value, exp.Tuple) else \
                [value.this if isinstance(value, exp.Paren) else value]
            if value is None or not all(isinstance(i, exp.Column) for i in items):
                raise errors.sql_error(
                    "22023", f'argument to option "{name}" must be a list of column names')
            options[name] = tuple(i.name for i in items)
        elif name in ("delimiter", "null", "quote", "escape"):
            v = _const(stmt, value) if value is not None else None
            if not isinstance(v, str):
                raise errors.syntax_error(f"COPY option {name.upper()} needs a string")
            options[name] = v
        else:
            raise errors.sql_error("42601", f'option "{name}" not recognized')
    return options


def _flag(stmt, value):
    if isinstance(value, (exp.Var, exp.Column)):
        return value.name.lower() in ("true", "on", "1", "match")
    return _const(stmt, value)


def _copy_source(stmt, target) -> LogicalNode:
    if isinstance(target, exp.Subquery):
        return bind_query(stmt, target.this, None)
    table = target.this if isinstance(target, exp.Schema) else target
    select = exp.select(*([exp.column(c.name) for c in target.expressions]
                          if isinstance(target, exp.Schema) and target.expressions
                          else [exp.Star()])).from_(table.copy())
    stmt.table(table.name, position_of(table))       # an unknown table is 42P01 here
    return bind_query(stmt, select, None)


def _copy_from(stmt, target, paths, fmt, options) -> LogicalInsert:
    table_node = target.this if isinstance(target, exp.Schema) else target
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    positions = target_columns(schema, target)
    if not (isinstance(target, exp.Schema) and target.expressions):
        # without a column list COPY fills every column but the generated ones
        positions = [i for i in positions if schema.columns[i].generated is None]
    wanted = [(schema.columns[i].name, schema.columns[i].type) for i in positions]
    for force in ("force_not_null", "force_null"):
        for name in options.get(force, ()):
            if schema.position(name) is None:
                raise errors.sql_error(
                    "42703", f'column "{name}" of relation "{schema.name}" does not exist')
            if all(n != name for n, _ in wanted):
                raise errors.sql_error("42P10", f'{force.upper()} column "{name}" not '
                                                "referenced by COPY")
    if fmt in ("csv", "text"):
        read_as = [(n, t if t in _DIRECT else types.TEXT) for n, t in wanted]
        options = dict(options, columns=read_as)
        source: LogicalNode = LogicalFileScan(read_as, fmt, paths, _frozen(options))
    else:
        found = files.infer_columns(fmt, paths, options)
        if len(found) != len(wanted):
            raise errors.sql_error("22P04", f"the file has {len(found)} columns, COPY expects "
                                            f"{len(wanted)}")
        read_as = found
        source = LogicalFileScan(found, fmt, paths, _frozen(options))
    exprs, changed = [], False
    for i, ((name, have), (_, want)) in enumerate(zip(read_as, wanted)):
        ref = ColRef(i, have, name)
        if have == want:
            exprs.append(ref)
            continue
        if (have, want) in _FILE_CASTS or have == types.TEXT:
            exprs.append(Cast(ref, want))     # text parsed as UUID, JSON, arrays ... (22P02)
            changed = True
            continue
        raise errors.datatype_mismatch(f'column "{name}" is of type {want} but the file '
                                       f"holds {have}")
    if changed:
        source = LogicalProject(list(wanted), source, exprs)
    defaults = {i: default_expr(stmt, schema, i) for i in range(len(schema.columns))
                if i not in positions}
    return LogicalInsert([], schema.name, source, positions, defaults)
