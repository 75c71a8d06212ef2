"""Tab completion for the TUI editor: what may follow the text before the cursor.

Candidates by context, as pgcli does it:

* ``\\`` at the start of a line → backslash commands; the argument of a branch
  command (``\\checkout``, ``\\fork``, ``\\diff``, ``\\merge``) → branch names,
  the third word of ``\\diff`` and the word after ``\\d`` → table names;
* anything else is SQL, completed by the engine's one SQL completer
  (:func:`rustmemodb.sql.complete.complete_sql`: ``alias.`` → that table's
  columns, after ``FROM``/``JOIN``/... → tables, elsewhere columns of the
  statement's tables, functions, keywords, tables), reading this module's
  :class:`Catalog` snapshot through its three-method protocol.

Pure functions over a :class:`Catalog` snapshot, so they are tested without a UI.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rustmemodb.branch.commands import VERBS
from rustmemodb.sql.complete import complete_sql

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
_WORD = re.compile(r"[\w.\\\-]*$")


@dataclass
class Catalog:
    """What completion knows about the database (refreshed after each statement)."""

    columns: dict[str, list[str]] = field(default_factory=dict)     # table → column names
    functions: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        return sorted(self.columns)


class _SqlCatalog:
    """A :class:`Catalog` snapshot as the ``rustmemodb.sql.complete.Catalog`` protocol."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def relations(self) -> dict[str, str]:
        return {name: "table" for name in self.catalog.columns}

    def columns(self, relation: str) -> list[str]:
        return list(self.catalog.columns.get(relation, []))

    def functions(self) -> list[str]:
        return list(self.catalog.functions)


def blank_backslash_lines(text: str) -> str:
    """``text`` with backslash-command lines blanked (offsets kept): they are not SQL."""
    return "\n".join(" " * len(line) if line.lstrip().startswith("\\") else line
                     for line in text.split("\n"))


def complete(text: str, cursor: int, catalog: Catalog) -> tuple[int, list[str]]:
    """``(start, candidates)``: replace ``text[start:cursor]`` with one of the candidates."""
    before = text[:cursor]
    word = _WORD.search(before).group(0)
    line = before[before.rfind("\n") + 1:]
    if line.lstrip().startswith("\\"):
        return cursor - len(word), _backslash(line.lstrip(), word, catalog)
    found = complete_sql(blank_backslash_lines(text), cursor, _SqlCatalog(catalog))
    if found is None:                       # inside a string or comment
        return cursor, []
    candidates = [c.text for c in found.items]
    qualifier = text[:found.start]
    if qualifier.endswith("."):             # ``alias.col``: Tab replaces the whole dotted word
        dotted = re.search(r"[\w\"]+\.$", qualifier)
        if dotted:
            prefix = dotted.group(0)
            return found.start - len(prefix), [prefix + c for c in candidates]
    return found.start, candidates


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
