"""SQL completion: what may come at the cursor of an unfinished statement.

Editors need suggestions while the statement is still being typed, so nothing
here parses: a tolerant tokenizer (quotes, comments, words, punctuation) reads
the current statement, finds the relations of its ``FROM`` / ``JOIN`` /
``UPDATE`` / ``INTO`` items with their aliases, and looks at the word before
the cursor to choose what fits:

* after ``FROM``, ``JOIN``, ``INTO``, ``UPDATE``, ``TABLE`` (and after a comma
  in a ``FROM`` list): tables, views and other relations;
* after ``alias.`` or ``table.``: that relation's columns;
* elsewhere: columns of the statement's relations, functions, keywords, then
  relations.

The catalog is a small protocol (:class:`Catalog`) so the same core serves
the notebook (IPython's completer, in ``rustmemodb_lab.completion``), a
terminal client, or any other front end; :class:`DatabaseCatalog` reads a
rustmemodb ``Database`` (the committed root it is given: a branch's).
Nothing here runs a query: view columns come from binding the view's text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Protocol
from ..catalog.virtual import schema_names, table_names
from ..storage.namespaces import in_schema
from ..errors import Error
from .bind.binder import StatementBinder
from .parse import parse_one
from ..plan.aggregates import AGGREGATE_TYPES
from ..catalog.virtual import lookup


@dataclass(frozen=True)
class Candidate:
    """One suggestion: the text to insert and what it is (table, column, ...)."""

    text: str
    kind: str


@dataclass(frozen=True)
class Completions:
    """Suggestions replacing ``text[start:cursor]`` (the fragment typed so far)."""

    start: int
    items: list[Candidate]


class Catalog(Protocol):
    """What the completer needs to know about a database."""

    def relations(self) -> dict[str, str]:
        """``{name: kind}`` of everything usable after FROM (kind: table, view, ...)."""

    def columns(self, relation: str) -> list[str]:
        """The column names of ``relation`` (empty if unknown)."""

    def functions(self) -> list[str]:
        """Function names (scalar and aggregate)."""


KEYWORDS = tuple(sorted("""
ALL ALTER AND ANALYZE AS ASC BEGIN BETWEEN BY CASE CAST CHECK COLUMN COMMIT CONFLICT CONSTRAINT CREATE
CROSS CURRENT_DATE CURRENT_TIMESTAMP DEFAULT DELETE DESC DISTINCT DO DROP ELSE END EXCEPT EXISTS EXPLAIN
FALSE FETCH FILTER FIRST FOLLOWING FOREIGN FROM FULL GROUP HAVING IF ILIKE IN INDEX INNER INSERT
INTERSECT INTERVAL INTO IS JOIN KEY LAST LATERAL LEFT LIKE LIMIT NATURAL NOT NOTHING NULL NULLS OFFSET
ON OR ORDER OUTER OVER PARTITION PRECEDING PRIMARY RANGE RECURSIVE REFERENCES RELEASE RENAME RETURNING
RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET SHOW TABLE TEMPORARY THEN TO TRANSACTION TRUE TRUNCATE
UNBOUNDED UNION UNIQUE UPDATE USING VALUES VIEW WHEN WHERE WINDOW WITH
BIGINT BOOLEAN BYTEA DATE DOUBLE FLOAT INTEGER JSON JSONB NUMERIC REAL SMALLINT TEXT TIME TIMESTAMP UUID VARCHAR
""".split()))

_KEYWORD_SET = frozenset(KEYWORDS)
#: registry entries that implement operators and syntax (``+``, ``=``, ``->``, ``TRIM(BOTH ..)``),
#: not names a person calls
_OPERATOR_FUNCTIONS = frozenset("""
add sub mul neg eq ne lt le gt ge and or not is_null is_not_null is_true is_false is_distinct
is_not_distinct like ilike similar_to concat_op agg_pack json_get json_get_text json_path
json_path_text trim_both trim_leading trim_trailing
""".split())
#: words after which a relation name comes
_RELATION_BEFORE = frozenset({"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "TRUNCATE"})
#: words that end a FROM list (the next word is no longer a relation or alias)
_CLAUSE = frozenset({"WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "UNION", "EXCEPT",
                     "INTERSECT", "WINDOW", "RETURNING", "SET", "VALUES", "SELECT", "FETCH", "ON",
                     "USING", "DO", "WITH", "FOR"})

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z))
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>\d+(?:\.\d*)?)
  | (?P<punct>.)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def name(self) -> str:
        """The identifier it spells (quoted keep case; unquoted fold to lower case)."""
        if self.kind == "quoted":
            return self.text[1:-1].replace('""', '"') if self.text.endswith('"') and len(self.text) > 1 else self.text[1:]
        return self.text.lower()


def tokenize(text: str) -> list[_Tok]:
    """Tokens of ``text`` without spaces (comments and strings kept, to know where the cursor is)."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "punct"
        if kind != "space":
            out.append(_Tok(kind, m.group(), m.start(), m.end()))
    return out


