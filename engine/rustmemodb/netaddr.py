"""PostgreSQL's network address types: inet, cidr, macaddr, macaddr8 as values.

Why a module of its own: the four types read and print text by PostgreSQL's own rules
(``network.c``, ``inet_net_pton.c``, ``inet_cidr_ntop.c``, ``mac.c``, ``mac8.c``), which
differ from Python's ``ipaddress`` in the forms they accept (``10.1/16`` as a cidr, the
classful defaults, ``0800.2b01.0203``) and print (``::ffff:1.2.3.4``, ``abbrev``). The
parsers and printers here are ports of those C routines; ``ipaddress`` gives the Python
objects a cursor returns (as psycopg does).

Storage form (rows and Arrow ``large_binary``): a key whose bytewise order is
PostgreSQL's ``network_cmp`` order, so comparisons, ORDER BY, DISTINCT, GROUP BY and
indexes need nothing of their own::

    inet/cidr   family (2 = IPv4, 3 = IPv6, as PGSQL_AF_INET/INET6), the network (the
                address with the host bits zeroed), the mask length, the address
    macaddr     its 6 bytes;  macaddr8: its 8 bytes

PostgreSQL orders by family, then the first min(masklen) bits, then the mask length,
then the whole address: comparing the zeroed networks first gives the same order (a
shorter mask's network, zero after its bits, sorts first among equal prefixes).
"""
from __future__ import annotations

from . import errors

V4, V6 = 2, 3                      # PostgreSQL's PGSQL_AF_INET, PGSQL_AF_INET6
_SIZE = {V4: 4, V6: 16}

# The SQL type names (types.py re-exports them: they are defined here so that this
# module, which types.py imports, needs nothing from it).
INET, CIDR, MACADDR, MACADDR8 = "INET", "CIDR", "MACADDR", "MACADDR8"
NETWORK_TYPES = (INET, CIDR, MACADDR, MACADDR8)


def parse(sql_type: str, text: str) -> bytes:
    """Text input of one of the four types: its storage key."""
    if sql_type == INET or sql_type == CIDR:
        return parse_inet(text, sql_type == CIDR)
    return parse_macaddr(text) if sql_type == MACADDR else parse_macaddr8(text)


def output(sql_type: str, key: bytes) -> str:
    """The type's output function (what psql, the wire's text format and format() show)."""
    if sql_type == INET or sql_type == CIDR:
        return format_inet(key, sql_type == CIDR)
    return format_mac(key)


def as_text(sql_type: str, key: bytes) -> str:
    """The cast to text: inet's and cidr's always carry the mask (text(inet))."""
    return inet_text(key) if sql_type == INET or sql_type == CIDR else format_mac(key)


def python_value(sql_type: str, key: bytes):
    """What a cursor returns: ``ipaddress`` objects for inet/cidr, text for MACs."""
    if sql_type == INET or sql_type == CIDR:
        return to_python(key, sql_type == CIDR)
    return format_mac(key)


# ---- keys -------------------------------------------------------------------------------

def make_key(family: int, bits: int, addr: bytes) -> bytes:
    """The storage key of ``addr``/``bits`` (``addr`` 4 or 16 bytes)."""
    return bytes((family,)) + _masked(addr, bits) + bytes((bits,)) + bytes(addr)


def split_key(key: bytes) -> tuple[int, int, bytes]:
    """(family, mask length, address bytes) of a storage key."""
    family = key[0]
    n = _SIZE[family]
    return family, key[1 + n], bytes(key[2 + n:2 + 2 * n])


def _masked(addr: bytes, bits: int) -> bytes:
    n = len(addr) * 8
    value = int.from_bytes(addr, "big")
    mask = ((1 << n) - 1) ^ ((1 << (n - bits)) - 1)
    return (value & mask).to_bytes(len(addr), "big")


