"""How rows are placed on shards: hash of the partition key, or a copy on every shard.

A table is hash-partitioned on its primary key unless CREATE TABLE says otherwise:
``... ) PARTITION BY HASH (col [, col])`` picks the key, a trailing ``REPLICATED`` puts a
full copy on every shard (small dimension tables: joins against them stay local), and
a table with neither a key nor a clause is spread by hashing the whole row. Both clauses
are cluster syntax: they are stripped before the statement reaches the engine.

The hash is deterministic across processes (no Python ``hash()`` salt): integers by
value, text by CRC32 of its UTF-8, intervals by their span, anything else by CRC32 of
its ``repr``; a numeric by its value as a float8 (``_numbers_by_value``).
"""
from __future__ import annotations

import datetime as _dt
import re
import zlib
from decimal import Decimal
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from .. import errors
from .. import infinity, numeric, timetz

_PARTITION = re.compile(r"\)\s*PARTITION\s+BY\s+HASH\s*\(([^)]*)\)\s*;?\s*$", re.I | re.S)
_REPLICATED = re.compile(r"\)\s*REPLICATED\s*;?\s*$", re.I | re.S)


@dataclass
class TableInfo:
    name: str
    columns: list
    key: list = field(default_factory=list)    # partition column names; [] = whole row
    replicated: bool = False
    types: dict = field(default_factory=dict)   # column name -> SQL type
    explicit: bool = False                      # key given by PARTITION BY HASH

    def copy(self) -> "TableInfo":
        """A placement entry that can change without changing this one."""
        return replace(self, columns=list(self.columns), key=list(self.key),
                       types=dict(self.types))

    @property
    def key_positions(self) -> list[int]:
        return [self.columns.index(k) for k in self.key] if self.key else \
            list(range(len(self.columns)))


def strip_clauses(sql: str) -> tuple[str, list | None, bool]:
    """CREATE TABLE text without the cluster clauses: (sql, partition columns, replicated)."""
    m = _PARTITION.search(sql)
    if m:
        cols = [c.strip().strip('"').lower() for c in m.group(1).split(",") if c.strip()]
        return sql[:m.start()] + ")", cols, False
    m = _REPLICATED.search(sql)
    if m:
        return sql[:m.start()] + ")", None, True
    return sql, None, False


_DAY_NS = 86_400_000_000_000


def normalize(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):      # a numeric as a cursor returns it: by value
        value = _number_of(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if hasattr(value, "months") and hasattr(value, "nanoseconds"):
        # an interval (Arrow's or the engine's) by its span, as SQL compares them: one
        # shard for '1 mon' and '30 days', so grouping and joins by interval stay exact
        return (value.months * 30 + value.days) * _DAY_NS + value.nanoseconds
    if isinstance(value, _dt.time) and value.tzinfo is not None:
        # a timetz as a cursor returns it: by its stored key, as an Arrow column of
        # timetz hashes, so both forms of one value land on one shard
        return timetz.of_python(value)
    return value


def hash_value(value) -> int:
    value = normalize(value)
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0x7FFFFFFFFFFFFFFF if value < 0 else value
    if isinstance(value, str):
        return zlib.crc32(value.encode("utf-8"))
    return zlib.crc32(repr(value).encode("utf-8"))


def shard_of_key(values: tuple, shards: int) -> int:
    if len(values) == 1:
        return hash_value(values[0]) % shards
    h = 0
    for v in values:
        h = (h * 1000003 + hash_value(v)) & 0xFFFFFFFFFFFF
    return h % shards


def shard_ids(table: pa.Table, positions: list[int], shards: int) -> np.ndarray:
    """The shard of every row of ``table`` (vectorised for one integer key column)."""
    if len(positions) == 1:
        col = table.column(positions[0])
        if pa.types.is_integer(col.type):
            if col.null_count:
                # NULL hashes as 0 (hash_value); filled in Arrow, not through numpy's
                # float64 NaN form, which rounds keys past 2**53 (a timetz key) to
                # another shard than the same key without NULLs beside it
                col = pa.compute.fill_null(col, 0)
            arr = col.to_numpy(zero_copy_only=False).astype(np.int64)
            arr = np.where(arr < 0, arr & 0x7FFFFFFFFFFFFFFF, arr)
            return (arr % shards).astype(np.int64)
    cols = [_numbers_by_value(table.column(p)) if pa.types.is_binary(table.column(p).type)
            else infinity.pylist(table.column(p)) for p in positions]
    return np.fromiter((shard_of_key(k, shards) for k in zip(*cols)), np.int64,
                       count=table.num_rows)


def _numbers_by_value(column) -> list:
    """A numeric column (Arrow binary keys, numeric.py) as the values its rows hash by:
    the number as a float8 (an integral one as an int), so that equal numbers written
    with different scales (1.1, 1.10) land on one shard, and a numeric column places its
    rows where the float8 column NUMERIC once was placed them."""
    out = []
    for key in column.to_pylist():
        if key is None:
            out.append(None)
            continue
        out.append(_number_of(numeric.decode(key)))
    return out


def _number_of(d: Decimal):
    """A numeric's hash form: an integral one as an int, else its float8."""
    if d.is_finite() and d == d.to_integral_value(context=numeric.CTX):
        return int(d)
    return float(d)          # past float8 range: ±inf (only a hash)


def split_rows(table: pa.Table, positions: list[int], shards: int) -> dict[int, pa.Table]:
    ids = shard_ids(table, positions, shards)
    out = {}
    for s in range(shards):
        idx = np.nonzero(ids == s)[0]
        if len(idx):
            out[s] = table.take(pa.array(idx))
    return out


def refuse(what: str, hint: str | None = None) -> errors.Error:
    return errors.sql_error("0A000", f"cluster: {what} is not supported", hint=hint)