def current_statement(text: str, cursor: int) -> tuple[int, int]:
    """``(start, end)`` of the statement holding ``cursor`` (split at ``;`` outside quotes)."""
    start, end = 0, len(text)
    for tok in tokenize(text):
        if tok.kind == "punct" and tok.text == ";":
            if tok.end <= cursor:
                start = tok.end
            elif tok.start >= cursor:
                end = tok.start
                break
    return start, end


def statement_relations(tokens: list[_Tok], derived: dict[str, list[str]] | None = None) -> dict[str, str]:
    """``{alias or name: relation}`` of the FROM / JOIN / UPDATE / INTO items.

    Tolerant of unfinished text: ``FROM trades t, orders AS o JOIN x ON`` gives
    ``{'t': 'trades', 'o': 'orders', 'x': 'x'}``; a name is also reachable by
    itself (``trades.`` works when it has an alias too).
    """
    out: dict[str, str] = {}
    i, n = 0, len(tokens)
    while i < n:
        if tokens[i].upper not in _RELATION_BEFORE:
            i += 1
            continue
        i += 1
        while i < n:
            if tokens[i].kind == "punct" and tokens[i].text == "(":
                start, i = i, _skip_parens(tokens, i)  # a subquery (its alias names it) or a column list
                body_end = i - 1 if tokens[i - 1].text == ")" else i
                alias_at = i + 1 if i < n and tokens[i].upper == "AS" else i
                i = _alias(tokens, i, None, out)
                if derived is not None and i > alias_at:  # (SELECT ...) [AS] s
                    name = tokens[alias_at].name
                    out[name] = name
                    derived[name] = _select_list_names(tokens[start + 1:body_end])
            elif tokens[i].kind in ("word", "quoted") and tokens[i].upper not in _KEYWORD_SET:
                name, i = _dotted(tokens, i)
                out.setdefault(name, name)
                i = _alias(tokens, i, name, out)
            else:
                break
            if i < n and tokens[i].kind == "punct" and tokens[i].text == ",":
                i += 1
                continue
            break
    return out


def _dotted(tokens: list[_Tok], i: int) -> tuple[str, int]:
    parts = [tokens[i].name]
    i += 1
    while i + 1 < len(tokens) and tokens[i].text == "." and tokens[i + 1].kind in ("word", "quoted"):
        parts.append(tokens[i + 1].name)
        i += 2
    return ".".join(parts), i


def _alias(tokens: list[_Tok], i: int, name: str | None, out: dict[str, str]) -> int:
    if i < len(tokens) and tokens[i].upper == "AS":
        i += 1
    if i < len(tokens) and tokens[i].kind in ("word", "quoted") and tokens[i].upper not in _KEYWORD_SET:
        if name is not None:
            out[tokens[i].name] = name
        return i + 1
    return i


