"""The Textual app of ``rustmemodb cli``: editor and history on the left, results on the right.

    ┌ SQL editor (tree-sitter SQL) ┐┌ result grid (Arrow, paged) ───────────┐
    │ SELECT ... ;                 ││ id │ sym │ px                          │
    ├ history (kept between runs) ─┤├ messages: errors with caret, EXPLAIN ─┤
    └──────────────────────────────┘└──────────────────────────────────────┘
     status: branch · connection · last outcome · keys

Keys: Ctrl+E runs the statement under the cursor (or the selection), Ctrl+C cancels
a running one (57014; the client stays), Tab completes, Ctrl+Up/Ctrl+Down recall
history, Esc quits. Statements run in a worker thread so the UI (and Ctrl+C) stays live.
"""
from __future__ import annotations

import sys

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import RichLog, Static, TextArea

from rustmemodb.sql.split import split_statements

from . import explain, render
from .completion import Catalog, blank_backslash_lines, common_prefix, complete, function_names
from .grid import ArrowGrid
from .history import History
from .session import Outcome, Session, open_session


def statement_at(text: str, index: int) -> tuple[str, int]:
    """The statement (or backslash line) around character ``index``, and its offset."""
    line_start = text.rfind("\n", 0, index) + 1
    line_end = text.find("\n", index)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end]
    if line.lstrip().startswith("\\"):
        return line.strip(), line_start + len(line) - len(line.lstrip())
    pieces = [(t, o) for t, o in split_statements(blank_backslash_lines(text)) if t.strip()]
    chosen = None
    for piece, offset in pieces:
        if offset <= index or chosen is None:
            chosen = (piece, offset)
    return chosen if chosen else ("", 0)


