"""Registers every built-in function family into a registry."""
from __future__ import annotations

from . import (admin, advisory, aggregate, arith, array, bitwise, bytea, compare, datetime,
               duckdb_more, duckdb_names, json, json_out, json_text,
               jsonb, jsonb_order, math, misc, pg_catalog_functions, quoting, record, regex, string,
               templates, textsearch, time_of_day, trig, ranges)
from . import bit_ops, money_ops, network, numeric_ops, timetz_ops


def register_all(reg) -> None:
    for family in (arith, bitwise, compare, string, bytea, regex, misc, aggregate, math, datetime,
                   ranges, time_of_day, json, jsonb, json_text, json_out, array,
                   pg_catalog_functions, quoting, templates, duckdb_names, duckdb_more, record,
                   trig, advisory, admin, textsearch):
        family.register(reg)
    network.register(reg)       # inet/cidr/macaddr overloads, tried before the others
    money_ops.register(reg)
    bit_ops.register(reg)
    timetz_ops.register(reg)
    numeric_ops.register(reg)
    jsonb_order.register(reg)   # jsonb's own order, before the text comparisons
