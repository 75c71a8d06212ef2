"""Live grids: a page of a query that redraws itself when a commit touches its tables.

``live(source)`` (and ``%sql --live NAME <query>``) builds a :class:`LiveFrame`:
the current page of ``source`` (a persist collection, a table name or a query)
drawn as an HTML table inside an ipywidgets VBox, with a status line
("version N · updated N s ago") and previous / next buttons.

How it stays current without re-running the cell: the frame registers
``Database.subscribe`` on the database it reads. The engine calls it after each
commit, in the committing thread (the notebook, a worker thread, a server
client), with the names of the tables the commit changed. When they meet the
tables the query reads (its bound dependencies, from the engine's binder) the
frame schedules a refresh on a ``threading.Timer``: at most one per
``MIN_INTERVAL`` seconds, so a burst of commits is coalesced into one redraw and
the committing thread only pays for a set intersection. The kernel's asyncio
loop is never used or blocked; ipywidgets sends the new value from the timer
thread.

A grid over a table or a persist collection keeps its page as a
``rustmemodb.api.live_page.LivePage``: each commit event names the rows it
wrote, and the page applies them in memory (an updated row replaced or moved
within the page, the total adjusted) unless they could move rows across the
page's edges, when the page statement runs again (``SELECT * FROM t WHERE f
ORDER BY c, key LIMIT n OFFSET k``, written so an index on ``c`` serves it). Its
order is total (the table's key breaks ties), so both ways give the same page.
A grid over any other query re-runs it as a subquery (``SELECT * FROM (q) WHERE
f ORDER BY c LIMIT n OFFSET k``). Either way only one page is ever
materialised. Rows whose key (the table's key or ``_id``, otherwise the whole
row) is new or changed since the previous draw get a CSS class with a short
fade-out animation. ``_repr_mimebundle_`` adds a ``text/html`` copy of
the last state, so exported or static notebooks never show a blank widget.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any

from rustmemodb.api.pandas_out import to_pandas

from rustmemodb_lab.render.html import DIM, esc

MIN_INTERVAL = 0.1          # seconds between refreshes: at most 10 a second
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
# "SELECT * FROM t": a whole table, followed by row deltas like live("t")
_WHOLE_TABLE = re.compile(r'^\s*SELECT\s+\*\s+FROM\s+(?:"([^"]+)"|([A-Za-z_][A-Za-z0-9_$]*))\s*;?\s*$',
                          re.IGNORECASE)

_STYLE = """<style>
.rmdb-live table{border-collapse:collapse;font-size:12px}
.rmdb-live th,.rmdb-live td{padding:2px 8px;border-bottom:1px solid #e1e4e8;text-align:left}
.rmdb-live tr.rmdb-live-changed td{animation:rmdb-live-flash 2s ease-out}
@keyframes rmdb-live-flash{from{background:#fff3b0}to{background:transparent}}
</style>"""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def live(source: Any, branch: str | None = None, connection: Any = None, page_size: int = 50) -> "LiveFrame":
    """A :class:`LiveFrame` on a persist collection, a table name or a SELECT query.

    ``connection`` is a rustmemodb ``Connection`` or ``Database``; without it the
    database is the persist collection's, or else the lab session's branch
    ``branch`` (the current branch when ``None``).
    """
    database = _database(source, branch, connection)
    if hasattr(source, "app") and hasattr(source, "name") and hasattr(source, "model"):
        # a collection reads in creation order unless sorted (as Collection.query does)
        return LiveFrame(database, f"SELECT * FROM {quote_ident(source.name)}", page_size=page_size,
                         tables={source.name}, title=source.name, table=source.name,
                         default_order="_created_at")
    if not isinstance(source, str):
        raise TypeError("live() takes a persist collection, a table name or a query string")
    text = source.strip().rstrip(";")
    if _IDENT.match(text) and text in database.root.tables:
        return LiveFrame(database, f"SELECT * FROM {quote_ident(text)}", page_size=page_size,
                         tables={text}, title=text, table=text)
    return LiveFrame(database, text, page_size=page_size)


def _database(source: Any, branch: str | None, connection: Any) -> Any:
    if connection is not None:
        return getattr(connection, "database", connection)
    app = getattr(source, "app", None)
    if app is not None and hasattr(app, "database") and branch is None:
        return app.database
    from IPython import get_ipython

    from rustmemodb_lab.errors import LabUsageError

    ip = get_ipython()
    session = getattr(ip, "_rustmemodb_lab_session", None) if ip is not None else None
    if session is None:
        raise LabUsageError("live() needs connection= outside a notebook with %load_ext rustmemodb_lab")
    registry = session.registry
    return (registry.get(branch) if branch is not None else registry.active).database


def query_tables(conn: Any, sql: str) -> set[str]:
    """The tables and views ``sql`` reads, from the engine's binder (nothing is run)."""
    prepared = conn._session._prepare(sql)  # noqa: SLF001 - the bound deps are the engine's answer
    bound = prepared.bound
    if bound is None or bound.plan is None or str(bound.kind).upper() in {"INSERT", "UPDATE", "DELETE", "MERGE"}:
        from rustmemodb_lab.errors import LabUsageError

        raise LabUsageError("a live grid needs a SELECT query")
    return {name for _kind, name, _obj in bound.deps}


class LiveFrame:
    """One page of a query, redrawn after each commit that touches its tables."""

    def __init__(self, database: Any, sql: str, *, page_size: int = 50, tables: set[str] | None = None,
                 title: str | None = None, table: str | None = None,
                 default_order: str | None = None) -> None:
        import ipywidgets as widgets
        from rustmemodb.api.live_page import LivePage

        self.database = database
        self.conn = database.connect()     # its own connection: refreshes run on a timer thread
        whole = _WHOLE_TABLE.match(sql) if table is None else None
        if whole is not None:       # an unquoted name folds to lower case, as in SQL
            name = whole.group(1) or whole.group(2).lower()
            table = name if name in database.root.tables else None
        self.sql = sql
        self.title = title or sql
        self.page_size = page_size
        self.tables = set(tables) if tables is not None else query_tables(self.conn, sql)
        self.page = 0
        self.order_by: str | None = None
        self.descending = False
        self.where: str | None = None
        self.total = 0
        self.version = 0
        self.updated_at = time.monotonic()
        self.refreshes = 0
        self.changed_rows: list[int] = []
        self.error: str | None = None
        self.paused = False
        self.closed = False
        self.frame = None
        self._stale = False
        self._lock = threading.RLock()       # one refresh at a time (timer vs. buttons)
        self._timer: threading.Timer | None = None
        self._last = 0.0
        self._previous: dict | set = set()
        self._previous_rows: list[tuple] = []
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        # a table source: the page follows commits by their row deltas
        self._page = None if table is None else LivePage(database, table, page_size=page_size,
                                                         default_order=default_order)
        self.path = ""          # how the last refresh went: query | delta | same

        self.grid = widgets.HTML()
        self.status = widgets.HTML()
        self.prev_button = widgets.Button(description="‹ previous", layout=widgets.Layout(width="auto"))
        self.next_button = widgets.Button(description="next ›", layout=widgets.Layout(width="auto"))
        # ipywidgets keeps every widget (and so its callbacks) in a global registry:
        # the buttons hold the frame weakly so a forgotten grid can still be collected
        ref = weakref.ref(self)
        self.prev_button.on_click(lambda _b: (f := ref()) and f.goto(f.page - 1))
        self.next_button.on_click(lambda _b: (f := ref()) and f.goto(f.page + 1))
        self.widget = widgets.VBox([self.grid, widgets.HBox([self.prev_button, self.next_button, self.status])])
        self.widget.add_class("rmdb-live")
        self.refresh()
        self.subscription = database.subscribe(self._on_commit)

    # -- the SQL ------------------------------------------------------------
    def _filtered(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        return f"SELECT * FROM ({self.sql}) AS _live{where}"

    def page_sql(self) -> str:
        """The statement that fetches the current page."""
        if self._page is not None:
            return self._page.page_sql()
        order = ""
        if self.order_by:
            order = f" ORDER BY {quote_ident(self.order_by)}{' DESC' if self.descending else ''}"
        return f"{self._filtered()}{order} LIMIT {int(self.page_size)} OFFSET {int(self.page * self.page_size)}"

    def sort(self, column: str | None, descending: bool = False) -> "LiveFrame":
        """Order by ``column`` in the engine (``None``: the query's own order; for a table,
        its key; for a collection, creation)."""
        self.order_by, self.descending, self.page = column, descending, 0
        self._configure()
        self.refresh()
        return self

    def filter(self, where: str | None) -> "LiveFrame":
        """Keep the rows matching the SQL condition ``where`` (``None``: all)."""
        self.where, self.page = (where or None), 0
        self._configure()
        self.refresh()
        return self

    def goto(self, page: int) -> "LiveFrame":
        self.page = max(0, page)
        self._configure()
        self.refresh()
        return self

    def _configure(self) -> None:
        if self._page is not None:
            with self._lock:
                self._page.configure(where=self.where, order_by=self.order_by,
                                     descending=self.descending, page=self.page)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    # -- refreshing ---------------------------------------------------------
    def refresh(self) -> None:
        """Bring the page up to date now and redraw (also what the timer calls): from
        the commits' row deltas for a table source, else by re-running the page query."""
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
            if self._page is not None:
                self._refresh_page()
                return
            try:
                version = self.database.root.version
                self.total = int(self.conn.execute(f"SELECT count(*) FROM ({self._filtered()}) AS _n").fetchone()[0])
                if self.page >= self.pages:
                    self.page = self.pages - 1
                frame = self.conn.execute(self.page_sql()).df()
                self.error = None
            except Exception as exc:  # noqa: BLE001 - a dropped table must not kill the timer thread
                self.error = str(exc)
                self._draw_status()
                return
            self.version = version
            self.updated_at = time.monotonic()
            self.refreshes += 1
            self.path = "query"
            same_page = self._mark_changes(frame)
            # the widget is drawn before the frame is published: a reader that sees
            # the new frame (a cell waiting on it) knows the grid message went first
            if not same_page:
                self.grid.value = self.html(frame)
            self.frame = frame
            self._draw_buttons()

    def _refresh_page(self) -> None:
        page = self._page
        try:
            path = page.refresh()
            self.error = None
        except Exception as exc:  # noqa: BLE001 - a dropped table must not kill the timer thread
            self.error = str(exc)
            self._draw_status()
            return
        self.refreshes += 1
        self.updated_at = time.monotonic()
        self.path = path
        self.version, self.total, self.page = page.version, page.total, page.page
        if path != "same" or self.frame is None:
            # "same": nothing new since the last draw (the refresh a commit scheduled
            # after an earlier one already read it): the grid and its highlights stay
            self.changed_rows = list(page.changed) if self.refreshes > 1 else []
            frame = to_pandas(page.arrow())
            self.grid.value = self.html(frame)
            self.frame = frame
        self._draw_buttons()

    def _draw_buttons(self) -> None:
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= self.pages - 1
        self._draw_status()

    def _mark_changes(self, frame: Any) -> bool:
        """Set ``changed_rows``; True when the page is exactly the one drawn last.

        Then the grid is not redrawn and the highlights stay: a refresh that already
        read a commit is often followed by the one that commit scheduled, which
        would otherwise wipe the flash of the row it changed.
        """
        rows = [tuple(r) for r in frame.itertuples(index=False, name=None)]
        if self.refreshes > 1 and self.frame is not None and rows == self._previous_rows \
                and list(frame.columns) == list(self.frame.columns):
            return True
        self._previous_rows = rows
        if "_id" in frame.columns:
            pos = list(frame.columns).index("_id")
            current: dict | set = {r[pos]: r for r in rows}
            prev = self._previous if isinstance(self._previous, dict) else {}
            changed = [i for i, r in enumerate(rows) if prev.get(r[pos]) != r]
        else:
            current = set(rows)
            prev = self._previous if isinstance(self._previous, set) else set()
            changed = [i for i, r in enumerate(rows) if r not in prev]
        # the first draw highlights nothing: every row would be "new"
        self.changed_rows = changed if self.refreshes > 1 else []
        self._previous = current
        return False

    def _on_commit(self, old: Any, new: Any, changed: frozenset) -> None:
        # runs in the committing thread: only decide (and queue the delta) and schedule
        if self.closed or not (changed & self.tables):
            return
        if self._page is not None:
            self._page.note(old, new, changed)
        if self.paused:
            self._stale = True
            return
        self._schedule()

    def _schedule(self) -> None:
        with self._lock:
            if self._timer is not None or self.closed:
                return
            delay = max(0.0, self._last + MIN_INTERVAL - time.monotonic())
            self._timer = threading.Timer(delay, self.refresh)
            self._timer.daemon = True
            self._timer.start()

    def pause(self) -> None:
        """Stop redrawing; commits meanwhile are remembered for :meth:`resume`."""
        self.paused = True
        self._draw_status()

    def resume(self) -> None:
        """Redraw again, at once if anything relevant was committed while paused."""
        self.paused = False
        if self._stale:
            self._stale = False
            self.refresh()
        else:
            self._draw_status()

    def close(self) -> None:
        """Cancel the subscription and any pending refresh; the last page stays shown."""
        self.closed = True
        self.subscription.cancel()
        self._stop.set()
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._draw_status()

    # -- drawing ------------------------------------------------------------
    def status_text(self) -> str:
        ago = int(time.monotonic() - self.updated_at)
        first = self.page * self.page_size + 1 if self.total else 0
        last = min(self.total, (self.page + 1) * self.page_size)
        text = (f"version {self.version} · updated {ago} s ago · rows {first:,}–{last:,} of {self.total:,}"
                f" · page {self.page + 1} of {self.pages}")
        if self.paused:
            text += " · paused"
        if self.closed:
            text += " · closed"
        if self.error:
            text += f" · error: {self.error}"
        return text

    def _draw_status(self) -> None:
        self.status.value = f"<span style='color:{DIM};padding-left:8px'>{esc(self.status_text())}</span>"

    def html(self, frame: Any = None) -> str:
        """The current page (or ``frame``) as a static HTML table (changed rows carry
        ``rmdb-live-changed``)."""
        frame = self.frame if frame is None else frame
        if frame is None:
            return f"<div class='rmdb-live'>{esc(self.status_text())}</div>"
        changed = set(self.changed_rows)
        head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
        body = []
        for i, row in enumerate(frame.itertuples(index=False, name=None)):
            cls = " class='rmdb-live-changed'" if i in changed else ""
            body.append(f"<tr{cls}>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>")
        return (f"{_STYLE}<div class='rmdb-live' style='line-height:normal'><table><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table></div>")

    def static_html(self) -> str:
        """Page and status, for front-ends (or exports) without live widgets."""
        return (f"{self.html()}<div style='color:{DIM}'><b>{esc(self.title)}</b> · "
                f"{esc(self.status_text())}</div>")

    @staticmethod
    def _tick(ref: "weakref.ref[LiveFrame]", stop: threading.Event) -> None:
        # keeps "updated N s ago" honest while nothing is committed; holds the frame
        # only weakly, so a forgotten grid is collected and its ticker ends
        while not stop.wait(1.0):
            frame = ref()
            if frame is None:
                return
            frame._draw_status()
            del frame

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        if self._ticker is None and not self.closed:
            self._ticker = threading.Thread(target=LiveFrame._tick, args=(weakref.ref(self), self._stop),
                                            name="rmdb-live-tick", daemon=True)
            self._ticker.start()
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.static_html()
        bundle["text/plain"] = f"LiveFrame({self.title!r}) · {self.status_text()}"
        return bundle

    def __repr__(self) -> str:
        return f"<LiveFrame {self.title!r} {self.status_text()}>"

    def __del__(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
