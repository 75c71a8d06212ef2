"""Wire formats of ``timetz`` (OID 1266, timetz[] 1270): text as timetz_out prints it
(``12:34:56.5-03:30``), binary as timetz_send (int8 local microseconds, then int4 zone
in seconds WEST of UTC), both ways.

A result value arrives as the cursor returns it (an aware ``datetime.time``) or as the
stored key (timetz.py); a parameter leaves as an aware time, which the engine reads as
a timetz.
"""
from __future__ import annotations

import datetime as dt
import struct

from .. import timetz, types

TIMETZ, TIMETZ_ARRAY = 1266, 1270
_qi = struct.Struct("!qi")


def _key(v) -> int:
    return v if isinstance(v, int) else timetz.of_python(v)


def _send(v) -> bytes:
    micros, east = timetz.decode(_key(v))
    return _qi.pack(micros, -east)


def _recv(b: bytes) -> dt.time:
    micros, west = _qi.unpack(b)
    return timetz.python_value(timetz.encode(micros, -west))


def install(oid_of_type: dict, array_oid: dict, text_out: dict, bin_out: dict,
            text_in_by_oid: dict, bin_in_by_oid: dict, array_element: dict) -> None:
    """Add timetz to pgtypes' tables."""
    oid_of_type[types.TIMETZ] = TIMETZ
    array_oid[TIMETZ] = TIMETZ_ARRAY
    array_element[TIMETZ_ARRAY] = (TIMETZ, types.TIMETZ)
    text_out[types.TIMETZ] = lambda v: timetz.format(_key(v))
    bin_out[types.TIMETZ] = _send
    text_in_by_oid[TIMETZ] = lambda t: timetz.python_value(timetz.parse(t))
    bin_in_by_oid[TIMETZ] = _recv