def _skip_parens(tokens: list[_Tok], i: int) -> int:
    depth = 0
    while i < len(tokens):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def complete_sql(text: str, cursor: int, catalog: Catalog) -> Completions | None:
    """Suggestions for the fragment before ``cursor`` in ``text`` (None inside a string or comment)."""
    s_start, s_end = current_statement(text, cursor)
    pos = cursor - s_start
    statement = text[s_start:s_end]
    # Tokenized in two halves at the cursor: a quote being typed ends at the cursor
    # instead of pairing with the next quote further on.
    head = tokenize(statement[:pos])
    tail = tokenize(statement[pos:])
    if tail and head and tail[0].start == 0 and tail[0].kind == "word" and head[-1].end == pos and head[-1].kind == "word":
        tail = tail[1:]  # the rest of the word at the cursor (``sy|m``): replaced, not read
    tokens = head + [_Tok(t.kind, t.text, t.start + pos, t.end + pos) for t in tail]
    typing_quoted = False
    last = head[-1] if head else None
    if last is not None and last.end == pos and last.kind in ("string", "comment", "quoted"):
        closed = len(last.text) > 1 and (last.text[-1] == last.text[0] or last.text.endswith("*/"))
        if last.kind == "quoted" and not closed:
            typing_quoted = True  # "Order Da| : complete the quoted name
        elif not closed or last.text.startswith("--"):
            return None
    before = [t for t in tokens if t.end <= pos and t.kind != "comment"]
    fragment = ""
    if before and before[-1].end == pos and (before[-1].kind == "word" or typing_quoted):
        fragment = before.pop().text
    start = cursor - len(fragment)
    # the word being typed is not an alias yet (``FROM trades ORD|`` is ORDER, not ``ord``)
    derived: dict[str, list[str]] = {}
    relations = statement_relations([t for t in tokens if t.kind != "comment"
                                     and not (fragment and t.end == pos and t.kind == "word")], derived)

    plain = [t for t in tokens if t.kind != "comment"]
    with_queries = statement_ctes(plain)
    local = {**with_queries, **derived}  # names the statement defines: {name: output columns}
    if len(before) >= 2 and before[-1].text == "." and before[-1].end == pos - len(fragment) and before[-2].kind in ("word", "quoted"):
        qualifier = before[-2].name
        target = relations.get(qualifier, qualifier)
        cols = local[target] if target in local else _columns(catalog, target)
        items = [Candidate(c, "column") for c in cols]
        if not items and hasattr(catalog, "schema_relations"):  # information_schema.|
            items = [Candidate(n, "table") for n in _safe(lambda: catalog.schema_relations(qualifier), [])]
        return Completions(start, _matching(fragment, items))

    previous = before[-1] if before else None
    if previous is not None and (previous.upper in _RELATION_BEFORE or _in_from_list(before)):
        items = [Candidate(n, "cte") for n in with_queries] + _relation_candidates(catalog)
        return Completions(start, _matching(fragment, items))

    items: list[Candidate] = []
    seen_cols: set[str] = set()
    for alias, relation in relations.items():
        for col in local[relation] if relation in local else _columns(catalog, relation):
            if col not in seen_cols:
                seen_cols.add(col)
                items.append(Candidate(col, "column"))
    if len(relations) > 1:
        items += [Candidate(a, "alias") for a in relations if a not in seen_cols]
    items += [Candidate(f, "function") for f in sorted(set(_safe(catalog.functions, [])) - _OPERATOR_FUNCTIONS)]
    upper = not fragment or fragment[0].isupper()
    items += [Candidate(k if upper else k.lower(), "keyword") for k in KEYWORDS]
    items += _relation_candidates(catalog)
    return Completions(start, _matching(fragment, items))


def statement_ctes(tokens: list[_Tok]) -> dict[str, list[str]]:
    """``{name: columns}`` of the statement's ``WITH`` queries (columns from an explicit
    list, else from the select list's aliases and plain column names)."""
    out: dict[str, list[str]] = {}
    i, n = 0, len(tokens)
    if not tokens or tokens[0].upper != "WITH":
        return out
    i = 2 if n > 1 and tokens[1].upper == "RECURSIVE" else 1
    while i < n and tokens[i].kind in ("word", "quoted"):
        name = tokens[i].name
        i += 1
        explicit: list[str] | None = None
        if i < n and tokens[i].text == "(":
            end = _skip_parens(tokens, i)
            explicit = [t.name for t in tokens[i + 1:end - 1] if t.kind in ("word", "quoted")]
            i = end
        if i < n and tokens[i].upper == "AS":
            i += 1
        if i < n and tokens[i].upper in ("MATERIALIZED", "NOT"):
            i += 2 if tokens[i].upper == "NOT" else 1
        if i >= n or tokens[i].text != "(":
            out[name] = explicit or []
            break
        end = _skip_parens(tokens, i)
        out[name] = explicit or _select_list_names(tokens[i + 1:end - 1])
        i = end
        if i < n and tokens[i].text == ",":
            i += 1
            continue
        break
    return out


def _select_list_names(tokens: list[_Tok]) -> list[str]:
    """Output names of ``SELECT a, b AS c, t.d, count(*) AS n FROM ...`` (unnamed ones skipped)."""
    if not tokens or tokens[0].upper != "SELECT":
        return []
    items: list[list[_Tok]] = [[]]
    depth = 0
    for tok in tokens[1:]:
        if depth == 0 and (tok.upper == "FROM" or tok.text == ";"):
            break
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if depth == 0 and tok.text == ",":
            items.append([])
        else:
            items[-1].append(tok)
    names = []
    for item in items:
        if item and item[0].upper == "DISTINCT":
            item = item[1:]
        if not item or item[-1].kind not in ("word", "quoted") or item[-1].upper in _KEYWORD_SET:
            continue
        if len(item) == 1 or item[-2].upper == "AS" or item[-2].text == "." or item[-2].text == ")":
            names.append(item[-1].name)
    return names


