"""The catalog as data: virtual tables computed from a snapshot's root.

``information_schema`` (and later ``pg_catalog``, for the wire server) are not
stored anywhere: each of their tables is a ``VirtualTable`` whose rows a
function derives from the root being read, so they are always exactly as
current as the statement's snapshot, forks and open transactions included.
The binder resolves ``schema.name`` through ``virtual.lookup``; the executor
scans them with ``exec/operators/virtual_scan.py`` like any other input.
"""
from .virtual import (CatalogSnapshot, VirtualTable, lookup, register_virtual_table,
                      schema_names, searched_lookup)

__all__ = ["CatalogSnapshot", "VirtualTable", "lookup", "register_virtual_table",
           "schema_names", "searched_lookup"]
