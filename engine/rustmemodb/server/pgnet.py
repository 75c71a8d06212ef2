"""Wire formats of the network address types: inet (869), cidr (650), macaddr (829),
macaddr8 (774) and their arrays, in text and binary, both ways.

A result value arrives as the DB-API cursor returns it (an ``ipaddress`` object for
inet/cidr, text for a MAC address); a parameter leaves as what the engine binds (an
``ipaddress`` object, which types.from_python reads as inet or cidr; a MAC as its
canonical text, read by the slot's type). Binary inet/cidr is PostgreSQL's
inet_send: family (2 IPv4, 3 IPv6), mask length, is-cidr flag, address length,
address bytes; a MAC is its 6 or 8 bytes.
"""
from __future__ import annotations

import struct
from typing import Any

from .. import errors, netaddr, types

INET, CIDR, MACADDR, MACADDR8 = 869, 650, 829, 774
ARRAYS = {INET: 1041, CIDR: 651, MACADDR: 1040, MACADDR8: 775}
OIDS = {types.INET: INET, types.CIDR: CIDR, types.MACADDR: MACADDR, types.MACADDR8: MACADDR8}


def _key(value: Any, sql_type: str) -> bytes:
    """The storage key of a cursor value of an inet/cidr column."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return netaddr.parse_inet(value, sql_type == types.CIDR)
    return netaddr.of_python(value)[0]


def _text_out(sql_type: str):
    if sql_type in (types.INET, types.CIDR):
        return lambda v: netaddr.format_inet(_key(v, sql_type), sql_type == types.CIDR)
    return str


def _bin_out(sql_type: str):
    if sql_type in (types.INET, types.CIDR):
        def encode(v) -> bytes:
            family, bits, addr = netaddr.split_key(_key(v, sql_type))
            return struct.pack("!BBBB", family, bits, sql_type == types.CIDR, len(addr)) + addr
        return encode
    parse = netaddr.parse_macaddr if sql_type == types.MACADDR else netaddr.parse_macaddr8
    return lambda v: parse(v) if isinstance(v, str) else bytes(v)


def _bin_in_inet(cidr: bool):
    """inet_recv / cidr_recv: the type is the parameter's OID (the flag byte is ignored,
    as PostgreSQL does: asyncpg sets it for an inet with a mask)."""
    kind = "cidr" if cidr else "inet"

    def decode(data: bytes):
        family, bits, _, size = struct.unpack_from("!BBBB", data)
        addr = data[4:]
        if family not in (netaddr.V4, netaddr.V6) or size != len(addr) or \
                size != (4 if family == netaddr.V4 else 16) or bits > size * 8:
            raise errors.sql_error("22P02", f'invalid external "{kind}" value')
        key = netaddr.make_key(family, bits, addr)
        if cidr and netaddr.network(key) != key:
            raise errors.sql_error("22P02", 'invalid external "cidr" value',
                                   detail="Value has bits set to right of mask.")
        return netaddr.to_python(key, cidr)
    return decode


def _bin_in_mac(size: int):
    def decode(data: bytes) -> str:
        if len(data) != size:
            raise errors.sql_error("22P02", f"invalid external \"macaddr{'8' if size == 8 else ''}"
                                            "\" value")
        return netaddr.format_mac(data)
    return decode


def storage_value(value: Any, sql_type: str) -> bytes:
    """A decoded parameter (an ipaddress object, or a MAC's text) as a column of
    ``sql_type`` stores it (binary COPY): a cidr with host bits set is 22P02."""
    if sql_type in (types.INET, types.CIDR):
        key = _key(value, sql_type)
        if sql_type == types.CIDR and netaddr.network(key) != key:
            raise errors.sql_error("22P02", f'invalid cidr value: "{netaddr.inet_text(key)}"',
                                   detail="Value has bits set to right of mask.")
        return key
    return netaddr.parse(sql_type, value) if isinstance(value, str) else bytes(value)


def install(oid_of_type: dict, array_oid: dict, text_out: dict, bin_out: dict,
            text_in_by_oid: dict, bin_in_by_oid: dict, array_element: dict) -> None:
    """Add the four types to pgtypes' tables (one call there keeps its tables short)."""
    for sql_type, oid in OIDS.items():
        oid_of_type[sql_type] = oid
        array_oid[oid] = ARRAYS[oid]
        array_element[ARRAYS[oid]] = (oid, sql_type)
        text_out[sql_type] = _text_out(sql_type)
        bin_out[sql_type] = _bin_out(sql_type)
    text_in_by_oid[INET] = lambda t: netaddr.to_python(netaddr.parse_inet(t), False)
    text_in_by_oid[CIDR] = lambda t: netaddr.to_python(netaddr.parse_inet(t, True), True)
    text_in_by_oid[MACADDR] = lambda t: netaddr.format_mac(netaddr.parse_macaddr(t))
    text_in_by_oid[MACADDR8] = lambda t: netaddr.format_mac(netaddr.parse_macaddr8(t))
    bin_in_by_oid[INET] = _bin_in_inet(False)
    bin_in_by_oid[CIDR] = _bin_in_inet(True)
    bin_in_by_oid[MACADDR] = _bin_in_mac(6)
    bin_in_by_oid[MACADDR8] = _bin_in_mac(8)
