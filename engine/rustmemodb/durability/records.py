"""Log records: one committed transaction's op log as bytes, and its replay.

A record is logical: it says what the transaction did, not which bytes changed.

    ("C", version, catalog_version, ops, sequences, checks)

``ops`` mirror ``txn/transaction.py``, in order:

    ("i", table, rows, first_rowid)      InsertOp: row tuples (``values.py``)
    ("b", table, ipc_bytes, first_rowid) BulkInsertOp: the Arrow table as an IPC stream
    ("d", table, rowids_int64_bytes)     DeleteOp
    ("u", table, rowids_int64_bytes, rows) UpdateOp: rows changed in place
    ("U", table, rowids_int64_bytes, ipc_bytes) BulkUpdateOp: a set-based UPDATE in
                                         place, the new rows as an Arrow IPC stream
    ("t", table, encoded_version|None)   ReplaceTableOp (DDL): see ``encode_version``
    ("v", name, (sql, columns[, comment])|None)   ViewOp
    ("f", name, (params, defaults, returns, body, volatility)|None)   FunctionOp
    ("s", name, value)                   SequenceOp (value None: dropped)
    ("e", name, [label, ...]|None)       EnumOp: CREATE/ALTER TYPE ... ENUM, DROP TYPE
    ("q", name, [type, start, ...]|None) SequenceDefOp: a sequence's options
                                         (storage/sequence_defs.py ``encode``)
    ("D", name, [base, default, not_null, [[name, sql, validated], ...]]|None)
                                         DomainOp: CREATE/ALTER DOMAIN, DROP DOMAIN
    ("c", name, type string|None)        CompositeOp: CREATE TYPE ... AS (...), DROP TYPE
    ("a", catalog)                       AuthOp: roles, owners, grants (storage/roles.py
                                         ``encode``: plain lists and strings)

Replay applies them with the same ``TableVersion`` operations the transaction
used, to the state the commit saw. That state is rebuilt exactly (checkpoint
chunks keep their rowids, and every operation is deterministic: the tail freezes
at the same row, compaction picks the same chunks), so rowids come out the same.
A rebased commit's private rowids are mapped to the new ones exactly as
``txn/commit.py`` does. ``checks`` holds each touched table's ``live_rows``,
``next_rowid`` and chunk count after the commit; replay compares them, so a
divergence is reported (XX001) instead of silently loading different data.

A table version written whole (DDL, ``Database.restore``, unknown op types) is
``encode_version``: its chunks either refer to a chunk of the state *before the
record* (``("ref", table, index)``: an ALTER or merge usually shares most of
them) or carry Arrow IPC bytes. ``("R", ...)`` records carry every changed table
that way; they are the fallback for whatever the op log cannot express.

The envelope and row values are MessagePack with explicit value tags
(``values.py``); Arrow payloads are IPC streams, fully validated before use;
rows are checked against their table's schema before they are applied. So a
record, even a hostile one with a valid checksum, can only fail to apply
(XX001), never run code.
"""
from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pyarrow as pa

from .. import composite, numeric_arrays
from ..storage.root import (DomainDef, FunctionDef, Root, ViewDef, with_composite,
                            with_domain, with_enum)
from ..storage.table import Chunk, TableVersion
from ..storage import roles, sequence_defs
from ..txn.transaction import (AuthOp, BulkInsertOp, BulkUpdateOp, CompositeOp, DeleteOp,
                               DomainOp, EnumOp,
                               FunctionOp, InsertOp, LockOp, ReplaceTableOp, SequenceDefOp,
                               SequenceOp, UpdateOp, ViewOp)
from . import tables as T
from . import values
from .problems import data_corrupted

_KNOWN = (InsertOp, BulkInsertOp, DeleteOp, UpdateOp, BulkUpdateOp, ReplaceTableOp, ViewOp,
          SequenceOp, AuthOp, FunctionOp, LockOp, EnumOp, SequenceDefOp, DomainOp,
          CompositeOp)


