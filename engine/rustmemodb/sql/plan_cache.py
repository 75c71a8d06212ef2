"""The plan cache: statement text or shape -> parsed, bound and optimized plan.

A point SELECT costs ~45-150 µs to parse and more to bind; SQLite answers it in
~2 µs (DESIGN.md), so a repeated statement must skip all of that. Two maps, both
least-recently-used:

- by exact text: the common case of repeated SQL costs one dict lookup; the entry
  also holds the values of the text's lifted literals (sql/literals.py);
- by shape (the text with its literals lifted): ``WHERE id = 6`` finds the plan
  made for ``WHERE id = 5``. A shape may hold a few plans that differ in their
  pinned literals (``GROUP BY 1`` vs ``GROUP BY 2``).

Lifting costs something (slot tags while binding, a walk over the plan after
optimizing: 10-15% of planning a small statement), and most one-off texts never
repeat their shape (a file of distinct queries, an analytic statement whose
alias changes). So a shape is only remembered the first time (``first_sighting``)
and that text is planned with its literals as constants; the second text of the
shape is planned with them lifted, and from the third on the shape's plan serves. The
same text coming again is not a second text of its shape: it is planned with its
constants again (a file of one-off statements run twice on one connection).

A plan made for one text alone (its literals kept as constants) is kept apart on
the text's first sighting, among the last ``_ONCE_ENTRIES`` such plans, and moves into
the main map when the text comes again (planned again if its plan has left by then:
the text itself is remembered longer). Holding every one-off plan (~250 objects each
that the cyclic collector must traverse) made a file of 1,000 distinct statements
pay for four full collections of the process's heap: a third of its time.

Entries are validated on every hit against the catalog they were bound against:
each dependency (table schema, view definition) is an immutable object, so "still
valid" is an identity check per dependency. That makes the cache safe to share
between a database and its forks, and across concurrent transactions with
different catalogs.

Plans also depend on table sizes (index or scan, join order), so an entry
remembers the row counts it was optimized for and is planned again once a
table has grown or shrunk past ``DRIFT`` times that (with ``DRIFT_SLACK`` rows
of slack, so small tables do not churn): a statement prepared on an empty
table does not keep a full scan's plan after a million rows arrive. A plan made while
every table it reads was small (``plan.logical.SMALL_ROWS``: the row path, no column
pruning) is also planned again, once, when one of them grows past that size.
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Any

from ..plan.logical import SMALL_ROWS

_MAX_ENTRIES = 2048
# Plans of texts seen once, kept apart until a second sighting moves them into the main
# map: few, so that a file of one-off statements does not hold every plan it made.
_ONCE_ENTRIES = 8
_MAX_VARIANTS = 4         # plans per shape that differ in pinned literals
DRIFT = 4
DRIFT_SLACK = 1024


def deps_hold(root, deps) -> bool:
    """Whether every table schema, view, SQL function and enum type a binding read (``deps``:
    ``(kind, name, object)`` as the binder records them) is still the same object in
    ``root``: what a cached plan and a reused bound piece (bind/reuse.py) depend on."""
    tables = root.tables
    for kind, name, obj in deps:
        if kind == "table":
            v = tables.get(name)
            if v is None or v.schema is not obj:
                return False
        elif kind == "function":
            if root.functions.get(name) is not obj:
                return False
        elif kind == "enum":
            if root.enums.get(name) is not obj:
                return False
        elif kind == "domain":
            if root.domains.get(name) is not obj:
                return False
        elif kind == "composite":
            if root.composites.get(name) != obj:
                return False
        elif root.views.get(name) is not obj:
            return False
    return True

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
    lifted: Any = None                  # sql.literals.Lifted, when literals became slots
    # id(bound expression) -> (expression, row closure): the session's closures compiled
    # for expressions it reuses across statements (sql/bind/reuse.py), or None.
    row_fns: Any = None
    # A statement planned from its pieces' plans (sql/piece_plan.py PieceRows), whose
    # fast path makes its rows from the pieces' values (exec/piece_rows.py), or None.
    pieces: Any = None
    # (session TimeZone, DateStyle field order) a value folded into the plan was read
    # in (a zone-less timestamptz literal, a timestamp compared with a timestamptz
    # constant, a 'nn/nn/yyyy' date), or None: such a plan serves only sessions reading
    # values the same way (session.py ``_zone_fits``).
    zone: Any = None
    # Whether an INSERT without a fast path is bounded all the same (session.py
    # ``_bounded``), or None: not worked out yet.
    bounded: Any = None

    def valid_for(self, root, functions) -> bool:
        if self.functions_version != functions.version:
            return False
        bound = self.bound
        if bound is None:
            return True
        if not deps_hold(root, bound.deps):
            return False
        for name, rows in self.sizes:
            n = root.tables[name].live_rows
            if n > DRIFT * rows + DRIFT_SLACK or DRIFT * n + DRIFT_SLACK < rows:
                return False
            if rows <= SMALL_ROWS < n:
                # planned for the row path (no column pruning, a row closure that now
                # declines every run): planned again, once, for the vectorised one
                return False
        return True


class PlanCache:
    def __init__(self) -> None:
        self._texts: collections.OrderedDict[str, tuple] = collections.OrderedDict()
        self._shapes: collections.OrderedDict[str, tuple] = collections.OrderedDict()
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._once: collections.OrderedDict[str, tuple] = collections.OrderedDict()
        # Texts whose plan went to ``_once`` (strings only, which the collector skips): a
        # text planned again after its plan left ``_once`` is kept on that second sighting,
        # so statements used in rotation (more than ``_ONCE_ENTRIES`` of them) stay cached.
        self._once_texts: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0      # statements served from the cache / planned

    def get(self, sql: str) -> Prepared | None:
        """The plan cached for this exact text (no validation, no statistics)."""
        entry = self._texts.get(sql) or self._once.get(sql)
        return entry[0] if entry is not None else None

    def by_text(self, sql: str) -> tuple | None:
        """(plan, lifted literal values) for this exact text, most recent use first."""
        entry = self._texts.get(sql)
        if entry is not None:
            try:    # one C call, atomic under the GIL; a concurrent eviction may win
                self._texts.move_to_end(sql)
            except KeyError:
                pass
            return entry
        if self._once and sql in self._once:     # its second sighting: kept from now on
            with self._lock:
                entry = self._once.pop(sql, None)
                if entry is not None:
                    self._once_texts.pop(sql, None)
                    self._keep(sql, entry)
        return entry

    def by_shape(self, shape) -> Prepared | None:
        """A plan for this shape whose pinned literals match the text's."""
        variants = self._shapes.get(shape.key)
        if variants is None:
            return None
        values = shape.values()
        for prepared in variants:
            if prepared.lifted is not None and prepared.lifted.matches(values):
                try:
                    self._shapes.move_to_end(shape.key)
                except KeyError:
                    pass
                return prepared
        return None

    def first_sighting(self, shape, sql: str | None = None) -> bool:
        """Whether no text of this shape was planned before (and remember that one is
        now): its literals are then not worth lifting yet. Also true for ``sql`` itself
        planned before with its literals as constants (its plan has left ``_once``):
        the text repeats, not the shape with new literals, so lifting would only make a
        slower plan (a file of one-off statements run a second time went through
        sqlglot and the optimizer again, ~12x the first run's time); planned the same
        way again, it is kept by text from now on (``put``)."""
        key = shape.key
        seen = self._seen
        if key in seen:
            return sql is not None and sql in self._once_texts
        with self._lock:
            seen[key] = None
            if len(seen) > _MAX_ENTRIES:
                seen.popitem(last=False)
        return True

    def put(self, sql: str, prepared: Prepared, values=(), shape=None,
            once: bool = False) -> None:
        """Cache ``prepared`` for ``sql`` (and for ``shape``, when its literals were
        lifted). ``once``: a plan made for this text alone on its first sighting, kept
        apart among the few most recent such (see the module doc)."""
        with self._lock:
            if once and sql not in self._texts and sql not in self._once_texts:
                self._once[sql] = (prepared, values)
                if len(self._once) > _ONCE_ENTRIES:
                    self._once.popitem(last=False)
                self._once_texts[sql] = None
                if len(self._once_texts) > _MAX_ENTRIES:
                    self._once_texts.popitem(last=False)
                return
            self._once_texts.pop(sql, None)
            self._once.pop(sql, None)
            self._keep(sql, (prepared, values))
            if shape is None or prepared.lifted is None:
                return
            pins = prepared.lifted.pinned
            old = [p for p in self._shapes.get(shape.key, ())
                   if p.lifted is not None and p.lifted.pinned != pins]
            self._shapes[shape.key] = (prepared, *old[:_MAX_VARIANTS - 1])
            self._shapes.move_to_end(shape.key)
            if len(self._shapes) > _MAX_ENTRIES:
                self._shapes.popitem(last=False)

    def _keep(self, sql: str, entry: tuple) -> None:
        """(Under the lock) ``entry`` in the main map by text, the oldest evicted."""
        self._texts[sql] = entry
        self._texts.move_to_end(sql)
        if len(self._texts) > _MAX_ENTRIES:
            self._texts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._once.clear()
            self._once_texts.clear()
            self._texts.clear()
            self._shapes.clear()
            self._seen.clear()
