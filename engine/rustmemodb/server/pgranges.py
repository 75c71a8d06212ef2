"""The range types on the wire: their OIDs, text and binary formats (range_out,
range_send, range_in, range_recv), installed into pgtypes' tables.

Binary (rangetypes.c range_send): one flags byte (0x01 empty, 0x02 lower inclusive,
0x04 upper inclusive, 0x08 lower infinite, 0x10 upper infinite), then each finite
bound as its length and the subtype's binary form: int4 for int4range (4 bytes),
int8, numeric (base-10000 digits), date, timestamp and timestamptz. Values arrive
as the DB-API's ``ranges.Range``, or as the stored bytes on the point-read path.
"""
from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal
from typing import Any, Callable

from .. import ranges

# pgtypes, handed to ``install`` by pgtypes itself (it imports this module)
pgtypes: Any = None

_EMPTY, _LB_INC, _UB_INC, _LB_INF, _UB_INF = 0x01, 0x02, 0x04, 0x08, 0x10


def _as_range(kind, v) -> ranges.Range:
    return ranges.decode(kind, v) if isinstance(v, (bytes, bytearray)) else v


def _numeric_send(v: float) -> bytes:
    """numeric_send (``pgtypes.numeric_send``) of a float8's decimal digits: an integral
    one's exactly (12, not 12.0), another's shortest repr."""
    if v != v:
        return pgtypes.numeric_send("NaN")
    if v in (float("inf"), float("-inf")):
        return pgtypes.numeric_send("Infinity" if v > 0 else "-Infinity")
    return pgtypes.numeric_send(format(Decimal(int(v)) if v == int(v) else Decimal(repr(v)),
                                       "f"))


def _element_send(kind) -> Callable[[Any], bytes]:
    if kind.element == "INTEGER":
        return struct.Struct("!i" if kind.name == ranges.kinds.INT4RANGE else "!q").pack
    if kind.element == "FLOAT":
        return _numeric_send
    return pgtypes._BIN_OUT[kind.element]


def _element_recv(kind) -> Callable[[bytes], Any]:
    fn = pgtypes._BIN_IN_BY_OID[kind.element_oid]
    if kind.element == "FLOAT":
        return lambda b: float(fn(b))
    return fn


def _text_out(kind) -> Callable[[Any], str]:
    return lambda v: ranges.format_range(kind, _as_range(kind, v), pgtypes.WIRE_ZONE.get())


def _bin_out(kind) -> Callable[[Any], bytes]:
    send = _element_send(kind)

    def encode(v) -> bytes:
        r = _as_range(kind, v)
        if r.empty:
            return bytes([_EMPTY])
        flags = (_LB_INC if r.lower_inc else 0) | (_UB_INC if r.upper_inc else 0) | \
            (_LB_INF if r.lower is None else 0) | (_UB_INF if r.upper is None else 0)
        out = [bytes([flags])]
        for bound in (r.lower, r.upper):
            if bound is not None:
                data = send(bound)
                out.append(struct.pack("!i", len(data)) + data)
        return b"".join(out)
    return encode


def _text_in(kind) -> Callable[[str], Any]:
    return lambda text: ranges.parse_range(kind, text)


def _bin_in(kind) -> Callable[[bytes], Any]:
    recv = _element_recv(kind)

    def decode(data: bytes) -> ranges.Range:
        flags, pos = data[0], 1
        if flags & _EMPTY:
            return ranges.Range(empty=True, kind=kind)
        bounds = []
        for inf in (_LB_INF, _UB_INF):
            if flags & inf:
                bounds.append(None)
                continue
            (n,) = struct.unpack_from("!i", data, pos)
            bounds.append(recv(data[pos + 4:pos + 4 + n]))
            pos += 4 + n
        lower, upper = bounds
        if kind.element == "TIMESTAMPTZ":
            lower, upper = (None if b is None else b.astimezone(dt.timezone.utc)
                            for b in (lower, upper))
        flags_text = ("[" if flags & _LB_INC else "(") + ("]" if flags & _UB_INC else ")")
        return ranges.construct(kind, lower, upper, flags_text)
    return decode


def install(module) -> None:
    """Add the six range types (and their arrays) to pgtypes' OID, encoder and decoder
    tables."""
    global pgtypes
    pgtypes = module
    for kind in ranges.KINDS.values():
        pgtypes.OID_OF_TYPE[kind.name] = kind.oid
        pgtypes._TEXT_OUT[kind.name] = _text_out(kind)
        pgtypes._BIN_OUT[kind.name] = _bin_out(kind)
        pgtypes._TEXT_IN_BY_OID[kind.oid] = _text_in(kind)
        pgtypes._TEXT_IN_BY_TYPE[kind.name] = _text_in(kind)
        pgtypes._BIN_IN_BY_OID[kind.oid] = _bin_in(kind)
        pgtypes.ARRAY_OID[kind.oid] = kind.array_oid          # int4range[] ...
        pgtypes._ARRAY_ELEMENT[kind.array_oid] = (kind.oid, kind.name)
