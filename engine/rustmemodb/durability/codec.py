"""Schemas and other catalog records <-> JSON-able data, readable in the manifest.

Catalog records (``TableSchema``, ``Column``, constraints, ``IndexDef``) are
frozen dataclasses. They are written as ``{"__class__": "Column", field: value,
...}`` with tuples tagged, and read back by calling the class with the fields it
still has. So a field added later with a default reads old files fine, and a
removed field is dropped.

Reading is closed: only the classes in ``CLASSES`` can be named, each field is
checked against the type it must have (``validate_schema``), and anything else
is ``ValueError`` (XX001 for the caller). A value with no form here cannot be
written: ``encode`` raises TypeError rather than fall back to an opaque format.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from .. import types
from ..storage.schema import (CheckConstraint, Column, ForeignKey, IndexDef, TableSchema,
                              UniqueConstraint)

CLASSES: dict[str, type] = {cls.__name__: cls for cls in (
    Column, UniqueConstraint, CheckConstraint, ForeignKey, IndexDef, TableSchema)}


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    cls = type(value)
    if dataclasses.is_dataclass(value) and CLASSES.get(cls.__name__) is cls:
        out = {"__class__": cls.__name__}
        for f in dataclasses.fields(value):
            if f.init and not f.name.startswith("_"):
                out[f.name] = encode(getattr(value, f.name))
        return out
    raise TypeError(f"no durable form for a catalog value of type {cls.__name__}")


def decode(data: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise ValueError("catalog record nested too deeply")
    if isinstance(data, (list, tuple)):
        return [decode(v, depth + 1) for v in data]
    if not isinstance(data, dict):
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        raise ValueError(f"unexpected {type(data).__name__} in a catalog record")
    if "__tuple__" in data:
        items = data["__tuple__"]
        if not isinstance(items, (list, tuple)):
            raise ValueError("malformed tuple in a catalog record")
        return tuple(decode(v, depth + 1) for v in items)
    if "__class__" in data:
        cls = CLASSES.get(data["__class__"]) if isinstance(data["__class__"], str) else None
        if cls is None:
            raise ValueError(f"unknown catalog record class {data['__class__']!r}")
        known = {f.name for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_")}
        return cls(**{k: decode(v, depth + 1) for k, v in data.items() if k in known})
    raise ValueError(f"unknown encoded value {sorted(map(str, data))[:3]}")


def decode_schema(data: Any) -> TableSchema:
    """A ``TableSchema`` read from disk, checked field by field (ValueError if not)."""
    schema = decode(data)
    validate_schema(schema)
    return schema


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"malformed table schema: {what}")


def _str(v) -> bool:
    return isinstance(v, str)


def _positions(cols, n: int) -> bool:
    return (isinstance(cols, tuple) and len(cols) > 0 and all(
        isinstance(c, int) and not isinstance(c, bool) and 0 <= c < n for c in cols))


def _typmod(t: Any) -> bool:
    """None, ("varchar" | "bit" | "varbit", n), ("numeric", precision, scale), a declared type name
    ("int2", "int4", "numeric", "float4"), ("enum", type name, (label, ...)) or a domain's
    (exec/typmods.py)."""
    if t is None:
        return True
    if isinstance(t, tuple) and len(t) == 6 and t[0] == "domain":
        # ("domain", name, base typmod, not null, ((constraint, CHECK sql), ...), default)
        return _str(t[1]) and (t[2] is None or (
            isinstance(t[2], tuple) and t[2][:1] != ("domain",) and _typmod(t[2]))) \
            and isinstance(t[3], bool) and isinstance(t[4], tuple) and all(
                isinstance(c, tuple) and len(c) == 2 and _str(c[0]) and _str(c[1])
                for c in t[4]) and (t[5] is None or _str(t[5]))
    if isinstance(t, tuple) and len(t) == 3 and t[0] == "enum":
        return _str(t[1]) and isinstance(t[2], tuple) and len(t[2]) > 0 and \
            all(isinstance(v, str) for v in t[2])
    ints = isinstance(t, tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in t[1:])
    return ints and ((len(t) == 2 and t[0] in ("varchar", "bpchar", "bit", "varbit") and t[1] >= 1) or (
        len(t) == 3 and t[0] == "numeric" and 1 <= t[1] <= 1000 and -1000 <= t[2] <= 1000)
        or (len(t) == 1 and t[0] in ("int2", "int4", "numeric", "float4"))
        or (len(t) == 2 and t[0] == "precision" and 0 <= t[1] <= 5))


def validate_schema(schema: Any) -> None:
    _need(isinstance(schema, TableSchema), "not a table schema")
    _need(_str(schema.name), "table name")
    cols = schema.columns
    _need(isinstance(cols, tuple) and all(isinstance(c, Column) for c in cols), "columns")
    for c in cols:
        _need(_str(c.name) and types.is_column_type(c.type) and isinstance(c.not_null, bool)
              and (c.default_sql is None or _str(c.default_sql))
              and (c.comment is None or _str(c.comment)) and _typmod(c.typmod)
              and (c.generated is None or _str(c.generated))
              and (c.identity is None or (isinstance(c.identity, tuple) and len(c.identity) == 2
                                          and c.identity[0] in ("always", "by default")
                                          and isinstance(c.identity[1], int)
                                          and not isinstance(c.identity[1], bool))),
              f"column {c.name!r}")
    _need(schema.comment is None or _str(schema.comment), "table comment")
    _need(schema.matview_sql is None or _str(schema.matview_sql), "materialized view query")
    _need(len({c.name for c in cols}) == len(cols), "duplicate column names")
    n = len(cols)
    for group, cls in (("uniques", UniqueConstraint), ("checks", CheckConstraint),
                       ("foreign_keys", ForeignKey), ("indexes", IndexDef)):
        items = getattr(schema, group)
        _need(isinstance(items, tuple) and all(isinstance(i, cls) for i in items), group)
        for item in items:
            _need(_str(item.name), f"{group} name")
            _need(getattr(item, "comment", None) is None or _str(item.comment), f"{group} comment")
    for u in schema.uniques:
        _need(_positions(u.columns, n) and isinstance(u.primary, bool)
              and isinstance(u.nulls_not_distinct, bool), "unique columns")
    for c in schema.checks:
        _need(_str(c.sql) and isinstance(c.validated, bool), "check constraint")
    for fk in schema.foreign_keys:
        _need(_positions(fk.columns, n) and _str(fk.ref_table)
              and isinstance(fk.ref_columns, tuple) and all(map(_str, fk.ref_columns))
              and _str(fk.on_delete) and _str(fk.on_update)
              and isinstance(fk.validated, bool) and isinstance(fk.deferrable, bool)
              and isinstance(fk.deferred, bool) and (fk.deferrable or not fk.deferred)
              and isinstance(fk.match_full, bool)
              and (fk.delete_set_columns == () or (
                  _positions(fk.delete_set_columns, n)
                  and set(fk.delete_set_columns) <= set(fk.columns))),
              "foreign key")
    for ix in schema.indexes:
        # (a keyed index on constants reads no column: ``UNIQUE ((1))``, one row at most)
        _need((_positions(ix.columns, n) or (ix.exprs and ix.columns == ()))
              and isinstance(ix.unique, bool)
              and isinstance(ix.exprs, tuple) and all(map(_str, ix.exprs))
              and (ix.predicate is None or _str(ix.predicate))
              and (ix.include == () or _positions(ix.include, n))
              and ix.method in ("btree", "gin", "gist")
              and isinstance(ix.options, tuple) and all(o in (0, 1, 2, 3) for o in ix.options)
              and isinstance(ix.nulls_not_distinct, bool),
              "index")


def class_path(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"