# ---- encoding ---------------------------------------------------------------------------

def encode_commit(ops: list, before: Root, after: Root) -> bytes:
    """The record of a commit that turned ``before`` into ``after``."""
    if len(ops) == 1 and (type(ops[0]) is UpdateOp or type(ops[0]) is DeleteOp):
        # An autocommit point UPDATE/DELETE: the same record as the loop below makes,
        # without its sets and dict (written for every such commit).
        op = ops[0]
        table = op.table
        return values.pack(("C", after.version, after.catalog_version, [_row_change(op)],
                            {}, (_check(table, after.tables.get(table)),) if table else ()))
    if not all(type(op) in _KNOWN for op in ops):
        return encode_root(before, after)
    out = []
    touched = set()
    seqs = {}
    for op in ops:
        kind = type(op)
        if kind is LockOp:          # locks change nothing: nothing to log
            continue
        if kind is InsertOp:
            out.append(("i", op.table, op.rows, _first(op.rowids)))
        elif kind is BulkInsertOp:
            out.append(("b", op.table, arrow_bytes(op.data), _first(op.rowids)))
        elif kind is DeleteOp or kind is UpdateOp:
            out.append(_row_change(op))
        elif kind is BulkUpdateOp:
            out.append(("U", op.table, np.asarray(op.rowids, np.int64).tobytes(),
                        arrow_bytes(op.data)))
        elif kind is ReplaceTableOp:
            enc = None if op.version is None else encode_version(op.version, before)
            out.append(("t", op.table, enc))
        elif kind is ViewOp:
            view = op.view
            out.append(("v", op.name, None if view is None else encode_view(view)))
        elif kind is AuthOp:
            out.append(("a", None, roles.encode(op.catalog)))
            continue
        elif kind is FunctionOp:
            fn = op.function
            out.append(("f", op.name, None if fn is None else encode_function(fn)))
            continue
        elif kind is EnumOp:
            out.append(("e", op.name, None if op.labels is None else list(op.labels)))
            continue
        elif kind is SequenceDefOp:
            spec = op.definition
            out.append(("q", op.name, None if spec is None else sequence_defs.encode(spec)))
        elif kind is DomainOp:
            out.append(("D", op.name, None if op.domain is None else encode_domain(op.domain)))
            continue
        elif kind is CompositeOp:
            out.append(("c", op.name, op.sql_type))
            continue
        else:
            seqs[op.name] = after.sequences.get(op.name, op.value)
            continue
        touched.add(getattr(op, "table", None))
    checks = tuple(_check(name, after.tables.get(name)) for name in touched if name)
    return values.pack(("C", after.version, after.catalog_version, out, seqs, checks))


def encode_view(view: ViewDef) -> tuple:
    """A view as (sql, columns[, comment[, check option]]): the comment only when there is
    one (or a check option follows it), so logs written before COMMENT ON and CHECK OPTION
    existed and after read the same way."""
    out = (view.sql, view.columns)
    if view.defaults:
        return out + (view.comment, view.check_option, tuple(tuple(d) for d in view.defaults))
    if view.check_option is not None:
        return out + (view.comment, view.check_option)
    return out + (view.comment,) if view.comment is not None else out


def decode_view(name: str, enc) -> ViewDef:
    if not (isinstance(enc, (tuple, list)) and len(enc) in (2, 3, 4, 5)
            and isinstance(enc[0], str)
            and isinstance(enc[1], (tuple, list)) and all(isinstance(c, str) for c in enc[1])
            and (len(enc) == 2 or isinstance(enc[2], str) or (len(enc) >= 4 and enc[2] is None))
            and (len(enc) < 4 or enc[3] in ("local", "cascaded")
                 or (len(enc) == 5 and enc[3] is None))
            and (len(enc) < 5 or _view_defaults(enc[4]))):
        raise ValueError(f"malformed view record for {name!r}")
    return ViewDef(name, enc[0], tuple(enc[1]), enc[2] if len(enc) >= 3 else None,
                   enc[3] if len(enc) >= 4 else None,
                   tuple(tuple(d) for d in enc[4]) if len(enc) == 5 else ())


