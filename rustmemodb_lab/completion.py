"""Completion of ``%%sql`` cells and ``%sql`` lines, in the kernel (IPython's matchers v2).

The completer runs where the data is, so it needs no language server and
works in every front end that sends ``complete_request`` (JupyterLab,
Notebook 7, VS Code, the IPython terminal). ``install`` adds one matcher to
the shell's completer; ``uninstall`` (on ``%unload_ext``) removes it.

What it completes, from the cell as typed:

* in the SQL of a ``%%sql`` cell or ``%sql`` line: tables, views and
  DataFrame variables of the *current* branch (it follows ``--checkout``),
  columns of the statement's relations (``t.`` → the columns of ``t``'s
  table), functions of the engine's registry and keywords. The SQL part is
  the engine's ``rustmemodb.sql.complete`` core; this module only chooses the
  catalog: the one the magic line names (``--on A,B`` → branch A,
  ``--connection NAME``, an open URL), else the current one. On a SQLAlchemy
  connection the tables and columns come from its inspector; if that fails,
  keywords only;
* on the magic line: option names after ``-``, branch names after ``--on``
  (each comma-separated name), ``--checkout``, ``--diff``, ``--merge``,
  ``--into``, ``--drop-branch``, connection names after ``--connection``,
  snippets after ``--with``; tables after ``-t`` of ``%sqlcmd`` / ``%sqlplot``.

Inside ``%%sql`` the result asks IPython to suppress its other matchers, so
Python names never mix with SQL ones. A matcher must never break completion:
any lookup error yields no suggestions from here.
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.completer import CompletionContext, SimpleCompletion, SimpleMatcherResult, context_matcher

from rustmemodb.sql.complete import Candidate, DatabaseCatalog, complete_sql

MATCHER_ID = "rustmemodb_lab.sql"

#: options whose value(s) are branch names
BRANCH_OPTIONS = frozenset({"--on", "--checkout", "--diff", "--merge", "--into", "--drop-branch"})
#: magics whose ``-t`` / ``--table`` takes a relation
TABLE_MAGICS = ("%sqlcmd", "%sqlplot")

_LINE_MAGIC = re.compile(r"(?:^|[\s=(])%sql(?=\s|$)")
_CELL_MAGIC = re.compile(r"^\s*%%sql(?=\s|$)")
_TABLE_MAGIC = re.compile(r"^\s*(%sqlcmd|%sqlplot)(?=\s|$)")


def install(ip: Any, session: Any) -> Any:
    """Add the SQL matcher to ``ip``'s completer; returns it (for ``uninstall``)."""
    completer = SqlCompleter(ip, session)

    @context_matcher(priority=100, identifier=MATCHER_ID)
    def sql_matcher(context: CompletionContext) -> SimpleMatcherResult:
        return completer.match(context)

    uninstall(ip)
    ip.Completer.custom_matchers.append(sql_matcher)
    return sql_matcher


def uninstall(ip: Any) -> None:
    """Remove the SQL matcher (``%unload_ext``)."""
    completer = getattr(ip, "Completer", None)
    if completer is None:
        return
    completer.custom_matchers[:] = [
        m for m in completer.custom_matchers if getattr(m, "matcher_identifier", None) != MATCHER_ID
    ]


