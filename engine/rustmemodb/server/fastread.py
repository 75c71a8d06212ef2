"""A prepared point SELECT's Bind [Describe] Execute Sync answered in one step.

What a driver sends for each execution of a prepared key lookup in autocommit
(pgbench -S -M prepared, psycopg after its prepare threshold, JDBC) is the same bytes
every time but for the parameter values: the portal and statement names, the format
codes, the parameter count and the result formats. ``PreparedRead`` keeps, per
prepared statement, those bytes as they came the first time, a decoder per parameter,
the engine's reader of the cached plan (``Session.point_reader``), the encoder of each
result column and the RowDescription; a later Bind whose fixed bytes are the same is
then answered by decoding its values, one index probe and the DataRows, with no
message objects, no portal and no general statement path in between.

Whatever does not fit gives False with nothing appended, and the message goes its
ordinary way, which also reports any error: other bytes than the ones kept (other
formats, another parameter count), a value that does not decode, a statement that
cannot be answered now (a transaction, temporary tables, a privilege the role lacks:
the reader declines) or whose plan changed (DDL: the reader is stale and the statement
gets a new one on a later execution). A point read changes nothing, so running it
again the ordinary way is always safe.

A point INSERT/UPDATE/DELETE's Bind is decoded the same way (``BindShape``, kept as
``PreparedWrite``, with the engine's writer of the cached plan, ``Session.point_writer``);
the session then runs the write (``_point_write``: its reply goes out once its commit
is durable). ``RowWriter`` also writes the rows of a
simple-protocol Query of one key probe (``ClientSession._simple_read``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import types
from ..api.cursor import rows_to_python
from . import messages as m
from . import pgtypes
from .messages import _H, _I32

_NULL = b"\xff\xff\xff\xff"
_READY_IDLE = m.ready(b"I")
_CONVERTED = frozenset((types.UUID, types.JSON, types.INTERVAL, types.MONEY, types.TIMETZ,
                        types.NUMERIC) +
                       types.NETWORK_TYPES)
# CommandComplete of a point SELECT, by row count: one list index per reply.
_SELECT_COMPLETE = [m.command_complete(f"SELECT {n}") for n in range(65)]


def _text_decoder(fn: Callable[[str], Any] | None) -> Callable[[bytes], Any]:
    if fn is None or fn is str:
        return bytes.decode
    if fn is pgtypes._parse_int:
        # int() of the bytes: what it accepts (ASCII digits, sign, spaces, underscores)
        # _parse_int reads the same; anything else raises and goes the ordinary way.
        return int
    return lambda raw: fn(raw.decode())


def decoder(fmt: int, oid: int, slot_type: str) -> Callable[[bytes], Any] | None:
    """bytes -> value as ``pgtypes.decode_param`` reads a parameter in this format, of
    this type oid, for a slot of this engine type; None where that raises or where the
    value is an array (read the ordinary way)."""
    if oid in pgtypes._ARRAY_ELEMENT or types.is_array(slot_type):
        return None
    if fmt == 1:
        fn = pgtypes._BIN_IN_BY_OID.get(oid)
        if fn is None and oid == 0 and slot_type in pgtypes.OID_OF_TYPE:
            fn = pgtypes._BIN_IN_BY_OID.get(pgtypes.oid_of(slot_type))
        return fn
    if oid in (0, pgtypes.UNKNOWN):
        return _text_decoder(pgtypes._TEXT_IN_BY_TYPE.get(slot_type))
    fn = pgtypes._TEXT_IN_BY_OID.get(oid)
    return None if fn is None else _text_decoder(fn)


class RowWriter:
    """The DataRows and CommandComplete of a point SELECT's few rows, for its columns in
    these result formats, and their RowDescription (when the caller sends one)."""

    __slots__ = ("columns", "convert", "description", "encoders", "width")

    def __init__(self, columns: list, formats: list[int], description: bytes = b"") -> None:
        self.columns = columns
        self.encoders = [pgtypes.binary_encoder(t) if f == 1 else pgtypes.text_encoder(t)
                         for (_, t), f in zip(columns, formats)]
        self.convert = any(t in _CONVERTED for _, t in columns)
        self.width = _H.pack(len(columns))
        self.description = description

    def write(self, rows: list, out: bytearray) -> None:
        if self.convert:
            rows = rows_to_python(rows, pgtypes.conversion_columns(self.columns), python=False)
        width, encoders, pack = self.width, self.encoders, _I32.pack
        for row in rows:
            parts = [width]
            for value, encode in zip(row, encoders):
                if value is None:
                    parts.append(_NULL)
                else:
                    cell = encode(value)
                    parts.append(pack(len(cell)))
                    parts.append(cell)
            body = b"".join(parts)
            out += b"D"
            out += pack(len(body) + 4)
            out += body
        out += _SELECT_COMPLETE[len(rows)] if len(rows) < len(_SELECT_COMPLETE) \
            else m.command_complete(f"SELECT {len(rows)}")


class BindShape:
    """The fixed bytes of a statement's Bind bodies (unnamed portal, the statement's
    name, parameter formats and count; result formats) as one came, and a decoder per
    parameter: a later Bind with the same fixed bytes decodes without a parser."""

    __slots__ = ("decoders", "formats", "prefix", "tail")

    def __init__(self, prefix: bytes, tail: bytes, decoders: list, formats: list[int]) -> None:
        self.prefix = prefix          # portal, name, parameter formats and count
        self.tail = tail              # result formats
        self.decoders = decoders
        self.formats = formats        # result format per column

    @classmethod
    def of(cls, stmt, body: bytes) -> BindShape | None:
        """From a Bind body of the unnamed portal to ``stmt`` that parses, or None (a
        format this module does not decode, a count that does not fit)."""
        portal, name, codes, raw, result_codes = m.parse_bind(body)
        n = len(raw)
        if portal or n != len(stmt.param_oids):
            return None
        if not {0, 1}.issuperset(codes) or not {0, 1}.issuperset(result_codes):
            return None
        fmts = codes * n if len(codes) == 1 else (codes or [0] * n)
        ncols = len(stmt.columns) if stmt.columns is not None else 0
        formats = result_codes * ncols if len(result_codes) == 1 else (result_codes or [0] * ncols)
        if len(fmts) != n or len(formats) != ncols:
            return None
        decoders = [decoder(fmts[i], stmt.param_oids[i], stmt.param_types[i])
                    for i in range(n)]
        if None in decoders:
            return None
        # The fixed bytes: up to the first parameter's length, and after the last value.
        head = len(name.encode()) + 2 + 2 + 2 * len(codes) + 2
        pos = head
        for value in raw:
            pos += 4 + (len(value) if value is not None else 0)
        return cls(body[:head], body[pos:], decoders, formats)

    def params(self, data, start: int, end: int) -> list | None:
        """The parameters of the Bind body ``data[start:end]``, or None when its fixed
        bytes differ. May raise (a value that does not decode)."""
        prefix = self.prefix
        pos = start + len(prefix)
        if data[start:pos] != prefix:
            return None
        params = []
        unpack = _I32.unpack_from
        for decode in self.decoders:
            if pos + 4 > end:
                return None
            size = unpack(data, pos)[0]
            pos += 4
            if size < 0:
                if size != -1:
                    return None
                params.append(None)
                continue
            stop = pos + size
            if stop > end:
                return None
            params.append(decode(data[pos:stop]))
            pos = stop
        if data[pos:end] != self.tail:
            return None
        return params


class PreparedWrite:
    """A prepared point INSERT/UPDATE/DELETE: its Bind's shape and, once made, the
    engine's writer of its cached plan (``Session.point_writer``; None: the session
    runs it through ``execute``)."""

    __slots__ = ("shape", "writer")

    def __init__(self, shape: BindShape) -> None:
        self.shape = shape
        self.writer = None


class PreparedRead:
    """The one-step answer of one prepared point SELECT (module docstring)."""

    __slots__ = ("reader", "rows", "shape")

    def __init__(self, reader, shape: BindShape, rows: RowWriter) -> None:
        self.reader = reader
        self.shape = shape
        self.rows = rows

    @classmethod
    def build(cls, stmt, session, body: bytes, row_description) -> PreparedRead | None:
        """From a Bind body of the unnamed portal to ``stmt`` that parses: None unless
        the statement's cached plan is a bare key probe (``session.point_reader``)
        returning the columns the statement was described with."""
        if stmt.columns is None:
            return None
        shape = BindShape.of(stmt, body)
        if shape is None:
            return None
        reader = session.point_reader(stmt.sql)
        if reader is None or reader.columns != (stmt.engine_columns or stmt.columns):
            return None
        return cls(reader, shape, RowWriter(stmt.columns, shape.formats,
                                            row_description(stmt.columns, shape.formats,
                                                            stmt.sources)))

    def answer(self, data, start: int, end: int, describe: bool, out: bytearray) -> bool:
        """The replies, BindComplete to ReadyForQuery, to the Bind body ``data[start:end]``
        [+ Describe] + Execute + Sync, appended to ``out``; False, with nothing appended,
        whenever the ordinary way must answer (module docstring). May raise (a value
        that does not decode): the caller then drops what was appended."""
        params = self.shape.params(data, start, end)
        if params is None:
            return False
        rows = self.reader(params)
        if rows is None:
            return False
        out += m.BIND_COMPLETE
        if describe:
            out += self.rows.description
        self.rows.write(rows, out)
        out += _READY_IDLE
        return True


