"""Bitwise operators and integer number theory: & | # ~ << >>, gcd, lcm, factorial.

PostgreSQL's bit operators on integers (``#`` is XOR there). INTEGER is int8 here, so
results wrap like int8's: a shift moves bits out of the 64-bit word, and the shift count
is taken modulo 64 as PostgreSQL's C ``<<`` does on every platform it ships on.
gcd/lcm follow PostgreSQL 13+: non-negative results, ``gcd(0, 0) = 0``, an lcm or a gcd of
the most negative int8 that does not fit is 22003. factorial is numeric, as PostgreSQL's
(21! and beyond have more digits than int8 holds).
"""
from __future__ import annotations

import math
from decimal import Decimal

from ...lazy_import import arrow as pa, compute as pc, numpy as np

from ... import errors, numeric, types
from ..expr.rowwise import map_rows
from ..semantics import arrow_errors, from_numpy, to_numpy
from .registry import ScalarFunction

I, N = types.INTEGER, types.NULL
_MASK = (1 << 64) - 1


def _ints(ts) -> str | None:
    """Both operands integers (or NULL): an integer."""
    return I if ts and all(t in (I, N) for t in ts) else None


def _wrap(v: int) -> int:
    """The low 64 bits of ``v`` read as a signed int8."""
    v &= _MASK
    return v - (1 << 64) if v >> 63 else v


def _shl_row(a: int, b: int) -> int:
    return _wrap(a << (b & 63))


def _shr_row(a: int, b: int) -> int:
    return a >> (b & 63)          # arithmetic: the sign bit fills, as in C on int64


def _shift_vec(left: bool):
    @arrow_errors
    def run(a, b):
        if isinstance(a, pa.Scalar) and isinstance(b, pa.Scalar):
            if not a.is_valid or not b.is_valid:
                return pa.scalar(None, pa.int64())
            row = _shl_row if left else _shr_row
            return pa.scalar(row(a.as_py(), b.as_py()), pa.int64())
        n = len(b) if isinstance(a, pa.Scalar) else len(a)
        av, an = _operand(a, n)
        bv, bn = _operand(b, n)
        nulls = an if bn is None else (bn if an is None else an | bn)
        op = np.left_shift if left else np.right_shift
        return from_numpy(op(av, np.bitwise_and(bv, 63)), nulls, pa.int64())
    return run


def _operand(v, n):
    if isinstance(v, pa.Scalar):
        if not v.is_valid:
            return np.zeros(n, np.int64), np.ones(n, bool)
        return np.full(n, v.as_py(), np.int64), None
    return to_numpy(pc.cast(v, pa.int64()), 0)


def _gcd_row(a: int, b: int) -> int:
    return types.check_int(math.gcd(a, b))


def _lcm_row(a: int, b: int) -> int:
    return types.check_int(math.lcm(a, b))


def _factorial_row(n: int) -> bytes:
    if n < 0:
        raise errors.sql_error("22003", "factorial of a negative number is undefined")
    if n > 32177:           # numeric_fac: more than numeric's 131072 digits
        raise errors.sql_error("22003", "value overflows numeric format")
    return numeric.encode(Decimal(math.factorial(n)))


def _unary_vec(row):
    """A row body over an Arrow array (these functions are rare in bulk)."""
    return lambda *args: map_rows(row, args, out_type=pa.int64())


def _kernel(name: str):
    """Arrow's kernel ``name``, looked up on first call: registering the built-ins must
    not import pyarrow (a first point statement runs without it)."""
    return arrow_errors(lambda *args: getattr(pc, name)(*args))


def register(reg) -> None:
    reg.add(ScalarFunction("bit_and_op", _ints, _kernel("bit_wise_and"),
                           lambda a, b: a & b))
    reg.add(ScalarFunction("bit_or_op", _ints, _kernel("bit_wise_or"),
                           lambda a, b: a | b))
    reg.add(ScalarFunction("bit_xor_op", _ints, _kernel("bit_wise_xor"),
                           lambda a, b: a ^ b))
    reg.add(ScalarFunction("bit_not", lambda ts: _ints(ts) if len(ts) == 1 else None,
                           _kernel("bit_wise_not"), lambda a: ~a))
    reg.add(ScalarFunction("shift_left", _ints, _shift_vec(True), _shl_row))
    reg.add(ScalarFunction("shift_right", _ints, _shift_vec(False), _shr_row))
    two = lambda ts: _ints(ts) if len(ts) == 2 else None   # noqa: E731
    reg.add(ScalarFunction("gcd", two, _unary_vec(_gcd_row), _gcd_row))
    reg.add(ScalarFunction("lcm", two, _unary_vec(_lcm_row), _lcm_row))
    reg.add(ScalarFunction("factorial", lambda ts: types.NUMERIC if len(ts) == 1 and _ints(ts)
                           else None, lambda *args: map_rows(_factorial_row, args,
                                                             out_type=pa.binary()),
                           _factorial_row))
