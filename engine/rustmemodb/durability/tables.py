"""A ``TableVersion`` taken apart into what is written, and put back together.

Both the checkpoint and DDL log records store a table version as

* ``meta``: JSON-able scalars — schema (``codec``), ``tail_rowid0``,
  ``live_rows``, and the index definitions (name, class, key columns);
* its frozen chunks (each a RecordBatch plus its rowids), stored by the caller:
  as an Arrow IPC file (checkpoint), inline IPC bytes or a reference to a chunk
  the reader already has (log records);
* ``dead``: one packed deletion bitmap or ``None`` per chunk;
* ``tail``: the row tail, ``rows[:tail_len]`` as tuples, and its dead rowids.

Indexes are not stored: they are rebuilt from the live rows, which keeps the
files pure Arrow and the rebuild in one place (``rebuild_indexes``). Rowids are
stored exactly, never renumbered: log records after a checkpoint name rows by
rowid.

Indexes come from the schema (``TableVersion.empty``), so an index kind added
later is rebuilt as long as its class offers ``with_entries(arrays, rowids)``.
``test_durability.py`` fails when ``TableVersion`` grows a field this module
does not handle.
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import fields, replace

import numpy as np
import pyarrow as pa

from ..storage.index import UniqueIndex, numeric_parts
from ..storage.index_build import unique_from_arrays, unique_from_table
from ..storage.pmap import PMap
from ..storage.table import Chunk, TableVersion, Tail
from .. import composite, infinity, netaddr, numeric, numeric_arrays, ranges, timetz, types
from . import codec
from .problems import data_corrupted

ROWID = "__rowid"

# TableVersion fields and how they travel; a new field must be added here.
# ``patches`` travels folded: writers encode ``version.settled()``.
HANDLED_FIELDS = {"schema", "chunks", "dead", "tail", "tail_len", "tail_rowid0",
                  "tail_dead", "indexes", "live_rows", "ordered", "patches"}


def unknown_fields() -> set[str]:
    return {f.name for f in fields(TableVersion)} - HANDLED_FIELDS


# ---- taking apart ---------------------------------------------------------------------

def version_meta(version: TableVersion) -> dict:
    return {
        "schema": codec.encode(version.schema),
        "tail_rowid0": version.tail_rowid0,
        "live_rows": version.live_rows,
        "indexes": [index_spec(idx) for idx in version.indexes.values()],
    }


def index_spec(index) -> dict:
    return {"name": index.name, "class": codec.class_path(index),
            "columns": list(index.columns)}


def pack_mask(mask: np.ndarray | None) -> bytes | None:
    return None if mask is None else np.packbits(mask).tobytes()


def unpack_mask(data: bytes | None, n: int) -> np.ndarray | None:
    if data is None:
        return None
    if not isinstance(data, bytes) or len(data) != (n + 7) // 8:
        raise ValueError("malformed deletion mask")
    return np.unpackbits(np.frombuffer(data, np.uint8), count=n).astype(bool)


def tail_rows(version: TableVersion) -> list:
    return list(version.tail.rows[: version.tail_len])


def chunk_batch(chunk: Chunk) -> pa.RecordBatch:
    """The chunk as one batch with its rowids as a trailing ``__rowid`` column."""
    return chunk.batch.append_column(ROWID, pa.array(chunk.rowids, pa.int64()))


def chunk_from_batch(batch: pa.RecordBatch) -> Chunk:
    if batch.num_columns == 0 or batch.schema.names[-1] != ROWID:
        raise ValueError("chunk batch has no rowid column")
    column = batch.column(batch.num_columns - 1)
    if column.type != pa.int64() or column.null_count:
        raise ValueError("malformed rowid column")
    rowids = column.to_numpy(zero_copy_only=True)
    if len(rowids) > 1 and not (rowids[1:] > rowids[:-1]).all():
        raise ValueError("rowids out of order")
    if len(rowids) and rowids[0] < 0:
        raise ValueError("negative rowid")
    return Chunk(batch.drop_columns([ROWID]), rowids)


# Python types a stored value of each SQL type may have (types.py: storage form).
_STORED = {types.INTEGER: (int,), types.FLOAT: (float, int), types.TEXT: (str,),
           types.BOOLEAN: (bool,), types.TIMESTAMP: (datetime.datetime,),
           types.TIMESTAMPTZ: (datetime.datetime,),
           types.DATE: (datetime.date,), types.UUID: (str,), types.JSON: (str,),
           types.JSONT: (str,),
           types.INTERVAL: (types.Interval,), types.TIME: (datetime.time,),
           types.BYTEA: (bytes,), **{r: (bytes,) for r in ranges.RANGE_TYPES},
           **dict.fromkeys(types.NETWORK_TYPES, (bytes,)),
           types.MONEY: (int,), types.BIT: (str,), types.VARBIT: (str,),
           types.TIMETZ: (int,), types.NUMERIC: (bytes, decimal.Decimal),
           types.TSVECTOR: (str,), types.TSQUERY: (str,)}


def check_rows(schema, rows) -> None:
    """ValueError unless every row fits ``schema`` (width and value types), so rows read
    from disk can never reach the engine in a shape it does not expect."""
    kinds = [(bytes,) if composite.is_record(c.type) else _STORED.get(c.type, (list, tuple))
             for c in schema.columns]
    # arrays (X[]): a list whose elements are X's stored values
    elements = [_STORED[types.element_type(c.type)] if types.is_array(c.type) else None
                for c in schema.columns]
    nets = [c.type if c.type in types.NETWORK_TYPES else None for c in schema.columns]
    width = len(kinds)
    column_types = [c.type for c in schema.columns]
    for row in rows:
        if not isinstance(row, tuple) or len(row) != width:
            raise ValueError(f'a row of table "{schema.name}" has the wrong shape')
        for i, (value, ok, inner, net) in enumerate(zip(row, kinds, elements, nets)):
            if value is None:
                continue
            t = type(value)
            if t not in ok and not _infinite_at(value, ok):
                raise ValueError(f'a row of table "{schema.name}" holds a '
                                 f"{t.__name__} where a {ok[0].__name__} belongs")
            if t is bytes and ranges.is_range(column_types[i]) and \
                    not ranges.codec.valid(ranges.KINDS[column_types[i]], value):
                raise ValueError(f'a range in table "{schema.name}" is malformed')
            if t is bytes and composite.is_record(column_types[i]) and \
                    not composite.valid(column_types[i], value):
                raise ValueError(f'a composite value in table "{schema.name}" is malformed')
            if column_types[i] == types.NUMERIC and not numeric.valid(value):
                raise ValueError(f'a row of table "{schema.name}" holds a malformed '
                                 "numeric")
            if column_types[i] == types.TIMETZ and not timetz.valid(value):
                raise ValueError(f'a row of table "{schema.name}" holds a malformed '
                                 "time with time zone")
            if net is not None and not netaddr.valid_key(net, value):
                raise ValueError(f'a row of table "{schema.name}" holds a malformed '
                                 "network address")
            if inner is not None:
                for v in value:
                    if v is not None and type(v) not in inner and not _infinite_at(v, inner):
                        raise ValueError(f'an array in table "{schema.name}" holds a '
                                         f"{type(v).__name__} where a {inner[0].__name__} "
                                         "belongs")


_SENTINELS = {infinity.INT32_MAX, infinity.INT32_MIN, infinity.INT64_MAX, infinity.INT64_MIN}


def _infinite_at(value, ok: tuple) -> bool:
    """An ``infinity`` of a date/timestamp column: msgpack writes it as the int it is
    (infinity.py), so it reads back as that int."""
    return type(value) is int and value in _SENTINELS and \
        (datetime.date in ok or datetime.datetime in ok)


def _thawed(value, kind: str):
    if type(value) is int:
        return infinity.of(kind, value > 0)
    return value


def thaw_arrays(schema, rows) -> list:
    """``rows`` with array values as lists (msgpack hands every sequence back as a
    tuple; the engine's storage form of an X[] value is a list), and an infinite
    date/timestamp (an int on disk) as its ``infinity`` value."""
    cols = [i for i, c in enumerate(schema.columns) if types.is_array(c.type)]
    temporal = [(i, c.type) for i, c in enumerate(schema.columns)
                if c.type in types.TEMPORAL_TYPES]
    temporal_arrays = [(i, types.element_type(c.type)) for i, c in enumerate(schema.columns)
                       if types.is_array(c.type) and
                       types.element_type(c.type) in types.TEMPORAL_TYPES]
    if not cols and not temporal:
        return list(rows)
    out = []
    for row in rows:
        row = list(row)
        for i in cols:
            if row[i] is not None:
                row[i] = list(row[i])
        for i, kind in temporal:
            row[i] = _thawed(row[i], kind)
        for i, kind in temporal_arrays:
            if row[i] is not None:
                row[i] = [_thawed(v, kind) for v in row[i]]
        out.append(tuple(row))
    return out


# ---- putting back together ----------------------------------------------------------------

def build_version(meta: dict, chunks: list[Chunk], dead: list, tail: list,
                  tail_dead) -> TableVersion:
    schema = codec.decode_schema(meta["schema"])
    arrow = schema.arrow_schema
    for chunk in chunks:
        got = chunk.batch.schema
        if got.names != arrow.names or not all(
                numeric_arrays.stored_as(g, w) for g, w in zip(got.types, arrow.types)):
            raise data_corrupted(f'a chunk of table "{schema.name}" does not match its schema',
                                 detail=f"expected {arrow}, found {got}")
    if len(dead) != len(chunks):
        raise ValueError("one deletion mask per chunk expected")
    masks = tuple(unpack_mask(d, len(c)) for d, c in zip(dead, chunks))
    check_rows(schema, tail)
    tail = thaw_arrays(schema, tail)
    tail_dead = list(tail_dead)
    if not all(isinstance(r, int) and not isinstance(r, bool) for r in tail_dead):
        raise ValueError("malformed tail deletions")
    tail_rowid0 = meta["tail_rowid0"]
    if chunks and len(chunks[-1].rowids) and int(chunks[-1].rowids[-1]) >= tail_rowid0:
        raise ValueError("chunk rowids overlap the row tail")
    version = TableVersion(
        schema=schema, chunks=tuple(chunks), dead=masks, tail=Tail(list(tail)),
        tail_len=len(tail), tail_rowid0=tail_rowid0,
        tail_dead=PMap({r: True for r in tail_dead}), indexes={}, live_rows=meta["live_rows"])
    return rebuild_indexes(version, meta["indexes"])


def rebuild_indexes(version: TableVersion, specs: list[dict]) -> TableVersion:
    """``version`` with every index rebuilt from its live rows.

    The index set comes from the schema, as ``TableVersion.empty`` makes it (PK and
    UNIQUE constraints, CREATE [UNIQUE] INDEX); ``specs`` (what was written) only
    adds a unique index the schema does not describe. Unique indexes are built with
    ``UniqueIndex.build``; any other index class with ``template.with_entries(arrays,
    rowids)`` (``OrderedIndex``'s bulk build).
    """
    template = TableVersion.empty(version.schema)
    groups = {"indexes": dict(template.indexes)}
    if "ordered" in _FIELD_NAMES:
        groups["ordered"] = dict(template.ordered)
    for spec in specs:
        if not any(spec["name"] in g for g in groups.values()):
            columns = tuple(spec["columns"])
            groups["indexes"][spec["name"]] = UniqueIndex(
                spec["name"], columns, decimal_parts=numeric_parts(version.schema, columns))
    if not any(groups.values()):
        return _replace(version, **groups)
    live = version.to_arrow(with_rowid=True)
    rowids = live.column(live.num_columns - 1).to_numpy()
    for group in groups.values():
        for name, index in group.items():
            arrays = [live.column(c) for c in index.columns]
            if isinstance(index, UniqueIndex) and index.keyed:
                built, dup = unique_from_table(index, live, rowids)
                if dup is not None:
                    raise data_corrupted(f'duplicate key {dup!r} in unique index "{name}"')
            elif isinstance(index, UniqueIndex):
                built = _build_unique(name, index.columns, arrays, rowids, index.decimal_parts,
                                      index.nulls_equal)
            else:
                built = index.with_entries(arrays, rowids)
            group[name] = built
    return _replace(version, **groups)


def _build_unique(name: str, columns: tuple, arrays: list, rowids,
                  decimal_parts: tuple = (), nulls_equal: bool = False) -> UniqueIndex:
    index, dup = unique_from_arrays(name, columns, arrays, rowids, decimal_parts, nulls_equal)
    if dup is not None:
        raise data_corrupted(f'duplicate key {dup!r} in unique index "{name}"')
    return index


_FIELD_NAMES = {f.name for f in fields(TableVersion)}


def _replace(version: TableVersion, **changes) -> TableVersion:
    return replace(version, **{k: v for k, v in changes.items() if k in _FIELD_NAMES})
