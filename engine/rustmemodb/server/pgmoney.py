"""Wire formats of ``money`` (OID 790, money[] 791): text as cash_out prints it in the C
locale (``$1,234.56``), binary as cash_send (the int8 count of cents), both ways.

A result value arrives as the cursor returns it (the text); a parameter leaves as its
canonical text, which the engine reads by the slot's type, as a quoted literal.
"""
from __future__ import annotations

import struct

from .. import money, types

MONEY, MONEY_ARRAY = 790, 791
_q = struct.Struct("!q")


def _cents(v) -> int:
    return v if isinstance(v, int) else money.parse(v)


def install(oid_of_type: dict, array_oid: dict, text_out: dict, bin_out: dict,
            text_in_by_oid: dict, bin_in_by_oid: dict, array_element: dict) -> None:
    """Add money to pgtypes' tables."""
    oid_of_type[types.MONEY] = MONEY
    array_oid[MONEY] = MONEY_ARRAY
    array_element[MONEY_ARRAY] = (MONEY, types.MONEY)
    text_out[types.MONEY] = lambda v: money.format(_cents(v))
    bin_out[types.MONEY] = lambda v: _q.pack(_cents(v))
    text_in_by_oid[MONEY] = lambda t: money.format(money.parse(t))
    bin_in_by_oid[MONEY] = lambda b: money.format(_q.unpack(b)[0])
