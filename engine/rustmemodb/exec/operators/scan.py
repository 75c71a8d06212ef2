"""Table scans: stored chunks (with pushed-down filter), registered Arrow data, VALUES.

A table scan hands out the stored RecordBatches themselves (zero-copy) when no
row of a chunk is deleted; the pushed-down predicate is evaluated per chunk,
so a selective filter over a big table never materialises the whole table.
An index lookup chosen by the optimizer replaces the scan with a probe.
"""
from __future__ import annotations

from ... import infinity

import pyarrow as pa

from ... import numeric_arrays, types
from ...plan.logical import LogicalArrowScan, LogicalScan, LogicalValues
from ..expr.row import try_compile_row
from ..expr.vector import evaluate
from ..run import operator


@operator(LogicalScan)
def scan(node: LogicalScan, ctx) -> pa.Table:
    version = ctx.root.tables[node.table]
    proj = node.projection
    if node.index_lookup is not None:
        from .index_scan import index_scan
        return index_scan(node, version, ctx)    # prune_columns leaves index scans whole
    if node.filter is None and proj is not None and not node.with_rowid:
        # only the columns read, selected before deletion masks filter (no copies of
        # the others); the chunks' own columns otherwise
        batches, schema = version.vector_batches(columns=list(proj))
        table = pa.Table.from_batches(batches, schema=schema)
        return table.rename_columns([n for n, _ in node.columns])
    # numerics in the vector form where the chunks hold it (numeric_arrays.stored_decimal)
    batches, schema = version.vector_batches(with_rowid=node.with_rowid)
    if node.filter is not None:
        kept = []
        for batch in batches:
            ctx.check_cancel()
            t = pa.Table.from_batches([batch], schema=schema)
            mask = evaluate(node.filter, t, ctx)
            if proj is not None:      # only the columns the query reads (prune_columns)
                t = t.select(proj)
            if isinstance(mask, pa.Scalar):
                if mask.as_py() is True:
                    kept.append(t)
                continue
            kept.append(t.filter(mask))
        table = pa.concat_tables(kept) if kept else (
            schema.empty_table() if proj is None else schema.empty_table().select(proj))
    else:
        table = pa.Table.from_batches(batches, schema=schema)
        if proj is not None:
            table = table.select(proj)
    return table.rename_columns([n for n, _ in node.columns])


@operator(LogicalArrowScan)
def arrow_scan(node: LogicalArrowScan, ctx) -> pa.Table:
    data = node.data
    wanted = pa.schema([pa.field(n, types.arrow_type(t)) for n, t in node.columns])
    if data.schema.equals(wanted):
        return data
    # Normalise to engine types (int32 -> int64, string -> large_string, dictionaries decoded).
    arrays = []
    for col, field in zip(data.columns, wanted):
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if col.type != field.type and not numeric_arrays.keep_form(col, field.type):
            # Timestamps keep microseconds (pandas' nanoseconds are truncated, as DuckDB
            # does); everything else must convert exactly (uint64 range is checked when
            # the object is registered, api/arrow_io.py).
            col = col.cast(field.type, safe=not pa.types.is_timestamp(field.type))
        arrays.append(col)
    return pa.Table.from_arrays(arrays, names=wanted.names)


@operator(LogicalValues)
def values(node: LogicalValues, ctx) -> pa.Table:
    if not node.columns:
        return rows_only(len(node.rows))
    rows = evaluate_value_rows(node, ctx)
    arrays = [numeric_arrays.array_of([r[i] for r in rows],
                                      types.arrow_type(t if t != types.NULL else types.TEXT))
              for i, (_, t) in enumerate(node.columns)]
    return pa.Table.from_arrays(arrays, names=[c for c, _ in node.columns])


def rows_only(n: int) -> pa.Table:
    """A table of ``n`` rows and no columns (the input of SELECT without FROM)."""
    return pa.table({"_": pa.nulls(n, pa.bool_())}).select([])


def evaluate_value_rows(node: LogicalValues, ctx) -> list[tuple]:
    """Each VALUES row as a tuple of storage values (row path when possible)."""
    out = []
    for row in node.rows:
        values = []
        for e in row:
            fn = try_compile_row(e)
            if fn is not None:
                values.append(fn((), ctx.params))
            else:
                v = evaluate(e, _ONE_ROW, ctx)
                values.append(_scalar_value(v, e.type))
        out.append(tuple(values))
    return out


_ONE_ROW = pa.table({"__row": pa.nulls(1, pa.bool_())})


def _scalar_value(v, sql_type):
    if isinstance(v, pa.Scalar):
        return infinity.pyscalar(v)
    return v[0].as_py()