class SqlEditor(TextArea):
    """The editor: Tab asks the app to complete instead of inserting a tab."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "tab":
            event.prevent_default()
            event.stop()
            self.app.complete_at_cursor()
            return
        self.app.reset_completion()
        await super()._on_key(event)


class RustMemoApp(App):
    TITLE = "rustmemodb"
    CSS = """
    #left { width: 42%; }
    #editor { height: 1fr; border: round $accent; }
    #history { height: 40%; border: round $panel; }
    #grid { height: 1fr; border: round $accent; }
    #message-box { height: auto; max-height: 45%; border: round $panel; }
    #message { width: auto; }
    #status { dock: bottom; height: 1; background: $boost; }
    """
    BINDINGS = [
        Binding("ctrl+e", "run", "Run", priority=True),
        Binding("ctrl+c", "cancel", "Cancel", priority=True),
        Binding("escape", "quit", "Quit", priority=True),
        Binding("ctrl+up", "history_previous", "Previous", priority=True),
        Binding("ctrl+down", "history_next", "Next", priority=True),
    ]

    def __init__(self, session: Session, history: History | None = None) -> None:
        super().__init__()
        self.session = session
        self.history = history or History()
        self.catalog = Catalog()
        self.timing = False
        self.expanded = False
        self.running = False
        self.last: Outcome | None = None
        # (start, candidates, next index) while Tab cycles through candidates
        self._cycle: tuple[int, list[str], int] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                editor = SqlEditor.code_editor("", language=self._language(), id="editor",
                                               show_line_numbers=True, soft_wrap=True)
                editor.border_title = "SQL  (Ctrl+E run · Tab complete · Esc quit)"
                yield editor
                log = RichLog(id="history", wrap=True, markup=False)
                log.border_title = "history"
                yield log
            with Vertical(id="right"):
                grid = ArrowGrid(id="grid")
                grid.border_title = "result"
                yield grid
                with ScrollableContainer(id="message-box"):
                    yield Static("", id="message", markup=False)
        yield Static("", id="status", markup=False)

    @staticmethod
    def _language() -> str | None:
        try:
            import tree_sitter_sql  # noqa: F401 - textual[syntax] brings the SQL grammar
            return "sql"
        except ImportError:
            return None

    def on_mount(self) -> None:
        log = self.query_one("#history", RichLog)
        for entry in self.history.entries[-200:]:
            log.write(Text(f"{entry.source}\n  → {entry.summary}"))
        self.query_one("#editor", SqlEditor).focus()
        self._refresh_catalog()
        self._set_status("ready")

    # -- running -----------------------------------------------------------------------------
    def action_run(self) -> None:
        # A priority binding is handled as soon as the key arrives, while keys typed just
        # before it may still wait in the editor's queue: read the editor after them.
        self.query_one("#editor", SqlEditor).call_later(self._run_from_editor)

    def _run_from_editor(self) -> None:
        if self.running:
            self.notify("a statement is running: Ctrl+C cancels it", severity="warning")
            return
        editor = self.query_one("#editor", SqlEditor)
        source = editor.selected_text.strip()
        if not source:
            index = editor.document.get_index_from_location(editor.cursor_location)
            source, _ = statement_at(editor.text, index)
        if not source:
            return
        self.running_source = source
        if source.split()[0] in ("\\timing", "\\x"):
            self._toggle(source.split()[0])
            return
        self.running = True
        self._set_status("running…  (Ctrl+C cancels)")
        self._execute(source)

    @work(thread=True, exclusive=True, group="statement")
    def _execute(self, source: str) -> None:
        outcome = self.session.run(source)
        catalog = self._read_catalog()
        self.call_from_thread(self._show, outcome, catalog)

    def action_cancel(self) -> None:
        if self.running:
            self.session.cancel()
            self._set_status("cancelling…")
        else:
            self.notify("nothing is running (Esc quits)")

    async def action_quit(self) -> None:
        if self.running:          # do not leave a statement running in the worker thread
            self.session.cancel()
        await super().action_quit()

    def _toggle(self, command: str) -> None:
        if command == "\\timing":
            self.timing = not self.timing
            text = f"Timing is {'on' if self.timing else 'off'}."
        else:
            self.expanded = not self.expanded
            text = f"Expanded display is {'on' if self.expanded else 'off'}."
            if self.last is not None and self.last.kind == "rows" and not self.last.explain:
                self.query_one("#grid", ArrowGrid).show(self.last.table, expanded=self.expanded)
        self._message(text)
        self._record(command, text)

    def _show(self, outcome: Outcome, catalog: Catalog | None) -> None:
        self.running = False
        if catalog is not None:
            self.catalog = catalog
        self.last = outcome
        grid = self.query_one("#grid", ArrowGrid)
        lines: list[str] = []
        if outcome.kind == "error":
            grid.show(None)
            lines = render.error_lines(outcome.error, outcome.source)
        elif outcome.kind == "rows" and outcome.explain:
            grid.show(None)
            lines = explain.render([str(v) for v in outcome.table.column(0).to_pylist()])
        elif outcome.kind == "rows":
            grid.show(outcome.table, expanded=self.expanded)
            n = outcome.table.num_rows
            lines = [outcome.status] if outcome.status else []
            lines.append(f"({n:,} row{'s' if n != 1 else ''})")
        elif outcome.kind == "text":
            grid.show(None)
            lines = outcome.text.splitlines()
        else:
            grid.show(None)
            lines = [outcome.status]
        if self.timing:
            lines.append(render.timing(outcome))
        self._message("\n".join(lines))
        self._record(outcome.source, render.summary(outcome))
        self._set_status(render.summary(outcome))

    def _record(self, source: str, summary: str) -> None:
        self.history.add(source, summary)
        self.query_one("#history", RichLog).write(Text(f"{source}\n  → {summary}"))

    def _message(self, text: str) -> None:
        # Not wrapped: a caret must stay under its column and plan lines keep their indent
        # (the box scrolls sideways instead).
        self.query_one("#message", Static).update(Text(text, no_wrap=True, overflow="ignore"))

    def _set_status(self, text: str) -> None:
        branch = getattr(self.session, "current", None)
        where = f"{branch} · {self.session.label}" if branch else self.session.label
        self.query_one("#status", Static).update(Text(f" {where} │ {text}"))

    # -- catalog and completion ------------------------------------------------------------
    def _read_catalog(self) -> Catalog | None:
        try:
            columns = {t: [c for c, _ in cols] for t, cols in self.session.columns().items()}
            return Catalog(columns, function_names(self.session.functions()),
                           self.session.branch_names())
        except Exception:       # a catalog read failing must not hide the statement's outcome
            return None

    def _refresh_catalog(self) -> None:
        self.catalog = self._read_catalog() or self.catalog

    def reset_completion(self) -> None:
        self._cycle = None

    def complete_at_cursor(self) -> None:
        editor = self.query_one("#editor", SqlEditor)
        text = editor.text
        cursor = editor.document.get_index_from_location(editor.cursor_location)
        if self._cycle is not None:            # Tab again: the next candidate in turn
            start, candidates, i = self._cycle
            # ...if the text still ends in the candidate Tab put there (not replaced since)
            if text[start:cursor] == candidates[(i - 1) % len(candidates)]:
                self._replace(editor, start, cursor, candidates[i % len(candidates)])
                self._cycle = (start, candidates, i + 1)
                return
            self._cycle = None
        start, candidates = complete(text, cursor, self.catalog)
        if not candidates:
            self._set_status("no completions")
            return
        word = text[start:cursor]
        if len(candidates) == 1:
            self._replace(editor, start, cursor, candidates[0])
            return
        prefix = common_prefix([c.lower() for c in candidates])
        if len(prefix) > len(word):       # first extend to what all candidates share
            self._replace(editor, start, cursor, candidates[0][:len(prefix)])
        else:                             # then insert each candidate in turn
            self._replace(editor, start, cursor, candidates[0])
            self._cycle = (start, candidates, 1)
        shown = "  ".join(candidates[:12]) + ("  …" if len(candidates) > 12 else "")
        self._set_status(f"Tab: {shown}")

    def _replace(self, editor: SqlEditor, start: int, end: int, text: str) -> None:
        doc = editor.document
        editor.replace(text, doc.get_location_from_index(start), doc.get_location_from_index(end))

    # -- history recall ----------------------------------------------------------------------
    def action_history_previous(self) -> None:
        self._recall(self.history.previous())

    def action_history_next(self) -> None:
        self._recall(self.history.next())

    def _recall(self, source: str | None) -> None:
        if source is None:
            return
        editor = self.query_one("#editor", SqlEditor)
        editor.load_text(source)
        editor.move_cursor(editor.document.end)

    def on_unmount(self) -> None:
        self.session.close()


def run_app(target: str | None, durability: str = "sync") -> int:
    try:
        session = open_session(target, durability)
    except Exception as exc:
        print(f"rustmemodb cli: cannot open {target or 'an in-memory database'}: {exc}", file=sys.stderr)
        return 1
    RustMemoApp(session).run()
    return 0
