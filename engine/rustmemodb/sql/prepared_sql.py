"""SQL-level PREPARE / EXECUTE / DEALLOCATE over a session's ``prepared`` dict (name ->
(statement, declared types)), for the embedded session (utility.py) and the cluster's
coordinator (cluster/connect.py) alike.

``PREPARE name [(type, ...)] AS statement`` keeps the statement with each ``$n`` cast
to its declared type, as PostgreSQL types them (``PREPARE s(int, int) AS SELECT $1 +
$2`` adds integers); ``EXECUTE name [(arg, ...)]`` evaluates the arguments, each cast
to its declared type (``EXECUTE s('3', 4)``), and runs the statement with them.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable

from sqlglot import exp

from .. import errors, numeric
from .parse import parse_one

if TYPE_CHECKING:
    import pyarrow as pa

_PREPARE = re.compile(r"(\w+)\s*(?:\(((?:[^()]|\([^()]*\))*)\))?\s*AS\s+(.+)$", re.I | re.S)
_EXECUTE = re.compile(r"(\w+)\s*(?:\((.*)\))?\s*$", re.S)


def prepare(text: str, prepared: dict, check: Callable[[str], object]) -> None:
    """PREPARE (``text``: what follows the keyword): the statement, its ``$n`` typed as
    declared, checked by ``check`` (the engine's own errors, now) and kept."""
    m = _PREPARE.match(text)
    if not m:
        raise errors.syntax_error("syntax error in PREPARE",
                                  hint="PREPARE name [(types)] AS statement")
    name = m.group(1)
    if name in prepared:
        raise errors.sql_error("42P05", f'prepared statement "{name}" already exists')
    declared = _split_top_level(m.group(2) or "")
    sql = _typed_parameters(m.group(3).strip(), declared)
    check(sql)
    prepared[name] = (sql, declared)


def deallocate(text: str, prepared: dict) -> None:
    """DEALLOCATE [PREPARE] name | ALL (``text``: what follows the keyword)."""
    name = re.sub(r"^PREPARE\s+", "", text.strip(), flags=re.I)
    if name.upper() == "ALL":
        prepared.clear()
    elif prepared.pop(name, None) is None:
        raise errors.sql_error("26000", f'prepared statement "{name}" does not exist')


def execute_arguments(text: str, prepared: dict,
                      run: Callable[[str], "pa.Table"]) -> tuple[str, list]:
    """(statement, argument values) of the text after EXECUTE; ``run`` runs the one-row
    SELECT that evaluates the arguments and gives its result."""
    m = _EXECUTE.match(text)
    if not m or m.group(1) not in prepared:
        name = m.group(1) if m else text
        raise errors.sql_error("26000", f'prepared statement "{name}" does not exist')
    name = m.group(1)
    sql, declared = prepared[name]
    if not m.group(2):
        return sql, []
    items = [e.sql(dialect="postgres") for e in parse_one(f"SELECT {m.group(2)}").expressions]
    if declared and len(items) != len(declared):
        raise errors.sql_error("42601", f'wrong number of parameters for prepared statement '
                                        f'"{name}"',
                               detail=f"Expected {len(declared)} parameters but got "
                                      f"{len(items)}.")
    values = run("SELECT " + ", ".join(f"CAST(({item}) AS {t})" if declared else item
                                       for item, t in zip(items, declared or items)))
    # by position: the columns all share the name ?column?; a numeric (binary keys,
    # numeric.py) as its Decimal, which any statement takes as a numeric parameter
    return sql, [_argument(values.column(i)) for i in range(values.num_columns)]


def _argument(column):
    value = column[0].as_py()
    if value is not None and str(column.type) == "binary":
        return numeric.decode(value)
    return value


def _split_top_level(text: str) -> tuple[str, ...]:
    """``int, numeric(10, 2)`` -> ('int', 'numeric(10, 2)'): commas outside parentheses."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    last = text[start:].strip()
    return tuple(out + [last]) if last or out else ()


def _typed_parameters(sql: str, declared: tuple) -> str:
    """The statement with ``$n`` read as the n-th declared type."""
    if not declared:
        return sql
    kinds = [exp.DataType.build(t, dialect="postgres", udt=True) for t in declared]

    def typed(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Parameter) and node.name.isdigit() and \
                1 <= int(node.name) <= len(kinds):
            return exp.Cast(this=node.copy(), to=kinds[int(node.name) - 1].copy())
        return node
    return parse_one(sql).transform(typed).sql(dialect="postgres")
