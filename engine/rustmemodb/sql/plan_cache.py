"""The plan cache: statement text -> parsed, bound and optimized plan.

A point SELECT costs ~45-150 µs to parse and more to bind; SQLite answers it in
~2 µs (DESIGN.md), so a repeated statement must skip all of that. Entries are
keyed by the exact text and validated on every hit against the catalog they
were bound against: each dependency (table schema, view definition) is an
immutable object, so "still valid" is an identity check per dependency. That
makes the cache safe to share between a database and its forks, and across
concurrent transactions with different catalogs.

Plans also depend on table sizes (index or scan, join order), so an entry
remembers the row counts it was optimized for and is planned again once a
table has grown or shrunk past ``DRIFT`` times that (with ``DRIFT_SLACK`` rows
of slack, so small tables do not churn): a statement prepared on an empty
table does not keep a full scan's plan after a million rows arrive.
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Any

_MAX_ENTRIES = 2048
DRIFT = 4
DRIFT_SLACK = 1024


@dataclass
class Prepared:
    text: str                           # normalised text ($n placeholders)
    placeholders: Any                   # sql.params.Placeholders
    kind: str = ""                      # statement kind or 'utility' / 'explain'
    bound: Any = None                   # BoundStatement
    plan: Any = None                    # optimized logical plan
    utility: Any = None                 # dispatch.Utility / Explain
    functions_version: int = 0
    fast: Any = None                    # compiled point path, if any
    param_types: list = field(default_factory=list)
    # Python type per slot whose values pass unconverted (session.exact_param_types).
    exact_types: tuple | None = None
    sizes: tuple = ()                   # ((table, live rows when optimized), ...)

    def valid_for(self, root, functions) -> bool:
        if self.functions_version != functions.version:
            return False
        bound = self.bound
        if bound is None:
            return True
        tables = root.tables
        for kind, name, obj in bound.deps:
            if kind == "table":
                v = tables.get(name)
                if v is None or v.schema is not obj:
                    return False
            elif root.views.get(name) is not obj:
                return False
        for name, rows in self.sizes:
            n = tables[name].live_rows
            if n > DRIFT * rows + DRIFT_SLACK or DRIFT * n + DRIFT_SLACK < rows:
                return False
        return True


class PlanCache:
    def __init__(self) -> None:
        self._entries: collections.OrderedDict[str, Prepared] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, sql: str) -> Prepared | None:
        entry = self._entries.get(sql)
        if entry is not None:
            self.hits += 1
        else:
            self.misses += 1
        return entry

    def put(self, sql: str, prepared: Prepared) -> None:
        with self._lock:
            self._entries[sql] = prepared
            if len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
