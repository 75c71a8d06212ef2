"""The chunk format: a frozen Arrow RecordBatch of at most ``CHUNK_ROWS`` rows with
its rowids (ascending, never reused), plus the row-access cache point reads use.

A chunk is immutable once built; UPDATE folds make patched copies (``patched``,
``replaced``) that share the columns they did not change. ``rows_to_batch``
turns row tuples (the tail, the row path's results) into a batch; ``conform``
and ``rechunk`` keep batches in the table's schema and at a scan-friendly size.
"""
from __future__ import annotations

import itertools
from datetime import date as _date, datetime as _datetime, timedelta as _timedelta
from itertools import repeat
from operator import getitem, itemgetter
from typing import Callable, Sequence

from ..lazy_import import arrow as pa, compute as pc, numpy as np

from .. import errors, numeric, numeric_arrays
from ..types import py_values
from .. import infinity


CHUNK_ROWS = 65536

_chunk_ids = itertools.count(1)


def _block(k: int, n: int) -> Callable[[Sequence, int], tuple]:
    """fn(columns, offset) -> (columns[k][offset], ..., columns[k+n-1][offset]) for
    1 <= n <= 8: one tuple display per call, no loop and no frame per value."""
    a, b, c, d, e, f, g, h = range(k, k + 8)
    if n == 1:
        return lambda cs, o: (cs[a][o],)
    if n == 2:
        return lambda cs, o: (cs[a][o], cs[b][o])
    if n == 3:
        return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o])
    if n == 4:
        return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o], cs[d][o])
    if n == 5:
        return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o], cs[d][o], cs[e][o])
    if n == 6:
        return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o], cs[d][o], cs[e][o], cs[f][o])
    if n == 7:
        return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o], cs[d][o], cs[e][o], cs[f][o],
                              cs[g][o])
    return lambda cs, o: (cs[a][o], cs[b][o], cs[c][o], cs[d][o], cs[e][o], cs[f][o],
                          cs[g][o], cs[h][o])


def _wide(cs: Sequence, o: int) -> tuple:
    return tuple(map(getitem, cs, repeat(o)))


_ROW_GETTERS: dict[int, Callable[[Sequence, int], tuple]] = {0: lambda cs, o: ()}


def row_getter(width: int) -> Callable[[Sequence, int], tuple]:
    """fn(columns, offset) -> the row tuple ``(c[0][o], c[1][o], ...)``. Point reads
    call it once per row, so it is a closure over fixed column positions (as fast as
    generated code, and no ``eval``): one closure up to 8 columns, two joined up to
    16, and ``map(getitem, ...)`` beyond, where per-value work dominates anyway."""
    fn = _ROW_GETTERS.get(width)
    if fn is None:
        if width <= 8:
            fn = _block(0, width)
        elif width <= 16:
            first, second = _block(0, 8), _block(8, width - 8)
            fn = lambda cs, o: first(cs, o) + second(cs, o)   # noqa: E731
        else:
            fn = _wide
        _ROW_GETTERS[width] = fn
    return fn


_EPOCH = _datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_date_from_ordinal = _date.fromordinal


def _value_getter(column) -> Callable[[int], object]:
    """fn(offset) -> the Python value of one Arrow column at ``offset``, without a
    pyarrow scalar: numbers read through a NumPy view of the values buffer, strings
    straight from the offsets and data buffers, booleans from one unpacked copy, NULLs
    from the validity bits (unpacked once per chunk column); other types take the
    general conversion (``py_values`` of a one-row slice, ~1 µs)."""
    typ = column.type
    start, n = column.offset, len(column)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        data = np.frombuffer(column.buffers()[1], dtype=typ.to_pandas_dtype())[
            start:start + n].item
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        bufs = column.buffers()
        width = np.int64 if pa.types.is_large_string(typ) else np.int32
        at = np.frombuffer(bufs[1], dtype=width)[start:start + n + 1].item
        text = memoryview(bufs[2]) if bufs[2] is not None else memoryview(b"")
        data = lambda o: str(text[at(o):at(o + 1)], "utf-8")   # noqa: E731
    elif pa.types.is_boolean(typ):
        data = column.fill_null(False).to_numpy(zero_copy_only=False).item
    elif pa.types.is_date32(typ):
        days = np.frombuffer(column.buffers()[1], dtype=np.int32)[start:start + n].item

        def data(o):
            try:
                return _date_from_ordinal(days(o) + _EPOCH_ORDINAL)
            except (OverflowError, ValueError):      # ±infinity (infinity.py)
                if days(o) not in (infinity.INT32_MAX, infinity.INT32_MIN):
                    raise
                return infinity.of("DATE", days(o) > 0)
    elif pa.types.is_timestamp(typ) and typ.tz is None and typ.unit == "us":
        micros = np.frombuffer(column.buffers()[1], dtype=np.int64)[start:start + n].item

        def data(o):
            try:
                return _EPOCH + _timedelta(microseconds=micros(o))
            except OverflowError:                    # ±infinity (infinity.py)
                if micros(o) not in (infinity.INT64_MAX, infinity.INT64_MIN):
                    raise
                return infinity.of("TIMESTAMP", micros(o) > 0)
    else:
        return lambda o: py_values(column.slice(o, 1))[0]
    if not column.null_count:
        return data
    valid = column.is_valid().to_numpy(zero_copy_only=False).item
    return lambda o: data(o) if valid(o) else None


