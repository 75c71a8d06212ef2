"""Saved queries (jupysql's snippets): ``--save NAME``, then use NAME like a table.

``%%sql --save big_trips`` stores the cell's query under a name; a later query
that mentions ``big_trips`` (or names it with ``--with big_trips``) runs with
the snippet prepended as a CTE: ``WITH big_trips AS (<query>) SELECT ...``.
Snippets may use other snippets; they are expanded dependencies first.

Snippets belong to a branch of a connection, like the data they describe: a
fork starts with its parent's snippets, and a snippet saved on a fork is not
seen on ``main``. A real table or view of the same name always wins over a
snippet that is merely mentioned (the CTE would shadow it); ``--with NAME``
asks for the snippet explicitly.

What is stored is the query after ``{var}`` / ``{{ expr }}`` were pasted and
with ``:var`` parameters left in place, so they bind when the snippet is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rustmemodb_lab import sqltext
from rustmemodb_lab.errors import LabUsageError

Key = tuple[str, str | None]  # (connection name, branch name; None for external connections)

_WITH_RE = re.compile(r"WITH(\s+RECURSIVE)?\s+", re.I)
_TAKES_WITH = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VALUES", "TABLE"}


@dataclass(frozen=True)
class Snippet:
    name: str
    sql: str
    uses: tuple[str, ...] = ()  # snippets named with --with when it was saved


@dataclass
class SnippetStore:
    """Snippets by (connection, branch)."""

    saved: dict[Key, dict[str, Snippet]] = field(default_factory=dict)

    def save(self, key: Key, name: str, sql: str, uses: Iterable[str] = ()) -> Snippet:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise LabUsageError(f"a snippet name must be an SQL identifier, not {name!r}")
        words = sqltext.leading_keywords(sql, 1)
        if not words or words[0] not in {"SELECT", "WITH", "VALUES", "TABLE"} and not sql.lstrip().startswith("("):
            raise LabUsageError(f"--save {name}: only a query (SELECT, WITH, VALUES) can be a snippet")
        snippet = Snippet(name, sql.strip().rstrip(";"), tuple(uses))
        self.saved.setdefault(key, {})[name] = snippet
        return snippet

    def of(self, key: Key) -> dict[str, Snippet]:
        return self.saved.get(key, {})

    def fork(self, parent: Key, child: Key) -> None:
        """A new branch starts with its parent's snippets."""
        if parent in self.saved:
            self.saved[child] = dict(self.saved[parent])

    def forget(self, key: Key) -> None:
        self.saved.pop(key, None)

    def delete(self, key: Key, name: str) -> None:
        if name not in self.of(key):
            raise LabUsageError(f"no snippet named {name!r} here; saved: {', '.join(self.of(key)) or 'none'}")
        del self.saved[key][name]

    # -- expansion ----------------------------------------------------------------------
    def needed(self, key: Key, sql: str, explicit: Iterable[str], tables: set[str]) -> list[Snippet]:
        """The snippets ``sql`` needs, dependencies first."""
        known = self.of(key)
        for name in explicit:
            if name not in known:
                raise LabUsageError(
                    f"--with {name}: no snippet of that name on this branch; "
                    f"saved here: {', '.join(sorted(known)) or 'none'} (save one with --save {name})"
                )
        order: list[Snippet] = []
        visiting: list[str] = []

        def visit(name: str) -> None:
            if any(s.name == name for s in order):
                return
            if name in visiting:
                raise LabUsageError(f"snippets use each other in a cycle: {' → '.join([*visiting, name])}")
            visiting.append(name)
            snippet = known[name]
            for dep in [*snippet.uses, *mentioned(snippet.sql, known, tables, exclude=name)]:
                visit(dep)
            visiting.pop()
            order.append(snippet)

        for name in [*explicit, *mentioned(sql, known, tables)]:
            visit(name)
        return order


def mentioned(sql: str, known: dict[str, Snippet], tables: set[str], exclude: str | None = None) -> list[str]:
    """Snippet names used as words in the code of ``sql`` (not shadowing a real table)."""
    if not known:
        return []
    lowered_tables = {t.lower() for t in tables}
    words = {m.group(0).lower() for a, b in sqltext.code_spans(sql)
             for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", sql[a:b])}
    words |= {m.group(1).lower() for m in re.finditer(r'"([A-Za-z_][A-Za-z0-9_]*)"', sql)}  # "quoted" names
    return [name for name in known
            if name.lower() in words and name != exclude and name.lower() not in lowered_tables]


def with_clause(snippets: list[Snippet], sql: str) -> tuple[str, sqltext.TextMap] | None:
    """``sql`` with the snippets as CTEs (merged into its own WITH), or None if it cannot take one."""
    if not snippets:
        return None
    start = sqltext.skip_leading_trivia(sql)
    words = sqltext.leading_keywords(sql, 1)
    if not (words and words[0] in _TAKES_WITH) and not sql[start:].startswith("("):
        return None
    ctes = ",\n     ".join(f"{s.name} AS ({s.sql})" for s in snippets)
    m = _WITH_RE.match(sql, start)
    if m:
        return sqltext.substitute(sql, [(m.end(), m.end(), ctes + ",\n     ")])
    return sqltext.substitute(sql, [(start, start, f"WITH {ctes}\n")])


# -- a cell's statements, expanded for one target ------------------------------------------

def expand_statements(cmd: Any, ns: Any, store: SnippetStore, key: Key,
                      tables: Callable[[], set[str]]) -> list[Any]:
    """The cell's statements with the snippets each one needs prepended as CTEs.

    Runs per target (branch or external connection), because snippets are per
    branch; ``:var`` parameters of the snippets are bound here, with the rest.
    ``tables`` (the target's real tables and views) is asked only when there
    are snippets, so a cell without them pays nothing.
    """
    from rustmemodb_lab.command import number_statement

    if not store.of(key) and not cmd.with_:
        return cmd.statements
    tables = tables()
    out, took_with = [], False
    for stmt in cmd.statements:
        named = stmt.named_text if stmt.named_text is not None else stmt.text
        expanded = with_clause(store.needed(key, named, cmd.with_, tables), named)
        if expanded is None:
            out.append(stmt)
            continue
        took_with = True
        text, mapping = expanded
        out.append(number_statement(text, stmt.offset, stmt.index, ns, maps=(*stmt.maps[:-1], mapping)))
    if cmd.with_ and not took_with:
        raise LabUsageError("--with: no statement of the cell can take a WITH clause (SELECT, INSERT, UPDATE, DELETE)")
    return out


def save_from(cmd: Any, store: SnippetStore, key: Key) -> Snippet:
    """Store the cell's one query under ``--save NAME``."""
    stmt = cmd.statements[0]
    return store.save(key, cmd.save, stmt.named_text if stmt.named_text is not None else stmt.text, cmd.with_)
