"""Running a cell's SQL on a branch: statements in order, errors, EXPLAIN, ``--on``.

The life of a ``%%sql`` cell on one branch:

1. note the branch's committed root (for ``--undo``);
2. run each statement in order on the kernel's main thread, under the
   progress ticker, through a cursor; a result with rows stays an Arrow table;
3. a statement that starts with ``EXPLAIN`` (or the last one, with
   ``--explain``) is sent as ``EXPLAIN (FORMAT JSON)`` and comes back as a
   :class:`~rustmemodb_lab.views.PlanView`;
4. on an engine error, or Ctrl-C (``KeyboardInterrupt``, the engine's
   ``QueryCanceled``), roll back any open transaction and raise a
   :class:`~rustmemodb_lab.errors.SqlCellError` that points at the failing
   statement and position; later statements do not run;
5. whatever happened, if the committed root moved, remember the old one.

``--on a,b`` repeats this per branch and lays the last outputs side by side;
an error on one branch is shown in its panel and then re-raised.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rustmemodb.api.range_text import ranges_as_text
from rustmemodb_lab.branches import Branch
from rustmemodb_lab.command import Command, Statement
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError, SqlCellError, expecting_error
from rustmemodb_lab.explain import ExplainRequest, explain_request, parse_plan
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.sqltext import leading_keywords
from rustmemodb_lab.views import PlanView, SideBySide


def run_sql(cmd: Command, ctx: Context) -> Any:
    """Run the cell's SQL (on the current branch or ``--on`` branches)."""
    if cmd.on:
        return run_on_branches(cmd, ctx)
    return expecting_error(cmd.expect_error, lambda: run_cell(ctx.registry.active, cmd, ctx))


def run_on_branches(cmd: Command, ctx: Context) -> SideBySide:
    """The cell on each ``--on`` branch; outputs side by side."""
    branches = [ctx.registry.get(name) for name in cmd.on or []]
    panels = []
    for branch in branches:
        try:
            panels.append((branch.name, run_cell(branch, cmd, ctx, show_all=False)))
        except SqlCellError as err:
            panels.append((branch.name, err))
    view = SideBySide(panels)
    if cmd.expect_error and not view.errors:
        raise LabUsageError("--expect-error: the cell was expected to fail, but it succeeded on every branch")
    if view.errors and not cmd.expect_error:
        ctx.display(view)
        raise view.errors[0]
    return view


def run_cell(branch: Branch, cmd: Command, ctx: Context, *, show_all: bool | None = None) -> Any:
    """Every statement of the cell on ``branch``; returns the last output."""
    show_all = cmd.show_all if show_all is None else show_all
    statements = branch_statements(branch, cmd, ctx)
    before = branch.root()
    last: Any = None
    try:
        for stmt in statements:
            is_last = stmt.index == len(cmd.statements) - 1
            last = run_statement(branch, stmt, cmd, ctx, explain=cmd.explain and is_last)
            if not is_last and _show_now(last, show_all, ctx):
                ctx.display(last)
    finally:
        ctx.registry.remember(branch, before, ctx.label)
    return last


def branch_statements(branch: Branch, cmd: Command, ctx: Context) -> list[Statement]:
    """The cell's statements with this branch's snippets expanded (``snippets.py``)."""
    from rustmemodb_lab.snippets import expand_statements

    db = branch.database

    def tables() -> set[str]:
        return set(db.tables()) | set(getattr(getattr(db, "root", None), "views", None) or ())

    key = (ctx.session.current_name or "", branch.name)
    return expand_statements(cmd, ctx.ns, ctx.session.snippets, key, tables)


def _show_now(value: Any, show_all: bool, ctx: Context) -> bool:
    if show_all:
        return True
    return ctx.config.feedback >= 2 and isinstance(value, ResultSet) and not value.has_rows


def run_statement(branch: Branch, stmt: Statement, cmd: Command, ctx: Context, *, explain: bool = False) -> Any:
    """One statement: a :class:`ResultSet`, or a :class:`PlanView` for EXPLAIN."""
    request = explain_request(stmt, force=explain)
    if request is not None:
        return run_explain(branch, request, cmd, ctx)
    start = time.perf_counter()
    cursor = execute(branch, stmt, cmd, ctx)
    with engine_errors(branch, stmt, cmd):
        table = cursor.arrow() if cursor.description else None
        if table is not None:    # range columns as their text, not their stored bytes
            table = ranges_as_text(table, getattr(cursor, "sql_types", None) or [])
    return ResultSet(
        table,
        statement_type=_statement_type(cursor, stmt, table is not None),
        sql_types=getattr(cursor, "sql_types", None) or _description_types(cursor),
        rowcount=getattr(cursor, "rowcount", -1),
        elapsed=time.perf_counter() - start,
        sql=stmt.text,
        branch=branch.name,
        displaylimit=ctx.displaylimit,
    )


