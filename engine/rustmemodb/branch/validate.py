"""Merge checks: schema compatibility before, and every constraint on the result after.

Each side's rows were valid on that side, but a merged result can still break
constraints that span rows or tables: both sides inserted the same UNIQUE key
in different rows; the source inserted a child whose parent the target
deleted. And a table whose definitions differ (a CHECK or a column type added
on one side) cannot take the other side's rows at all. So a merge

* compares the two schemas column by column (name, type, NOT NULL, DEFAULT)
  and constraint by constraint (primary key, UNIQUE, CHECK, FOREIGN KEY) and
  reports each difference as a conflict, instead of looking at names only;
* after applying its changes to the target's private working root, checks NOT
  NULL and CHECK on every row it wrote and every FOREIGN KEY that involves a
  table it touched, child and parent side, on the merged result (UNIQUE is
  enforced by the indexes as rows are written). Violations are conflicts, and
  a merge with any of them writes nothing, whatever the strategy: ``ours`` and
  ``theirs`` choose between row versions, they cannot make a constraint hold.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from rustmemodb.lazy_import import compute as pc

from ..exec import constraints
from ..sql.bind.bind_constraints import bind_checks
from ..storage.schema import TableSchema
from .. import infinity


def schema_differences(ours: TableSchema, theirs: TableSchema) -> list[tuple[str, str, str]]:
    """[(what, ours, theirs)] for each difference that makes rows incompatible."""
    out = []
    cols_o = {c.name: c for c in ours.columns}
    cols_t = {c.name: c for c in theirs.columns}
    if [c.name for c in ours.columns] != [c.name for c in theirs.columns]:
        out.append(("columns", ", ".join(cols_o), ", ".join(cols_t)))
    for name in cols_o.keys() & cols_t.keys():
        a, b = cols_o[name], cols_t[name]
        if a.type != b.type:
            out.append((name, a.type, b.type))
        if a.not_null != b.not_null:
            out.append((name, _nn(a.not_null), _nn(b.not_null)))
        if a.default_sql != b.default_sql:
            out.append((name, f"DEFAULT {a.default_sql}", f"DEFAULT {b.default_sql}"))
    for label, get in (("unique", _uniques), ("check", _checks), ("foreign key", _fks)):
        so, st = get(ours), get(theirs)
        if so != st:
            out.append((label, "; ".join(sorted(so)) or "(none)", "; ".join(sorted(st)) or "(none)"))
    return out


def _nn(flag: bool) -> str:
    return "NOT NULL" if flag else "NULL"


def _uniques(s: TableSchema) -> set:
    return {("PRIMARY KEY " if u.primary else "UNIQUE NULLS NOT DISTINCT "
             if u.nulls_not_distinct else "UNIQUE ") +
            "(" + ", ".join(s.columns[i].name for i in u.columns) + ")" for u in s.uniques}


def _checks(s: TableSchema) -> set:
    return {f"CHECK ({c.sql})" for c in s.checks}


def _fks(s: TableSchema) -> set:
    return {"(" + ", ".join(s.columns[i].name for i in fk.columns) + f") REFERENCES "
            f"{fk.ref_table} (" + ", ".join(fk.ref_columns) + f") ON DELETE {fk.on_delete}"
            + ("" if not fk.delete_set_columns else
               " (" + ", ".join(s.columns[i].name for i in fk.delete_set_columns) + ")")
            + f" ON UPDATE {fk.on_update}" for fk in s.foreign_keys}


def written_rows(schema: TableSchema, data: pa.Table, functions) -> list[tuple[str, str, str]]:
    """[(key text, constraint, message)] for NOT NULL and CHECK over rows a merge wrote."""
    out = []
    if not data.num_rows:
        return out
    for i in constraints.not_null_columns(schema):
        for k in np.flatnonzero(np.asarray(pc.is_null(data.column(i)))).tolist()[:1000]:
            out.append((_text_at(schema, data, k), schema.columns[i].name,
                        constraints.not_null_violation(schema, i).message))
    if schema.checks:
        from ..exec.expr.vector import as_array, evaluate
        for name, expr in bind_checks(schema, functions):
            mask = as_array(evaluate(expr, data, None), data.num_rows)
            failed = np.asarray(pc.fill_null(pc.invert(mask), False))
            for k in np.flatnonzero(failed).tolist()[:1000]:
                row = tuple(c[k].as_py() for c in data.columns)
                out.append((row_text(schema, row), name,
                            constraints.check_violation(schema, name, row).message))
    return out


def _text_at(schema: TableSchema, data: pa.Table, k: int) -> str:
    return row_text(schema, tuple(c[k].as_py() for c in data.columns))


def foreign_keys(root, touched: set) -> list[tuple[str, str, str, str]]:
    """[(child table, key text, constraint, message)] for every child row, in a table
    the merge touched or referencing one, whose key has no parent in ``root``."""
    out = []
    for child, version in sorted(root.tables.items()):
        for fk in version.schema.foreign_keys:
            if child not in touched and fk.ref_table not in touched:
                continue
            parent = root.tables.get(fk.ref_table)
            schema = version.schema
            cols = [schema.columns[i].name for i in fk.columns]
            rows = version.to_arrow().select(cols)
            present = pc.invert(_any_null(rows))
            rows = rows.filter(present)
            if rows.num_rows == 0:
                continue
            if parent is None:
                orphans = rows
            else:
                keys = parent.to_arrow().select(list(fk.ref_columns)).rename_columns(cols)
                orphans = rows.join(keys, keys=cols, join_type="left anti", use_threads=False)
            for row in infinity.pylist(orphans)[:1000]:
                key = ", ".join(f"{c}={row[c]}" for c in cols)
                shown = ", ".join("null" if row[c] is None else str(row[c]) for c in cols)
                out.append((child, key, fk.name,
                            f'violates foreign key constraint "{fk.name}": key ({", ".join(cols)})'
                            f'=({shown}) is not present in table "{fk.ref_table}"'))
    return out


def _any_null(t: pa.Table):
    out = pc.is_null(t.column(0))
    for c in t.columns[1:]:
        out = pc.or_(out, pc.is_null(c))
    return out


def row_text(schema: TableSchema, row: tuple) -> str:
    pk = schema.primary_key
    cols = pk.columns if pk is not None else range(len(schema.columns))
    return ", ".join(f"{schema.columns[i].name}={row[i]}" for i in cols)