def valid_key(sql_type: str, key: bytes) -> bool:
    """Whether ``key`` is a well-formed storage key of ``sql_type`` (a MAC's 6 or 8
    bytes; an address as make_key writes it, a cidr's without host bits): what is read
    from disk is checked."""
    if sql_type == MACADDR or sql_type == MACADDR8:
        return len(key) == (6 if sql_type == MACADDR else 8)
    if not key or key[0] not in _SIZE or len(key) != 2 + 2 * _SIZE[key[0]]:
        return False
    family, bits, addr = split_key(key)
    return bits <= max_bits(family) and make_key(family, bits, addr) == key and (
        sql_type != CIDR or _masked(addr, bits) == addr)


def host_key(address: str | None) -> bytes | None:
    """A socket's host address (``127.0.0.1``, ``::1``, ``fe80::1%eth0``) as an inet key
    of the whole address, or None: inet_client_addr() and pg_stat_activity.client_addr."""
    if not address:
        return None
    try:
        return parse_inet(address.partition("%")[0])
    except errors.Error:
        return None


def max_bits(family: int) -> int:
    return 32 if family == V4 else 128


# ---- inet / cidr input (network_in, inet_net_pton.c) ------------------------------------

def parse_inet(text: str, cidr: bool = False) -> bytes:
    """inet (or cidr) input: the storage key, or 22P02 as PostgreSQL words it."""
    kind = "cidr" if cidr else "inet"
    family = V6 if ":" in text else V4
    if family == V6:
        got = _pton6(text)
    else:
        got = _cidr_pton4(text) if cidr else _net_pton4(text)
    if got is None or not 0 <= got[1] <= max_bits(family):
        raise errors.sql_error("22P02", f'invalid input syntax for type {kind}: "{text}"')
    addr, bits = got
    if cidr and _masked(addr, bits) != addr:
        raise errors.sql_error("22P02", f'invalid cidr value: "{text}"',
                               detail="Value has bits set to right of mask.")
    return make_key(family, bits, addr)


def _digits(s: str, i: int) -> tuple[int, int]:
    """The decimal number at ``s[i]`` (ASCII digits only) and where it ends."""
    j = i
    while j < len(s) and "0" <= s[j] <= "9":
        j += 1
    return int(s[i:j]), j


def _net_pton4(s: str):
    """inet_net_pton_ipv4: dotted octets, /bits; without bits all four octets."""
    octets: list[int] = []
    i, n = 0, len(s)
    ch = ""
    while i < n and "0" <= s[i] <= "9":
        j = i
        value = 0
        while j < n and "0" <= s[j] <= "9":
            value = value * 10 + ord(s[j]) - 48
            if value > 255:
                return None
            j += 1
        if len(octets) == 4:
            return None
        octets.append(value)
        ch = s[j] if j < n else ""
        i = j + 1
        if ch in ("", "/"):
            break
        if ch != ".":
            return None
    else:
        ch = s[i] if i < n else ""
        i += 1
    bits = -1
    if ch == "/" and i < n and "0" <= s[i] <= "9" and octets:
        bits, j = _digits(s, i)
        if j != n or bits > 32:
            return None
        ch = ""
    if ch != "":
        return None
    if bits == -1:
        if len(octets) != 4:
            return None
        bits = 32
    if not octets or bits // 8 > len(octets):
        return None
    return bytes(octets + [0] * (4 - len(octets))), bits


def _cidr_pton4(s: str):
    """inet_cidr_pton_ipv4: decimal or 0x hex octets; a missing mask is the class's."""
    n = len(s)
    octets: list[int] = []
    if s[:2].lower() == "0x" and n > 2 and s[2] in "0123456789abcdefABCDEF":
        i = 2
        nybbles = ""
        while i < n and s[i] in "0123456789abcdefABCDEF":
            nybbles += s[i]
            i += 1
        if len(nybbles) % 2:
            nybbles += "0"
        octets = list(bytes.fromhex(nybbles))
        if len(octets) > 4:
            return None
        ch = s[i] if i < n else ""
        i += 1
    elif n and "0" <= s[0] <= "9":
        i = 0
        while True:
            value = 0
            while i < n and "0" <= s[i] <= "9":
                value = value * 10 + ord(s[i]) - 48
                if value > 255:
                    return None
                i += 1
            if len(octets) == 4:
                return None
            octets.append(value)
            ch = s[i] if i < n else ""
            i += 1
            if ch in ("", "/"):
                break
            if ch != "." or i >= n or not "0" <= s[i] <= "9":
                return None
    else:
        return None
    bits = -1
    if ch == "/" and i < n and "0" <= s[i] <= "9" and octets:
        bits, j = _digits(s, i)
        if j != n or bits > 32:
            return None
        ch = ""
    if ch != "" or not octets:
        return None
    if bits == -1:
        first = octets[0]
        bits = 32 if first >= 240 else 8 if first >= 224 else 24 if first >= 192 else \
            16 if first >= 128 else 8
        bits = max(bits, len(octets) * 8)
        if bits == 8 and first == 224:
            bits = 4
    return bytes(octets + [0] * (4 - len(octets))), bits


