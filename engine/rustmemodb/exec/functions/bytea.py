"""Functions over BYTEA (binary strings), as PostgreSQL names them.

length/octet_length, ``||``, substring/substr, get_byte/set_byte, encode/decode (hex,
base64, escape), md5 and the sha2 family, convert_to/convert_from (UTF8). They are
registered before the text functions of the same names, so a bytea argument picks
these overloads; each runs row by row (binary columns are rarely bulk-processed).
"""
from __future__ import annotations

import base64
import binascii
import hashlib

from ... import errors, types
from .registry import ScalarFunction, fixed
from .string import _rows, _substr_row

BY, T, I, N = types.BYTEA, types.TEXT, types.INTEGER, types.NULL


def _encode(data: bytes, fmt: str) -> str:
    f = fmt.lower()
    if f == "hex":
        return data.hex()
    if f == "base64":     # PostgreSQL wraps base64 output at 76 characters
        text = base64.b64encode(data).decode("ascii")
        return "\n".join(text[i:i + 76] for i in range(0, len(text), 76))
    if f == "escape":
        return "".join("\\\\" if b == 0x5C else chr(b) if 0x20 <= b < 0x7F else f"\\{b:03o}"
                       for b in data)
    raise errors.sql_error("22023", f'unrecognized encoding: "{fmt}"')


def _decode(text: str, fmt: str) -> bytes:
    f = fmt.lower()
    try:
        if f == "hex":
            return bytes.fromhex(text)
        if f == "base64":
            return base64.b64decode("".join(text.split()), validate=True)
    except (ValueError, binascii.Error):
        raise errors.sql_error("22023", f"invalid {f} data") from None
    if f == "escape":
        return types.parse_bytea(text) if not text.startswith(("\\x", "\\X")) \
            else text.encode("utf-8")
    raise errors.sql_error("22023", f'unrecognized encoding: "{fmt}"')


def _get_byte(data: bytes, n: int) -> int:
    if not 0 <= n < len(data):
        raise errors.sql_error("2202E", f"index {n} out of valid range, 0..{len(data) - 1}")
    return data[n]


def _set_byte(data: bytes, n: int, value: int) -> bytes:
    _get_byte(data, n)
    out = bytearray(data)
    out[n] = value & 0xFF
    return bytes(out)


def _utf8(name: str) -> str:
    if name.lower().replace("-", "").replace("_", "") not in ("utf8", "unicode"):
        raise errors.sql_error("0A000", f'conversion to or from encoding "{name}" is not '
                                        "supported", hint="Only UTF8 is.")
    return "utf-8"


def _convert_from(data: bytes, enc: str) -> str:
    try:
        return types.check_text(data.decode(_utf8(enc)))
    except UnicodeDecodeError:
        raise errors.sql_error("22021", 'invalid byte sequence for encoding "UTF8"') from None


def _position(haystack: bytes, needle: bytes) -> int:
    """position(needle IN haystack) of bytea: 1-based, 0 when absent."""
    return haystack.find(needle) + 1


def _overlay(data: bytes, new: bytes, start: int, count: int | None = None) -> bytes:
    """overlay(bytea PLACING bytea FROM start [FOR count]): as text's (string.py)."""
    if count is None:
        count = len(new)
    if start < 1:
        raise errors.sql_error("22011", "negative substring length not allowed")
    return data[:start - 1] + new + data[max(start - 1 + count, 0):]


def _trim(where: str):
    """btrim/ltrim/rtrim(bytea, bytes to remove): any of those bytes, from the ends."""
    def row(data: bytes, chars: bytes) -> bytes:
        if where in ("both", "leading"):
            data = data.lstrip(chars)
        if where in ("both", "trailing"):
            data = data.rstrip(chars)
        return data
    return row


def _digest(name: str):
    return lambda data: hashlib.new(name, data).digest()


def register(reg) -> None:
    def add(name, resolve, row, out="large_binary"):
        reg.add(ScalarFunction(name, resolve, _rows(row, out), row))
    for name in ("length", "octet_length"):
        add(name, fixed((BY, I)), len, "int64")
    add("concat_op", lambda ts: BY if len(ts) == 2 and BY in ts and
        all(t in (BY, N) for t in ts) else None, lambda a, b: a + b)
    for name in ("substring", "substr"):
        add(name, fixed((BY, I, BY), (BY, I, I, BY)), _substr_row)
    add("get_byte", fixed((BY, I, I)), _get_byte, "int64")
    add("set_byte", fixed((BY, I, I, BY)), _set_byte)
    add("encode", fixed((BY, T, T)), _encode, "large_string")
    add("decode", fixed((T, T, BY)), _decode)
    add("md5", fixed((BY, T)), lambda b: hashlib.md5(b).hexdigest(), "large_string")
    for bits in (224, 256, 384, 512):
        add(f"sha{bits}", fixed((BY, BY)), _digest(f"sha{bits}"))
    add("convert_to", fixed((T, T, BY)), lambda s, enc: s.encode(_utf8(enc)))
    add("convert_from", fixed((BY, T, T)), _convert_from, "large_string")
    add("strpos", fixed((BY, BY, I)), _position, "int64")
    add("overlay", fixed((BY, BY, I, BY), (BY, BY, I, I, BY)), _overlay)
    for name, where in (("btrim", "both"), ("ltrim", "leading"), ("rtrim", "trailing"),
                        ("trim_both", "both"), ("trim_leading", "leading"),
                        ("trim_trailing", "trailing")):
        add(name, fixed((BY, BY, BY)), _trim(where))