def _in_from_list(before: list[_Tok]) -> bool:
    """Whether the cursor follows a comma of a FROM list (``FROM a, b, |``)."""
    if not before or before[-1].text != ",":
        return False
    depth = 0
    for tok in reversed(before[:-1]):
        if tok.text == ")":
            depth += 1
        elif tok.text == "(":
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and tok.upper in _CLAUSE:
            return False
        elif depth == 0 and tok.upper in ("FROM", "JOIN"):
            return True
    return False


def _relation_candidates(catalog: Catalog) -> list[Candidate]:
    rels = _safe(catalog.relations, {})
    return [Candidate(name, kind) for name, kind in sorted(rels.items())]


def _columns(catalog: Catalog, relation: str) -> list[str]:
    return list(_safe(lambda: catalog.columns(relation), []))


def _safe(fn: Any, default: Any) -> Any:
    """Catalog lookups must never break an editor: a failing one suggests nothing."""
    try:
        return fn()
    except Exception:  # noqa: BLE001 - completion is best effort by design
        return default


def _matching(fragment: str, items: Iterable[Candidate]) -> list[Candidate]:
    """Items starting with ``fragment`` (case-insensitive), first occurrence of each text kept.

    Names that only work quoted (``Order Date``, ``Amount``: unquoted words fold to
    lower case) are inserted quoted; ``am`` and ``"Am`` both find ``"Amount"``.
    """
    low = fragment.lower().lstrip('"')
    seen: set[str] = set()
    out = []
    for item in items:
        if item.kind == "keyword" and fragment.startswith('"'):
            continue  # a quoted name is being typed
        if item.kind != "keyword":
            item = Candidate(quote_ident(item.text), item.kind)
        if item.text.lower().lstrip('"').startswith(low) and item.text not in seen:
            seen.add(item.text)
            out.append(item)
    return out


_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_$]*")


def quote_ident(name: str) -> str:
    """``name`` as typed in SQL: bare if it reads back the same, else double-quoted."""
    if _PLAIN_NAME.fullmatch(name) and name.upper() not in _KEYWORD_SET:
        return name
    return '"' + name.replace('"', '""') + '"'



class DatabaseCatalog:
    """A rustmemodb ``Database`` (its current committed root) as a :class:`Catalog`.

    ``extra`` adds relations the database does not store, e.g. the notebook's
    DataFrame variables reached through the replacement scan: ``{name: columns}``.
    """

    def __init__(self, database: Any, extra: dict[str, list[str]] | None = None, extra_kind: str = "variable") -> None:
        self.database = database
        self.root = database.root
        self.extra = extra or {}
        self.extra_kind = extra_kind

    def relations(self) -> dict[str, str]:

        out = {name: "schema" for name in schema_names()}
        out.update({name: "schema" for name in self.root.auth.schemas})
        out.update({name: self.extra_kind for name in self.extra})
        out.update({name: "view" for name in self.root.views})
        out.update({name: "table" for name in self.root.tables})
        return out

    def columns(self, relation: str) -> list[str]:
        version = self.root.tables.get(relation)
        if version is not None:
            return list(version.schema.names)
        view = self.root.views.get(relation)
        if view is not None:
            return self._view_columns(view)
        if relation in self.extra:
            return list(self.extra[relation])
        schema, _, name = relation.rpartition(".")
        if schema:

            virtual = lookup(schema, name)
            return [c for c, _ in virtual.columns] if virtual is not None else []
        return []

    def schema_relations(self, schema: str) -> list[str]:
        """The tables of a catalog schema (``information_schema``, ``pg_catalog``) or the
        relations of a user schema (``staging.|``: their bare names)."""
        if schema in self.root.auth.schemas:
            keys = {*self.root.tables, *self.root.views}
            return sorted(k.partition(".")[2] for k in in_schema(keys, schema,
                                                                   self.root.auth.schemas))
        return table_names(schema)

    def _view_columns(self, view: Any) -> list[str]:

        try:
            plan = StatementBinder(self.root, self.database.functions).bind_statement(parse_one(view.sql)).plan
        except Error:  # a view over a dropped table has no columns to offer
            return list(view.columns)
        return list(view.columns) + list(plan.names[len(view.columns):])

    def functions(self) -> list[str]:

        return sorted(set(self.database.functions.names()) | set(AGGREGATE_TYPES))
