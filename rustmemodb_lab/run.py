"""Command → engine: the order in which one ``%sql`` invocation acts.

1. connections: ``%sql URL``, ``--connect``, ``--connection``, ``--connections``;
2. branches: ``--fork``, ``--drop-branch``, ``--checkout``, ``--undo``
   (fork before checkout, so ``--fork x --checkout x`` works);
3. data: ``--persist``, ``--append``, ``--import``;
4. views: ``--tables``, ``--branches``, ``--diff``, ``--merge``;
5. the cell's SQL (``execute.py``; ``connections.py`` on a SQLAlchemy
   connection), on the branch chosen by now, with snippets expanded;
   ``--save`` stores the query once it ran (or without running it, with
   ``--no-execute``).

Every step may produce an output. The last one is returned (IPython shows it
as the cell's value, and ``-o`` / ``<<`` stores it); earlier ones are
displayed as they happen, unless ``feedback`` is 0, which silences status
lines and results without rows. Options that only rustmemodb has (branches,
the DataFrame bridge, plan views) refuse politely on other connections.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pyarrow as pa
from rustmemodb.api.pandas_out import to_pandas

from rustmemodb_lab.actions import branch, compare, connection, persist, serve, serve_rest
from rustmemodb_lab.command import Command
from rustmemodb_lab.connections import RUSTMEMODB_ONLY, display_url, run_external
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError, SqlCellError
from rustmemodb_lab.execute import run_sql
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.snippets import expand_statements, save_from
from rustmemodb_lab.views import DiffView, SideBySide, Status

Step = Callable[[Command, Context], Any]


def _tables(cmd: Command, ctx: Context) -> Any:
    return connection.tables(cmd, ctx) if ctx.session.current_external else branch.tables(cmd, ctx)


STEPS: list[tuple[str, Step]] = [
    ("connect_url", connection.connect_url),
    ("connect", connection.connect),
    ("cluster", connection.connect_cluster),
    ("connection", connection.switch),
    ("connections", connection.list_connections),
    ("fork", branch.fork),
    ("drop_branch", branch.drop),
    ("checkout", branch.checkout),
    ("undo", branch.undo),
    ("persist", persist.persist),
    ("append", persist.append),
    ("import_", connection.import_table),
    ("tables", _tables),
    ("branches", branch.tree),
    ("diff", compare.diff),
    ("merge", compare.merge),
    ("serve", serve.serve),
    ("serve_rest", serve_rest.serve_rest),
]


def run_command(cmd: Command, ctx: Context) -> Any:
    """Run every part of ``cmd`` in order; return the output to show last."""
    _check_output_format(cmd)
    outputs = []
    for attr, step in STEPS:
        if getattr(cmd, attr):
            require_rustmemodb(cmd, ctx, attr)
            outputs.append(step(cmd, ctx))
    if cmd.live:
        require_rustmemodb(cmd, ctx, "live")
        outputs.append(live_frame(cmd, ctx))
    elif cmd.has_sql and not cmd.no_execute:
        for attr in ("on", "explain"):
            require_rustmemodb(cmd, ctx, attr)
        ext = ctx.session.current_external
        outputs.append(_run_on_external(cmd, ctx, ext) if ext else run_sql(cmd, ctx))
    if cmd.save:
        outputs.insert(len(outputs) - (0 if cmd.no_execute else 1), save_snippet(cmd, ctx))
    outputs = [o for o in outputs if _visible(o, ctx)]
    for value in outputs[:-1]:
        ctx.display(value)
    last = outputs[-1] if outputs else None
    if cmd.output:
        ctx.ns.user_ns[cmd.output] = stored_value(last, cmd)
    return returned_value(last, ctx)


def live_frame(cmd: Command, ctx: Context) -> Any:
    """``%sql --live NAME <query>``: a LiveFrame on the current branch, bound to NAME."""
    from rustmemodb_lab.live import LiveFrame

    branch = ctx.session.registry.active
    frame = LiveFrame(branch.database, cmd.statements[0].text.strip().rstrip(";"),
                      page_size=50)
    ctx.ns.user_ns[cmd.live] = frame
    return frame


def require_rustmemodb(cmd: Command, ctx: Context, attr: str) -> None:
    """Refuse, with a way out, an option only rustmemodb has when the connection is another."""
    ext = ctx.session.current_external
    if ext is None or attr not in RUSTMEMODB_ONLY or not getattr(cmd, attr):
        return
    option = RUSTMEMODB_ONLY[attr]
    back = next(iter(ctx.session.connections), "default")
    if attr == "import_":
        raise LabUsageError(
            f"--import copies into a rustmemodb branch, but the current connection {ext.name} is "
            f"{ext.dialect}: run %sql --connection {back} --import {ext.name} TABLE"
        )
    raise LabUsageError(
        f"{option} works on rustmemodb connections only; the current connection {ext.name} is "
        f"{ext.dialect} ({display_url(ext.url)}). Switch back with %sql --connection {back}, or copy "
        f"a table over with %sql --connection {back} --import {ext.name} TABLE"
    )


def _run_on_external(cmd: Command, ctx: Context, ext: Any) -> Any:
    statements = expand_statements(cmd, ctx.ns, ctx.session.snippets, (ext.name, None), lambda: set(ext.tables()))
    return run_external(cmd, ctx, ext, statements)


def save_snippet(cmd: Command, ctx: Context) -> Status:
    ext = ctx.session.current_external
    key = (ext.name, None) if ext else (ctx.session.current_name or "", ctx.registry.current)
    snippet = save_from(cmd, ctx.session.snippets, key)
    where = f"connection {ext.name}" if ext else f"branch {key[1]}"
    return Status(f"saved snippet {snippet.name} on {where} · use it like a table: SELECT * FROM {snippet.name}")


def _visible(value: Any, ctx: Context) -> bool:
    if value is None:
        return False
    if ctx.config.feedback > 0:
        return True
    return not isinstance(value, Status) and not (isinstance(value, ResultSet) and not value.has_rows)


def polars_available() -> bool:
    return importlib.util.find_spec("polars") is not None


def _check_output_format(cmd: Command) -> None:
    if cmd.output_format == "polars" and not polars_available():
        raise LabUsageError("--polars needs the polars package (pip install polars)")


def stored_value(value: Any, cmd: Command) -> Any:
    """What ``-o NAME`` / ``NAME <<`` stores: pandas, Arrow or polars data."""
    if isinstance(value, SideBySide):
        return {name: _convert(_arrow_of(v, cmd), cmd.output_format) for name, v in value.panels}
    return _convert(_arrow_of(value, cmd), cmd.output_format)


def _arrow_of(value: Any, cmd: Command) -> pa.Table:
    if isinstance(value, DiffView):
        return value.to_arrow()
    if isinstance(value, ResultSet) and value.has_rows:
        return value.to_arrow()
    if isinstance(value, SqlCellError):
        raise LabUsageError(f"nothing to store in {cmd.output!r}: the statement failed")
    raise LabUsageError(f"nothing to store in {cmd.output!r}: the last statement returned no rows")


def _convert(table: pa.Table, output_format: str) -> Any:
    if output_format == "arrow":
        return table
    if output_format == "polars":
        import polars

        return polars.from_arrow(table)
    return to_pandas(table)


def returned_value(value: Any, ctx: Context) -> Any:
    """The cell's value: a DataFrame instead of a result under ``autopandas``."""
    if ctx.config.autopandas and isinstance(value, ResultSet) and value.has_rows:
        return value.to_pandas()
    return value
