"""Where ``%sqlcmd`` and ``%sqlplot`` run the SQL they generate.

Both commands write SQL themselves (aggregates, bins, quantiles, pages) and
need it run on whatever ``%sql`` would use now: the current rustmemodb branch,
with its snippets expandable (``--table big_trips`` may name a snippet), or the
current SQLAlchemy connection. A :class:`Source` hides which, turns failures
into the same :class:`~rustmemodb_lab.errors.SqlCellError` a ``%sql`` cell
shows (with the generated SQL as the text the caret points into), and answers
the catalog questions (tables, a relation's columns and types).

The generated SQL sticks to what rustmemodb, PostgreSQL, DuckDB and SQLite
share; the few differences are spelled here: how to quote a name (the
SQLAlchemy dialect's own rules), which type is a double, how to take the floor
of a non-negative number, and whether ``stddev_samp`` exists.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from rustmemodb.api.range_text import ranges_as_text
from rustmemodb_lab.command import Command, Statement
from rustmemodb_lab.context import Context


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (``schema.table`` quoted part by part)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in identifier.split("."))


class Source:
    """The current connection (and branch) as seen by generated SQL."""

    def __init__(self, ctx: Context, with_: list[str] | None = None) -> None:
        self.ctx = ctx
        self.with_ = list(with_ or [])
        self.external = ctx.session.current_external
        self.branch = None if self.external else ctx.registry.active

    @property
    def dialect(self) -> str:
        return self.external.dialect if self.external is not None else "rustmemodb"

    def quote(self, identifier: str) -> str:
        """``identifier`` quoted for this database (``schema.table`` part by part)."""
        if self.external is None:
            return quote(identifier)
        preparer = self.external.engine.dialect.identifier_preparer
        return ".".join(preparer.quote_identifier(part) for part in identifier.split("."))

    @property
    def double(self) -> str:
        """The 64-bit float type's name (DuckDB's FLOAT is 32-bit)."""
        return {"rustmemodb": "FLOAT", "sqlite": "REAL", "duckdb": "DOUBLE"}.get(self.dialect, "DOUBLE PRECISION")

    def floor_int(self, expr: str) -> str:
        """``floor(expr)`` as an integer, for ``expr >= 0`` (SQLite may lack floor; its
        CAST truncates, which is the floor there; PostgreSQL's CAST rounds)."""
        if self.dialect == "sqlite":
            return f"CAST({expr} AS INTEGER)"
        return f"CAST(floor({expr}) AS INTEGER)"

    @property
    def has_stddev(self) -> bool:
        return self.dialect != "sqlite"

    @property
    def name(self) -> str:
        return f"connection {self.external.name}" if self.external else f"branch {self.branch.name}"

    def query(self, sql: str) -> pa.Table:
        """Run one generated query; its rows as Arrow."""
        from rustmemodb_lab.execute import branch_statements, engine_errors, execute

        cmd = Command(sql=sql, statements=[Statement(sql, 0, 0, named_text=sql)], with_=self.with_)
        if self.external is not None:
            from rustmemodb_lab.connections import external_errors

            with external_errors(self.external, cmd.statements[0], cmd):
                table, _ = self.external.execute(sql)
            return table if table is not None else pa.table({})
        stmt = branch_statements(self.branch, cmd, self.ctx)[0]
        cursor = execute(self.branch, stmt, cmd, self.ctx)
        with engine_errors(self.branch, stmt, cmd):
            # range columns as their text, not their stored bytes
            return ranges_as_text(cursor.arrow(), getattr(cursor, "sql_types", None) or [])

    # -- catalog -------------------------------------------------------------------------
    def tables(self, schema: str | None = None) -> pa.Table:
        """Tables (and views) with their kind and row count."""
        if self.external is not None:
            names = self.external.tables(schema)
            return pa.table({"table": pa.array(names, pa.string())})
        db = self.branch.database
        names = sorted(db.tables())
        views = sorted(getattr(getattr(db, "root", None), "views", None) or ())
        snippets = sorted(self.ctx.session.snippets.of(self._key()))
        return pa.table({
            "name": pa.array(names + views + snippets, pa.string()),
            "kind": pa.array(["table"] * len(names) + ["view"] * len(views) + ["snippet"] * len(snippets), pa.string()),
            "rows": pa.array([db.row_count(n) for n in names] + [None] * (len(views) + len(snippets)), pa.int64()),
        })

    def columns(self, table: str) -> list[dict[str, Any]]:
        """``name``, ``type``, ``nullable``, ``default``, ``primary_key`` of each column of ``table``."""
        if self.external is not None:
            return self.external.columns(table)
        from rustmemodb_lab.execute import branch_statements, engine_errors, execute

        sql = f"SELECT * FROM {quote(table)} LIMIT 0"
        cmd = Command(sql=sql, statements=[Statement(sql, 0, 0, named_text=sql)], with_=self.with_)
        stmt = branch_statements(self.branch, cmd, self.ctx)[0]
        with engine_errors(self.branch, stmt, cmd):
            cursor = execute(self.branch, stmt, cmd, self.ctx)
        types = getattr(cursor, "sql_types", None) or [str(d[1]) for d in cursor.description]
        names = [d[0] for d in cursor.description]
        schema = self._schema(table)
        out = []
        for name, sql_type in zip(names, types):
            col = next((c for c in schema.columns if c.name == name), None) if schema else None
            pk = schema.primary_key if schema else None
            out.append({
                "name": name, "type": sql_type,
                "nullable": not col.not_null if col else True,
                "default": col.default_sql if col else None,
                "primary_key": bool(pk and schema.position(name) in pk.columns),
            })
        return out

    def _schema(self, table: str) -> Any:
        root = getattr(self.branch.database, "root", None)
        version = (getattr(root, "tables", None) or {}).get(table)
        return getattr(version, "schema", None)

    def _key(self) -> tuple[str, str | None]:
        if self.external is not None:
            return (self.external.name, None)
        return (self.ctx.session.current_name or "", self.branch.name)
