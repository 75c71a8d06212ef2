"""Wire formats of the bit string types: bit (OID 1560, bit[] 1561) and bit varying
(1562, varbit[] 1563). Text is the bits (``1010``); binary is varbit_send's: the int32
bit length, then the bits packed from the left into bytes."""
from __future__ import annotations

import struct

from .. import bitstring, errors, types

OIDS = {types.BIT: (1560, 1561), types.VARBIT: (1562, 1563)}
_i = struct.Struct("!i")


def _bin_out(v) -> bytes:
    bits = str(v)
    return _i.pack(len(bits)) + bitstring.to_bytes(bits)


def _bin_in(data: bytes) -> str:
    (length,) = _i.unpack_from(data)
    if length < 0 or -(-length // 8) != len(data) - 4:
        raise errors.sql_error("22P02", "invalid length in external bit string")
    return bitstring.of_bytes(data[4:], length)


def install(oid_of_type: dict, array_oid: dict, text_out: dict, bin_out: dict,
            text_in_by_oid: dict, bin_in_by_oid: dict, array_element: dict) -> None:
    """Add bit and bit varying to pgtypes' tables."""
    for sql_type, (oid, array) in OIDS.items():
        oid_of_type[sql_type] = oid
        array_oid[oid] = array
        array_element[array] = (oid, sql_type)
        text_out[sql_type] = str
        bin_out[sql_type] = _bin_out
        text_in_by_oid[oid] = bitstring.parse
        bin_in_by_oid[oid] = _bin_in