def _view_defaults(enc) -> bool:
    """Whether ``enc`` is a view's column defaults: ((column, SQL), ...)."""
    return isinstance(enc, (tuple, list)) and all(
        isinstance(d, (tuple, list)) and len(d) == 2 and all(isinstance(x, str) for x in d)
        for d in enc)


def encode_function(fn: FunctionDef) -> tuple:
    return (tuple(tuple(p) for p in fn.params), tuple(fn.defaults), fn.returns, fn.body,
            fn.volatility)


def decode_function(name: str, enc) -> FunctionDef:
    """A logged SQL function, checked field by field (plain strings and tuples only)."""
    def text(v) -> bool:
        return isinstance(v, str)
    ok = isinstance(enc, (tuple, list)) and len(enc) == 5
    if ok:
        params, defaults, returns, body, volatility = enc
        ok = (isinstance(params, (tuple, list)) and all(
            isinstance(p, (tuple, list)) and len(p) == 2 and text(p[0]) and text(p[1])
            for p in params) and isinstance(defaults, (tuple, list))
            and len(defaults) == len(params)
            and all(d is None or text(d) for d in defaults)
            and text(returns) and text(body) and text(volatility))
    if not ok:
        raise ValueError(f"malformed function record for {name!r}")
    return FunctionDef(name, tuple(tuple(p) for p in params), tuple(defaults), returns, body,
                       volatility)


def encode_root(before: Root, after: Root) -> bytes:
    """A record replacing every table that changed (restore, or ops we cannot express)."""
    tables = {}
    for name, version in after.tables.items():
        tables[name] = None if before.tables.get(name) is version else \
            encode_version(version, before)
    views = {n: encode_view(v) for n, v in after.views.items()}
    checks = tuple(_check(n, v) for n, v in after.tables.items())
    functions = {n: encode_function(f) for n, f in after.functions.items()}
    enums = {n: list(labels) for n, labels in after.enums.items()}
    seqdefs = {n: sequence_defs.encode(d) for n, d in after.seqdefs.items()}
    domains = {n: encode_domain(d) for n, d in after.domains.items()}
    return values.pack(("R", after.version, after.catalog_version, tables, views,
                        dict(after.sequences), checks, roles.encode(after.auth), functions,
                        enums, seqdefs, domains, dict(after.composites)))


def encode_domain(d: DomainDef) -> list:
    """A domain as logged and checkpointed: plain lists, strings and booleans."""
    return [d.base, d.default, d.not_null, [[n, sql, ok] for n, sql, ok in d.checks],
            d.parent, d.type, _listed(d.typmod)]


def _listed(t):
    return [_listed(v) for v in t] if isinstance(t, (list, tuple)) else t


def _tupled(t):
    return tuple(_tupled(v) for v in t) if isinstance(t, (list, tuple)) else t


def decode_domain(name: str, enc) -> DomainDef:
    """``encode_domain``'s list back, checked field by field (ValueError if malformed)."""
    ok = isinstance(enc, (list, tuple)) and len(enc) == 7 and isinstance(enc[0], str) \
        and (enc[1] is None or isinstance(enc[1], str)) and isinstance(enc[2], bool) \
        and isinstance(enc[3], (list, tuple)) and all(
            isinstance(c, (list, tuple)) and len(c) == 3 and isinstance(c[0], str)
            and isinstance(c[1], str) and isinstance(c[2], bool) for c in enc[3]) \
        and (enc[4] is None or isinstance(enc[4], str)) and isinstance(enc[5], str) \
        and (enc[6] is None or isinstance(enc[6], (list, tuple)))
    if not ok:
        raise ValueError(f"malformed domain record for {name!r}")
    return DomainDef(name, enc[0], enc[5], _tupled(enc[6]), enc[4], enc[1], enc[2],
                     tuple(tuple(c) for c in enc[3]))


