"""Other databases through SQLAlchemy: ``%sql duckdb://``, ``sqlite:///f.db``, ``postgresql://...``.

jupysql users open a database by writing its URL where SQL would go. The lab
does the same: a line whose SQL starts with ``scheme://`` opens (or switches
to) an :class:`ExternalConnection`, and plain ``%sql`` then runs there until
``--connection NAME`` switches back (``default`` is the in-memory rustmemodb
database). What works on every connection: SQL with ``{var}``, ``{{ expr }}``
and ``:var`` (SQLAlchemy binds ``:name`` itself), ``-o``, ``--tables``,
``--connections``, snippets, every ``%sqlcmd`` and ``%sqlplot`` (their SQL runs
in that database). Branches, diff, merge,
undo, EXPLAIN views and the DataFrame bridge are rustmemodb features: on an
external connection those options say so instead of guessing.

``%sql --import URL TABLE [AS NAME]`` copies a table of an external database
(a URL, or the name of an open connection) into the current rustmemodb
branch through Arrow, so it can be forked, diffed and plotted.

SQLAlchemy and the drivers are imported only when a URL is used.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from rustmemodb_lab.errors import LabUsageError, SqlCellError, expecting_error
from rustmemodb_lab.resultset import ResultSet

#: options that need rustmemodb (branches, the DataFrame bridge, plan views)
RUSTMEMODB_ONLY = {
    "fork": "--fork", "checkout": "--checkout", "drop_branch": "--drop-branch", "undo": "--undo",
    "branches": "--branches", "diff": "--diff", "merge": "--merge", "on": "--on",
    "persist": "--persist", "append": "--append", "explain": "--explain", "import_": "--import",
    "live": "--live", "serve": "--serve", "serve_rest": "--serve-rest",
}


class ExternalConnection:
    """One SQLAlchemy connection, kept open for the session (in-memory databases live in it)."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.engine = create_engine(url)
        try:
            self.conn = self.engine.connect()
        except Exception as exc:
            self.engine.dispose()
            raise LabUsageError(f"cannot connect to {display_url(url)}: {_driver_message(exc)}") from None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            self.engine.dispose()

    # -- running SQL --------------------------------------------------------------------
    def execute(self, sql: str, params: dict[str, Any] | None = None) -> tuple[pa.Table | None, int]:
        """Run one statement and commit; ``(rows as Arrow or None, rowcount)``."""
        import sqlalchemy as sa

        try:
            result = self.conn.execute(sa.text(sql), params or {})
            table = rows_to_arrow(list(result.keys()), result.fetchall()) if result.returns_rows else None
            rowcount = result.rowcount
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        return table, rowcount

    def read_table(self, table: str) -> pa.Table:
        """Every row of ``table`` (``schema.table`` allowed) as Arrow."""
        import sqlalchemy as sa

        schema, _, name = table.rpartition(".")
        query = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
        try:
            result = self.conn.execute(query)
            out = rows_to_arrow(list(result.keys()), result.fetchall())
            self.conn.commit()
        except Exception as exc:
            self.conn.rollback()
            raise LabUsageError(f"cannot read {table!r} from {self.name}: {_driver_message(exc)}") from None
        return out

    # -- catalog ------------------------------------------------------------------------
    def tables(self, schema: str | None = None) -> list[str]:
        import sqlalchemy as sa

        inspector = sa.inspect(self.conn)
        return sorted(inspector.get_table_names(schema=schema)) + sorted(inspector.get_view_names(schema=schema))

    def columns(self, table: str) -> list[dict[str, Any]]:
        """The columns of ``table``: SQLAlchemy's inspector, else ``information_schema``
        (duckdb-engine's inspector reads PostgreSQL catalogs DuckDB does not have)."""
        import sqlalchemy as sa

        schema, _, name = table.rpartition(".")
        try:
            inspector = sa.inspect(self.conn)
            cols = inspector.get_columns(name, schema=schema or None)
            pk = set(inspector.get_pk_constraint(name, schema=schema or None).get("constrained_columns") or [])
        except sa.exc.NoSuchTableError:
            raise LabUsageError(f"no table named {table!r} on {self.name}") from None
        except sa.exc.SQLAlchemyError:
            self.conn.rollback()
            return self._information_schema_columns(name, schema or None)
        return [{"name": c["name"], "type": str(c["type"]), "nullable": bool(c.get("nullable", True)),
                 "default": None if c.get("default") is None else str(c["default"]),
                 "primary_key": c["name"] in pk} for c in cols]

    def _information_schema_columns(self, name: str, schema: str | None) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        sql = ("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
               "WHERE table_name = :name" + (" AND table_schema = :schema" if schema else "") +
               " ORDER BY ordinal_position")
        try:
            rows = self.conn.execute(sa.text(sql), {"name": name, "schema": schema}).fetchall()
            self.conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            self.conn.rollback()
            raise LabUsageError(f"cannot list the columns of {name!r} on {self.name}: {_driver_message(exc)}") from None
        if not rows:
            raise LabUsageError(f"no table named {name!r} on {self.name}")
        return [{"name": r[0], "type": str(r[1]), "nullable": str(r[2]).upper() != "NO",
                 "default": r[3], "primary_key": False} for r in rows]