def _statement_type(cursor: Any, stmt: Statement, has_rows: bool) -> str:
    engine_says = getattr(cursor, "statement_type", None)
    if engine_says:
        return str(engine_says)
    return "SELECT" if has_rows else _verb(stmt)


def _verb(stmt: Statement) -> str:
    words = leading_keywords(stmt.text, 2)
    if words[:1] and words[0] in {"CREATE", "DROP", "ALTER"}:
        return " ".join(words)
    return words[0] if words else "OK"


def _description_types(cursor: Any) -> list[str] | None:
    description = getattr(cursor, "description", None)
    if not description:
        return None
    return [str(d[1]) if d[1] is not None else "" for d in description]


def execute(branch: Branch, stmt: Statement, cmd: Command, ctx: Context) -> Any:
    """Send one statement; engine errors and interrupts become ``SqlCellError``."""
    label = f"statement {stmt.index + 1} of {len(cmd.statements)} on {branch.name}"
    with ctx.ticker.watch(label, ctx.config.progress_after), engine_errors(branch, stmt, cmd):
        cursor = branch.conn.cursor()
        if stmt.params is None:
            cursor.execute(stmt.text)
        else:
            cursor.execute(stmt.text, stmt.values)
        return cursor


@contextmanager
def engine_errors(branch: Branch, stmt: Statement, cmd: Command) -> Iterator[None]:
    """Turn engine errors and Ctrl-C into a :class:`SqlCellError`, rolled back."""
    import rustmemodb

    try:
        yield
    except KeyboardInterrupt as exc:
        rolled_back = _rollback(branch.conn)
        raise cell_error(exc, branch, stmt, cmd, rolled_back, canceled=True) from exc
    except rustmemodb.Error as exc:
        rolled_back = _rollback(branch.conn)
        raise cell_error(exc, branch, stmt, cmd, rolled_back) from exc


def _rollback(conn: Any) -> bool:
    """Roll back an open transaction (a failed statement never commits)."""
    try:
        if getattr(conn, "in_transaction", False):
            conn.rollback()
    except Exception:  # the engine already discarded it; nothing more to do
        pass
    return True


def cell_error(exc: BaseException, branch: Branch, stmt: Statement, cmd: Command,
               rolled_back: bool, canceled: bool = False) -> SqlCellError:
    """A :class:`SqlCellError` for ``exc`` raised by ``stmt`` of ``cmd``."""
    position = engine_position(exc, stmt)
    return SqlCellError(
        error=exc,
        sqlstate="57014" if canceled else getattr(exc, "sqlstate", None),
        message="canceling statement due to user request" if canceled else (getattr(exc, "message", None) or str(exc)),
        hint=getattr(exc, "hint", None),
        error_class="QueryCanceled" if canceled else type(exc).__name__,
        statement_text=stmt.text,
        cell_text=cmd.sql,
        index=stmt.index,
        count=len(cmd.statements),
        cell_position=stmt.cell_position(position),
        branch=branch.name,
        rolled_back=rolled_back,
    )


def engine_position(exc: BaseException, stmt: Statement) -> int | None:
    """The error position in ``stmt.text`` (the engine counts from the statement's
    start, EXPLAIN prefix included, as PostgreSQL does)."""
    position = getattr(exc, "position", None)
    return position if isinstance(position, int) else None


def run_explain(branch: Branch, request: ExplainRequest, cmd: Command, ctx: Context) -> Any:
    """The JSON plan (and, without ANALYZE, the engine's text plan) as a PlanView."""
    start = time.perf_counter()
    rows = execute(branch, request.json_statement, cmd, ctx).fetchall()
    elapsed = time.perf_counter() - start
    raw = None
    if request.text_statement is not None:
        text_rows = execute(branch, request.text_statement, cmd, ctx).fetchall()
        raw = "\n".join(str(r[0]) for r in text_rows)
    try:
        root = parse_plan("".join(str(r[0]) for r in rows))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise LabUsageError(f"the engine's JSON plan could not be read: {exc}") from exc
    return PlanView(root, raw_text=raw, analyze=request.analyze, branch=branch.name, elapsed=elapsed)
