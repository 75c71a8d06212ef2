"""Registers every built-in function family into a registry."""
from __future__ import annotations

from . import (aggregate, arith, array, bitwise, compare, datetime, duckdb_names, json, jsonb, math,
               misc, pg_catalog_functions, quoting, regex, string, templates)


def register_all(reg) -> None:
    for family in (arith, bitwise, compare, string, regex, misc, aggregate, math, datetime, json, jsonb,
                   array, pg_catalog_functions, quoting, templates, duckdb_names):
        family.register(reg)
