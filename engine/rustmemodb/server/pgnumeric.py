"""Wire formats of ``numeric`` (OID 1700, numeric[] 1231): text as numeric_out prints it
(``1.10``, ``NaN``, ``Infinity``), binary as numeric_send, both ways.

numeric_send writes base-10000 digits: int16 ndigits, int16 weight (of the first digit,
in powers of 10000), uint16 sign (0x0000 positive, 0x4000 negative, 0xC000 NaN, 0xD000
+Infinity, 0xF000 -Infinity: PostgreSQL 14+), uint16 dscale (digits after the point
shown), then ndigits int16 digits, leading and trailing zero digits left out.

A result value arrives as the cursor returns it (a ``decimal.Decimal``) or as the stored
key (numeric.py); a parameter leaves as a Decimal, which the engine reads as a numeric.
"""
from __future__ import annotations

import struct
from decimal import Decimal

from .. import errors, numeric, types

NUMERIC, NUMERIC_ARRAY = 1700, 1231
_HEAD = struct.Struct("!hhHH")
_POS, _NEG, _NAN, _PINF, _NINF = 0x0000, 0x4000, 0xC000, 0xD000, 0xF000


def _decimal(v) -> Decimal:
    return numeric.decode(v) if type(v) is bytes else numeric.as_decimal(v)


def send(v) -> bytes:
    """numeric_send of a value."""
    d = _decimal(v)
    if d.is_nan():
        return _HEAD.pack(0, 0, _NAN, 0)
    if d.is_infinite():
        return _HEAD.pack(0, 0, _PINF if d > 0 else _NINF, 0)
    scale = numeric.scale_of(d)
    sign = _NEG if d < 0 else _POS
    text = numeric.format(d.copy_abs())
    whole, _, frac = text.partition(".")
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    frac = frac + "0" * (-len(frac) % 4)
    groups = [int(whole[i:i + 4]) for i in range(0, len(whole), 4)] + \
             [int(frac[i:i + 4]) for i in range(0, len(frac), 4)]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        return _HEAD.pack(0, 0, _POS, scale)
    return _HEAD.pack(len(groups), weight, sign, scale) + struct.pack(f"!{len(groups)}h", *groups)


def recv(data: bytes) -> Decimal:
    """numeric_recv: the Decimal the bytes name, at their display scale."""
    ndigits, weight, sign, dscale = _HEAD.unpack_from(data)
    if sign == _NAN:
        return numeric.NAN
    if sign in (_PINF, _NINF):
        return numeric.INF if sign == _PINF else numeric.NINF
    if sign not in (_POS, _NEG) or ndigits < 0 or dscale > 0x3FFF or \
            len(data) != _HEAD.size + 2 * ndigits:
        raise errors.sql_error("22P03", "invalid sign in external \"numeric\" value")
    digits = struct.unpack_from(f"!{ndigits}h", data, _HEAD.size)
    if any(not 0 <= g < 10000 for g in digits):
        raise errors.sql_error("22P03", "invalid digit in external \"numeric\" value")
    value = 0
    for g in digits:
        value = value * 10000 + g
    exponent = 4 * (weight - ndigits + 1)
    # value * 10**exponent, shown with dscale digits after the point (exact)
    if exponent >= -dscale:
        coefficient, exp10 = value * 10 ** (exponent + dscale), -dscale
    else:
        coefficient, exp10 = value, exponent     # more digits than dscale: PG rounds
    d = Decimal((1 if sign == _NEG else 0, tuple(map(int, str(coefficient))), exp10))
    if exp10 < -dscale:
        d = numeric.round_to(d, dscale)
    return numeric.as_decimal(d)


def install(oid_of_type: dict, array_oid: dict, text_out: dict, bin_out: dict,
            text_in_by_oid: dict, bin_in_by_oid: dict, array_element: dict) -> None:
    """Add numeric to pgtypes' tables."""
    oid_of_type[types.NUMERIC] = NUMERIC
    array_oid[NUMERIC] = NUMERIC_ARRAY
    array_element[NUMERIC_ARRAY] = (NUMERIC, types.NUMERIC)
    text_out[types.NUMERIC] = lambda v: numeric.format(_decimal(v))
    bin_out[types.NUMERIC] = send
    text_in_by_oid[NUMERIC] = numeric.parse
    bin_in_by_oid[NUMERIC] = recv