def decode_composite(name: str, sql_type) -> str:
    """A composite type as logged: its type string (composite.py), read back to check."""
    if not composite.is_record(sql_type):
        raise ValueError(f"malformed composite type record for {name!r}")
    try:
        composite.fields_of(sql_type)
    except (ValueError, TypeError):
        raise ValueError(f"malformed composite type record for {name!r}") from None
    return sql_type


def decode_enum(name: str, labels) -> tuple[str, ...]:
    """An enum type's labels as logged: a non-empty list of distinct strings."""
    if not (isinstance(labels, (list, tuple)) and labels
            and all(isinstance(v, str) for v in labels) and len(set(labels)) == len(labels)):
        raise ValueError(f"malformed enum type record for {name!r}")
    return tuple(labels)


_ROWIDS = {n: struct.Struct(f"={n}q") for n in range(1, 9)}


def _row_change(op) -> tuple:
    """The record of an UpdateOp ("u": rowids and new rows) or a DeleteOp ("d")."""
    ids = _rowid_bytes(op.rowids)
    return ("u", op.table, ids, op.rows) if type(op) is UpdateOp else ("d", op.table, ids)


def _rowid_bytes(rowids) -> bytes:
    """Rowids as int64 bytes in native order: ``np.asarray(rowids, np.int64).tobytes()``,
    which a few rowids cost more than packing them."""
    packer = _ROWIDS.get(len(rowids)) if type(rowids) is list else None
    if packer is None:
        return np.asarray(rowids, np.int64).tobytes()
    return packer.pack(*rowids)


def _first(rowids) -> int:
    return int(rowids[0]) if len(rowids) else 0


def _check(name: str, version: TableVersion | None) -> tuple:
    if version is None:
        return (name, None)
    return (name, version.live_rows, version.next_rowid, len(version.chunks))


def arrow_bytes(data: pa.Table | pa.RecordBatch) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, data.schema) as writer:
        if isinstance(data, pa.Table):
            writer.write_table(data)
        else:
            writer.write_batch(data)
    return sink.getvalue().to_pybytes()


def read_arrow(buf) -> pa.Table:
    if not isinstance(buf, bytes):
        raise ValueError("malformed Arrow payload")
    table = pa.ipc.open_stream(pa.py_buffer(buf)).read_all()
    table.validate(full=True)
    return table


def encode_version(version: TableVersion, before: Root) -> tuple:
    # Chunks are compared in settled form (patches folded) on both sides: replay may
    # fold at other moments than the original run did, but settles to the same rows.
    version = version.settled()
    where = {}
    for name, v in before.tables.items():
        for i, chunk in enumerate(v.settled().chunks):
            where.setdefault(id(chunk), (name, i))
    chunks = []
    for chunk in version.chunks:
        ref = where.get(id(chunk))
        chunks.append(("ref",) + ref if ref is not None
                      else ("ipc", arrow_bytes(T.chunk_batch(chunk))))
    return (T.version_meta(version), chunks, [T.pack_mask(m) for m in version.dead],
            T.tail_rows(version), sorted(version.tail_dead))


# ---- replay -----------------------------------------------------------------------------

