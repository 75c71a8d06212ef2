"""Functions and operators of the network address types, as PostgreSQL 15 names them.

inet/cidr: abbrev, broadcast, family, host, hostmask, inet_merge, inet_same_family,
masklen, netmask, network, set_masklen, text, cidr(); the operators ``<< <<= >> >>= &&``
(containment and overlap), ``~ & |`` and ``+ -`` with integers, ``inet - inet``.
macaddr/macaddr8: trunc, macaddr8_set7bit, ``~ & |``. Comparisons are the generic ones:
the storage keys (netaddr.py) order as PostgreSQL's. Wherever an inet is taken a cidr
is too (PostgreSQL's binary-coercible cast). Everything runs row by row on the keys.
"""
from __future__ import annotations

from ... import money, netaddr, types
from ...lazy_import import arrow as pa
from ..expr.rowwise import map_rows
from .registry import ScalarFunction
from .string import _rows

INET, CIDR, MAC, MAC8 = types.INET, types.CIDR, types.MACADDR, types.MACADDR8
I, T, B, N = types.INTEGER, types.TEXT, types.BOOLEAN, types.NULL
_NETS = (INET, CIDR)
_ARROW = {INET: "large_binary", CIDR: "large_binary", MAC: "large_binary",
          MAC8: "large_binary", I: "int64", T: "large_string", B: "bool_"}


def _takes(*params):
    """A resolver for one signature where "NET" is inet or cidr, answering ``ret``: the
    call must name a network type (NULLs alone are left to the other overloads)."""
    def make(ret):
        def resolve(ts):
            if len(ts) != len(params) or all(t == N for t in ts):
                return None
            for p, t in zip(params, ts):
                if t == N:
                    continue
                if p == "NET" and t not in _NETS or p != "NET" and t != p:
                    return None
            return ret(ts) if callable(ret) else ret
        return resolve
    return make


def _mac_bits(op):
    def row(a, b=None):
        if b is None:
            return bytes(~x & 0xFF for x in a)
        return bytes((x & y) if op == "&" else (x | y) for x, y in zip(a, b))
    return row


def _set7bit(mac: bytes) -> bytes:
    return bytes((mac[0] | 0x02,)) + bytes(mac[1:])


def _trunc(mac: bytes) -> bytes:
    return bytes(mac[:3]) + bytes(len(mac) - 3)


def register(reg) -> None:
    def add(name, resolve, row, out):
        reg.add(ScalarFunction(name, resolve, _rows(row, _ARROW[out]), row))

    net = _takes("NET")
    add("abbrev", _takes(CIDR)(T), netaddr.abbrev_cidr, T)
    add("abbrev", _takes(INET)(T), lambda k: netaddr.format_inet(k, False), T)
    add("broadcast", net(INET), netaddr.broadcast, INET)
    add("family", net(I), netaddr.family_number, I)
    add("host", net(T), netaddr.host, T)
    add("hostmask", net(INET), netaddr.hostmask, INET)
    add("netmask", net(INET), netaddr.netmask, INET)
    add("network", net(CIDR), netaddr.network, CIDR)
    add("cidr", net(CIDR), netaddr.network, CIDR)
    add("masklen", net(I), lambda k: netaddr.split_key(k)[1], I)
    add("text", net(T), netaddr.inet_text, T)
    add("set_masklen", _takes(INET, I)(INET),
        lambda k, n: netaddr.with_bits(k, n, cidr=False), INET)
    add("set_masklen", _takes(CIDR, I)(CIDR),
        lambda k, n: netaddr.with_bits(k, n, cidr=True), CIDR)
    pair = _takes("NET", "NET")
    add("inet_merge", pair(CIDR), netaddr.merge, CIDR)
    add("inet_same_family", pair(B), lambda a, b: a[0] == b[0], B)
    # operators: << >> bind as shift_left/right; <<= >>= (read as <@ @> by sql/parse.py)
    # and && as sqlglot's array containment and overlap functions
    add("shift_left", pair(B), lambda a, b: netaddr.contains(b, a, True), B)
    add("shift_right", pair(B), lambda a, b: netaddr.contains(a, b, True), B)
    add("array_contained_by", pair(B), lambda a, b: netaddr.contains(b, a, False), B)
    add("array_contains_all", pair(B), lambda a, b: netaddr.contains(a, b, False), B)
    add("array_overlaps", pair(B), netaddr.overlaps, B)
    add("add", _takes("NET", I)(INET), netaddr.add, INET)
    add("add", _takes(I, "NET")(INET), lambda n, k: netaddr.add(k, n), INET)
    add("sub", _takes("NET", I)(INET), lambda k, n: netaddr.add(k, -n), INET)
    add("sub", pair(I), netaddr.difference, I)
    add("bit_not", net(INET), lambda k: netaddr.bitwise(k, None, "~"), INET)
    add("bit_and_op", pair(INET), lambda a, b: netaddr.bitwise(a, b, "&"), INET)
    add("bit_or_op", pair(INET), lambda a, b: netaddr.bitwise(a, b, "|"), INET)
    for mac in (MAC, MAC8):
        one = _takes(mac)
        add("bit_not", one(mac), _mac_bits("~"), mac)
        add("bit_and_op", _takes(mac, mac)(mac), _mac_bits("&"), mac)
        add("bit_or_op", _takes(mac, mac)(mac), _mac_bits("|"), mac)
        add("trunc", one(mac), _trunc, mac)
    # the output function, for functions that print their arguments (bind/network_args):
    # of a value, or of each element of an array
    for t in (INET, CIDR, MAC, MAC8, types.MONEY):
        out = (lambda k, t=t: netaddr.output(t, k)) if t != types.MONEY else money.format
        add("value_out", _takes(t)(T), out, T)
        each = (lambda a, out=out: [None if v is None else out(v) for v in a])
        reg.add(ScalarFunction("value_out", _takes(t + "[]")(T + "[]"),
                               lambda a, each=each: map_rows(
                                   each, [a], out_type=pa.list_(pa.large_string())), each))
    add("macaddr8_set7bit", _takes(MAC8)(MAC8), _set7bit, MAC8)
    add("macaddr8", _takes(MAC)(MAC8), netaddr.mac_to_mac8, MAC8)
    add("macaddr", _takes(MAC8)(MAC), netaddr.mac8_to_mac, MAC)
