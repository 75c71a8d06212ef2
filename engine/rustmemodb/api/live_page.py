"""LivePage: one page of a table (filtered, ordered, paged) kept current by commit deltas.

A live grid over a 1M-row table must redraw within milliseconds after a 1-row
commit, which re-running its page query cannot promise (an ORDER BY on an
unindexed column is a scan). ``Database.subscribe`` tells, per commit, which
rowids of a table it wrote (``txn.subscribe.Changed``); the page reads just
those rows in the roots before and after, and decides from the page's first and
last sort keys whether the change stays inside the page (an updated row replaced
in place or moved within it, a row entering or leaving past the page's edge with
nothing to fill from beyond it) or could move rows across its boundary (a row
entering or leaving before the page, or leaving a full page that has rows after
it). The first kind is applied to the rows held in memory and the total
adjusted by the rows that started or stopped matching; the second falls back to
re-running the page statement, which is written to be as cheap as the engine
can make it (no subquery, so an index on the sort column serves ORDER BY ...
LIMIT).

The order is total, so the delta and a re-query give the same page: the sort
column (PostgreSQL's NULL placement: last ascending, first descending), then the
table's key (primary key, or a unique key on NOT NULL columns; for a persist
collection ``_id``). Without a sort column the page is in key order. A table
without such a key, a filter or sort the row path cannot evaluate (a subquery,
a JSON sort key), a DDL or restore between two refreshes, or many changed rows
always re-query.

Used by ``rustmemodb_lab.live``; the grid calls ``note`` from its subscription
callback (cheap: the event is queued) and ``refresh`` from its timer.
"""
from __future__ import annotations

import math
import threading
from typing import Any

from .. import types
from ..txn.subscribe import Changed

# More changed rows than this in one refresh: re-query (reading each changed row twice
# in Python would cost more than the page statement).
MAX_DELTA_ROWS = 2000
MAX_EVENTS = 512            # commits queued between two refreshes before giving up on deltas
_ORDERABLE = {types.INTEGER, types.FLOAT, types.TEXT, types.BOOLEAN, types.TIMESTAMP,
              types.TIMESTAMPTZ,
              types.DATE, types.UUID, types.TIME}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Desc:
    """A value that sorts in reverse (a descending column inside an ascending key)."""

    __slots__ = ("v",)

    def __init__(self, v) -> None:
        self.v = v

    def __lt__(self, other: "_Desc") -> bool:
        return other.v < self.v

    def __gt__(self, other: "_Desc") -> bool:
        return other.v > self.v

    def __eq__(self, other) -> bool:
        return self.v == other.v

    def __le__(self, other: "_Desc") -> bool:
        return other.v <= self.v

    def __ge__(self, other: "_Desc") -> bool:
        return other.v >= self.v