def _row_reader(getters: list) -> Callable[[int], tuple]:
    """fn(offset) -> the row tuple from per-column getters, one tuple display for up to
    8 columns (no loop, no inner frame), a comprehension beyond."""
    n = len(getters)
    if n == 0 or n > 8:
        return lambda o: tuple([get(o) for get in getters])
    a, b, c, d, e, f, g, h = list(getters) + [None] * (8 - n)
    return (None,
            lambda o: (a(o),),
            lambda o: (a(o), b(o)),
            lambda o: (a(o), b(o), c(o)),
            lambda o: (a(o), b(o), c(o), d(o)),
            lambda o: (a(o), b(o), c(o), d(o), e(o)),
            lambda o: (a(o), b(o), c(o), d(o), e(o), f(o)),
            lambda o: (a(o), b(o), c(o), d(o), e(o), f(o), g(o)),
            lambda o: (a(o), b(o), c(o), d(o), e(o), f(o), g(o), h(o)))[n]


class Chunk:
    """A frozen RecordBatch, its rowids, and a lazily built row-access cache."""

    __slots__ = ("batch", "rowids", "id", "_dense_start", "_pycols", "first_rowid",
                 "_reader")

    def __init__(self, batch: pa.RecordBatch, rowids: np.ndarray) -> None:
        self.batch = batch
        self.rowids = rowids
        self.id = next(_chunk_ids)   # identity used by branch diff
        n = len(rowids)
        dense = n and int(rowids[-1]) - int(rowids[0]) + 1 == n
        self._dense_start = int(rowids[0]) if dense else None
        self._pycols: list | None = None
        self._reader: Callable[[int], tuple] | None = None
        self.first_rowid = int(rowids[0]) if n else 0

    def __len__(self) -> int:
        return len(self.rowids)

    def offset_of(self, rowid: int) -> int | None:
        if self._dense_start is not None:
            off = rowid - self._dense_start
            return off if 0 <= off < len(self.rowids) else None
        off = int(np.searchsorted(self.rowids, rowid))
        return off if off < len(self.rowids) and self.rowids[off] == rowid else None

    def row(self, offset: int) -> tuple:
        cols = self._pycols
        if cols is None:
            reader = self._reader     # point_row's reader, without its call when made
            return reader(offset) if reader is not None else self.point_row(offset)
        return row_getter(len(cols))(cols, offset)

    def point_row(self, offset: int) -> tuple:
        """The row at ``offset`` for a point read, read straight from the Arrow buffers
        (~0.1 µs a number, ~0.3 µs a string; nulls and other types ~1 µs). Nothing is
        converted ahead or cached: converting a block of rows on its second read (as
        this once did) cost ~1 ms, left thousands of tuples for the garbage collector
        and kept every block ever read twice as Python objects, to save ~0.3 µs a read."""
        reader = self._reader
        if reader is None:
            reader = self._reader = _row_reader([_value_getter(c) for c in self.batch.columns])
        return reader(offset)

    def patched(self, changes: list[tuple[int, tuple]]) -> "Chunk":
        """A chunk with the rows at these offsets replaced, same rowids (an UPDATE fold).
        Columns no change touches (known from the cached Python columns) are shared,
        Arrow array and Python list alike: an UPDATE usually sets one or two columns."""
        changes = sorted(changes, key=itemgetter(0))
        old = self._pycols
        width = self.batch.num_columns
        offsets, rows = zip(*changes)
        # the new values column by column, transposed in C (zip), not one Python loop
        # per column for the comparison and another for the new array
        news = [list(values) for values in zip(*rows)]
        offs = np.array(offsets, np.int64)
        held = self._numerics_held(news)
        if held is not self:
            return held.patched(changes)
        if old is not None:
            touched = [j for j in range(width)
                       if any(old[j][o] != v for o, v in zip(offsets, news[j]))]
        else:   # the changed rows' current values, column by column (one take each)
            at = pa.array(offs)
            touched = [j for j in range(width)
                       if py_values(self.batch.column(j).take(at)) != news[j]]
        if not touched:
            return self
        mask = np.zeros(len(self.rowids), bool)
        mask[offs] = True
        amask = pa.array(mask)
        cols = list(self.batch.columns)
        for j in touched:
            col = cols[j]
            new = news[j]
            try:
                cols[j] = pc.replace_with_mask(col, amask, numeric_arrays.array_of(new, col.type))
            except pa.ArrowNotImplementedError:   # types without a kernel (e.g. intervals)
                values = list(self.py_columns()[j])
                for (o, _), v in zip(changes, new):
                    values[o] = v
                cols[j] = pa.array(values, col.type)
        out = Chunk(pa.RecordBatch.from_arrays(cols, schema=self.batch.schema), self.rowids)
        if old is not None:   # keep point reads warm: patched copies of the touched columns
            pycols = list(old)
            for j in touched:
                col = list(old[j])
                for o, row in changes:
                    col[o] = row[j]
                pycols[j] = tuple(col)
            out._pycols = pycols
        return out

    def _numerics_held(self, news: list) -> "Chunk":
        """This chunk, or (when new values of a decimal128 column show another scale or
        are keys: an unconstrained numeric column, numeric_arrays.stored_decimal) a copy
        holding such columns as keys, so every value keeps its own display scale."""
        cols = None
        for j, c in enumerate(self.batch.columns):
            if not numeric_arrays.is_decimal(c.type):
                continue
            s = c.type.scale
            if any(v is not None and (type(v) is bytes or numeric.scale_of(v) != s)
                   for v in news[j]):
                cols = cols or list(self.batch.columns)
                cols[j] = numeric_arrays.to_keys(c)
        if cols is None:
            return self
        fields = [f.with_type(c.type) for f, c in zip(self.batch.schema, cols)]
        return Chunk(pa.RecordBatch.from_arrays(cols, schema=pa.schema(fields)), self.rowids)

    def replaced(self, offsets: np.ndarray, rows: pa.Table, columns) -> "Chunk":
        """A chunk with the rows at ascending ``offsets`` replaced by ``rows`` (same
        rowids: a bulk UPDATE in place); only ``columns`` are rewritten, others shared."""
        mask = np.zeros(len(self.rowids), bool)
        mask[offsets] = True
        amask = pa.array(mask)
        cols = list(self.batch.columns)
        for j in columns:
            new = rows.column(j).combine_chunks()
            if new.type != cols[j].type and (numeric_arrays.is_decimal(new.type) or
                                             numeric_arrays.is_decimal(cols[j].type)):
                # an unconstrained numeric held as decimal128 (numeric_arrays.stored_decimal)
                (cols[j], new), _ = numeric_arrays.unify([cols[j], new], pa.binary())
            try:
                cols[j] = pc.replace_with_mask(cols[j], amask, new)
            except pa.ArrowNotImplementedError:   # types without a kernel (e.g. intervals)
                values = infinity.pylist(cols[j])
                for o, v in zip(offsets.tolist(), infinity.pylist(new)):
                    values[o] = v
                cols[j] = pa.array(values, cols[j].type)
        schema = pa.schema([f.with_type(c.type) for f, c in zip(self.batch.schema, cols)])
        return Chunk(pa.RecordBatch.from_arrays(cols, schema=schema), self.rowids)

    def py_columns(self) -> list:
        """Python values per column, built once: 0.6 µs per row fetch against 6.5 µs via
        Scalar.as_py (ENGINE-MEASUREMENTS §3). Tuples, not lists: a tuple holding only
        atoms (ints, floats, str, None) is untracked by the cyclic garbage collector
        after its first collection, so 64k values per column cost full collections
        nothing, where a list would be walked element by element every time."""
        cols = self._pycols
        if cols is None:
            cols = self._pycols = [tuple(py_values(c)) for c in self.batch.columns]
        return cols