_HEX = "0123456789abcdefABCDEF"


def _getbits(s: str):
    """getbits: a mask length 0..128 without leading zeros."""
    if not s or not s.isascii() or not s.isdigit() or (len(s) > 1 and s[0] == "0"):
        return None
    value = int(s)
    return value if value <= 128 else None


def _getv4(s: str):
    """getv4: a dotted quad ending an IPv6 address, maybe /bits: (bytes, bits or -1)."""
    body, slash, rest = s.partition("/")
    parts = body.split(".")
    if len(parts) > 4 or any(not p or not p.isascii() or not p.isdigit() or
                             (len(p) > 1 and p[0] == "0") or int(p) > 255 for p in parts):
        return None
    bits = -1
    if slash:
        bits = _getbits(rest)
        if bits is None:
            return None
    return bytes([int(p) for p in parts] + [0] * (4 - len(parts))), bits


def _pton6(s: str):
    """inet_cidr_pton_ipv6: groups of up to four hex digits, one ``::``, an IPv4 tail."""
    out = bytearray()
    colon_at = None
    i, n = 0, len(s)
    if s.startswith(":"):
        if not s.startswith("::"):
            return None
        i = 1
    token_start = i
    saw = False
    value = digits = 0
    bits = -1
    while i < n:
        ch = s[i]
        i += 1
        if ch in _HEX:
            value = (value << 4) | int(ch, 16)
            digits += 1
            if digits > 4:
                return None
            saw = True
            continue
        if ch == ":":
            token_start = i
            if not saw:
                if colon_at is not None:
                    return None
                colon_at = len(out)
                continue
            if i >= n or len(out) + 2 > 16:
                return None
            out += value.to_bytes(2, "big")
            saw = False
            value = digits = 0
            continue
        if ch == "." and len(out) + 4 <= 16:
            v4 = _getv4(s[token_start:])
            if v4 is not None:
                out += v4[0]
                bits = v4[1]
                saw = False
                break
        if ch == "/":
            b = _getbits(s[i:])
            if b is not None:
                bits = b
                break
        return None
    if saw:
        if len(out) + 2 > 16:
            return None
        out += value.to_bytes(2, "big")
    if bits == -1:
        bits = 128
    if colon_at is not None:
        if len(out) == 16:
            return None
        out = out[:colon_at] + bytes(16 - len(out)) + out[colon_at:]
    if len(out) != 16:
        return None
    return bytes(out), bits


# ---- inet / cidr output (inet_net_ntop.c, inet_cidr_ntop.c) -------------------------------

def _ntop(family: int, addr: bytes) -> str:
    """The address alone, as inet_net_ntop prints it."""
    if family == V4:
        return ".".join(str(b) for b in addr)
    words = [addr[i] << 8 | addr[i + 1] for i in range(0, 16, 2)]
    best_base, best_len, cur_base, cur_len = -1, 0, -1, 0
    for i, w in enumerate(words):
        if w == 0:
            if cur_base == -1:
                cur_base, cur_len = i, 1
            else:
                cur_len += 1
        elif cur_base != -1:
            if best_base == -1 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if cur_base != -1 and (best_base == -1 or cur_len > best_len):
        best_base, best_len = cur_base, cur_len
    if best_base != -1 and best_len < 2:
        best_base = -1
    out = []
    for i in range(8):
        if best_base != -1 and best_base <= i < best_base + best_len:
            if i == best_base:
                out.append(":")
            continue
        if i:
            out.append(":")
        if i == 6 and best_base == 0 and (best_len == 6 or (best_len == 7 and words[7] != 1)
                                          or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(".".join(str(b) for b in addr[12:]))
            break
        out.append(f"{words[i]:x}")
    if best_base != -1 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)