def apply_record(root: Root, payload: bytes) -> Root:
    """The root after replaying one record onto ``root`` (the state it was logged on)."""
    record = values.unpack(payload)
    if not isinstance(record, tuple) or not record:
        raise ValueError("malformed log record")
    if record[0] == "C":
        _, version, catalog, ops, seqs, checks = record
        new = _apply_ops(root, ops)
        if seqs:     # a sequence logged as None was dropped
            merged = {**new.sequences, **seqs}
            new = replace(new, sequences={k: v for k, v in merged.items() if v is not None})
    elif record[0] == "R":
        _, version, catalog, tables, views, seqs, checks = record[:7]
        new_tables = {n: root.tables[n] if enc is None else decode_version(enc, root)
                      for n, enc in tables.items()}
        functions = record[8] if len(record) > 8 else {}
        if not isinstance(functions, dict):
            raise ValueError("malformed functions in a log record")
        enums = record[9] if len(record) > 9 else {}
        if not isinstance(enums, dict):
            raise ValueError("malformed enum types in a log record")
        seqdefs = record[10] if len(record) > 10 else {}
        if not isinstance(seqdefs, dict):
            raise ValueError("malformed sequence definitions in a log record")
        domains = record[11] if len(record) > 11 else {}
        if not isinstance(domains, dict):
            raise ValueError("malformed domains in a log record")
        composites = record[12] if len(record) > 12 else {}
        if not isinstance(composites, dict):
            raise ValueError("malformed composite types in a log record")
        new = Root(tables=new_tables,
                   views={n: decode_view(n, enc) for n, enc in views.items()},
                   sequences=dict(seqs),
                   auth=roles.decode(record[7]) if len(record) > 7 else None,
                   functions={n: decode_function(n, enc) for n, enc in functions.items()},
                   enums={n: decode_enum(n, enc) for n, enc in enums.items()},
                   seqdefs={n: sequence_defs.decode(n, enc) for n, enc in seqdefs.items()},
                   domains={n: decode_domain(n, enc) for n, enc in domains.items()},
                   composites={n: decode_composite(n, enc) for n, enc in composites.items()})
    else:
        raise data_corrupted(f"unknown log record type {record[0]!r}")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (version, catalog)):
        raise ValueError("malformed record version")
    _verify(new, checks)
    return replace(new, version=version, catalog_version=catalog)


def _apply_ops(root: Root, ops: list) -> Root:
    before = root
    rowid_map: dict = {}
    for op in ops:
        kind, name = op[0], op[1]
        if kind == "i":
            T.check_rows(root.tables[name].schema, op[2])
            version, ids = root.tables[name].insert_rows(
                T.thaw_arrays(root.tables[name].schema, op[2]))
            _remember(rowid_map, name, op[3], ids[0] if ids else 0, len(ids))
            root = root.with_table(name, version)
        elif kind == "b":
            data = _logged_rows(root, name, op[2], "a bulk insert into")
            version, ids = root.tables[name].insert_arrow(data)
            _remember(rowid_map, name, op[3], int(ids[0]) if len(ids) else 0, len(ids))
            root = root.with_table(name, version)
        elif kind == "d":
            mapped = _mapped_ids(rowid_map, name, op[2])
            root = root.with_table(name, root.tables[name].delete(mapped))
        elif kind == "u":
            mapped = _mapped_ids(rowid_map, name, op[2])
            T.check_rows(root.tables[name].schema, op[3])
            version, done = root.tables[name].update_rows(
                mapped, T.thaw_arrays(root.tables[name].schema, op[3]))
            _check_all_updated(name, done, mapped)
            root = root.with_table(name, version)
        elif kind == "U":
            data = _logged_rows(root, name, op[3], "a bulk update of")
            mapped = np.asarray(_mapped_ids(rowid_map, name, op[2]), np.int64)
            if len(mapped) != data.num_rows:
                raise ValueError(f'a bulk update of "{name}" has {len(mapped)} rowids for '
                                 f'{data.num_rows} rows')
            version, done, _ = root.tables[name].update_arrow(mapped, data)
            _check_all_updated(name, done, mapped)
            root = root.with_table(name, version)
        elif kind == "t":
            root = (root.without_table(name) if op[2] is None
                    else root.with_table(name, decode_version(op[2], before), ddl=True))
        elif kind == "v":
            root = (root.without_view(name) if op[2] is None
                    else root.with_view(decode_view(name, op[2])))
        elif kind == "a":
            root = replace(root, auth=roles.decode(op[2]))
        elif kind == "f":
            funcs = dict(root.functions)
            if op[2] is None:
                funcs.pop(name, None)
            else:
                funcs[name] = decode_function(name, op[2])
            root = replace(root, functions=funcs)
        elif kind == "e":
            root = with_enum(root, name, None if op[2] is None else decode_enum(name, op[2]))
        elif kind == "q":
            defs = dict(root.seqdefs)
            if op[2] is None:
                defs.pop(name, None)
            else:
                defs[name] = sequence_defs.decode(name, op[2])
            root = replace(root, seqdefs=defs)
        elif kind == "D":
            root = with_domain(root, name,
                               None if op[2] is None else decode_domain(name, op[2]))
        elif kind == "c":
            root = with_composite(root, name,
                                  None if op[2] is None else decode_composite(name, op[2]))
        else:
            raise data_corrupted(f"unknown log op {kind!r}")
    return root