def create_engine(url: str) -> Any:
    """``sqlalchemy.create_engine`` with friendlier failures and driver fallbacks."""
    if importlib.util.find_spec("sqlalchemy") is None:
        raise LabUsageError("connection strings need SQLAlchemy: pip install sqlalchemy")
    import sqlalchemy as sa

    url = _with_available_driver(url)
    try:
        return sa.create_engine(url)
    except sa.exc.NoSuchModuleError as exc:
        hint = {"duckdb": "duckdb-engine", "postgresql": "psycopg[binary]"}.get(url.split(":", 1)[0].split("+")[0], "")
        extra = f" (pip install {hint})" if hint else ""
        raise LabUsageError(f"no SQLAlchemy driver for {display_url(url)}{extra}: {exc}") from None
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise LabUsageError(f"cannot use {display_url(url)}: {exc}") from None


def _with_available_driver(url: str) -> str:
    """``postgresql://`` means psycopg2 to SQLAlchemy; use psycopg 3 when only it is installed."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        if importlib.util.find_spec("psycopg2") is None and importlib.util.find_spec("psycopg") is not None:
            return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def display_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def default_name(url: str) -> str:
    """A short connection name for ``url``: the file stem, the database name or the dialect."""
    scheme, _, rest = url.partition("://")
    dialect = scheme.split("+")[0]
    path = rest.split("?")[0].rstrip("/")
    tail = path.rsplit("/", 1)[-1] if "/" in path else ""
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", tail)
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or dialect
    return name if name[0].isalpha() or name[0] == "_" else f"{dialect}_{name}"


def rows_to_arrow(names: list[str], rows: list[Any]) -> pa.Table:
    """Rows from a DB-API driver as Arrow; a column of mixed types becomes text."""
    arrays = []
    for i in range(len(names)):
        values = [row[i] for row in rows]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, names=[str(n) for n in names])


def sql_types_of(table: pa.Table) -> list[str]:
    """Display types of an Arrow table's columns (for results of external databases)."""
    out = []
    for f in table.schema:
        t = f.type
        if pa.types.is_boolean(t):
            out.append("BOOLEAN")
        elif pa.types.is_integer(t):
            out.append("INTEGER")
        elif pa.types.is_floating(t):
            out.append("FLOAT")
        elif pa.types.is_decimal(t):
            out.append("NUMERIC")
        elif pa.types.is_timestamp(t):
            out.append("TIMESTAMP" if t.tz is None else "TIMESTAMPTZ")
        elif pa.types.is_date(t):
            out.append("DATE")
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
            out.append("TEXT")
        else:
            out.append(str(t).upper())
    return out


def _driver_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).strip().splitlines()[0] if str(orig or exc).strip() else type(exc).__name__


def _sqlstate(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None)
    for attr in ("sqlstate", "pgcode"):
        value = getattr(orig, attr, None)
        if isinstance(value, str) and len(value) == 5:
            return value
    return None


# -- running a cell on an external connection ----------------------------------------------

def run_external(cmd: Any, ctx: Any, ext: ExternalConnection, statements: list[Any] | None = None) -> Any:
    """Every statement of the cell on ``ext``; the last result (``--expect-error`` as usual)."""
    def run() -> Any:
        last: Any = None
        for stmt in cmd.statements if statements is None else statements:
            last = run_statement(ext, stmt, cmd, ctx)
            if stmt.index < len(cmd.statements) - 1 and cmd.show_all:
                ctx.display(last)
        return last

    return expecting_error(cmd.expect_error, run)


def run_statement(ext: ExternalConnection, stmt: Any, cmd: Any, ctx: Any) -> ResultSet:
    start = time.perf_counter()
    with external_errors(ext, stmt, cmd):
        table, rowcount = ext.execute(stmt.named_text or stmt.text, stmt.params)
    words = stmt.text.split(None, 1)
    return ResultSet(
        table,
        statement_type="SELECT" if table is not None else (words[0].upper() if words else "OK"),
        sql_types=sql_types_of(table) if table is not None else None,
        rowcount=rowcount,
        elapsed=time.perf_counter() - start,
        sql=stmt.text,
        branch=None,
        displaylimit=ctx.displaylimit,
    )


@contextmanager
def external_errors(ext: ExternalConnection, stmt: Any, cmd: Any) -> Iterator[None]:
    """Driver errors become a :class:`SqlCellError` (SQLSTATE when the driver has one)."""
    try:
        yield
    except KeyboardInterrupt as exc:
        raise _cell_error(exc, ext, stmt, cmd, "57014", "canceling statement due to user request") from exc
    except Exception as exc:
        import sqlalchemy as sa

        if not isinstance(exc, sa.exc.SQLAlchemyError):
            raise
        raise _cell_error(exc, ext, stmt, cmd, _sqlstate(exc), _driver_message(exc)) from exc


def _cell_error(exc: BaseException, ext: ExternalConnection, stmt: Any, cmd: Any,
                sqlstate: str | None, message: str) -> SqlCellError:
    orig = getattr(exc, "orig", None)
    return SqlCellError(
        error=exc, sqlstate=sqlstate, message=message, hint=None,
        error_class=type(orig if orig is not None else exc).__name__,
        statement_text=stmt.text, cell_text=cmd.sql, index=stmt.index, count=len(cmd.statements),
        cell_position=None, branch=None, rolled_back=True, connection=f"{ext.name} ({ext.dialect})",
    )
