"""A view's ``*`` is fixed when the view is made, as in PostgreSQL.

PostgreSQL expands every ``*`` and ``t.*`` of a view's query into the columns they
stood for at CREATE VIEW, so a column added to a table later does not appear in the view
(``pg_get_viewdef`` shows the expanded list). A view here is kept as SQL text and bound
again on every read, so its text must carry that list: while the view's query is bound
for CREATE VIEW, the select-list binder (``bind_select._select_items``) records what
each star expanded to (``stmt.star_expansions``, by node), and ``fixed_stars`` writes the
query again with those columns in the stars' places.

A column merged by ``JOIN ... USING`` is written unqualified, as it is read in that
scope; DuckDB's ``* REPLACE (expr AS c)`` keeps its expression under the column's name.
"""
from __future__ import annotations

import re

from sqlglot import exp

from sqlglot.dialects.postgres import Postgres

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")
# words the parser would not read back as a plain column name (quoted to be safe)
_WORDS = frozenset(k.lower() for k in Postgres.Tokenizer.KEYWORDS if k.isidentifier())


def recording(stmt) -> dict:
    """Start recording star expansions on ``stmt`` (the statement being bound)."""
    stmt.star_expansions = {}
    return stmt.star_expansions


def fixed_stars(query: exp.Expression, stars: dict) -> exp.Expression:
    """A copy of ``query`` with each star the binder expanded replaced by its columns
    (``query`` itself when it holds no such star; it is never changed: a parsed
    statement may be kept and bound again)."""
    found = [node for node in query.find_all(exp.Select)
             if any(id(e) in stars for e in node.expressions)] if stars else []
    if not found:
        return query
    copy = query.copy()
    twin = {id(a): b for a, b in zip(query.walk(), copy.walk())}
    for select in found:
        items = []
        for e, copied in zip(select.expressions, twin[id(select)].expressions):
            if id(e) not in stars:
                items.append(copied)
                continue
            for table, name, replacement in stars[id(e)]:
                if replacement is not None:
                    items.append(exp.alias_(replacement.copy(), _identifier(name)))
                    continue
                items.append(exp.Column(this=_identifier(name),
                                        table=_identifier(table) if table else None))
        twin[id(select)].set("expressions", items)
    return copy


def _identifier(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=not _PLAIN.fullmatch(name) or name in _WORDS)
