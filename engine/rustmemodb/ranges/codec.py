"""A range's storage form: bytes whose order is PostgreSQL's range order.

Columns hold ranges as Arrow ``large_binary`` (rows as ``bytes``), so the engine's
byte comparisons, sorts, hashes and index keys order and compare ranges exactly as
PostgreSQL's range_cmp does, with no kernel of their own:

    empty          00
    non-empty      01 <lower> <upper>
    lower bound    00 (-infinity)  |  01 <value:8> <00 inclusive | 01 exclusive>
    upper bound    02 (+infinity)  |  01 <value:8> <00 exclusive | 01 inclusive>

The empty range sorts first; then the lower bound (-infinity first; at one value ``[``
before ``(``); then the upper bound (at one value ``)`` before ``]``; +infinity last).
A value is 8 bytes big-endian whose unsigned order is the value's: an integer or a
date's ordinal or a timestamp's microseconds offset by 2**63, a float's IEEE bits with
the sign flipped (negatives inverted; NaN above +Infinity, as PostgreSQL orders it).
Every range has one encoding (discrete kinds are canonical before they are encoded, -0
is 0), so equal ranges are equal bytes: UNIQUE, GROUP BY and DISTINCT need nothing more.
"""
from __future__ import annotations

import datetime as _dt
import struct

from .kinds import RangeKind
from .value import Range

_Q = struct.Struct(">Q")
_D = struct.Struct(">d")
_BIAS = 2 ** 63
_SIGN = 1 << 63
_MASK = 2 ** 64 - 1
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_TZ = _EPOCH.replace(tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)
EMPTY_BYTES = b"\x00"
# A kind whose bound values are their 8-byte order keys themselves: what reads and
# writes any kind's stored range where only the bounds' order matters (an intersection)
KEY = RangeKind("KEY", "KEY", False, 0, 0, 0)


def _put(kind: RangeKind, v) -> bytes:
    element = kind.element
    if element == "KEY":
        return _Q.pack(v)
    if element == "FLOAT":
        if v != v:
            v = float("nan")
        bits = _Q.unpack(_D.pack(v + 0.0))[0]
        return _Q.pack((~bits & _MASK) if bits & _SIGN else bits | _SIGN)
    if element == "DATE":
        n = v.toordinal()
    elif element == "TIMESTAMP":
        n = (v - _EPOCH) // _US
    elif element == "TIMESTAMPTZ":
        n = (v - _EPOCH_TZ) // _US
    else:
        n = v
    return _Q.pack(n + _BIAS)


def _get(kind: RangeKind, raw: bytes):
    n = _Q.unpack(raw)[0]
    element = kind.element
    if element == "KEY":
        return n
    if element == "FLOAT":
        bits = (n & ~_SIGN) if n & _SIGN else (~n & _MASK)
        return _D.unpack(_Q.pack(bits))[0]
    n -= _BIAS
    if element == "DATE":
        return _dt.date.fromordinal(n)
    if element == "TIMESTAMP":
        return _EPOCH + n * _US
    if element == "TIMESTAMPTZ":
        return _EPOCH_TZ + n * _US
    return n


def encode(kind: RangeKind, r: Range) -> bytes:
    if r.empty:
        return EMPTY_BYTES
    parts = [b"\x01"]
    if r.lower is None:
        parts.append(b"\x00")
    else:
        parts += (b"\x01", _put(kind, r.lower), b"\x00" if r.lower_inc else b"\x01")
    if r.upper is None:
        parts.append(b"\x02")
    else:
        parts += (b"\x01", _put(kind, r.upper), b"\x01" if r.upper_inc else b"\x00")
    return b"".join(parts)


def decode(kind: RangeKind, data: bytes) -> Range:
    if data[0] == 0:
        return Range(empty=True, kind=kind)
    i = 1
    lower = upper = None
    lo_inc = up_inc = False
    if data[i] == 1:
        lower, lo_inc = _get(kind, data[i + 1:i + 9]), data[i + 9] == 0
        i += 10
    else:
        i += 1
    if data[i] == 1:
        upper, up_inc = _get(kind, data[i + 1:i + 9]), data[i + 9] == 1
    return Range(lower, upper, ("[" if lo_inc else "(") + ("]" if up_inc else ")"),
                 kind=kind)


def valid(kind: RangeKind, data: bytes) -> bool:
    """Whether ``data`` is a range's storage form (bytes read from disk are checked)."""
    try:
        return encode(kind, decode(kind, data)) == data
    except (IndexError, ValueError, OverflowError, struct.error):
        return False
