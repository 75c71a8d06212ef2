"""PostgreSQL's built-in range types (int4range, int8range, numrange, daterange,
tsrange, tstzrange): kinds, values, their ordered byte form, text, and operators.

A foundation package beside ``types``: the binder, executor, server and durability
layers all read ranges through it; it imports only ``errors`` and ``types``.
"""
from .kinds import KINDS, RANGE_TYPES, RangeKind, is_range, kind_of
from .value import Range, construct
from . import codec
from .codec import decode, encode
from .adapt import from_python
from .text import format_range, parse_range

__all__ = ["KINDS", "RANGE_TYPES", "Range", "RangeKind", "construct", "decode", "encode",
           "format_range", "from_python", "is_range", "kind_of", "parse_range"]
