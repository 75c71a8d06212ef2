"""Operators and functions of the bit string types (bitstring.py), as varbit.c has them.

``&  |  #`` of equal lengths (22026 otherwise), ``~``, ``<< >>`` by an integer (the
length kept), ``||`` (a bit varying), length / bit_length / octet_length / bit_count,
get_bit / set_bit (2202E out of range), and the casts the binder writes:
bit_of_int (an integer's low n bits), bit_to_int4 (``::integer``: 32 bits at most, signed)
and bit_cast_length (an explicit cast's padding or cutting). Comparisons are the text ones: text of 0s and 1s orders as bit_cmp does.
"""
from __future__ import annotations

from ... import bitstring, types
from .registry import ScalarFunction
from .string import _rows

BIT, VARBIT, I, T, B, N = (types.BIT, types.VARBIT, types.INTEGER, types.TEXT,
                           types.BOOLEAN, types.NULL)
_BITS = (BIT, VARBIT)


def _takes(*params, ret):
    """A resolver: "BITS" is bit or bit varying; at least one argument must be a bit
    string (NULLs alone are left to the other overloads). ``ret`` "SAME" answers the
    first argument's type."""
    def resolve(ts):
        if len(ts) != len(params) or not any(t in _BITS for t in ts):
            return None
        for p, t in zip(params, ts):
            if t != N and (t not in _BITS if p == "BITS" else t != p):
                return None
        if ret == "SAME":
            return ts[0] if ts[0] in _BITS else VARBIT
        return ret
    return resolve


def _shift(sign: int):
    return lambda a, n: bitstring.shift(a, sign * n)


def register(reg) -> None:
    def add(name, resolve, row, out="large_string"):
        reg.add(ScalarFunction(name, resolve, _rows(row, out), row))
    pair = _takes("BITS", "BITS", ret="SAME")
    for name, op in (("bit_and_op", "&"), ("bit_or_op", "|"), ("bit_xor_op", "#")):
        add(name, pair, lambda a, b, op=op: bitstring.bitwise(a, b, op))
    add("bit_not", _takes("BITS", ret="SAME"), bitstring.invert)
    add("shift_left", _takes("BITS", I, ret="SAME"), _shift(1))
    add("shift_right", _takes("BITS", I, ret="SAME"), _shift(-1))
    add("concat_op", _takes("BITS", "BITS", ret=VARBIT), lambda a, b: a + b)
    for name in ("length", "bit_length"):
        add(name, _takes("BITS", ret=I), len, "int64")
    add("octet_length", _takes("BITS", ret=I), lambda a: -(-len(a) // 8), "int64")
    add("bit_count", _takes("BITS", ret=I), lambda a: a.count("1"), "int64")
    add("get_bit", _takes("BITS", I, ret=I), bitstring.get_bit, "int64")
    add("set_bit", _takes("BITS", I, I, ret="SAME"), bitstring.set_bit)
    add("bit_of_int", lambda ts: BIT if len(ts) == 2 and ts[0] in (I, N) and ts[1] == I
        else None, bitstring.of_int)
    add("bit_cast_length", _takes("BITS", I, B, ret="SAME"), bitstring.cast_length)
    add("bit_to_int4", _takes("BITS", ret=I), bitstring.to_int4, "int64")
