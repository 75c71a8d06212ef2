"""Command → engine: the order in which one ``%sql`` invocation acts.

1. connections: ``--connect``, ``--connection``, ``--connections``;
2. branches: ``--fork``, ``--drop-branch``, ``--checkout``, ``--undo``
   (fork before checkout, so ``--fork x --checkout x`` works);
3. data: ``--persist``, ``--append``;
4. views: ``--tables``, ``--branches``, ``--diff``, ``--merge``;
5. the cell's SQL (``execute.py``), on the branch chosen by now.

Every step may produce an output. The last one is returned (IPython shows it
as the cell's value, and ``-o`` / ``<<`` stores it); earlier ones are
displayed as they happen, unless ``feedback`` is 0, which silences status
lines and results without rows.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from rustmemodb_lab.actions import branch, compare, connection, persist
from rustmemodb_lab.command import Command
from rustmemodb_lab.context import Context
from rustmemodb_lab.errors import LabUsageError, SqlCellError
from rustmemodb_lab.execute import run_sql
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.views import DiffView, SideBySide, Status

Step = Callable[[Command, Context], Any]

STEPS: list[tuple[str, Step]] = [
    ("connect", connection.connect),
    ("connection", connection.switch),
    ("connections", connection.list_connections),
    ("fork", branch.fork),
    ("drop_branch", branch.drop),
    ("checkout", branch.checkout),
    ("undo", branch.undo),
    ("persist", persist.persist),
    ("append", persist.append),
    ("tables", branch.tables),
    ("branches", branch.tree),
    ("diff", compare.diff),
    ("merge", compare.merge),
]


def run_command(cmd: Command, ctx: Context) -> Any:
    """Run every part of ``cmd`` in order; return the output to show last."""
    _check_output_format(cmd)
    outputs = [step(cmd, ctx) for attr, step in STEPS if getattr(cmd, attr)]
    if cmd.has_sql:
        outputs.append(run_sql(cmd, ctx))
    outputs = [o for o in outputs if _visible(o, ctx)]
    for value in outputs[:-1]:
        ctx.display(value)
    last = outputs[-1] if outputs else None
    if cmd.output:
        ctx.ns.user_ns[cmd.output] = stored_value(last, cmd)
    return returned_value(last, ctx)


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
    return table.to_pandas()


def returned_value(value: Any, ctx: Context) -> Any:
    """The cell's value: a DataFrame instead of a result under ``autopandas``."""
    if ctx.config.autopandas and isinstance(value, ResultSet) and value.has_rows:
        return value.to_pandas()
    return value
