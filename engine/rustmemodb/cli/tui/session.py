"""What the TUI runs, with no UI in it: statements, backslash commands, catalog lookups.

A :class:`Session` turns one piece of input into an :class:`Outcome` (a result as
an Arrow table, a status line, a text block or an error with SQLSTATE, position
and hint). :class:`EmbeddedSession` keeps named branches of an in-process
database (``\\fork``, ``\\checkout``, ``\\diff``, ``\\merge``, ``\\undo``, parsed by
the grammar shared with the lab, ``rustmemodb.branch.commands``);
:class:`WireSession` talks to a PostgreSQL-protocol server through psycopg,
where branch commands are refused with an explanation.

Statements run on the caller's thread; ``cancel()`` may be called from another
thread while one runs (the engine's ``Connection.interrupt()`` → 57014).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from rustmemodb.branch import commands as branch_commands

HELP_LINES = [
    *branch_commands.usage_lines("\\"),
    *(f"{head:<44} {text}" for head, text in (
        ("\\d [TABLE]", "list tables, or the columns of TABLE"),
        ("\\dt", "list tables with row counts"),
        ("\\timing", "toggle showing how long each statement took"),
        ("\\x", "toggle expanded display (one column/value pair per line)"),
        ("\\?", "this help"))),
    "Ctrl+E runs the statement under the cursor (or the selection); Ctrl+C cancels it; "
    "Tab completes; Ctrl+Up/Down recall history; Esc quits",
]


@dataclass
class ErrorInfo:
    sqlstate: str | None
    message: str
    position: int | None = None       # 0-based offset into ``sql``
    hint: str | None = None
    detail: str | None = None


@dataclass
class Outcome:
    """The result of one input. ``kind``: 'rows', 'status', 'text' or 'error'."""

    source: str
    kind: str
    table: pa.Table | None = None
    columns: list = field(default_factory=list)     # [(name, SQL type)]
    status: str = ""
    text: str = ""
    error: ErrorInfo | None = None
    elapsed: float = 0.0
    explain: bool = False


class CommandError(Exception):
    """A backslash command that cannot be carried out (shown like an SQL error)."""


def error_info(exc: BaseException) -> ErrorInfo:
    """SQLSTATE, message, position and hint of an engine or psycopg error."""
    diag = getattr(exc, "diag", None)
    if diag is not None and getattr(exc, "sqlstate", None):    # psycopg: 1-based position
        pos = diag.statement_position
        return ErrorInfo(exc.sqlstate, diag.message_primary or str(exc),
                         int(pos) - 1 if pos else None, diag.message_hint, diag.message_detail)
    return ErrorInfo(getattr(exc, "sqlstate", None), getattr(exc, "message", None) or str(exc),
                     getattr(exc, "position", None), getattr(exc, "hint", None),
                     getattr(exc, "detail", None))


_EXPLAIN_ANALYZE = re.compile(r"^\s*explain\s+(\(\s*[^)]*analy[sz]e[^)]*\)|analy[sz]e\b)", re.I)
_STATUS = {"INSERT": "INSERT 0 {n}", "UPDATE": "UPDATE {n}", "DELETE": "DELETE {n}"}


class Session:
    """Common behaviour; subclasses supply ``_execute`` and the catalog."""

    label = ""
    supports_branches = False

    def run(self, source: str) -> Outcome:
        text = source.strip()
        t0 = time.perf_counter()
        try:
            if text.startswith("\\"):
                outcome = self.command(text)
            else:
                outcome = self._execute_all(text)
        except CommandError as exc:
            outcome = Outcome(text, "error", error=ErrorInfo(None, str(exc)))
        except branch_commands.BranchCommandError as exc:
            outcome = Outcome(text, "error", error=ErrorInfo("42601", str(exc)))
        except Exception as exc:   # engine/psycopg errors: shown, the session goes on
            outcome = Outcome(text, "error", error=error_info(exc))
        outcome.elapsed = outcome.elapsed or (time.perf_counter() - t0)
        outcome.explain = outcome.kind == "rows" and bool(_EXPLAIN_ANALYZE.match(text))
        return outcome

    def _execute_all(self, text: str) -> Outcome:
        """Every statement of ``text`` in order (a selection may hold several), as psql
        does: stop at the first error; the outcome shown is the last one."""
        from rustmemodb.sql.split import split_statements
        pieces = [piece for piece, _ in split_statements(text) if piece.strip()] or [text]
        outcome = None
        for piece in pieces:
            try:
                outcome = self._execute(piece)
            except Exception as exc:
                return Outcome(piece, "error", error=error_info(exc))
        return outcome

    # -- backslash commands ---------------------------------------------------------------
    def command(self, text: str) -> Outcome:
        word, _, rest = text.partition(" ")
        rest = rest.strip()
        if branch_commands.is_branch_command(text):
            if not self.supports_branches:
                raise CommandError(f"{word} needs an embedded database: branches are not "
                                   f"available over the wire ({self.label})")
            return self.branch_command(branch_commands.parse_backslash(text))
        if word == "\\dt":
            rows = [(name, self.row_count(name)) for name in self.tables()]
            return Outcome(text, "rows", table=pa.table({
                "table": pa.array([r[0] for r in rows], pa.large_string()),
                "rows": pa.array([r[1] for r in rows], pa.int64())}),
                columns=[("table", "TEXT"), ("rows", "INTEGER")])
        if word == "\\d":
            if not rest:
                return Outcome(text, "text", text="\n".join(self.tables()) or "(no tables)")
            cols = self.columns().get(rest)
            if cols is None:
                raise CommandError(f'relation "{rest}" does not exist')
            return Outcome(text, "rows", table=pa.table({
                "column": pa.array([c for c, _ in cols], pa.large_string()),
                "type": pa.array([t for _, t in cols], pa.large_string())}),
                columns=[("column", "TEXT"), ("type", "TEXT")])
        if word in ("\\?", "\\help", "\\h"):
            return Outcome(text, "text", text="\n".join(HELP_LINES))
        raise CommandError(f"unknown command {word}; \\? lists the commands")

    def branch_command(self, cmd: branch_commands.BranchCommand) -> Outcome:
        raise CommandError("branches are not available here")

    def branch_names(self) -> list[str]:
        return []

    # -- catalog for \d, \dt and completion ----------------------------------------------
    def columns(self) -> dict[str, list[tuple[str, str]]]:
        rows = self._catalog_rows(
            "SELECT table_schema, table_name, column_name, data_type "
            "FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY table_schema, table_name, ordinal_position")
        out: dict[str, list] = {}
        self._qualified: dict[str, tuple[str, str]] = {}
        for schema, table, column, sql_type in rows:
            # a table outside public is named with its schema (not on the search path)
            name = table if schema == "public" else f"{schema}.{table}"
            self._qualified[name] = (schema, table)
            out.setdefault(name, []).append((column, sql_type))
        return out

    def tables(self) -> list[str]:
        return sorted(self.columns())

    def row_count(self, table: str) -> int:
        """Rows of ``table``, a name ``columns`` listed (schema-qualified outside public)."""
        parts = getattr(self, "_qualified", {}).get(table, ("public", table))
        quoted = ".".join('"' + part.replace('"', '""') + '"' for part in parts)
        return self._catalog_rows(f"SELECT count(*) FROM {quoted}")[0][0]

    def functions(self) -> list[str]:
        return []

    def _catalog_rows(self, sql: str) -> list:
        raise NotImplementedError

    def _execute(self, sql: str) -> Outcome:
        raise NotImplementedError

    def cancel(self) -> None:
        pass

    def close(self) -> None:
        pass


class EmbeddedSession(Session):
    """Branches of an in-process database (in memory, or a directory)."""

    supports_branches = True

    def __init__(self, path: str | None = None, durability: str = "sync", undo_depth: int = 20):
        import rustmemodb
        self.conn = rustmemodb.connect(path, durability=durability) if path else rustmemodb.connect()
        self.label = f"embedded {path}" if path else "embedded in-memory"
        self.branches: dict[str, Any] = {"main": self.conn}
        self.parents: dict[str, str | None] = {"main": None}
        self.undo: dict[str, list] = {"main": []}
        self.current = "main"
        self.undo_depth = undo_depth

    @property
    def active(self):
        return self.branches[self.current]

    def _execute(self, sql: str) -> Outcome:
        conn = self.active
        before = conn.database.root
        try:
            cur = conn.execute(sql)
        finally:
            self._remember(before)
        if cur.description is None:
            n = cur.rowcount
            kind = (cur.statement_type or sql.split(None, 1)[0]).upper()
            status = _STATUS.get(kind, "{kind}").format(n=max(n, 0), kind=kind)
            return Outcome(sql, "status", status=status, elapsed=cur.elapsed)
        return Outcome(sql, "rows", table=cur.arrow(), columns=[(d[0], d[1]) for d in cur.description],
                       elapsed=cur.elapsed)

    def _remember(self, before) -> None:
        after = self.active.database.root
        if after is not before and getattr(after, "version", None) != getattr(before, "version", None):
            stack = self.undo[self.current]
            stack.append(before)
            del stack[: max(0, len(stack) - self.undo_depth)]

    def cancel(self) -> None:
        self.active.interrupt()

    def _catalog_rows(self, sql: str) -> list:
        return self.active.execute(sql).fetchall()

    def row_count(self, table: str) -> int:
        return self.active.database.row_count(table)

    def functions(self) -> list[str]:
        names = getattr(self.active.database.functions, "names", None)
        return names() if names else []

    def branch_names(self) -> list[str]:
        return list(self.branches)

    def branch_command(self, cmd: branch_commands.BranchCommand) -> Outcome:
        source = "\\" + cmd.verb + "".join(" " + a for a in cmd.args)
        if cmd.verb == "fork":
            name = cmd.name
            if name in self.branches:
                raise CommandError(f"branch {name!r} already exists")
            self.branches[name] = self.active.fork()
            self.parents[name] = self.current
            self.undo[name] = []
            return Outcome(source, "status", status=f"forked {self.current} as {name}")
        if cmd.verb == "checkout":
            self._get(cmd.name)
            self.current = cmd.name
            return Outcome(source, "status", status=f"on branch {cmd.name}")
        if cmd.verb == "drop-branch":
            conn = self._get(cmd.name)
            if cmd.name == self.current:
                raise CommandError(f"cannot drop the current branch {cmd.name!r}; check out another one first")
            if self.parents[cmd.name] is None:
                raise CommandError(f"cannot drop {cmd.name!r}: it is the root branch")
            for child, parent in self.parents.items():
                if parent == cmd.name:
                    self.parents[child] = self.parents[cmd.name]
            del self.branches[cmd.name], self.parents[cmd.name], self.undo[cmd.name]
            conn.close()
            return Outcome(source, "status", status=f"dropped branch {cmd.name}")
        if cmd.verb == "branches":
            return Outcome(source, "text", text="\n".join(self._tree()))
        if cmd.verb == "diff":
            return self._diff(source, *cmd.diff)
        if cmd.verb == "merge":
            return self._merge(source, cmd)
        if cmd.verb == "undo":
            stack = self.undo[self.current]
            if not stack:
                raise CommandError(f"nothing to undo on branch {self.current!r}")
            if self.active.in_transaction:
                raise CommandError("a transaction is open: COMMIT or ROLLBACK it before \\undo")
            self.active.database.restore(stack.pop())
            return Outcome(source, "status", status=f"undid the last change on {self.current}")
        raise CommandError(f"\\{cmd.verb} is not handled")     # grammar and session out of step

    def _get(self, name: str):
        if name not in self.branches:
            raise CommandError(f"unknown branch {name!r}; branches: {', '.join(self.branches)}")
        return self.branches[name]

    def _tree(self) -> list[str]:
        lines: list[str] = []

        def visit(name: str, depth: int) -> None:
            mark = "*" if name == self.current else " "
            db = self.branches[name].database
            tables = ", ".join(f"{t} {db.row_count(t):,}" for t in sorted(db.tables()))
            lines.append(f"{mark} {'  ' * depth}{name}" + (f"   ({tables})" if tables else ""))
            for child in [c for c, p in self.parents.items() if p == name]:
                visit(child, depth + 1)

        for root in [n for n, p in self.parents.items() if p is None]:
            visit(root, 0)
        return lines

    def _diff(self, source: str, a: str, b: str, table: str | None) -> Outcome:
        from rustmemodb.branch import diff, diff_all
        ca, cb = self._get(a), self._get(b)
        if table:
            d = diff(ca, cb, table)
            t = d.to_arrow()
            return Outcome(source, "rows", table=t, columns=[(n, "") for n in t.column_names],
                           status=repr(d))
        diffs = diff_all(ca, cb)
        if not diffs:
            return Outcome(source, "text", text=f"no differences between {a} and {b}")
        lines = [f"{name}: +{d.counts['added']} -{d.counts['removed']} ~{d.counts['changed']}"
                 for name, d in diffs.items()]
        return Outcome(source, "text", text="\n".join(lines + [f"(\\diff {a} {b} TABLE shows the rows)"]))

    def _merge(self, source: str, cmd: branch_commands.BranchCommand) -> Outcome:
        from rustmemodb.branch import merge
        target_name = cmd.into or self.current
        src, target = self._get(cmd.name), self._get(target_name)
        before = target.database.root
        result = merge(src, target, strategy=cmd.strategy)
        if result.applied:
            if target.database.root is not before:
                self.undo[target_name].append(before)
            counts = ", ".join(f"{t} +{c.get('added', 0)} -{c.get('removed', 0)} ~{c.get('changed', 0)}"
                               for t, c in result.counts.items()) or "nothing to merge"
            return Outcome(source, "status", status=f"merged {cmd.name} into {target_name}: {counts}")
        t = result.conflicts
        return Outcome(source, "rows", table=t, columns=[(n, "TEXT") for n in t.column_names],
                       status=f"merge not applied: {t.num_rows} conflict(s); "
                              f"\\merge {cmd.name} --ours or --theirs resolves them")

    def close(self) -> None:
        for name, conn in reversed(list(self.branches.items())):
            conn.close()


class WireSession(Session):
    """A PostgreSQL-protocol server through psycopg (autocommit)."""

    def __init__(self, dsn: str) -> None:
        import psycopg
        self.psycopg = psycopg
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.label = re.sub(r"(//[^:/@]*):[^@]*@", r"\1:***@", dsn)

    def _execute(self, sql: str) -> Outcome:
        t0 = time.perf_counter()
        cur = self.conn.execute(sql)
        if cur.description is None:
            return Outcome(sql, "status", status=cur.statusmessage or "OK",
                           elapsed=time.perf_counter() - t0)
        names = [d.name for d in cur.description]
        rows = cur.fetchall()
        elapsed = time.perf_counter() - t0
        table = pa.table({str(i): _column([r[i] for r in rows]) for i in range(len(names))})
        table = table.rename_columns(names)
        types = [self._type_name(d.type_code) for d in cur.description]
        return Outcome(sql, "rows", table=table, columns=list(zip(names, types)), elapsed=elapsed)

    def _type_name(self, oid: int) -> str:
        info = self.psycopg.adapters.types.get(oid)
        return info.name.upper() if info else str(oid)

    def _catalog_rows(self, sql: str) -> list:
        return self.conn.execute(sql).fetchall()

    def functions(self) -> list[str]:
        try:
            return [r[0] for r in self.conn.execute(
                "SELECT DISTINCT routine_name FROM information_schema.routines").fetchall()]
        except self.psycopg.Error:
            return []

    def cancel(self) -> None:
        cancel = getattr(self.conn, "cancel_safe", None) or self.conn.cancel
        cancel()

    def close(self) -> None:
        self.conn.close()


def _column(values: list) -> pa.Array:
    """An Arrow column of driver values; as text when Arrow cannot type them (arrays of
    mixed types, ranges, ...): the grid shows text anyway."""
    if not values:
        return pa.array([], pa.null())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in values], pa.large_string())


def open_session(target: str | None, durability: str = "sync") -> Session:
    """``None`` → new in-memory database; ``postgresql://...`` → psycopg; else a directory."""
    if target and re.match(r"^postgres(ql)?://", target):
        return WireSession(target)
    return EmbeddedSession(target, durability)
