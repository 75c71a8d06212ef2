"""Casts among the network address types (text casts are cast.py's, by netaddr).

inet -> cidr zeroes the host bits (PostgreSQL's cidr(inet)); cidr -> inet keeps the
value (a cidr is an inet whose host bits are zero); macaddr <-> macaddr8 inserts or
removes FF:FE in the middle (22003 when a macaddr8 has other bytes there).
"""
from __future__ import annotations

from ... import netaddr, types

INET, CIDR, MAC, MAC8, T = types.INET, types.CIDR, types.MACADDR, types.MACADDR8, types.TEXT

# source -> the types it casts to (cast.py merges this into its table)
ALLOWED = {INET: {INET, CIDR, T}, CIDR: {CIDR, INET, T}, MAC: {MAC, MAC8, T},
           MAC8: {MAC8, MAC, T}}


def cast(value: bytes, src: str, dst: str) -> bytes:
    if dst == CIDR and src == INET:
        return netaddr.network(value)
    if dst == MAC8 and src == MAC:
        return netaddr.mac_to_mac8(value)
    if dst == MAC and src == MAC8:
        return netaddr.mac8_to_mac(value)
    return value
