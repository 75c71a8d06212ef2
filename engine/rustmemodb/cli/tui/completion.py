"""Tab completion for the TUI editor: what may follow the text before the cursor.

Candidates by context, as pgcli does it:

* ``\\`` at the start of a line → backslash commands; the argument of a branch
  command (``\\checkout``, ``\\fork``, ``\\diff``, ``\\merge``) → branch names,
  the third word of ``\\diff`` and the word after ``\\d`` → table names;
* ``alias.`` → the columns of the table that ``alias`` names in the statement;
* after ``FROM``/``JOIN``/``INTO``/``UPDATE``/``TABLE`` → table names;
* anywhere else → columns of the statement's tables, functions, keywords, tables.

Pure functions over a :class:`Catalog` snapshot, so they are tested without a UI.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rustmemodb.branch.commands import VERBS

KEYWORDS = sorted(set("""
SELECT FROM WHERE GROUP BY ORDER HAVING LIMIT OFFSET INSERT INTO VALUES UPDATE SET DELETE
CREATE TABLE DROP ALTER ADD COLUMN INDEX UNIQUE PRIMARY KEY FOREIGN REFERENCES NOT NULL DEFAULT
CHECK CONSTRAINT VIEW AS ON JOIN INNER LEFT RIGHT FULL OUTER CROSS NATURAL USING AND OR IN IS
LIKE ILIKE BETWEEN EXISTS CASE WHEN THEN ELSE END DISTINCT ALL ANY UNION INTERSECT EXCEPT WITH
RECURSIVE ASC DESC NULLS FIRST LAST BEGIN COMMIT ROLLBACK SAVEPOINT RELEASE EXPLAIN ANALYZE
CHECKPOINT RETURNING CAST TRUE FALSE INTEGER BIGINT FLOAT DOUBLE PRECISION TEXT VARCHAR BOOLEAN
TIMESTAMP DATE UUID JSON JSONB NUMERIC INTERVAL OVER PARTITION WINDOW ROWS RANGE FILTER IF
TRUNCATE PREPARE EXECUTE DEALLOCATE GRANT REVOKE LATERAL FETCH ONLY
""".split()))

# Aggregates and window functions are bound by the SQL front end, not looked up in the
# function registry, so the registry's names() does not list them.
BUILTIN_FUNCTIONS = sorted(set("""
count sum avg min max string_agg bool_and bool_or every stddev stddev_pop stddev_samp
variance var_pop var_samp json_agg jsonb_agg json_object_agg corr covar_pop covar_samp
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value
nth_value generate_series cast extract
""".split()))

# Registry entries that implement operators (a + b is add(a, b)): callable, but not what
# anyone means to type.
OPERATOR_FUNCTIONS = set("""
add sub mul div neg eq ne lt le gt ge and or not concat_op agg_pack is_distinct
is_not_distinct is_null is_not_null is_true is_false trim_both trim_leading trim_trailing
json_get json_get_text json_path json_path_text like ilike similar_to
""".split())


def function_names(registry_names: list[str]) -> list[str]:
    """What Tab offers as functions: the registry's, without operators, plus aggregates."""
    return sorted({n for n in registry_names if n not in OPERATOR_FUNCTIONS} | set(BUILTIN_FUNCTIONS))


BACKSLASH = sorted({"\\" + v.name for v in VERBS} | {"\\d", "\\dt", "\\timing", "\\x", "\\?"})
_BRANCH_ARG = {"\\checkout", "\\fork", "\\diff", "\\merge", "\\drop-branch"}
_TABLE_CONTEXT = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE"}
_WORD = re.compile(r"[\w.\\\-]*$")
_TABLE_REF = re.compile(r"\b(?:from|join|update|into)\s+([A-Za-z_][\w]*)(?:\s+(?:as\s+)?([A-Za-z_]\w*))?",
                        re.I)
_NOT_ALIAS = {"where", "on", "join", "left", "right", "inner", "full", "cross", "natural", "group",
              "order", "limit", "set", "values", "using", "as", "select", "union", "having",
              "offset", "returning", "window", "except", "intersect", "outer"}


@dataclass
class Catalog:
    """What completion knows about the database (refreshed after each statement)."""

    columns: dict[str, list[str]] = field(default_factory=dict)     # table → column names
    functions: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        return sorted(self.columns)


def aliases(statement: str, catalog: Catalog) -> dict[str, str]:
    """``{alias or table name: table}`` for tables the statement mentions."""
    out: dict[str, str] = {}
    for m in _TABLE_REF.finditer(statement):
        table, alias = m.group(1), m.group(2)
        if table not in catalog.columns:
            continue
        out[table] = table
        if alias and alias.lower() not in _NOT_ALIAS:
            out[alias] = table
    return out


def complete(text: str, cursor: int, catalog: Catalog, statement: str | None = None
             ) -> tuple[int, list[str]]:
    """``(start, candidates)``: replace ``text[start:cursor]`` with one of the candidates."""
    before = text[:cursor]
    word = _WORD.search(before).group(0)
    start = cursor - len(word)
    line = before[before.rfind("\n") + 1:]
    statement = text if statement is None else statement
    if line.lstrip().startswith("\\"):
        return start, _backslash(line.lstrip(), word, catalog)
    if "." in word:
        alias, _, prefix = word.rpartition(".")
        table = aliases(statement, catalog).get(alias)
        cols = catalog.columns.get(table, []) if table else []
        return start, [f"{alias}.{c}" for c in cols if c.lower().startswith(prefix.lower())]
    previous = re.findall(r"[A-Za-z_]\w*", before[:start])
    last = previous[-1].upper() if previous else ""
    if last in _TABLE_CONTEXT:
        return start, _matching(catalog.tables, word)
    in_statement = set(aliases(statement, catalog).values())
    columns = sorted({c for t in in_statement for c in catalog.columns.get(t, [])})
    keywords = KEYWORDS if not word or word[0].isupper() else [k.lower() for k in KEYWORDS]
    found: list[str] = []
    for group in (columns, catalog.tables, catalog.functions, keywords):
        for c in _matching(group, word):
            if c not in found:
                found.append(c)
    return start, found


def _backslash(line: str, word: str, catalog: Catalog) -> list[str]:
    words = line.split()
    if len(words) <= 1 and not line.endswith(" "):
        return _matching(BACKSLASH, word)
    command = words[0]
    position = len(words) - (0 if line.endswith(" ") else 1)   # index of the word being typed
    if command == "\\diff" and position == 3 or command == "\\d":
        return _matching(catalog.tables, word)
    previous = words[position - 1] if position - 1 < len(words) else ""
    if command in _BRANCH_ARG and (command == "\\diff" or position == 1 or previous == "--into"):
        return _matching(catalog.branches, word)
    if command == "\\merge":
        return _matching(["--into", "--ours", "--theirs"], word)
    return []


def _matching(names, prefix: str) -> list[str]:
    p = prefix.lower()
    return [n for n in names if n.lower().startswith(p)]


def common_prefix(candidates: list[str]) -> str:
    if not candidates:
        return ""
    first, last = min(candidates), max(candidates)
    i = 0
    while i < min(len(first), len(last)) and first[i] == last[i]:
        i += 1
    return first[:i]