def _logged_rows(root: Root, name: str, ipc: bytes, what: str):
    """A logged Arrow batch of table ``name``'s rows, checked against its schema."""
    data = read_arrow(ipc)
    arrow = root.tables[name].schema.arrow_schema
    if data.schema.names != arrow.names or not all(
            numeric_arrays.stored_as(g, w) for g, w in zip(data.schema.types, arrow.types)):
        raise ValueError(f'{what} "{name}" does not match its schema')
    return data


def _check_all_updated(name: str, done, mapped) -> None:
    if len(done) != len(mapped):
        raise data_corrupted(f'log replay: an update of table "{name}" names rows '
                             f'that do not exist')


# Inserted row ranges (private first rowid -> replayed first rowid), per table. A rebased
# transaction's deletes of its own rows name the private rowids; pre-existing rows
# keep theirs. Ranges, not one entry per row: a bulk insert may be millions of rows.
def _remember(rowid_map: dict, table: str, old_first: int, new_first: int, n: int) -> None:
    if n and old_first != new_first:
        rowid_map.setdefault(table, []).append((old_first, old_first + n, new_first))


def _mapped_ids(rowid_map: dict, table: str, data: bytes) -> list[int]:
    """A logged int64 rowid array, each mapped as by ``_mapped``."""
    return [_mapped(rowid_map, table, r) for r in np.frombuffer(data, np.int64).tolist()]


def _mapped(rowid_map: dict, table: str, rowid: int) -> int:
    for lo, hi, new in rowid_map.get(table, ()):
        if lo <= rowid < hi:
            return new + rowid - lo
    return rowid


def decode_version(enc: tuple, before: Root) -> TableVersion:
    meta, chunk_refs, dead, tail, tail_dead = enc
    chunks = []
    for ref in chunk_refs:
        if ref[0] == "ref":
            if not isinstance(ref[2], int) or ref[2] < 0:
                raise ValueError("malformed chunk reference")
            chunks.append(before.tables[ref[1]].settled().chunks[ref[2]])
        else:
            batch = read_arrow(ref[1]).combine_chunks().to_batches()
            chunks.append(T.chunk_from_batch(batch[0]) if batch else _empty_chunk(ref[1]))
    return T.build_version(meta, chunks, dead, tail, tail_dead)


def _empty_chunk(buf) -> Chunk:
    schema = pa.ipc.open_stream(pa.py_buffer(buf)).schema
    return T.chunk_from_batch(pa.RecordBatch.from_pylist([], schema=schema))


def _verify(root: Root, checks: tuple) -> None:
    for check in checks:
        name = check[0]
        got = _check(name, root.tables.get(name))
        if got != tuple(check):
            raise data_corrupted(
                f'replaying the log diverged on table "{name}"',
                detail=f"expected (rows, next rowid, chunks) {check[1:]}, got {got[1:]}",
                hint="This is a bug in rustmemodb's recovery; please report it with the "
                     "database directory.")