class LivePage:
    """``SELECT * FROM table [WHERE where] ORDER BY [order_by [DESC],] key LIMIT size
    OFFSET page * size``, kept current by :meth:`note` + :meth:`refresh`."""

    def __init__(self, database: Any, table: str, *, where: str | None = None,
                 order_by: str | None = None, descending: bool = False, page: int = 0,
                 page_size: int = 50, default_order: str | None = None) -> None:
        self.database = database
        self.table = table
        self.where = where or None
        self.order_by = order_by
        self.descending = descending
        self.default_order = default_order   # the sort column when order_by is None
        self.page = max(0, page)
        self.page_size = page_size
        self.conn = database.connect()     # its own: refreshes run on a timer thread
        self.conn.execute("SET default_transaction_isolation = 'repeatable read'")
        self.rows: list[tuple] = []        # the page, DB-API values
        self.columns: list[str] = []
        self.total = 0
        self.version = 0
        self.changed: list[int] = []       # positions on the page the last refresh changed
        self.path = ""                     # how the last refresh went: query | delta | same
        self.queries = 0                   # re-queries so far (tests and benchmarks)
        self.deltas = 0
        self.fills = 0                     # deltas that read rows past the page from an index
        self._lock = threading.Lock()
        self._events: list = []            # (old root, new root, Changed or names)
        self._root = None                  # the root the page was computed from
        self._entries: list = []           # (sort key, rowid, storage-form row) per page row
        self._arrow = None                 # the page as a pyarrow.Table (see arrow())
        self._plan = None                  # per table schema: see _compile
        self._schema = None
        self._drawn = False

    def arrow(self):
        """The page as a ``pyarrow.Table``, typed as the page statement's result is (so
        ``pandas_out.to_pandas(arrow())`` is what ``cursor.df()`` of a re-query gives)."""
        if self._arrow is None:
            import pyarrow as pa
            cols = [(c.name, c.type) for c in self._schema.columns]
            stored = [e[2] for e in self._entries]
            self._arrow = pa.Table.from_arrays(
                [pa.array([r[i] for r in stored], types.arrow_type(t))
                 for i, (_, t) in enumerate(cols)], names=[n for n, _ in cols])
        return self._arrow

    # -- configuration -------------------------------------------------------
    def configure(self, *, where=..., order_by=..., descending=..., page=...) -> None:
        """Change filter, order or page; the next :meth:`refresh` re-queries."""
        if where is not ...:
            self.where = where or None
        if order_by is not ...:
            self.order_by = order_by
        if descending is not ...:
            self.descending = bool(descending)
        if page is not ...:
            self.page = max(0, page)
        self._root = None
        self._schema = None
        self._drawn = False         # a new view: nothing on it counts as changed

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    # -- the statements ------------------------------------------------------
    @property
    def sort_column(self) -> str | None:
        return self.order_by or self.default_order

    def _order_sql(self, key_names: list[str]) -> str:
        items = []
        column = self.sort_column
        if column:
            desc = self.descending and self.order_by is not None
            items.append(quote_ident(column) + (" DESC" if desc else ""))
        items += [quote_ident(k) for k in key_names if k != column]
        return " ORDER BY " + ", ".join(items) if items else ""

    def page_sql(self) -> str:
        """The statement that fetches the current page."""
        plan = self._plan
        keys = plan["key_names"] if plan else []
        where = f" WHERE {self.where}" if self.where else ""
        return (f"SELECT * FROM {quote_ident(self.table)}{where}{self._order_sql(keys)} "
                f"LIMIT {int(self.page_size)} OFFSET {int(self.page * self.page_size)}")

    def count_sql(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        return f"SELECT count(*) FROM {quote_ident(self.table)}{where}"

    # -- events ----------------------------------------------------------------
    def note(self, old: Any, new: Any, changed: frozenset) -> bool:
        """Remember a commit (from a ``Database.subscribe`` callback); True when it
        touched the table, i.e. a refresh is due. Cheap: runs in the committing thread."""
        if self.table not in changed:
            return False
        with self._lock:
            if len(self._events) >= MAX_EVENTS:
                # a paused or slow grid under many commits: stop holding their roots,
                # the next refresh re-queries
                self._events = [None]
            elif self._events[:1] != [None]:
                self._events.append((old, new, changed))
        return True

    # -- refreshing -----------------------------------------------------------
    def refresh(self) -> str:
        """Bring the page up to date; returns how: ``"delta"``, ``"query"`` or ``"same"``
        (no relevant commit since the last refresh)."""
        with self._lock:
            events, self._events = self._events, []
        if events[:1] == [None]:
            events = []
            self._root = None           # too many commits queued: re-query
        if self._root is not None:
            if not events:
                self.changed, self.path = [], "same"
                return "same"
            if self._apply(events):
                self.deltas += 1
                self.path = "delta"
                return "delta"
        self._requery()
        self.queries += 1
        self.path = "query"
        return "query"

    def _requery(self) -> None:
        conn = self.conn
        previous = {e[1]: row for e, row in zip(self._entries, self.rows)} \
            if self._root is not None else (list(self.rows) if self._drawn else None)
        conn.execute("BEGIN")
        try:
            root = conn._session.txn.snapshot      # noqa: SLF001 - the page's exact root
            version = root.tables.get(self.table)
            if version is not None and version.schema is not self._schema:
                self._compile(version)
            self.total = int(conn.execute(self.count_sql()).fetchone()[0])
            if self.page * self.page_size >= self.total and self.page:
                self.page = max(0, self.pages - 1)
            # the first draw of a configuration runs the statement: a walk's first read
            # of each chunk it touches builds that chunk's Python columns (a one-off
            # ~50 ms per 64k rows), a top-k over Arrow does not
            walked = self._walk_page(version) if version is not None and self._drawn \
                else None
            if walked is None:
                cur = conn.execute(self.page_sql())
                rows = cur.fetchall()
                self._arrow = cur.arrow()
                self.columns = [d[0] for d in cur.description]
        finally:
            conn.rollback()
        plan = self._plan
        if walked is not None:
            # the page read in order from the sort column's index: same rows as the
            # statement (which the planner serves from the same index plus a tie run)
            from .cursor import rows_to_python
            rows = rows_to_python([e[2] for e in walked],
                                  [(c.name, c.type) for c in version.schema.columns])
            self.columns = [c.name for c in version.schema.columns]
            self._arrow = None
        self.rows = rows
        self._drawn = True
        self.version = root.version
        if walked is not None:
            self._entries, self._root = walked, root
            self.changed = [] if not isinstance(previous, dict) else \
                [i for i, (e, row) in enumerate(zip(walked, rows)) if previous.get(e[1]) != row]
            return
        if plan is None or plan["key"] is None or version is None:
            self._root, self._entries = None, []       # no delta path: re-query each time
            self.changed = [] if previous is None else \
                [i for i, row in enumerate(rows) if row not in previous]
            return
        index = version.indexes[plan["key"]]
        entries = []
        for row in rows:
            rowid = index.get(plan["stored_key"](row))
            stored = version.row(rowid) if rowid is not None else None
            if stored is None:                         # cannot happen at one snapshot
                self._root, self._entries = None, []
                self.changed = []
                return
            entries.append((plan["sort_key"](stored), rowid, stored))
        self._entries = entries
        self._root = root
        if not isinstance(previous, dict):
            self.changed = []
        else:
            self.changed = [i for i, (e, row) in enumerate(zip(entries, rows))
                            if previous.get(e[1]) != row]

    def _compile(self, version) -> None:
        """What the delta path needs for this table version's schema, or a plan with
        ``key`` None (then every refresh re-queries)."""
        schema = self._schema = version.schema
        self._plan = plan = {"key": None, "key_names": [], "sort_key": None,
                             "stored_key": None, "pred": None}
        cols = schema.columns
        unique = schema.primary_key or next(
            (u for u in schema.uniques if all(cols[i].not_null for i in u.columns)), None)
        if unique is None:
            return
        plan["key_names"] = [cols[i].name for i in unique.columns]
        index_name = next((name for name, ix in version.indexes.items()
                           if not ix.keyed and tuple(ix.columns) == tuple(unique.columns)),
                          None)
        if index_name is None:
            return
        from ..session import convert_param
        key_pos = list(unique.columns)
        key_types = [cols[i].type for i in key_pos]
        if len(key_pos) == 1:
            p0, t0 = key_pos[0], key_types[0]
            plan["stored_key"] = lambda row: convert_param(row[p0], t0, p0)
        else:
            plan["stored_key"] = lambda row: tuple(convert_param(row[p], t, p)
                                                   for p, t in zip(key_pos, key_types))
        if self.where:
            pred = self._predicate()
            if pred is None:
                return
            plan["pred"] = pred
        order_pos = None
        if self.sort_column:
            order_pos = schema.position(self.sort_column)
            if order_pos is None or cols[order_pos].type not in _ORDERABLE:
                return
        plan["sort_key"] = _sort_key(order_pos, cols[order_pos].type if order_pos is not None
                                     else None, self.descending and self.order_by is not None,
                                     [p for p in key_pos if p != order_pos])
        plan["key"] = index_name

    def _walk_page(self, version) -> list | None:
        """The page's entries read in order from an ordered index on the sort column,
        when there is one and the page is near the start (the walk reads every row
        before it); None: run the page statement."""
        plan = self._plan
        column = self.sort_column
        offset = self.page * self.page_size
        if plan is None or plan["key"] is None or column is None or \
                offset + self.page_size > MAX_WALK_ROWS:
            return None
        col, index = _sort_index(version, column)
        if index is None:
            return None
        desc = self.descending and self.order_by is not None
        out, seen = [], 0
        for entry in _walk_index(version, index, col, desc, None, plan["sort_key"],
                                 plan["pred"], MAX_FILL_SCAN):
            if entry is None:
                return None             # a filter that keeps few rows: the statement
            seen += 1
            if seen > offset:
                out.append(entry)
                if len(out) >= self.page_size:
                    break
        return out

    def _fill(self, version, last_key, need: int) -> list | None:
        """The ``need`` rows right after ``last_key`` in page order, from an ordered
        index on the sort column; None without one (or past MAX_FILL_SCAN entries)."""
        plan = self._plan
        column = self.sort_column
        if column is None:
            return None
        col, index = _sort_index(version, column)
        if index is None:
            return None
        start = None
        probe = self._entries[-1][2] if self._entries else None
        if probe is not None:
            start = probe[col]
            if start is None or (isinstance(start, float) and start != start):
                start = None        # from a NULL or NaN boundary: walk from the beginning
        out = []
        desc = self.descending and self.order_by is not None
        for entry in _walk_index(version, index, col, desc, start, plan["sort_key"],
                                 plan["pred"], MAX_FILL_SCAN):
            if entry is None:
                return None
            if entry[0] <= last_key:
                continue
            out.append(entry)
            if len(out) >= need:
                return out
        return out

    def _predicate(self):
        """The WHERE text as a row closure (storage-form rows), or None."""
        from ..exec.expr.row import try_compile_row
        from ..plan import logical as L
        from ..plan.expr import Param, has_subquery
        try:
            prepared = self.conn._session._prepare(      # noqa: SLF001 - bound, not run
                f"SELECT * FROM {quote_ident(self.table)} WHERE {self.where}")
        except Exception:   # noqa: BLE001 - the re-query reports the error itself
            return None
        if prepared.lifted is not None or prepared.bound is None:
            return None
        node = prepared.bound.plan
        while isinstance(node, L.LogicalProject):
            node = node.child
        if not (isinstance(node, L.LogicalFilter) and isinstance(node.child, L.LogicalScan)
                and node.child.table == self.table and node.child.filter is None):
            return None
        expr = node.predicate
        if has_subquery(expr) or _contains(expr, Param):
            return None
        fn = try_compile_row(expr)
        if fn is None:
            return None
        return lambda row: fn(row, ()) is True

    def _apply(self, events: list) -> bool:
        """Apply the queued commits to the page in memory; False: re-query instead."""
        plan, t = self._plan, self.table
        events.sort(key=lambda e: e[1].version)
        base = self._root
        current = base.tables.get(t)
        rowids: set = set()
        for old, new, changed in events:
            if not isinstance(changed, Changed) or old.tables.get(t) is not current:
                return False            # a restore, or a commit we have not heard of
            ids = changed.rowids(t)
            if ids is None:
                return False
            rowids.update(ids)
            current = new.tables.get(t)
        if current is None or current.schema is not self._schema or len(rowids) > MAX_DELTA_ROWS:
            return False
        before, after = base.tables[t], current
        pred, sort_key = plan["pred"], plan["sort_key"]
        size, offset = self.page_size, self.page * self.page_size
        entries = self._entries
        if not entries:
            return False
        first, last = entries[0][0], entries[-1][0]
        more_after = self.total > offset + len(entries)
        total = self.total
        shift = 0
        joining = []                    # (key, rowid, stored row) inside the page's range
        for rowid in rowids:
            old_row, new_row = before.row(rowid), after.row(rowid)
            if old_row is not None and (pred is None or pred(old_row)):
                total -= 1
                if offset and sort_key(old_row) < first:
                    shift -= 1
            if new_row is not None and (pred is None or pred(new_row)):
                total += 1
                k = sort_key(new_row)
                if offset and k < first:
                    shift += 1
                elif k <= last or not more_after:
                    joining.append((k, rowid, new_row))
        if shift:
            return False                # rows moved across the page's first edge
        kept = [(e, row) for e, row in zip(entries, self.rows) if e[1] not in rowids]
        if not joining and len(kept) == len(entries):
            self.total = total          # only rows outside the page changed
            self._root = events[-1][1]
            self.version, self.changed = self._root.version, []
            return True
        from ..api.cursor import rows_to_python
        schema_cols = [(c.name, c.type) for c in after.schema.columns]
        new_rows = rows_to_python([r for _, _, r in joining], schema_cols)
        drawn = {e[1]: row for e, row in zip(entries, self.rows)}
        # a written row is marked changed when it is new on the page or shows new values
        merged = [(e[0], e[1], row, False, e[2]) for e, row in kept] + \
                 [(k, rowid, row, drawn.get(rowid) != row, stored)
                  for (k, rowid, stored), row in zip(joining, new_rows)]
        merged.sort(key=lambda m: m[0])
        if len(merged) < size and more_after:
            # rows left a full page: fill it with the next rows past its last key, read
            # in order from the sort column's index (without one: re-query)
            fill = self._fill(after, last, size - len(merged))
            if fill is None:
                return False
            self.fills += 1
            fill_rows = rows_to_python([r for _, _, r in fill], schema_cols)
            merged += [(k, rowid, row, True, stored) for (k, rowid, stored), row
                       in zip(fill, fill_rows)]
        merged = merged[:size]
        if not merged and total:
            return False                # the page emptied: the re-query moves back a page
        self.rows = [m[2] for m in merged]
        self._entries = [(m[0], m[1], m[4]) for m in merged]
        self._arrow = None
        self.changed = [i for i, m in enumerate(merged) if m[3]]
        self.total = total
        self._root = events[-1][1]
        self.version = self._root.version
        return True


def _walk_index(version, index, col: int, descending: bool, start, sort_key, pred,
                budget: int = 50_000):
    """(sort key, rowid, row) of the live rows matching ``pred`` in page order, from
    the ordered index on column ``col``, beginning at the sort value ``start`` (None:
    the beginning): each run of equal values is read whole and ordered by the full key
    (the index orders ties by rowid, the page by the table's key). Past ``budget`` rows
    read it yields None and stops (the caller runs the statement instead)."""
    from ..exec.operators.index_scan import fetch_rows
    parts = _index_windows(index, start, descending)
    group, group_value = [], _NO_VALUE
    read = 0
    for ids in parts:
        for lo in range(0, len(ids), 4096):
            read += min(4096, len(ids) - lo)
            if read > budget + 4096:
                yield None
                return
            # live rows with their rowid appended, column-wise for big windows
            for found in fetch_rows(version, ids[lo:lo + 4096], with_rowid=True):
                row, rowid = found[:-1], found[-1]
                v = row[col]
                if isinstance(v, float) and v != v:
                    v = _NAN
                if v != group_value or (v is None) != (group_value is None):
                    if group:
                        group.sort(key=lambda g: g[0])
                        yield from group
                    group, group_value = [], v
                if pred is None or pred(row):
                    group.append((sort_key(row), rowid, row))
    if group:
        group.sort(key=lambda g: g[0])
        yield from group


def _index_windows(index, start, descending: bool):
    """The index's rowids from sort value ``start`` on (None: the start) in page order,
    as arrays over growing windows of the index's base keys: a fill needs a few rows,
    not the million a ``range(start, None)`` would hand over."""
    import numpy as np
    keys = index.keys
    n = len(keys)
    step = 256
    if not descending:
        pos = 0 if start is None else int(np.searchsorted(keys, start, "left"))
        low, low_inc = start, True
        while True:
            end = pos + step
            if end >= n:
                yield index.range(low, None, low_inc, True)
                break
            high = keys[end]
            high = high.item() if hasattr(high, "item") else high
            yield index.range(low, high, low_inc, True)
            low, low_inc = high, False
            pos, step = int(np.searchsorted(keys, high, "right")), step * 2
        yield index.nulls()                     # NULLS LAST
        return
    if start is None:
        yield index.nulls()                     # NULLS FIRST
    pos = n if start is None else int(np.searchsorted(keys, start, "right"))
    high, high_inc = start, True
    while True:
        begin = pos - step
        if begin <= 0:
            yield index.range(None, high, True, high_inc)[::-1]
            break
        low = keys[begin]
        low = low.item() if hasattr(low, "item") else low
        yield index.range(low, high, True, high_inc)[::-1]
        high, high_inc = low, False
        pos, step = int(np.searchsorted(keys, low, "left")), step * 2


_NO_VALUE = object()
_NAN = object()
MAX_FILL_SCAN = 50_000      # index entries a fill may read before it re-queries instead
MAX_WALK_ROWS = 5_000       # a page past this many rows is fetched by its statement


def _contains(expr, kind) -> bool:
    from ..plan.expr import transform
    found = []

    def visit(node):
        if isinstance(node, kind):
            found.append(node)
        return node
    transform(expr, visit)
    return bool(found)


def _sort_key(order_pos: int | None, order_type: str | None, descending: bool,
              key_pos: list[int]):
    """The page order as a Python key over storage-form rows: the sort column with
    PostgreSQL's NULL placement (NaN above every number), then the key columns."""
    def tail(row):
        return tuple(row[p] for p in key_pos)
    if order_pos is None:
        return tail
    is_float = order_type == types.FLOAT

    def value(v):
        if is_float and isinstance(v, float) and math.isnan(v):
            return (1, 0.0)
        return (0, v)
    if descending:
        def key(row):
            v = row[order_pos]
            return ((0,) if v is None else (1, _Desc(value(v)))) + tail(row)
    else:
        def key(row):
            v = row[order_pos]
            return ((1,) if v is None else (0, value(v))) + tail(row)
    return key


def _sort_index(version, column: str):
    """(position of ``column``, the ordered index on exactly that column or None)."""
    col = version.schema.position(column)
    return col, next((ix for ix in version.ordered.values() if tuple(ix.columns) == (col,)),
                     None)