class SqlCompleter:
    """Chooses what to complete at the cursor, and from which catalog."""

    def __init__(self, ip: Any, session: Any) -> None:
        self.ip = ip
        self.session = session

    # -- entry point -------------------------------------------------------------------
    def match(self, context: CompletionContext) -> SimpleMatcherResult:
        lines = context.full_text.split("\n")
        offset = sum(len(line) + 1 for line in lines[: context.cursor_line]) + context.cursor_position
        try:
            found = self.complete(context.full_text, offset)
        except Exception:  # noqa: BLE001 - a completion bug must not print a traceback into the cell
            found = None
        if found is None:
            return _result([], "", suppress=False)
        fragment, items = found
        return _result(items, fragment, suppress=True)

    def complete(self, text: str, offset: int) -> tuple[str, list[Candidate]] | None:
        """``(fragment, candidates)`` at ``offset`` of a cell, or None when it is not ours."""
        lines = text.split("\n")
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        line_start = text.rfind("\n", 0, offset) + 1
        line_end = text.find("\n", offset)
        line = text[line_start: len(text) if line_end < 0 else line_end]
        col = offset - line_start
        if first is not None and _CELL_MAGIC.match(lines[first]):
            magic_line_start = sum(len(x) + 1 for x in lines[:first])
            magic_line_end = magic_line_start + len(lines[first])
            if offset > magic_line_end:
                target = _CELL_MAGIC.sub("", lines[first], count=1)
                return self.sql(text[magic_line_end + 1:], offset - magic_line_end - 1, target)
            m = _CELL_MAGIC.match(lines[first])
            on_magic_line = line_start == magic_line_start and col >= m.end()
            return self.options(line[m.end():col]) if on_magic_line else None
        m = _LINE_MAGIC.search(line[:col])
        if m:
            return self.magic_line(line[m.end():col], line[m.end():])
        m = _TABLE_MAGIC.match(line[:col])
        if m:
            return self.table_option(line[m.end():col])
        return None

    # -- the magic line ----------------------------------------------------------------
    def magic_line(self, head: str, whole: str) -> tuple[str, list[Candidate]] | None:
        """``%sql ...`` up to the cursor: options, then (once SQL has started) SQL."""
        from rustmemodb_lab.command import split_options, split_url
        from rustmemodb_lab.magic import SqlMagics

        _, rest = split_options(SqlMagics.sql.parser, head)
        if not rest.strip():
            return self.options(head)
        url, sql = split_url(rest)
        if url is not None and not sql[:1].isspace():
            return None  # still typing the URL
        from rustmemodb_lab import sqltext

        _, sql = sqltext.split_assignment(sql) if "<<" in sql else (None, sql)
        tail = whole[len(head):]
        return self.sql(sql + tail, len(sql), head[: len(head) - len(rest)] + (url or ""))

    def options(self, head: str) -> tuple[str, list[Candidate]] | None:
        """The magic line's options: names, and branch / connection / snippet values."""
        from rustmemodb_lab.magic import SqlMagics

        words = head.split(" ")
        fragment = words[-1]
        previous = next((w for w in reversed(words[:-1]) if w), "")
        parser = SqlMagics.sql.parser
        if fragment.startswith("-"):
            names = sorted(o for o in parser._option_string_actions if o.startswith("--"))  # noqa: SLF001
            return fragment, [Candidate(n, "option") for n in names if n.startswith(fragment)]
        option = previous
        if previous and not previous.startswith("-"):  # --diff A |  (second value)
            before = [w for w in words[:-1] if w]
            if len(before) >= 2 and before[-2] == "--diff":
                option = "--diff"
            elif len(before) >= 3 and before[-3] == "--diff":
                return fragment, self._matching(fragment, self._relations())
        if option in BRANCH_OPTIONS:
            if option == "--on" and "," in fragment:
                fragment = fragment.rsplit(",", 1)[1]
            names = self._branches()
            forked = [w for o, w in zip(words, words[1:]) if o == "--fork" and w and w not in names]
            return fragment, self._matching(fragment, [Candidate(b, "branch") for b in names + forked])
        if option == "--connection":
            names = [*self.session.connections, *self.session.external]
            return fragment, self._matching(fragment, [Candidate(n, "connection") for n in names])
        if option == "--with":
            fragment = fragment.rsplit(",", 1)[-1]
            return fragment, self._matching(fragment, [Candidate(n, "snippet") for n in self._snippets()])
        return None

    def table_option(self, head: str) -> tuple[str, list[Candidate]] | None:
        """``%sqlcmd columns -t |`` and ``%sqlplot ... -t |``: relations."""
        words = head.split(" ")
        previous = next((w for w in reversed(words[:-1]) if w), "")
        if previous in ("-t", "--table"):
            return words[-1], self._matching(words[-1], self._relations())
        return None

    # -- SQL ---------------------------------------------------------------------------
    def sql(self, text: str, cursor: int, options: str = "") -> tuple[str, list[Candidate]] | None:
        found = complete_sql(text, cursor, self.catalog(options))
        if found is None:
            return None
        return text[found.start:cursor], found.items

    def catalog(self, options: str = "") -> Any:
        """The catalog the SQL will run against: the current branch, or the one the magic
        line names (``--on A,B`` → A, ``--connection NAME``, an open URL)."""
        target = _target(options)
        ext = self.session.current_external
        if target.get("url"):
            ext = next((e for e in self.session.external.values() if e.url == target["url"]), None)
            return ExternalCatalog(ext) if ext is not None else VariablesCatalog(self._variables())
        registry = None
        if target.get("connection") in self.session.external:
            return ExternalCatalog(self.session.external[target["connection"]])
        if target.get("connection") in self.session.connections:
            registry = self.session.connections[target["connection"]]
        elif ext is not None:
            return ExternalCatalog(ext)
        elif self.session.current_name is not None:
            registry = self.session.registry
        if registry is None:  # nothing opened yet: only variables
            return VariablesCatalog(self._variables())
        branch = registry.branches.get(target.get("on") or "") or registry.active
        return DatabaseCatalog(branch.database, {**self._snippet_columns(), **self._variables()})

    def _variables(self) -> dict[str, list[str]]:
        """DataFrame / Arrow variables (queryable by name) and their column names."""
        from rustmemodb_lab.session import as_table

        out = {}
        for name, value in list(self.ip.user_ns.items()):
            if name.startswith("_") or not name.isidentifier():
                continue
            module = type(value).__module__.split(".")[0]
            if module not in ("pandas", "pyarrow", "polars"):
                continue
            try:
                table = as_table(value)
                if table is not None:
                    out[name] = [str(c) for c in (table.column_names if hasattr(table, "column_names") else table.columns)]
            except Exception:  # noqa: BLE001 - an odd object is simply not offered
                continue
        return out

    def _snippet_columns(self) -> dict[str, list[str]]:
        return {name: [] for name in self._snippets()}

    def _snippets(self) -> list[str]:
        try:
            branch = None if self.session.current_external else self.session.registry.active.name
            return sorted(self.session.snippets.of((self.session.current_name or "", branch)))
        except Exception:  # noqa: BLE001
            return []

    def _branches(self) -> list[str]:
        if self.session.current_external is not None or self.session.current_name is None:
            return [self.session.config.default_branch]
        return [b.name for b, _ in self.session.registry.walk()]

    def _relations(self) -> list[Candidate]:
        try:
            rels = self.catalog().relations()
        except Exception:  # noqa: BLE001
            return []
        return [Candidate(n, k) for n, k in sorted(rels.items())]

    @staticmethod
    def _matching(fragment: str, items: list[Candidate]) -> list[Candidate]:
        low = fragment.lower()
        return [c for c in items if c.text.lower().startswith(low)]