def rows_to_batch(rows: Sequence[tuple], schema: pa.Schema) -> pa.RecordBatch:
    if not rows:
        return pa.RecordBatch.from_arrays([pa.array([], f.type) for f in schema], schema=schema)
    # one list per column, not zip(*rows): zip holds an iterator per row, and a young
    # collection landing mid-transpose would promote thousands of them to the oldest
    # generation (each such batch brings the next full collection closer; issue 10)
    # (an unconstrained numeric's rows may hold Decimals read from decimal128 chunks:
    # array_of makes them keys)
    arrays = [pa.array(list(map(itemgetter(i), rows)), type=f.type)
              if not numeric_arrays.is_decimal(f.type) and not pa.types.is_binary(f.type) else
              numeric_arrays.array_of(list(map(itemgetter(i), rows)), f.type)
              if pa.types.is_binary(f.type) else
              _decimal_column(list(map(itemgetter(i), rows)), f.type)
              for i, f in enumerate(schema)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _decimal_column(values: list, t):
    """A numeric(p, s) column's rows (Decimals as fitted, or keys and numbers not fitted
    yet: their typmod check follows) as decimal128(p, s)."""
    try:
        return pa.array(values, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array([None if v is None else numeric.fit(numeric.as_decimal(v), t.precision,
                                                             t.scale) for v in values], type=t)


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Chunks keep the schema they were written with; nullability flags may differ. An
    unconstrained numeric column a chunk holds as decimal128 is read as keys here (the
    one form every reader but a scan expects: numeric_arrays.stored_decimal)."""
    if batch.schema.names == schema.names and batch.schema.types == schema.types:
        return batch if batch.schema.equals(schema) else pa.RecordBatch.from_arrays(
            batch.columns, schema=schema)
    if batch.schema.names == schema.names and all(
            numeric_arrays.stored_as(g, w) for g, w in zip(batch.schema.types, schema.types)):
        return pa.RecordBatch.from_arrays(
            [c if c.type == f.type else numeric_arrays.to_keys(c)
             for c, f in zip(batch.columns, schema)], schema=schema)
    raise errors.InternalError("chunk schema does not match table schema")


def conform_all(batches: list, schema: pa.Schema) -> tuple[list, pa.Schema]:
    """``batches`` (each of ``schema`` or holding decimal128 for its keys columns) in
    one schema: an unconstrained numeric column stays decimal128 where every batch holds
    it so at one scale (numeric_arrays.unify), else keys. Returns (batches, schema)."""
    if all(b.schema.types == schema.types for b in batches):
        return [conform(b, schema) for b in batches], schema
    for b in batches:
        if b.schema.names != schema.names or not all(
                numeric_arrays.stored_as(g, w) for g, w in zip(b.schema.types, schema.types)):
            raise errors.InternalError("chunk schema does not match table schema")
    columns = [list(b.columns) for b in batches]
    fields = list(schema)
    for j, f in enumerate(schema):
        if all(b.schema.types[j] == f.type for b in batches):
            continue
        arrays, t = numeric_arrays.unify([cols[j] for cols in columns], f.type)
        for cols, a in zip(columns, arrays):
            cols[j] = a
        fields[j] = f.with_type(t)
    out = pa.schema(fields, schema.metadata)
    return [pa.RecordBatch.from_arrays(cols, schema=out) for cols in columns], out


def rechunk(table: pa.Table) -> list[pa.RecordBatch]:
    """Batches of about CHUNK_ROWS rows: small input batches are merged (scan speed)."""
    batches = table.to_batches(max_chunksize=CHUNK_ROWS)
    if len(batches) > 1 and min(b.num_rows for b in batches[:-1]) < CHUNK_ROWS // 4:
        batches = table.combine_chunks().to_batches(max_chunksize=CHUNK_ROWS)
    return [b for b in batches if b.num_rows]
