"""Name resolution: which input column a (possibly qualified) name refers to.

A ``Scope`` is the list of columns visible to expressions of one query level,
each tagged with the alias of the FROM item that produced it. Lookups fail with
PostgreSQL's errors: ``42703`` unknown column (with a hint when the name exists
in another table), ``42702`` ambiguous column, ``42P01`` unknown table alias.
An enclosing query's scope is ``parent`` (for correlated subqueries).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ... import errors


@dataclass(frozen=True)
class ScopeColumn:
    table: str | None      # alias of the FROM item (None for computed columns)
    name: str
    type: str
    hidden: bool = False   # e.g. _rowid: addressable by the engine, not by SELECT *
    # A JOIN ... USING column's copy from one side: in ``t.*``, but not in a bare ``*``
    # (which shows the merged column once), as in PostgreSQL.
    twin: bool = False


@dataclass
class Scope:
    columns: list = field(default_factory=list)
    parent: "Scope | None" = None
    # Outer columns read by the subquery being bound: filled during binding.
    outer_refs: list = field(default_factory=list)
    # Names merged by JOIN ... USING: unqualified, they mean the merged column only.
    using_names: set = field(default_factory=set)

    def add(self, table: str | None, name: str, type_: str, hidden: bool = False,
            twin: bool = False) -> None:
        self.columns.append(ScopeColumn(table, name, type_, hidden, twin))

    def extend(self, other: "Scope") -> None:
        self.columns.extend(other.columns)
        self.using_names |= other.using_names

    @property
    def tables(self) -> list[str]:
        seen = []
        for c in self.columns:
            if c.table is not None and c.table not in seen:
                seen.append(c.table)
        return seen

    def find(self, name: str, table: str | None = None) -> list[int]:
        if table is None and name in self.using_names:
            return [i for i, c in enumerate(self.columns) if c.name == name and c.table is None]
        return [i for i, c in enumerate(self.columns)
                if c.name == name and (table is None or c.table == table)]

    def resolve(self, name: str, table: str | None = None, position: int | None = None) -> int:
        """Position of the column, or a PostgreSQL-style error."""
        hits = self.find(name, table)
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise errors.sql_error("42702", f'column reference "{name}" is ambiguous',
                                   position=position)
        if table is not None and table not in self.tables:
            raise errors.sql_error("42P01", f'missing FROM-clause entry for table "{table}"',
                                   position=position)
        shown = f"{table}.{name}" if table else name
        raise errors.undefined_column(shown, position=position, hint=self._hint(name))

    def _hint(self, name: str) -> str | None:
        import difflib
        names = sorted({c.name for c in self.columns if not c.hidden})
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            return f'Perhaps you meant to reference the column "{close[0]}".'
        return None

    def star(self, table: str | None = None) -> list[int]:
        out = [i for i, c in enumerate(self.columns) if not c.hidden and (
            c.table == table if table is not None else not c.twin)]
        if table is not None and not out and table not in self.tables:
            raise errors.sql_error("42P01", f'missing FROM-clause entry for table "{table}"')
        return out