def _target(options: str) -> dict[str, str]:
    """``--on``'s first branch, ``--connection`` and a URL named on a magic line."""
    from rustmemodb_lab.command import split_url

    out: dict[str, str] = {}
    words = options.split()
    for option, value in zip(words, words[1:]):
        if option == "--on":
            out["on"] = value.split(",")[0]
        elif option == "--connection":
            out["connection"] = value
    for word in words:
        url, _ = split_url(word)
        if url:
            out["url"] = url
    return out


class VariablesCatalog:
    """Only the notebook's DataFrame variables (no connection opened yet)."""

    def __init__(self, variables: dict[str, list[str]]) -> None:
        self.variables = variables

    def relations(self) -> dict[str, str]:
        return {name: "variable" for name in self.variables}

    def columns(self, relation: str) -> list[str]:
        return self.variables.get(relation, [])

    def functions(self) -> list[str]:
        return []


class ExternalCatalog:
    """A SQLAlchemy connection: tables and columns from its inspector, no functions."""

    def __init__(self, ext: Any) -> None:
        self.ext = ext
        self._insp: Any = None

    def relations(self) -> dict[str, str]:
        inspector = self._inspector()
        return {**{n: "view" for n in inspector.get_view_names()}, **{n: "table" for n in inspector.get_table_names()}}

    def columns(self, relation: str) -> list[str]:
        schema, _, name = relation.rpartition(".")
        return [c["name"] for c in self._inspector().get_columns(name, schema=schema or None)]

    def _inspector(self) -> Any:
        # The inspector only (cached by SQLAlchemy per connection); no fallback queries and
        # no rollback: completing must not touch the user's transaction.
        if self._insp is None:
            import sqlalchemy as sa

            self._insp = sa.inspect(self.ext.conn)
        return self._insp

    def functions(self) -> list[str]:
        return []


def _result(items: list[Candidate], fragment: str, *, suppress: bool) -> SimpleMatcherResult:
    return SimpleMatcherResult(
        completions=[SimpleCompletion(c.text, type=c.kind) for c in items],
        matched_fragment=fragment,
        suppress=suppress and bool(items),
        ordered=True,
    )


__all__ = ["install", "uninstall", "SqlCompleter"]
