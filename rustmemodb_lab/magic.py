"""The ``%sql`` / ``%%sql``, ``%sqlcmd`` and ``%sqlplot`` magics: thin glue from IPython to the lab.

A magic call does three things and nothing else:

1. ``command.parse`` turns the line and cell into a ``Command`` (options,
   ``<<``, ``{var}``, statements and their ``:var`` values);
2. ``run.run_command`` acts on it against the shell's ``LabSession``;
3. the value is returned for IPython to display (and ``-o`` stored it).

Where the rest lives: ``config.py`` (settings), ``session.py`` (connections
and the DataFrame bridge), ``branches.py`` (branch names, undo),
``execute.py`` (statements, errors, interrupts, EXPLAIN), ``actions/``
(non-SQL options), ``resultset.py`` / ``views.py`` / ``render/`` (display),
``widgets/`` (branch tree, explore grid), ``progress.py`` (long statements),
``connections.py`` (SQLAlchemy URLs), ``snippets.py`` (``--save``/``--with``),
``sqlcmd.py`` and ``sqlplot.py`` (on ``source.py``), ``frames.py``
(DataFrames into Arrow).
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, needs_local_scope, no_var_expand

from rustmemodb_lab.command import Namespace, parse, sql_arguments
from rustmemodb_lab.config import RustmemodbLab
from rustmemodb_lab.context import Context
from rustmemodb_lab.progress import Ticker
from rustmemodb_lab.run import run_command
from rustmemodb_lab.session import LabSession


@magics_class
class SqlMagics(Magics):
    """``%sql`` and ``%%sql`` on the rustmemodb in-memory database."""

    def __init__(self, shell: Any, session: LabSession) -> None:
        super().__init__(shell)
        self.session = session
        self.ticker = Ticker()

    @no_var_expand
    @needs_local_scope
    @sql_arguments
    @line_cell_magic
    def sql(self, line: str = "", cell: str | None = None, local_ns: dict | None = None) -> Any:
        """Run SQL on rustmemodb; manage branches; compare, diff, merge and explain.

        Examples::

          %sql SELECT 42                         -- a line query
          %%sql -o top                           -- a cell; last result into `top`
          top << SELECT * FROM trades LIMIT 5    -- the same, as an assignment
          %sql --fork what_if --checkout what_if -- O(1) branch of the database, switch to it
          %%sql --on main,what_if                -- the cell on both, side by side
          %sql --diff main what_if trades        -- row-level diff
          %%sql --explain                        -- EXPLAIN ANALYZE as a plan tree
          %sql sqlite:///shop.db                 -- another database through SQLAlchemy
          %sql --connection default --import shop orders   -- copy its table into a branch
          %%sql --save big                       -- keep the query; later: SELECT * FROM big
          %sql SELECT * FROM t WHERE a = :a AND b = '{{ b }}'   -- bound value, Jinja value
        """
        ns = Namespace(self.shell.user_ns, local_ns)
        command = parse(SqlMagics.sql.parser, line, cell, ns)
        ctx = Context(self.session, ns, _display, self.ticker, label=_label(line, cell))
        return run_command(command, ctx)


    @no_var_expand
    @needs_local_scope
    @line_magic
    def sqlcmd(self, line: str = "", local_ns: dict | None = None) -> Any:
        """jupysql's helpers, computed in the engine on the current branch.

        Examples::

          %sqlcmd tables                          -- tables, views, snippets, row counts
          %sqlcmd columns -t trades               -- names, types, nullable, default, key
          %sqlcmd profile -t trades [-o stats]    -- count, nulls, distinct, min, max, mean, std, top
          %sqlcmd explore -t trades               -- paged grid (LIMIT/OFFSET per page)
          %sqlcmd snippets [-d NAME]              -- saved snippets (--save), or delete one
        """
        from rustmemodb_lab.sqlcmd import run_sqlcmd

        ns = Namespace(self.shell.user_ns, local_ns)
        ctx = Context(self.session, ns, _display, self.ticker, label=f"%sqlcmd {line}")
        return run_sqlcmd(line, ctx)

    @no_var_expand
    @needs_local_scope
    @line_magic
    def sqlplot(self, line: str = "", local_ns: dict | None = None) -> Any:
        """Plots aggregated in the engine (only bins, quartiles or counts leave it).

        Examples::

          %sqlplot histogram --table trades --column px [--bins 30]
          %sqlplot boxplot --table trades --column px qty [--orient h]
          %sqlplot bar --table trades --column sym [--show-numbers] [--limit 20]
          %sqlplot pie --table trades --column sym
          %sqlplot histogram -t big_trips -c km -o fig   -- a snippet; the Figure into `fig`
        """
        from rustmemodb_lab.sqlplot import run_sqlplot

        ns = Namespace(self.shell.user_ns, local_ns)
        ctx = Context(self.session, ns, _display, self.ticker, label=f"%sqlplot {line}")
        return run_sqlplot(line, ctx)


def _display(value: Any) -> None:
    from IPython.display import display

    display(value)


def _label(line: str, cell: str | None) -> str:
    """A short description of the cell, used in ``--undo`` messages."""
    text = (cell if cell is not None and cell.strip() else line).strip()
    return text.splitlines()[0] if text else ""


def register(ip: Any) -> LabSession:
    """Create the shell's session, configurable and magics (``%load_ext``)."""
    unregister(ip)
    config = RustmemodbLab(parent=ip)
    ip.configurables.append(config)
    session = LabSession(config, lambda: ip.user_ns)
    ip.register_magics(SqlMagics(ip, session))
    ip._rustmemodb_lab_session = session
    if getattr(ip, "Completer", None) is not None:
        from rustmemodb_lab.completion import install

        install(ip, session)
    from rustmemodb_lab.sidebar import SidebarChannel

    ip._rustmemodb_lab_sidebar = SidebarChannel(ip, session)
    ip._rustmemodb_lab_sidebar.install()
    return session


def unregister(ip: Any) -> None:
    """Close the session's connections and drop its configurable."""
    session = getattr(ip, "_rustmemodb_lab_session", None)
    if session is None:
        return
    from rustmemodb_lab.completion import uninstall

    uninstall(ip)
    sidebar = getattr(ip, "_rustmemodb_lab_sidebar", None)
    if sidebar is not None:
        sidebar.uninstall()
        del ip._rustmemodb_lab_sidebar
    session.close()
    if session.config in ip.configurables:
        ip.configurables.remove(session.config)
    del ip._rustmemodb_lab_session