def format_inet(key: bytes, cidr: bool = False) -> str:
    """inet/cidr output: the mask shown unless an inet's is the whole address."""
    family, bits, addr = split_key(key)
    text = _ntop(family, addr)
    return text if bits == max_bits(family) and not cidr else f"{text}/{bits}"


def inet_text(key: bytes) -> str:
    """text(inet) and the cast to text: always with the mask."""
    family, bits, addr = split_key(key)
    return f"{_ntop(family, addr)}/{bits}"


def host(key: bytes) -> str:
    family, _, addr = split_key(key)
    return _ntop(family, addr)


def abbrev_cidr(key: bytes) -> str:
    """abbrev(cidr): inet_cidr_ntop's short form (``10.1/16``, ``2001:db8/32``)."""
    family, bits, addr = split_key(key)
    if family == V4:
        parts = [str(b) for b in addr[:bits // 8]]
        if bits % 8:
            m = ((1 << (bits % 8)) - 1) << (8 - bits % 8)
            parts.append(str(addr[bits // 8] & m))
        return (".".join(parts) if parts else "0") + f"/{bits}"
    if bits == 0:
        return "::/0"
    s = bytearray(addr[:(bits + 7) // 8]) + bytes(16 - (bits + 7) // 8)
    if bits % 8:
        s[(bits + 7) // 8 - 1] &= (0xFF << (8 - bits % 8)) & 0xFF
    words = max(2, (bits + 15) // 16)
    zero_s = zero_l = tmp_s = tmp_l = 0
    for i in range(0, words * 2, 2):      # (the C loop's quirks kept: a run not longer
        if s[i] | s[i + 1] == 0:          # than the best is not reset)
            if tmp_l == 0:
                tmp_s = i // 2
            tmp_l += 1
        elif tmp_l and zero_l < tmp_l:
            zero_s, zero_l, tmp_l = tmp_s, tmp_l, 0
    if tmp_l and zero_l < tmp_l:
        zero_s, zero_l = tmp_s, tmp_l
    is_v4 = zero_l != words and zero_s == 0 and (
        zero_l == 6 or (zero_l == 5 and s[10] == 0xFF and s[11] == 0xFF) or
        (zero_l == 7 and s[14] != 0 and s[15] != 1))
    out = ""
    pos = 0
    for p in range(words):
        if zero_l and zero_s <= p < zero_s + zero_l:
            if p == zero_s:
                out += ":"
            if p == words - 1:
                out += ":"
            pos += 2
            continue
        if is_v4 and p > 5:
            out += (":" if p == 6 else ".") + str(s[pos])
            pos += 1
            if p != 7 or bits > 120:
                out += "." + str(s[pos])
                pos += 1
        else:
            if out:
                out += ":"
            out += f"{s[pos] * 256 + s[pos + 1]:x}"
            pos += 2
    return f"{out}/{bits}"


# ---- address arithmetic ---------------------------------------------------------------

def to_int(addr: bytes) -> int:
    return int.from_bytes(addr, "big")


def of_int(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def with_bits(key: bytes, bits: int, *, cidr: bool) -> bytes:
    """set_masklen (-1: the family's maximum); a cidr's host bits are zeroed."""
    family, _, addr = split_key(key)
    if bits == -1:
        bits = max_bits(family)
    if not 0 <= bits <= max_bits(family):
        raise errors.sql_error("22023", f"invalid mask length: {bits}")
    return make_key(family, bits, _masked(addr, bits) if cidr else addr)


def network(key: bytes) -> bytes:
    family, bits, addr = split_key(key)
    return make_key(family, bits, _masked(addr, bits))


def broadcast(key: bytes) -> bytes:
    family, bits, addr = split_key(key)
    n = max_bits(family)
    return make_key(family, bits, of_int(to_int(addr) | ((1 << (n - bits)) - 1), n // 8))


def netmask(key: bytes) -> bytes:
    family, bits, _ = split_key(key)
    n = max_bits(family)
    return make_key(family, n, of_int(((1 << n) - 1) ^ ((1 << (n - bits)) - 1), n // 8))


def hostmask(key: bytes) -> bytes:
    family, bits, _ = split_key(key)
    n = max_bits(family)
    return make_key(family, n, of_int((1 << (n - bits)) - 1, n // 8))


def add(key: bytes, delta: int) -> bytes:
    """inet + integer (22003 past either end of the family's addresses)."""
    family, bits, addr = split_key(key)
    n = max_bits(family)
    value = to_int(addr) + delta
    if not 0 <= value < (1 << n):
        raise errors.sql_error("22003", "result is out of range")
    return make_key(family, bits, of_int(value, n // 8))


def difference(a: bytes, b: bytes) -> int:
    """inet - inet: the distance between the addresses (one family only)."""
    fa, _, xa = split_key(a)
    fb, _, xb = split_key(b)
    if fa != fb:
        raise errors.sql_error("22023", "cannot subtract inet values of different sizes")
    value = to_int(xa) - to_int(xb)
    if not -(1 << 63) <= value < (1 << 63):
        raise errors.sql_error("22003", "result is out of range")
    return value


def bitwise(a: bytes, b: bytes | None, op: str) -> bytes:
    """~ (b None), & and | of addresses; the result has the longer mask length."""
    fa, bits, xa = split_key(a)
    n = max_bits(fa)
    if b is None:
        return make_key(fa, bits, of_int(~to_int(xa) & ((1 << n) - 1), n // 8))
    fb, _, xb = split_key(b)
    if fa != fb:
        raise errors.sql_error("22023", f"cannot {'AND' if op == '&' else 'OR'} inet values "
                                        "of different sizes")
    value = to_int(xa) & to_int(xb) if op == "&" else to_int(xa) | to_int(xb)
    return make_key(fa, max(bits, split_key(b)[1]), of_int(value, n // 8))


def contains(outer: bytes, inner: bytes, strict: bool) -> bool:
    """``inner << outer`` (strict) or ``inner <<= outer``: within the outer network."""
    fo, bo, xo = split_key(outer)
    fi, bi, xi = split_key(inner)
    if fo != fi or bi < bo or (strict and bi == bo):
        return False
    return _masked(xi, bo) == _masked(xo, bo)


def overlaps(a: bytes, b: bytes) -> bool:
    fa, ba, xa = split_key(a)
    fb, bb, xb = split_key(b)
    if fa != fb:
        return False
    bits = min(ba, bb)
    return _masked(xa, bits) == _masked(xb, bits)


def merge(a: bytes, b: bytes) -> bytes:
    """inet_merge: the smallest network holding both."""
    fa, ba, xa = split_key(a)
    fb, bb, xb = split_key(b)
    if fa != fb:
        raise errors.sql_error("22023", "cannot merge addresses from different families")
    n = max_bits(fa)
    common = n - (to_int(xa) ^ to_int(xb)).bit_length()
    bits = min(ba, bb, common)
    return make_key(fa, bits, _masked(xa, bits))


def family_number(key: bytes) -> int:
    return 4 if key[0] == V4 else 6


# ---- macaddr / macaddr8 (mac.c, mac8.c) ------------------------------------------------

_MAC_FORMS = ("x:x:x:x:x:x", "x-x-x-x-x-x", "2x2x2x:2x2x2x", "2x2x2x-2x2x2x",
              "2x2x.2x2x.2x2x", "2x2x-2x2x-2x2x", "2x2x2x2x2x2x")


def _scan(text: str, form: str):
    """sscanf(text, form with %x / %2x, then %1s) == 6: the values read, else None."""
    values: list[int] = []
    i, n = 0, len(text)
    k = 0
    while k < len(form):
        f = form[k]
        if f in "x2":
            width = 2 if f == "2" else None
            k += 2 if f == "2" else 1
            while i < n and text[i] in " \t\n\r\f\v":
                i += 1
            start = i
            limit = n if width is None else min(n, i + width)
            if i < limit and text[i] in "+-":
                i += 1
            if width is None and text[i:i + 2].lower() == "0x" and i + 2 < n and \
                    text[i + 2] in _HEX:
                i += 2
            j = i
            while j < limit and text[j] in _HEX:
                j += 1
            if j == i:
                return None
            value = int(text[i:j], 16)
            values.append(-value if text[start] == "-" else value)
            i = j
        else:
            if i >= n or text[i] != f:
                return None
            i += 1
            k += 1
    return values if not text[i:].strip(" \t\n\r\f\v") else None


def parse_macaddr(text: str) -> bytes:
    for form in _MAC_FORMS:
        values = _scan(text, form)
        if values is not None:
            break
    else:
        raise errors.sql_error("22P02", f'invalid input syntax for type macaddr: "{text}"')
    if any(not 0 <= v <= 255 for v in values):
        raise errors.sql_error("22003", f'invalid octet value in "macaddr" value: "{text}"')
    return bytes(values)


def parse_macaddr8(text: str) -> bytes:
    def fail():
        return errors.sql_error("22P02", f'invalid input syntax for type macaddr8: "{text}"')
    i, n = 0, len(text)
    while i < n and text[i].isspace():
        i += 1
    out = bytearray()
    spacer = ""
    while i + 1 < n:
        if len(out) == 8:
            raise fail()
        pair = text[i:i + 2]
        if pair[0] not in _HEX or pair[1] not in _HEX:
            raise fail()
        out.append(int(pair, 16))
        i += 2
        if i < n and text[i] in ":-.":
            if not spacer:
                spacer = text[i]
            elif spacer != text[i]:
                raise fail()
            i += 1
        if len(out) in (6, 8) and i < n and text[i].isspace():
            rest = text[i:]
            if rest.strip():
                raise fail()
            i = n
    if len(out) == 6:     # (a trailing character after the pairs is ignored, as in mac8.c)
        return bytes(out[:3]) + b"\xff\xfe" + bytes(out[3:])
    if len(out) != 8:
        raise fail()
    return bytes(out)


def format_mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def mac8_to_mac(b: bytes) -> bytes:
    if b[3] != 0xFF or b[4] != 0xFE:
        raise errors.sql_error(
            "22003", "macaddr8 data out of range to convert to macaddr",
            hint="Only addresses that have FF and FE as values in the 4th and 5th bytes from "
                 "the left, for example xx:xx:xx:ff:fe:xx:xx:xx, are eligible to be converted "
                 "from macaddr8 to macaddr.")
    return bytes(b[:3]) + bytes(b[5:])


def mac_to_mac8(b: bytes) -> bytes:
    return bytes(b[:3]) + b"\xff\xfe" + bytes(b[3:])


# ---- Python objects (what a cursor returns and what a parameter may be) ------------------

def to_python(key: bytes, cidr: bool):
    """As psycopg returns them: a cidr an ``ip_network``; an inet an ``ip_interface``,
    or an ``ip_address`` when its mask is the whole address."""
    import ipaddress
    family, bits, addr = split_key(key)
    value = ipaddress.ip_address(addr)
    if cidr:
        return ipaddress.ip_network((value, bits))
    if bits == max_bits(family):
        return value
    return ipaddress.ip_interface((value, bits))


def of_python(value) -> tuple[bytes, bool]:
    """(key, is a cidr) of an ``ipaddress`` address, interface or network."""
    import ipaddress
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return (make_key(V4 if value.version == 4 else V6, value.prefixlen,
                         value.network_address.packed), True)
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return (make_key(V4 if value.version == 4 else V6, value.network.prefixlen,
                         value.ip.packed), False)
    return make_key(V4 if value.version == 4 else V6, value.max_prefixlen, value.packed), False


def is_ipaddress(value: object) -> bool:
    """Whether ``value`` is an ``ipaddress`` object (without importing the module: a
    process that never meets one does not pay for it)."""
    return type(value).__module__ == "ipaddress" and hasattr(value, "version")
