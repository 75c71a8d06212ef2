"""PostgreSQL's bit strings: ``bit(n)`` and ``bit varying(n)`` as values.

Why a module of its own: bit strings read and print by varbit.c's rules (``B'1010'``,
``X'1F'``, 22P02 naming the bad digit), are fitted to a length differently by an
explicit cast (padded with zeros or cut) and by storing into a column (22026 / 22001),
and have operators of their own (``& | #`` of equal lengths, shifts that keep the
length, ``||``).

Storage form: the text of the bits (``'1010'``; Arrow ``large_string``). Ordering text
of 0s and 1s is PostgreSQL's bit_cmp order (bits from the left, then the shorter first),
so comparisons, ORDER BY, DISTINCT, GROUP BY and indexes need nothing of their own.
"""
from __future__ import annotations

from . import errors

BIT, VARBIT = "BIT", "VARBIT"
BIT_TYPES = (BIT, VARBIT)


def parse(text: str) -> str:
    """bit_in / varbit_in without a length: ``1010``, ``B1010``, ``X1F`` (22P02)."""
    s = text
    hexa = False
    if s[:1] in ("b", "B"):
        s = s[1:]
    elif s[:1] in ("x", "X"):
        s, hexa = s[1:], True
    if hexa:
        out = []
        for c in s:
            if c not in "0123456789abcdefABCDEF":
                raise errors.sql_error("22P02", f'"{c}" is not a valid hexadecimal digit')
            out.append(format(int(c, 16), "04b"))
        return "".join(out)
    for c in s:
        if c not in "01":
            raise errors.sql_error("22P02", f'"{c}" is not a valid binary digit')
    return s


def cast_length(bits: str, length: int, varying: bool) -> str:
    """An explicit cast to bit(n) (zeros added on the right, or cut) or varbit(n) (cut)."""
    if varying:
        return bits[:length]
    return bits[:length].ljust(length, "0")


def stored_length(bits: str, length: int, varying: bool) -> str:
    """A value stored into a bit(n) column (exactly n bits, 22026) or a varbit(n) one
    (at most n, 22001), as PostgreSQL's assignment coercion checks."""
    if varying:
        if len(bits) > length:
            raise errors.sql_error("22001",
                                   f"bit string too long for type bit varying({length})")
    elif len(bits) != length:
        raise errors.sql_error("22026", f"bit string length {len(bits)} does not match "
                                        f"type bit({length})")
    return bits


def of_int(value: int, length: int) -> str:
    """integer -> bit(n): the low n bits of the two's complement (sign-extended)."""
    return format(value & ((1 << length) - 1), f"0{length}b") if length else ""


def to_int(bits: str) -> int:
    """bit -> integer (bigint here): the bits as a two's complement of their length, up
    to 64 (22003 past it, as PostgreSQL's bittoint8)."""
    return _twos_complement(bits, 64, "bigint")


def to_int4(bits: str) -> int:
    """bit -> integer (PostgreSQL's bittoint4): the bits as a two's complement of their
    length, up to 32 (22003 past it); ``B'1' || 31 zeros`` is -2147483648."""
    return _twos_complement(bits, 32, "integer")


def _twos_complement(bits: str, width: int, type_name: str) -> int:
    if len(bits) > width:
        raise errors.sql_error("22003", f"{type_name} out of range")
    if not bits:
        return 0
    value = int(bits, 2)
    return value - (1 << width) if len(bits) == width and bits[0] == "1" else value


def bitwise(a: str, b: str, op: str) -> str:
    if len(a) != len(b):
        name = {"&": "AND", "|": "OR", "#": "XOR"}[op]
        raise errors.sql_error("22026", f"cannot {name} bit strings of different sizes")
    if op == "&":
        return "".join("1" if x == "1" and y == "1" else "0" for x, y in zip(a, b))
    if op == "|":
        return "".join("1" if x == "1" or y == "1" else "0" for x, y in zip(a, b))
    return "".join("1" if x != y else "0" for x, y in zip(a, b))


def invert(a: str) -> str:
    return a.translate(_FLIP)


_FLIP = str.maketrans("01", "10")


def shift(a: str, n: int) -> str:
    """``a << n`` (n < 0: to the right); the length is kept, zeros come in."""
    size = len(a)
    if n >= 0:
        n = min(n, size)
        return a[n:] + "0" * n
    n = min(-n, size)
    return "0" * n + a[:size - n]


def get_bit(a: str, n: int) -> int:
    _check_index(a, n)
    return int(a[n])


def set_bit(a: str, n: int, value: int) -> str:
    _check_index(a, n)
    if value not in (0, 1):
        raise errors.sql_error("22023", "new bit must be 0 or 1")
    return a[:n] + str(value) + a[n + 1:]


def _check_index(a: str, n: int) -> None:
    if not 0 <= n < len(a):
        raise errors.sql_error("2202E", f"bit index {n} out of valid range (0..{len(a) - 1})")


def to_bytes(bits: str) -> bytes:
    """The bits packed from the left, the last byte padded with zeros (varbit_send)."""
    padded = bits.ljust(-(-len(bits) // 8) * 8, "0")
    return int(padded, 2).to_bytes(len(padded) // 8, "big") if padded else b""


def of_bytes(data: bytes, length: int) -> str:
    return "".join(format(b, "08b") for b in data)[:length]
